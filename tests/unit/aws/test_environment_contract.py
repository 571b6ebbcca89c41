"""Settings.from_env reads exactly the variables noticebot.environment names: the names the CDK
app sets (tests/cdk check the template against the function manifest) are the names read."""

from __future__ import annotations

import os

from noticebot.config import Settings
from noticebot.environment import POWERTOOLS_VARS, SETTINGS_VARS, EnvVar
from noticebot.functions import FUNCTIONS


class RecordingEnviron(dict):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def test_settings_read_every_named_variable_and_no_other(monkeypatch):
    environ = RecordingEnviron()
    monkeypatch.setattr(os, "environ", environ)
    Settings.from_env()
    assert environ.read == SETTINGS_VARS


def test_names_are_unique_and_powertools_is_not_read_by_settings():
    names = [v for k, v in vars(EnvVar).items() if k.isupper()]
    assert len(names) == len(set(names))
    assert not SETTINGS_VARS & POWERTOOLS_VARS


def test_every_function_is_given_only_variables_someone_reads():
    for spec in FUNCTIONS.values():
        assert spec.environment | spec.optional_environment <= SETTINGS_VARS | POWERTOOLS_VARS
