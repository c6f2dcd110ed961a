"""UI-TARS-2 (ByteDance Seed): function calls in ``<seed:tool_call>`` blocks, reasoning in
``<gui_think>``, points written ``<point>x y</point>`` in [0, 1000] of the image sent.

The call syntax and the function set (``click``, ``left_double``, ``right_single``, ``move_to``,
``scroll``, ``drag``, ``hotkey``, ``press``, ``type``, ``wait``, ``finished``, ``call_user``,
``take_screenshot``, ``open_computer``, ``mouse_down``/``mouse_up``/``release``) are those of the
Seed GUI training prompt as trycua/cua reproduces it (``libs/python/agent/agent/loops/uitars2.py``;
the model card points there). ``type`` content ending in a newline submits (Enter).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import (
    ModelAction,
    ParsedAnswer,
    Prompt,
    done,
    function_calls,
    number,
    phone_action,
    refuse_phone_action,
    split_keys,
)

_SPACE = ModelSpace.relative(1000)
_BLOCK = re.compile(r"<seed:tool_call>(.*?)</seed:tool_call>", re.S)
_THINK = re.compile(r"<gui_think>(.*?)</gui_think>", re.S)
_POINT = re.compile(r"<point>\s*(-?\d+(?:\.\d+)?)[\s,]+(-?\d+(?:\.\d+)?)\s*</point>")

_FUNCTIONS = {
    "click": ("point", "Left click at point."),
    "left_double": ("point", "Double click at point."),
    "right_single": ("point", "Right click at point."),
    "move_to": ("point", "Move the pointer to point."),
    "scroll": ("point (optional), direction: up|down|left|right", "Scroll; at point or where the pointer is."),
    "drag": ("start_point, end_point", "Drag with the left button held."),
    "hotkey": ("key: keys split by spaces, lowercase (e.g. ctrl s)", "Press a key combination."),
    "press": ("key", "Press one key."),
    "type": ("content (end it with a newline to submit)", "Type text."),
    "wait": ("time: seconds", "Wait."),
    "finished": ("content", "The task is done; content is the answer."),
    "call_user": ("content", "Ask the user for help."),
}

UITARS2_SYSTEM = (
    "You control a desktop computer to complete the user's task. Look at the screenshot, think "
    "briefly, then call the next function. Points are written <point>x y</point> with x and y "
    "from 0 to 1000 across the screenshot.\n\nFunctions:\n{functions}\n\nWrite your reasoning in "
    "<gui_think> </gui_think>, then the call:\n<seed:tool_call><function=NAME><parameter=NAME>value"
    "</parameter></function></seed:tool_call>"
)


def uitars2_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    listed = "\n".join(f"- {name}({args}): {what}" for name, (args, what) in _FUNCTIONS.items())
    user = f"Task: {task}" + (f"\n\nPrevious actions:\n{history}" if history else "")
    return Prompt(system=UITARS2_SYSTEM.format(functions=listed), user=user)


def _point(name: str, params: dict[str, str], key: str = "point") -> tuple[float, float]:
    m = _POINT.search(params.get(key, ""))
    if not m:
        raise InvalidOutput(f"{name}: {key} must be <point>x y</point>, got {params.get(key)!r}",
                            raw=json.dumps(params))  # fmt: skip
    return float(m.group(1)), float(m.group(2))


_CLICKS: dict[str, dict[str, Any]] = {"click": {}, "left_double": {"clicks": 2}, "right_single": {"button": "right"}}


def _pointer(name: str, params: dict[str, str], raw: str) -> list[ModelAction]:
    if name in _CLICKS:
        x, y = _point(name, params)
        return [ModelAction(data={"action": "click", "x": x, "y": y, **_CLICKS[name]}, space=_SPACE)]
    if name == "move_to":
        x, y = _point(name, params)
        return [ModelAction(data={"action": "move", "x": x, "y": y}, space=_SPACE)]
    if name == "drag":
        (x, y), (tx, ty) = _point(name, params, "start_point"), _point(name, params, "end_point")
        return [ModelAction(data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=_SPACE)]
    direction = params.get("direction", "").strip().lower()  # scroll
    if direction not in ("up", "down", "left", "right"):
        raise InvalidOutput(f"scroll: direction must be up, down, left or right, got {direction!r}", raw=raw)
    if "point" not in params:
        return [ModelAction(data={"action": "scroll", "direction": direction})]
    x, y = _point(name, params)
    return [ModelAction(data={"action": "scroll", "direction": direction, "x": x, "y": y}, space=_SPACE)]


def _keyboard(name: str, params: dict[str, str], raw: str) -> list[ModelAction]:
    if name in ("hotkey", "press"):
        key = params.get("key", "").strip()
        if not key:
            raise InvalidOutput(f"{name}: key is missing", raw=raw)
        return [ModelAction(data={"action": "key", "keys": split_keys(key)})]
    content = params.get("content", "")  # type
    text = content.strip("\n")
    out = [ModelAction(data={"action": "type", "text": text})] if text else []
    if content.endswith("\n"):
        out.append(ModelAction(data={"action": "key", "keys": ["enter"]}))
    if not out:
        raise InvalidOutput("type: content is empty", raw=raw)
    return out


def _control(name: str, params: dict[str, str], raw: str) -> list[ModelAction]:
    if name == "wait":
        seconds = number(float(params["time"]), "wait: time") if params.get("time", "").strip() else 5.0
        return [ModelAction(data={"action": "wait", "seconds": seconds})]
    if name == "finished":
        return [done(True, params.get("content", "").strip() or None)]
    if name == "call_user":
        return [done(False, "the model asked for the user's help: " + params.get("content", "").strip())]
    if name in ("take_screenshot", "open_computer"):
        return [ModelAction(data={"action": "wait", "seconds": 0})]  # each step sends a fresh screenshot
    if name in ("mouse_down", "mouse_up", "release"):
        raise InvalidOutput(f"{name} is not supported: use drag (a press and release in one action)", raw=raw)
    if phone_action(name):
        raise refuse_phone_action(name, raw)
    raise InvalidOutput(f"unknown function {name!r}; use {', '.join(_FUNCTIONS)}", raw=raw)


def _action(name: str, params: dict[str, str]) -> list[ModelAction]:
    raw = json.dumps({"function": name, **params})
    if name in (*_CLICKS, "move_to", "drag", "scroll"):
        return _pointer(name, params, raw)
    if name in ("hotkey", "press", "type"):
        return _keyboard(name, params, raw)
    return _control(name, params, raw)


def parse_uitars2(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    blocks = _BLOCK.findall(text)
    if not blocks:
        raise InvalidOutput("no <seed:tool_call><function=...>...</function></seed:tool_call> in the answer",
                            raw=text)  # fmt: skip
    actions: list[ModelAction] = []
    for block in blocks:
        calls = function_calls(block)
        if not calls:
            raise InvalidOutput("a <seed:tool_call> block holds no <function=...> call", raw=text)
        for name, params in calls:
            try:
                actions += _action(name, params)
            except ValueError as exc:  # a number that is not one
                raise InvalidOutput(f"{name}: {exc}", raw=text) from None
    think = _THINK.search(text)
    return ParsedAnswer(thought=think.group(1).strip() or None if think else None, actions=tuple(actions))
