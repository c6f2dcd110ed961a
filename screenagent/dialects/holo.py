"""H company's Holo families: Holo1 (``Click(x, y)``), Holo1.5 and Holo2 (a JSON click), and
the navigation step of Holo1's cookbook (``hcompai/hai-cookbook``: ``utils/localization.py``,
``utils/navigation.py``, ``holo1_5/holo_1_5_quickstart.ipynb``,
``holo2/holo_2_localization_huggingface.ipynb``).

A navigation step is one JSON object ``{"note": ..., "thought": ..., "action": {...}}`` whose
action is one of ``click_element{element, x, y}``, ``write_element_abs{content, element, x, y}``
(write there, then press Enter), ``scroll{direction}``, ``go_back``, ``refresh``, ``goto{url}``,
``wait{seconds}``, ``restart`` and ``answer{content}``; x and y are pixels of the image the
model saw. The browser actions become the keys a desktop browser knows (Alt+Left, F5, Ctrl+L).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import ModelAction, ParsedAnswer, Prompt, done, number, phone_action, refuse_phone_action

_HOLO1_CLICK = re.compile(r"Click\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)")


def _click(x: float, y: float, space: ModelSpace) -> ModelAction:
    return ModelAction(data={"action": "click", "x": x, "y": y}, space=space)


def _key(*keys: str) -> ModelAction:
    return ModelAction(data={"action": "key", "keys": list(keys)})


def _type(text: str) -> ModelAction:
    return ModelAction(data={"action": "type", "text": text})


def parse_holo1(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    m = _HOLO1_CLICK.search(text)
    if m:
        return ParsedAnswer(thought=None, actions=(_click(float(m.group(1)), float(m.group(2)),
                                                          ModelSpace.pixels(*model_size)),))  # fmt: skip
    return _holo_json(text, ModelSpace.pixels(*model_size))


def holo1_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user="Localize an element on the GUI image according to my instructions \nand output a "
        "click position as Click(x, y) with x num pixels from \nthe left edge and y num pixels "
        f"from the top edge.\n\n{target}"
    )


class ClickAbsoluteAction(BaseModel):
    """Holo1.5's localization answer: a click in pixels of the image it saw."""

    action: Literal["click_absolute"] = "click_absolute"
    x: int = Field(description="The x coordinate, number of pixels from the left edge.")
    y: int = Field(description="The y coordinate, number of pixels from the top edge.")


class ClickCoordinates(BaseModel):
    """Holo2's localization answer, normalised to 0-1000."""

    x: int = Field(ge=0, le=1000, description="The x coordinate, normalized between 0 and 1000.")
    y: int = Field(ge=0, le=1000, description="The y coordinate, normalized between 0 and 1000.")


def _holo_prompt(schema: type[BaseModel]) -> Any:
    def prompt(target: str, size: tuple[int, int]) -> Prompt:
        return Prompt(
            user="Localize an element on the GUI image according to the provided target and "
            "output a click position.\n     * You must output a valid JSON following the format: "
            f"{schema.model_json_schema()}\n     Your target is:\n{target}"
        )

    return prompt


def _first_object(text: str) -> dict[str, Any]:
    """The first whole JSON object in the text (nested objects included)."""
    start = text.find("{")
    if start < 0:
        raise InvalidOutput('expected a JSON click like {"x": 552, "y": 404}', raw=text)
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        raise InvalidOutput(f"the answer's JSON cannot be read: {exc.msg}", raw=text) from None
    if not isinstance(obj, dict):
        raise InvalidOutput('expected a JSON object like {"x": 552, "y": 404}', raw=text)
    return obj


def _point(obj: dict[str, Any], text: str) -> tuple[float, float]:
    if "x" not in obj or "y" not in obj:
        raise InvalidOutput('the JSON needs "x" and "y"', raw=text)
    try:
        return float(obj["x"]), float(obj["y"])
    except (TypeError, ValueError):
        raise InvalidOutput('"x" and "y" must be numbers', raw=text) from None


def _text_field(act: dict[str, Any], key: str, text: str) -> str:
    value = act.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidOutput(f'{act.get("action")}: "{key}" must be a non-empty string', raw=text)
    return value


