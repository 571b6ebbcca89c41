"""Local password accounts: invitation codes kept only as hashes, Argon2 passwords, sessions
with Cognito's claims that sign-out revokes, and throttled sign-in."""

from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from noticebot.adapters.local.jwt_auth import LocalJwtAuthority, TokenRevocations
from noticebot.adapters.local.local_accounts import (
    ACCOUNT_LIMIT,
    ACCOUNT_LOCK_S,
    CLIENT_LIMIT,
    LocalAccounts,
)
from noticebot.domain.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from noticebot.domain.members import Role
from noticebot.handlers.api.identity import principal_from_claims

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def authority(tmp_path):
    return LocalJwtAuthority(tmp_path / "secret", revocations=TokenRevocations(tmp_path / "a.db"))


@pytest.fixture
def accounts(tmp_path, authority, clock):
    return LocalAccounts(tmp_path / "a.db", authority, hasher=CHEAP, clock=clock)


def expires(clock, days=7):
    return datetime.fromtimestamp(clock.now, timezone.utc) + timedelta(days=days)


def active(accounts, clock, email="ann@example.org", ws="club", role=Role.MEMBER):
    invitee = accounts.invite(ws, email, role, invitation_id="i-" + email, expires_at=expires(clock))
    return accounts.set_first_password(invitee.code, PASSWORD), invitee


def test_an_invitation_code_is_stored_only_as_a_hash(accounts, clock, tmp_path):
    invitee = accounts.invite("club", "Ann@Example.org", Role.EDITOR, invitation_id="i1",
                              expires_at=expires(clock))
    assert len(invitee.code) >= 40
    row = accounts.account_of(invitee.user_id)
    assert row["status"] == "invited" and row["email"] == "ann@example.org"
    assert row["code_hash"] != invitee.code
    assert invitee.code.encode() not in (tmp_path / "a.db").read_bytes()
    opened = accounts.redeem(invitee.code)
    assert (opened.user_id, opened.workspace_id, opened.invitation_id, opened.email) == (
        invitee.user_id, "club", "i1", "ann@example.org")


def test_the_password_is_an_argon2_hash_and_the_code_is_used_up(accounts, clock, tmp_path):
    account, invitee = active(accounts, clock)
    row = accounts.account_of(account.user_id)
    assert row["password_hash"].startswith("$argon2id$") and row["status"] == "active"
    assert PASSWORD.encode() not in (tmp_path / "a.db").read_bytes()
    with pytest.raises(NotFound):
        accounts.redeem(invitee.code)
    with pytest.raises(NotFound):
        accounts.set_first_password(invitee.code, "another password!")
    assert accounts.authenticate("ANN@example.org", PASSWORD, "c1").user_id == account.user_id


def test_an_expired_code_opens_nothing(accounts, clock):
    invitee = accounts.invite("club", "x@example.org", Role.MEMBER, invitation_id="i",
                              expires_at=expires(clock, days=1))
    clock.now += 2 * 86400
    with pytest.raises(NotFound):
        accounts.redeem(invitee.code)
    with pytest.raises(NotFound):
        accounts.set_first_password(invitee.code, PASSWORD)


def test_wrong_password_unknown_address_and_unaccepted_account_answer_alike(accounts, clock):
    active(accounts, clock)
    accounts.invite("club", "pending@example.org", Role.MEMBER, invitation_id="p",
                    expires_at=expires(clock))
    answers = set()
    for email, password in (("ann@example.org", "wrong password"), ("nobody@example.org", PASSWORD),
                            ("pending@example.org", PASSWORD)):
        with pytest.raises(Unauthorized) as refused:
            accounts.authenticate(email, password, f"client-{email}")
        answers.add(refused.value.message)
    assert len(answers) == 1


def test_an_account_is_locked_after_failures_then_longer_each_time(accounts, clock):
    active(accounts, clock)
    for n in range(ACCOUNT_LIMIT):
        with pytest.raises(Unauthorized):
            accounts.authenticate("ann@example.org", "wrong password", f"client-{n}")
    # locked: even the right password is not checked
    with pytest.raises(TooManyRequests) as locked:
        accounts.authenticate("ann@example.org", PASSWORD, "fresh-client")
    assert locked.value.retry_after == ACCOUNT_LOCK_S and locked.value.status == 429
    clock.now += ACCOUNT_LOCK_S
    with pytest.raises(Unauthorized):
        accounts.authenticate("ann@example.org", "wrong again", "fresh-client")
    with pytest.raises(TooManyRequests) as longer:
        accounts.authenticate("ann@example.org", PASSWORD, "fresh-client")
    assert longer.value.retry_after == 2 * ACCOUNT_LOCK_S
    clock.now += 2 * ACCOUNT_LOCK_S
    assert accounts.authenticate("ann@example.org", PASSWORD, "fresh-client")
    # a success starts the count again
    with pytest.raises(Unauthorized):
        accounts.authenticate("ann@example.org", "wrong password", "fresh-client")
    assert accounts.authenticate("ann@example.org", PASSWORD, "fresh-client")


