"""The action schema: one pydantic model per action, discriminated by ``action``.

This JSON form is a public contract: people write it by hand in scripts, model dialects parse
into it, and the step log stores it. Coordinates are integer pixels of the captured frame (the
image of the monitor or region that was captured); `geometry` maps them to the screen.

Validation happens in two layers. The models check everything that does not depend on the
screen (types, ranges, key names). `check_bounds` checks every point against the frame the
policy saw; an action off the frame is rejected, never clamped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

MAX_WAIT_SECONDS = 60.0
"""Longest single ``wait``: a longer pause is almost always a model mistake."""

MAX_TEXT_LENGTH = 10_000

# Canonical key names. Single printable ASCII characters are keys too (``a``, ``1``, ``/``).
_NAMED_KEYS = frozenset(
    {
        "enter",
        "tab",
        "space",
        "backspace",
        "delete",
        "escape",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
        "shift",
        "ctrl",
        "alt",
        "super",
        "capslock",
        "numlock",
        "scrolllock",
        "printscreen",
        "pause",
        "menu",
        *(f"f{i}" for i in range(1, 25)),
    }
)

MODIFIER_KEYS = frozenset({"shift", "ctrl", "alt", "super"})

# Aliases people and models use, after lower-casing and dropping "_", "-" and spaces.
_KEY_ALIASES = {
    "return": "enter",
    "ret": "enter",
    "kpenter": "enter",
    "esc": "escape",
    "del": "delete",
    "ins": "insert",
    "bksp": "backspace",
    "bs": "backspace",
    "pgdn": "pagedown",
    "pgdown": "pagedown",
    "next": "pagedown",
    "pgup": "pageup",
    "prior": "pageup",
    "arrowup": "up",
    "arrowdown": "down",
    "arrowleft": "left",
    "arrowright": "right",
    "uparrow": "up",
    "downarrow": "down",
    "leftarrow": "left",
    "rightarrow": "right",
    "spacebar": "space",
    "control": "ctrl",
    "ctl": "ctrl",
    "controll": "ctrl",
    "ctrll": "ctrl",
    "ctrlr": "ctrl",
    "controlleft": "ctrl",
    "controlright": "ctrl",
    "ctrlleft": "ctrl",
    "ctrlright": "ctrl",
    "shiftl": "shift",
    "shiftr": "shift",
    "shiftleft": "shift",
    "shiftright": "shift",
    "altl": "alt",
    "altr": "alt",
    "altleft": "alt",
    "altright": "alt",
    "option": "alt",
    "opt": "alt",
    "altgr": "alt",
    "cmd": "super",
    "command": "super",
    "win": "super",
    "windows": "super",
    "meta": "super",
    "superl": "super",
    "superr": "super",
    "winleft": "super",
    "winright": "super",
    "capital": "capslock",
    "caps": "capslock",
    "prtsc": "printscreen",
    "prtscr": "printscreen",
    "print": "printscreen",
    "prntscrn": "printscreen",
    "sysrq": "printscreen",
    "apps": "menu",
    "contextmenu": "menu",
    "plus": "+",
    "minus": "-",
    "comma": ",",
    "period": ".",
    "slash": "/",
    "backslash": "\\",
    "semicolon": ";",
    "apostrophe": "'",
    "quote": "'",
    "grave": "`",
    "equal": "=",
    "equals": "=",
    "bracketleft": "[",
    "bracketright": "]",
}


def normalize_key(name: str) -> str:
    """Return the canonical name of a key, or raise ValueError naming the bad key.

    Accepts the canonical names, the usual aliases (return/enter, esc/escape, cmd/super/win,
    ctrl/control, pgdn/pagedown, xdotool's ``Page_Down`` ...) and single printable characters.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"key names are non-empty strings, got {name!r}")
    if len(name) == 1:
        if name.isascii() and name.isprintable():
            return "space" if name == " " else name.lower()
        raise ValueError(f"unknown key {name!r}: single-character keys must be printable ASCII")
    folded = name.lower().replace("_", "").replace("-", "").replace(" ", "")
    folded = _KEY_ALIASES.get(folded, folded)
    if folded in _NAMED_KEYS or len(folded) == 1:
        return folded
    raise ValueError(
        f"unknown key {name!r}; use a letter, digit or symbol, or one of: "
        + ", ".join(sorted(_NAMED_KEYS - {f"f{i}" for i in range(2, 25)}))
        + ", f1-f24"
    )


def _split_combo(value: Any) -> Any:
    """Accept "ctrl+s" as well as ["ctrl", "s"]: models write both."""
    if isinstance(value, str):
        if value == "+" or value.endswith("++"):
            head = value[:-1].rstrip("+")
            return [*([p for p in head.split("+") if p]), "+"]
        return [p for p in value.split("+") if p != ""] if "+" in value else [value]
    return value


class _ActionBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def points(self) -> Iterator[tuple[str, int, int]]:
        """Yield ``(label, x, y)`` for every frame point the action touches."""
        return iter(())


class Click(_ActionBase):
    """Press and release a mouse button at a point, once or several times."""

    action: Literal["click"] = "click"
    x: int = Field(ge=0, description="Frame pixel column.")
    y: int = Field(ge=0, description="Frame pixel row.")
    button: Literal["left", "right", "middle"] = "left"
    clicks: int = Field(default=1, ge=1, le=3, description="2 for a double-click, 3 for triple.")
    modifiers: list[str] = Field(default_factory=list, description="Keys held during the click.")

    @field_validator("modifiers", mode="before")
    @classmethod
    def _modifiers(cls, value: Any) -> Any:
        keys = _split_combo(value)
        if not isinstance(keys, list):
            return keys
        out = []
        for key in keys:
            canon = normalize_key(key)
            if canon not in MODIFIER_KEYS:
                raise ValueError(
                    f"{key!r} is not a modifier; modifiers are {sorted(MODIFIER_KEYS)}"
                )
            out.append(canon)
        return out

    def points(self) -> Iterator[tuple[str, int, int]]:
        yield ("", self.x, self.y)


class Move(_ActionBase):
    """Move the pointer without pressing anything (hover)."""

    action: Literal["move"] = "move"
    x: int = Field(ge=0)
    y: int = Field(ge=0)

    def points(self) -> Iterator[tuple[str, int, int]]:
        yield ("", self.x, self.y)


class Drag(_ActionBase):
    """Press at (x, y), move to (to_x, to_y) while holding the button, release."""

    action: Literal["drag"] = "drag"
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    to_x: int = Field(ge=0)
    to_y: int = Field(ge=0)
    button: Literal["left", "right", "middle"] = "left"

    def points(self) -> Iterator[tuple[str, int, int]]:
        yield ("", self.x, self.y)
        yield ("to_", self.to_x, self.to_y)


class Scroll(_ActionBase):
    """Turn the wheel ``amount`` notches; at (x, y) if given, else where the pointer is."""

    action: Literal["scroll"] = "scroll"
    x: int | None = Field(default=None, ge=0)
    y: int | None = Field(default=None, ge=0)
    direction: Literal["up", "down", "left", "right"] = "down"
    amount: int = Field(default=3, ge=1, le=50)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Scroll:
        if (self.x is None) != (self.y is None):
            raise ValueError(
                "give both x and y, or neither (then the wheel turns where the pointer is)"
            )
        return self

    def points(self) -> Iterator[tuple[str, int, int]]:
        if self.x is not None and self.y is not None:
            yield ("", self.x, self.y)


class Type(_ActionBase):
    """Type text into whatever has the keyboard focus."""

    action: Literal["type"] = "type"
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    secret: bool = Field(default=False, description="Never written to logs in clear.")


class Key(_ActionBase):
    """Press a key or a chord (held in order, released in reverse)."""

    action: Literal["key"] = "key"
    keys: list[str] = Field(min_length=1, max_length=6)

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        keys = _split_combo(value)
        if isinstance(keys, list):
            return [normalize_key(k) for k in keys]
        return keys


class Wait(_ActionBase):
    """Pause on purpose (the loop already waits for the screen to settle after each action)."""

    action: Literal["wait"] = "wait"
    seconds: float = Field(default=1.0, ge=0, le=MAX_WAIT_SECONDS)


class Done(_ActionBase):
    """End the run: success or not, with an optional answer for the user."""

    action: Literal["done"] = "done"
    success: bool = True
    answer: str | None = None


Action = Annotated[
    Click | Move | Drag | Scroll | Type | Key | Wait | Done, Field(discriminator="action")
]
ACTION_TYPES = (Click, Move, Drag, Scroll, Type, Key, Wait, Done)

ActionAdapter: TypeAdapter[Action] = TypeAdapter(Action)
ActionListAdapter: TypeAdapter[list[Action]] = TypeAdapter(list[Action])


def action_json_schema() -> dict[str, Any]:
    """The JSON Schema of one action (what `screenagent schema` prints)."""
    schema = ActionAdapter.json_schema()
    schema["title"] = "screenagent action"
    return schema


def format_validation_error(err: ValidationError, *, prefix: str = "") -> list[str]:
    """Turn a pydantic error into short lines a person or a model can act on."""
    lines = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        # Drop the discriminator tag pydantic inserts (e.g. "click") from the location.
        if len(loc) >= 1 and loc[0] in {t.model_fields["action"].default for t in ACTION_TYPES}:
            loc = loc[1:]
        where = ".".join(loc)
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (not part of this action)"
        elif e["type"] == "union_tag_invalid":
            allowed = ", ".join(t.model_fields["action"].default for t in ACTION_TYPES)
            msg = f"unknown action {e['input'].get('action')!r}; expected one of: {allowed}"
        elif e["type"] == "union_tag_not_found":
            msg = "missing the field 'action'"
        lines.append(f"{prefix}{where + ': ' if where else ''}{msg}")
    return lines


def parse_action(data: Any) -> Action:
    """Validate untrusted data (a dict or a JSON string) into an Action; raises ValidationError."""
    if isinstance(data, (str, bytes)):
        return ActionAdapter.validate_json(data)
    return ActionAdapter.validate_python(data)


def check_bounds(action: Action, width: int, height: int) -> list[str]:
    """Every point of the action must lie inside a ``width`` x ``height`` frame.

    Returns one message per offending coordinate, naming the bound it crosses.
    """
    problems = []
    for label, x, y in action.points():
        if x >= width:
            problems.append(
                f"{label}x={x} is right of the frame: x must be 0..{width - 1} (frame is {width}x{height})"
            )
        if y >= height:
            problems.append(
                f"{label}y={y} is below the frame: y must be 0..{height - 1} (frame is {width}x{height})"
            )
    return problems


def action_to_json(action: Action, *, redact_secret: bool = True) -> dict[str, Any]:
    """The public JSON form; secret text is replaced by a marker unless asked otherwise."""
    data = action.model_dump(mode="json")
    if redact_secret and isinstance(action, Type) and action.secret:
        data["text"] = SECRET_MARKER
    return data


SECRET_MARKER = "«secret»"


def describe(action: Action) -> str:
    """One short line for terminals and reports: ``click (120, 40)``."""
    match action:
        case Click(clicks=n, button=b, modifiers=m):
            name = {1: "click", 2: "double-click", 3: "triple-click"}[n]
            if b != "left":
                name = f"{b}-{name}"
            mods = "+".join(m) + "+" if m else ""
            return f"{mods}{name} ({action.x}, {action.y})"
        case Move():
            return f"move to ({action.x}, {action.y})"
        case Drag():
            return f"drag ({action.x}, {action.y}) -> ({action.to_x}, {action.to_y})"
        case Scroll():
            where = f" at ({action.x}, {action.y})" if action.x is not None else ""
            return f"scroll {action.direction} {action.amount}{where}"
        case Type():
            shown = SECRET_MARKER if action.secret else json.dumps(action.text, ensure_ascii=False)
            return f"type {shown}"
        case Key():
            return "press " + "+".join(action.keys)
        case Wait():
            return f"wait {action.seconds:g} s"
        case Done():
            return f"done ({'success' if action.success else 'failure'})"
    raise TypeError(f"not an action: {action!r}")  # pragma: no cover


class Decision(BaseModel):
    """A policy's validated answer for one step: its reasoning (if any) and one action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thought: str | None = None
    action: Action