def _navigation(act: dict[str, Any], space: ModelSpace, text: str) -> list[ModelAction]:
    """One navigation action -> actions in the public schema."""
    name = act.get("action")
    if name == "click_element":
        return [_click(*_point(act, text), space)]
    if name == "write_element_abs":
        return [_click(*_point(act, text), space), _type(_text_field(act, "content", text)), _key("enter")]
    if name == "scroll":
        direction = act.get("direction")
        if direction not in ("up", "down", "left", "right"):
            raise InvalidOutput(f"scroll: direction must be up, down, left or right, got {direction!r}", raw=text)
        return [ModelAction(data={"action": "scroll", "direction": direction})]
    if name == "go_back":
        return [_key("alt", "left")]
    if name == "refresh":
        return [_key("f5")]
    if name == "goto":
        return [_key("ctrl", "l"), _type(_text_field(act, "url", text)), _key("enter")]
    if name == "wait":
        seconds = number(act.get("seconds", 2), "wait: seconds")
        return [ModelAction(data={"action": "wait", "seconds": seconds})]
    if name == "answer":
        return [done(True, _text_field(act, "content", text))]
    if name == "restart":
        raise InvalidOutput(
            "restart (start the task over) is not an action screenagent takes: give the next "
            "action on the screen as it is", raw=text,
        )  # fmt: skip
    if isinstance(name, str) and phone_action(name):
        raise refuse_phone_action(name, text)
    raise InvalidOutput(
        f"unknown action {name!r}: expected click_element, write_element_abs, scroll, go_back, "
        "refresh, goto, wait or answer", raw=text,
    )  # fmt: skip


def _holo_json(text: str, space: ModelSpace) -> ParsedAnswer:
    """A JSON click ``{"x", "y"}`` (with or without ``"action"``), or a navigation step whose
    ``"action"`` is an object."""
    obj = _first_object(text)
    act = obj.get("action")
    if isinstance(act, dict):
        thought = obj.get("thought") if isinstance(obj.get("thought"), str) else None
        note = obj.get("note")
        if isinstance(note, str) and note.strip():
            thought = f"{thought or ''}\nNotes: {note.strip()}".strip()
        return ParsedAnswer(thought=thought, actions=tuple(_navigation(act, space, text)))
    return ParsedAnswer(thought=None, actions=(_click(*_point(obj, text), space),))


