"""MAI-UI (Tongyi-MAI/MAI-UI, Qwen3-VL based): ``<thinking>...</thinking>`` (a thinking model
may close with ``</think>`` only), then ``<tool_call>{"name": "mobile_use", "arguments": {...}}
</tool_call>``; coordinates are divided by 999 (``SCALE_FACTOR`` in
``src/mai_naivigation_agent.py``), a 4-value coordinate is a box whose centre is meant.

Its action space is a phone's (``src/prompt.py``). What a desktop can do is taken: ``click``,
``type``, ``drag`` (``start_coordinate`` -> ``end_coordinate``), ``system_button`` ``enter``,
``wait``, ``terminate``, ``answer``, and ``INFO``/``ask_user`` (the run ends asking the user).
``long_press``, ``swipe``, ``open``/``AWAKE`` and the back/home/menu buttons are refused by name.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import ModelAction, ParsedAnswer, Prompt, done, number, phone_action, refuse_phone_action

_SPACE = ModelSpace.relative(999)
_THINKING = re.compile(r"<thinking>(.*?)</thinking>", re.S)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)


def _coordinate(args: dict[str, Any], key: str, raw: str) -> tuple[float, float]:
    value = args.get(key)
    if isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        if len(value) == 2:
            return float(value[0]), float(value[1])
        if len(value) == 4:
            return (value[0] + value[2]) / 2, (value[1] + value[3]) / 2
    raise InvalidOutput(f"{args.get('action')}: {key} must be [x, y] (or a box), got {value!r}", raw=raw)


def _action(args: dict[str, Any], raw: str) -> list[ModelAction]:
    name = str(args.get("action", ""))
    if name == "click":
        x, y = _coordinate(args, "coordinate", raw)
        return [ModelAction(data={"action": "click", "x": x, "y": y}, space=_SPACE)]
    if name == "drag":
        (x, y), (tx, ty) = _coordinate(args, "start_coordinate", raw), _coordinate(args, "end_coordinate", raw)
        return [ModelAction(data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=_SPACE)]
    if name == "type":
        text = args.get("text")
        if not isinstance(text, str) or not text:
            raise InvalidOutput("type: text must be a non-empty string", raw=raw)
        return [ModelAction(data={"action": "type", "text": text})]
    if name == "system_button" and str(args.get("button", "")).lower() == "enter":
        return [ModelAction(data={"action": "key", "keys": ["enter"]})]
    if name == "wait":
        seconds = number(args["time"], "wait: time") if args.get("time") is not None else 1.0
        return [ModelAction(data={"action": "wait", "seconds": seconds})]
    if name == "terminate":
        return [done(str(args.get("status", "success")).lower() == "success")]
    if name == "answer":
        return [done(True, str(args.get("text", "")) or None)]
    if name in ("INFO", "ask_user"):
        return [done(False, "the model asks the user: " + str(args.get("text", "")))]
    if name == "system_button":
        raise refuse_phone_action(f"system_button {args.get('button')!r}", raw)
    if phone_action(name) or name == "AWAKE":
        raise refuse_phone_action(name, raw)
    raise InvalidOutput(f"unknown mobile_use action {name!r}; a desktop takes click, type, drag, "
                        "system_button enter, wait, terminate, answer or INFO", raw=raw)  # fmt: skip


def parse_mai_ui(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    body = text
    if "</think>" in body and "</thinking>" not in body:
        body = "<thinking>" + body.replace("</think>", "</thinking>")
    calls = _TOOL_CALL.findall(body)
    if not calls:
        raise InvalidOutput('no <tool_call>{"name": "mobile_use", "arguments": {...}}</tool_call> in the answer',
                            raw=text)  # fmt: skip
    actions: list[ModelAction] = []
    for raw in calls:
        try:
            obj = json.loads(raw.strip().strip('"'))
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"the tool call's JSON cannot be read: {exc.msg}", raw=raw) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("arguments"), dict):
            raise InvalidOutput('a tool call is {"name": "mobile_use", "arguments": {...}}', raw=raw)
        actions += _action(obj["arguments"], raw)
    thinking = _THINKING.search(body)
    return ParsedAnswer(thought=(thinking.group(1).strip() or None) if thinking else None, actions=tuple(actions))


MAI_SYSTEM = (
    "You operate a desktop computer to complete the user's task. You get the task, your earlier "
    "actions and a screenshot; give the next action. Think inside <thinking> </thinking>, then "
    'write one call inside <tool_call> </tool_call>: {"name": "mobile_use", "arguments": {...}}. '
    "Coordinates are [x, y] from 0 to 999 across the screenshot.\n\nActions:\n"
    '{"action": "click", "coordinate": [x, y]}\n{"action": "type", "text": "..."}\n'
    '{"action": "drag", "start_coordinate": [x1, y1], "end_coordinate": [x2, y2]}\n'
    '{"action": "system_button", "button": "enter"}\n{"action": "wait"}\n'
    '{"action": "terminate", "status": "success or fail"}\n{"action": "answer", "text": "..."}\n'
    '{"action": "INFO", "text": "a question for the user"}'
)


def mai_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(system=MAI_SYSTEM, user=task + (f"\n\nEarlier actions:\n{history}" if history else ""))
