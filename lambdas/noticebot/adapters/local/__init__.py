"""Embedded adapters for local mode: a folder, SQLite, an in-process index and models."""
