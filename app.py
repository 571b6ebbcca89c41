#!/usr/bin/env python3
"""The CDK app: every AWS resource of noticebot, configured from cdk.json (context `noticebot`).

    npx cdk synth                              the release pipeline, with the dev and prod stages
                                               inside it (nested assemblies)
    npx cdk deploy noticebot-pipeline          create/update the pipeline (it deploys the stages)
    npx cdk deploy -c stage=dev 'noticebot-dev/*'
                                               deploy one stage directly, without the pipeline
                                               (same stack name as the pipeline's: noticebot-dev-app)

cdk.json's "app" command builds the Lambda bundles first (cached). cdk-nag's AwsSolutions checks
run on every synth: an unacknowledged finding fails it (`-c noticebot:nag=false` turns them off).
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk.config import NAG_CONTEXT_KEY, STAGE_CONTEXT_KEY, load_config
from cdk.nag import add_checks
from cdk.stacks.app_stack import NoticebotStage
from cdk.stacks.pipeline_stack import PipelineStack


def build(app: cdk.App) -> cdk.App:
    config = load_config(app)  # the one read of the configuration
    stage_name = app.node.try_get_context(STAGE_CONTEXT_KEY)
    if stage_name:
        NoticebotStage(app, f"{config.project}-{stage_name}", config=config.stage(stage_name),
                       assets_root=config.lambda_assets)
    else:
        PipelineStack(app, f"{config.project}-pipeline", config=config,
                      assets_root=config.lambda_assets)
    if str(app.node.try_get_context(NAG_CONTEXT_KEY)).lower() != "false":
        add_checks(app)
    return app


if __name__ == "__main__":
    build(cdk.App()).synth()
