"""Action formats of hosted computer-use APIs: Anthropic's computer tool and OpenAI's
computer-use calls (single ``action`` and batched ``actions``).

The raw answer is the JSON the API returned, at any level a user is likely to paste: the whole
message/response, its list of content blocks/output items, one tool_use/computer_call, or one
bare action. Coordinates are pixels of the screenshot that was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from ..models import loads
from .base import ModelAction, ParsedAnswer, Prompt, done, number, scroll_amount


def _load(text: str) -> Any:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    return loads(body, raw=text, what="expected the API's JSON (a message, a tool call or an action)")


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


_ANTHROPIC_CLICKS = {"left_click": ("left", 1), "right_click": ("right", 1),
                     "middle_click": ("middle", 1), "double_click": ("left", 2),
                     "triple_click": ("left", 3)}  # fmt: skip


class _AnthropicReader:
    """Turns the computer tool's inputs into actions; remembers where the pointer is (a click
    without a coordinate clicks where the last mouse_move left it)."""

    def __init__(self, space: ModelSpace, raw: str) -> None:
        self.space = space
        self.raw = raw
        self.pointer: tuple[float, float] | None = None

    def at(self, args: dict[str, Any], action: str) -> tuple[float, float]:
        if args.get("coordinate") is not None:
            self.pointer = _point(args["coordinate"], f"{action}.coordinate")
        if self.pointer is None:
            raise InvalidOutput(f"{action} without a coordinate and no earlier mouse_move",
                                raw=self.raw)  # fmt: skip
        return self.pointer

    def click(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        button, n = _ANTHROPIC_CLICKS[action]
        x, y = self.at(args, action)
        mods = [k for k in str(args.get("text") or args.get("key") or "").split("+") if k]
        data: dict[str, Any] = {"action": "click", "x": x, "y": y, "button": button, "clicks": n}
        if mods:
            data["modifiers"] = mods
        return [ModelAction(data=data, space=self.space)]

    def mouse_move(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        x, y = self.at(args, action)
        return [ModelAction(data={"action": "move", "x": x, "y": y}, space=self.space)]

    def left_click_drag(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        start = args.get("start_coordinate")
        sx, sy = _point(start, "start_coordinate") if start is not None else self.at({}, action)
        tx, ty = _point(args.get("coordinate"), "left_click_drag.coordinate")
        self.pointer = (tx, ty)
        data = {"action": "drag", "x": sx, "y": sy, "to_x": tx, "to_y": ty}
        return [ModelAction(data=data, space=self.space)]

    def key(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        if not args.get("text"):
            raise InvalidOutput("key needs text such as 'ctrl+s'", raw=self.raw)
        return [ModelAction(data={"action": "key", "keys": combo})
                for combo in _xdotool_keys(str(args["text"]))]  # fmt: skip

    def type(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        return [ModelAction(data={"action": "type", "text": str(args.get("text", ""))})]

    def scroll(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        data = {"action": "scroll", "direction": str(args.get("scroll_direction", "down")),
                "amount": scroll_amount(args.get("scroll_amount", 3))}  # fmt: skip
        if args.get("coordinate") is None:
            return [ModelAction(data=data)]
        x, y = self.at(args, action)
        return [ModelAction(data={**data, "x": x, "y": y}, space=self.space)]

    def wait(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        seconds = number(args.get("duration", 1), "wait.duration")
        return [ModelAction(data={"action": "wait", "seconds": seconds})]

    def screenshot(self, args: dict[str, Any], action: str) -> list[ModelAction]:
        return [ModelAction(data={"action": "wait", "seconds": 0})]  # every step captures anyway

    def read(self, args: dict[str, Any]) -> list[ModelAction]:
        action = str(args.get("action", ""))
        if action in _ANTHROPIC_CLICKS:
            return self.click(args, action)
        if action not in _ANTHROPIC_ACTIONS:
            raise InvalidOutput(
                f"computer action {action!r} is not supported here (left_mouse_down/up, hold_key, "
                "cursor_position and zoom have no equivalent); use clicks, mouse_move, "
                "left_click_drag, key, type, scroll or wait",
                raw=self.raw,
            )
        return getattr(self, action)(args, action)


_ANTHROPIC_ACTIONS = {"mouse_move", "left_click_drag", "key", "type", "scroll", "wait",
                      "screenshot"}  # fmt: skip


def parse_anthropic(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    thought, inputs = _anthropic_inputs(_load(text))
    if not inputs:
        raise InvalidOutput("the answer holds no computer tool call", raw=text)
    reader = _AnthropicReader(ModelSpace.pixels(*model_size), text)
    out = [action for args in inputs for action in reader.read(args)]
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


def _xy(a: dict[str, Any], kind: str) -> tuple[float, float]:
    return _point([a.get("x"), a.get("y")], f"{kind} x, y")


def _oa_click(a: dict[str, Any], kind: str, space: ModelSpace, raw: str) -> list[ModelAction]:
    button = str(a.get("button", "left"))
    if button not in ("left", "right", "wheel", "middle"):
        raise InvalidOutput(f"click button {button!r} is not supported (left, right, wheel)", raw=raw)
    x, y = _xy(a, kind)
    return [ModelAction(data={"action": "click", "x": x, "y": y,
                              "button": "middle" if button == "wheel" else button,
                              "clicks": 2 if kind == "double_click" else 1}, space=space)]  # fmt: skip


def _oa_move(a: dict[str, Any], kind: str, space: ModelSpace, raw: str) -> list[ModelAction]:
    x, y = _xy(a, kind)
    return [ModelAction(data={"action": "move", "x": x, "y": y}, space=space)]


def _oa_drag(a: dict[str, Any], kind: str, space: ModelSpace, raw: str) -> list[ModelAction]:
    path = a.get("path")
    if not isinstance(path, list) or len(path) < 2 or not all(isinstance(p, dict) for p in path):
        raise InvalidOutput("drag.path must list at least two {x, y} points", raw=raw)
    (sx, sy), (tx, ty) = _xy(path[0], "drag.path"), _xy(path[-1], "drag.path")
    return [ModelAction(data={"action": "drag", "x": sx, "y": sy, "to_x": tx, "to_y": ty},
                        space=space)]  # fmt: skip


def _oa_scroll(a: dict[str, Any], kind: str, space: ModelSpace, raw: str) -> list[ModelAction]:
    x, y = _xy(a, kind)
    sx, sy = a.get("scroll_x") or 0, a.get("scroll_y") or 0
    if not isinstance(sx, (int, float)) or not isinstance(sy, (int, float)):
        raise InvalidOutput("scroll_x and scroll_y must be numbers", raw=raw)
    if not sx and not sy:
        raise InvalidOutput("scroll with scroll_x = scroll_y = 0", raw=raw)
    out = []
    # positive scroll_y scrolls down (the page moves up)
    for amount, direction in ((sy, "down" if sy > 0 else "up"), (sx, "right" if sx > 0 else "left")):
        if amount:
            out.append(ModelAction(data={"action": "scroll", "x": x, "y": y, "direction": direction,
                                         "amount": scroll_amount(abs(amount) / 100)}, space=space))  # fmt: skip
    return out


def _oa_keypress(a: dict[str, Any], kind: str, space: ModelSpace, raw: str) -> list[ModelAction]:
    keys = a.get("keys")
    if not isinstance(keys, list) or not keys:
        raise InvalidOutput("keypress.keys must be a non-empty list", raw=raw)
    return [ModelAction(data={"action": "key", "keys": [str(k) for k in keys]})]


_OpenAIAct = Callable[[dict[str, Any], str, ModelSpace, str], "list[ModelAction]"]
_OPENAI_ACTIONS: dict[str, _OpenAIAct] = {
    "click": _oa_click, "double_click": _oa_click, "move": _oa_move, "drag": _oa_drag,
    "scroll": _oa_scroll, "keypress": _oa_keypress,
    "type": lambda a, k, s, r: [ModelAction(data={"action": "type", "text": str(a.get("text", ""))})],
    "wait": lambda a, k, s, r: [ModelAction(data={"action": "wait", "seconds": 1.0})],
    "screenshot": lambda a, k, s, r: [ModelAction(data={"action": "wait", "seconds": 0})],
}  # fmt: skip


def parse_openai(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    space = ModelSpace.pixels(*model_size)
    actions, message = _openai_actions(_load(text))
    if not actions:
        if message is not None:  # a reply without a computer_call ends the task
            return ParsedAnswer(thought=None, actions=(done(True, message or None),))
        raise InvalidOutput("the answer holds no computer_call action", raw=text)
    out: list[ModelAction] = []
    for a in actions:
        kind = str(a.get("type", ""))
        act = _OPENAI_ACTIONS.get(kind)
        if act is None:
            raise InvalidOutput(f"unknown computer action type {kind!r}", raw=text)
        out += act(a, kind, space, text)
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
