"""Search (domain / serverless by config), the LLM endpoint, training, and monitoring."""

from __future__ import annotations

import json

import aws_cdk as cdk
from cdk_testlib import as_list, function_of, make_app, only, resources

from cdk.config import load_config
from noticebot.functions import API


def role_ids_of_functions(t, *, exclude_handlers=()) -> list[str]:
    return sorted(f["Properties"]["Role"]["Fn::GetAtt"][0]
                  for f in resources(t, "AWS::Lambda::Function").values()
                  if f["Properties"]["Handler"] not in exclude_handlers)


CHAT_HANDLER = "noticebot.handlers.chat_function.handler"


# The functions that read and write the chunk index (the deploy and notify functions never do;
# the chat function only searches it).
def role_ids_of_index_users(t) -> list[str]:
    return role_ids_of_functions(t, exclude_handlers=("noticebot.handlers.deploy.handler",
                                                      "noticebot.handlers.embed.handler",
                                                      "noticebot.handlers.notify.handler",
                                                      CHAT_HANDLER))


def role_id_of(t, handler: str) -> str:
    (found,) = [f["Properties"]["Role"]["Fn::GetAtt"][0]
                for f in resources(t, "AWS::Lambda::Function").values()
                if f["Properties"]["Handler"] == handler]
    return found


