"""Task text -> steps: the parser of ``screenagent run "click Save; type 'a' into Name"``.

Steps are separated by new lines, ``;`` or `` then ``; bullets and numbering are dropped:

    click Save · double-click X · right-click X · hover X
    type "text" · type "text" into X · type "text" into X clear   (select all first)
    press enter · press ctrl+s · press tab 3 times
    scroll down · scroll up 5 · scroll down in X
    drag X to Y
    wait for X · wait until X is gone · wait 2 seconds
    expect X · expect X is gone · expect no errors · read X · screenshot · done
    check X · uncheck X · select "option" in X
    expect X is checked · expect X is unchecked · expect X contains "text" · expect X is "text"
    expect error "text"   (the previous step may cause that error: the error watch lets it be)

X is a grounding target (see `screenagent.grounding`). Each phrase becomes the same step model
as its YAML form (`screenagent.steps.model`), so it runs the same code.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from ..errors import ConfigError
from .model import (
    CheckStep,
    ClickStep,
    DoneStep,
    DoubleClickStep,
    DragStep,
    ExpectCheckedStep,
    ExpectErrorStep,
    ExpectNoErrorsStep,
    ExpectNotVisibleStep,
    ExpectUncheckedStep,
    ExpectValueStep,
    ExpectVisibleStep,
    HoverStep,
    PressStep,
    ReadStep,
    RightClickStep,
    ScreenshotStep,
    ScrollStep,
    SelectStep,
    SleepStep,
    StepSpec,
    TypeStep,
    UncheckStep,
    WaitForStep,
    WaitUntilGoneStep,
    _Targeted,
)

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


def _keys(text: str) -> str:
    """``ctrl + s`` -> ``ctrl+s`` (each key is checked by the step model)."""
    return "+".join(k for k in re.split(r"\s*\+\s*", text.strip()) if k)


def _t(m: re.Match[str], name: str = "t") -> str:
    return (m.group(name) or "").strip()


def _opt(m: re.Match[str]) -> str | None:
    return _t(m) or None


_TIMES = {"once": 1, "twice": 2}
_CLICKS: dict[str, type[_Targeted]] = {
    "click": ClickStep, "double-click": DoubleClickStep, "doubleclick": DoubleClickStep,
    "right-click": RightClickStep, "rightclick": RightClickStep, "hover": HoverStep,
    "hover-over": HoverStep, "move-to": HoverStep,
}  # fmt: skip
_GONE = r"(?:is\s+gone|disappears|is\s+not\s+visible|vanishes)"

_PHRASES: list[tuple[str, object]] = [
    (r"(?P<v>double[- ]?click|right[- ]?click|click|hover(?: over)?|move to)\s+(?:on\s+)?(?P<t>.+)",
     lambda m: _CLICKS[re.sub(r"[- ]", "-", m.group("v").lower())](target=_t(m))),
    (rf"type\s+{_Q}(?:\s+(?:into|in)\s+(?P<t>.+?))?"
     r"(?P<clear>\s*,?\s*\(?(?:and\s+)?clear(?:ing)?(?:\s+it)?(?: first)?\)?)?",
     lambda m: TypeStep(text=m.group("text"), into=_opt(m), clear=True if m.group("clear") else None)),
    (rf"clear\s+(?P<t>.+?)\s+and\s+type\s+{_Q}",
     lambda m: TypeStep(text=m.group("text"), into=_t(m), clear=True)),
    (r"press\s+(?P<k>.+?)(?:\s+(?P<n>\d+)\s*(?:times|x)|\s+x\s*(?P<n2>\d+)|\s+(?P<w>once|twice))?",
     lambda m: PressStep(keys=_keys(m.group("k")), times=int(
         m.group("n") or m.group("n2") or _TIMES.get((m.group("w") or "").lower(), 1)))),
    (r"scroll\s+(?P<d>up|down|left|right)(?:\s+(?P<n>\d+)(?:\s+times)?)?"
     r"(?:\s+(?:in|on|over)\s+(?P<t>.+))?",
     lambda m: ScrollStep.model_validate(
         {"direction": m.group("d").lower(), "amount": int(m.group("n") or 3), "in": _opt(m)})),
    (r"drag\s+(?:from\s+)?(?P<a>.+?)\s+(?:to|onto|into)\s+(?P<b>.+)",
     lambda m: DragStep.model_validate({"from": _t(m, "a"), "to": _t(m, "b")})),
    (r"wait\s+(?P<n>\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)",
     lambda m: SleepStep(seconds=float(m.group("n")))),
    (rf"wait\s+until\s+(?P<t>.+?)\s+{_GONE}", lambda m: WaitUntilGoneStep(target=_t(m))),
    (r"wait\s+(?:for|until)\s+(?P<t>.+?)(?:\s+(?:is\s+visible|appears|shows))?",
     lambda m: WaitForStep(target=_t(m))),
    (r"(?:expect|check|verify|assert)\s+(?:that\s+)?(?:there\s+are\s+)?no\s+errors(?:\s+on\s+the\s+screen)?",
     lambda m: ExpectNoErrorsStep()),
    (rf"(?:expect|check|verify|assert)\s+(?:an?\s+)?error\s+(?:saying\s+|reading\s+|that\s+says\s+)?{_Q}",
     lambda m: ExpectErrorStep(text=m.group("text"))),
    (rf"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)\s+{_GONE}",
     lambda m: ExpectNotVisibleStep(target=_t(m))),
    (r"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)\s+is\s+(?:un-?checked|not\s+checked)",
     lambda m: ExpectUncheckedStep(target=_t(m))),
    (r"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)\s+is\s+checked",
     lambda m: ExpectCheckedStep(target=_t(m))),
    (rf"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)\s+(?P<how>contains|equals|is|reads|has\s+value)\s+{_Q}",
     lambda m: ExpectValueStep(target=_t(m), **{
         "contains" if m.group("how").lower() == "contains" else "equals": m.group("text")})),
    (r"(?:un-?check|untick)\s+(?P<t>.+)", lambda m: UncheckStep(target=_t(m))),
    (r"(?:check|tick)\s+(?!that\s)(?P<t>.+)", lambda m: CheckStep(target=_t(m))),
    (r"(?:select|choose|pick)\s+(?P<o>.+?)\s+(?:in|from)\s+(?P<t>.+)",
     lambda m: SelectStep.model_validate({"option": _t(m, "o"), "in": _t(m)})),
    (r"(?:expect|check|verify|assert)\s+(?:that\s+)?(?P<t>.+?)(?:\s+(?:is\s+visible|is\s+shown|appears))?",
     lambda m: ExpectVisibleStep(target=_t(m))),
    (r"read\s+(?:the\s+)?(?P<t>.+)", lambda m: ReadStep(target=_t(m))),
    (r"(?:take\s+a\s+)?screenshot(?:\s+(?P<t>.+))?",
     lambda m: ScreenshotStep(name=_opt(m) or "screenshot")),
    (r"done|finish|stop|end", lambda m: DoneStep()),
]  # fmt: skip
_COMPILED = [(re.compile(rx, re.IGNORECASE), build) for rx, build in _PHRASES]


def parse_step(raw: str) -> StepSpec | None:
    """Parse one step's text; None when it is no step phrase. A phrase with a bad value (a
    malformed target, an unknown key, 500 repeats) raises ConfigError quoting the step."""
    s = raw.strip()
    for rx, build in _COMPILED:
        m = rx.fullmatch(s)
        if m is None:
            continue
        try:
            step: StepSpec = build(m)  # type: ignore[operator]
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"In the step {raw!r}: {where + ': ' if where else ''}{msg}") from None
        step.source = raw
        return step
    return None


def parse_task(task: str) -> list[StepSpec]:
    """Parse every step; raise ConfigError quoting each step that is not understood. A line
    that starts with ``#`` is a comment (task files written by `screenagent record` have them)."""
    task = "\n".join(line for line in task.splitlines() if not line.lstrip().startswith("#"))
    raw_steps = _split_steps(task)
    if not raw_steps:
        raise ConfigError(
            "The task is empty: give steps such as 'click Save; type \"hi\" into Name'."
        )
    steps: list[StepSpec] = []
    bad: list[str] = []
    for i, raw in enumerate(raw_steps, 1):
        try:
            step = parse_step(raw)
        except ConfigError as exc:
            bad.append(f"step {i}: {exc}")
            continue
        if step is None:
            bad.append(f"step {i}: {raw!r}")
            continue
        steps.append(step)
    if bad:
        raise ConfigError(
            "The step-follower (the default policy, no model needed) does not understand "
            + "; ".join(bad)
            + ". It follows explicit steps: click X, double-click X, right-click X, hover X, "
            'type "text" [into X], press ctrl+s, press tab 3 times, scroll down [N] [in X], '
            "drag X to Y, wait for X, wait until X is gone, wait 2 seconds, expect X, "
            "expect X is gone, expect no errors, read X, screenshot, done, check X, uncheck X, "
            'select "option" in X, expect X is checked, expect X is unchecked, '
            'expect X contains "text". Free-form goals that '
            "need planning need a vision-language model policy (`model`). Nothing was executed."
        )
    return steps
