"""SageMaker Deep Learning Container image URIs, resolved per region without the SageMaker SDK.

The registry accounts come from the SageMaker Python SDK's image_uri_config (djl-lmi.json and
huggingface-llm.json in sagemaker-core 2.27; the two tables agree for every region listed here).
`sagemaker.core.image_uris.retrieve` returns the same URIs, but the SDK is ~0.6 GB and does not
belong in the infrastructure's dependencies; tests/cdk/test_config.py pins a few known URIs.
"""

from __future__ import annotations

# Region -> the account that hosts the AWS Deep Learning Containers there.
DLC_ACCOUNTS = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-east-2": "975050140332",
    "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884",
    "ap-northeast-3": "364406365360",
    "ap-south-1": "763104351884",
    "ap-south-2": "772153158452",
    "ap-southeast-1": "763104351884",
    "ap-southeast-2": "763104351884",
    "ap-southeast-3": "907027046896",
    "ap-southeast-4": "457447274322",
    "ap-southeast-5": "550225433462",
    "ap-southeast-6": "633930458069",
    "ap-southeast-7": "590183813437",
    "ca-central-1": "763104351884",
    "ca-west-1": "204538143572",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
    "eu-central-1": "763104351884",
    "eu-central-2": "380420809688",
    "eu-north-1": "763104351884",
    "eu-south-1": "692866216735",
    "eu-south-2": "503227376785",
    "eu-west-1": "763104351884",
    "eu-west-2": "763104351884",
    "eu-west-3": "763104351884",
    "il-central-1": "780543022126",
    "me-central-1": "914824155844",
    "me-south-1": "217643126080",
    "mx-central-1": "637423239942",
    "sa-east-1": "763104351884",
    "us-east-1": "763104351884",
    "us-east-2": "763104351884",
    "us-gov-east-1": "446045086412",
    "us-gov-west-1": "442386744353",
    "us-west-1": "763104351884",
    "us-west-2": "763104351884",
}

# Container -> ECR repository. Tags are config (ModelConfig.image_tag), e.g.
#   lmi: 0.31.0-lmi13.0.0-cu124   (DJL LMI with vLLM; adapter inference components, LoRA)
#   tgi: 2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04
REPOSITORIES = {
    "lmi": "djl-inference",
    "tgi": "huggingface-pytorch-tgi-inference",
}


class UnknownRegion(ValueError):
    pass


def dlc_account(region: str) -> str:
    try:
        return DLC_ACCOUNTS[region]
    except KeyError:
        raise UnknownRegion(
            f"no Deep Learning Container registry known for {region}; set model.image_uri "
            f"in cdk.json or add the region to cdk/images.py") from None


def ecr_domain(region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"dkr.ecr.{region}.{suffix}"


def image_uri(container: str, tag: str, region: str) -> str:
    """The DLC image for a container kind in a region, e.g. the LMI image in us-east-1."""
    if container not in REPOSITORIES:
        raise ValueError(f"unknown container {container!r}; known: {sorted(REPOSITORIES)}")
    return f"{dlc_account(region)}.{ecr_domain(region)}/{REPOSITORIES[container]}:{tag}"


def training_image_uri(training, region: str) -> str:
    """The image training jobs run: training.image_uri, else the region's DLC of
    training.image_repository:image_tag (a TrainingConfig; plain Python for the preflight)."""
    if training.image_uri:
        return training.image_uri
    return f"{dlc_account(region)}.{ecr_domain(region)}/{training.image_repository}:" \
           f"{training.image_tag}"


def repository_arn(repository: str, region: str, partition: str = "aws") -> str:
    """The ARN of a DLC repository, for scoping ecr:BatchGetImage to it."""
    return f"arn:{partition}:ecr:{region}:{dlc_account(region)}:repository/{repository}"


def parse_image_uri(uri: str) -> tuple[str, str, str]:
    """(account, region, repository) of an ECR image URI."""
    host, _, rest = uri.partition("/")
    account, _dkr, _ecr, region = host.split(".")[:4]
    repository = rest.rsplit(":", 1)[0].split("@", 1)[0]
    return account, region, repository
