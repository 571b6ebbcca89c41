"""Each composition root wires membership to its identity provider: Cognito on AWS (only with
a user pool configured, its client built on first use), local password accounts locally."""

import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.adapters.aws.clients import AwsClients
from noticebot.adapters.aws.cognito_directory import CognitoDirectory
from noticebot.adapters.local.local_accounts import LocalAccounts
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.bootstrap_local import bootstrap_local
from noticebot.config import Settings

AWS = {"NOTICEBOT_MODE": "aws", "NOTICEBOT_BUCKET": "docs", "NOTICEBOT_TABLE": "noticebot",
       "NOTICEBOT_SEARCH_ENDPOINT": "https://search.example", "AWS_REGION": "eu-west-1"}


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in AWS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("NOTICEBOT_USER_POOL_ID", raising=False)
    return monkeypatch


def test_the_user_pool_makes_cognito_the_directory_without_building_a_client(aws_env):
    aws_env.setenv("NOTICEBOT_USER_POOL_ID", "eu-west-1_Pool1")
    clients = AwsClients("eu-west-1")
    c = bootstrap_aws(Settings.from_env(), clients=clients, embedder=FakeEmbedder(),
                      chat_model=FakeChatModel())
    assert isinstance(c.directory, CognitoDirectory) and c.directory.user_pool_id == "eu-west-1_Pool1"
    assert c.members.directory is c.directory and c.accounts.directory is c.directory
    assert clients.created == []
    assert c.directory.client is clients.get("cognito-idp")


def test_without_a_user_pool_membership_works_and_invitations_have_no_directory(aws_env):
    c = bootstrap_aws(Settings.from_env(), embedder=FakeEmbedder(), chat_model=FakeChatModel())
    assert c.directory is None and c.members is not None and c.members.directory is None


def test_locally_the_directory_is_the_password_accounts_sharing_the_token_authority(tmp_path):
    c = bootstrap_local(Settings(data_dir=tmp_path), embedder=FakeEmbedder(),
                        chat_model=FakeChatModel(), index=FakeVectorIndex())
    assert isinstance(c.directory, LocalAccounts) and c.directory.passwords
    assert c.directory.authority is c.auth and c.auth.revocations is not None
    assert (tmp_path / "accounts.sqlite3").exists()
