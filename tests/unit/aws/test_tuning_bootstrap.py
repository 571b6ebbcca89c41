from fakes import FakeEmbedder
from noticebot.adapters.aws.clients import AwsClients
from noticebot.adapters.aws.sagemaker_registry import SageMakerModelRegistry
from noticebot.adapters.aws.sagemaker_training import SageMakerTrainingLauncher
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.config import Settings

ENV = {
    "NOTICEBOT_MODE": "aws", "NOTICEBOT_BUCKET": "docs", "NOTICEBOT_TABLE": "t",
    "NOTICEBOT_SEARCH_ENDPOINT": "https://search", "NOTICEBOT_CHAT_ENDPOINT": "nb-dev-llm",
    "NOTICEBOT_CHAT_COMPONENT": "nb-dev-llm-base", "AWS_REGION": "eu-west-1",
    "NOTICEBOT_TRAINING_ROLE_ARN": "arn:aws:iam::1:role/train",
    "NOTICEBOT_TRAINING_JOB_PREFIX": "nb-dev-ft-", "NOTICEBOT_TRAINING_INSTANCE_TYPE": "ml.g6.2xlarge",
    "NOTICEBOT_TRAINING_SOURCE": "s3://docs/code/sourcedir.tar.gz", "NOTICEBOT_TRAINING_SPOT": "false",
    "NOTICEBOT_TRAINING_MAX_RUNTIME_S": "1800", "NOTICEBOT_MODEL_PACKAGE_GROUP": "nb-dev-adapters",
    "NOTICEBOT_ADAPTER_IMAGE": "lmi:1", "NOTICEBOT_BASE_MODEL_S3": "s3://weights/llama3/",
}


def test_training_settings_and_aws_wiring_build_no_client(monkeypatch):
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    assert (settings.training_job_prefix, settings.training_instance_type, settings.training_spot,
            settings.training_max_runtime_s) == ("nb-dev-ft-", "ml.g6.2xlarge", False, 1800)
    clients = AwsClients("eu-west-1")
    c = bootstrap_aws(settings, clients=clients, embedder=FakeEmbedder())
    assert isinstance(c.launcher, SageMakerTrainingLauncher)
    assert c.launcher.image_uri == ("763104351884.dkr.ecr.eu-west-1.amazonaws.com/"
                                    f"pytorch-training:{settings.training_image_tag}")
    assert (c.launcher.role_arn, c.launcher.instance_type, c.launcher.spot) == (
        "arn:aws:iam::1:role/train", "ml.g6.2xlarge", False)
    assert isinstance(c.registry, SageMakerModelRegistry)
    assert (c.registry.group_name, c.registry.endpoint_name, c.registry.base_component) == (
        "nb-dev-adapters", "nb-dev-llm", "nb-dev-llm-base")
    assert c.finetune.launcher is c.launcher and c.models.registry is c.registry
    assert clients.created == []  # nothing touched AWS at cold start
