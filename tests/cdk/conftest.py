"""Fixtures for the infrastructure tests: the app is synthesized ONCE per test session.

The app is built exactly as `cdk synth` builds it (app.build with the cdk.json context, so the
feature flags match a real synth), with cdk-nag's AwsSolutions checks on, except that the Lambda
code is a tiny placeholder folder (context noticebot:lambda-assets=placeholder) so the tests need
no bundle build. The default app is the release pipeline, which contains the dev and prod stages:
one synth covers all three templates.
"""

from __future__ import annotations

import pytest

pytest.importorskip("aws_cdk", reason="pip install -r requirements-cdk.txt")

from aws_cdk import assertions  # noqa: E402
from cdk_testlib import Synth, make_app, synthesize  # noqa: E402

from cdk.config import load_config  # noqa: E402


@pytest.fixture(scope="session")
def synth() -> Synth:
    return synthesize(make_app())


@pytest.fixture(scope="session")
def config():
    return load_config(make_app())


@pytest.fixture(scope="session")
def dev(synth) -> assertions.Template:
    assert synth.assembly is not None, synth.error
    return assertions.Template.from_json(synth.template("dev"))


@pytest.fixture(scope="session")
def prod(synth) -> assertions.Template:
    assert synth.assembly is not None, synth.error
    return assertions.Template.from_json(synth.template("prod"))


@pytest.fixture(scope="session")
def pipeline(synth) -> assertions.Template:
    assert synth.assembly is not None, synth.error
    return assertions.Template.from_json(synth.pipeline_template())
