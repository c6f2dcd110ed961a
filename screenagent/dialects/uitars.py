"""UI-TARS (v1 on Qwen2-VL: relative 0-1000; 1.5: pixels of the smart-resized image).

Follows ``codes/ui_tars/action_parser.py`` and README_coordinates.md (model-formats.md §2):
``Thought:``/``Action:`` with calls such as ``click(start_box='(x,y)')``, several calls
separated by a blank line; the call's arguments are read with ``ast.literal_eval`` only.
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
    call_kwargs,
    done,
    phone_action,
    point_of,
    refuse_phone_action,
    split_keys,
)

SPECIAL_TOKENS = re.compile(r"<\|box_start\|>|<\|box_end\|>|<\|im_end\|>|<\|endoftext\|>")
_POINT_TAG = re.compile(r"<point>\s*(-?\d+(?:\.\d+)?)[\s,]+(-?\d+(?:\.\d+)?)\s*</point>")


def _uitars_calls(text: str) -> tuple[str | None, list[str]]:
    text = SPECIAL_TOKENS.sub("", text)
    text = _POINT_TAG.sub(lambda m: f"({m.group(1)},{m.group(2)})", text)
    thought = None
    m = re.search(r"(?:Thought|Reflection|Action_Summary):\s*(.*?)(?=\n\s*Action:|\Z)", text, re.S)
    if m:
        thought = m.group(1).strip() or None
    if "Action:" not in text:
        raise InvalidOutput(
            "no 'Action:' in the answer; write 'Action: click(start_box=\"(x,y)\")'", raw=text
        )
    body = text.rsplit("Action:", 1)[1].strip()
    calls = [c.strip() for c in re.split(r"\)\s*\n\s*\n", body) if c.strip()]
    calls = [c if c.endswith(")") else c + ")" for c in calls]
    return thought, calls


def _escape_type_content(call: str) -> str:
    """UI-TARS writes type(content='it's') with unescaped quotes; re-escape the inner ones as
    its own parser does, so the literal can be read."""
    m = re.match(r"^(type\s*\(\s*content\s*=\s*)(['\"])(.*)\2(\s*\))\s*$", call, re.S)
    if not m:
        return call
    inner = m.group(3)
    inner = re.sub(r"(?<!\\)" + re.escape(m.group(2)), "\\\\" + m.group(2), inner)
    return f"{m.group(1)}{m.group(2)}{inner}{m.group(2)}{m.group(4)}"


_START = ("start_box", "point", "start_point")
_AT_POINT: dict[str, dict[str, Any]] = {
    "click": {"action": "click"}, "left_single": {"action": "click"},
    "left_double": {"action": "click", "clicks": 2},
    "right_single": {"action": "click", "button": "right"},
    "hover": {"action": "move"}, "mouse_move": {"action": "move"},
}  # fmt: skip
"""Actions at one point: their data, the point added."""


def _pt(name: str, kw: dict[str, Any], key_names: tuple[str, ...]) -> tuple[float, float]:
    for k in key_names:
        if k in kw:
            return point_of(str(kw[k]), f"{name}.{k}")
    raise InvalidOutput(f"{name}: missing {' or '.join(key_names)}", raw=str(kw))


def _uitars_type(kw: dict[str, Any]) -> list[ModelAction]:
    """``type(content='...')``; a trailing new line submits (Enter), as UI-TARS documents."""
    content = str(kw.get("content", ""))
    submit = content.endswith("\n")
    text = content.rstrip("\n") if submit else content
    out = [ModelAction(data={"action": "type", "text": text})] if text else []
    if submit:
        out.append(ModelAction(data={"action": "key", "keys": ["enter"]}))
    if not out:
        raise InvalidOutput("type: empty content", raw=str(kw))
    return out


def _uitars_action(name: str, kw: dict[str, Any], space: ModelSpace) -> list[ModelAction]:
    if name in _AT_POINT:
        x, y = _pt(name, kw, _START)
        return [ModelAction(data={**_AT_POINT[name], "x": x, "y": y}, space=space)]
    match name:
        case "drag" | "select":
            x, y = _pt(name, kw, _START)
            tx, ty = _pt(name, kw, ("end_box", "end_point"))
            data = {"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}
            return [ModelAction(data=data, space=space)]
        case "hotkey" | "press" | "keydown":
            keys = split_keys(str(kw.get("key", kw.get("hotkey", ""))))
            return [ModelAction(data={"action": "key", "keys": keys})]
        case "type":
            return _uitars_type(kw)
        case "scroll":
            direction = str(kw.get("direction", "down")).lower().strip()
            scroll: dict[str, Any] = {"action": "scroll", "direction": direction, "amount": 5}
            if not any(k in kw for k in _START):
                return [ModelAction(data=scroll)]
            scroll["x"], scroll["y"] = _pt(name, kw, _START)
            return [ModelAction(data=scroll, space=space)]
        case "wait":
            return [ModelAction(data={"action": "wait", "seconds": 5})]
        case "finished":
            return [done(True, str(kw.get("content", "")) or None)]
        case "call_user":
            return [done(False, "the model asked for the user's help")]
    if phone_action(name):
        raise refuse_phone_action(name, str(kw))
    raise InvalidOutput(
        f"unknown action {name!r}; use click, left_double, right_single, drag, hotkey, type, "
        "scroll, wait, finished or call_user",
        raw=str(kw),
    )


def parse_uitars(space_of: str) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        space = (
            ModelSpace.pixels(*model_size) if space_of == "pixels" else ModelSpace.relative(1000)
        )
        thought, calls = _uitars_calls(text)
        actions: list[ModelAction] = []
        for call in calls:
            name, kw = call_kwargs(_escape_type_content(call))
            actions += _uitars_action(name, kw, space)
        return ParsedAnswer(thought=thought, actions=tuple(actions))

    return parse


UITARS_GROUNDING = (
    "You are a GUI agent. You are given a task and your action history, with screenshots. "
    "You need to perform the next action to complete the task.\n\n## Output Format\n\n"
    "Action: ...\n\n\n## Action Space\nclick(point='<point>x1 y1</point>'')\n\n"
    "## User Instruction\n{target}"
)

_UITARS_COMPUTER = """You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform the next action to complete the task.

## Output Format
```
Thought: ...
Action: ...
```

## Action Space
click(start_box='<|box_start|>(x1,y1)<|box_end|>')
left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
hotkey(key='')
type(content='') #If you want to submit your input, use "\\n" at the end of `content`.
scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')
wait() #Sleep for 5s and take a screenshot to check for any changes.
finished()
call_user() # Submit the task and call the user when the task is unsolvable, or when you need the user's help.

## Note
- Use English in `Thought` part.
- Summarize your next action (with its target element) in one sentence in `Thought` part.

## User Instruction
{task}
{history}"""


def uitars_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=_UITARS_COMPUTER.format(
            task=task, history=f"\n## Previous actions\n{history}" if history else ""
        )
    )
