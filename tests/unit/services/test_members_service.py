"""MembersService over the SQLite store and a recording identity provider: the admission
rules, the editors-only changes, the last editor, and what the provider is told."""

from datetime import datetime, timedelta, timezone

import pytest

from fakes import FakeIdentityDirectory
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.errors import (
    Conflict,
    Forbidden,
    IdentityProviderUnavailable,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from noticebot.domain.members import InvitationStatus, MemberStatus, Role
from noticebot.domain.models import Principal
from noticebot.services.members import MembersService

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def directory():
    return FakeIdentityDirectory()


@pytest.fixture
def store(tmp_path):
    return SqliteMetadataStore(tmp_path / "meta.sqlite3")


@pytest.fixture
def members(store, directory, clock):
    return MembersService(store, directory, clock=clock)


ED = Principal("ed", "club", is_editor=True)
SAM = Principal("sam", "club")


def admitted(members, principal, **kw):
    return members.admit(principal, **kw)


# ---------------------------------------------------------------- admission
def test_a_workspace_without_members_adopts_the_first_editor_and_members_join(members, store):
    assert store.list_members("club") == []
    assert admitted(members, ED, email="Ed@Example.org").is_editor
    assert not admitted(members, SAM).is_editor
    got = {m.user_id: m for m in store.list_members("club")}
    assert got["ed"].role == Role.EDITOR and got["ed"].email == "ed@example.org"
    assert got["ed"].invited_by is None and got["sam"].role == Role.MEMBER


def test_the_record_decides_the_role_not_the_token(members, store):
    admitted(members, ED)
    admitted(members, SAM)
    # sam's token claims editors: the record says member
    assert not admitted(members, Principal("sam", "club", is_editor=True)).is_editor
    members.change_role(ED, "sam", Role.EDITOR)
    assert admitted(members, SAM).is_editor  # promoted: effective at once, old token or not
    members.change_role(ED, "ed", Role.MEMBER)
    assert not admitted(members, ED).is_editor  # demoted at once too


def test_a_removed_member_is_refused_on_the_next_request(members):
    admitted(members, ED)
    admitted(members, SAM)
    members.remove(ED, "sam")
    with pytest.raises(Forbidden, match="removed"):
        admitted(members, SAM)
    with pytest.raises(Forbidden):  # a new token of theirs changes nothing
        admitted(members, Principal("sam", "club", is_editor=True))


def test_an_invitation_decides_the_role_an_invitee_joins_with(members, store):
    admitted(members, ED)
    invitation, code = members.invite(ED, "Zoe@Example.org", Role.EDITOR)
    assert code is None and invitation.user_id == "u-zoe" and invitation.email == "zoe@example.org"
    # on AWS: the invitee's first request, with a token whose groups say nothing yet
    assert admitted(members, Principal("u-zoe", "club")).is_editor
    joined = store.get_member("club", "u-zoe")
    assert (joined.invited_by, joined.invitation_id) == ("ed", invitation.invitation_id)
    assert store.get_invitation("club", invitation.invitation_id).status == InvitationStatus.ACCEPTED


def test_a_revoked_or_expired_invitation_refuses_its_invitee(members, clock, directory):
    admitted(members, ED)
    revoked, _ = members.invite(ED, "rev@example.org", Role.MEMBER)
    members.revoke_invitation(ED, revoked.invitation_id)
    assert ("cancel", "u-rev") in directory.calls
    with pytest.raises(Forbidden, match="revoked"):
        admitted(members, Principal("u-rev", "club"))
    members.invite(ED, "late@example.org", Role.MEMBER)
    clock.now = T0 + timedelta(days=8)
    with pytest.raises(Forbidden, match="expired"):
        admitted(members, Principal("u-late", "club"))


def test_a_removed_member_invited_again_may_return(members, store):
    admitted(members, ED)
    admitted(members, Principal("u-sam", "club"))
    members.remove(ED, "u-sam")
    members.invite(ED, "sam@example.org", Role.MEMBER)
    assert not admitted(members, Principal("u-sam", "club")).is_editor
    assert store.get_member("club", "u-sam").status == MemberStatus.ACTIVE


def test_tokens_issued_before_a_sign_out_are_refused(members, clock):
    admitted(members, SAM)
    before = int(clock.now.timestamp()) - 60
    members.end_sessions(SAM)
    with pytest.raises(Unauthorized, match="signed out"):
        admitted(members, SAM, issued_at=before)
    assert admitted(members, SAM, issued_at=int(clock.now.timestamp())) == SAM


def test_personal_workspaces_keep_no_records_and_take_no_invitations(members, store):
    lee = Principal("lee", "user-lee", is_editor=True)
    assert admitted(members, lee) == lee
    assert store.list_members("user-lee") == []
    assert [m.user_id for m in members.list_members(lee)] == ["lee"]
    with pytest.raises(Conflict, match="personal"):
        members.invite(lee, "x@example.org", Role.MEMBER)
    with pytest.raises(Conflict, match="personal"):
        members.remove(lee, "lee")


# ---------------------------------------------------------------- editors only
@pytest.mark.parametrize("action", [
    lambda m: m.invite(SAM, "x@example.org", Role.MEMBER),
    lambda m: m.list_invitations(SAM),
    lambda m: m.revoke_invitation(SAM, "any"),
    lambda m: m.change_role(SAM, "ed", Role.MEMBER),
    lambda m: m.remove(SAM, "ed"),
])
def test_members_cannot_change_the_group(members, store, action):
    admitted(members, ED)
    admitted(members, SAM)
    with pytest.raises(Forbidden, match="only editors"):
        action(members)
    assert store.get_member("club", "ed").is_editor and store.list_invitations("club") == []


def test_anyone_may_leave_but_the_last_editor_may_neither_leave_nor_step_down(members, directory):
    admitted(members, ED)
    admitted(members, SAM)
    members.remove(SAM, "sam")
    assert ("disable", "sam") in directory.calls
    with pytest.raises(Conflict, match="at least one editor"):
        members.remove(ED, "ed")
    with pytest.raises(Conflict, match="at least one editor"):
        members.change_role(ED, "ed", Role.MEMBER)
    assert admitted(members, ED).is_editor


def test_a_role_change_is_passed_to_the_provider_only_when_it_changed(members, directory):
    admitted(members, ED)
    admitted(members, SAM)
    assert members.change_role(ED, "sam", Role.EDITOR).role == Role.EDITOR
    members.change_role(ED, "sam", Role.EDITOR)
    assert [c for c in directory.calls if c[0] == "set_role"] == [("set_role", "sam", "editor")]
    with pytest.raises(NotFound):
        members.change_role(ED, "nobody", Role.EDITOR)


def test_a_provider_that_fails_after_the_record_changed_does_not_undo_it(members, directory,
                                                                         store):
    admitted(members, ED)
    admitted(members, SAM)
    directory.fail = IdentityProviderUnavailable("down")
    members.remove(ED, "sam")
    assert store.get_member("club", "sam").status == MemberStatus.REMOVED


# ---------------------------------------------------------------- invitations
def test_one_open_invitation_per_address_and_none_for_members(members):
    admitted(members, ED, email="ed@example.org")
    members.invite(ED, "new@example.org", Role.MEMBER)
    with pytest.raises(Conflict, match="pending"):
        members.invite(ED, "NEW@example.org", Role.EDITOR)
    with pytest.raises(Conflict, match="already a member"):
        members.invite(ED, "ed@example.org", Role.MEMBER)
    with pytest.raises(Unprocessable):
        members.invite(ED, "not-an-address", Role.MEMBER)


def test_a_workspace_sends_a_bounded_number_of_invitations_a_day(store, directory, clock):
    members = MembersService(store, directory, clock=clock, invitations_per_day=3)
    admitted(members, ED)
    first, _ = members.invite(ED, "a@example.org", Role.MEMBER)
    clock.now += timedelta(hours=2)
    members.invite(ED, "b@example.org", Role.MEMBER)
    members.revoke_invitation(ED, first.invitation_id)  # its e-mail went out: it still counts
    members.invite(ED, "c@example.org", Role.MEMBER)
    with pytest.raises(TooManyRequests) as refused:
        members.invite(ED, "d@example.org", Role.MEMBER)
    # the first one leaves the 24-hour window 22 hours from now
    assert abs(refused.value.retry_after - 22 * 3600) <= 2
    assert len(store.list_invitations("club")) == 3  # the refused one was not recorded
    assert "d@example.org" not in [c[2] for c in directory.calls if c[0] == "invite"]
    # another workspace has its own allowance
    other_editor = Principal("eve", "other", is_editor=True)
    admitted(members, other_editor)
    members.invite(other_editor, "e@example.org", Role.MEMBER)
    clock.now += timedelta(hours=22, seconds=1)
    members.invite(ED, "d@example.org", Role.MEMBER)


def test_an_address_with_an_account_elsewhere_is_a_conflict(members, directory, store):
    admitted(members, ED)
    directory.existing["taken@example.org"] = "other-club"
    with pytest.raises(Conflict, match="other-club"):
        members.invite(ED, "taken@example.org", Role.MEMBER)
    # what was recorded says the invitation came to nothing
    assert [i.status for i in store.list_invitations("club")] == [InvitationStatus.REVOKED]
    members.invite(ED, "free@example.org", Role.MEMBER)  # and blocks nothing


def test_without_a_provider_invitations_answer_503_and_membership_still_works(store, clock):
    members = MembersService(store, None, clock=clock)
    admitted(members, ED)
    admitted(members, SAM)
    with pytest.raises(IdentityProviderUnavailable):
        members.invite(ED, "x@example.org", Role.MEMBER)
    members.remove(ED, "sam")
    with pytest.raises(Forbidden):
        admitted(members, SAM)


def test_revoking_is_idempotent_but_an_accepted_invitation_stays(members, directory):
    admitted(members, ED)
    invitation, _ = members.invite(ED, "a@example.org", Role.MEMBER)
    assert members.revoke_invitation(ED, invitation.invitation_id).status == InvitationStatus.REVOKED
    members.revoke_invitation(ED, invitation.invitation_id)
    assert directory.calls.count(("cancel", "u-a")) == 2  # asked again, in case it failed
    taken, _ = members.invite(ED, "b@example.org", Role.MEMBER)
    admitted(members, Principal("u-b", "club"))
    with pytest.raises(Conflict, match="accepted"):
        members.revoke_invitation(ED, taken.invitation_id)
    with pytest.raises(NotFound):
        members.revoke_invitation(ED, "nope")


def test_invitations_list_by_status(members, clock):
    admitted(members, ED)
    members.invite(ED, "a@example.org", Role.MEMBER)
    clock.now = T0 + timedelta(days=8)
    members.invite(ED, "b@example.org", Role.MEMBER)
    pending = members.list_invitations(ED, InvitationStatus.PENDING)
    expired = members.list_invitations(ED, InvitationStatus.EXPIRED)
    assert [i.email for i in pending] == ["b@example.org"]
    assert [i.email for i in expired] == ["a@example.org"]
