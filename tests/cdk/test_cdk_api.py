"""API Gateway, the Cognito authorizer on every route but health/openapi, and the user pool."""

from __future__ import annotations

import json

import pytest
from cdk_testlib import as_list, only, render, resources

PUBLIC = {("GET", "/api/health"), ("GET", "/api/openapi.json")}
SIGNED_IN = {("ANY", "/api/{proxy+}"), ("POST", "/api/chat"), ("ANY", "/api/chat")}
STREAMED = ("POST", "/api/chat")
API_HANDLER = "noticebot.handlers.api.app.handler"
CHAT_HANDLER = "noticebot.handlers.chat_function.handler"


def function_id(t, handler: str) -> str:
    (found,) = [k for k, v in resources(t, "AWS::Lambda::Function").items()
                if v["Properties"]["Handler"] == handler]
    return found


def method_paths(t) -> dict[tuple[str, str], dict]:
    """(HTTP method, resource path) -> method properties, for every API Gateway method."""
    rest_id, _ = only(t, "AWS::ApiGateway::RestApi")
    res = resources(t, "AWS::ApiGateway::Resource")

    def path_of(ref) -> str:
        if isinstance(ref, dict) and "Fn::GetAtt" in ref:  # the root resource
            assert ref["Fn::GetAtt"] == [rest_id, "RootResourceId"]
            return ""
        props = res[ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    out = {}
    for m in resources(t, "AWS::ApiGateway::Method").values():
        p = m["Properties"]
        out[(p["HttpMethod"], path_of(p["ResourceId"]) or "/")] = p
    return out


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_route_but_health_and_openapi_has_the_cognito_authorizer(request, stage):
    t = request.getfixturevalue(stage)
    authorizer_id, authorizer = only(t, "AWS::ApiGateway::Authorizer")
    methods = method_paths(t)
    routes = {k: v for k, v in methods.items() if k[0] != "OPTIONS"}
    assert set(routes) == PUBLIC | SIGNED_IN
    for key, props in routes.items():
        if key in PUBLIC:
            assert props["AuthorizationType"] == "NONE", key
            assert "AuthorizerId" not in props, key
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", key
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, key
    # CORS preflight (only where origins are configured) is a mock: it reaches no function.
    for key, props in methods.items():
        if key[0] == "OPTIONS":
            assert props["Integration"]["Type"] == "MOCK", key
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    pool_id, _ = only(t, "AWS::Cognito::UserPool")
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]


