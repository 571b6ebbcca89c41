"""API: REST API Gateway + Cognito user pool authorizer + the API and chat Lambdas.

Routes (the handler, noticebot.handlers.api.app, routes everything below /api itself):

    GET  /api/health          no authorizer (liveness)
    GET  /api/openapi.json    no authorizer (the API's description)
    POST /api/chat            Cognito authorizer; the chat function, response streaming
    ANY  /api/chat            Cognito authorizer; the API function (its other methods: 405)
    ANY  /api/{proxy+}        Cognito authorizer; every other route, current and future
    OPTIONS on each           CORS preflight (mock integration; browsers send no credentials)

The handler's password routes, POST /api/auth/sign-in and POST /api/invitations/accept, are
the local stack's sign-in (no token). They get no public method here: on AWS, Cognito's hosted
UI signs users in and an invitation is a Cognito temporary password, so the handler answers
them 404, and behind {proxy+} they are not even reached without a valid token.

Chat streaming: POST /api/chat is a Lambda proxy integration with `responseTransferMode:
STREAM` (API Gateway calls InvokeWithResponseStream) to the chat function, whose runtime loop
(noticebot.entrypoints.lambda_streaming_runtime) answers in the streaming HTTP integration
format: Server-Sent Events when the request asks for them, else the API function's own answer
in one piece. A streamed response may last up to 15 minutes (5 minutes idle, regional
endpoint), so this integration's timeout is the chat function's timeout plus 10 s for a cold
start's init, not the 29 s every buffered route has. Streaming leaves out what needs the whole
response buffered (caching, content encoding, VTL mappings), none of which this API uses.

Uploads arrive as multipart/form-data, a binary media type here, so API Gateway hands the body
to the function base64-encoded (the handler decodes it). Gateway-generated errors (no token,
throttled, unknown path, body too large) use the product's one error shape
{"error": {"code", "message"}}, like the handler's own.

Identity: the authorizer verifies the Cognito ID token (which carries `custom:workspace` and
`cognito:groups`); the handler takes the workspace from those claims only. The mobile app
client may read `custom:workspace` but not write it: only an administrator (AdminUpdateUser
Attributes) moves a user between workspaces. The app signs in through the user pool's hosted
UI (OAuth 2.0 authorization code + PKCE, mobile/app/services/auth/cognito.ts): the pool has a
domain (auth.domain_prefix) and the app client the code flow, the openid/email/profile scopes
and the stage's callback and sign-out URLs (auth.callback_urls, auth.logout_urls).

Access logs: API Gateway writes them with the account's CloudWatch role, an account-and-region
setting (AWS::ApiGateway::Account) that a new account does not have; without it the stage
fails to deploy ("CloudWatch Logs role ARN must be set in account settings"). With
api.account_logging_role (the default) the stack creates the role and sets it, both retained
when the stack goes, so another stage's logs in the same account keep working; an account
whose platform team sets it turns the option off (`make preflight` checks the setting).

WAF (api.waf): AWS managed rules, then two rate limits per 5 minutes: one per signed-in caller
(keyed on the Authorization header, so members behind one carrier NAT or school network are
counted one by one) and a higher one per source IP, which also covers requests without a
token.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from noticebot.environment import EnvVar
from noticebot.functions import API, CHAT

from cdk.config import StageConfig
from cdk.constructs.function import ServiceFunction, retention
from cdk.nag import acknowledge

EDITORS_GROUP = "editors"
WORKSPACE_ATTRIBUTE = "workspace"  # custom:workspace in tokens
PUBLIC_ROUTES = ("health", "openapi.json")
BINARY_MEDIA_TYPES = ["multipart/form-data"]
# Lambda's init phase (a cold start) may take up to 10 s before the invocation's own timeout
# starts: the streaming integration waits for both.
INIT_ALLOWANCE_S = 10
WAF_WINDOW_S = 300  # the rate limits' window (api.waf_*_limit are per 5 minutes)
TEMPORARY_PASSWORD_DAYS = 7
USER_MANAGEMENT_ACTIONS = (
    "cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminDisableUser", "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:ListUsers")


def invitation_message(config: StageConfig) -> cognito.UserInvitationConfig:
    """The invitation e-mail: Cognito fills {username} (the invitee's e-mail address, the
    pool's sign-in name) and {####} (the temporary password) and requires both."""
    link = config.auth.invitation_link
    body = (f"<p>You have been invited to {config.project}.</p>"
            f"<p>Open the app: <a href=\"{link}\">{link}</a></p>"
            "<p>Sign in with your e-mail address {username} and this temporary password: "
            "<strong>{####}</strong></p>"
            f"<p>You choose your own password at the first sign-in. The temporary password "
            f"expires in {TEMPORARY_PASSWORD_DAYS} days; after that, ask for a new "
            "invitation.</p>")
    return cognito.UserInvitationConfig(
        email_subject=f"Your invitation to {config.project}", email_body=body,
        sms_message=f"{config.project}: sign in at {link} as {{username}} with {{####}}")

# Gateway response type -> (status, error code, message template)
_GATEWAY_ERRORS = {
    "UNAUTHORIZED": ("401", "unauthorized", '"sign in first: the request carries no valid token"'),
    "ACCESS_DENIED": ("403", "forbidden", "$context.error.messageString"),
    # API Gateway answers an unknown path with 403 "Missing Authentication Token".
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", '"no such route"'),
    "THROTTLED": ("429", "throttled", '"too many requests; slow down and retry"'),
    "QUOTA_EXCEEDED": ("429", "throttled", '"request quota exceeded"'),
    # validationErrorString is unquoted (messageString comes quoted).
    "BAD_REQUEST_PARAMETERS": ("400", "invalid_request", '"$context.error.validationErrorString"'),
    "BAD_REQUEST_BODY": ("400", "invalid_request", '"$context.error.validationErrorString"'),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large",
                          '"the request is too large; use POST /api/uploads for big files"'),
    "INTEGRATION_TIMEOUT": ("504", "timeout", '"the request took too long; try again"'),
    "DEFAULT_4XX": (None, "bad_request", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "internal_error", '"something went wrong on our side; try again"'),
}


