"""Every IAM policy statement is scoped to its resources.

Resource "*" appears only where AWS offers no resource-level permission; each such case is named
below with the reason. Any other wildcard is a tenant-prefix or name-prefix pattern from the
allow-list, so a new broad grant fails here before it reaches an account.
"""

from __future__ import annotations

import json
import re

import pytest
from cdk_testlib import as_list, render, resources

# Resource "*" is allowed only for these actions, each because AWS offers no resource-level
# permission for it (Service Authorization Reference). Every other action must name its
# resources: Transcribe's job actions take transcription-job ARNs (this stage's job prefix),
# CloudFormation's and CodeBuild's take stack and project ARNs (the pipeline's, narrowed in
# cdk/stacks/pipeline_stack.py).
STAR_ALLOWED = {
    "xray:PutTraceSegments": "X-Ray (Lambda active tracing) has no resource-level permissions",
    "xray:PutTelemetryRecords": "X-Ray (Lambda active tracing) has no resource-level permissions",
    "ecr:GetAuthorizationToken": "ECR login is account-wide; image pulls are scoped to one "
                                 "repository in a statement of their own",
    "cloudwatch:PutMetricData": "CloudWatch metrics have no ARNs; limited by the "
                                "cloudwatch:namespace condition",
    "textract:DetectDocumentText": "Textract's text detection has no resource-level permissions",
    "textract:StartDocumentTextDetection": "Textract's text detection has no resource-level "
                                           "permissions",
    "textract:GetDocumentTextDetection": "Textract's text detection has no resource-level "
                                         "permissions",
}
# The action sets that use them today (a set that disappears or a new one shows up here).
STAR_REQUIRED = {
    frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}),
    frozenset({"ecr:GetAuthorizationToken"}),
    frozenset({"cloudwatch:PutMetricData"}),
    frozenset({"textract:DetectDocumentText", "textract:StartDocumentTextDetection",
               "textract:GetDocumentTextDetection"}),
}
# Wildcards inside ARNs that are allowed, as regular expressions on the rendered resource.
ALLOWED_PATTERNS = [
    r"/tenants/\*/(raw|datasets|models)/\*$",  # one key kind of every workspace
    r">/(textract-staging|transcripts)/\*$",  # the ingestion engines' working prefixes
    # the chunk index (HEAD/PUT), its template (PUT) and its own APIs (POST)
    r":domain/noticebot-\w+/(_index_template/)?noticebot-chunks\*$",
    r":domain/noticebot-\w+/noticebot-chunks\*/(_bulk|_delete_by_query|_m?search|_count)$",
    r":inference-component/noticebot-\w+-llm-\*$",  # invoke: this stage's endpoint's components
    r":inference-component/noticebot-\w+-llm-ft-\*$",  # deploy: this stage's adapters only
    r":training-job/noticebot-\w+-ft-\*$",  # this stage's fine-tune jobs
    r":model-package/noticebot-\w+-adapters/\*$",  # the versions of this stage's adapter group
    r":log-group:/aws/sagemaker/Endpoints/noticebot-\w+-llm:\*$",  # the endpoint's own logs
    r":log-group:/aws/sagemaker/TrainingJobs:log-stream:noticebot-\w+-ft-\*$",
    # this stage's Transcribe jobs: {bucket}-tx-*
    r":transcription-job/noticebot-\w+-data-<AWS::AccountId>-[\w-]+-tx-\*$",
    # the staged base-model weights prefix (model.weights_s3_uri)
    r"^arn:aws:s3:::[\w.<>:-]+/.+\*$",
    r"<StorageTable\w+\.Arn>/index/gsi1$",  # not a wildcard, listed for clarity
]