def parse_holo15(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    return _holo_json(text, ModelSpace.pixels(*model_size))


def parse_holo2(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    return _holo_json(text, ModelSpace.relative(1000))


holo15_grounding = _holo_prompt(ClickAbsoluteAction)
holo2_grounding = _holo_prompt(ClickCoordinates)


# --- Holo3 / Holo3.1: one JSON step {note, thought, tool_call: {tool_name, ...}}, [0, 1000] -------
# hub.hcompany.ai/agent-loop: the harness declares its tools as a union of schemas tagged by a
# Literal ``tool_name`` and shows the schema in the system prompt; ``tool_call`` is flat (the
# arguments are siblings of ``tool_name``); coordinates are integers in [0, 1000] of the image
# sent; ``note`` is the model's memory (null when there is nothing new).

_H3 = ModelSpace.relative(1000)


class _At(BaseModel):
    element: str = Field(description="What is at the point, in words.")
    x: int = Field(ge=0, le=1000, description="Horizontal position, 0 (left edge) to 1000 (right edge).")
    y: int = Field(ge=0, le=1000, description="Vertical position, 0 (top edge) to 1000 (bottom edge).")


class H3Click(_At):
    tool_name: Literal["click"]


class H3DoubleClick(_At):
    tool_name: Literal["double_click"]


class H3RightClick(_At):
    tool_name: Literal["right_click"]


class H3Write(BaseModel):
    tool_name: Literal["write"]
    content: str = Field(description="The text to type.")
    element: str | None = Field(default=None, description="The field to type into, in words.")
    x: int | None = Field(default=None, ge=0, le=1000, description="The field's position (clicked first).")
    y: int | None = Field(default=None, ge=0, le=1000)
    press_enter: bool = Field(default=False, description="Press Enter after the text.")


class H3Key(BaseModel):
    tool_name: Literal["key"]
    keys: list[str] = Field(description='Keys held together, e.g. ["ctrl", "s"].')


class H3Scroll(BaseModel):
    tool_name: Literal["scroll"]
    direction: Literal["up", "down", "left", "right"]
    x: int | None = Field(default=None, ge=0, le=1000, description="Where to scroll (default: the pointer).")
    y: int | None = Field(default=None, ge=0, le=1000)


class H3Wait(BaseModel):
    tool_name: Literal["wait"]
    seconds: float = Field(default=2, ge=0, le=30)


class H3Answer(BaseModel):
    tool_name: Literal["answer"]
    content: str = Field(description="The final answer, or what was done.")


class H3Step(BaseModel):
    note: str | None = Field(description="Facts from this screen that later steps need; null if none.")
    thought: str = Field(description="A one-line plan for this action.")
    tool_call: H3Click | H3DoubleClick | H3RightClick | H3Write | H3Key | H3Scroll | H3Wait | H3Answer = Field(
        discriminator="tool_name")


HOLO3_SYSTEM = (
    "You operate a desktop computer to complete the user's task, one action per turn. Each turn "
    "you get a screenshot. Answer with exactly one JSON object: \"note\" keeps facts you will "
    "need later (null when there is nothing new), \"thought\" is your plan for this step in one "
    "line, and \"tool_call\" is the action, its tool_name beside its arguments. Positions are "
    "integers from 0 to 1000 across the screenshot's width (x) and height (y). When the task is "
    "done, call answer.\n<output_format>\n{schema}\n</output_format>"
)


def holo3_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    user = f"<task>\n{task}\n</task>"
    if history:
        user += f"\n<history>\n{history}\n</history>"
    return Prompt(system=HOLO3_SYSTEM.format(schema=json.dumps(H3Step.model_json_schema())), user=user)


def _holo3_tool(call: dict[str, Any], text: str) -> list[ModelAction]:
    name = call.get("tool_name")
    clicks: dict[str, dict[str, Any]] = {"click": {}, "double_click": {"clicks": 2}, "right_click": {"button": "right"}}
    if name in clicks:
        x, y = _point(call, text)
        return [ModelAction(data={"action": "click", "x": x, "y": y, **clicks[name]}, space=_H3)]
    if name == "write":
        out = []
        if call.get("x") is not None or call.get("y") is not None:
            out.append(_click(*_point(call, text), _H3))
        out.append(_type(_text_field(call, "content", text)))
        if call.get("press_enter") is True:
            out.append(_key("enter"))
        return out
    if name == "key":
        keys = call.get("keys")
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise InvalidOutput('key: "keys" must be a list of key names', raw=text)
        return [_key(*keys)]
    if name == "scroll":
        act = _navigation({"action": "scroll", "direction": call.get("direction")}, _H3, text)[0]
        if call.get("x") is None and call.get("y") is None:
            return [act]
        x, y = _point(call, text)
        return [ModelAction(data={**act.data, "x": x, "y": y}, space=_H3)]
    if name == "wait":
        return [ModelAction(data={"action": "wait", "seconds": number(call.get("seconds", 2), "wait: seconds")})]
    if name == "answer":
        return [done(True, _text_field(call, "content", text))]
    if isinstance(name, str) and phone_action(name):
        raise refuse_phone_action(name, text)
    raise InvalidOutput(f"unknown tool_name {name!r}: expected click, double_click, right_click, write, key, "
                        "scroll, wait or answer", raw=text)  # fmt: skip


def parse_holo3(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    """A Holo3 step, or a plain ``{"x", "y"}`` click in [0, 1000] (its localization answer)."""
    tagged = re.search(r"<tool_call>(.*?)</tool_call>", text, re.S)
    if tagged:
        # a tool call as a server's tool parser returns it ({"name", "arguments"}, written back
        # by the OpenAI backend): the name is the tool_name of the union, the arguments its
        # fields; the note and thought, if any, are in the JSON of the content before it
        called = _first_object(tagged.group(1))
        rest = text[: tagged.start()] + text[tagged.end():]
        obj = _first_object(rest) if "{" in rest else {}
        if isinstance(called.get("name"), str) and isinstance(called.get("arguments"), dict):
            obj = {**obj, "tool_call": {**called["arguments"], "tool_name": called["name"]}}
    else:
        obj = _first_object(text)
    call = obj.get("tool_call")
    if not isinstance(call, dict):
        return ParsedAnswer(thought=None, actions=(_click(*_point(obj, text), _H3),))
    thought = obj.get("thought") if isinstance(obj.get("thought"), str) else None
    note = obj.get("note")
    if isinstance(note, str) and note.strip():
        thought = f"{thought or ''}\nNotes: {note.strip()}".strip()
    return ParsedAnswer(thought=thought, actions=tuple(_holo3_tool(call, text)))
