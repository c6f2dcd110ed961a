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
pixels), the OCR/image grounder, then a grounding model (action targets only: a model always
answers a point, so it cannot say whether something is there).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from ..actions import Action, Click, Drag, Key, Move, Scroll, Type, Wait
from ..agent import LoopSettings, actuate
from ..errors import InvalidOutput
from ..executor import Executor
from ..geometry import Frame
from ..grounding import AmbiguousTarget, GroundedBy, Grounding, GroundingError, TargetNotFound
from ..image_match import field_beside
from ..safety import Safety
from ..screen import Screen, SettleConfig, wait_until_settled
from ..steplog import GroundingRecord, StepInfo, StepLog, StepRecord, Timings, utc_now
from . import model as m
from .model import DEFAULT_TIMEOUTS, StepSpec

BEFORE_ACTION_SETTLE = SettleConfig(quiet_seconds=0.06, cap_seconds=2.0)
"""The settle wait between finding a target and acting on it (act on a still screen)."""
POLL_DELAYS = (0.25, 0.5, 1.0, 2.0)
"""Seconds between looks while an assertion polls (the last repeats): grounding costs."""
WAIT_POLL = 0.1
"""Seconds between looks while an action waits for its target."""


class Locator(Protocol):
    def locate(self, target: str, image: Image.Image) -> Grounding: ...


class Judge(Protocol):
    """Judges a statement about the screen (``expect:``); a VLM in practice."""

    def judge(self, statement: str, image: Image.Image) -> tuple[bool, str]: ...


class StepFailed(AssertionError):
    """A step failed (not optional, not soft); ``info.message`` says why."""

    def __init__(self, info: StepInfo) -> None:
        super().__init__(info.message or info.text)
        self.info = info


