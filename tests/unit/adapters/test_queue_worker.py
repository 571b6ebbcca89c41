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


def wait_until(condition, timeout_s=10.0):
    import time

    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_an_on_demand_worker_starts_on_send_retries_then_ends_when_idle(tmp_path):
    consumer, events = failing(lambda body: len(events) == 1)  # the first delivery fails
    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"), consumer, on_demand=True,
                         retry_delay_s=0.05, poll_interval_s=0.02, name="notify-worker")
    assert not worker.running
    worker.send('{"n": 1}')
    assert wait_until(lambda: not worker.running and len(events) == 2)
    assert worker.messages.pending_bodies() == []  # retried, delivered, nothing left behind
    worker.send('{"n": 2}')  # a later send starts a new worker
    assert wait_until(lambda: not worker.running and len(events) == 3)
    assert json.loads(records(events)[-1]["body"]) == {"n": 2}


def test_an_on_demand_worker_without_a_consumer_leaves_messages_queued(tmp_path):
    worker = QueueWorker(SqliteQueue(tmp_path / "q.db"), None, on_demand=True)
    worker.send('{"n": 1}')
    assert not worker.running
    consumer, events = failing(lambda body: False)
    worker.consumer = consumer
    worker.drain()
    assert [json.loads(r["body"]) for r in records(events)] == [{"n": 1}]