def test_unknown_addresses_are_locked_too(accounts):
    for _ in range(ACCOUNT_LIMIT):
        with pytest.raises(Unauthorized):
            accounts.authenticate("ghost@example.org", "x", "c")
    with pytest.raises(TooManyRequests):
        accounts.authenticate("ghost@example.org", "x", "other")


def test_a_client_spraying_many_accounts_is_throttled(accounts, clock):
    active(accounts, clock)
    for n in range(CLIENT_LIMIT):
        with pytest.raises(Unauthorized):
            accounts.authenticate(f"guess{n}@example.org", "password1", "10.9.9.9")
    with pytest.raises(TooManyRequests, match="address"):
        accounts.authenticate("ann@example.org", PASSWORD, "10.9.9.9")
    # the account itself is fine from elsewhere
    assert accounts.authenticate("ann@example.org", PASSWORD, "10.1.1.1")


def test_failures_older_than_the_window_are_forgotten(accounts, clock):
    active(accounts, clock)
    for _ in range(ACCOUNT_LIMIT - 1):
        with pytest.raises(Unauthorized):
            accounts.authenticate("ann@example.org", "wrong", "c")
    clock.now += 16 * 60
    with pytest.raises(Unauthorized):  # one more, but the old ones no longer count
        accounts.authenticate("ann@example.org", "wrong", "c")
    assert accounts.authenticate("ann@example.org", PASSWORD, "c")


def test_a_session_carries_cognitos_claims_and_sign_out_revokes_it(accounts, authority, clock,
                                                                   tmp_path):
    account, _ = active(accounts, clock, role=Role.EDITOR)
    session = accounts.issue_session(account, Role.EDITOR)
    claims = authority.verify(session.token)
    assert claims["sub"] == account.user_id and claims["email"] == "ann@example.org"
    assert claims["custom:workspace"] == "club" and claims["cognito:groups"] == ["editors"]
    assert claims["jti"] and claims["token_use"] == "id"
    assert session.expires_at == datetime.fromtimestamp(claims["exp"], timezone.utc)
    assert principal_from_claims(claims).is_editor
    accounts.sign_out(claims)
    with pytest.raises(Unauthorized, match="signed out"):
        authority.verify(session.token)
    # another process on the same data folder refuses it too
    other = LocalJwtAuthority(tmp_path / "secret", revocations=TokenRevocations(tmp_path / "a.db"))
    with pytest.raises(Unauthorized):
        other.verify(session.token)
    # a second session of the same account is unaffected
    assert authority.verify(accounts.issue_session(account, Role.EDITOR).token)


def test_a_development_token_cannot_be_signed_out(accounts, authority):
    dev = authority.issue("dev-editor", "demo", editor=True)
    with pytest.raises(Conflict, match="development token"):
        accounts.sign_out(authority.verify(dev))
    assert authority.verify(dev)["sub"] == "dev-editor"


def test_an_address_belongs_to_one_workspace(accounts, clock):
    active(accounts, clock, ws="club")
    with pytest.raises(Conflict, match="another workspace"):
        accounts.invite("other", "ann@example.org", Role.MEMBER, invitation_id="x",
                        expires_at=expires(clock))
    with pytest.raises(Conflict, match="this workspace"):
        accounts.invite("club", "ann@example.org", Role.MEMBER, invitation_id="x",
                        expires_at=expires(clock))


def test_a_removed_member_can_be_invited_again_and_keeps_their_id(accounts, clock):
    account, _ = active(accounts, clock)
    accounts.disable(account.user_id)
    with pytest.raises(Unauthorized):
        accounts.authenticate("ann@example.org", PASSWORD, "c")
    again = accounts.invite("club", "ann@example.org", Role.EDITOR, invitation_id="i2",
                            expires_at=expires(clock))
    assert again.user_id == account.user_id
    with pytest.raises(Unauthorized):  # invited: no sign-in until accepted
        accounts.authenticate("ann@example.org", PASSWORD, "c")
    accounts.cancel_invitation(again.user_id)  # revoked: back to disabled, not deleted
    assert accounts.account_of(account.user_id)["status"] == "disabled"
    with pytest.raises(NotFound):
        accounts.redeem(again.code)


def test_cancelling_a_fresh_invitation_deletes_its_account(accounts, clock):
    invitee = accounts.invite("club", "x@example.org", Role.MEMBER, invitation_id="i",
                              expires_at=expires(clock))
    accounts.cancel_invitation(invitee.user_id)
    assert accounts.account_of(invitee.user_id) is None
    # the address is free again, anywhere
    accounts.invite("elsewhere", "x@example.org", Role.MEMBER, invitation_id="j",
                    expires_at=expires(clock))


def test_an_older_hash_is_upgraded_at_sign_in(tmp_path, authority, clock):
    weak = LocalAccounts(tmp_path / "a.db", authority, hasher=CHEAP, clock=clock)
    account, _ = active(weak, clock)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    upgraded = LocalAccounts(tmp_path / "a.db", authority, hasher=stronger, clock=clock)
    assert upgraded.authenticate("ann@example.org", PASSWORD, "c")
    stored = upgraded.account_of(account.user_id)["password_hash"]
    assert "m=16,t=2" in stored and not stronger.check_needs_rehash(stored)
