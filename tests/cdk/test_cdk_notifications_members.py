"""Push notifications (the notify queue, its dead letters, the Expo token secret, the notify
function and its grants) and members (the API function's Cognito grants, the invitation
e-mail, the app client's attributes, no public password routes)."""

from __future__ import annotations

import json

import pytest
from cdk_testlib import as_list, cdk_json_context, function_of, only, render, resources
from noticebot.environment import EnvVar, PowertoolsEnv
from noticebot.functions import API, CHAT, CONTAINER_ENVIRONMENT, NOTIFY

from cdk.config import ConfigError, config_from_dict

DAY_S = 24 * 3600
COGNITO_ACTIONS = {
    "cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminDisableUser", "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:ListUsers"}
STAGES = ["dev", "prod"]


def ids(t, type_: str, prefix: str) -> list[str]:
    return [k for k in resources(t, type_) if k.startswith(prefix)]


def one_id(t, type_: str, prefix: str) -> str:
    (found,) = ids(t, type_, prefix)
    return found


def policy_of(t, handler: str) -> list[dict]:
    """The statements of the policies attached to the role of the function with `handler`."""
    _, fn = function_of(t, handler)
    role = fn["Role"]["Fn::GetAtt"][0]
    return [s for p in resources(t, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def queue_ids(t) -> tuple[str, str]:
    return (one_id(t, "AWS::SQS::Queue", "NotificationsEvents"),
            one_id(t, "AWS::SQS::Queue", "NotificationsDeadLetters"))


# ---- the notify queue -------------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_notify_queue_is_encrypted_tls_only_and_dead_letters_after_five(request, stage,
                                                                             config):
    t = request.getfixturevalue(stage)
    queue_id, dlq_id = queue_ids(t)
    queues = resources(t, "AWS::SQS::Queue")
    queue, dlq = queues[queue_id]["Properties"], queues[dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                                      "maxReceiveCount": 5}
    assert dlq["MessageRetentionPeriod"] == 14 * DAY_S
    _, notify = function_of(t, NOTIFY.handler)
    timeout = config.stage(stage).functions.notify_timeout_s
    assert notify["Timeout"] == timeout == 30
    assert queue["VisibilityTimeout"] >= 6 * notify["Timeout"]
    # Both refuse plain HTTP.
    for qid in (queue_id, dlq_id):
        (policy,) = [p["Properties"] for p in resources(t, "AWS::SQS::QueuePolicy").values()
                     if p["Properties"]["Queues"] == [{"Ref": qid}]]
        (deny,) = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_notify_dead_letters_page(dev):
    _, dlq_id = queue_ids(dev)
    (alarm,) = [a["Properties"] for a in resources(dev, "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("AlarmName") == "noticebot-dev-notify-dead-letters"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName",
                                    "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    topic = one_id(dev, "AWS::SNS::Topic", "MonitoringAlarms")
    assert alarm["AlarmActions"] == [{"Ref": topic}] and alarm["OKActions"] == [{"Ref": topic}]


def test_the_queue_feeds_the_notify_function_in_small_reported_batches(dev):
    queue_id, _ = queue_ids(dev)
    notify_id, _ = function_of(dev, NOTIFY.handler)
    (esm,) = [m["Properties"] for m in resources(dev, "AWS::Lambda::EventSourceMapping").values()
              if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    assert esm["FunctionName"] == {"Ref": notify_id}
    assert esm["BatchSize"] == 10
    assert esm["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumBatchingWindowInSeconds" not in esm  # a push goes out as soon as it can


# ---- the notify function ----------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_notify_function_gets_its_contract_and_the_token_secret(request, stage, config):
    t = request.getfixturevalue(stage)
    _, fn = function_of(t, NOTIFY.handler)
    cfg = config.stage(stage).functions
    assert fn["FunctionName"] == f"noticebot-{stage}-notify"
    assert fn["MemorySize"] == cfg.notify_memory_mb == 256
    env = fn["Environment"]["Variables"]
    assert set(env) == set(CONTAINER_ENVIRONMENT) | {EnvVar.PUSH_TOKEN_SECRET,
                                                      EnvVar.NOTIFY_QUEUE_URL}
    assert env[PowertoolsEnv.SERVICE_NAME] == "noticebot-notify"
    queue_id, _ = queue_ids(t)
    assert env[EnvVar.NOTIFY_QUEUE_URL] == {"Ref": queue_id}  # its own: receipt checks
    secret_id = one_id(t, "AWS::SecretsManager::Secret", "NotificationsExpoToken")
    assert env[EnvVar.PUSH_TOKEN_SECRET] == {"Ref": secret_id}  # the secret's ARN
    assert EnvVar.PUSH_URL not in env  # Expo's own push API
    # Outside a VPC: Expo is reached over Lambda's own internet access, no NAT gateway.
    assert "VpcConfig" not in fn
    assert not resources(t, "AWS::EC2::NatGateway")


@pytest.mark.parametrize("stage", STAGES)
def test_the_expo_token_secret_holds_no_value_and_uses_the_stage_key(request, stage):
    t = request.getfixturevalue(stage)
    _, secret = only(t, "AWS::SecretsManager::Secret")
    p = secret["Properties"]
    assert p["Name"] == f"noticebot-{stage}/expo-access-token"
    assert p["KmsKeyId"]["Fn::GetAtt"][0].startswith("StorageKey")
    assert "GenerateSecretString" not in p  # a random string would be sent as a bad token
    assert json.loads(p["SecretString"]) == {"access_token": ""}  # a placeholder only
    assert "outside CDK" in p["Description"]
    assert secret["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")
    output = t.to_json()["Outputs"]["ExpoTokenSecret"]
    assert output["Value"] == p["Name"]


def test_the_notify_function_reaches_exactly_its_table_calls_queue_and_token(dev):
    statements = policy_of(dev, NOTIFY.handler)
    queue_id, _ = queue_ids(dev)
    secret_id = one_id(dev, "AWS::SecretsManager::Secret", "NotificationsExpoToken")
    table, key = (one_id(dev, "AWS::DynamoDB::GlobalTable", "StorageTable"),
                  one_id(dev, "AWS::KMS::Key", "StorageKey"))
    logs = one_id(dev, "AWS::Logs::LogGroup", "NotificationsNotifyLogs")
    granted = {}
    for s in statements:
        assert s["Effect"] == "Allow"
        for r in as_list(s["Resource"]):
            granted.setdefault(render(r), set()).update(as_list(s["Action"]))
    assert granted == {
        f"<{logs}.Arn>": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "*": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
        # services.notifications.deliver: get_notice (GetItem), inboxes / members / devices
        # (Query on the workspace's partition), devices Expo reports gone (DeleteItem).
        f"<{table}.Arn>": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem"},
        f"<{key}.Arn>": {"kms:Decrypt", "kms:DescribeKey"},
        f"<{secret_id}>": {"secretsmanager:GetSecretValue"},
        # The SQS event source's own grant: consume the notify queue; and send to it (the
        # receipt checks it queues for itself).
        f"<{queue_id}.Arn>": {"sqs:ReceiveMessage", "sqs:DeleteMessage",
                              "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                              "sqs:GetQueueUrl", "sqs:SendMessage"},
    }
    by_sid = {s.get("Sid"): s for s in statements}
    # The secret's key only through Secrets Manager.
    assert by_sid["DecryptExpoToken"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    text = json.dumps(statements)
    assert "/index/" not in text and "es:" not in text and "s3:" not in text


# ---- the API function: members, invitations, notice events -----------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_api_function_knows_the_user_pool_and_the_notify_queue(request, stage):
    t = request.getfixturevalue(stage)
    _, api = function_of(t, API.handler)
    env = api["Environment"]["Variables"]
    pool_id, _ = only(t, "AWS::Cognito::UserPool")
    queue_id, _ = queue_ids(t)
    assert env[EnvVar.USER_POOL_ID] == {"Ref": pool_id}
    assert env[EnvVar.NOTIFY_QUEUE_URL] == {"Ref": queue_id}
    assert {EnvVar.USER_POOL_ID, EnvVar.NOTIFY_QUEUE_URL} <= API.environment
    # Nobody else is told about the pool, nor about the queue but the notify function itself.
    for fn in resources(t, "AWS::Lambda::Function").values():
        handler = fn["Properties"]["Handler"]
        if handler != API.handler:
            others = fn["Properties"]["Environment"]["Variables"]
            assert EnvVar.USER_POOL_ID not in others, handler
            if handler != NOTIFY.handler:
                assert EnvVar.NOTIFY_QUEUE_URL not in others, handler


def test_only_the_api_function_manages_the_pools_users_and_sends_notice_events(dev):
    """(and the notify function its own receipt checks)"""
    pool_id, _ = only(dev, "AWS::Cognito::UserPool")
    queue_id, _ = queue_ids(dev)
    by_sid = {s.get("Sid"): s for s in policy_of(dev, API.handler)}
    users = by_sid["ManagePoolUsers"]
    assert set(as_list(users["Action"])) == COGNITO_ACTIONS
    assert users["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    publish = by_sid["PublishNoticeEvents"]
    assert publish["Action"] == "sqs:SendMessage"
    assert publish["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # The chat function (and every other) has none of these; the notify function sends to its
    # own queue (receipt checks).
    api_role = function_of(dev, API.handler)[1]["Role"]["Fn::GetAtt"][0]
    notify_role = function_of(dev, NOTIFY.handler)[1]["Role"]["Fn::GetAtt"][0]
    for policy_id, policy in resources(dev, "AWS::IAM::Policy").items():
        if {"Ref": api_role} in policy["Properties"]["Roles"]:
            continue
        text = json.dumps(policy["Properties"]["PolicyDocument"])
        assert "cognito-idp:" not in text, policy_id
        if {"Ref": notify_role} not in policy["Properties"]["Roles"]:
            assert "sqs:SendMessage" not in text or queue_id not in text, policy_id
    chat_text = json.dumps(policy_of(dev, CHAT.handler))
    assert "cognito-idp:" not in chat_text and queue_id not in chat_text


# ---- the user pool ----------------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_invitation_email_carries_the_app_link_the_username_and_the_password(
        request, stage, config):
    t = request.getfixturevalue(stage)
    _, pool = only(t, "AWS::Cognito::UserPool")
    p = pool["Properties"]
    admin = p["AdminCreateUserConfig"]
    assert admin["AllowAdminCreateUserOnly"] is True  # self sign-up stays off
    invite = admin["InviteMessageTemplate"]
    link = config.stage(stage).auth.invitation_link
    assert link == "noticebot://"  # the first callback URL's origin: the app's scheme
    for message in (invite["EmailMessage"], invite["SMSMessage"]):
        assert "{username}" in message and "{####}" in message
        assert link in message
    assert f'href="{link}"' in invite["EmailMessage"]
    assert invite["EmailSubject"]
    assert p["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == 7


@pytest.mark.parametrize("stage", STAGES)
def test_the_app_client_cannot_write_the_workspace(request, stage):
    """custom:workspace decides the tenant: a member who could write it through the app client
    (UpdateUserAttributes with their own access token) could move into another workspace."""
    t = request.getfixturevalue(stage)
    _, client = only(t, "AWS::Cognito::UserPoolClient")
    writable = set(client["Properties"]["WriteAttributes"])
    assert "custom:workspace" not in writable
    assert not {a for a in writable if a.startswith("custom:")}
    assert writable == {"email", "name"}
    assert "custom:workspace" in client["Properties"]["ReadAttributes"]


def test_the_invitation_link_follows_the_stage_config():
    raw = cdk_json_context()["noticebot"]
    auth = raw["stages"]["dev"]["auth"]
    auth["callback_urls"] = ["https://board.example.org/auth/callback",
                             "noticebot://auth/callback"]
    assert config_from_dict(raw).stage("dev").auth.invitation_link == \
        "https://board.example.org/"
    auth["app_link"] = "https://board.example.org/welcome"
    assert config_from_dict(raw).stage("dev").auth.invitation_link == \
        "https://board.example.org/welcome"
    for bad in ("http://board.example.org/", "https://x.org/{username}", 'https://x.org/"'):
        auth["app_link"] = bad
        with pytest.raises(ConfigError, match="app_link"):
            config_from_dict(raw)


# ---- no public password routes ----------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_the_password_routes_are_not_public_on_api_gateway(request, stage):
    """POST /api/auth/sign-in and /api/invitations/accept are the local stack's password
    routes; on AWS they answer 404 and must not be opened past the authorizer."""
    from cdk.constructs.api import PUBLIC_ROUTES

    assert PUBLIC_ROUTES == ("health", "openapi.json")
    t = request.getfixturevalue(stage)
    paths = {r["Properties"]["PathPart"]
             for r in resources(t, "AWS::ApiGateway::Resource").values()}
    assert not paths & {"auth", "sign-in", "invitations", "accept"}
    public = [m["Properties"] for m in resources(t, "AWS::ApiGateway::Method").values()
              if m["Properties"]["AuthorizationType"] == "NONE"
              and m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(public) == len(PUBLIC_ROUTES)
    assert all(m["HttpMethod"] == "GET" for m in public)
