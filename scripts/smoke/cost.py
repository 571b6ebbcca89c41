"""What a real smoke run cost, roughly: the hours its instances ran times the list prices in
cost/prices.json (the table cost/idle_cost.py prices a stage's idle month with).

Counted: the endpoint's instances (the run's whole deployed time: a pessimistic bound, since
with min_copies 0 the instance may scale in between chats), the OpenSearch data nodes (domain
mode; Serverless at its minimum OCUs), and each training job's billable seconds (spot savings
included, as SageMaker reports them). Per-request services (Lambda, API Gateway, DynamoDB,
S3, SQS, Cognito) cost cents in a run of this size and are not counted. A price the table
lacks is reported as not priced, never guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PRICES = Path(__file__).resolve().parents[2] / "cost" / "prices.json"
# SageMaker training list prices are not in cost/prices.json (the idle month has no
# training); a table that adds them under this key gets them priced here.
TRAINING_PRICES = "sagemaker_training_instance_hour"


@dataclass
class Usage:
    deployed_hours: float
    endpoint_instance_type: str
    endpoint_instances: int
    search_mode: str  # "domain" | "serverless"
    search_instance_type: str = ""
    search_instances: int = 0
    search_standby: bool = False
    training: list[tuple[str, float]] = field(default_factory=list)  # (type, billable s)


def load_prices(path: Path = PRICES) -> dict:
    return json.loads(path.read_text())


def estimate(usage: Usage, prices: dict) -> list[str]:
    lines: list[tuple[str, float | None]] = []
    hours = usage.deployed_hours
    rate = prices["sagemaker_hosting_instance_hour"].get(usage.endpoint_instance_type)
    lines.append((f"endpoint {usage.endpoint_instances} x {usage.endpoint_instance_type} x "
                  f"{hours:.2f} h", None if rate is None
                  else usage.endpoint_instances * rate * hours))
    if usage.search_mode == "domain":
        rate = prices["opensearch_instance_hour"].get(usage.search_instance_type)
        lines.append((f"OpenSearch {usage.search_instances} x {usage.search_instance_type} x "
                      f"{hours:.2f} h", None if rate is None
                      else usage.search_instances * rate * hours))
    else:
        ocu = prices["opensearch_serverless_min_ocu"][
            "standby_enabled" if usage.search_standby else "standby_disabled"]
        lines.append((f"OpenSearch Serverless {ocu:g} OCU x {hours:.2f} h",
                      ocu * prices["opensearch_serverless_ocu_hour"] * hours))
    for instance_type, billable_s in usage.training:
        rate = prices.get(TRAINING_PRICES, {}).get(instance_type)
        lines.append((f"training {instance_type} x {billable_s:.0f} billable s",
                      None if rate is None else rate * billable_s / 3600))
    out, total, unpriced = [], 0.0, []
    for what, usd in lines:
        if usd is None:
            unpriced.append(what)
            out.append(f"{what:<60} not priced (no price in cost/prices.json)")
        else:
            total += usd
            out.append(f"{what:<60} {usd:>8.2f} USD")
    out.append(f"{'total (list prices of ' + prices.get('as_of', '?') + ')':<60} "
               f"{total:>8.2f} USD" + (f" + {len(unpriced)} not priced" if unpriced else ""))
    return out
