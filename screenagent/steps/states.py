"""Steps that read states and verify effects: check / uncheck / select and their
assertions (the accessibility tree's states), a field's value, and the read-backs that follow
typing and clicking a check box (``StepInfo.verified``)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..actions import Click
from ..geometry import Box, Frame
from ..grounding import GroundedBy, Grounding, GroundingError, parse_target
from ..grounding.roles import CHECKABLE_ROLES as CHECKABLE
from ..grounding.roles import checkable_beside
from ..steplog import GroundingRecord, StepInfo
from . import model as m
from .failures import Fail

if TYPE_CHECKING:
    from .runner import StepRunner


TOGGLES = ("check box", "check menu item", "radio button", "radio menu item")
"""Roles whose click must change their state (toggle buttons are often momentary)."""


def _label_click(r: StepRunner, target: str, info: StepInfo, beside: Any) -> None:
    """A click on a check box's text: if the box did not change, click the box itself."""
    node, box = beside
    was = "checked" in node.states
    check_target = f"checkbox {target}"
    for attempt in (1, 2):
        deadline = time.monotonic() + (READ_BACK_SECONDS if attempt == 1 else r.timeouts.expect)
        while time.monotonic() < deadline:
            frame = r.screen.capture()
            view = r.grounder.tree.view(frame.image)
            now = next((n for n in view.snapshot.nodes if n.ref == node.ref), None) if view else None
            if now is not None and ("checked" in now.states) != was:
                info.verified = "confirmed"
                r._checked(info, frame)
                return
            time.sleep(0.2)
        if attempt == 1:
            info.note = f"clicking the text {target!r} did not toggle its check box: clicked the box"
            r.act(info, [Click(x=box.center[0], y=box.center[1])], r.screen.capture())
    info.verified = "no change"
    raise Fail(f"clicked {check_target!r} and its box, but the box did not change", r.screen.capture())


def _poll_toggle(r: StepRunner, target: str, info: StepInfo, want: bool) -> None:
    """A click on a check box must change its state (within the read-back time)."""
    deadline = time.monotonic() + READ_BACK_SECONDS
    while True:
        frame = r.screen.capture()
        try:
            now = r.ground(target, frame.image, use_cache=False, use_model=False)
        except GroundingError:
            info.verified = "not checkable"
            return
        if _checked(now) == want:
            info.verified = "confirmed"
            r._checked(info, frame)
            return
        if time.monotonic() >= deadline:
            info.verified = "no change"
            raise Fail(f"clicked {target!r} ({now.role}), but it is still "
                       f"{'checked' if _checked(now) else 'unchecked'}", frame)  # fmt: skip
        time.sleep(0.2)


def as_field(target: str) -> str:
    """``Name`` -> ``field:Name``: a text field named or labelled so (a target that already
    has a role, or is a regex or an image, stays as it is)."""
    t = parse_target(target)
    if t.kind != "text" or t.role is not None or t.relation is not None:
        return target
    return f"field:{target}"


READ_BACK_SECONDS = 1.5
"""How long a typed field may take to show its text."""


def _typed_somewhere(r: StepRunner, before: Any, info: StepInfo) -> None:
    from ..screen import changed_fraction

    after = r.screen.capture()
    if changed_fraction(before, after.image) == 0.0:
        info.verified = "no change"
        raise Fail("typed into nothing: the screen did not change at all (no window has the "
                   "keyboard focus? name the field: type \"...\" into X)", after)  # fmt: skip
    info.verified = "confirmed"


def _read_back(r: StepRunner, step: m.TypeStep, info: StepInfo, cleared: bool) -> str | None:
    """Poll the field for the typed text; sets ``info.verified``; the text it shows (None:
    this field cannot be read back)."""
    from ..grounding.text import normalize

    want = " ".join(step.text.split())
    shown = ""
    deadline = time.monotonic() + READ_BACK_SECONDS
    while True:
        frame = r.screen.capture()
        try:
            g = r.ground(as_field(step.into or ""), frame.image, use_cache=False, use_model=False)
        except GroundingError:
            info.verified = "not checkable"  # the field went away (a dialog closed)
            return None
        if step.secret and g.value is None:
            info.verified = "not checkable"  # a password field: nothing readable to compare
            return None
        shown, box = _field_text(r, g, frame.image, with_box=True)
        got = " ".join(shown.split())
        ok = (got == want if cleared and g.value is not None else want in got) or (
            g.value is None and normalize(want) in normalize(got)  # OCR: case/punctuation slips
        ) or (step.secret and bool(got))
        if not ok and g.value is None and _shows_the_end(want, got):
            ok, info.note = True, f"the field shows the end of the text: {got!r}"
        readable = _readable_part(want) if g.value is None and _beyond_ocr(want) else ""
        if not ok and readable and readable in normalize(got):
            info.verified = "not checkable"  # the part OCR reads is there; the rest it cannot read
            info.note = f"OCR cannot read back the CJK part of the text; the field shows {got!r}"
            return shown
        if ok:
            info.verified = "confirmed"
            if box is not None:
                r.typed.append((box, step.text))
            return shown
        if time.monotonic() >= deadline:
            info.verified = "diverged"
            return shown
        time.sleep(0.2)


