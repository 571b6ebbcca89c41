"""The local event source mapping: SQS batch events from the durable queue, partial batch
failures, retries into dead letters, the worker thread and its housekeeping."""

import json
import threading

from noticebot.adapters.local.queue_worker import QueueWorker
from noticebot.adapters.local.sqlite_queue import SqliteQueue


def failing(predicate):
    """A consumer that records every event and reports the records ``predicate`` picks."""
    events = []

    def consumer(event):
        events.append(event)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if predicate(json.loads(r["body"]))]}

    return consumer, events


def records(events):
    return [r for e in events for r in e["Records"]]


def test_drain_retries_a_poison_message_then_dead_letters_it(tmp_path):
    consumer, events = failing(lambda body: body.get("poison"))
    worker = QueueWorker(SqliteQueue(tmp_path / "q.db", max_receives=3), consumer, batch_size=5)
    worker.send(json.dumps({"poison": True}))
    worker.send(json.dumps({"ok": True}))
    worker.drain()
    bodies = [json.loads(r["body"]) for r in records(events)]
    assert bodies.count({"poison": True}) == 3 and bodies.count({"ok": True}) == 1
    assert [json.loads(d.body) for d in worker.messages.dead_letters()] == [{"poison": True}]
    assert worker.messages.pending_bodies() == []


def test_records_carry_a_stable_message_id_and_the_real_receive_count(tmp_path):
    consumer, events = failing(lambda body: len(events) == 1)  # fails the first delivery only
    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"), consumer)
    worker.send('{"n": 1}')
    worker.drain()
    first, second = records(events)
    assert first["messageId"] == second["messageId"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in (first, second)] == ["1", "2"]
    assert first["receiptHandle"] != second["receiptHandle"]
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"].endswith(":noticebot-ingest")
    assert int(second["attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(
        first["attributes"]["SentTimestamp"])


def test_a_consumer_that_raises_fails_the_whole_batch(tmp_path):
    calls = []

    def consumer(event):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("the function crashed")
        return {"batchItemFailures": []}

    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"), consumer, batch_size=2)
    worker.send("a")
    worker.send("b")
    worker.drain()
    assert calls == [2, 2] and worker.messages.dead_letters() == []
    assert worker.messages.pending_bodies() == []


def test_the_worker_thread_delivers_and_sweeps_when_it_starts(tmp_path):
    delivered, swept = threading.Event(), []
    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"),
                         lambda e: delivered.set() or {"batchItemFailures": []},
                         housekeeping=lambda: swept.append(worker.messages.pending_bodies()))
    worker.send("left by the last run")
    worker.start()
    try:
        assert delivered.wait(5)
    finally:
        worker.stop()
    # Housekeeping ran first, while the message from before the start was still queued.
    assert swept[0] == ["left by the last run"]
    assert worker.messages.pending_bodies() == []
