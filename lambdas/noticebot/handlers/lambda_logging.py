"""Logs and metrics of the Lambda entry points: Powertools' Logger (JSON lines with the request
id, cold start, the function's name and a correlation id) and Metrics (CloudWatch embedded
metric format, no API call).

Why: Lambda's Python runtime leaves the root logger at WARNING, so the package's ``logging``
info lines were dropped and POWERTOOLS_LOG_LEVEL (which the stacks set) changed nothing. Here
the Powertools logger takes its level from POWERTOOLS_LOG_LEVEL and its service from
POWERTOOLS_SERVICE_NAME, and its handler and level are copied onto the package's logger
(``noticebot``), so every ``logging.getLogger(__name__)`` below it writes the same JSON lines
at that level without knowing about Powertools.

Only the Lambda entry points (each module's ``handler(event, context)``) are wrapped, and the
package logger is configured on their first invocation: the local server, the CLI and the
tests call ``handle(...)`` and keep the standard library's logging. The embed function's
bundle carries no Powertools (it is left out to keep that bundle small); there the package
logger gets the level of POWERTOOLS_LOG_LEVEL and plain lines.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable

from noticebot.environment import PowertoolsEnv

PACKAGE_LOGGER = "noticebot"
METRICS_NAMESPACE = "noticebot"
DEFAULT_LEVEL = "INFO"

_lock = threading.Lock()
_configured = False
_tools: tuple | None = None  # (Logger, Metrics) once built; () when Powertools is absent


def _powertools():
    """(logger, metrics), built once, or None where the bundle has no Powertools."""
    global _tools
    if _tools is None:
        try:
            from aws_lambda_powertools import Logger, Metrics
        except ImportError:
            _tools = ()
        else:
            # Never the package logger's own name: Powertools does not reconfigure the
            # logger it is named after.
            service = os.environ.get(PowertoolsEnv.SERVICE_NAME) or f"{PACKAGE_LOGGER}-lambda"
            _tools = (Logger(service=service, level=_level()),
                      Metrics(namespace=METRICS_NAMESPACE, service=service))
    return _tools or None


def _level() -> str:
    return (os.environ.get(PowertoolsEnv.LOG_LEVEL) or DEFAULT_LEVEL).upper()


def configure() -> None:
    """Routes the package's loggers through the Powertools logger (once per environment)."""
    global _configured
    if _configured:
        return
    with _lock:
        if _configured:
            return
        package = logging.getLogger(PACKAGE_LOGGER)
        tools = _powertools()
        if tools is None:
            package.setLevel(_level())
        else:
            from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

            copy_config_to_registered_loggers(source_logger=tools[0], include={PACKAGE_LOGGER})
        _configured = True


def logger():
    """The Powertools logger (None without Powertools)."""
    tools = _powertools()
    return tools[0] if tools else None


def add_metric(name: str, value: float = 1, unit: str = "Count") -> None:
    """One metric of this invocation, flushed when the entry point returns (no-op without
    Powertools or outside an entry point's invocation)."""
    tools = _powertools()
    if tools:
        tools[1].add_metric(name=name, unit=unit, value=value)


def lambda_entry(correlation_id_path: str | None = None) -> Callable:
    """Decorates ``handler(event, context)``: logs with the request's context and correlation
    id, publishes the invocation's metrics (and a ColdStart metric) when it returns. A call
    without a Lambda context (a smoke test, a script) runs the handler as it is."""

    def decorate(fn: Callable) -> Callable:
        wrapped: list[Callable] = []

        def instrumented() -> Callable:
            if not wrapped:
                tools = _powertools()
                if tools is None:
                    wrapped.append(fn)
                else:
                    log, metrics = tools
                    inner = log.inject_lambda_context(
                        fn, correlation_id_path=correlation_id_path)
                    wrapped.append(metrics.log_metrics(inner, capture_cold_start_metric=True))
            return wrapped[0]

        @functools.wraps(fn)
        def entry(event, context):
            if context is None or not hasattr(context, "aws_request_id"):
                return fn(event, context)  # leaves the caller's logging as it is
            configure()
            return instrumented()(event, context)

        return entry

    return decorate
