"""Qwen2.5-VL and Qwen3-VL: ``<tool_call>`` computer_use/mobile_use JSON and grounding
``point_2d``/``bbox_2d`` JSON (the Qwen cookbooks; model-formats.md §3-4).

Qwen2.5-VL writes pixels of the smart-resized input; Qwen3-VL writes tool calls in 0-999 and
grounding points in 0-1000.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import (
    ModelAction,
    ParsedAnswer,
    Prompt,
    done,
    function_calls,
    key_names,
    number,
    phone_action,
    point_of,
    refuse_phone_action,
    scroll_amount,
    split_keys,
)

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.S)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)(?:```|\Z)", re.S)


def _json_loose(text: str) -> Any:
    """JSON, repairing a list cut off mid-way (as the Qwen cookbook does)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        cut = text.rfind('"}')
        if text.lstrip().startswith("[") and cut > 0:
            try:
                return json.loads(text[: cut + 2] + "]")
            except json.JSONDecodeError:
                pass
        cut = text.rfind("}")
        if cut > 0:
            try:
                return json.loads(text[: cut + 1])
            except json.JSONDecodeError:
                pass
    raise InvalidOutput(f"the answer's JSON cannot be read: {text[:200]!r}", raw=text)


def _coord(args: dict[str, Any], key: str = "coordinate") -> tuple[float, float]:
    action = str(args.get("action", ""))
    value = args.get(key)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InvalidOutput(f"{action}: '{key}' must be [x, y], got {value!r}", raw=json.dumps(args))
    return number(value[0], f"{action}: x"), number(value[1], f"{action}: y")


_QWEN_CLICKS = {"left_click": ("left", 1), "click": ("left", 1), "right_click": ("right", 1),
                "middle_click": ("middle", 1), "double_click": ("left", 2),
                "triple_click": ("left", 3)}  # fmt: skip


def _qwen_drag(args: dict[str, Any], space: ModelSpace, last: list[float] | None) -> list[ModelAction]:
    if last is None:  # left_click_drag: from where the pointer is
        raise InvalidOutput("left_click_drag drags from the pointer: move the mouse first (mouse_move) "
                            "in the same answer", raw=json.dumps(args))  # fmt: skip
    (x, y), (tx, ty) = (last[0], last[1]), _coord(args)
    return [ModelAction(data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=space)]


def _qwen_scroll(args: dict[str, Any], space: ModelSpace, last: list[float] | None) -> list[ModelAction]:
    action = str(args.get("action", ""))
    try:
        amount = float(args.get("pixels", args.get("amount", 3)))
    except (TypeError, ValueError):
        raise InvalidOutput(f"{action}: 'pixels' must be a number", raw=json.dumps(args)) from None
    if action == "scroll":
        direction = "up" if amount > 0 else "down"
    else:
        direction = "right" if amount > 0 else "left"
    data: dict[str, Any] = {"action": "scroll", "direction": direction, "amount": scroll_amount(amount)}
    if args.get("coordinate") is None:
        return [ModelAction(data=data)]
    data["x"], data["y"] = _coord(args)
    return [ModelAction(data=data, space=space)]


def _qwen_key(args: dict[str, Any], space: ModelSpace, last: list[float] | None) -> list[ModelAction]:
    keys = args.get("keys", args.get("text"))
    keys = split_keys(keys) if isinstance(keys, str) else key_names(keys, "key: keys")
    return [ModelAction(data={"action": "key", "keys": keys})]


def _qwen_wait(args: dict[str, Any], space: ModelSpace, last: list[float] | None) -> list[ModelAction]:
    seconds = number(args["time"], "wait: time") if args.get("time") is not None else 1.0
    return [ModelAction(data={"action": "wait", "seconds": seconds})]


