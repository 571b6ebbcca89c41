"""The last-editor rule under races: two editors demoting (or removing) each other at the same
moment leave exactly one editor, on the SQLite store (separate connections, as two server
processes on one data folder would be). DynamoDB's side: tests/unit/aws/test_dynamodb_members_race.py."""

import threading

import pytest

from contracts.metadata_store_contract import make_member
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.members import MemberChange, Role


def race(first, second):
    barrier = threading.Barrier(2)
    results = {}

    def run(name, action):
        barrier.wait()
        results[name] = action()

    threads = [threading.Thread(target=run, args=("a", first)),
               threading.Thread(target=run, args=("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(r.value for r in results.values())


@pytest.mark.parametrize("round_", range(10))
@pytest.mark.parametrize("kind", ["demote", "remove"])
def test_two_editors_stepping_each_other_down_leave_one(tmp_path, round_, kind):
    path = tmp_path / "meta.sqlite3"
    setup = SqliteMetadataStore(path)
    setup.join_member(make_member(user="a", role=Role.EDITOR))
    setup.join_member(make_member(user="b", role=Role.EDITOR))
    one, other = SqliteMetadataStore(path), SqliteMetadataStore(path)
    if kind == "demote":
        outcome = race(lambda: one.change_member_role("ws1", "b", Role.MEMBER),
                       lambda: other.change_member_role("ws1", "a", Role.MEMBER))
    else:
        outcome = race(lambda: one.remove_member("ws1", "b", removed_by="a"),
                       lambda: other.remove_member("ws1", "a", removed_by="b"))
    assert outcome == sorted([MemberChange.DONE.value, MemberChange.LAST_EDITOR.value])
    assert sum(m.is_editor for m in setup.list_members("ws1")) == 1