def statements(template) -> list[tuple[str, dict]]:
    out = []
    for policy_id, policy in resources(template, "AWS::IAM::Policy").items():
        for s in policy["Properties"]["PolicyDocument"]["Statement"]:
            out.append((policy_id, s))
    for role_id, role in resources(template, "AWS::IAM::Role").items():
        for p in role["Properties"].get("Policies", []):
            for s in p["PolicyDocument"]["Statement"]:
                out.append((role_id, s))
    return out


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_app_policies_have_no_wildcard_actions_and_only_named_star_resources(request, stage):
    template = request.getfixturevalue(stage)
    found = statements(template)
    assert found
    for where, s in found:
        assert s["Effect"] == "Allow", where
        actions = as_list(s["Action"])
        assert not [a for a in actions if "*" in a], (where, actions)
        rendered = [render(r) for r in as_list(s["Resource"])]
        if "*" in rendered:
            assert rendered == ["*"], (where, s)
            unscoped = [a for a in actions if a not in STAR_ALLOWED]
            assert not unscoped, f"{where}: Resource '*' for {unscoped}, which can be scoped"
            if "cloudwatch:PutMetricData" in actions:
                assert "cloudwatch:namespace" in json.dumps(s.get("Condition")), where
            continue
        for r in rendered:
            if "*" in r:
                assert any(re.search(p, r) for p in ALLOWED_PATTERNS), (where, r)


def test_the_named_star_cases_are_the_ones_in_use(dev):
    used = {frozenset(as_list(s["Action"])) for _, s in statements(dev)
            if as_list(s["Resource"]) == ["*"]}
    assert used == STAR_REQUIRED
    assert set().union(*used) == set(STAR_ALLOWED)


def test_transcribe_jobs_are_scoped_to_this_stages_job_names(dev, prod):
    for t, stage in ((dev, "dev"), (prod, "prod")):
        grants = [(w, s) for w, s in statements(t)
                  if any(a.startswith("transcribe:") for a in as_list(s["Action"]))]
        assert len(grants) == 2  # the ingest function starts jobs, transcription reads them
        for where, s in grants:
            (resource,) = [render(r) for r in as_list(s["Resource"])]
            assert resource.startswith("arn:aws:transcribe:us-east-1:<AWS::AccountId>:"
                                       f"transcription-job/noticebot-{stage}-data-"), where
            assert resource.endswith("-tx-*"), where


