"""The one runner of steps: ground, wait, act through the one action path, check, record.

Every step, whether from task text, a YAML test, a `Session` method or an MCP tool, runs here:

- actions wait for their target (polling newer frames), let the screen settle, locate again on
  the newest frame and act once; only locating is retried, never the action;
- each action passes validation (schema, frame bounds) and Safety (budgets, confirmation,
  secrets) and is executed by `screenagent.agent.actuate`, the same code the model loop uses,
  then lands in the step log as a `StepRecord` carrying its typed `StepInfo`;
- waits and assertions poll on a backing-off schedule until their deadline, and write one
  ``checked`` (or ``failed``) record with the frame they concluded on.

The grounding chain is: the grounding cache (action targets only, validated against the
pixels), the grounder (the accessibility tree, then OCR and image matching), then a grounding
model (action targets only: a model always answers a point, so it cannot say whether something
is there; a role-qualified target reaches it in words, ``the 'Save' button``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from ..act import LoopSettings, actuate
from ..actions import Action
from ..errors import InvalidOutput
from ..executor import Executor
from ..geometry import Frame
from ..grounding import Grounding, GroundingError, TargetNotFound
from ..grounding.roles import in_words
from ..grounding.waiting import wait_for
from ..safety import Safety
from ..screen import Screen, SettleConfig
from ..steplog import GroundingRecord, StepInfo, StepLog, StepRecord, Timings, utc_now
from .failures import Fail, RunStopped, StepFailed
from .kinds import DISPATCH
from .model import DEFAULT_TIMEOUTS, StepSpec

BEFORE_ACTION_SETTLE = SettleConfig(quiet_seconds=0.06, cap_seconds=2.0)
"""The settle wait between finding a target and acting on it (act on a still screen)."""
POLL_DELAYS = (0.25, 0.5, 1.0, 2.0)
"""Seconds between looks while an assertion polls (the last repeats): grounding costs."""
WAIT_POLL = 0.1
"""Seconds between looks while an action waits for its target."""


def expected_error(steps: Sequence[StepSpec], i: int) -> str | None:
    """The text of the error that the step after ``steps[i]`` expects (``expect_error``), if
    it does: step i may cause it without failing."""
    nxt = steps[i + 1] if i + 1 < len(steps) else None
    return getattr(nxt, "text", None) if nxt is not None and nxt.verb == "expect_error" else None


class Locator(Protocol):
    def locate(self, target: str, image: Image.Image) -> Grounding: ...


class Judge(Protocol):
    """Judges a statement about the screen (``expect:``); a VLM in practice."""

    def judge(self, statement: str, image: Image.Image) -> tuple[bool, str]: ...


@dataclass
class Timeouts:
    """Seconds per kind of step (already scaled): actions wait for their target, assertions
    poll, optional steps give up, explicit waits wait."""

    action: float = DEFAULT_TIMEOUTS["action"]
    expect: float = DEFAULT_TIMEOUTS["expect"]
    optional: float = DEFAULT_TIMEOUTS["optional"]
    wait: float = DEFAULT_TIMEOUTS["wait"]

    def scaled(self, factor: float) -> Timeouts:
        return Timeouts(action=self.action * factor, expect=self.expect * factor,
                        optional=self.optional * factor, wait=self.wait * factor)  # fmt: skip

    def of(self, step: StepSpec) -> float:
        if step.timeout is not None:
            return step.timeout
        return float(getattr(self, "optional" if step.optional else step.kind))


@dataclass
class StepRunner:
    """Runs steps on one screen (see the module docstring).

    Args:
        screen: Where frames come from.
        executor: What performs actions (pyautogui, or a dry run).
        grounder: OCR/image grounding (`screenagent.grounding.Grounder`).
        safety: Validation, budgets, confirmation and secrets.
        log: The run's step log (None: records are kept in memory only).
        settings: The settle wait after actions (the loop's settings).
        model: A grounding model for action targets the grounder cannot find.
        judge: A VLM judge for ``expect`` statements.
        cache: A grounding cache for action targets.
        timeouts: Seconds per kind of step.
        on_record: Sees each record as it is written (progress output).
        display: The X display (for window lists in ``expect_no_errors``).
    """

    screen: Screen
    executor: Executor
    grounder: Any
    safety: Safety = field(default_factory=Safety)
    log: StepLog | None = None
    settings: LoopSettings = field(default_factory=LoopSettings)
    model: Locator | None = None
    judge: Judge | None = None
    cache: Any = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    on_record: Callable[[StepRecord], None] | None = None
    display: str | None = None
    phase: str = "run"
    verify: bool = True
    """Read effects back (typed text, toggled states); False: trust that actions worked."""
    errors: Any = None
    """The error guard (`screenagent.findings.watch.ErrorGuard`): a new error on the screen
    after an action fails that step and stops the run (``error_on_screen``). None: off."""
    typed: list[tuple[Any, str]] = field(default_factory=list)
    """(field box, text) of each field this run typed into and read back: a wait or an
    assertion never takes the run's own typing as evidence."""
    records: list[StepRecord] = field(default_factory=list)
    steps: list[StepInfo] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _errors: Any = None

    @property
    def grounder_id(self) -> str:
        """The cache's name for the grounding chain in use."""
        return "ocr" + (f"+{getattr(self.model, 'name', 'model')}" if self.model else "")

    @property
    def soft_failures(self) -> list[StepInfo]:
        return [s for s in self.steps if s.result == "soft-failed"]

    # -- running one step ----------------------------------------------------------------------

    def run(self, step: StepSpec, *, expecting: str | None = None) -> StepInfo:
        """Run one step; returns its info (result passed, soft-failed or skipped) or raises
        StepFailed (a hard failure) or RunStopped (the run must end). ``expecting``: the text
        of an error the next step expects (``expect_error``), which this step may cause."""
        info = StepInfo(number=len(self.steps) + 1, text=step.source or step.label(),
                        verb=step.verb, phase=self.phase, line=step.line or None,
                        target=next(iter(step.targets()), None))  # fmt: skip
        self.steps.append(info)
        if self.errors is not None and not self.errors.started:
            self.errors.start(self.screen.capture())  # the baseline: errors already there
        if expecting and self.errors is not None:
            self.errors.allow(expecting)
        timeout = self.timeouts.of(step)
        acted = len(self.records)
        try:
            DISPATCH[type(step)](self, step, info, timeout)
            if self.errors is not None and any(r.action for r in self.records[acted:]):
                self._errors_after(info)
        except Fail as exc:
            info.result = "skipped" if step.optional else "soft-failed" if step.soft else "failed"
            frame = exc.frame or self.screen.capture()
            record = self._record(frame, info, status="failed")
            info.message = f"step {info.number} `{info.text}` failed: {exc}" + (
                f" Screenshot: {self.log.path / record.frame}." if self.log and record.frame else ""
            )
            record.errors = [self.safety.redact(info.message)]
            self._write(record)
            if info.result == "failed":
                raise StepFailed(info) from None
            return info
        info.result = "passed"
        return info

    def _errors_after(self, info: StepInfo) -> None:
        """After a step that acted: a new error on the screen fails it and stops the run."""
        from ..checks import flicker_warning
        from ..findings.watch import describe

        new, frame = self.errors.after_action(self.screen)
        for finding, seen_on in self.errors.take_flickers():
            record = self._record(seen_on, info, status="checked")
            record.step = info
            record.warnings = [self.safety.redact(flicker_warning(finding, record.frame))]
            self._write(record)
        if not new:
            return
        seen = self.safety.redact(f"an error appeared on the screen after this step: {describe(new)}")
        info.findings = [f.model_dump() for f in new]
        if not self.errors.fail:  # --allow-errors: in the log, and the run goes on
            self.errors.baseline += new
            record = self._record(frame, info, status="checked")
            record.step = info
            record.warnings = [seen]
            self._write(record)
            return
        info.result = "failed"
        record = self._record(frame, info, status="error")
        info.message = f"step {info.number} `{info.text}` failed: {seen}" + (
            f" Screenshot: {self.log.path / record.frame}." if self.log and record.frame else ""
        )
        record.step = info
        record.errors = [seen]
        self._write(record)
        raise RunStopped("error_on_screen", info.message)

    def final_check(self) -> None:
        """Before a run is a success: watch the final screen for the guard's grace period; a new
        error fails the run (``error_on_screen``) on a record of its own."""
        if self.errors is None or not self.errors.started:
            return
        from ..findings.watch import describe

        new, frame = self.errors.final(self.screen, None if self.errors.fail else 0.0)
        if not new:
            return
        info = StepInfo(number=len(self.steps) + 1, text="the final screen (watched for errors)",
                        verb="final_check", phase=self.phase)  # fmt: skip
        self.steps.append(info)
        message = self.safety.redact(f"an error appeared on the final screen: {describe(new)}")
        info.findings = [f.model_dump() for f in new]
        if not self.errors.fail:
            record = self._record(frame, info, status="checked")
            record.step, record.warnings = info, [message]
            self._write(record)
            return
        info.result, info.message = "failed", message
        record = self._record(frame, info, status="error")
        record.step = info
        record.errors = [message]
        self._write(record)
        raise RunStopped("error_on_screen", message)

    # -- records -------------------------------------------------------------------------------

    def _record(self, frame: Frame, info: StepInfo, *, status: str) -> StepRecord:
        """A new record (the next index) with its frame; checks the step and time budgets."""
        index = len(self.records) + 1
        limits = self.safety.limits
        if index > limits.max_steps:
            raise RunStopped("max_steps", f"stopped after {limits.max_steps} steps")
        if time.monotonic() - self.started > limits.max_seconds:
            raise RunStopped("timeout", f"stopped at the time budget of {limits.max_seconds:g} s")
        record = StepRecord(index=index, started_at=utc_now(), status=status,  # type: ignore[arg-type]
                            frame_size=(frame.width, frame.height), timings=Timings(),
                            raw=self.safety.redact(info.text), thought=self.safety.redact(info.text))  # fmt: skip
        if self.log is not None:
            record.frame = self.log.save_frame(index, frame)
        self.records.append(record)
        return record

    def _write(self, record: StepRecord) -> None:
        info = record.step
        if info is not None:
            record.step = info.model_copy(deep=True)  # the info as it was at this record
        if self.log is not None:
            self.log.append(record)
        if self.on_record is not None:
            self.on_record(record)

    def _checked(self, info: StepInfo, frame: Frame) -> None:
        record = self._record(frame, info, status="checked")
        record.step = info
        info.result = "passed"
        self._write(record)

    # -- locating ------------------------------------------------------------------------------

    def ground(self, target: str, image: Image.Image, *, use_cache: bool = True,
               use_model: bool = True) -> Grounding:  # fmt: skip
        """The grounding chain on one image: cache (validated), grounder, model."""
        cache = self.cache if use_cache else None
        if cache is not None:
            check = cache.lookup(target, self.grounder_id, image)
            if check.grounding is not None:
                return check.grounding
        try:
            g: Grounding = self.grounder.locate(target, image)
        except GroundingError:
            if self.model is None or not use_model:
                raise
            try:
                g = self.model.locate(in_words(target), image)
            except InvalidOutput as exc:
                raise TargetNotFound(
                    f"the model's answer for {target!r} was unusable: {exc} (raw: {exc.raw[:200]!r})",
                    target=target,
                ) from None
        if cache is not None:
            cache.store(self.grounder_id, image, g)
        return g

    def _by(self, target: str) -> str:
        """The grounder's name for messages (image targets are found by template matching)."""
        return "image matching" if target.startswith("image:") else self.grounder_id

    def locate(self, info: StepInfo, target: str, timeout: float) -> tuple[Grounding, Frame]:
        """Wait for the target, let the screen settle, locate it again on the newest frame."""
        found, frame, meta = wait_for(
            lambda image: self.ground(target, image), self.screen, self.screen.capture(),
            timeout=timeout, poll=WAIT_POLL, settle=BEFORE_ACTION_SETTLE,
        )  # fmt: skip
        settle = float(meta.get("settle", 0.0))
        info.looks += int(meta.get("looks", 0))
        info.waited += float(meta.get("waited", 0.0)) - settle  # the settle wait is its own
        info.settle += settle
        if found is None:
            best = list(meta.get("candidates") or [])
            info.candidates = best
            why = str(meta.get("error") or "not found")
            raise Fail(
                f"target {target!r} not found by {self._by(target)} within {timeout:g} s. {why}"
                + (f" Best candidate: {best[0]}." if best and best[0] not in why else ""),
                frame,
            )
        return found, frame

    def _grounded(self, info: StepInfo, target: str, timeout: float) -> tuple[Grounding, Frame]:
        g, frame = self.locate(info, target, timeout)
        info.grounding = GroundingRecord.of(g)
        return g, frame

    # -- acting --------------------------------------------------------------------------------

    def act(self, info: StepInfo, actions: list[Action], frame: Frame) -> None:
        """Each action through validation, Safety and `actuate`, one record each."""
        settled: Frame | None = None
        for action in actions:
            record = self._record(frame, info, status="invalid")
            record.step = info
            valid, errors = self.safety.validate(action, frame)
            if valid is None:
                record.errors = errors
                self._write(record)
                raise Fail(f"{action.action} is not allowed here: {'; '.join(errors)}", frame)
            end, settled = actuate(record, valid, frame, screen=self.screen, executor=self.executor,
                                   safety=self.safety, settings=self.settings)  # fmt: skip
            info.settle += record.timings.settle
            if action is actions[-1] and settled is not None and self.log is not None:
                record.after = self.log.save_frame(record.index, settled, "-after")
            self._write(record)
            if end is not None:
                status, message, _ = end
                if status == "aborted":
                    raise RunStopped(status, message or "stopped")
                raise Fail(f"{action.action} could not be performed: {record.errors[0]}", frame)

    def poll(self, timeout: float, check: Callable[[Frame], str | None],
             info: StepInfo) -> tuple[Frame, str | None]:  # fmt: skip
        """Call ``check`` on newer frames until it returns None (passed) or the deadline."""
        start = time.monotonic()
        delays = list(POLL_DELAYS)
        while True:
            frame = self.screen.capture()
            info.looks += 1
            problem = check(frame)
            left = timeout - (time.monotonic() - start)
            if problem is None or left <= 0:
                info.waited = time.monotonic() - start
                return frame, problem
            time.sleep(min(delays.pop(0) if len(delays) > 1 else delays[0], left))

    def read_text(self, image: Image.Image, in_: str | None = None) -> str:
        """The screen's text (one line per OCR line), or the line holding ``in_``."""
        lines = self.grounder.read(image)
        if in_ is None:
            return "\n".join(line.text for line in lines)
        g = self.grounder.locate(in_, image)
        for line in lines:
            if line.box.contains_point(g.x, g.y):
                return str(line.text)
        return g.text

    def error_reader(self) -> Any:
        if self._errors is None:
            from ..findings import ErrorReader

            self._errors = ErrorReader(getattr(self.grounder, "ocr", None))
        return self._errors