def _beyond_ocr(text: str) -> bool:
    """Whether the text has characters the screen OCR does not read back reliably (CJK, kana,
    hangul)."""
    return any(ord(ch) >= 0x2E80 for ch in text)


def _readable_part(text: str) -> str:
    """The normalised text without those characters (what OCR can read back of it)."""
    from ..grounding.text import normalize

    return normalize("".join(ch for ch in text if ord(ch) < 0x2E80))


def _shows_the_end(want: str, got: str, least: int = 8) -> bool:
    """OCR of a field too narrow for the text: it scrolled to the caret and shows the end
    (its first glyph may be cut in half, so up to two leading characters may be misread)."""
    from ..grounding.text import normalize

    w, g = normalize(want), normalize(got)
    return any(len(g) - cut >= min(least, len(w)) and w.endswith(g[cut:]) for cut in (0, 1, 2))


def _typed_here(r: StepRunner, g: Grounding) -> str | None:
    """The text this run typed into a field that holds the grounding's point, if the
    grounding's text is part of it (a match that is the run's own typing)."""
    from ..grounding.text import normalize

    for box, text in r.typed:
        if box.x1 - 4 <= g.x <= box.x2 + 4 and box.y1 - 4 <= g.y <= box.y2 + 4 and (
            normalize(g.text) and normalize(g.text) in normalize(text)
        ):  # fmt: skip
            return text
    return None


# -- states (the accessibility tree) -----------------------------------------------------------




def _state_of(r: StepRunner, target: str, frame: Frame, verb: str) -> Grounding:
    """Ground ``target`` in the tree on this frame (no cache, no model: states are needed);
    raises Fail when only pixels found it (no state to read) or GroundingError."""
    g = r.ground(target, frame.image, use_cache=False, use_model=False)
    if (g.grounded_by is GroundedBy.TREE and g.role in ("label", "static", "text", "caption")
            and verb in ("check", "uncheck", "expect_checked", "expect_unchecked")):  # fmt: skip
        # a check box without a name, its text beside it (a web page without <label>)
        view = r.grounder.tree.view(frame.image) if r.grounder.tree is not None else None
        box = checkable_beside(view, g.box) if view is not None else None
        if box is not None:
            node, fbox = box
            g = replace(g, x=fbox.center[0], y=fbox.center[1], box=fbox, role=node.role,
                        states=tuple(sorted(node.states)), text=f"{node.role} beside {g.text!r}")
    if g.grounded_by is not GroundedBy.TREE:
        raise Fail(
            f"`{verb}` needs the state of {target!r}, which only the accessibility tree gives, "
            f"and {g.grounded_by} found it instead (this app exposes no tree, like Tk, or the "
            "tree is off). Click it and check the effect instead.",
            frame,
        )
    return g


def _checkable(g: Grounding) -> bool:
    return g.role in CHECKABLE or "checkable" in g.states


def _checked(g: Grounding) -> bool:
    return "checked" in g.states or "pressed" in g.states


def _check(r: StepRunner, step: Any, info: StepInfo, timeout: float) -> None:
    """check / uncheck: a no-op when already so; otherwise click, then poll the state."""
    want = isinstance(step, m.CheckStep)
    g, frame = r._grounded(info, step.target, timeout)
    g = _state_of(r, step.target, frame, step.verb)
    if not _checkable(g):
        raise Fail(f"{step.target!r} cannot be checked: it is a {g.role} {g.text!r} "
                   f"(states: {', '.join(g.states) or 'none'})", frame)  # fmt: skip
    info.grounding = GroundingRecord.of(g)
    if _checked(g) == want:
        info.note = f"already {'checked' if want else 'unchecked'}: nothing to do"
        info.verified = "confirmed"
        r._checked(info, frame)
        return
    r.act(info, [Click(x=g.x, y=g.y)], frame)
    _poll_state(r, step.target, info, want, "checked" if want else "unchecked", step.verb)


def _poll_state(r: StepRunner, target: str, info: StepInfo, want: bool, word: str,
                verb: str, timeout: float | None = None) -> None:  # fmt: skip
    seen: list[str] = []

    def check(frame: Frame) -> str | None:
        try:
            g = _state_of(r, target, frame, verb)
        except GroundingError as exc:
            return str(exc)
        seen[:] = list(g.states)
        info.grounding = GroundingRecord.of(g)
        return None if _checked(g) == want else f"{target!r} is not {word}"

    frame, problem = r.poll(timeout if timeout is not None else r.timeouts.expect, check, info)
    if problem:
        if verb in ("check", "uncheck"):
            info.verified = "no change"
        raise Fail(f"{problem} (states: {', '.join(seen) or 'unknown'})", frame)
    if verb in ("check", "uncheck"):
        info.verified = "confirmed"
    r._checked(info, frame)