def test_functions_reach_only_their_own_things(dev):
    def doc(prefix):
        policy = [p for k, p in resources(dev, "AWS::IAM::Policy").items() if k.startswith(prefix)]
        assert len(policy) == 1, prefix
        return {s.get("Sid"): s for s in policy[0]["Properties"]["PolicyDocument"]["Statement"]}

    api, ingest, deploy = doc("ApiHandlerRole"), doc("IngestionIngestRole"), doc("DeployRole")
    # Table: item actions only, on the table itself; no Scan (never a sweep across tenants).
    for d in (api, ingest, deploy):
        table = d["TableItems"]
        assert "dynamodb:Scan" not in table["Action"]
        assert render(table["Resource"]).startswith("<StorageTable")
        assert render(d["TableIndexQueries"]["Resource"]).endswith("/index/gsi1")
        assert d["TableIndexQueries"]["Action"] == "dynamodb:Query"
    # Listing (document deletion removes its upload prefix) only under raw upload prefixes.
    assert api["ListRawUploads"]["Condition"] == {"StringLike": {"s3:prefix": ["tenants/*/raw/*"]}}
    assert "ListRawUploads" not in ingest
    # Uploads: the API writes/reads/deletes raw uploads, ingest only reads them.
    assert render(api["WriteRawUploads"]["Resource"]).endswith("/tenants/*/raw/*")
    assert ingest["ReadRawUploads"]["Action"] == "s3:GetObject"
    assert render(ingest["ReadRawUploads"]["Resource"]).endswith("/tenants/*/raw/*")
    # Ingest writes only to its engines' working prefixes, never to uploads.
    for s in ingest.values():
        if "s3:PutObject" in as_list(s["Action"]):
            assert re.search(r"/(textract-staging|transcripts)/\*$", render(s["Resource"])), s
    # The API writes fine-tune datasets (write only); the deploy function touches adapters only.
    assert api["WriteDatasets"]["Action"] == "s3:PutObject"
    assert render(api["WriteDatasets"]["Resource"]).endswith("/tenants/*/datasets/*")
    s3_resources = {render(r) for s in deploy.values() if any(
        a.startswith("s3:") for a in as_list(s["Action"])) for r in as_list(s["Resource"])}
    assert len(s3_resources) == 1 and s3_resources.pop().endswith("/tenants/*/models/*")
    assert "ListRawUploads" not in deploy and "SearchIndex" not in deploy
    # Only the API invokes the model, on this stage's endpoint and components.
    invoke = api["InvokeChatModel"]
    assert [render(r).rsplit(":", 1)[1] for r in invoke["Resource"]] == [
        "endpoint/noticebot-dev-llm", "inference-component/noticebot-dev-llm-*"]
    assert "InvokeChatModel" not in ingest and "InvokeChatModel" not in deploy
    # Only the API launches training jobs (and passes the training role), only to SageMaker.
    assert "TrainingJobs" not in ingest and "TrainingJobs" not in deploy
    assert api["PassTrainingRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert render(api["PassTrainingRole"]["Resource"]).startswith("<TrainingExecutionRole")
    # No function passes any other role (deploying an adapter component needs none).
    passes = [(k, s) for k, p in resources(dev, "AWS::IAM::Policy").items()
              for s in p["Properties"]["PolicyDocument"]["Statement"]
              if "iam:PassRole" in as_list(s["Action"])]
    assert [k for k, _ in passes] == [k for k in resources(dev, "AWS::IAM::Policy")
                                      if k.startswith("ApiHandlerRole")]
    # Only the API approves adapter packages (manual activation), only this stage's versions.
    approve = api["ApproveAdapters"]
    assert approve["Action"] == "sagemaker:UpdateModelPackage"
    assert render(approve["Resource"]).endswith(":model-package/noticebot-dev-adapters/*")
    assert "ApproveAdapters" not in ingest and "ApproveAdapters" not in deploy
    # Ingest consumes only its queue.
    sqs = [s for s in ingest.values() if "sqs:ReceiveMessage" in as_list(s["Action"])]
    assert len(sqs) == 1 and render(sqs[0]["Resource"]).startswith("<IngestionUploads")
    # Logs: each function writes to its own log group only.
    for d, group in ((api, "ApiHandlerLogs"), (ingest, "IngestionIngestLogs"),
                     (deploy, "DeployLogs")):
        assert render(d["OwnLogGroup"]["Resource"]).startswith(f"<{group}")


def test_the_pipeline_has_no_resource_star(pipeline):
    """CDK Pipelines' generated grants on '*' are narrowed: self-mutation describes the
    pipeline and bootstrap stacks and lists the bootstrap bucket; asset publishing starts
    only its own CodeBuild projects."""
    found = statements(pipeline)
    assert found
    for where, s in found:
        assert as_list(s["Resource"]) != ["*"], (where, s)
    by_actions = {frozenset(as_list(s["Action"])): [render(r) for r in as_list(s["Resource"])]
                  for _, s in found}
    mutation = by_actions[frozenset({"cloudformation:DescribeStacks", "s3:ListBucket"})]
    assert sorted(mutation) == sorted([
        "arn:aws:cloudformation:us-east-1:<AWS::AccountId>:stack/noticebot-pipeline/*",
        "arn:aws:cloudformation:us-east-1:<AWS::AccountId>:stack/CDKToolkit/*",
        "arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-us-east-1"])
    builds = by_actions[frozenset({"codebuild:BatchGetBuilds", "codebuild:StartBuild",
                                   "codebuild:StopBuild"})]
    assert builds and all(r.startswith("<PipelineAssetsFileAsset") for r in builds)
