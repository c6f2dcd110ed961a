"""OS-Atlas-Pro's agent answers and phone-only actions in every family.

OS-Atlas (OS-Copilot/OS-Atlas): the Pro models answer ``thoughts:\\n...\\nactions:\\n...`` with the
action space of the evaluation prompts (``eval/data/*.jsonl``: ``CLICK <point>[[x, y]]</point>``,
``TYPE [text]``, ``SCROLL [UP]``, ``PRESS_BACK``, ``PRESS_HOME``, ``OPEN_APP [app]``, ``COMPLETE``
...), points relative 0-1000, read after ``actions:`` as
``eval/eval_scripts/android_control/evaluation_unify.py`` does. The answers below are the
verbatim ground truths quoted in the project's model-formats.md §6.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dialects import parse

from screenagent.actions import Click, Done, Key, Move, Scroll, Type
from screenagent.errors import InvalidOutput


def test_pro_click_with_thoughts_maps_from_thousandths() -> None:
    text = ("thoughts:\nClick on the more options icon at the top right corner of the screen.\n"
            "actions:\nCLICK <point>[[950,87]]</point>")  # fmt: skip
    answer, (click,) = parse("os-atlas", text, 1920, 1080)
    assert isinstance(click, Click) and (click.x, click.y) == (1824, 93)  # 950/1000*1920, 87/1000*1080
    assert answer.thought == "Click on the more options icon at the top right corner of the screen."


def test_pro_click_without_thoughts_and_the_end_token() -> None:
    answer, (click,) = parse("os-atlas", "actions:\nCLICK <point>[[683,321]]</point><|im_end|>", 1000, 1000)
    assert (click.x, click.y) == (683, 321) and answer.thought is None


def test_pro_desktop_actions_in_order() -> None:
    text = ("thoughts:\nfill the form\nactions:\nDOUBLECLICK <point>[[100,200]]</point>\n"
            "RIGHTCLICK <point>[[300,400]]</point>\nMOVETO <point>[[10,10]]</point>\nTYPE [hello world]\n"
            "PRESS_TAB\nPRESS_PGDN\nENTER\nHOTKEY [CTRL_A]\nSCROLL [DOWN]\nWAIT\nCOMPLETE")  # fmt: skip
    _, actions = parse("os-atlas", text, 1000, 1000)
    kinds = [type(a).__name__ for a in actions]
    assert kinds == ["Click", "Click", "Move", "Type", "Key", "Key", "Key", "Key", "Scroll", "Wait", "Done"]
    assert actions[0].clicks == 2 and actions[1].button == "right" and isinstance(actions[2], Move)
    assert isinstance(actions[3], Type) and actions[3].text == "hello world"
    assert [a.keys for a in actions[4:8] if isinstance(a, Key)] == [["tab"], ["pagedown"], ["enter"], ["ctrl", "a"]]
    assert isinstance(actions[8], Scroll) and actions[8].direction == "down"
    assert isinstance(actions[10], Done) and actions[10].success


def test_the_base_models_box_still_grounds() -> None:
    text = "<|object_ref_start|>language switch<|object_ref_end|><|box_start|>(576,12),(592,42)<|box_end|><|im_end|>"
    _, (click,) = parse("os-atlas", text, 1000, 1000)
    assert (click.x, click.y) == (584, 27)


@pytest.mark.parametrize(("family", "text", "name"), [
    ("os-atlas", "thoughts:\nopen the PocketBook app.\nactions:\nOPEN_APP [PocketBook]", "OPEN_APP"),
    ("os-atlas", "actions:\nPRESS_BACK", "PRESS_BACK"),
    ("os-atlas", "actions:\nPRESS_HOME", "PRESS_HOME"),
    ("os-atlas", "actions:\nLONG_PRESS <point>[[10,10]]</point>", "LONG_PRESS"),
    ("qwen2.5-vl", '<tool_call>{"name": "mobile_use", "arguments": {"action": "long_press", "coordinate": [5, 5], "time": 2}}</tool_call>', "long_press"),
    ("qwen2.5-vl", '<tool_call>{"name": "mobile_use", "arguments": {"action": "swipe", "coordinate": [5, 5], "coordinate2": [5, 50]}}</tool_call>', "swipe"),
    ("qwen2.5-vl", '<tool_call>{"name": "mobile_use", "arguments": {"action": "system_button", "button": "Back"}}</tool_call>', "system_button"),
    ("ui-tars-1.5", "Thought: go home\nAction: press_home()", "press_home"),
    ("ui-tars-1.5", "Thought: hold it\nAction: long_press(start_box='(10,10)')", "long_press"),
    ("ui-tars-1.5", "Thought: open\nAction: open_app(app_name='Maps')", "open_app"),
    ("opencua", "```python\nmobile.swipe(from_coord=[1, 1], to_coord=[5, 5])\n```", "mobile.swipe"),
    ("showui", "{'action': 'SWIPE', 'value': 'up', 'position': [[0.5, 0.8], [0.5, 0.2]]}", "SWIPE"),
    ("holo1", json.dumps({"note": "", "thought": "t", "action": {"action": "swipe", "direction": "up"}}), "swipe"),
])  # fmt: skip
def test_phone_actions_are_refused_by_name(family: str, text: str, name: str) -> None:
    with pytest.raises(InvalidOutput, match=rf"{name} is a phone action .*desktop action"):
        parse(family, text, 1280, 800)


_OPS = st.sampled_from(["CLICK", "DOUBLECLICK", "RIGHTCLICK", "MOVETO", "TYPE", "SCROLL", "HOTKEY", "ENTER",
                        "PRESS_TAB", "PRESS_BACK", "WAIT", "COMPLETE", "LONG_PRESS", "SWIPE", "FOO"])  # fmt: skip
_ARGS = st.one_of(
    st.builds(lambda x, y: f"<point>[[{x},{y}]]</point>", st.integers(-2000, 3000), st.integers(-2000, 3000)),
    st.builds(lambda s: f"[{s}]", st.text(max_size=12)),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.tuples(_OPS, _ARGS), min_size=1, max_size=4))
def test_pro_garbage_never_escapes(lines: list[tuple[str, str]]) -> None:
    """Any mix of Pro actions and arguments: InvalidOutput or actions inside the image."""
    text = "thoughts:\nx\nactions:\n" + "\n".join(f"{op} {args}" for op, args in lines)
    try:
        _, actions = parse("os-atlas", text, 1280, 800)
    except InvalidOutput:
        return
    for a in actions:
        for _, x, y in a.points():
            assert 0 <= x < 1280 and 0 <= y < 800


def test_pro_agent_prompt_lists_only_what_the_parser_reads() -> None:
    """The agent prompt (the evaluation prompts' layout with the desktop's custom actions): every
    example usage it shows parses, and the task and history go in its user turn."""
    import re

    from screenagent.dialects import get_dialect
    from screenagent.dialects.atlas import ATLAS_PRO_SYSTEM

    prompt = get_dialect("os-atlas").next_action_prompt("open the File menu", "", (1280, 800))
    assert prompt.system == ATLAS_PRO_SYSTEM and "Executable Language Grounding" in prompt.system
    assert prompt.user == "Task instruction: open the File menu\nHistory: null"
    examples = re.findall(r"example usage: (.+)", ATLAS_PRO_SYSTEM)
    assert len(examples) == 11
    for example in examples:
        _, actions = parse("os-atlas", f"thoughts:\nx\nactions:\n{example}", 1280, 800)
        assert actions, example
    assert "LONG_PRESS" not in ATLAS_PRO_SYSTEM and "OPEN_APP" not in ATLAS_PRO_SYSTEM
