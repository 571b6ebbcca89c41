"""Timed steps and the run's report: a table of step, seconds, result, then what stood in
for AWS (dry run) or what the run cost (real account)."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

PASSED, FAILED, SKIPPED = "passed", "FAILED", "skipped"


class StepFailed(Exception):
    """A step's check did not hold; the message says what was expected and what came."""


class CannotStart(Exception):
    """The run lacks something it needs (credentials, a setting, a ready account); nothing
    was deployed."""


@dataclass
class StepResult:
    name: str
    status: str
    seconds: float
    detail: str


@dataclass
class Run:
    """Runs steps in order; after the first failure the rest are reported as skipped (each
    step needs what the one before it made)."""
    results: list[StepResult] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    @property
    def failed(self) -> StepResult | None:
        return next((r for r in self.results if r.status == FAILED), None)

    def step(self, name: str, action: Callable[[], str]) -> None:
        if self.failed is not None:
            self.results.append(StepResult(name, SKIPPED, 0.0, "an earlier step failed"))
            return
        started = self.clock()
        try:
            detail, status = action(), PASSED
        except StepFailed as exc:
            detail, status = str(exc), FAILED
        except Exception as exc:  # noqa: BLE001 - any error fails the step, named
            detail, status = f"{type(exc).__name__}: {exc}", FAILED
            traceback.print_exc()
        self.results.append(StepResult(name, status, self.clock() - started, detail))


def table(results: list[StepResult]) -> str:
    rows = [("step", "seconds", "result", "detail")] + [
        (r.name, f"{r.seconds:.1f}", r.status, r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip()
                     for a, b, c, d in rows)


def render(results: list[StepResult], *, substitutions: list[str] = (),
           cost: list[str] = ()) -> str:
    out = [table(results), ""]
    total = sum(r.seconds for r in results)
    failed = next((r for r in results if r.status == FAILED), None)
    out.append(f"{len(results)} steps, {total:.1f} s: "
               + (f"FAILED at '{failed.name}': {failed.detail}" if failed else "all passed"))
    if substitutions:
        out += ["", "substituted (moto has no such part, or none that runs here):"]
        out += [f"  - {s}" for s in substitutions]
    if cost:
        out += ["", "cost estimate:"] + [f"  {line}" for line in cost]
    return "\n".join(out)
