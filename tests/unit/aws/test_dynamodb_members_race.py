"""The last-editor rule on DynamoDB when two editors demote each other at once: both read the
other as an editor, then both transactions run; the roster's condition cancels the second."""

from contracts.metadata_store_contract import make_member
from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore
from noticebot.domain.members import Role


def test_dynamodb_cancels_the_second_of_two_demotions(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    store.join_member(make_member(user="a", role=Role.EDITOR))
    store.join_member(make_member(user="b", role=Role.EDITOR))
    # Both read the other as an editor before either writes: the roster's condition decides.
    a_seen, b_seen = store.get_member("ws1", "a"), store.get_member("ws1", "b")
    first = store._transact([store._member_update(b_seen, "SET #role = :role",
                                                  {":role": "member"}),
                             store._roster_update("ws1", -1)])
    second = store._transact([store._member_update(a_seen, "SET #role = :role",
                                                   {":role": "member"}),
                              store._roster_update("ws1", -1)])
    assert first is None and second == ["None", "ConditionalCheckFailed"]
    assert [m.user_id for m in store.list_members("ws1") if m.is_editor] == ["a"]
