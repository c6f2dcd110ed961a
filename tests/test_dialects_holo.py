"""Holo1's navigation step, from the schema in hcompai/hai-cookbook ``utils/navigation.py``
(``NavigationStep``: ``note``, ``thought``, ``action`` = one of ``ClickElementAction``,
``WriteElementAction``, ``ScrollAction``, ``GoBackAction``, ``RefreshAction``, ``WaitAction``,
``RestartAction``, ``AnswerAction``, ``GotoAction``; x and y in pixels of the image the model
saw, which for Holo1 is ``smart_resize`` with max 14*14*4*1280: the cookbook's 1710x852
screenshot becomes 1400x700)."""

from __future__ import annotations

import json

import pytest
from test_dialects import parse

from screenagent.actions import Click, Done, Key, Scroll, Type, Wait
from screenagent.errors import InvalidOutput


def _step(action: dict, note: str = "", thought: str = "I look at the page") -> str:
    return json.dumps({"note": note, "thought": thought, "action": action})


def test_click_element_maps_from_the_resized_image() -> None:
    answer, (click,) = parse("holo1", _step({"action": "click_element", "element": "search bar", "x": 700, "y": 350}),
                             1710, 852)  # fmt: skip
    assert isinstance(click, Click)
    assert (click.x, click.y) == (855, 426)  # 700 * 1710 / 1400, 350 * 852 / 700
    assert answer.thought == "I look at the page"


def test_write_element_clicks_types_and_presses_enter() -> None:
    text = _step({"action": "write_element_abs", "content": "weather in Paris", "element": "search", "x": 140, "y": 70})
    _, actions = parse("holo1", text, 1710, 852)
    assert [type(a) for a in actions] == [Click, Type, Key]
    assert actions[1].text == "weather in Paris" and actions[2].keys == ["enter"]
    assert (actions[0].x, actions[0].y) == (171, 85)


def test_browser_actions_become_keys_scrolls_and_waits() -> None:
    _, (scroll,) = parse("holo1", _step({"action": "scroll", "direction": "down"}), 1710, 852)
    assert isinstance(scroll, Scroll) and scroll.direction == "down" and scroll.x is None
    _, (back,) = parse("holo1", _step({"action": "go_back"}), 1710, 852)
    assert back.keys == ["alt", "left"]
    _, (refresh,) = parse("holo1", _step({"action": "refresh"}), 1710, 852)
    assert refresh.keys == ["f5"]
    _, goto = parse("holo1", _step({"action": "goto", "url": "https://example.org"}), 1710, 852)
    assert [type(a) for a in goto] == [Key, Type, Key] and goto[1].text == "https://example.org"
    _, (wait,) = parse("holo1", _step({"action": "wait", "seconds": 3}), 1710, 852)
    assert isinstance(wait, Wait) and wait.seconds == 3


def test_answer_ends_the_run_with_the_notes_in_the_thought() -> None:
    answer, (end,) = parse("holo1", _step({"action": "answer", "content": "It is 21 C"}, note="21 C on the card"),
                           1710, 852)  # fmt: skip
    assert isinstance(end, Done) and end.success and end.answer == "It is 21 C"
    assert answer.thought == "I look at the page\nNotes: 21 C on the card"


@pytest.mark.parametrize(("action", "reason"), [
    ({"action": "restart"}, "restart"),
    ({"action": "click_element", "element": "x", "x": "left", "y": 3}, "must be numbers"),
    ({"action": "scroll", "direction": "sideways"}, "direction"),
    ({"action": "write_element_abs", "content": "", "element": "e", "x": 1, "y": 1}, "content"),
    ({"action": "swipe", "direction": "up"}, "swipe is a phone action"),
    ({"action": "fly"}, "unknown action 'fly'"),
])  # fmt: skip
def test_unusable_steps_say_why(action: dict, reason: str) -> None:
    with pytest.raises(InvalidOutput, match=reason):
        parse("holo1", _step(action), 1710, 852)


def test_the_plain_click_forms_still_parse() -> None:
    _, (a,) = parse("holo1", "Click(350, 342)", 1710, 852)
    _, (b,) = parse("holo1", '{"action": "click", "x": 350, "y": 342}', 1710, 852)
    assert (a.x, a.y) == (b.x, b.y)
