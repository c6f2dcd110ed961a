"""Unit tests of the action schema: the public JSON contract."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from screenagent.actions import (
    Click,
    Done,
    Drag,
    Key,
    Move,
    Scroll,
    Type,
    Wait,
    action_json_schema,
    action_to_json,
    check_bounds,
    describe,
    format_validation_error,
    normalize_key,
    parse_action,
)

PUBLIC_EXAMPLES = [
    '{"action": "click", "x": 120, "y": 40, "button": "left", "clicks": 1, "modifiers": []}',
    '{"action": "move", "x": 120, "y": 40}',
    '{"action": "drag", "x": 10, "y": 10, "to_x": 200, "to_y": 10, "button": "left"}',
    '{"action": "scroll", "x": 300, "y": 200, "direction": "down", "amount": 3}',
    '{"action": "type", "text": "any text", "secret": false}',
    '{"action": "key", "keys": ["ctrl", "s"]}',
    '{"action": "wait", "seconds": 1.5}',
    '{"action": "done", "success": true, "answer": "optional text"}',
]


@pytest.mark.parametrize("text", PUBLIC_EXAMPLES)
def test_public_examples_round_trip(text: str) -> None:
    action = parse_action(text)
    assert action_to_json(action) == json.loads(text)


def test_each_example_parses_to_its_class() -> None:
    kinds = [type(parse_action(t)) for t in PUBLIC_EXAMPLES]
    assert kinds == [Click, Move, Drag, Scroll, Type, Key, Wait, Done]


def test_defaults() -> None:
    click = parse_action({"action": "click", "x": 1, "y": 2})
    assert (click.button, click.clicks, click.modifiers) == ("left", 1, [])
    scroll = parse_action({"action": "scroll"})
    assert (scroll.x, scroll.y, scroll.direction, scroll.amount) == (None, None, "down", 3)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("return", "enter"),
        ("Enter", "enter"),
        ("esc", "escape"),
        ("Escape", "escape"),
        ("cmd", "super"),
        ("win", "super"),
        ("Super_L", "super"),
        ("control", "ctrl"),
        ("Control_L", "ctrl"),
        ("pgdn", "pagedown"),
        ("Page_Down", "pagedown"),
        ("PgUp", "pageup"),
        ("del", "delete"),
        ("BackSpace", "backspace"),
        ("F5", "f5"),
        ("A", "a"),
        ("/", "/"),
        (" ", "space"),
        ("option", "alt"),
        ("ArrowUp", "up"),
    ],
)
def test_key_aliases_are_normalised(alias: str, canonical: str) -> None:
    assert normalize_key(alias) == canonical


def test_key_combo_string_is_split() -> None:
    assert parse_action({"action": "key", "keys": "ctrl+shift+T"}).keys == ["ctrl", "shift", "t"]
    assert parse_action({"action": "key", "keys": "ctrl++"}).keys == ["ctrl", "+"]
    assert parse_action({"action": "key", "keys": "+"}).keys == ["+"]


def test_unknown_key_is_rejected_with_its_name() -> None:
    with pytest.raises(ValidationError) as err:
        parse_action({"action": "key", "keys": ["ctrl", "hyperdrive"]})
    lines = format_validation_error(err.value)
    assert len(lines) == 1
    assert "keys" in lines[0] and "'hyperdrive'" in lines[0] and "pagedown" in lines[0]


def test_non_ascii_single_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        normalize_key("é")


def test_modifiers_must_be_modifiers() -> None:
    assert parse_action(
        {"action": "click", "x": 1, "y": 1, "modifiers": ["Control", "shift"]}
    ).modifiers == [
        "ctrl",
        "shift",
    ]
    with pytest.raises(ValidationError, match="not a modifier"):
        parse_action({"action": "click", "x": 1, "y": 1, "modifiers": ["a"]})


def test_extra_fields_are_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        parse_action({"action": "click", "x": 1, "y": 2, "z": 3})
    assert format_validation_error(err.value) == ["z: unknown field (not part of this action)"]


def test_unknown_action_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as err:
        parse_action({"action": "teleport", "x": 1})
    (line,) = format_validation_error(err.value)
    assert "'teleport'" in line and "click" in line and "done" in line


def test_missing_action_field() -> None:
    with pytest.raises(ValidationError) as err:
        parse_action({"x": 1, "y": 2})
    assert format_validation_error(err.value) == ["missing the field 'action'"]


@pytest.mark.parametrize(
    "bad",
    [
        {"action": "click", "x": 1, "y": 1, "clicks": 4},
        {"action": "click", "x": 1, "y": 1, "clicks": 0},
        {"action": "click", "x": 1, "y": 1, "button": "fourth"},
        {"action": "click", "x": -1, "y": 1},
        {"action": "click", "x": 1.5, "y": 1},
        {"action": "wait", "seconds": 61},
        {"action": "wait", "seconds": -1},
        {"action": "type", "text": ""},
        {"action": "key", "keys": []},
        {"action": "scroll", "x": 5},
        {"action": "scroll", "direction": "sideways"},
        {"action": "scroll", "amount": 0},
    ],
)
def test_out_of_range_values_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        parse_action(bad)


def test_bounds_name_the_bound() -> None:
    click = Click(x=1280, y=10)
    assert check_bounds(click, 1280, 800) == [
        "x=1280 is right of the frame: x must be 0..1279 (frame is 1280x800)"
    ]
    drag = Drag(x=5, y=5, to_x=10, to_y=900)
    assert check_bounds(drag, 1280, 800) == [
        "to_y=900 is below the frame: y must be 0..799 (frame is 1280x800)"
    ]
    assert check_bounds(Click(x=1279, y=799), 1280, 800) == []
    assert check_bounds(Scroll(), 10, 10) == []
    assert check_bounds(Type(text="x"), 10, 10) == []


def test_secret_text_is_redacted_in_json_and_description() -> None:
    action = Type(text="hunter2", secret=True)
    assert "hunter2" not in json.dumps(action_to_json(action))
    assert "hunter2" not in describe(action)
    assert action_to_json(action, redact_secret=False)["text"] == "hunter2"


def test_schema_covers_every_action() -> None:
    schema = action_json_schema()
    text = json.dumps(schema)
    for name in ("click", "move", "drag", "scroll", "type", "key", "wait", "done"):
        assert f'"const": "{name}"' in text
    assert schema["discriminator"]["propertyName"] == "action"


def test_describe() -> None:
    assert describe(Click(x=1, y=2, clicks=2)) == "double-click (1, 2)"
    assert describe(Click(x=1, y=2, button="right")) == "right-click (1, 2)"
    assert describe(Key(keys=["ctrl", "s"])) == "press ctrl+s"
