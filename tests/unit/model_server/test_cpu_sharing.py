"""The model server shares a small machine with the ingest worker: the worker thread runs at a
lower CPU priority, the rest of the process keeps its own."""

import os
import sys
import threading

import pytest

from noticebot.adapters.local.queue_worker import QueueWorker
from noticebot.adapters.local.sqlite_queue import SqliteQueue

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def worker_nice(tmp_path, **kw):
    seen = threading.Event()
    nice = {}

    def consumer(event):
        tid = threading.get_native_id()
        nice["worker"] = os.getpriority(os.PRIO_PROCESS, tid)
        seen.set()
        return {}

    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"), consumer, poll_interval_s=0.05, **kw)
    worker.start()
    try:
        worker.send('{"n": 1}')
        assert seen.wait(10)
    finally:
        worker.stop()
    return nice["worker"]


def test_the_worker_thread_is_niced_and_the_process_is_not(tmp_path):
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert worker_nice(tmp_path) == min(19, before + 10)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_nice_zero_leaves_the_worker_as_it_is(tmp_path):
    assert worker_nice(tmp_path, nice=0) == os.getpriority(os.PRIO_PROCESS, 0)
