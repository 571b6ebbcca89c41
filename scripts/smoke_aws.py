#!/usr/bin/env python3
"""The AWS smoke test: upload -> ingest -> search -> chat -> fine-tune -> adapter -> chat with
the adapter, through the product's HTTP API with a Cognito ID token, each step timed.

    .venv/bin/python scripts/smoke_aws.py --target moto        # make smoke-aws-dryrun
    .venv/bin/python scripts/smoke_aws.py --target real --stage dev [--profile NAME] [--keep]
                                                               # make smoke-aws

``--target real`` stages a small ungated LLaMA-architecture model's weights in S3
(HuggingFaceTB/SmolLM2-135M-Instruct), deploys the stage with its model pointed at them,
creates a smoke editor in the stage's user pool, runs the steps against the deployed API,
prints timings and a cost estimate, then removes what the run made and destroys the stack
(``--keep`` leaves the stack). See cdk/README.md, "Smoke test in a sandbox account".

``--target moto`` runs the same steps against the real handlers in aws mode with moto's
server on 127.0.0.1 as AWS; what stands in for the AWS parts moto lacks is printed with the
report (scripts/smoke/moto_target.py, ``SUBSTITUTIONS``):

  - OpenSearch: the local EmbeddedHybridIndex is the VectorIndex
  - Lambda Invoke of the embed function: its real handler, in process
  - the SQS event source mapping: a poller thread (ReportBatchItemFailures)
  - API Gateway + Cognito authorizer: the product's LocalApiGateway on 127.0.0.1, ID tokens
    verified against the pool's JWKS; POST /api/chat to the chat function, answered whole
  - SageMaker training: moto completes jobs at once; the run writes train.py's model.tar.gz
    and delivers the EventBridge state-change event to the deploy handler
  - CreateInferenceComponent: a stand-in validating against botocore's API model
  - the endpoint's answers: moto's endpoint-results queue
  - instance types: ml.m5.xlarge (moto's lists predate ml.g5)

Exit status: 0 every step passed; 1 a step failed (the report names it); 2 the run could not
start (missing credentials or settings; nothing was deployed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "lambdas", ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from smoke.report import FAILED, CannotStart, Run, StepFailed, render  # noqa: E402

DEFAULT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=("real", "moto"), required=True,
                    help="real: deploy to the credentials' account; moto: the dry run here")
    ap.add_argument("--stage", default="dev", help="the cdk.json stage to deploy (real)")
    ap.add_argument("--profile", help="an AWS CLI profile (real; default: the environment's)")
    ap.add_argument("--region", help="override the stage's region (real)")
    ap.add_argument("--model-id", default=DEFAULT_MODEL,
                    help="an ungated Hugging Face model of the LLaMA architecture (real)")
    ap.add_argument("--weights-dir", type=Path,
                    help="the model's Hugging Face folder on this machine (real; default: "
                         "downloaded from the hub)")
    ap.add_argument("--weights-s3-uri",
                    help="already staged weights, s3://bucket/prefix/ (real; skips staging)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the stack deployed (real); the smoke user is removed anyway")
    args = ap.parse_args(argv)
    if args.target == "moto":
        given = [f"--{n.replace('_', '-')}" for n in ("profile", "region", "weights_dir",
                                                      "weights_s3_uri") if getattr(args, n)]
        if given or args.keep:
            ap.error(f"{', '.join(given + (['--keep'] if args.keep else []))} only apply to "
                     "--target real")
    if args.weights_s3_uri and not (args.weights_s3_uri.startswith("s3://")
                                    and args.weights_s3_uri.endswith("/")):
        ap.error("--weights-s3-uri must look like s3://bucket/prefix/ (ending in /)")
    return args


def run_steps(target) -> Run:
    from smoke.steps import SmokeSteps

    run = SmokeSteps(target).run(Run())
    for name, check in getattr(target, "checks", list)():
        run.step(f"check: {name}", check)
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.target == "moto":
            from smoke.moto_target import MotoTarget

            with MotoTarget() as target:
                run = run_steps(target)
                print(render(run.results, substitutions=target.substitutions))
        else:
            from smoke.real_target import RealTarget

            with RealTarget.from_args(args, ROOT) as target:
                run = run_steps(target)
            # Printed after the teardown, so the estimate covers the whole time deployed.
            print(render(run.results, cost=target.cost()))
            for line in target.left_behind:
                print(f"LEFT BEHIND (remove by hand): {line}", file=sys.stderr)
    except CannotStart as exc:
        print(f"smoke-aws cannot start: {exc}", file=sys.stderr)
        return 2
    except StepFailed as exc:  # set-up (deploy, sign-in) failed before the steps
        print(f"smoke-aws failed before the steps: {exc}", file=sys.stderr)
        return 1
    return 1 if any(r.status == FAILED for r in run.results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
