"""The Cognito identity directory: every request it makes checked against the real
cognito-idp service model (botocore Stubber: a parameter the model does not know, or a
wrong type, fails the call), then the whole flow against moto's Cognito with the DynamoDB
member store: invite, first request, role change, removal, re-invitation, revocation."""

from datetime import datetime, timedelta, timezone

import boto3
import jwt
import pytest
from botocore.stub import ANY, Stubber

from noticebot.adapters.aws.cognito_directory import CognitoDirectory
from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore
from noticebot.domain.errors import Conflict, Forbidden, IdentityProviderUnavailable
from noticebot.domain.members import MemberStatus, Role
from noticebot.domain.models import Principal
from noticebot.handlers.api.identity import principal_from_claims
from noticebot.services.members import MembersService

POOL = "us-east-1_Example1"
SUB = "5b1f3c2a-0000-4000-8000-000000000001"
LATER = datetime(2026, 6, 8, tzinfo=timezone.utc)


def created(sub=SUB, email="zoe@example.org"):
    return {"User": {"Username": sub, "Enabled": True, "UserStatus": "FORCE_CHANGE_PASSWORD",
                     "Attributes": [{"Name": "sub", "Value": sub},
                                    {"Name": "email", "Value": email}]}}


def create_params(email="zoe@example.org", ws="club", role="member", invitation="inv-1"):
    return {"UserPoolId": POOL, "Username": email,
            "UserAttributes": [{"Name": "email", "Value": email},
                               {"Name": "email_verified", "Value": "true"},
                               {"Name": "custom:workspace", "Value": ws}],
            "DesiredDeliveryMediums": ["EMAIL"],
            "ClientMetadata": {"workspace": ws, "role": role, "invitation_id": invitation}}


@pytest.fixture
def stubbed():
    client = boto3.client("cognito-idp", region_name="us-east-1")
    with Stubber(client) as stub:
        yield CognitoDirectory(POOL, client), stub
        stub.assert_no_pending_responses()


# ---------------------------------------------------------------- requests (Stubber)
def test_an_invitation_creates_the_user_in_its_workspace(stubbed):
    directory, stub = stubbed
    stub.add_response("admin_create_user", created(), create_params())
    invitee = directory.invite("club", "Zoe@Example.org", Role.MEMBER, invitation_id="inv-1",
                               expires_at=LATER)
    assert (invitee.user_id, invitee.code) == (SUB, None)


def test_an_editor_invitation_adds_the_editors_group(stubbed):
    directory, stub = stubbed
    stub.add_response("admin_create_user", created(), create_params(role="editor"))
    stub.add_response("admin_add_user_to_group", {},
                      {"UserPoolId": POOL, "Username": SUB, "GroupName": "editors"})
    directory.invite("club", "zoe@example.org", Role.EDITOR, invitation_id="inv-1",
                     expires_at=LATER)


def test_a_removed_member_of_the_same_workspace_is_issued_anew(stubbed):
    directory, stub = stubbed
    stub.add_client_error("admin_create_user", "UsernameExistsException", "exists",
                          expected_params=create_params())
    stub.add_response("admin_get_user", {
        "Username": "old-sub", "Enabled": False, "UserStatus": "CONFIRMED",
        "UserAttributes": [{"Name": "custom:workspace", "Value": "club"}]},
        {"UserPoolId": POOL, "Username": "zoe@example.org"})
    stub.add_response("admin_delete_user", {}, {"UserPoolId": POOL, "Username": "old-sub"})
    stub.add_response("admin_create_user", created(), create_params())
    assert directory.invite("club", "zoe@example.org", Role.MEMBER, invitation_id="inv-1",
                            expires_at=LATER).user_id == SUB