def _expect_checked(r: StepRunner, step: Any, info: StepInfo, timeout: float) -> None:
    want = isinstance(step, m.ExpectCheckedStep)
    _poll_state(r, step.target, info, want, "checked" if want else "unchecked", step.verb, timeout)


def _field_text(r: StepRunner, g: Grounding, image: Any, *, with_box: bool = False) -> Any:
    """A field's text: the tree's value, else the OCR lines at the field's point (with
    ``with_box``: also the box the text was read in, in frame pixels)."""
    if g.value is not None:
        return (g.value, g.box) if with_box else g.value
    # pixels: the text on the field's row, from a little left of the click point rightwards,
    # not the label's own text
    x, y = g.x, g.y
    label = g.box if g.grounded_by is not GroundedBy.TREE else None
    parts: list[tuple[str, Box]] = []
    for line in r.grounder.read(image):
        if not (line.box.y1 - 10 <= y <= line.box.y2 + 10 and line.box.x2 >= x - 24 and line.box.x1 <= x + 600):
            continue
        if label is not None and line.box.intersects(label):
            # OCR joined the label and the field's text into one line: the words right of it
            parts += [(w.text, w.box) for w in line.words if w.box.x1 >= label.x2 - 2]
        else:
            parts.append((line.text, line.box))
    parts.sort(key=lambda p: p[1].x1)
    text = " ".join(t for t, _ in parts)
    if not with_box:
        return text
    box = None
    for _, b in parts:
        box = b if box is None else box.union(b)
    return text, box


def _expect_value(r: StepRunner, step: m.ExpectValueStep, info: StepInfo, timeout: float) -> None:
    target = as_field(step.target)

    def check(frame: Frame) -> str | None:
        try:
            g = r.ground(target, frame.image, use_cache=False, use_model=False)
        except GroundingError as exc:
            return str(exc)
        info.grounding = GroundingRecord.of(g)
        info.read = _field_text(r, g, frame.image)
        return None if step.passes(info.read) else f"the value was {info.read!r}"

    frame, problem = r.poll(timeout, check, info)
    if problem:
        raise Fail(f"expected {step.target!r} to have a value that {step.how} {step.wanted!r} "
                   f"within {timeout:g} s; {problem}", frame)  # fmt: skip
    r._checked(info, frame)


def _shows(g: Grounding, option: str) -> bool:
    from ..grounding.roles import name_score

    return any(name_score(option, v) >= 0.95 for v in (g.text, g.value or "") if v)


def _select(r: StepRunner, step: m.SelectStep, info: StepInfo, timeout: float) -> None:
    """Open the combo box (or list), click the option, verify the choice: the tree's name,
    value or selected state; OCR of the box without a tree."""
    option = parse_target(step.option).value
    g, frame = r._grounded(info, step.in_, timeout)
    if g.grounded_by is GroundedBy.TREE and g.role == "combo box" and _shows(g, option):
        info.note = f"{option!r} is already chosen: nothing to do"
        r._checked(info, frame)
        return
    opener = g
    if not (g.grounded_by is GroundedBy.TREE and g.role in ("list", "list box", "tree", "table")):
        r.act(info, [Click(x=g.x, y=g.y)], frame)
    picked, frame = r.locate(info, step.option, timeout)
    info.to = GroundingRecord.of(picked)
    r.act(info, [Click(x=picked.x, y=picked.y)], frame)

    def check(frame: Frame) -> str | None:
        try:
            now = r.ground(step.in_, frame.image, use_cache=False, use_model=False)
        except GroundingError as exc:
            return str(exc)
        if now.grounded_by is GroundedBy.TREE and now.role == "combo box":
            return None if _shows(now, option) else f"{step.in_!r} shows {now.value or now.text!r}"
        if picked.grounded_by is GroundedBy.TREE and now.grounded_by is GroundedBy.TREE:
            try:
                item = r.ground(step.option, frame.image, use_cache=False, use_model=False)
            except GroundingError as exc:
                return str(exc)
            return None if "selected" in item.states else f"{step.option!r} is not selected"
        text = _field_text(r, now, frame.image) if opener.grounded_by is not GroundedBy.TREE else ""
        return None if option.casefold() in text.casefold() else f"{step.in_!r} reads {text!r}"

    frame, problem = r.poll(r.timeouts.expect, check, info)
    if problem:
        info.verified = "diverged"
        raise Fail(f"selected {option!r}, but the choice did not stick: {problem}", frame)
    info.verified = "confirmed"
    r._checked(info, frame)
