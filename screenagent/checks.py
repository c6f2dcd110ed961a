"""What the model loop (`screenagent.agent.iter_steps`) checks after a step: a new error on
the screen after an action (the run's `screenagent.findings.watch.ErrorGuard`), and before a
``done`` is a success, the final screen: the guard's grace period, then the verifier's verdict
(``--verify``: the model is shown the final screenshot and the task). A "no" goes back to the
policy as feedback, a bounded number of times; no usable verdict is ``not checkable``, never a
yes, and after a "no" it leaves that "no" standing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .act import End
from .safety import Safety
from .screen import Screen
from .steplog import StepInfo, StepLog, StepRecord

Verifier = Callable[[str, "str | None", Any], "tuple[bool | None, str]"]
"""``(task, answer, image) -> (verdict, reason)``: the final check of a model's run (verdict
None: no usable answer, so not checkable)."""
Verdict = Literal["confirmed", "no change", "diverged", "not checkable"]
VERIFY_ROUNDS = 2
"""How many times the final check's "no" goes back to the policy before the run fails."""


@dataclass
class LoopChecks:
    """What runs after each step of the loop: the error guard after an action, the final check
    before a ``done`` is a success."""

    guard: Any
    verifier: Verifier | None
    rounds: int
    rejected: int = 0
    said_no: str | None = None
    """The reason of the verifier's last "no": a later answer that is no verdict does not undo
    it (unknown never implies success)."""

    def after(self, task: str, record: StepRecord, end: End | None, *, screen: Screen,
              safety: Safety, log: StepLog | None) -> tuple[End | None, tuple[str, ...]]:  # fmt: skip
        """How the run ends after this step (None: it goes on), and feedback for the next."""
        if end is None and self.guard is not None and record.status == "executed":
            return errors_after(record, self.guard, screen=screen, safety=safety, log=log), ()
        if end is None or end[0] != "success":
            return end, ()
        end, feedback = final_check(
            task, record, end, guard=self.guard, verifier=self.verifier, screen=screen,
            safety=safety, log=log, last_round=self.rejected >= self.rounds, said_no=self.said_no,
        )  # fmt: skip
        if record.step is not None and record.step.verified == "diverged":
            self.said_no = record.step.reason
        self.rejected += bool(feedback)
        return end, feedback


def flicker_warning(finding: Any, frame: str | None) -> str:
    """The warning for an error that showed after an action and was gone half a second later."""
    seen = f" (seen on {frame})" if frame else ""
    return f"an error showed briefly after this step and went: {finding.one_line()}{seen}"


def errors_after(record: StepRecord, guard: Any, *, screen: Screen, safety: Safety,
                  log: StepLog | None) -> End | None:  # fmt: skip
    """After an action: a new error on the screen ends the run (or, with ``--allow-errors``,
    is a warning of the step and joins the baseline)."""
    from .findings.watch import describe

    t = time.perf_counter()
    new, frame = guard.after_action(screen)
    record.timings.check += time.perf_counter() - t
    for finding, seen_on in guard.take_flickers():
        name = log.save_frame(record.index, seen_on, "-flicker") if log is not None else None
        record.warnings.append(safety.redact(flicker_warning(finding, name)))
    if not new:
        return None
    seen = safety.redact(f"an error appeared on the screen after this step: {describe(new)}")
    if log is not None:
        record.after = log.save_frame(record.index, frame, "-after")
    if not guard.fail:
        guard.baseline += new
        record.warnings.append(seen)
        return None
    record.errors.append(seen)
    return ("error_on_screen", seen, None)


def final_check(
    task: str, record: StepRecord, end: End, *, guard: Any, verifier: Verifier | None,
    screen: Screen, safety: Safety, log: StepLog | None, last_round: bool, said_no: str | None = None,
) -> tuple[End | None, tuple[str, ...]]:  # fmt: skip
    """Before a ``done`` is a success: the error guard's grace period on the final screen, then
    the verifier's verdict. Returns how the run ends (None: it goes on) and the feedback for
    the policy's next step."""
    from .findings.watch import describe

    frame = None
    if guard is not None:
        new, frame = guard.final(screen, None if guard.fail else 0.0)
        if new:
            seen = safety.redact(f"an error appeared on the final screen: {describe(new)}")
            if log is not None:
                record.after = log.save_frame(record.index, frame, "-after")
            if guard.fail:
                record.errors.append(seen)
                return ("error_on_screen", seen, None), ()
            record.warnings.append(seen)
    if verifier is None:
        return end, ()
    frame = frame or screen.capture()
    t = time.perf_counter()
    ok, reason = verifier(task, end[2], frame.image)
    record.timings.check += time.perf_counter() - t
    reason = safety.redact(reason)
    if ok is None and said_no is not None:  # no answer now; the last one was no, and stands
        record.warnings.append(f"the final check gave no verdict: {reason}")
        ok, reason = False, said_no
    verdict: Verdict = "not checkable" if ok is None else "confirmed" if ok else "diverged"
    record.step = StepInfo(number=record.index, text="done", verb="done", verified=verdict,
                           result="passed" if ok is not False else "failed", reason=reason)  # fmt: skip
    if ok is None:
        record.warnings.append(f"the final check gave no verdict: {reason}")
        return end, ()
    if ok:
        record.detail = f"the final check: {reason}"
        return end, ()
    message = f"the final check says the task is not done: {reason}"
    record.errors.append(message)
    record.step.message = message
    if last_round:
        return ("failure", message, end[2]), ()
    return None, (f"{message} Go on with the task; answer done only when the screen shows it.",)
