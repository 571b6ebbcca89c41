"""The conditional UpdateItem expressions that move a document item through its states.

Each is one UpdateItem whose condition carries the whole decision, so two Lambda invocations
racing on one document cannot both win: a transition (``#status IN (...)``, optionally
unchanged since read), the claim that starts an ingest attempt (queued, or processing with a
lease that ran out or is held by the same message) and the requeue of a failed or stuck
document (unchanged since read). Lease ends are ``sortable`` UTC strings, so ``<=`` compares
them in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from noticebot.adapters.aws.dynamodb_items import sortable, ts
from noticebot.domain.models import Document, DocumentStatus, utcnow


@dataclass(frozen=True)
class ConditionalUpdate:
    update: str
    condition: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict = field(default_factory=dict)


def transition(to: DocumentStatus, allowed_from: tuple[DocumentStatus, ...], *,
               error: str | None, chunk_count: int | None, page_count: int | None,
               title: str | None, unchanged_since: datetime | None) -> ConditionalUpdate:
    names = {"#status": "status", "#error": "error", "#updated": "updated_at"}
    values: dict = {":to": to.value, ":now": ts(utcnow())}
    sets = ["#status = :to", "#updated = :now"]
    removes = []
    if error is None:
        removes.append("#error")
    else:
        sets.append("#error = :error")
        values[":error"] = error
    for attr, value in (("chunk_count", chunk_count), ("page_count", page_count)):
        if value is not None:
            names[f"#{attr}"] = attr
            sets.append(f"#{attr} = :{attr}")
            values[f":{attr}"] = int(value)
    if title is not None:
        names["#title"] = "title"
        sets.append("#title = :title")
        values[":title"] = title
    allowed = []
    for n, status in enumerate(allowed_from):
        values[f":from{n}"] = DocumentStatus(status).value
        allowed.append(f":from{n}")
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    condition = f"attribute_exists(pk) AND #status IN ({', '.join(allowed)})"
    if unchanged_since is not None:
        condition += " AND #updated = :seen"
        values[":seen"] = ts(unchanged_since)
    return ConditionalUpdate(update, condition, names, values)


def claim(holder: str, lease_until: datetime, now: datetime) -> ConditionalUpdate:
    return ConditionalUpdate(
        update=("SET #status = :processing, #updated = :now, #lease = :lease, "
                "#holder = :holder, #attempts = if_not_exists(#attempts, :zero) + :one "
                "REMOVE #error"),
        condition=("attribute_exists(pk) AND (#status = :queued OR (#status = :processing AND "
                   "(attribute_not_exists(#lease) OR #lease <= :at OR #holder = :holder)))"),
        names={"#status": "status", "#error": "error", "#updated": "updated_at",
               "#attempts": "attempts", "#lease": "lease_until", "#holder": "lease_holder"},
        values={":processing": DocumentStatus.PROCESSING.value,
                ":queued": DocumentStatus.QUEUED.value, ":now": ts(utcnow()),
                ":lease": sortable(lease_until), ":at": sortable(now), ":holder": holder,
                ":zero": 0, ":one": 1})


def requeue(seen: Document, reset_attempts: bool) -> ConditionalUpdate:
    names = {"#status": "status", "#error": "error", "#updated": "updated_at",
             "#lease": "lease_until", "#holder": "lease_holder"}
    values: dict = {":queued": DocumentStatus.QUEUED.value, ":now": ts(utcnow()),
                    ":seen_status": seen.status.value, ":seen": ts(seen.updated_at)}
    sets = ["#status = :queued", "#updated = :now"]
    if reset_attempts:
        names["#attempts"] = "attempts"
        values[":zero"] = 0
        sets.append("#attempts = :zero")
    return ConditionalUpdate(
        update="SET " + ", ".join(sets) + " REMOVE #error, #lease, #holder",
        condition="attribute_exists(pk) AND #status = :seen_status AND #updated = :seen",
        names=names, values=values)
