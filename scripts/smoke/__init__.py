"""The AWS smoke test's parts (scripts/smoke_aws.py): shared steps over the product's HTTP API,
the moto sandbox the dry run provisions, and the real account's deploy and teardown."""
