import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "tests"))

# Every test run is offline and credential-free.
for key, value in {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "HF_HUB_OFFLINE": "1",
}.items():
    os.environ.setdefault(key, value)


# The three callers most API tests need; claims shaped like the Cognito authorizer's.
import pytest  # noqa: E402


@pytest.fixture
def editor():
    from apiclient import claims_for

    return claims_for("maria", "riverside", editor=True)


@pytest.fixture
def member():
    from apiclient import claims_for

    return claims_for("sam", "riverside")


@pytest.fixture
def outsider():
    from apiclient import claims_for

    return claims_for("eve", "other-club", editor=True)