_QwenAct = Callable[[dict[str, Any], ModelSpace, "list[float] | None"], "list[ModelAction]"]
_QWEN_ACTIONS: dict[str, _QwenAct] = {
    "mouse_move": lambda a, s, last: [ModelAction(data={"action": "move", "x": _coord(a)[0],
                                                        "y": _coord(a)[1]}, space=s)],
    "left_click_drag": _qwen_drag, "key": _qwen_key,
    "type": lambda a, s, last: [ModelAction(data={"action": "type", "text": str(a.get("text", ""))})],
    "scroll": _qwen_scroll, "hscroll": _qwen_scroll, "wait": _qwen_wait,
    "terminate": lambda a, s, last: [done(str(a.get("status", "success")).lower() == "success")],
    "answer": lambda a, s, last: [done(True, str(a.get("text", "")) or None)],
}  # fmt: skip


def _qwen_tool_action(
    args: dict[str, Any], space: ModelSpace, last: list[float] | None
) -> list[ModelAction]:
    """One ``computer_use`` call's arguments -> actions (``last``: the pointer, for drags)."""
    action = str(args.get("action", ""))
    if action in _QWEN_CLICKS:
        button, n = _QWEN_CLICKS[action]
        x, y = _coord(args)
        return [ModelAction(data={"action": "click", "x": x, "y": y, "button": button, "clicks": n},
                            space=space)]  # fmt: skip
    act = _QWEN_ACTIONS.get(action)
    if act is None and phone_action(action):
        raise refuse_phone_action(action, json.dumps(args))
    if act is None:
        raise InvalidOutput(f"unknown computer_use action {action!r}", raw=json.dumps(args))
    return act(args, space, last)


def qwen_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=f"Locate {target} in the image, output its point coordinates in JSON format."
    )


def _computer_use_tool(width: int, height: int, *, qwen3: bool) -> dict[str, Any]:
    """The ``computer_use`` function of the Qwen cookbooks' agent_function_call.py, as a
    function schema; the resolution it states is the size the model sees."""
    actions = ["key", "type", "mouse_move", "left_click", "left_click_drag", "right_click",
               "middle_click", "double_click", "scroll", "wait", "terminate"]  # fmt: skip
    if qwen3:
        actions = [*actions[:8], "triple_click", "scroll", "hscroll", "wait", "terminate", "answer"]
    return {
        "type": "function",
        "function": {
            "name_for_human": "computer_use",
            "name": "computer_use",
            "description": "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
            "* This is an interface to a desktop GUI. You do not have access to a terminal or "
            "applications menu. You must click on desktop icons to start applications.\n"
            "* Some applications may take time to start or process actions, so you may need to "
            "wait and take successive screenshots to see the results of your actions.\n"
            f"* The screen's resolution is {width}x{height}.\n"
            "* Whenever you intend to move the cursor to click on an element like an icon, you "
            "should consult a screenshot to determine the coordinates of the element before "
            "moving the cursor.\n"
            "* Make sure to click any buttons, links, icons, etc with the cursor tip in the "
            "center of the element.",
            "parameters": {
                "properties": {
                    "action": {"description": "The action to perform.", "enum": actions, "type": "string"},
                    "keys": {"description": "Required only by `action=key`.", "type": "array"},
                    "text": {"description": "Required only by `action=type`" + (" and `action=answer`." if qwen3 else "."), "type": "string"},
                    "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to.", "type": "array"},
                    "pixels": {"description": "The amount of scrolling to perform. Positive values scroll up, negative values scroll down. Required only by `action=scroll`" + (" and `action=hscroll`." if qwen3 else "."), "type": "number"},
                    "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"},
                    "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]},
                },
                "required": ["action"],
                "type": "object",
            },
            "args_format": "Format the arguments as a JSON object.",
        },
    }  # fmt: skip


_FNCALL_SYSTEM = """You are a helpful assistant.

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tool}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{{"name": <function-name>, "arguments": <args-json-object>}}
</tool_call>"""

_QWEN3_FORMAT = """

# Response format

Response format for every step:
1) Thought: one concise sentence explaining the next move (no multi-step reasoning).
2) Action: a short imperative describing what to do in the UI.
3) A single <tool_call>...</tool_call> block containing only the JSON: {"name": <function-name>, "arguments": <args-json-object>}."""


