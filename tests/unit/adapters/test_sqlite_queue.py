"""The durable local queue: SQS semantics (ack, visibility, receive count, dead letters) and
resuming what a dead process held."""

import threading
import time

import pytest

from fakes import dead_process
from noticebot.adapters.local.process_liveness import ProcessIdentity, current_process, is_alive
from noticebot.adapters.local.sqlite_queue import SqliteQueue


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "queue.sqlite3"


def test_a_message_leaves_only_when_deleted_with_its_receipt(path, clock):
    q = SqliteQueue(path, clock=clock)
    sent = q.send("hello")
    (m,) = q.receive(10)
    assert (m.message_id, m.body, m.receive_count) == (sent, "hello", 1)
    assert q.receive(10) == []  # hidden while in flight
    assert q.depth().in_flight == 1
    assert q.delete(m.receipt_handle)
    assert not q.delete(m.receipt_handle)
    assert q.pending_bodies() == [] and q.depth().visible == q.depth().in_flight == 0


def test_visibility_timeout_redelivers_the_same_message_counted_again(path, clock):
    q = SqliteQueue(path, clock=clock, visibility_timeout_s=30)
    q.send("job")
    (first,) = q.receive()
    clock.now += 29
    assert q.receive() == []
    clock.now += 2
    (second,) = q.receive()
    assert second.message_id == first.message_id and second.receive_count == 2
    assert second.receipt_handle != first.receipt_handle
    assert second.first_received_at == first.first_received_at
    # The slow first receiver's acknowledgement is stale: the message stays for the second.
    assert not q.delete(first.receipt_handle)
    assert not q.release(first.receipt_handle)
    assert q.delete(second.receipt_handle)


def test_a_released_message_comes_back_after_its_delay(path, clock):
    q = SqliteQueue(path, clock=clock)
    q.send("job")
    (m,) = q.receive()
    assert q.release(m.receipt_handle, delay_s=5)
    assert q.receive() == []
    clock.now += 5
    (again,) = q.receive()
    assert (again.message_id, again.receive_count) == (m.message_id, 2)


def test_failed_on_its_last_receive_a_message_is_dead_lettered(path, clock):
    q = SqliteQueue(path, clock=clock, max_receives=2)
    sent = q.send("poison")
    for _ in range(2):
        (m,) = q.receive()
        q.release(m.receipt_handle)
    assert q.receive() == [] and q.pending_bodies() == []
    (dead,) = q.dead_letters()
    assert (dead.message_id, dead.body, dead.receive_count) == (sent, "poison", 2)
    assert "2 times" in dead.reason and q.depth().dead == 1


def test_timed_out_on_its_last_receive_a_message_is_dead_lettered_not_delivered(path, clock):
    q = SqliteQueue(path, clock=clock, max_receives=1, visibility_timeout_s=10)
    q.send("hangs")
    q.receive()
    clock.now += 11
    assert q.receive() == []
    assert [d.body for d in q.dead_letters()] == ["hangs"]


def test_messages_survive_a_restart(path, clock):
    q = SqliteQueue(path, clock=clock)
    q.send("a")
    q.send("b")
    q.close()
    again = SqliteQueue(path, clock=clock)
    assert [m.body for m in again.receive(10)] == ["a", "b"]


def test_what_a_dead_process_held_is_visible_at_once(path, clock):
    crashed = SqliteQueue(path, clock=clock, receiver=dead_process())
    crashed.send("in flight when it died")
    crashed.send("waiting")
    (held,) = crashed.receive()
    restarted = SqliteQueue(path, clock=clock)  # long before the visibility timeout
    got = restarted.receive(10)
    assert [(m.body, m.receive_count) for m in got] == [
        ("in flight when it died", 2), ("waiting", 1)]
    assert got[0].message_id == held.message_id


def test_what_a_live_process_holds_waits_for_its_visibility_timeout(path, clock):
    other = SqliteQueue(path, clock=clock, visibility_timeout_s=60)  # this process, alive
    other.send("busy")
    other.receive()
    mine = SqliteQueue(path, clock=clock)
    assert mine.receive() == []
    clock.now += 61
    assert [m.body for m in mine.receive()] == ["busy"]


def test_a_reused_pid_does_not_keep_a_dead_holders_messages(path, clock):
    me = current_process()
    if not me.started:
        pytest.skip("no /proc: process start times cannot be read here")
    earlier = ProcessIdentity(host=me.host, pid=me.pid, started=str(int(me.started) - 1))
    assert is_alive(me) and not is_alive(earlier)
    SqliteQueue(path, clock=clock, receiver=earlier).send("x")
    SqliteQueue(path, clock=clock, receiver=earlier).receive()
    assert [m.receive_count for m in SqliteQueue(path, clock=clock).receive()] == [2]


def test_concurrent_receivers_never_get_the_same_message(path):
    producer = SqliteQueue(path)
    for n in range(300):
        producer.send(str(n))
    shared = SqliteQueue(path)  # threads sharing one connection, and threads with their own
    receivers = [shared, shared] + [SqliteQueue(path) for _ in range(4)]
    got: list[list[str]] = [[] for _ in receivers]
    start = threading.Barrier(len(receivers))

    def consume(n: int) -> None:
        start.wait()
        while batch := receivers[n].receive(3):
            got[n].extend(m.message_id for m in batch)
            time.sleep(0.001)  # let the others in, as a consumer's work would

    threads = [threading.Thread(target=consume, args=(n,)) for n in range(len(receivers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ids = [i for part in got for i in part]
    assert len(ids) == 300 and len(set(ids)) == 300
    assert sum(1 for part in got if part) > 1  # they really did compete
