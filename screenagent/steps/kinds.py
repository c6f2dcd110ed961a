"""One function per step kind: how a step grounds, acts and checks on a `StepRunner`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..actions import Action, Click, Drag, Key, Move, Scroll, Type, Wait
from ..geometry import Frame
from ..grounding import AmbiguousTarget, GroundingError
from ..grounding.waiting import field_point
from ..steplog import GroundingRecord, StepInfo
from . import model as m
from .failures import Fail
from .model import StepSpec

if TYPE_CHECKING:
    from .runner import StepRunner

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



_Run = Callable[["StepRunner", Any, StepInfo, float], None]


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
        raise Fail(f"target {step.target!r} did not appear within {timeout:g} s "
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
        raise Fail(f"{problem} after {timeout:g} s ({r._by(step.target)})", frame)
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
        raise Fail(f"expected text that {how} {want!r} within {timeout:g} s; {problem}", frame)
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
        raise Fail(f"{n} error{'s' * (n != 1)} on the screen after {timeout:g} s: {problem}", frame)
    r._checked(info, frame)


def _expect(r: StepRunner, step: m.ExpectStep, info: StepInfo, timeout: float) -> None:
    judge = r.judge
    if judge is None:
        raise Fail(f"`expect: {step.statement}` needs a model to judge it (`model`)")

    def check(frame: Frame) -> str | None:
        ok, reason = judge.judge(step.statement, frame.image)
        info.reason = reason
        return None if ok else reason

    frame, problem = r.poll(timeout, check, info)
    if problem is not None:
        raise Fail(f"the model judged {step.statement!r} false: {problem}", frame)
    r._checked(info, frame)


def _done(r: StepRunner, step: m.DoneStep, info: StepInfo, timeout: float) -> None:
    r._checked(info, r.screen.capture())


DISPATCH: dict[type[StepSpec], _Run] = {
    m.ClickStep: _click_like, m.DoubleClickStep: _click_like, m.RightClickStep: _click_like,
    m.HoverStep: _click_like, m.TypeStep: _type, m.PressStep: _press, m.ScrollStep: _scroll,
    m.DragStep: _drag, m.SleepStep: _sleep, m.ScreenshotStep: _screenshot,
    m.WaitForStep: _appear, m.ExpectVisibleStep: _appear, m.ReadStep: _appear,
    m.WaitUntilGoneStep: _gone, m.ExpectNotVisibleStep: _gone, m.ExpectTextStep: _expect_text,
    m.ExpectNoErrorsStep: _expect_no_errors, m.ExpectStep: _expect, m.DoneStep: _done,
}  # fmt: skip
