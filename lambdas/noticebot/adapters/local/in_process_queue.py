"""The local stand-in for S3 -> SQS -> Lambda: a queue and a worker thread.

Messages are S3 event JSON; the consumer receives SQS batch events, exactly
what the ingest Lambda gets in AWS. A failed message is retried up to
``max_receives`` times and then parked in a dead-letter list, as a DLQ would.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from noticebot.adapters.local.events import s3_object_created, sqs_batch

logger = logging.getLogger(__name__)

BatchConsumer = Callable[[dict], dict]  # SQS event -> {"batchItemFailures": [...]}


class InProcessQueue:
    def __init__(self, consumer: BatchConsumer | None = None, max_receives: int = 3,
                 batch_size: int = 5):
        self.consumer = consumer
        self.max_receives = max_receives
        self.batch_size = batch_size
        self.dead_letters: list[dict] = []
        self._pending: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()

    def on_object_created(self, key: str, size: int) -> None:
        """The FolderBlobStore hook: what an S3 bucket notification does."""
        self.send(s3_object_created(key, size))

    def send(self, body: dict) -> None:
        self._pending.put((body, 1))

    def _take_batch(self, block: bool) -> list[tuple[dict, int]]:
        batch = []
        try:
            batch.append(self._pending.get(block=block, timeout=0.2 if block else None))
        except queue.Empty:
            return batch
        while len(batch) < self.batch_size:
            try:
                batch.append(self._pending.get_nowait())
            except queue.Empty:
                break
        return batch

    def _deliver(self, batch: list[tuple[dict, int]]) -> None:
        event = sqs_batch([body for body, _ in batch])
        try:
            result = self.consumer(event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as a Lambda error would
            logger.exception("ingest batch failed")
            failed = {r["messageId"] for r in event["Records"]}
        for record, (body, receives) in zip(event["Records"], batch):
            if record["messageId"] in failed:
                if receives >= self.max_receives:
                    self.dead_letters.append(body)
                else:
                    self._pending.put((body, receives + 1))

    def drain(self) -> None:
        """Process everything queued, synchronously (CLI and tests)."""
        while batch := self._take_batch(block=False):
            self._deliver(batch)

    def start(self) -> None:
        if self._worker and self._worker.is_alive():
            return
        self._stop.clear()
        self._worker = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take_batch(block=True)
            if batch:
                self._deliver(batch)
