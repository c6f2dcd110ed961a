"""One function per step kind: how a step grounds, acts and checks on a `StepRunner`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..actions import Action, Click, Drag, Key, Move, Scroll, Type, Wait
from ..geometry import Frame
from ..grounding import AmbiguousTarget, GroundedBy, GroundingError
from ..grounding.roles import checkable_beside
from ..grounding.waiting import field_point
from ..steplog import GroundingRecord, StepInfo
from . import model as m
from .failures import Fail
from .model import StepSpec
from .states import (
    TOGGLES,
    _check,
    _checked,
    _expect_checked,
    _expect_value,
    _label_click,
    _poll_toggle,
    _read_back,
    _select,
    _typed_here,
    _typed_somewhere,
    as_field,
)

if TYPE_CHECKING:
    from .runner import StepRunner

CLEAR_FIELD: tuple[Action, ...] = (Key(keys=["ctrl", "a"]), Key(keys=["shift", "end"]),
                                   Key(keys=["backspace"]))  # fmt: skip
"""Select all, then delete: empties the focused field. Tk's entries take ctrl+a for "line
start" (emacs keys), so shift+end then selects to the end; where ctrl+a selected everything,
shift+end keeps it selected."""


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
    box_beside = None
    if isinstance(step, m.ClickStep) and g.grounded_by is GroundedBy.TREE and g.role in (
        "label", "static", "text", "caption"
    ) and r.grounder.tree is not None and (view := r.grounder.tree.view(frame.image)) is not None:
        box_beside = checkable_beside(view, g.box)  # the text of a check box without a <label>
    r.act(info, [action], frame)
    if not r.verify:
        return
    if box_beside is not None:
        _label_click(r, step.target, info, box_beside)
    elif isinstance(step, m.ClickStep) and g.grounded_by is GroundedBy.TREE and g.role in TOGGLES:
        was = _checked(g)
        if g.role.startswith("radio") and was:
            info.verified = "confirmed"  # a chosen radio stays chosen
            return
        _poll_toggle(r, step.target, info, not was)


def _type(r: StepRunner, step: m.TypeStep, info: StepInfo, timeout: float) -> None:
    """Type, then read the text back: into a field, the field must show it (the tree's value,
    else OCR of the field's row), once more clicking the field itself if not; with no field,
    something on the screen must change (else nothing had the keyboard focus)."""
    frame = r.screen.capture()
    at = None
    g = None
    if step.into is not None:
        g, frame = r._grounded(info, as_field(step.into), timeout)
        at = field_point(frame.image, g)
        info.field = at if at != g.box.center else None  # beside a label, not on the target
    if step.secret:
        r.safety.redact.add(step.text)
    clear = step.clear if step.clear is not None else step.into is not None
    before = frame.image
    r.act(info, typing_actions(step.text, at=at, clear=clear, enter=step.enter,
                               secret=step.secret), frame)  # fmt: skip
    if not r.verify:
        return
    if step.into is None or g is None:
        _typed_somewhere(r, before, info)
        return
    if step.enter:
        info.verified = "not checkable"  # Enter submits: the field may be gone or emptied
        return
    shown = _read_back(r, step, info, clear)
    if shown is None or info.verified in ("confirmed", "not checkable"):
        r._checked(info, r.screen.capture())  # the read-back, on a record of its own
        return
    # once more: click the field itself (not beside a label), then type again
    again, frame = r._grounded(info, as_field(step.into), timeout)
    target = (again.x, again.y) if "editable" in again.states else field_point(frame.image, again)
    r.act(info, typing_actions(step.text, at=target, clear=True, secret=step.secret), frame)
    shown = _read_back(r, step, info, True)
    if info.verified in ("confirmed", "not checkable"):
        r._checked(info, r.screen.capture())
    else:
        what = "a masked value" if step.secret else repr(shown)
        raise Fail(f"typed {'•' * 6 if step.secret else repr(step.text)} into {step.into!r}, "
                   f"but the field shows {what} (twice: the field ignores typing, or this "
                   "is not the field)", r.screen.capture())  # fmt: skip


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
        typed = _typed_here(r, g)
        if typed is not None:  # no self-made evidence
            info.note = (f"the only match of {step.target!r} is the text this run typed into a "
                         f"field ({typed!r}); it does not count")  # fmt: skip
            return info.note
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
    def check(frame: Frame) -> str | None:
        try:
            text = r.read_text(frame.image, step.in_)
        except GroundingError as exc:
            return str(exc)
        info.read = text
        return None if step.passes(text) else f"the text was {text!r}"

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise Fail(f"expected text that {step.how} {step.wanted!r} within {timeout:g} s; {problem}", frame)
    r._checked(info, frame)


def _expect_no_errors(
    r: StepRunner, step: m.ExpectNoErrorsStep, info: StepInfo, timeout: float
) -> None:
    from ..findings import read_frame

    pattern = re.compile(step.ignore) if step.ignore else None

    def check(frame: Frame) -> str | None:
        found = [
            f for f in read_frame(frame, display=r.display, reader=r.error_reader(),
                                  tree=getattr(r.grounder, "tree", None))
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


def _expect_error(r: StepRunner, step: m.ExpectErrorStep, info: StepInfo, timeout: float) -> None:
    from ..findings import read_frame
    from ..grounding.text import normalize

    want = normalize(step.text)
    if r.errors is not None:
        r.errors.allow(step.text)

    def check(frame: Frame) -> str | None:
        found = read_frame(frame, display=r.display, reader=r.error_reader(),
                           tree=getattr(r.grounder, "tree", None))  # fmt: skip
        hits = [f for f in found if want in normalize(f"{f.title or ''} {f.message}")]
        info.findings = [f.model_dump() for f in hits]
        if hits:
            return None
        seen = "; ".join(f.one_line() for f in found) or "no error at all"
        return f"no error reads {step.text!r} (seen: {seen})"

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise Fail(f"expected an error: {problem} within {timeout:g} s", frame)
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
    m.CheckStep: _check, m.UncheckStep: _check, m.SelectStep: _select,
    m.ExpectCheckedStep: _expect_checked, m.ExpectUncheckedStep: _expect_checked,
    m.ExpectValueStep: _expect_value, m.ExpectErrorStep: _expect_error,
}  # fmt: skip
