"""OS-Atlas: the Base models' grounding answer (a point or box, relative 0-1000) and the Pro
models' agent answer (``thoughts:`` / ``actions:``), from OS-Copilot/OS-Atlas (README; the
action space in the evaluation prompts ``eval/data/*.jsonl``; the parse in
``eval/eval_scripts/android_control/evaluation_unify.py``: the text after ``actions:``).

Pro actions, one per line: ``CLICK <point>[[x, y]]</point>``, ``DOUBLECLICK``/``RIGHTCLICK``/
``MOVETO`` with a point, ``TYPE [text]``, ``SCROLL [UP|DOWN|LEFT|RIGHT]``, ``PRESS_*`` keys
(``PRESS_ENTER``, ``PRESS_TAB`` ...), ``ENTER``, ``HOTKEY [CTRL_A]``, ``WAIT``, ``COMPLETE``.
The phone actions (``PRESS_BACK``, ``PRESS_HOME``, ``OPEN_APP``, ``LONG_PRESS``, ``SWIPE``) are
refused by name.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import (
    ModelAction,
    ParsedAnswer,
    Prompt,
    done,
    numbers,
    phone_action,
    refuse_phone_action,
)

_SPACE = ModelSpace.relative(1000)
_LINE = re.compile(r"^\s*([A-Z_]+)\s*(.*?)\s*$")
_BRACKET = re.compile(r"^\[(.*)\]$", re.S)
_KEYS = {"PGDN": "pagedown", "PGUP": "pageup", "ESC": "esc", "SPACE": "space", "TAB": "tab",
         "ENTER": "enter", "DOWN": "down", "UP": "up", "LEFT": "left", "RIGHT": "right",
         "BACKSPACE": "backspace", "DELETE": "delete"}  # fmt: skip
_POINTED: dict[str, dict[str, Any]] = {"CLICK": {"action": "click"}, "DOUBLECLICK": {"action": "click", "clicks": 2},
            "RIGHTCLICK": {"action": "click", "button": "right"}, "MOVETO": {"action": "move"}}  # fmt: skip


def _point(op: str, args: str, line: str) -> tuple[float, float]:
    nums = numbers(args)
    if len(nums) != 2:
        raise InvalidOutput(f"{op} needs <point>[[x, y]]</point>, got {line!r}", raw=line)
    return nums[0], nums[1]


def _bracket(op: str, args: str, line: str) -> str:
    m = _BRACKET.match(args)
    if not m or not m.group(1):
        raise InvalidOutput(f"{op} needs [text], got {line!r}", raw=line)
    return m.group(1)


def _action(line: str) -> list[ModelAction]:
    m = _LINE.match(line)
    if not m:
        raise InvalidOutput(f"cannot read the action {line.strip()!r}", raw=line)
    op, args = m.group(1), m.group(2)
    if op in _POINTED:
        x, y = _point(op, args, line)
        return [ModelAction(data={**_POINTED[op], "x": x, "y": y}, space=_SPACE)]
    if op == "TYPE":
        return [ModelAction(data={"action": "type", "text": _bracket(op, args, line)})]
    if op == "SCROLL":
        direction = _bracket(op, args, line).strip().lower()
        if direction not in ("up", "down", "left", "right"):
            raise InvalidOutput(f"SCROLL needs [UP], [DOWN], [LEFT] or [RIGHT], got {line!r}", raw=line)
        return [ModelAction(data={"action": "scroll", "direction": direction})]
    if op == "HOTKEY":
        keys = [k.lower() for k in _bracket(op, args, line).replace("+", "_").split("_") if k]
        return [ModelAction(data={"action": "key", "keys": keys})]
    if op == "ENTER" or (op.startswith("PRESS_") and op.removeprefix("PRESS_") in _KEYS):
        return [ModelAction(data={"action": "key", "keys": [_KEYS[op.removeprefix("PRESS_")]]})]
    if op == "WAIT":
        return [ModelAction(data={"action": "wait", "seconds": 1.0})]
    if op == "COMPLETE":
        return [done(True)]
    if phone_action(op):
        raise refuse_phone_action(op, line)
    raise InvalidOutput(
        f"unknown action {op!r}; use CLICK, DOUBLECLICK, RIGHTCLICK, MOVETO, TYPE, SCROLL, PRESS_<KEY>, "
        "ENTER, HOTKEY, WAIT or COMPLETE", raw=line,
    )  # fmt: skip


def parse_atlas_pro(text: str) -> ParsedAnswer | None:
    """The agent answer, or None when the text has no ``actions:`` section."""
    body = text.replace("<|im_end|>", "")
    m = re.search(r"actions:\s*\n?(.*)", body, re.I | re.S)
    if not m:
        return None
    t = re.search(r"thoughts:\s*(.*?)\s*actions:", body, re.I | re.S)
    actions = [a for line in m.group(1).splitlines() if line.strip() for a in _action(line)]
    if not actions:
        raise InvalidOutput("the actions: section is empty", raw=text)
    return ParsedAnswer(thought=(t.group(1).strip() or None) if t else None, actions=tuple(actions))


def _atlas_action(n: int, name: str, purpose: str, fmt: str, example: str) -> str:
    return f"{name} {n}: {fmt.split()[0]}\n    - purpose: {purpose}\n    - format: {fmt}\n    - example usage: {example}\n"


_BASIC = [("Click at the specified position.", "CLICK <point>[[x-axis, y-axis]]</point>", "CLICK <point>[[101, 872]]</point>"),
          ("Enter specified text at the designated location.", "TYPE [input text]", "TYPE [Shanghai shopping mall]"),
          ("SCROLL in the specified direction.", "SCROLL [direction (UP/DOWN/LEFT/RIGHT)]", "SCROLL [UP]")]  # fmt: skip
_DESKTOP = [("Double click at the specified position.", "DOUBLECLICK <point>[[x-axis, y-axis]]</point>", "DOUBLECLICK <point>[[101, 872]]</point>"),
            ("Right click at the specified position.", "RIGHTCLICK <point>[[x-axis, y-axis]]</point>", "RIGHTCLICK <point>[[101, 872]]</point>"),
            ("Move the pointer to the specified position.", "MOVETO <point>[[x-axis, y-axis]]</point>", "MOVETO <point>[[101, 872]]</point>"),
            ("Press a key (SPACE, TAB, ESC, PGDN, PGUP, UP, DOWN, LEFT, RIGHT, BACKSPACE, DELETE).",
             "PRESS_<KEY>", "PRESS_TAB"),
            ("Press a key combination.", "HOTKEY [keys joined by _]", "HOTKEY [CTRL_A]"),
            ("Press the enter button.", "ENTER", "ENTER"),
            ("Wait for the screen to load.", "WAIT", "WAIT"),
            ("Indicate the task is finished.", "COMPLETE", "COMPLETE")]  # fmt: skip

ATLAS_PRO_SYSTEM = (
    "You are a foundational action model capable of automating tasks across various digital environments, "
    "including desktop systems like Windows, macOS, and Linux, as well as mobile platforms such as Android and "
    "iOS. You also excel in web browser environments. You will interact with digital devices in a human-like "
    "manner: by reading screenshots, analyzing them, and taking appropriate actions.\n\n"
    "You are now operating in Executable Language Grounding mode. Your goal is to help users accomplish tasks "
    "by suggesting executable actions that best fit their needs. Your skill set includes both basic and custom "
    "actions:\n\n1. Basic Actions\nBasic actions are standardized and available across all platforms.\n"
    + "".join(_atlas_action(i, "Basic Action", *a) for i, a in enumerate(_BASIC, 1))
    + "\n2. Custom Actions\nCustom actions are unique to this platform, a desktop.\n"
    + "".join(_atlas_action(i, "Custom Action", *a) for i, a in enumerate(_DESKTOP, 1))
    + "\nIn most cases, task instructions are high-level and abstract. Carefully read the instruction and "
    "action history, then perform reasoning to determine the most appropriate next action. Ensure you "
    "strictly generate two sections: Thoughts and Actions.\nThoughts: Clearly outline your reasoning process "
    "for current step.\nActions: Specify the actual actions you will take based on your reasoning. You should "
    "follow action format above when generating.\n\nYour current task instruction, action history, and "
    "associated screenshot are as follows:\nScreenshot: "
)
"""The OS-Atlas-Pro agent prompt: the layout of its evaluation prompts (``eval/data/*.jsonl``:
the foundational-model preamble, Executable Language Grounding mode, basic actions, the
platform's custom actions, the Thoughts/Actions rule), with the desktop's custom actions (the
ones `parse_atlas_pro` reads) in place of the phone's. Coordinates relative 0-1000."""


def atlas_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(system=ATLAS_PRO_SYSTEM, user=f"Task instruction: {task}\nHistory: {history or 'null'}")
