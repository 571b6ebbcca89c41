"""API Gateway, the Cognito authorizer on every route but health/openapi, and the user pool."""

from __future__ import annotations

import json

import pytest
from cdk_testlib import only, render, resources

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
    # Searches only: GET/POST on the index's _search and _msearch, no writes, no creation.
    search = by_sid["SearchIndexReadOnly"]
    assert sorted(search["Action"]) == ["es:ESHttpGet", "es:ESHttpPost"]
    assert sorted(render(r).split(":domain/noticebot-dev/")[1] for r in search["Resource"]) \
        == ["noticebot-chunks*/_msearch", "noticebot-chunks*/_search"]
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
                     "PerIpRateLimit"]
    _, assoc = only(prod, "AWS::WAFv2::WebACLAssociation")
    assert "restapis" in json.dumps(assoc["Properties"]["ResourceArn"])
    _, pool = only(prod, "AWS::Cognito::UserPool")
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