def test_routes_proxy_to_the_api_function_with_validation(dev):
    api_fn = function_id(dev, API_HANDLER)
    validator_id, validator = only(dev, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for key, props in method_paths(dev).items():
        if key[0] == "OPTIONS" or key == STREAMED:
            continue
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY", key
        assert api_fn in json.dumps(integration["Uri"]), key
        assert "/2015-03-31/functions/" in json.dumps(integration["Uri"]), key
        assert integration.get("ResponseTransferMode", "BUFFERED") == "BUFFERED", key
        assert props["RequestValidatorId"] == {"Ref": validator_id}, key
    for key in SIGNED_IN:
        assert method_paths(dev)[key]["RequestParameters"] == {
            "method.request.header.Authorization": True}, key
    # Only the four API routes and the chat route may invoke the functions (no test-invoke
    # permissions), each function from its own routes only.
    permissions = [p["Properties"] for p in resources(dev, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    targets = sorted(json.dumps(p["FunctionName"]).split('"')[3] for p in permissions)
    assert targets == sorted([api_fn] * 4 + [function_id(dev, CHAT_HANDLER)])
    for p in permissions:
        assert "test-invoke-stage" not in json.dumps(p["SourceArn"])


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_post_chat_streams_from_the_chat_function(request, stage, config):
    t = request.getfixturevalue(stage)
    chat_fn = function_id(t, CHAT_HANDLER)
    props = method_paths(t)[STREAMED]
    integration = props["Integration"]
    assert integration["Type"] == "AWS_PROXY" and integration["IntegrationHttpMethod"] == "POST"
    assert integration["ResponseTransferMode"] == "STREAM"
    uri = json.dumps(integration["Uri"])
    # API Gateway calls InvokeWithResponseStream (its own API version and action).
    assert "lambda:path/2021-11-15/functions/" in uri and chat_fn in uri
    assert uri.endswith('/response-streaming-invocations"]]}')
    # Past the 29 s of a buffered integration: the function's timeout, plus a cold start's
    # init, inside the 15 minutes a stream may last.
    functions = config.stage(stage).functions
    function = resources(t, "AWS::Lambda::Function")[chat_fn]["Properties"]
    assert function["Timeout"] == functions.chat_timeout_s > 29
    assert integration["TimeoutInMillis"] == (functions.chat_timeout_s + 10) * 1000 <= 900_000
    assert function["MemorySize"] == functions.chat_memory_mb
    # Python cannot stream through the managed runtime's loop: Lambda starts the bundle's
    # wrapper, which runs the streaming loop on the runtime's interpreter.
    env = function["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/noticebot/entrypoints/stream_bootstrap"
    assert function["Runtime"] == "python3.12"
    # The other methods on the resource go to the API function, buffered.
    other = method_paths(t)[("ANY", "/api/chat")]["Integration"]
    assert function_id(t, API_HANDLER) in json.dumps(other["Uri"])
    assert "ResponseTransferMode" not in other or other["ResponseTransferMode"] == "BUFFERED"
    assert "TimeoutInMillis" not in other or other["TimeoutInMillis"] <= 29_000


def test_the_chat_function_reaches_only_what_a_chat_turn_needs(dev):
    (policy,) = [p for k, p in resources(dev, "AWS::IAM::Policy").items()
                 if k.startswith("ApiChatRole")]
    by_sid = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(by_sid) == {"OwnLogGroup", None, "TableItems", "TableIndexQueries", "TableKey",
                           "SearchIndexReadOnly", "InvokeChatModel", "InvokeEmbedder"}
    # Searches only: POST on the index's _search and _msearch, no writes, no creation.
    search = by_sid["SearchIndexReadOnly"]
    assert search["Action"] == "es:ESHttpPost"
    assert [render(r).split(":domain/noticebot-dev/")[1] for r in as_list(search["Resource"])] \
        == ["noticebot-chunks*/_msearch"]
    text = json.dumps(policy)
    assert "s3:" not in text and "sagemaker:CreateTrainingJob" not in text
    assert set(by_sid["InvokeChatModel"]["Action"]) == {
        "sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"}


def test_rest_api_binary_uploads_throttling_access_logs(dev, config):
    _, api = only(dev, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["BinaryMediaTypes"] == ["multipart/form-data"]
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    _, stage = only(dev, "AWS::ApiGateway::Stage")
    p = stage["Properties"]
    assert p["StageName"] == "dev"
    assert p["TracingEnabled"] is True
    assert "ApiAccessLogs" in json.dumps(p["AccessLogSetting"]["DestinationArn"])
    assert '"status":"$context.status"' in p["AccessLogSetting"]["Format"]
    settings = p["MethodSettings"][0]
    api_cfg = config.stage("dev").api
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["ThrottlingRateLimit"] == api_cfg.throttle_rate_per_second
    assert settings["ThrottlingBurstLimit"] == api_cfg.throttle_burst
    assert settings["DataTraceEnabled"] is False


def test_gateway_errors_use_the_product_error_shape(dev):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in resources(dev, "AWS::ApiGateway::GatewayResponse").values()}
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED",
            "DEFAULT_4XX", "DEFAULT_5XX", "REQUEST_TOO_LARGE"} <= set(responses)
    for kind, props in responses.items():
        template = props["ResponseTemplates"]["application/json"]
        assert template.startswith('{"error": {"code": "'), kind
        assert '"message": ' in template, kind
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"


def test_user_pool_workspace_attribute_editors_group_and_app_client(dev):
    _, pool = only(dev, "AWS::Cognito::UserPool")
    p = pool["Properties"]
    schema = {a["Name"]: a for a in p["Schema"]}
    assert schema["workspace"]["AttributeDataType"] == "String"
    assert schema["workspace"]["Mutable"] is True
    assert p["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert p["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    _, group = only(dev, "AWS::Cognito::UserPoolGroup")
    assert group["Properties"]["GroupName"] == "editors"
    _, client = only(dev, "AWS::Cognito::UserPoolClient")
    c = client["Properties"]
    assert c["GenerateSecret"] is False
    assert "custom:workspace" in c["ReadAttributes"]
    # A user must never choose their own tenant.
    assert "custom:workspace" not in c["WriteAttributes"]
    assert set(c["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert c["PreventUserExistenceErrors"] == "ENABLED"


def test_prod_has_waf_and_threat_protection_dev_does_not(dev, prod):
    assert not resources(dev, "AWS::WAFv2::WebACL")
    _, acl = only(prod, "AWS::WAFv2::WebACL")
    names = [r["Name"] for r in acl["Properties"]["Rules"]]
    assert names == ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                     "PerCallerRateLimit", "PerIpRateLimit"]
    _, assoc = only(prod, "AWS::WAFv2::WebACLAssociation")
    assert "restapis" in json.dumps(assoc["Properties"]["ResourceArn"])
    _, pool = only(prod, "AWS::Cognito::UserPool")
    assert pool["Properties"]["UserPoolTier"] == "PLUS"


def test_waf_counts_each_signed_in_caller_and_keeps_a_higher_ip_ceiling(prod, config):
    """Members behind one carrier NAT share an IP: the tight limit is per caller (the bearer
    token), the per-IP one only a ceiling for a whole network and for requests without one."""
    _, acl = only(prod, "AWS::WAFv2::WebACL")
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    api = config.stage("prod").api
    caller = rules["PerCallerRateLimit"]["Statement"]["RateBasedStatement"]
    assert caller["AggregateKeyType"] == "CUSTOM_KEYS"
    (key,) = caller["CustomKeys"]
    assert key["Header"]["Name"].lower() == "authorization"
    assert caller["Limit"] == api.waf_caller_limit
    ip = rules["PerIpRateLimit"]["Statement"]["RateBasedStatement"]
    assert ip["AggregateKeyType"] == "IP"
    assert ip["Limit"] == api.waf_ip_limit >= 10 * api.waf_caller_limit
    for rule in (caller, ip):
        assert rule["EvaluationWindowSec"] == 300
    for name in ("PerCallerRateLimit", "PerIpRateLimit"):
        assert rules[name]["Action"] == {"Block": {}}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_stage_sets_the_accounts_api_gateway_logging_role(request, stage):
    """Access logs need the account's CloudWatch role; a new account has none and the stage
    would fail to deploy. The role and the setting outlive the stack (another stage in the
    account logs through them too) and the stage is created after the setting."""
    t = request.getfixturevalue(stage)
    account_id, account = only(t, "AWS::ApiGateway::Account")
    assert account["DeletionPolicy"] == "Retain"
    role_ref = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = resources(t, "AWS::IAM::Role")[role_ref]
    assert role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(role["Properties"])
    _, stage_resource = only(t, "AWS::ApiGateway::Stage")
    assert "AccessLogSetting" in stage_resource["Properties"]
    assert account_id in json.dumps(stage_resource.get("DependsOn", [])) or any(
        account_id in json.dumps(r.get("DependsOn", []))
        for r in resources(t, "AWS::ApiGateway::Deployment").values())


def test_an_account_with_its_own_logging_role_gets_none_from_the_stack():
    from aws_cdk import assertions
    from cdk_testlib import cdk_json_context, make_app, synthesize

    raw = cdk_json_context()["noticebot"]
    raw["stages"]["dev"]["api"]["account_logging_role"] = False
    result = synthesize(make_app(noticebot=raw, stage="dev", **{"noticebot:nag": "false"}))
    assert result.assembly is not None, result.error
    nested = result.assembly.get_nested_assembly("assembly-noticebot-dev")
    t = assertions.Template.from_json(nested.get_stack_by_name("noticebot-dev-app").template)
    assert not resources(t, "AWS::ApiGateway::Account")
    _, api = only(t, "AWS::ApiGateway::RestApi")
    assert "CloudWatchRole" not in json.dumps(api)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_app_signs_in_through_the_hosted_ui_with_code_and_pkce(request, config, stage):
    """mobile/app/services/auth/cognito.ts sends the user to https://{domain}/oauth2/authorize
    with response_type=code, a PKCE challenge, scopes openid email profile and its
    noticebot://auth/callback: the pool needs a domain, the client that flow."""
    t = request.getfixturevalue(stage)
    auth = config.stage(stage).auth
    _, domain = only(t, "AWS::Cognito::UserPoolDomain")
    prefix = json.dumps(domain["Properties"]["Domain"])
    # Unique per region across accounts: the stage prefix and the account id.
    assert f"noticebot-{stage}-" in prefix and "AWS::AccountId" in prefix
    assert domain["Properties"].get("ManagedLoginVersion", 1) == 1  # the classic hosted UI
    _, client = only(t, "AWS::Cognito::UserPoolClient")
    c = client["Properties"]
    assert c["AllowedOAuthFlowsUserPoolClient"] is True
    assert c["AllowedOAuthFlows"] == ["code"]  # no implicit flow
    assert set(c["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert c["CallbackURLs"] == list(auth.callback_urls)
    assert "noticebot://auth/callback" in c["CallbackURLs"]
    assert c["SupportedIdentityProviders"] == ["COGNITO"]
    assert c["GenerateSecret"] is False  # PKCE, a public client
    outputs = t.to_json()["Outputs"]
    assert "HostedUiDomain" in outputs


def test_a_configured_domain_prefix_is_used_as_it_is_and_checked():
    from cdk.config import ConfigError, config_from_dict
    from cdk_testlib import cdk_json_context

    raw = cdk_json_context()["noticebot"]
    raw["stages"]["dev"]["auth"]["domain_prefix"] = "club-board-dev"
    assert config_from_dict(raw).stage("dev").auth.domain_prefix == "club-board-dev"
    for bad in ("Club", "my-cognito-login", "-x"):
        raw["stages"]["dev"]["auth"]["domain_prefix"] = bad
        with pytest.raises(ConfigError, match="domain_prefix"):
            config_from_dict(raw)
    raw["stages"]["dev"]["auth"]["domain_prefix"] = ""
    raw["stages"]["dev"]["auth"]["callback_urls"] = ["http://example.org/auth/callback"]
    with pytest.raises(ConfigError, match="callback_urls"):
        config_from_dict(raw)
    raw["stages"]["dev"]["auth"]["callback_urls"] = []
    with pytest.raises(ConfigError, match="callback_urls"):
        config_from_dict(raw)
