"""The one way a validated action reaches the screen, for the model loop
(`screenagent.agent`) and the step runner (`screenagent.steps.runner`): the confirmation hook,
the executor, then the wait for the screen to settle."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .actions import Action, Wait, action_to_json
from .executor import Executor, Outcome, screen_points
from .geometry import Frame
from .safety import Safety
from .screen import Screen, SettleConfig, wait_until_settled
from .steplog import SettleInfo, StepRecord

End = tuple[str, str | None, str | None]
"""(run status, message, answer) when the run ends at this action."""


@dataclass(frozen=True, kw_only=True)
class LoopSettings:
    """How the loop waits.

    Attributes:
        settle: The wait for the screen to stop changing after each action.
        settle_after_wait: Also settle after an explicit ``wait`` action.
    """

    settle: SettleConfig = field(default_factory=SettleConfig)
    settle_after_wait: bool = False


def actuate(
    record: StepRecord,
    action: Action,
    frame: Frame,
    *,
    screen: Screen,
    executor: Executor,
    safety: Safety,
    settings: LoopSettings,
) -> tuple[End | None, Frame | None]:
    """The one way a validated action reaches the screen, for the loop and the step runner:
    the confirmation hook, the executor, then the settle wait. Fills ``record`` (status,
    screen points, timings, settle) and returns (status, message, answer) if the run ends
    here, and the settled frame (None when no settle wait ran)."""
    step = record.index
    record.action = safety.redact.scrub(action_to_json(action))
    if safety.confirm is not None:
        verdict = safety.confirm(step, action, screen_points(action, frame))
        if verdict == "quit":
            record.status = "skipped"
            record.detail = "the user stopped the run at the confirmation"
            return ("aborted", "stopped at the confirmation prompt", None), None
        if verdict == "skip":
            record.status = "skipped"
            record.detail = "the user skipped this action at the confirmation"
            return None, None

    t = time.perf_counter()
    outcome: Outcome = executor.execute(action, frame)
    record.timings.execute = time.perf_counter() - t
    record.screen_points = list(outcome.screen_points)
    record.detail = outcome.detail
    if not outcome.ok:
        record.status = "failed"
        record.errors = [outcome.error or "the executor failed"]
        return ("error", f"step {step}: {record.errors[0]}", None), None
    record.status = "dry_run" if outcome.status == "dry_run" else "executed"

    if not _should_settle(action, outcome, settings):
        return None, None
    settled = wait_until_settled(screen, before=frame, config=settings.settle)
    record.timings.settle = settled.seconds
    record.settle = SettleInfo(
        seconds=settled.seconds,
        settled=settled.settled,
        frames=settled.frames,
        changed=settled.changed,
        first_change=settled.first_change,
    )
    if not settled.settled:
        record.warnings.append(
            f"the screen was still changing after {settled.seconds:.1f} s; went on"
        )
    return None, settled.last


def _should_settle(action: Action, outcome: Outcome, settings: LoopSettings) -> bool:
    if outcome.status == "dry_run":
        return False
    return not (isinstance(action, Wait) and not settings.settle_after_wait)