class Api(Construct):
    """Exposes `user_pool`, `domain` (the hosted UI's) and `domain_prefix`, `client`,
    `editors_group`, `rest_api`, `authorizer`, `function` and `chat_function`
    (ServiceFunctions), `chat_method`, `access_logs`, `url`, `web_acl` (or None), and
    `grant_manage_users`."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig, code: lambda_.Code,
                 environment: dict[str, str], chat_code: lambda_.Code,
                 chat_environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        auth = config.auth

        # ---- Cognito -------------------------------------------------------------------------
        self.user_pool = cognito.UserPool(
            self, "Users", user_pool_name=f"{config.prefix}-users",
            self_sign_up_enabled=auth.self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)),
            custom_attributes={WORKSPACE_ATTRIBUTE: cognito.StringAttribute(
                min_len=1, max_len=128, mutable=True)},
            password_policy=cognito.PasswordPolicy(
                min_length=12, require_lowercase=True, require_uppercase=True,
                require_digits=True, require_symbols=True,
                # An invitation's temporary password: as long as the product's invitation.
                temp_password_validity=cdk.Duration.days(TEMPORARY_PASSWORD_DAYS)),
            # What AdminCreateUser (an editor's invitation) e-mails: the temporary password
            # and where to use it, the app (auth.app_link, else the first callback's origin).
            user_invitation=invitation_message(config),
            mfa=cognito.Mfa.REQUIRED if auth.mfa == "required" else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS if auth.threat_protection
            else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION
            if auth.threat_protection else None,
            deletion_protection=config.retain_data, removal_policy=removal)
        self.editors_group = cognito.CfnUserPoolGroup(
            self, "Editors", user_pool_id=self.user_pool.user_pool_id, group_name=EDITORS_GROUP,
            description="May post notices, upload and delete documents, and fine-tune")
        # The hosted sign-in page: https://{prefix}.auth.{region}.amazoncognito.com.
        self.domain_prefix = auth.domain_prefix or f"{config.prefix}-{cdk.Aws.ACCOUNT_ID}"
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=self.domain_prefix),
            managed_login_version=cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI)
        self.client = self.user_pool.add_client(
            "MobileApp", user_pool_client_name=f"{config.prefix}-mobile",
            generate_secret=False,  # a public client: the app cannot keep a secret
            # The app's sign-in: authorization code with PKCE (no implicit flow, no secret).
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL,
                        cognito.OAuthScope.PROFILE],
                callback_urls=list(auth.callback_urls),
                logout_urls=list(auth.logout_urls) or None),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True, enable_token_revocation=True,
            access_token_validity=cdk.Duration.hours(1), id_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(30),
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(WORKSPACE_ATTRIBUTE),
            # custom:workspace is deliberately absent: a user must not pick a tenant.
            write_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, fullname=True))

        # ---- the function ----------------------------------------------------------------------
        # Members and invitations create and manage this pool's users (grant_manage_users).
        self.function = ServiceFunction(
            self, "Handler", config=config, spec=API, code=code,
            memory_mb=config.functions.api_memory_mb, timeout_s=config.functions.api_timeout_s,
            environment={**environment, EnvVar.USER_POOL_ID: self.user_pool.user_pool_id})
        self.chat_function = ServiceFunction(
            self, "Chat", config=config, spec=CHAT, code=chat_code,
            memory_mb=config.functions.chat_memory_mb, timeout_s=config.functions.chat_timeout_s,
            environment=chat_environment)

        # ---- REST API ------------------------------------------------------------------------
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=retention(config.log_retention_days),
            removal_policy=removal)
        cors = None
        if config.api.cors_origins:
            cors = apigw.CorsOptions(
                allow_origins=list(config.api.cors_origins), allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=["Authorization", "Content-Type"], max_age=cdk.Duration.minutes(10))
        self.rest_api = apigw.RestApi(
            self, "Rest", rest_api_name=f"{config.prefix}-api",
            description=f"{config.prefix}: the notice board and chatbot API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=BINARY_MEDIA_TYPES,
            cloud_watch_role=config.api.account_logging_role,
            cloud_watch_role_removal_policy=cdk.RemovalPolicy.RETAIN
            if config.api.account_logging_role else None,
            default_cors_preflight_options=cors,
            deploy_options=apigw.StageOptions(
                stage_name=config.name,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True),
                throttling_rate_limit=config.api.throttle_rate_per_second,
                throttling_burst_limit=config.api.throttle_burst,
                metrics_enabled=True, tracing_enabled=True, data_trace_enabled=False))
        self.stage = self.rest_api.deployment_stage
        self.url = self.rest_api.url

        for response_type, (status, code_, message) in _GATEWAY_ERRORS.items():
            self.rest_api.add_gateway_response(
                f"Error{response_type.title().replace('_', '')}",
                type=getattr(apigw.ResponseType, response_type.replace("4XX", "4_XX").replace("5XX", "5_XX")),
                status_code=status,
                response_headers={"Access-Control-Allow-Origin": "'*'"},
                templates={"application/json":
                           f'{{"error": {{"code": "{code_}", "message": {message}}}}}'})

        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool],
            authorizer_name=f"{config.prefix}-cognito",
            identity_source="method.request.header.Authorization",
            results_cache_ttl=cdk.Duration.minutes(5))
        self.validator = self.rest_api.add_request_validator(
            "Validator", request_validator_name=f"{config.prefix}-params",
            validate_request_parameters=True, validate_request_body=True)
        integration = apigw.LambdaIntegration(self.function.function, proxy=True,
                                              allow_test_invoke=False)

        api = self.rest_api.root.add_resource("api")
        self.public_methods = []
        for route in PUBLIC_ROUTES:
            method = api.add_resource(route).add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE,
                request_validator=self.validator)
            self.public_methods.append(method)
            reason = ("GET /api/health is the unauthenticated liveness probe: it touches no data "
                      "and no dependency (noticebot.handlers.api.routers.health).")
            if route != "health":
                reason = ("GET /api/openapi.json publishes the API description, which clients and "
                          "tools fetch before they have a token; it contains no data.")
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
        signed_in = dict(authorizer=self.authorizer,
                         authorization_type=apigw.AuthorizationType.COGNITO,
                         request_validator=self.validator,
                         request_parameters={"method.request.header.Authorization": True})
        self.proxy_method = api.add_resource("{proxy+}").add_method("ANY", integration,
                                                                    **signed_in)
        chat = api.add_resource("chat")
        streamed = apigw.LambdaIntegration(
            self.chat_function.function, proxy=True, allow_test_invoke=False,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=cdk.Duration.seconds(config.functions.chat_timeout_s + INIT_ALLOWANCE_S))
        self.chat_method = chat.add_method("POST", streamed, **signed_in)
        # The resource shadows {proxy+} for every method: the others still reach the API
        # function, which answers them as before (405 with Allow: POST).
        chat.add_method("ANY", integration, **signed_in)

        acknowledge(self.rest_api.deployment_stage, "AwsSolutions-APIG6",
                    "Per-request JSON access logs are on (with the request id, status and "
                    "latency of every call); execution logs would add a second, unretained "
                    "log group per stage with request details and are left off.")
        if config.api.account_logging_role:
            acknowledge(self.rest_api, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::"
                        "aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                        "The account's API Gateway logging role uses AWS's policy for exactly "
                        "that purpose: API Gateway writes the access logs of every API in the "
                        "account and region with it, whose log groups this stack cannot list.")

        # ---- WAF (config) --------------------------------------------------------------------
        self.web_acl = None
        if config.api.waf:
            self.web_acl = self._web_acl(config)
        else:
            acknowledge(self.rest_api.deployment_stage, "AwsSolutions-APIG3",
                        f"Stage {config.name} runs without AWS WAF by config (api.waf false) to keep "
                        "its idle cost down; Cognito auth and stage throttling still apply. "
                        "Production enables api.waf.")

        if not auth.threat_protection:
            why = (f"Stage {config.name} uses the Essentials feature plan (auth.threat_protection "
                   "false): threat protection needs the paid Plus plan, which production enables.")
            acknowledge(self.user_pool, "AwsSolutions-COG8", why)
        if auth.mfa != "required":
            acknowledge(self.user_pool, "AwsSolutions-COG2",
                        "MFA is optional (TOTP) by config: members are club and school parents "
                        "who read and chat on their phones; required MFA would block them, and "
                        "editors are expected to enrol. auth.mfa = required turns it on.")

    def grant_manage_users(self, grantee: iam.IGrantable) -> None:
        """The Cognito calls of noticebot.adapters.aws.cognito_directory, on this pool only:
        invite (create, look up, delete and re-create), the editors group, remove (disable,
        sign out everywhere) and the lookup of a user by sub."""
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(
            sid="ManagePoolUsers", actions=list(USER_MANAGEMENT_ACTIONS),
            resources=[self.user_pool.user_pool_arn]))

    def _web_acl(self, config: StageConfig) -> wafv2.CfnWebACL:
        def visibility(name):
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)

        def managed(priority, name, overrides=()):
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, visibility_config=visibility(name),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name,
                        rule_action_overrides=[wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=o, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))
                            for o in overrides] or None)))

        def rate_rule(priority, name, limit, **statement):
            return wafv2.CfnWebACL.RuleProperty(
                name=name, priority=priority, visibility_config=visibility(name),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=limit, evaluation_window_sec=WAF_WINDOW_S, **statement)))

        acl = wafv2.CfnWebACL(
            self, "WebAcl", name=f"{config.prefix}-api", scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"{config.prefix}-api"),
            rules=[
                # Uploads are multipart bodies up to 4 MiB: the common set's 8 KB body-size rule
                # would block them, so it only counts.
                managed(1, "AWSManagedRulesCommonRuleSet", overrides=["SizeRestrictions_BODY"]),
                managed(2, "AWSManagedRulesKnownBadInputsRuleSet"),
                # A signed-in caller: the bearer token (one member, whatever network they
                # share with others). Requests without one are not counted here.
                rate_rule(3, "PerCallerRateLimit", config.api.waf_caller_limit,
                          aggregate_key_type="CUSTOM_KEYS", custom_keys=[
                              wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                                  header=wafv2.CfnWebACL.RateLimitHeaderProperty(
                                      name="authorization",
                                      text_transformations=[
                                          wafv2.CfnWebACL.TextTransformationProperty(
                                              priority=0, type="NONE")]))]),
                # A source IP: a ceiling for a whole carrier NAT or school network, and the
                # limit for requests without a token.
                rate_rule(4, "PerIpRateLimit", config.api.waf_ip_limit, aggregate_key_type="IP"),
            ])
        wafv2.CfnWebACLAssociation(self, "WebAclAssociation", web_acl_arn=acl.attr_arn,
                                   resource_arn=self.rest_api.deployment_stage.stage_arn)
        return acl