@pytest.mark.parametrize("workspace,enabled,status,message", [
    ("other-club", False, "CONFIRMED", "another workspace"),
    ("club", True, "CONFIRMED", "this workspace"),
])
def test_an_address_in_use_is_a_conflict(stubbed, workspace, enabled, status, message):
    directory, stub = stubbed
    stub.add_client_error("admin_create_user", "UsernameExistsException", "exists")
    stub.add_response("admin_get_user", {
        "Username": "old-sub", "Enabled": enabled, "UserStatus": status,
        "UserAttributes": [{"Name": "custom:workspace", "Value": workspace}]}, {
        "UserPoolId": POOL, "Username": "zoe@example.org"})
    with pytest.raises(Conflict, match=message):
        directory.invite("club", "zoe@example.org", Role.MEMBER, invitation_id="inv-1",
                         expires_at=LATER)


def test_roles_removal_sign_out_and_revocation_are_admin_calls_on_the_user(stubbed):
    directory, stub = stubbed
    user = {"UserPoolId": POOL, "Username": SUB}
    stub.add_response("admin_add_user_to_group", {}, {**user, "GroupName": "editors"})
    stub.add_response("admin_remove_user_from_group", {}, {**user, "GroupName": "editors"})
    stub.add_response("admin_disable_user", {}, user)
    stub.add_response("admin_user_global_sign_out", {}, user)
    stub.add_response("admin_user_global_sign_out", {}, user)
    stub.add_response("admin_delete_user", {}, user)
    directory.set_role(SUB, Role.EDITOR)
    directory.set_role(SUB, Role.MEMBER)
    directory.disable(SUB)
    directory.sign_out({"sub": SUB, "cognito:username": SUB})
    directory.cancel_invitation(SUB)


def test_a_user_whose_username_is_not_their_sub_is_found_by_sub(stubbed):
    directory, stub = stubbed
    stub.add_client_error("admin_disable_user", "UserNotFoundException", "no such user",
                          expected_params={"UserPoolId": POOL, "Username": SUB})
    stub.add_response("list_users", {"Users": [{"Username": "zoe"}]},
                      {"UserPoolId": POOL, "Filter": f'sub = "{SUB}"', "Limit": 1})
    stub.add_response("admin_disable_user", {}, {"UserPoolId": POOL, "Username": "zoe"})
    stub.add_response("admin_user_global_sign_out", {}, {"UserPoolId": POOL, "Username": "zoe"})
    directory.disable(SUB)


def test_a_user_gone_already_is_nothing_to_cancel(stubbed):
    directory, stub = stubbed
    stub.add_client_error("admin_delete_user", "UserNotFoundException", "gone")
    stub.add_response("list_users", {"Users": []}, {"UserPoolId": POOL, "Filter": ANY,
                                                    "Limit": 1})
    directory.cancel_invitation(SUB)


def test_cognito_failing_is_a_503_that_says_so(stubbed):
    directory, stub = stubbed
    stub.add_client_error("admin_create_user", "TooManyRequestsException", "slow down",
                          http_status_code=429)
    with pytest.raises(IdentityProviderUnavailable, match="Cognito"):
        directory.invite("club", "zoe@example.org", Role.MEMBER, invitation_id="inv-1",
                         expires_at=LATER)


def test_no_client_is_built_until_a_call_needs_one():
    def factory():
        raise AssertionError("the Cognito client was built early")

    directory = CognitoDirectory(POOL, factory)
    assert directory.user_pool_id == POOL and not directory.passwords
    with pytest.raises(ValueError):
        CognitoDirectory("", factory)


