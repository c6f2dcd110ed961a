"""Grounding families that answer with one point or box: SeeClick, GTA1,
UI-Venus-Ground, InfiGUI-G1, Phi-Ground, and CogAgent's operation language.

Each parser reads the documented format only (regular expressions, ``json``,
``ast.literal_eval`` on an extracted literal); the space a number is in comes from the family,
never from its magnitude. A box becomes its centre, taken in model space before scaling.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import ModelAction, ParsedAnswer, Prompt, done, number, numbers, split_keys

_NUM = r"-?\d+(?:\.\d+)?"


def _click(x: float, y: float, space: ModelSpace, **extra: Any) -> ModelAction:
    return ModelAction(data={"action": "click", "x": x, "y": y, **extra}, space=space)


def _centre(nums: list[float], text: str, what: str) -> tuple[float, float]:
    if len(nums) == 2:
        return nums[0], nums[1]
    if len(nums) == 4:
        return (nums[0] + nums[2]) / 2, (nums[1] + nums[3]) / 2
    raise InvalidOutput(
        f"expected a point (x, y) or a box (x1, y1, x2, y2) {what}, got {text.strip()[:120]!r}",
        raw=text,
    )


def _one(actions: list[ModelAction]) -> ParsedAnswer:
    return ParsedAnswer(thought=None, actions=tuple(actions))


# --- SeeClick (Qwen-VL): 0-1 floats; Qwen-VL <box> 0-1000; agent dict literals ---------------

_QWENVL_BOX = re.compile(
    rf"<box>\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*,\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*</box>"
)
_SEECLICK_DICT = re.compile(r"\{[^{}]*\}", re.S)


def parse_seeclick(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    m = _QWENVL_BOX.search(text)
    if m:
        x, y = _centre([float(g) for g in m.groups()], text, "")
        return _one([_click(x, y, ModelSpace.relative(1000))])
    unit = ModelSpace.relative(1.0)
    d = _SEECLICK_DICT.search(text)
    if d and "action_type" in d.group(0):
        try:
            item = ast.literal_eval(d.group(0))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise InvalidOutput(f"cannot read {d.group(0)[:80]!r}", raw=text) from None
        if not isinstance(item, dict):
            raise InvalidOutput("the action is not a dictionary", raw=text)
        kind = item.get("action_type")
        point = item.get("click_point")
        if kind not in (2, 3, 4) or not isinstance(point, (tuple, list)) or len(point) != 2:
            raise InvalidOutput(
                'expected {"action_type": 4|3|2, "click_point": (x, y)} with x, y in 0..1', raw=text
            )
        x, y = number(point[0], "click_point x"), number(point[1], "click_point y")
        actions = [_click(x, y, unit)]
        if kind in (2, 3):  # TYPE / SELECT: click the field, then type the value
            value = str(item.get("value", "") or "")
            if not value:
                raise InvalidOutput("action_type 3/2 needs a non-empty value", raw=text)
            actions.append(ModelAction(data={"action": "type", "text": value}))
        return _one(actions)
    x, y = _centre(numbers(text), text, "in 0..1")
    return _one([_click(x, y, unit)])


def seeclick_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user="In this UI screenshot, what is the position of the element corresponding to the "
        f'command "{target}" (with point)?'
    )


def seeclick_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user="Please generate the next move according to the ui screenshot, instruction and "
        f"previous actions. Instruction: {task}. Previous actions: {history or 'None'}"
    )


# --- GTA1: "(x,y)" in pixels of the resized image -------------------------------------------

_PAREN_POINT = re.compile(r"\((-?\d*\.?\d+),\s*(-?\d*\.?\d+)\)")


def parse_gta1(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    m = _PAREN_POINT.search(text)
    if not m:
        raise InvalidOutput("expected one point (x,y) in pixels of the image", raw=text)
    return _one([_click(float(m.group(1)), float(m.group(2)), ModelSpace.pixels(*model_size))])


def gta1_grounding(target: str, size: tuple[int, int]) -> Prompt:
    w, h = size
    return Prompt(
        system="You are an expert UI element locator. Given a GUI image and a user's element "
        "description, provide the coordinates of the specified element as a single (x,y) point. "
        f"The image resolution is height {h} and width {w}. For elements with area, return the "
        "center point.\n\nOutput the coordinate pair exactly:\n(x,y)",
        user=target,
    )


# --- UI-Venus-Ground: [x1,y1,x2,y2] in pixels of the resized image ---------------------------


def parse_ui_venus(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    m = re.search(r"\[([^\[\]]*)\]", text)
    if not m:
        raise InvalidOutput("expected [x1,y1,x2,y2]", raw=text)
    x, y = _centre(numbers(m.group(1)), text, "in pixels")
    return _one([_click(x, y, ModelSpace.pixels(*model_size))])


def ui_venus_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=f"Outline the position corresponding to the instruction: {target}. "
        "The output should be only [x1,y1,x2,y2]."
    )


# --- InfiGUI-G1: optional <think>, then [{"point_2d": [x, y]}, ...] in resized pixels ---------


def parse_infigui(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    body = text.split("</think>")[-1]
    start, end = body.find("["), body.rfind("]")
    if start < 0 or end <= start:
        raise InvalidOutput('expected [{"point_2d": [x, y]}, ...] after the reasoning', raw=text)
    try:
        items = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"the answer's JSON cannot be read: {exc.msg}", raw=text) from None
    items = items if isinstance(items, list) else [items]
    first = items[0] if items else None
    if not isinstance(first, dict) or "point_2d" not in first:
        raise InvalidOutput('expected [{"point_2d": [x, y]}, ...]', raw=text)
    point = first["point_2d"]
    if not isinstance(point, list) or len(point) != 2:
        raise InvalidOutput("point_2d must be [x, y]", raw=text)
    x, y = _centre([float(v) for v in point if isinstance(v, (int, float))], text, "in point_2d")
    thought = None
    if "</think>" in text:
        thought = text.split("</think>")[0].replace("<think>", "").strip() or None
    return ParsedAnswer(thought=thought, actions=(_click(x, y, ModelSpace.pixels(*model_size)),))


def infigui_grounding(target: str, size: tuple[int, int]) -> Prompt:
    w, h = size
    return Prompt(
        system="You FIRST think about the reasoning process as an internal monologue and then "
        "provide the final answer.\nThe reasoning process MUST BE enclosed within <think> </think> tags.",
        user=f'The screen\'s resolution is {w}x{h}.\nLocate the UI element(s) for "{target}", '
        'output the coordinates using JSON format: [{"point_2d": [x, y]}, ...]',
    )


# --- Phi-Ground: <point>x, y</point>, thousandths of the 1008x672 canvas ---------------------

PHI_CANVAS = (1008, 672)


def parse_phi_ground(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    """``model_size`` is the size of the screenshot pasted on the canvas: the space is
    thousandths of the canvas, so the screenshot spans 0..1000*w/1008 by 0..1000*h/672 and a
    point in the white margin is outside the image."""
    m = re.search(r"<point>(.*?)</point>", text, re.S)
    body = m.group(1) if m else text
    x, y = _centre(numbers(body), text, "in thousandths")
    w, h = model_size
    space = ModelSpace(
        kind="relative", width=1000 * w / PHI_CANVAS[0], height=1000 * h / PHI_CANVAS[1]
    )
    return _one([_click(x, y, space)])


def phi_ground_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=f"The description of the element:\n{target}\n\nLocate the above described element "
        "in the image. The output should be bounding box using relative coordinates multiplying 1000."
    )


# --- CogAgent-9B: Grounded Operation:CLICK(box=[[a,b,c,d]], ...) in thousandths ---------------

_COG_OP = re.compile(r"([A-Z_]+)\((.*)\)", re.S)
_COG_BOX = re.compile(r"box=\[\[?\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]?\]")
_COG_KEYS = {"lcontrol": "ctrl", "rcontrol": "ctrl", "control": "ctrl", "lshift": "shift", "rshift": "shift",
             "lmenu": "alt", "rmenu": "alt", "lwin": "win", "rwin": "win", "return": "enter", "escape": "esc"}  # fmt: skip


def _cog_str(args: str, name: str) -> str | None:
    m = re.search(rf"{name}\s*=\s*(['\"])((?:\\.|(?!\1).)*)\1", args, re.S)
    if not m:
        return None
    try:
        return str(ast.literal_eval(m.group(1) + m.group(2) + m.group(1)))
    except (ValueError, SyntaxError):
        return m.group(2)


def _cog_key(key: str) -> str:
    return _COG_KEYS.get(key.lower(), key.lower())


def parse_cogagent(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    m_op = re.search(r"Grounded Operation:\s*(.*?)(?:\n|<<|\Z)", text, re.S)
    op_text = (m_op.group(1) if m_op else text).strip()
    m = _COG_OP.search(op_text)
    if not m:
        raise InvalidOutput(
            "no 'Grounded Operation:' such as CLICK(box=[[a,b,c,d]]) in the answer", raw=text
        )
    op, args = m.group(1), m.group(2)
    thought = None
    ma = re.search(r"Action:\s*(.*?)(?:\n|\Z)", text)
    if ma:
        thought = ma.group(1).strip() or None
    if "<<敏感操作>>" in text:  # the model marks this operation as sensitive
        thought = f"{thought or ''} [marked sensitive by the model]".strip()
    space = ModelSpace.relative(1000)
    at: tuple[float, float] | None = None
    b = _COG_BOX.search(args)
    if b:
        x1, y1, x2, y2 = (int(g) for g in b.groups())  # int(): leading zeros such as 086
        at = ((x1 + x2) / 2, (y1 + y2) / 2)

    acts = _cog_actions(op, args, at, space, text)
    return ParsedAnswer(thought=thought, actions=tuple(acts))


def cogagent_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    steps = ""
    if history:
        steps = "\nHistory steps: " + "".join(
            f"\n{i}. {line}" for i, line in enumerate(history.splitlines())
        )
    return Prompt(
        user=f"Task: {task}{steps}\n(Platform: WIN)\n(Answer in Action-Operation format.)"
    )


def cogagent_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return cogagent_agent(f"Click {target}", "", size)


_CogAct = Callable[[str, "tuple[float, float] | None", ModelSpace, str], "list[ModelAction]"]


def _cog_box(op: str, at: tuple[float, float] | None, text: str) -> tuple[float, float]:
    if at is None:
        raise InvalidOutput(f"{op} needs box=[[x1,y1,x2,y2]] (thousandths)", raw=text)
    return at


def _cog_clicks(op: str) -> _CogAct:
    button, n = {"CLICK": ("left", 1), "DOUBLE_CLICK": ("left", 2), "RIGHT_CLICK": ("right", 1)}[op]
    return lambda args, at, space, text: [
        _click(*_cog_box(op, at, text), space, button=button, clicks=n)
    ]


def _cog_hover(args: str, at: tuple[float, float] | None, space: ModelSpace, text: str) -> list[ModelAction]:
    x, y = _cog_box("HOVER", at, text)
    return [ModelAction(data={"action": "move", "x": x, "y": y}, space=space)]


def _cog_type(args: str, at: tuple[float, float] | None, space: ModelSpace, text: str) -> list[ModelAction]:
    value = _cog_str(args, "text")
    if not value:
        raise InvalidOutput("TYPE needs text='...'", raw=text)
    first = [_click(*at, space)] if at is not None else []
    return [*first, ModelAction(data={"action": "type", "text": value})]


def _cog_scroll(op: str) -> _CogAct:
    def scroll(args: str, at: tuple[float, float] | None, space: ModelSpace, text: str) -> list[ModelAction]:
        steps = re.search(r"step_count\s*=\s*(\d+)", args)
        data: dict[str, Any] = {"action": "scroll", "direction": op.removeprefix("SCROLL_").lower(),
                                "amount": int(steps.group(1)) if steps else 5}  # fmt: skip
        if at is not None:
            return [ModelAction(data={**data, "x": at[0], "y": at[1]}, space=space)]
        return [ModelAction(data=data)]

    return scroll


def _cog_key_press(args: str, at: tuple[float, float] | None, space: ModelSpace, text: str) -> list[ModelAction]:
    key = _cog_str(args, "key")
    if not key:
        raise InvalidOutput("KEY_PRESS needs key='...'", raw=text)
    return [ModelAction(data={"action": "key", "keys": [_cog_key(k) for k in split_keys(key)]})]


def _cog_gesture(args: str, at: tuple[float, float] | None, space: ModelSpace, text: str) -> list[ModelAction]:
    pressed = re.findall(r"(KEY_DOWN|KEY_PRESS|KEY_UP)\(key=['\"]([^'\"]+)['\"]\)", args)
    held = [_cog_key(key) for kind, key in pressed if kind == "KEY_DOWN"]
    combo = [_cog_key(key) for kind, key in pressed if kind == "KEY_PRESS"]
    if not combo and not held:
        raise InvalidOutput("GESTURE holds no key presses", raw=text)
    return [ModelAction(data={"action": "key", "keys": held + combo})]


_COG_OPS: dict[str, _CogAct] = {
    "CLICK": _cog_clicks("CLICK"), "DOUBLE_CLICK": _cog_clicks("DOUBLE_CLICK"),
    "RIGHT_CLICK": _cog_clicks("RIGHT_CLICK"), "HOVER": _cog_hover, "TYPE": _cog_type,
    "KEY_PRESS": _cog_key_press, "GESTURE": _cog_gesture,
    "END": lambda args, at, space, text: [done(True)],
}  # fmt: skip


def _cog_actions(
    op: str, args: str, at: tuple[float, float] | None, space: ModelSpace, text: str
) -> list[ModelAction]:
    """One CogAgent operation -> actions."""
    act = _COG_OPS.get(op) or (_cog_scroll(op) if op.startswith("SCROLL_") else None)
    if act is None:
        raise InvalidOutput(
            f"{op} is not supported here; use CLICK, DOUBLE_CLICK, RIGHT_CLICK, HOVER, TYPE, "
            "SCROLL_*, KEY_PRESS, GESTURE or END",
            raw=text,
        )
    return act(args, at, space, text)