def qwen_agent(qwen3: bool) -> Any:
    def prompt(task: str, history: str, size: tuple[int, int]) -> Prompt:
        w, h = (999, 999) if qwen3 else size  # Qwen3-VL's agent space is fixed at 0-999
        tool = json.dumps(_computer_use_tool(w, h, qwen3=qwen3), ensure_ascii=False)
        system = _FNCALL_SYSTEM.format(tool=tool) + (_QWEN3_FORMAT if qwen3 else "")
        steps = f"\n\nPrevious actions:\n{history}" if history else ""
        return Prompt(system=system, user=f"The user query: {task}{steps}")

    return prompt


def _xml_tool_call(raw: str) -> dict[str, Any]:
    """Qwen3.5's XML-style call ``<function=computer><parameter=action>left_click</parameter>
    <parameter=coordinate>[500, 300]</parameter></function>`` as the JSON form's object (values
    read as JSON where they are JSON; a ``type`` parameter naming the action is the action)."""
    calls = function_calls(raw)
    if len(calls) != 1:
        raise InvalidOutput("a tool call holds one <function=...> call", raw=raw)
    name, params = calls[0]
    args: dict[str, Any] = {}
    for key, value in params.items():
        try:
            args[key] = json.loads(value.strip())
        except json.JSONDecodeError:
            args[key] = value.strip()
    if "action" not in args and "type" in args:
        args["action"] = args.pop("type")
    return {"name": name, "arguments": args}


def parse_qwen(tool_space: str, grounding_extent: int | None, *, tool_extent: int = 999) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        pixel_space = ModelSpace.pixels(*model_size)
        tool = pixel_space if tool_space == "pixels" else ModelSpace.relative(tool_extent)
        grounding = (
            pixel_space if grounding_extent is None else ModelSpace.relative(grounding_extent)
        )
        thought = None
        m = re.search(r"Thought:\s*(.*?)(?=\n\s*(?:Action:|<tool_call>)|\Z)", text, re.S)
        if m:
            thought = m.group(1).strip() or None
        calls = _TOOL_CALL.findall(text)
        actions: list[ModelAction] = []
        if calls:
            last: list[float] | None = None
            for raw in calls:
                obj = _xml_tool_call(raw) if raw.lstrip().startswith("<function=") else _json_loose(raw)
                if not isinstance(obj, dict) or not isinstance(obj.get("arguments"), dict):
                    raise InvalidOutput('a tool call is {"name": ..., "arguments": {...}}', raw=raw)
                for ma in _qwen_tool_action(obj["arguments"], tool, last):
                    actions.append(ma)
                    if ma.data.get("x") is not None:
                        last = [
                            ma.data.get("to_x", ma.data["x"]),
                            ma.data.get("to_y", ma.data["y"]),
                        ]
            return ParsedAnswer(thought=thought, actions=tuple(actions))
        fence = _FENCE.search(text)
        body = fence.group(1) if fence else text.strip()
        if body.startswith(("[", "{")):
            obj = _json_loose(body)
            items = obj if isinstance(obj, list) else [obj]
            notes: tuple[str, ...] = ()
            if len(items) > 1:  # grounding asks for one element: the first item is the answer
                notes = (f"the answer listed {len(items)} points; the first was taken, the others "
                         f"were not clicked: {json.dumps(items[1:4])[:200]}",)  # fmt: skip
            for item in items[:1]:
                if isinstance(item, dict) and "point_2d" in item:
                    x, y = point_of(json.dumps(item["point_2d"]), "point_2d")
                elif isinstance(item, dict) and "bbox_2d" in item:
                    x, y = point_of(json.dumps(item["bbox_2d"]), "bbox_2d")
                else:
                    raise InvalidOutput("expected point_2d or bbox_2d", raw=body)
                actions.append(
                    ModelAction(data={"action": "click", "x": x, "y": y}, space=grounding)
                )
            if actions:
                return ParsedAnswer(thought=thought, actions=tuple(actions), notes=notes)
        raise InvalidOutput("no <tool_call> and no point_2d/bbox_2d in the answer", raw=text)

    return parse
