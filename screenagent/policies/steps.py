"""The step-follower: the default policy, which needs no model weights.

The task is a list of explicit steps, separated by new lines, ``;`` or `` then ``:

    click Save · double-click X · right-click X · hover X
    type "text" · type "text" into X · type "text" into X clear   (select all first)
    press enter · press ctrl+s · press tab 3 times
    scroll down · scroll up 5 · scroll down in X
    drag X to Y
    wait for X · wait until X is gone · wait 2 seconds
    expect X (the run fails if X is not visible in time) · read X (the line holding X
    becomes part of the answer) · done

X is a grounding target (see `screenagent.grounding`): text, ``regex:``, ``image:``, ``#N``,
relations. Every step waits for its target to appear (default 15 s) and for the screen to
settle, then acts on the newest frame. A step that is not understood stops the run before
anything executes.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image

from ..actions import (
    Action,
    Click,
    Done,
    Drag,
    Key,
    Move,
    Scroll,
    Type,
    Wait,
    normalize_key,
)
from ..errors import ConfigError
from ..geometry import Frame
from ..grounding import Grounder, Grounding, GroundingError, parse_target
from ..image_match import field_beside
from ..screen import Screen, SettleConfig, wait_until_settled
from .base import Proposal, StepContext

DEFAULT_TIMEOUT = 15.0
"""Seconds a step waits for its target (and ``expect``/``wait for`` for theirs)."""


@dataclass(frozen=True, kw_only=True)
class Step:
    """One parsed instruction."""

    verb: str
    raw: str
    target: str | None = None
    to: str | None = None
    text: str | None = None
    keys: tuple[str, ...] = ()
    count: int = 1
    direction: Literal["up", "down", "left", "right"] = "down"
    amount: int = 3
    seconds: float = 0.0
    clear: bool = False


_Q = r"(?P<q>[\"'“‘«])(?P<text>.*?)(?:[\"'”’»])"


def _split_steps(task: str) -> list[str]:
    """Split on new lines, ``;`` and `` then `` outside quotes; drop bullets and numbering."""
    parts: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    closing = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}
    i = 0
    while i < len(task):
        ch = task[i]
        if quote:
            buf.append(ch)
            if ch == closing[quote]:
                quote = None
        elif ch in closing and (i == 0 or not task[i - 1].isalnum()):
            quote = ch
            buf.append(ch)
        elif ch in "\n;":
            parts.append("".join(buf))
            buf = []
        elif task[i : i + 6].lower() == " then " or task[i : i + 6].lower() == ", then":
            parts.append("".join(buf))
            buf = []
            i += 5
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    steps = []
    for p in parts:
        p = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", p).strip().rstrip(".").strip()
        p = re.sub(r"^(?:and|then)\s+", "", p, flags=re.IGNORECASE)
        if p:
            steps.append(p)
    return steps


def _keys(text: str, raw: str) -> tuple[str, ...]:
    try:
        return tuple(normalize_key(k) for k in re.split(r"\s*\+\s*", text.strip()) if k)
    except ValueError as exc:
        raise ConfigError(f"In the step {raw!r}: {exc}") from None


def parse_step(raw: str) -> Step | None:
    """Parse one step; None when it is not an instruction the follower knows."""
    s = raw.strip()
    low = s.lower()
    m = re.fullmatch(
        r"(double[- ]?click|right[- ]?click|click|hover(?: over)?|move to)\s+(?:on\s+)?(?P<t>.+)",
        s,
        re.I,
    )
    if m:
        verb = re.sub(r"[- ]", "-", m.group(1).lower())
        verb = {
            "double-click": "double_click",
            "doubleclick": "double_click",
            "right-click": "right_click",
            "rightclick": "right_click",
            "hover-over": "hover",
            "move-to": "hover",
        }.get(verb, verb)
        return Step(verb=verb, raw=raw, target=m.group("t").strip())
    m = re.fullmatch(
        rf"type\s+{_Q}(?:\s+(?:into|in)\s+(?P<t>.+?))?(?P<clear>\s*,?\s*\(?(?:and\s+)?clear(?:ing)?(?:\s+it)?(?: first)?\)?)?",
        s,
        re.I,
    )
    if m:
        return Step(
            verb="type",
            raw=raw,
            text=m.group("text"),
            target=(m.group("t") or "").strip() or None,
            clear=bool(m.group("clear")),
        )
    m = re.fullmatch(rf"clear\s+(?P<t>.+?)\s+and\s+type\s+{_Q}", s, re.I)
    if m:
        return Step(
            verb="type", raw=raw, text=m.group("text"), target=m.group("t").strip(), clear=True
        )
    m = re.fullmatch(
        r"press\s+(?P<k>.+?)(?:\s+(?P<n>\d+)\s*(?:times|x)|\s+x\s*(?P<n2>\d+)|\s+(?P<w>once|twice))?",
        s,
        re.I,
    )
    if m:
        n = int(
            m.group("n")
            or m.group("n2")
            or {"once": 1, "twice": 2}.get((m.group("w") or "").lower(), 1)
        )
        if not 1 <= n <= 50:
            raise ConfigError(f"In the step {raw!r}: repeat a key 1 to 50 times.")
        return Step(verb="press", raw=raw, keys=_keys(m.group("k"), raw), count=n)
    m = re.fullmatch(
        r"scroll\s+(?P<d>up|down|left|right)(?:\s+(?P<n>\d+)(?:\s+times)?)?(?:\s+(?:in|on|over)\s+(?P<t>.+))?",
        s,
        re.I,
    )
    if m:
        amount = int(m.group("n") or 3)
        if not 1 <= amount <= 50:
            raise ConfigError(f"In the step {raw!r}: scroll 1 to 50 notches.")
        return Step(
            verb="scroll",
            raw=raw,
            direction=m.group("d").lower(),  # type: ignore[arg-type]
            amount=amount,
            target=(m.group("t") or "").strip() or None,
        )
    m = re.fullmatch(r"drag\s+(?:from\s+)?(?P<a>.+?)\s+(?:to|onto|into)\s+(?P<b>.+)", s, re.I)
    if m:
        return Step(verb="drag", raw=raw, target=m.group("a").strip(), to=m.group("b").strip())
    m = re.fullmatch(r"wait\s+(?P<n>\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)", s, re.I)
    if m:
        seconds = float(m.group("n"))
        if seconds > 60:
            raise ConfigError(f"In the step {raw!r}: a wait is at most 60 seconds.")
        return Step(verb="sleep", raw=raw, seconds=seconds)
    m = re.fullmatch(
        r"wait\s+until\s+(?P<t>.+?)\s+(?:is\s+gone|disappears|is\s+not\s+visible|vanishes)", s, re.I
    )
    if m:
        return Step(verb="wait_gone", raw=raw, target=m.group("t").strip())
    m = re.fullmatch(
        r"wait\s+(?:for|until)\s+(?P<t>.+?)(?:\s+(?:is\s+visible|appears|shows))?", s, re.I
    )
    if m:
        return Step(verb="wait_for", raw=raw, target=m.group("t").strip())
    m = re.fullmatch(
        r"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)(?:\s+(?:is\s+visible|is\s+shown|appears))?",
        s,
        re.I,
    )
    if m:
        return Step(verb="expect", raw=raw, target=m.group("t").strip())
    m = re.fullmatch(r"read\s+(?:the\s+)?(?P<t>.+)", s, re.I)
    if m:
        return Step(verb="read", raw=raw, target=m.group("t").strip())
    if low in ("done", "finish", "stop", "end"):
        return Step(verb="done", raw=raw)
    return None


def parse_task(task: str) -> list[Step]:
    """Parse every step; raise ConfigError quoting each step that is not understood."""
    raw_steps = _split_steps(task)
    if not raw_steps:
        raise ConfigError(
            "The task is empty: give steps such as 'click Save; type \"hi\" into Name'."
        )
    steps, bad = [], []
    for i, raw in enumerate(raw_steps, 1):
        step = parse_step(raw)
        if step is None:
            bad.append(f"step {i}: {raw!r}")
            continue
        for t in (step.target, step.to):
            if t is not None:
                parse_target(t)  # ConfigError for a malformed target
        steps.append(step)
    if bad:
        raise ConfigError(
            "The step-follower (the default policy, no model needed) does not understand "
            + "; ".join(bad)
            + ". It follows explicit steps: click X, double-click X, right-click X, hover X, "
            'type "text" [into X], press ctrl+s, press tab 3 times, scroll down [N] [in X], '
            "drag X to Y, wait for X, wait until X is gone, wait 2 seconds, expect X, read X, "
            "done. Free-form goals that need planning need a vision-language model policy "
            "(--model). Nothing was executed."
        )
    return steps


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
    point = field_beside(image, g.box) if g.grounded_by in ("ocr", "cache") else None
    return point if point is not None else (g.x, g.y)


CLEAR_FIELD: tuple[Action, ...] = (Key(keys=["ctrl", "a"]), Key(keys=["backspace"]))
"""Select all, then delete: empties the focused field."""


def typing_actions(
    text: str, *, at: tuple[int, int] | None = None, clear: bool = False, enter: bool = False
) -> list[Action]:
    """Click ``at`` (if given), empty the field (``clear``), type ``text``, press Enter."""
    actions: list[Action] = [Click(x=at[0], y=at[1])] if at is not None else []
    if clear:
        actions += CLEAR_FIELD
    if text:
        actions.append(Type(text=text))
    if enter:
        actions.append(Key(keys=["enter"]))
    return actions


@dataclass
class _Pending:
    action: Action
    thought: str
    meta: dict[str, Any] = field(default_factory=dict)


class StepFollower:
    """Follows explicit steps, grounding each target with OCR (or template matching).

    Args:
        task: The steps (see the module docstring).
        screen: The screen to poll while waiting for targets (the loop's screen).
        grounder: Text/image grounding (default: RapidOCR, cached per screen).
        timeout: Seconds each step waits for its target.
        poll: Seconds between looks while waiting (each look on a changed screen costs an
            OCR pass, which is the real bound on the polling rate).
    """

    name = "steps"

    def __init__(
        self,
        task: str,
        *,
        screen: Screen,
        grounder: Grounder | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        poll: float = 0.1,
        settle: SettleConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.steps = parse_task(task)
        self.screen = screen
        self.grounder = grounder if grounder is not None else Grounder()
        self.timeout = timeout
        self.poll = poll
        self.settle = settle or SettleConfig(cap_seconds=2.0)
        self.clock = clock
        self._next = 0
        self._pending: deque[_Pending] = deque()
        self._answers: list[str] = []
        self._acted_frame: Frame | None = None

    def preflight(self, frame: Frame) -> None:
        return None  # the steps were parsed in the constructor: nothing can be checked further

    # -- locating ------------------------------------------------------------------------------

    def _wait_for(
        self, target: str, frame: Frame
    ) -> tuple[Grounding | None, Frame, dict[str, Any]]:
        found, frame, meta = wait_for(
            lambda image: self.grounder.locate(target, image),
            self.screen, frame, timeout=self.timeout, poll=self.poll, settle=self.settle, clock=self.clock,
        )  # fmt: skip
        return found, frame, {"target": target, **meta}

    def _wait_gone(self, target: str, frame: Frame) -> tuple[bool, dict[str, Any]]:
        """Poll newer frames until the target is no longer visible (or the timeout)."""
        start = self.clock()
        looks = 0
        while True:
            looks += 1
            if not self.grounder.is_visible(target, frame.image):
                return True, {
                    "target": target,
                    "waited": round(self.clock() - start, 3),
                    "looks": looks,
                }
            if self.clock() - start >= self.timeout:
                return False, {
                    "target": target,
                    "waited": round(self.clock() - start, 3),
                    "looks": looks,
                }
            time.sleep(self.poll)
            frame = self.screen.capture()

    def _fail(self, step: Step, meta: dict[str, Any], what: str) -> Proposal:
        reason = meta.get("error", "")
        answer = f"{what} (step {step.raw!r}, waited {meta.get('waited', 0):.1f} s)" + (
            f": {reason}" if reason else ""
        )
        action = Done(success=False, answer=answer)
        return Proposal(raw=step.raw, action=action, thought=step.raw, meta=meta)

    # -- the policy ----------------------------------------------------------------------------

    def decide(self, ctx: StepContext) -> Proposal:
        if self._pending:
            p = self._pending.popleft()
            return Proposal(raw=p.thought, action=p.action, thought=p.thought, meta=p.meta)
        if self._next >= len(self.steps):
            answer = "\n".join(self._answers) or None
            return Proposal(
                raw="done", action=Done(success=True, answer=answer), thought="all steps done"
            )
        step = self.steps[self._next]
        self._next += 1
        self._acted_frame = ctx.frame
        actions, meta, failure = self._plan(step, ctx.frame)
        if failure is not None:
            return failure
        # the newer frame the step waited for (if it did): the actions' coordinates refer to it
        frame = self._acted_frame if self._acted_frame is not ctx.frame else None
        first, *rest = actions
        for a in rest:
            self._pending.append(_Pending(action=a, thought=step.raw, meta={"step": step.raw}))
        meta["step"] = step.raw
        return Proposal(raw=step.raw, action=first, thought=step.raw, meta=meta, frame=frame)

    def _plan(
        self, step: Step, frame: Frame
    ) -> tuple[list[Action], dict[str, Any], Proposal | None]:
        """Turn one step into actions (or a failure proposal)."""
        meta: dict[str, Any] = {}

        def locate(target: str) -> tuple[Grounding | None, Proposal | None]:
            nonlocal frame, meta
            found, frame, m = self._wait_for(target, frame)
            self._acted_frame = frame
            meta = {**meta, **m} if not meta else {**meta, "to": m}
            if found is None:
                return None, self._fail(
                    step, m, f"{target!r} did not appear within {self.timeout:g} s"
                )
            return found, None

        match step.verb:
            case "click" | "double_click" | "right_click" | "hover":
                g, fail = locate(step.target or "")
                if g is None:
                    return [], meta, fail
                if step.verb == "hover":
                    return [Move(x=g.x, y=g.y)], meta, None
                return (
                    [
                        Click(
                            x=g.x,
                            y=g.y,
                            clicks=2 if step.verb == "double_click" else 1,
                            button="right" if step.verb == "right_click" else "left",
                        )
                    ],
                    meta,
                    None,
                )
            case "type":
                text = step.text or ""
                if step.target is None:
                    return [Type(text=text)], meta, None
                g, fail = locate(step.target)
                if g is None:
                    return [], meta, fail
                point = field_point(frame.image, g)
                meta["field"] = list(point) if point != (g.x, g.y) else None
                return typing_actions(text, at=point, clear=step.clear), meta, None
            case "press":
                return [Key(keys=list(step.keys)) for _ in range(step.count)], meta, None
            case "scroll":
                if step.target is None:
                    return [Scroll(direction=step.direction, amount=step.amount)], meta, None
                g, fail = locate(step.target)
                if g is None:
                    return [], meta, fail
                return (
                    [Scroll(x=g.x, y=g.y, direction=step.direction, amount=step.amount)],
                    meta,
                    None,
                )
            case "drag":
                a, fail = locate(step.target or "")
                if a is None:
                    return [], meta, fail
                b, fail = locate(step.to or "")
                if b is None:
                    return [], meta, fail
                return [Drag(x=a.x, y=a.y, to_x=b.x, to_y=b.y)], meta, None
            case "sleep":
                return [Wait(seconds=step.seconds)], meta, None
            case "wait_for" | "expect" | "read":
                g, fail = locate(step.target or "")
                if g is None:
                    what = "expected" if step.verb == "expect" else "waited for"
                    fail_meta = fail.meta if fail else meta
                    return (
                        [],
                        meta,
                        self._fail(
                            step, fail_meta, f"{what} {step.target!r}, which is not on the screen"
                        ),
                    )
                if step.verb == "read":
                    line = self._line_at(frame, g)
                    self._answers.append(line)
                    meta["read"] = line
                return [Wait(seconds=0)], meta, None
            case "wait_gone":
                gone, m = self._wait_gone(step.target or "", frame)
                if not gone:
                    return (
                        [],
                        m,
                        self._fail(
                            step, m, f"{step.target!r} was still there after {self.timeout:g} s"
                        ),
                    )
                return [Wait(seconds=0)], m, None
            case "done":
                answer = "\n".join(self._answers) or None
                return [Done(success=True, answer=answer)], meta, None
        raise ConfigError(f"unknown step verb {step.verb!r}")  # pragma: no cover

    def _line_at(self, frame: Frame, g: Grounding) -> str:
        """The whole OCR line that holds the grounded point (what ``read`` reports)."""
        for line in self.grounder.read(frame.image):
            if line.box.contains_point(g.x, g.y):
                return line.text
        return g.text
