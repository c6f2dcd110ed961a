"""Action formats of hosted computer-use APIs: Anthropic's computer tool and OpenAI's
computer-use calls (single ``action`` and batched ``actions``).

The raw answer is the JSON the API returned, at any level a user is likely to paste: the whole
message/response, its list of content blocks/output items, one tool_use/computer_call, or one
bare action. Coordinates are pixels of the screenshot that was sent.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import ModelAction, ParsedAnswer, Prompt, done, number, scroll_amount


def _load(text: str) -> Any:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidOutput(
            f"expected the API's JSON (a message, a tool call or an action): {exc.msg}", raw=text
        ) from None


def _point(value: Any, what: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidOutput(f"{what} must be [x, y] in pixels, got {value!r}", raw=repr(value))
    return float(value[0]), float(value[1])


# --- Anthropic ---------------------------------------------------------------------------------


def _anthropic_inputs(obj: Any) -> tuple[str | None, list[dict[str, Any]]]:
    """(text of the answer, the computer tool inputs in order)."""
    if isinstance(obj, dict) and "content" in obj:
        obj = obj["content"]
    if isinstance(obj, dict) and obj.get("type") == "tool_use":
        obj = [obj]
    if isinstance(obj, dict) and "action" in obj:
        return None, [obj]
    if not isinstance(obj, list):
        raise InvalidOutput(
            "expected content blocks, a tool_use block or a computer action", raw=str(obj)[:200]
        )
    texts, inputs = [], []
    for block in obj:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use" and isinstance(block.get("input"), dict):
            inputs.append(block["input"])
        elif "action" in block and "type" not in block:
            inputs.append(block)
    return ("\n".join(texts).strip() or None), inputs


def _xdotool_keys(text: str) -> list[list[str]]:
    """xdotool key syntax: space-separated presses, each a ``+``-joined combination."""
    return [[k for k in press.split("+") if k] for press in text.split() if press.strip("+")]


def parse_anthropic(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    space = ModelSpace.pixels(*model_size)
    thought, inputs = _anthropic_inputs(_load(text))
    if not inputs:
        raise InvalidOutput("the answer holds no computer tool call", raw=text)
    out: list[ModelAction] = []
    pointer: tuple[float, float] | None = None

    def at(args: dict[str, Any], action: str) -> tuple[float, float]:
        nonlocal pointer
        if args.get("coordinate") is not None:
            pointer = _point(args["coordinate"], f"{action}.coordinate")
        if pointer is None:
            raise InvalidOutput(
                f"{action} without a coordinate and no earlier mouse_move", raw=text
            )
        return pointer

    clicks = {"left_click": ("left", 1), "right_click": ("right", 1), "middle_click": ("middle", 1),
              "double_click": ("left", 2), "triple_click": ("left", 3)}  # fmt: skip
    for args in inputs:
        action = str(args.get("action", ""))
        if action in clicks:
            button, n = clicks[action]
            x, y = at(args, action)
            mods = [k for k in str(args.get("text") or args.get("key") or "").split("+") if k]
            data: dict[str, Any] = {
                "action": "click",
                "x": x,
                "y": y,
                "button": button,
                "clicks": n,
            }
            if mods:
                data["modifiers"] = mods
            out.append(ModelAction(data=data, space=space))
        elif action == "mouse_move":
            x, y = at(args, action)
            out.append(ModelAction(data={"action": "move", "x": x, "y": y}, space=space))
        elif action == "left_click_drag":
            sx, sy = (
                _point(args["start_coordinate"], "start_coordinate")
                if args.get("start_coordinate") is not None
                else at({}, action)
            )
            tx, ty = _point(args.get("coordinate"), "left_click_drag.coordinate")
            pointer = (tx, ty)
            out.append(
                ModelAction(
                    data={"action": "drag", "x": sx, "y": sy, "to_x": tx, "to_y": ty}, space=space
                )
            )
        elif action == "key":
            for combo in _xdotool_keys(str(args.get("text", ""))):
                out.append(ModelAction(data={"action": "key", "keys": combo}))
            if not args.get("text"):
                raise InvalidOutput("key needs text such as 'ctrl+s'", raw=text)
        elif action == "type":
            out.append(ModelAction(data={"action": "type", "text": str(args.get("text", ""))}))
        elif action == "scroll":
            data = {"action": "scroll", "direction": str(args.get("scroll_direction", "down")),
                    "amount": scroll_amount(args.get("scroll_amount", 3))}  # fmt: skip
            if args.get("coordinate") is not None:
                x, y = at(args, action)
                out.append(ModelAction(data={**data, "x": x, "y": y}, space=space))
            else:
                out.append(ModelAction(data=data))
        elif action == "wait":
            out.append(
                ModelAction(
                    data={
                        "action": "wait",
                        "seconds": number(args.get("duration", 1), "wait.duration"),
                    }
                )
            )
        elif action == "screenshot":
            out.append(
                ModelAction(data={"action": "wait", "seconds": 0})
            )  # every step captures anyway
        else:
            raise InvalidOutput(
                f"computer action {action!r} is not supported here (left_mouse_down/up, hold_key, "
                "cursor_position and zoom have no equivalent); use clicks, mouse_move, "
                "left_click_drag, key, type, scroll or wait",
                raw=text,
            )
    return ParsedAnswer(thought=thought, actions=tuple(out))


def anthropic_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    w, h = size
    steps = f"\n\nEarlier steps:\n{history}" if history else ""
    return Prompt(
        system="You operate a computer through the `computer` tool "
        f"(display {w}x{h} pixels). Answer with the tool's input as JSON, for example "
        '{"action": "left_click", "coordinate": [x, y]}.',
        user=f"{task}{steps}",
    )


# --- OpenAI ------------------------------------------------------------------------------------


def _message_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict)).strip()
    return ""


def _openai_actions(obj: Any) -> tuple[list[dict[str, Any]], str | None]:
    """(the actions of every computer_call in order, the text of a final message)."""
    if isinstance(obj, dict) and isinstance(obj.get("output"), list):
        obj = obj["output"]
    items = obj if isinstance(obj, list) else [obj]
    out: list[dict[str, Any]] = []
    message: str | None = None
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            message = _message_text(item) or message
        elif item.get("type") == "computer_call":
            if isinstance(item.get("actions"), list):
                out += [a for a in item["actions"] if isinstance(a, dict)]
            elif isinstance(item.get("action"), dict):
                out.append(item["action"])
        elif "type" in item and item["type"] not in ("reasoning", "function_call"):
            out.append(item)
    return out, message


def parse_openai(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    space = ModelSpace.pixels(*model_size)
    actions, message = _openai_actions(_load(text))
    if not actions:
        if message is not None:  # a reply without a computer_call ends the task
            return ParsedAnswer(thought=None, actions=(done(True, message or None),))
        raise InvalidOutput("the answer holds no computer_call action", raw=text)
    out: list[ModelAction] = []

    def xy(a: dict[str, Any], kind: str) -> tuple[float, float]:
        return _point([a.get("x"), a.get("y")], f"{kind} x, y")

    for a in actions:
        kind = str(a.get("type", ""))
        if kind in ("click", "double_click"):
            button = str(a.get("button", "left"))
            if button not in ("left", "right", "wheel", "middle"):
                raise InvalidOutput(
                    f"click button {button!r} is not supported (left, right, wheel)", raw=text
                )
            x, y = xy(a, kind)
            out.append(ModelAction(data={"action": "click", "x": x, "y": y,
                                         "button": "middle" if button == "wheel" else button,
                                         "clicks": 2 if kind == "double_click" else 1}, space=space))  # fmt: skip
        elif kind == "move":
            x, y = xy(a, kind)
            out.append(ModelAction(data={"action": "move", "x": x, "y": y}, space=space))
        elif kind == "drag":
            path = a.get("path")
            if (
                not isinstance(path, list)
                or len(path) < 2
                or not all(isinstance(p, dict) for p in path)
            ):
                raise InvalidOutput("drag.path must list at least two {x, y} points", raw=text)
            (sx, sy), (tx, ty) = xy(path[0], "drag.path"), xy(path[-1], "drag.path")
            out.append(
                ModelAction(
                    data={"action": "drag", "x": sx, "y": sy, "to_x": tx, "to_y": ty}, space=space
                )
            )
        elif kind == "scroll":
            x, y = xy(a, kind)
            sx, sy = a.get("scroll_x") or 0, a.get("scroll_y") or 0
            if not isinstance(sx, (int, float)) or not isinstance(sy, (int, float)):
                raise InvalidOutput("scroll_x and scroll_y must be numbers", raw=text)
            if sy:  # positive scroll_y scrolls down (the page moves up)
                out.append(ModelAction(data={"action": "scroll", "x": x, "y": y, "direction": "down" if sy > 0 else "up",
                                             "amount": scroll_amount(abs(sy) / 100)}, space=space))  # fmt: skip
            if sx:
                out.append(ModelAction(data={"action": "scroll", "x": x, "y": y, "direction": "right" if sx > 0 else "left",
                                             "amount": scroll_amount(abs(sx) / 100)}, space=space))  # fmt: skip
            if not sx and not sy:
                raise InvalidOutput("scroll with scroll_x = scroll_y = 0", raw=text)
        elif kind == "keypress":
            keys = a.get("keys")
            if not isinstance(keys, list) or not keys:
                raise InvalidOutput("keypress.keys must be a non-empty list", raw=text)
            out.append(
                ModelAction(
                    data={
                        "action": "key",
                        "keys": [str(k) for k in keys],
                    }
                )
            )
        elif kind == "type":
            out.append(ModelAction(data={"action": "type", "text": str(a.get("text", ""))}))
        elif kind == "wait":
            out.append(ModelAction(data={"action": "wait", "seconds": 1.0}))
        elif kind == "screenshot":
            out.append(ModelAction(data={"action": "wait", "seconds": 0}))
        else:
            raise InvalidOutput(f"unknown computer action type {kind!r}", raw=text)
    return ParsedAnswer(thought=None, actions=tuple(out))


def openai_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    w, h = size
    steps = f"\n\nEarlier steps:\n{history}" if history else ""
    return Prompt(
        system=f"You operate a computer (display {w}x{h} pixels). Answer with one computer_call "
        'as JSON, for example {"type": "computer_call", "action": {"type": "click", "button": '
        '"left", "x": 10, "y": 20}}; several actions go in "actions": [...]. When the task is '
        'finished, answer {"type": "message", "content": "done"}.',
        user=f"{task}{steps}",
    )
