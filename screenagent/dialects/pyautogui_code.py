"""Families that answer in pyautogui-style code: Aguvis, OpenCUA (AgentNet action language)
and GUI-Actor (whose text carries no coordinates at all).

The code is read with ``ast.parse`` (syntax only) and each call's arguments with
``ast.literal_eval``; nothing the model wrote is executed. Statements become actions in
order: ``moveTo`` + ``dragTo`` is one drag, ``hotkey`` one key combination.
"""

from __future__ import annotations

import ast
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
    key_names,
    number,
    phone_action,
    refuse_phone_action,
    scroll_amount,
    split_keys,
)

_FENCED = re.compile(r"```(?:python|code|py)?[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_POINTER = re.compile(r"<\|pointer_(?:start|pad|end)\|>")
_CODE_LINE = re.compile(r"^\s*(?:pyautogui|computer|mobile)\.\w+\(", re.M)

SpaceRule = Callable[[float, float, tuple[int, int]], ModelSpace]
"""(x, y as written, model-input size) -> the space the point is in (OpenCUA decides per point)."""


def code_of(text: str, *, last_block: bool) -> str:
    """The code in an answer: the last (OpenCUA) or first fenced block that holds calls, else
    the lines that start with ``pyautogui.`` / ``computer.`` / ``mobile.``."""
    blocks = [b for b in _FENCED.findall(text) if _CODE_LINE.search(b)]
    if blocks:
        return blocks[-1] if last_block else blocks[0]
    lines = [ln.strip() for ln in text.splitlines() if _CODE_LINE.match(ln)]
    if not lines:
        raise InvalidOutput(
            "no action code in the answer; write e.g. pyautogui.click(x=0.5, y=0.3) "
            "(in a ```python block) or computer.terminate(status='success')",
            raw=text,
        )
    return "\n".join(lines)


def _calls(code: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        raise InvalidOutput(
            f"cannot read the action code: {exc.msg} in {code[:120]!r}", raw=code
        ) from None
    out = []
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            raise InvalidOutput(
                f"only action calls are allowed, not {ast.unparse(stmt)[:80]!r}", raw=code
            )
        call = stmt.value
        name = ast.unparse(call.func)
        try:
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise InvalidOutput(f"{name}: arguments must be literals", raw=code) from None
        if any(k.arg is None for k in call.keywords):
            raise InvalidOutput(f"{name}: ** arguments are not allowed", raw=code)
        out.append((name, args, kwargs))
    return out


def _count(value: Any, what: str, top: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise InvalidOutput(
            f"{what} must be a whole number from 1 to {top}, got {value!r}", raw=repr(value)
        )
    return value


class _Reader:
    """Turns the calls of one answer into ModelActions, tracking the pointer for dragTo."""

    def __init__(self, space_of: Callable[[float, float], ModelSpace]) -> None:
        self.space_of = space_of
        self.pointer: tuple[float, float, ModelSpace] | None = None
        self.actions: list[ModelAction] = []

    def point(
        self, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[float, float, ModelSpace]:
        if "x" in kwargs or "y" in kwargs:
            x, y = kwargs.get("x"), kwargs.get("y")
        elif len(args) >= 2:
            x, y = args[0], args[1]
        elif args and isinstance(args[0], (list, tuple)) and len(args[0]) == 2:
            x, y = args[0]
        else:
            raise InvalidOutput(
                f"{name}: give the point as x=..., y=...", raw=f"{name}{args}{kwargs}"
            )
        fx, fy = number(x, f"{name}: x"), number(y, f"{name}: y")
        return fx, fy, self.space_of(fx, fy)

    def add(self, data: dict[str, Any], at: tuple[float, float, ModelSpace] | None = None) -> None:
        if at is None:
            self.actions.append(ModelAction(data=data))
            return
        x, y, space = at
        self.actions.append(ModelAction(data={**data, "x": x, "y": y}, space=space))
        self.pointer = at

    def read(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        """One call of the answer's code -> actions (appended to ``self.actions``)."""
        short = name.split(".", 1)[1] if name.startswith("pyautogui.") else name
        if short in _CLICKS:
            self._click(short, args, kwargs)
        elif short in _CALLS:
            getattr(self, _CALLS[short])(short, args, kwargs)
        elif name in ("computer.terminate", "terminate"):
            status = str(kwargs.get("status", args[0] if args else "success")).lower()
            answer = kwargs.get("answer")
            self.actions.append(done(status == "success", str(answer) if answer else None))
        elif name in ("computer.wait", "mobile.wait", "wait", "time.sleep", "pyautogui.sleep"):
            seconds = kwargs.get("seconds", args[0] if args else 1)
            self.add({"action": "wait", "seconds": number(seconds, "wait: seconds")})
        elif name.startswith("mobile.") or phone_action(name):
            raise refuse_phone_action(name, name)
        else:
            raise InvalidOutput(
                f"unknown action {name!r}; use pyautogui.click/doubleClick/rightClick/moveTo/dragTo/"
                "write/press/hotkey/scroll or computer.terminate",
                raw=name,
            )

    def _click(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        has_point = (bool(args) and not isinstance(args[0], str)) or "x" in kwargs
        button, n = _CLICKS[short]
        button = str(kwargs.get("button", button))
        n = _count(kwargs.get("clicks", n), f"{short}: clicks", 3)
        at = self.point(short, args, kwargs) if has_point else self.pointer
        if at is None:
            raise InvalidOutput(f"{short} without a point and no earlier moveTo", raw=short)
        self.add({"action": "click", "button": button, "clicks": n}, at)

    def _move(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.add({"action": "move"}, self.point(short, args, kwargs))

    def _drag(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        if self.pointer is None:
            raise InvalidOutput("dragTo drags from the pointer: moveTo the start first", raw=short)
        sx, sy, space = self.pointer
        tx, ty, tspace = self.point(short, args, kwargs)
        if tspace != space:
            raise InvalidOutput("moveTo and dragTo points are in different spaces", raw=short)
        if self.actions and self.actions[-1].data.get("action") == "move":
            self.actions.pop()  # moveTo + dragTo is one drag
        self.actions.append(ModelAction(
            data={"action": "drag", "x": sx, "y": sy, "to_x": tx, "to_y": ty}, space=space))  # fmt: skip
        self.pointer = (tx, ty, tspace)

    def _write(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        text = kwargs.get(
            "message", kwargs.get("text", kwargs.get("content", args[0] if args else None))
        )
        if not isinstance(text, str) or not text:
            raise InvalidOutput(f"{short}: message must be non-empty text", raw=short)
        self.add({"action": "type", "text": text})

    def _press(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        keys = key_names(kwargs.get("keys", args[0] if args else None), "press: keys")
        presses = _count(kwargs.get("presses", 1), "press: presses", 10)
        for key in keys * presses:
            self.add({"action": "key", "keys": [key]})

    def _hotkey(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        raw_keys = kwargs.get("keys", list(args))
        keys = (
            split_keys(raw_keys) if isinstance(raw_keys, str) else key_names(raw_keys, "hotkey: keys")
        )
        self.add({"action": "key", "keys": keys})

    def _scroll(self, short: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        amount = number(
            kwargs.get("clicks", kwargs.get("page", args[0] if args else None)), f"{short}: amount"
        )
        if "page" in kwargs:
            amount *= 10  # a page is about ten wheel clicks
        if short == "scroll":
            direction = "up" if amount > 0 else "down"  # pyautogui: positive scrolls up
        else:
            direction = "right" if amount > 0 else "left"
        data = {"action": "scroll", "direction": direction, "amount": scroll_amount(amount)}
        if "x" in kwargs or len(args) >= 3:
            x = kwargs.get("x", args[1] if len(args) >= 3 else None)
            y = kwargs.get("y", args[2] if len(args) >= 3 else None)
            self.add(data, self.point(short, [], {"x": x, "y": y}))
        else:
            self.add(data)


_CLICKS = {"click": ("left", 1), "leftClick": ("left", 1), "doubleClick": ("left", 2),
           "tripleClick": ("left", 3), "computer.triple_click": ("left", 3),
           "rightClick": ("right", 1), "middleClick": ("middle", 1)}  # fmt: skip
_CALLS = {"moveTo": "_move", "dragTo": "_drag", "write": "_write", "typewrite": "_write",
          "press": "_press", "hotkey": "_hotkey", "scroll": "_scroll", "hscroll": "_scroll"}  # fmt: skip


def _thought(text: str) -> str | None:
    m = re.search(
        r"(?:##\s*)?Thought:\s*(.*?)(?=\n\s*(?:##\s*)?(?:Action|Code):|```|\Z)", text, re.S
    )
    return (m.group(1).strip() or None) if m else None


def parse_code(
    space_of: SpaceRule, *, last_block: bool
) -> Callable[[str, tuple[int, int]], ParsedAnswer]:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        if _POINTER.search(text):
            raise InvalidOutput(
                "the answer has no coordinates: GUI-Actor marks its target with <|pointer_pad|>, "
                "which only its action head can resolve; use a family that writes coordinates",
                raw=text,
            )
        code = code_of(text, last_block=last_block)
        reader = _Reader(lambda x, y: space_of(x, y, model_size))
        for name, args, kwargs in _calls(code):
            reader.read(name, args, kwargs)
        if not reader.actions:
            raise InvalidOutput("the code holds no action", raw=text)
        return ParsedAnswer(thought=_thought(text), actions=tuple(reader.actions))

    return parse


def opencua_space(x: float, y: float, model_size: tuple[int, int]) -> ModelSpace:
    """OpenCUA (OSWorld ``_coordinate_projection``, ``qwen25``): a point with both values in
    [0, 1] is relative; anything else is pixels of the smart-resized image."""
    if 0 <= x <= 1 and 0 <= y <= 1:
        return ModelSpace.relative(1.0)
    return ModelSpace.pixels(*model_size)


def unit_space(x: float, y: float, model_size: tuple[int, int]) -> ModelSpace:
    """Aguvis and GUI-Actor: relative 0-1 floats."""
    return ModelSpace.relative(1.0)


def parse_gui_actor(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    """GUI-Actor's text never carries coordinates (its pointer head does); terminal actions
    are still read, everything else is reported as having no coordinates."""
    if _POINTER.search(text) or not re.search(r"\d", text):
        raise InvalidOutput(
            "the answer has no coordinates: GUI-Actor writes <|pointer_pad|> where a point "
            "should be and resolves it with its own action head, which a text parser cannot; "
            "run a family that writes coordinates, or use GUI-Actor through its own inference code",
            raw=text,
        )
    return parse_aguvis(text, model_size)


AGUVIS_SYSTEM = (
    "You are a GUI agent. You are given a task and a screenshot of the screen. "
    "You need to perform a series of pyautogui actions to complete the task."
)


def aguvis_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(system=AGUVIS_SYSTEM, user=target)


def aguvis_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        system=AGUVIS_SYSTEM,
        user="Please generate the next move according to the ui screenshot, instruction and "
        f"previous actions.\n\nInstruction: {task}\n\nPrevious actions:\n{history or 'None'}",
    )


_OPENCUA_AGENT_SYSTEM = (
    AGUVIS_SYSTEM
    + """

For each step, provide your response in this format:

## Thought:
  - Step by step, reflect on the screen, what the last action did, and the next step toward the goal.

## Action:
  - One sentence: the next action, with the element it targets.

## Code:
  - The action as PyAutoGUI code in a ```python block (absolute pixel coordinates), or one of:
    computer.triple_click(x, y)
    computer.terminate(status='success' or 'failure')"""
)


def opencua_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    steps = f"\n\n# Previous steps:\n{history}" if history else ""
    return Prompt(
        system=_OPENCUA_AGENT_SYSTEM,
        user=f"\n# Task Instruction:\n{task}{steps}\n\nPlease generate the next move according to "
        "the screenshot, task instruction and previous steps (if provided).\n",
    )


parse_aguvis = parse_code(unit_space, last_block=False)
parse_opencua = parse_code(opencua_space, last_block=True)
