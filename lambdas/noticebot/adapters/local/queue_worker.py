"""The local Lambda event source mapping: a worker that feeds a SqliteQueue to a handler.

It receives a batch, hands it to the consumer as an SQS event (exactly what the ingest Lambda
gets in AWS), deletes the records the consumer did not report in ``batchItemFailures`` and
hands the others back; a consumer that raises fails the whole batch, as a Lambda error does.

Failed records come back after ``retry_delay_s`` times their receive count rather than the
whole visibility timeout SQS would wait: locally nothing else would use those minutes.
``drain()`` retries at once, so it returns with everything processed or dead-lettered.

``housekeeping`` (the stuck-document sweep) runs when the worker starts, after the queue has
resumed what a dead process held, and every ``housekeeping_every_s`` after that.

An ``on_demand`` worker (the notify queue's) runs only while there is something to deliver: a
send starts it, and it ends once the queue has nothing visible or waiting for a retry, so a
CLI run or a test that posts a notice leaves no thread polling an idle queue. Messages a dead
process left behind are resumed by the next worker this data folder starts.

The worker thread runs at a lower CPU priority (``nice``, Linux: per thread) than the server's
request threads: ingest is background work, and on a small machine its embedding otherwise
takes a core's worth of time from a chat that is generating. Measured on a quiet 2-core
machine while documents ingested: chat turns' median first token 1.29 s -> 1.09 s, whole turn
2.18 s -> 1.92 s. The ONNX runtime's own helper threads keep the priority of the thread that
loaded the model, so part of the embedding still runs at the server's priority.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from noticebot.adapters.local.events import sqs_record
from noticebot.adapters.local.sqlite_queue import ReceivedMessage, SqliteQueue

logger = logging.getLogger(__name__)

BatchConsumer = Callable[[dict], dict]  # SQS event -> {"batchItemFailures": [...]}


class QueueWorker:
    def __init__(self, messages: SqliteQueue, consumer: BatchConsumer | None = None, *,
                 batch_size: int = 1, retry_delay_s: float = 10.0, poll_interval_s: float = 0.5,
                 housekeeping: Callable[[], object] | None = None,
                 housekeeping_every_s: float = 60.0, nice: int = 10,
                 name: str = "ingest-worker", on_demand: bool = False):
        """``batch_size`` 1 by default: records of a batch are handled one after another
        anyway, and a process killed mid-batch would charge every record a receive.
        ``nice``: how much lower the worker thread's CPU priority is (0: the same).
        ``name``: the worker thread's. ``on_demand``: started by each send, ended when idle."""
        self.messages = messages
        self.consumer = consumer
        self.batch_size = batch_size
        self.retry_delay_s = retry_delay_s
        self.poll_interval_s = poll_interval_s
        self.housekeeping = housekeeping
        self.housekeeping_every_s = housekeeping_every_s
        self.nice = nice
        self.name = name
        self.on_demand = on_demand
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    def send(self, body: str, *, delay_s: float = 0.0) -> str:
        """Queues a message (visible after ``delay_s``) and wakes this process's worker
        (others poll), or starts it."""
        message_id = self.messages.send(body, delay_s=delay_s)
        if self.on_demand:
            self.start()
        self._wake.set()
        return message_id

    def drain(self) -> None:
        """Processes everything visible now, retries included, synchronously (CLI and tests).
        Messages in flight in another live process are theirs and are not waited for."""
        while self._deliver_batch(retry_delay_s=0.0):
            pass

    @property
    def running(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    def start(self) -> None:
        """Starts the worker thread; without a consumer yet, messages wait in the queue."""
        with self._lock:
            if self.running or self.consumer is None:
                return
            self._stop.clear()
            self._worker = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._worker.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops after the batch in hand. One still running after ``timeout_s`` stays held by
        this process until it ends or exits; a restart then resumes it."""
        self._stop.set()
        self._wake.set()
        if self._worker:
            self._worker.join(timeout=timeout_s)

    def _lower_priority(self) -> None:
        """On Linux a thread's nice value is its own, so this leaves the rest of the process
        alone; elsewhere (or without permission to change it) the worker runs as it is."""
        if not self.nice or not sys.platform.startswith("linux"):
            return
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)
        except OSError:
            logger.debug("could not lower the %s's priority", self.name, exc_info=True)

    def _run(self) -> None:
        self._lower_priority()
        next_housekeeping = 0.0
        while not self._stop.is_set():
            if self.housekeeping and time.monotonic() >= next_housekeeping:
                self._housekeep()
                next_housekeeping = time.monotonic() + self.housekeeping_every_s
            try:
                delivered = self._deliver_batch(self.retry_delay_s)
            except Exception:  # a locked or broken queue file: log, back off, keep serving
                logger.exception("%s could not poll the queue", self.name)
                delivered = 0
            if not delivered:
                if self.on_demand and self._ended_idle():
                    return
                self._wake.wait(self.poll_interval_s)
                self._wake.clear()

    def _ended_idle(self) -> bool:
        """Whether the queue is idle, the worker then marked ended. Under the lock, so a send
        after the check starts a new worker and one before it is seen here."""
        with self._lock:
            try:
                depth = self.messages.depth()
            except Exception:
                logger.exception("%s could not read the queue's depth", self.name)
                return False
            if depth.visible or depth.in_flight:
                return False
            self._worker = None
            return True

    def _housekeep(self) -> None:
        try:
            self.housekeeping()
        except Exception:
            logger.exception("queue housekeeping failed")

    def _deliver_batch(self, retry_delay_s: float) -> int:
        batch = self.messages.receive(self.batch_size)
        if not batch:
            return 0
        failed = self._consume(batch)
        for message in batch:
            if message.message_id in failed:
                self.messages.release(message.receipt_handle,
                                      delay_s=retry_delay_s * message.receive_count)
            elif not self.messages.delete(message.receipt_handle):
                logger.warning("message %s was received again before it was acknowledged",
                               message.message_id)
        return len(batch)

    def _consume(self, batch: list[ReceivedMessage]) -> set[str]:
        event = {"Records": [
            sqs_record(m.body, message_id=m.message_id, receipt_handle=m.receipt_handle,
                       receive_count=m.receive_count, sent_at=m.sent_at,
                       first_received_at=m.first_received_at, queue=self.messages.name)
            for m in batch]}
        try:
            result = self.consumer(event) or {}
            return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as a Lambda error would
            logger.exception("queue batch failed")
            return {m.message_id for m in batch}
