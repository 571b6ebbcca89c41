"""AWS adapters: S3, DynamoDB, OpenSearch (SigV4) and SageMaker runtime.

Why a separate package: only ``noticebot.bootstrap_aws`` imports it, so the local
stack never pays for boto3 and the domain / services never see an AWS SDK. Every
adapter takes its client lazily (a client or a zero-argument factory), so building
the container on a cold start creates no client until a request needs one.
"""
