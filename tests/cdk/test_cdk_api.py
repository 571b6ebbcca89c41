"""API Gateway, the Cognito authorizer on every route but health/openapi, and the user pool."""

from __future__ import annotations

import json

import pytest
from cdk_testlib import only, resources

PUBLIC = {("GET", "/api/health"), ("GET", "/api/openapi.json")}


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
    assert set(routes) == PUBLIC | {("ANY", "/api/{proxy+}")}
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
    api_fn = [k for k, v in resources(dev, "AWS::Lambda::Function").items()
              if v["Properties"]["Handler"] == "noticebot.handlers.api.app.handler"][0]
    validator_id, validator = only(dev, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for key, props in method_paths(dev).items():
        if key[0] == "OPTIONS":
            continue
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY", key
        assert api_fn in json.dumps(integration["Uri"]), key
        assert props["RequestValidatorId"] == {"Ref": validator_id}, key
    proxy = method_paths(dev)[("ANY", "/api/{proxy+}")]
    assert proxy["RequestParameters"] == {"method.request.header.Authorization": True}
    # Only the three routes may invoke the function (no test-invoke permissions).
    permissions = [p for p in resources(dev, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert len(permissions) == 3
    assert all(api_fn in json.dumps(p["Properties"]["FunctionName"]) for p in permissions)


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