# ---------------------------------------------------------------- the flow (moto)
@pytest.fixture
def cognito(aws):
    client = boto3.client("cognito-idp", region_name="us-east-1")
    pool = client.create_user_pool(
        PoolName="noticebot-users", UsernameAttributes=["email"],
        Schema=[{"Name": "workspace", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client.create_group(GroupName="editors", UserPoolId=pool)
    app = client.create_user_pool_client(
        UserPoolId=pool, ClientName="app",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return client, pool, app


def groups_of(client, pool, user):
    return [g["GroupName"] for g in
            client.admin_list_groups_for_user(UserPoolId=pool, Username=user)["Groups"]]


def id_token_claims(client, pool, app, email, password="Temp0rary!Passw0rd"):
    """What the app gets from Cognito after choosing a password, as the authorizer passes it."""
    client.admin_set_user_password(UserPoolId=pool, Username=email, Password=password,
                                   Permanent=True)
    result = client.admin_initiate_auth(UserPoolId=pool, ClientId=app,
                                        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": email, "PASSWORD": password})
    return jwt.decode(result["AuthenticationResult"]["IdToken"],
                      options={"verify_signature": False})


def test_invite_join_promote_remove_and_invite_again_on_cognito(cognito, ddb):
    client, pool, app = cognito
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    members = MembersService(store, CognitoDirectory(pool, client))
    boss = members.admit(Principal("boss", "club", is_editor=True))  # the workspace's first
    invitation, code = members.invite(boss, "zoe@example.org", Role.MEMBER)
    assert code is None  # Cognito e-mails the temporary password
    user = client.admin_get_user(UserPoolId=pool, Username="zoe@example.org")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["custom:workspace"] == "club" and attributes["email_verified"] == "true"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD" and invitation.user_id == attributes["sub"]
    assert groups_of(client, pool, "zoe@example.org") == []

    # the invitee signs in with Cognito: the token names the workspace, the first request joins
    claims = id_token_claims(client, pool, app, "zoe@example.org")
    principal = principal_from_claims(claims)
    assert (principal.user_id, principal.workspace_id) == (invitation.user_id, "club")
    assert not members.admit(principal, email=claims["email"]).is_editor
    assert store.get_member("club", principal.user_id).invited_by == "boss"

    members.change_role(boss, principal.user_id, Role.EDITOR)
    assert groups_of(client, pool, "zoe@example.org") == ["editors"]
    assert "editors" in id_token_claims(client, pool, app, "zoe@example.org")["cognito:groups"]
    assert members.admit(principal).is_editor

    members.remove(boss, principal.user_id)
    assert client.admin_get_user(UserPoolId=pool, Username="zoe@example.org")["Enabled"] is False
    with pytest.raises(Forbidden):
        members.admit(principal)
    assert store.get_member("club", principal.user_id).status == MemberStatus.REMOVED

    # invited again: a new Cognito user (and sub), who joins with the new invitation's role
    again, _ = members.invite(boss, "zoe@example.org", Role.EDITOR)
    assert again.user_id != principal.user_id
    assert groups_of(client, pool, "zoe@example.org") == ["editors"]
    fresh = principal_from_claims(id_token_claims(client, pool, app, "zoe@example.org"))
    assert members.admit(fresh).is_editor


def test_a_revoked_invitation_deletes_the_cognito_user(cognito, ddb):
    client, pool, _ = cognito
    members = MembersService(DynamoDbMetadataStore("noticebot-test", ddb),
                             CognitoDirectory(pool, client))
    boss = members.admit(Principal("boss", "club", is_editor=True))
    invitation, _ = members.invite(boss, "gone@example.org", Role.EDITOR)
    members.revoke_invitation(boss, invitation.invitation_id)
    assert client.list_users(UserPoolId=pool)["Users"] == []
    with pytest.raises(Forbidden, match="revoked"):
        members.admit(Principal(invitation.user_id, "club", is_editor=True))


def test_an_address_of_another_workspace_is_refused_and_left_alone(cognito, ddb):
    client, pool, _ = cognito
    directory = CognitoDirectory(pool, client)
    directory.invite("other", "ann@example.org", Role.MEMBER, invitation_id="x",
                     expires_at=datetime.now(timezone.utc) + timedelta(days=7))
    with pytest.raises(Conflict, match="another workspace"):
        directory.invite("club", "ann@example.org", Role.MEMBER, invitation_id="y",
                         expires_at=datetime.now(timezone.utc) + timedelta(days=7))
    user = client.admin_get_user(UserPoolId=pool, Username="ann@example.org")
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["custom:workspace"] == "other"