class RunStopped(Exception):
    """The run must end here: a budget is spent, the user quit at the confirmation, the
    executor failed or an error appeared on the screen. ``status`` is the run's status."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Fail(Exception):
    def __init__(self, message: str, frame: Frame | None = None) -> None:
        super().__init__(message)
        self.frame = frame


def wait_for(
    locate: Callable[[Image.Image], Grounding],
    screen: Screen,
    frame: Frame,
    *,
    timeout: float,
    poll: float = 0.1,
    settle: SettleConfig | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Grounding | None, Frame, dict[str, Any]]:
    """Poll newer frames until ``locate`` finds its target, then let the screen settle and
    locate again on the newest frame (act on what is there now, not on a moving screen).

    Returns (the grounding, or None at the timeout; the frame it refers to; meta for the log).
    """
    settle = settle or SettleConfig(cap_seconds=2.0)
    start = clock()
    last_error: GroundingError | None = None
    looks = 0
    settle_s = 0.0
    while True:
        looks += 1
        try:
            found: Grounding | None = locate(frame.image)
        except GroundingError as exc:
            found, last_error = None, exc
        if found is not None:
            settled = wait_until_settled(screen, config=settle)
            settle_s += settled.seconds
            if settled.changed:
                try:
                    found = locate(settled.last.image)
                    frame = settled.last
                except GroundingError as exc:
                    found, last_error = None, exc
            if found is not None:
                meta = {
                    "grounding": found.to_json(),
                    "waited": round(clock() - start, 3),
                    "settle": round(settle_s, 3),
                    "looks": looks,
                }
                return found, frame, meta
        if clock() - start >= timeout:
            meta = {"waited": round(clock() - start, 3), "looks": looks}
            if last_error is not None:
                meta["error"] = str(last_error)
                meta["candidates"] = [c.describe() for c in last_error.candidates[:3]]
            return None, frame, meta
        time.sleep(poll)
        frame = screen.capture()


def field_point(image: Image.Image, g: Grounding) -> tuple[int, int]:
    """Where to click to type "into" a target: a text label names its field, so aim at the
    field beside it (when OCR or the cache found a label); otherwise the target itself."""
    by_text = g.grounded_by in (GroundedBy.OCR, GroundedBy.CACHE)
    point = field_beside(image, g.box) if by_text else None
    return point if point is not None else (g.x, g.y)


CLEAR_FIELD: tuple[Action, ...] = (Key(keys=["ctrl", "a"]), Key(keys=["backspace"]))
"""Select all, then delete: empties the focused field."""


def typing_actions(
    text: str, *, at: tuple[int, int] | None = None, clear: bool = False, enter: bool = False,
    secret: bool = False,
) -> list[Action]:  # fmt: skip
    """Click ``at`` (if given), empty the field (``clear``), type ``text``, press Enter."""
    actions: list[Action] = [Click(x=at[0], y=at[1])] if at is not None else []
    if clear:
        actions += CLEAR_FIELD
    if text:
        actions.append(Type(text=text, secret=secret))
    if enter:
        actions.append(Key(keys=["enter"]))
    return actions


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

    def run(self, step: StepSpec) -> StepInfo:
        """Run one step; returns its info (result passed, soft-failed or skipped) or raises
        StepFailed (a hard failure) or RunStopped (the run must end)."""
        info = StepInfo(number=len(self.steps) + 1, text=step.source or step.label(),
                        verb=step.verb, phase=self.phase, line=step.line or None,
                        target=next(iter(step.targets()), None))  # fmt: skip
        self.steps.append(info)
        self._watch(info)
        timeout = self.timeouts.of(step)
        try:
            _DISPATCH[type(step)](self, step, info, timeout)
        except _Fail as exc:
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

    def _watch(self, info: StepInfo) -> None:
        """The loop's error watch (``LoopSettings.watch``), before each step: a new error on
        the screen ends the run with status ``error_on_screen``."""
        if self.settings.watch is None:
            return
        frame = self.screen.capture()
        seen = self.settings.watch(frame)
        if seen:
            record = self._record(frame, info, status="error")
            record.step = info
            record.errors = [self.safety.redact(seen)]
            record.detail = "stopped before the step: an error appeared on the screen"
            info.result, info.message = "failed", seen
            self._write(record)
            raise RunStopped("error_on_screen", self.safety.redact(seen))

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
                g = self.model.locate(target, image)
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
        info.looks += int(meta.get("looks", 0))
        info.waited += float(meta.get("waited", 0.0))
        info.settle += float(meta.get("settle", 0.0))
        if found is None:
            best = list(meta.get("candidates") or [])
            info.candidates = best
            why = str(meta.get("error") or "not found")
            raise _Fail(
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
                raise _Fail(f"{action.action} is not allowed here: {'; '.join(errors)}", frame)
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
                raise _Fail(f"{action.action} could not be performed: {record.errors[0]}", frame)

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


# --- one function per step kind -----------------------------------------------------------------

_Run = Callable[[StepRunner, Any, StepInfo, float], None]


def _click_like(r: StepRunner, step: Any, info: StepInfo, timeout: float) -> None:
    g, frame = r._grounded(info, step.target, timeout)
    action: Action
    if isinstance(step, m.HoverStep):
        action = Move(x=g.x, y=g.y)
    else:
        action = Click(x=g.x, y=g.y, clicks=2 if isinstance(step, m.DoubleClickStep) else 1,
                       button="right" if isinstance(step, m.RightClickStep) else "left")  # fmt: skip
    r.act(info, [action], frame)


def _type(r: StepRunner, step: m.TypeStep, info: StepInfo, timeout: float) -> None:
    frame = r.screen.capture()
    at = None
    if step.into is not None:
        g, frame = r._grounded(info, step.into, timeout)
        at = field_point(frame.image, g)
        info.field = at if at != (g.x, g.y) else None
    if step.secret:
        r.safety.redact.add(step.text)
    clear = step.clear if step.clear is not None else step.into is not None
    r.act(info, typing_actions(step.text, at=at, clear=clear, enter=step.enter,
                               secret=step.secret), frame)  # fmt: skip


def _press(r: StepRunner, step: m.PressStep, info: StepInfo, timeout: float) -> None:
    r.act(info, [Key(keys=step.chord()) for _ in range(step.times)], r.screen.capture())


def _scroll(r: StepRunner, step: m.ScrollStep, info: StepInfo, timeout: float) -> None:
    frame = r.screen.capture()
    if step.in_ is not None:
        g, frame = r._grounded(info, step.in_, timeout)
        action = Scroll(x=g.x, y=g.y, direction=step.direction, amount=step.amount)
    else:
        action = Scroll(direction=step.direction, amount=step.amount)
    r.act(info, [action], frame)


def _drag(r: StepRunner, step: m.DragStep, info: StepInfo, timeout: float) -> None:
    a, _ = r._grounded(info, step.from_, timeout)
    b, frame = r.locate(info, step.to, timeout)
    info.to = GroundingRecord.of(b)
    r.act(info, [Drag(x=a.x, y=a.y, to_x=b.x, to_y=b.y)], frame)


def _sleep(r: StepRunner, step: m.SleepStep, info: StepInfo, timeout: float) -> None:
    r.act(info, [Wait(seconds=step.seconds)], r.screen.capture())


def _screenshot(r: StepRunner, step: m.ScreenshotStep, info: StepInfo, timeout: float) -> None:
    r._checked(info, r.screen.capture())


def _appear(r: StepRunner, step: Any, info: StepInfo, timeout: float) -> None:
    """wait_for / expect_visible / read: poll until the target is visible (several matches
    count as visible, except for ``read``, which needs one line)."""

    def check(frame: Frame) -> str | None:
        try:
            g = r.ground(step.target, frame.image, use_cache=False, use_model=False)
        except AmbiguousTarget as exc:
            if isinstance(step, m.ReadStep):
                return str(exc)
            info.candidates = [c.describe() for c in exc.candidates[:3]]
            return None
        except GroundingError as exc:
            return str(exc)
        info.grounding = GroundingRecord.of(g)
        return None

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise _Fail(f"target {step.target!r} did not appear within {timeout:g} s "
                    f"({r._by(step.target)}). {problem}", frame)  # fmt: skip
    if isinstance(step, m.ReadStep) and info.grounding is not None:
        info.read = r.read_text(frame.image, step.target)
        r.answers.append(info.read)
    r._checked(info, frame)


def _gone(r: StepRunner, step: Any, info: StepInfo, timeout: float) -> None:
    def check(frame: Frame) -> str | None:
        visible = r.grounder.is_visible(step.target, frame.image)
        return f"{step.target!r} is still visible" if visible else None

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise _Fail(f"{problem} after {timeout:g} s ({r._by(step.target)})", frame)
    r._checked(info, frame)


def _expect_text(r: StepRunner, step: m.ExpectTextStep, info: StepInfo, timeout: float) -> None:
    how = next(k for k in ("equals", "contains", "matches") if getattr(step, k) is not None)
    want: str = getattr(step, how)

    def check(frame: Frame) -> str | None:
        try:
            text = r.read_text(frame.image, step.in_)
        except GroundingError as exc:
            return str(exc)
        got, wanted = " ".join(text.split()), " ".join(want.split())  # whitespace only
        ok = (
            got == wanted if how == "equals"
            else wanted in got if how == "contains"
            else re.search(want, text) is not None
        )  # fmt: skip
        info.read = text
        return None if ok else f"the text was {text!r}"

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise _Fail(f"expected text that {how} {want!r} within {timeout:g} s; {problem}", frame)
    r._checked(info, frame)


def _expect_no_errors(
    r: StepRunner, step: m.ExpectNoErrorsStep, info: StepInfo, timeout: float
) -> None:
    from ..findings import read_frame

    pattern = re.compile(step.ignore) if step.ignore else None

    def check(frame: Frame) -> str | None:
        found = [
            f for f in read_frame(frame, display=r.display, reader=r.error_reader())
            if (step.warnings or f.severity == "error")
            and not (pattern and pattern.search(f"{f.title or ''}\n{f.message}"))
        ]  # fmt: skip
        info.findings = [f.model_dump() for f in found]
        return "; ".join(f.one_line() for f in found) or None

    frame, problem = r.poll(timeout, check, info)
    if problem is not None:
        n = len(info.findings)
        raise _Fail(f"{n} error{'s' * (n != 1)} on the screen after {timeout:g} s: {problem}", frame)
    r._checked(info, frame)


def _expect(r: StepRunner, step: m.ExpectStep, info: StepInfo, timeout: float) -> None:
    judge = r.judge
    if judge is None:
        raise _Fail(f"`expect: {step.statement}` needs a model to judge it (`model`)")

    def check(frame: Frame) -> str | None:
        ok, reason = judge.judge(step.statement, frame.image)
        info.reason = reason
        return None if ok else reason

    frame, problem = r.poll(timeout, check, info)
    if problem is not None:
        raise _Fail(f"the model judged {step.statement!r} false: {problem}", frame)
    r._checked(info, frame)


def _done(r: StepRunner, step: m.DoneStep, info: StepInfo, timeout: float) -> None:
    r._checked(info, r.screen.capture())


_DISPATCH: dict[type[StepSpec], _Run] = {
    m.ClickStep: _click_like, m.DoubleClickStep: _click_like, m.RightClickStep: _click_like,
    m.HoverStep: _click_like, m.TypeStep: _type, m.PressStep: _press, m.ScrollStep: _scroll,
    m.DragStep: _drag, m.SleepStep: _sleep, m.ScreenshotStep: _screenshot,
    m.WaitForStep: _appear, m.ExpectVisibleStep: _appear, m.ReadStep: _appear,
    m.WaitUntilGoneStep: _gone, m.ExpectNotVisibleStep: _gone, m.ExpectTextStep: _expect_text,
    m.ExpectNoErrorsStep: _expect_no_errors, m.ExpectStep: _expect, m.DoneStep: _done,
}  # fmt: skip