# ---- search ------------------------------------------------------------------------------------
def test_dev_search_is_an_encrypted_https_only_domain_open_to_the_index_users(dev, config):
    c = config.stage("dev").search
    _, domain = only(dev, "AWS::OpenSearchService::Domain")
    p = domain["Properties"]
    assert p["DomainName"] == "noticebot-dev"
    assert p["EngineVersion"] == c.engine_version
    assert p["ClusterConfig"]["InstanceType"] == c.instance_type
    assert p["ClusterConfig"]["InstanceCount"] == c.instance_count
    assert p["EncryptionAtRestOptions"]["Enabled"] is True
    assert p["EncryptionAtRestOptions"]["KmsKeyId"]["Ref"].startswith("StorageKey")
    assert p["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert p["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert p["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    assert set(p["LogPublishingOptions"]) == {"SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS",
                                              "ES_APPLICATION_LOGS"}
    statements = p["AccessPolicies"]["Statement"]
    writers = [st for st in statements if st["Sid"].startswith("FunctionRolesOnTheIndex")]
    (searchers,) = [st for st in statements if st["Sid"].startswith("SearchOnlyRoles")]
    for statement in writers:
        principals = sorted(a["Fn::GetAtt"][0] for a in statement["Principal"]["AWS"])
        assert principals == role_ids_of_index_users(dev)
    # not deploy, embed, chat, notify
    assert len(principals) == len(role_ids_of_functions(dev)) - 4
    # The chat function searches and nothing more.
    assert [a["Fn::GetAtt"][0] for a in searchers["Principal"]["AWS"]] == [
        role_id_of(dev, CHAT_HANDLER)]
    assert searchers["Action"] == ["es:ESHttpPost"]
    assert [json.dumps(r).split(":domain/noticebot-dev/")[1].split('"')[0]
            for r in as_list(searchers["Resource"])] == ["noticebot-chunks*/_msearch"]

    def paths(statement):
        return sorted(json.dumps(r).split(":domain/noticebot-dev/")[1].split('"')[0]
                      for r in as_list(statement["Resource"]))

    by_verb = {st["Action"][0]: paths(st) for st in writers}
    # Each verb only where the adapter sends it; no DELETE at all (documents are deleted by
    # _delete_by_query and _bulk, never the index); no root /_bulk: the adapter sends
    # /INDEX/_bulk and /INDEX/_msearch and the domain refuses an index named in their bodies.
    assert by_verb == {
        "es:ESHttpHead": ["noticebot-chunks*"],
        "es:ESHttpPut": ["_index_template/noticebot-chunks*", "noticebot-chunks*"],
        "es:ESHttpPost": ["noticebot-chunks*/_bulk", "noticebot-chunks*/_count",
                          "noticebot-chunks*/_delete_by_query", "noticebot-chunks*/_msearch"],
    }
    assert "ESHttpDelete" not in json.dumps(p["AccessPolicies"])
    assert p["AdvancedOptions"] == {"rest.action.multi.allow_explicit_index": "false"}
    for role_id in role_ids_of_index_users(dev):
        grants = [s for policy in resources(dev, "AWS::IAM::Policy").values()
                  if {"Ref": role_id} in policy["Properties"]["Roles"]
                  for s in policy["Properties"]["PolicyDocument"]["Statement"]
                  if s.get("Sid", "").startswith("SearchIndex")]
        assert sorted(g["Action"] for g in grants) == sorted(by_verb), role_id
        assert "ESHttpDelete" not in json.dumps(grants), role_id
        assert not any(json.dumps(r).endswith(':domain/noticebot-dev/_bulk"]]}')
                       for g in grants for r in g["Resource"]), role_id
    _, logs_policy = only(dev, "AWS::Logs::ResourcePolicy")
    assert "es.amazonaws.com" in json.dumps(logs_policy["Properties"]["PolicyDocument"])


def test_prod_search_is_a_serverless_vector_collection_with_policies(prod):
    _, collection = only(prod, "AWS::OpenSearchServerless::Collection")
    assert collection["Properties"]["Type"] == "VECTORSEARCH"
    assert collection["Properties"]["StandbyReplicas"] == "ENABLED"
    policies = {p["Properties"]["Type"]: p for p in
                resources(prod, "AWS::OpenSearchServerless::SecurityPolicy").values()}
    assert set(policies) == {"encryption", "network"}
    enc = json.dumps(policies["encryption"]["Properties"]["Policy"])
    assert 'AWSOwnedKey\\":false' in enc and "StorageKey" in enc
    assert set(collection["DependsOn"]) >= {k for k, v in resources(
        prod, "AWS::OpenSearchServerless::SecurityPolicy").items()}
    _, data = only(prod, "AWS::OpenSearchServerless::AccessPolicy")
    text = json.dumps(data["Properties"]["Policy"])
    assert "index/noticebot-prod/noticebot-chunks*" in text
    assert "aoss:DeleteIndex" not in text
    chat_role = role_id_of(prod, CHAT_HANDLER)
    for role_id in role_ids_of_functions(prod):
        index_user = role_id in role_ids_of_index_users(prod) or role_id == chat_role
        assert (role_id in text) == index_user, role_id
    # The chat function's rule reads documents and nothing else (the policy is a join: role
    # ARNs are tokens).
    joined = data["Properties"]["Policy"]["Fn::Join"][1]
    start = next(i for i, part in enumerate(joined)
                 if isinstance(part, str) and "Search-only functions" in part)
    chat_rule = "".join(p if isinstance(p, str) else json.dumps(p) for p in joined[start:])
    assert chat_rule.split('"Principal"')[0].count("aoss:") == 1
    assert "aoss:ReadDocument" in chat_rule and chat_role in chat_rule


# ---- models ------------------------------------------------------------------------------------
def test_llm_endpoint_hosts_a_lora_enabled_base_component(dev, config):
    m = config.stage("dev").model
    _, model = only(dev, "AWS::SageMaker::Model")
    container = model["Properties"]["PrimaryContainer"]
    env = container["Environment"]
    # Gated weights come staged from S3, never from the hub (no token); no internet needed.
    assert env["HF_MODEL_ID"] == "/opt/ml/model"
    source = container["ModelDataSource"]["S3DataSource"]
    assert json.dumps(source["S3Uri"]).count("AWS::AccountId") == 1
    assert "noticebot-weights-" in json.dumps(source["S3Uri"])
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert env["OPTION_ENABLE_LORA"] == "true"
    assert env["OPTION_MAX_LORAS"] == str(m.max_loras)
    # The largest adapter it loads is the largest training may produce (one number).
    from noticebot.domain.tuning import MAX_LORA_RANK
    assert env["OPTION_MAX_LORA_RANK"] == str(MAX_LORA_RANK)
    _, endpoint_config = only(dev, "AWS::SageMaker::EndpointConfig")
    variant, = endpoint_config["Properties"]["ProductionVariants"]
    assert "ModelName" not in variant  # models are inference components
    assert variant["InstanceType"] == m.instance_type
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": m.max_instances}
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert endpoint_config["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0].startswith(
        "ModelsExecutionRole")
    _, endpoint = only(dev, "AWS::SageMaker::Endpoint")
    assert endpoint["Properties"]["EndpointName"] == "noticebot-dev-llm"
    _, component = only(dev, "AWS::SageMaker::InferenceComponent")
    c = component["Properties"]
    assert c["InferenceComponentName"] == "noticebot-dev-llm-base"
    assert c["Specification"]["ComputeResourceRequirements"] == {
        "NumberOfAcceleratorDevicesRequired": m.accelerators_per_copy,
        "MinMemoryRequiredInMb": m.memory_mb_per_copy}
    assert c["RuntimeConfig"] == {"CopyCount": 1}


def test_dev_scales_to_zero_and_back_prod_keeps_a_copy(dev, prod):
    _, target = only(dev, "AWS::ApplicationAutoScaling::ScalableTarget")
    p = target["Properties"]
    assert p["ResourceId"] == "inference-component/noticebot-dev-llm-base"
    assert p["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert p["MinCapacity"] == 0 and "RoleARN" not in p
    policies = {x["Properties"]["PolicyType"]: x for x in
                resources(dev, "AWS::ApplicationAutoScaling::ScalingPolicy").values()}
    assert set(policies) == {"TargetTrackingScaling", "StepScaling"}
    tracking = policies["TargetTrackingScaling"]["Properties"][
        "TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerInferenceComponentInvocationsPerCopy")
    no_capacity = [a for a in resources(dev, "AWS::CloudWatch::Alarm").values()
                   if a["Properties"].get("MetricName") == "NoCapacityInvocationFailures"]
    assert len(no_capacity) == 1
    step_id = [k for k, v in resources(dev, "AWS::ApplicationAutoScaling::ScalingPolicy").items()
               if v["Properties"]["PolicyType"] == "StepScaling"][0]
    assert no_capacity[0]["Properties"]["AlarmActions"] == [{"Fn::GetAtt": [step_id, "Arn"]}]
    _, prod_target = only(prod, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert prod_target["Properties"]["MinCapacity"] == 1
    _, prod_config = only(prod, "AWS::SageMaker::EndpointConfig")
    assert prod_config["Properties"]["ProductionVariants"][0]["ManagedInstanceScaling"][
        "MinInstanceCount"] == 1


# ---- training ----------------------------------------------------------------------------------
def test_training_rule_matches_this_stages_finished_jobs(dev):
    rule, = [v for k, v in resources(dev, "AWS::Events::Rule").items()
             if k.startswith("TrainingJobStateChange")]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobName": [{"prefix": "noticebot-dev-ft-"}],
                   "TrainingJobStatus": ["Completed", "Failed", "Stopped"]}}
    # Its one target is the deploy function (tests/cdk/test_cdk_finetune.py).
    assert len(rule["Properties"]["Targets"]) == 1
    _, group = only(dev, "AWS::SageMaker::ModelPackageGroup")
    assert group["Properties"]["ModelPackageGroupName"] == "noticebot-dev-adapters"


def test_add_deploy_target_wires_rule_to_function_with_dlq_and_retries():
    """add_deploy_target on its own, with a test double for the function."""
    from aws_cdk import assertions
    from aws_cdk import aws_lambda as lambda_

    from cdk.constructs.storage import Storage
    from cdk.constructs.training import Training

    app = make_app()
    stage = load_config(app).stage("dev")
    stack = cdk.Stack(app, "TrainingWiring", env=cdk.Environment(region="us-east-1"))
    training = Training(stack, "Training", config=stage, storage=Storage(stack, "S", config=stage))
    double = lambda_.Function(stack, "DeployDouble", runtime=lambda_.Runtime.PYTHON_3_12,
                              handler="index.handler",
                              code=lambda_.Code.from_inline("def handler(e, c): pass"))
    training.add_deploy_target(double)
    t = assertions.Template.from_stack(stack)
    fn_id = stack.get_logical_id(double.node.default_child)
    _, rule = only(t, "AWS::Events::Rule")
    target, = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 4
    assert "DeadLetterConfig" in target
    t.has_resource_properties("AWS::Lambda::Permission", {
        "Principal": "events.amazonaws.com", "FunctionName": {"Fn::GetAtt": [fn_id, "Arn"]}})
    # A failed invocation (after Lambda's retries) lands in the same dead-letter queue.
    dlq_id, _ = only(t, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    _, invoke = only(t, "AWS::Lambda::EventInvokeConfig")
    assert invoke["Properties"]["MaximumRetryAttempts"] == 2
    assert invoke["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]}


def test_training_role_reads_datasets_writes_models_only(dev):
    role_id = [k for k in resources(dev, "AWS::IAM::Role") if k.startswith("TrainingExecutionRole")][0]
    policy = [p for p in resources(dev, "AWS::IAM::Policy").values()
              if p["Properties"]["Roles"] == [{"Ref": role_id}]][0]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert json.dumps(statements["ReadDatasets"]["Resource"]).endswith('/tenants/*/datasets/*"]]}')
    assert json.dumps(statements["WriteModels"]["Resource"]).endswith('/tenants/*/models/*"]]}')
    assert sorted(statements["WriteModels"]["Action"]) == [
        "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    assert statements["ListTenantPrefixes"]["Condition"] == {
        "StringLike": {"s3:prefix": ["tenants/*"]}}


# ---- monitoring --------------------------------------------------------------------------------
def test_alarms_page_through_the_topic(dev):
    topic_id, topic = only(dev, "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"]
    alarms = {a["Properties"].get("AlarmName"): a["Properties"]
              for a in resources(dev, "AWS::CloudWatch::Alarm").values()}
    expected = {"ingest-dead-letters", "ingest-backlog", "api-5xx", "api-latency-p99",
                "api-errors", "api-throttles", "ingest-errors", "ingest-throttles",
                "llm-latency-p99", "llm-invocation-errors", "search-red", "search-storage-low"}
    assert {f"noticebot-dev-{n}" for n in expected} <= set(alarms)
    for name in expected:
        props = alarms[f"noticebot-dev-{name}"]
        assert props["AlarmActions"] == [{"Ref": topic_id}], name
        assert props["OKActions"] == [{"Ref": topic_id}], name
    # API latency without the streamed chats, which last as long as the model writes.
    latency = alarms["noticebot-dev-api-latency-p99"]
    assert (latency["Namespace"], latency["MetricName"], latency["ExtendedStatistic"]) == (
        "AWS/Lambda", "Duration", "p99")
    [dimension] = latency["Dimensions"]
    api_fn_id, _ = function_of(dev, API.handler)
    assert dimension == {"Name": "FunctionName", "Value": {"Ref": api_fn_id}}
    dlq = alarms["noticebot-dev-ingest-dead-letters"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible" and dlq["Threshold"] == 1
    _, dashboard = only(dev, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "noticebot-dev-overview"
