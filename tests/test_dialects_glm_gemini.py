"""GLM-V and Gemini computer use.

GLM-V (zai-org/GLM-V): grounding answers from ``README.md`` ("Grounding": a box [x1,y1,x2,y2]
normalised by width/height and scaled by 1000, in ``<|begin_of_box|>...<|end_of_box|>``, the
bracket style varying); desktop actions from the GUI agent instructions ("Desktop Environment":
``left_click(start_box='[x,y]', element_info='')`` ... ``WAIT() DONE() FAIL()``, integers 0-999,
thousandths of the screenshot's width or height, then ``Memory:``), the worked example being the
document's own history step ``left_click(start_box='[376,465]')``; phone JSON actions from its
"Mobile Environment" section.

Gemini (google-gemini/computer-use-preview ``agent.py``): predefined functions ``click_at``,
``type_text_at`` ... with x, y in 0-999 mapped by ``int(x / 1000 * width)``; the default of
``press_enter`` is False and of ``clear_before_typing`` True (``handle_action``); a
``safety_decision`` of ``require_confirmation`` needs a person.
"""

from __future__ import annotations

import json

import pytest
from test_dialects import parse

from screenagent.actions import Click, Done, Drag, Key, Move, Scroll, Type, Wait
from screenagent.errors import InvalidOutput
from screenagent.policies.vlm import detect_family


@pytest.mark.parametrize(("w", "h"), [(1920, 1080), (1280, 800), (2560, 1440)])
def test_glm_desktop_click_matches_the_official_thousandths(w: int, h: int) -> None:
    text = ("I'm now on the Google Shopping homepage; I click the search box.\n"
            "left_click(start_box='[376,465]')\nMemory:\n[]")  # fmt: skip
    answer, (click,) = parse("glm-v", text, w, h)
    assert isinstance(click, Click) and (click.x, click.y) == (int(376 / 1000 * w), int(465 / 1000 * h))
    assert answer.thought == "I'm now on the Google Shopping homepage; I click the search box."


def test_glm_thinking_answer_with_box_tokens_and_element_info() -> None:
    text = ("<think>The Save button is top left.</think><answer>Click Save.\n"
            "left_double_click(start_box='<|begin_of_box|>[100,50]<|end_of_box|>', element_info='Save (it)')\n"
            "Memory:\n[{\"file\": \"a.txt\"}]</answer>")  # fmt: skip
    answer, (click,) = parse("glm-v", text, 1000, 1000)
    assert isinstance(click, Click) and (click.x, click.y, click.clicks) == (100, 50, 2)
    assert answer.thought == "The Save button is top left."


def test_glm_every_desktop_action() -> None:
    cases = {
        "right_click(start_box='[500,500]')": (Click, "right"),
        "middle_click(start_box='[500,500]')": (Click, "middle"),
        "hover(start_box='[10,20]')": (Move, None),
        "left_drag(start_box='[100,100]', end_box='[900,900]')": (Drag, None),
        "key(keys='ctrl+shift+t')": (Key, None),
        "type(content='it\\'s (1)')": (Type, None),
        "scroll(start_box='[500,500]', direction='up', step=3)": (Scroll, None),
        "WAIT()": (Wait, None),
        "DONE()": (Done, True),
        "FAIL()": (Done, False),
    }
    for text, (kind, extra) in cases.items():
        _, (action,) = parse("glm-v", text, 1000, 1000)
        assert isinstance(action, kind), text
        if kind is Click:
            assert action.button == extra
        if kind is Done:
            assert action.success is extra
    _, (key,) = parse("glm-v", "key(keys='ctrl+shift+t')", 1000, 1000)
    assert key.keys == ["ctrl", "shift", "t"]
    _, (typed,) = parse("glm-v", "type(content='it\\'s (1)')", 1000, 1000)
    assert typed.text == "it's (1)"
    _, (scroll,) = parse("glm-v", "scroll(start_box='[500,500]', direction='up', step=3)", 1000, 1000)
    assert (scroll.direction, scroll.amount, scroll.x) == ("up", 3, 500)
    _, (drag,) = parse("glm-v", "left_drag(start_box='[100,100]', end_box='[900,900]')", 1000, 1000)
    assert (drag.x, drag.y, drag.to_x, drag.to_y) == (100, 100, 900, 900)


def test_glm_grounding_boxes_in_any_bracket_style() -> None:
    for text in ("<|begin_of_box|>[100,200,300,400]<|end_of_box|>", "<|begin_of_box|>[[100,200,300,400]]<|end_of_box|>",
                 "<|begin_of_box|>(100,200,300,400)<|end_of_box|>", "The button (top left) is at [100, 200, 300, 400]."):  # fmt: skip
        _, (click,) = parse("glm-v", text, 1920, 1080)
        assert (click.x, click.y) == (384, 324), text  # centre (200, 300) of 1000 -> 1920x1080
    answer, (click,) = parse("glm-v", "<|begin_of_box|>[[0,0,100,100],[500,500,600,600]]<|end_of_box|>", 1000, 1000)
    assert (click.x, click.y) == (50, 50) and "1 more box" in answer.notes[0]


def test_glm_phone_json_desktop_parts_and_refusals() -> None:
    text = ("Memory: None\nReason: type the name\nAction: {\"action_type\": \"input_text\", \"text\": \"Ada\", "
            "\"box_2d\": [[100,200,300,400]], \"override\": true}")  # fmt: skip
    _, actions = parse("glm-v", text, 1000, 1000)
    assert [type(a) for a in actions] == [Click, Key, Type, Key]
    assert (actions[0].x, actions[0].y) == (200, 300) and actions[1].keys == ["ctrl", "a"]
    assert actions[2].text == "Ada" and actions[3].keys == ["enter"]
    _, (done,) = parse("glm-v", "Action: {'action_type': 'status', 'goal_status': 'infeasible'}", 10, 10)
    assert isinstance(done, Done) and done.success is False
    for kind in ("swipe", "long_press", "navigate_home", "navigate_back", "open_app"):
        with pytest.raises(InvalidOutput, match="phone action"):
            parse("glm-v", json.dumps({"action_type": kind, "box_2d": [[1, 2, 3, 4]]}), 10, 10)


def test_glm_bad_answers_say_why() -> None:
    with pytest.raises(InvalidOutput, match="box"):
        parse("glm-v", "I am not sure where it is.", 100, 100)
    with pytest.raises(InvalidOutput, match="not closed"):
        parse("glm-v", "left_click(start_box='[1,2]'", 100, 100)
    with pytest.raises(InvalidOutput, match="outside"):
        parse("glm-v", "left_click(start_box='[1200,2]')", 100, 100)
    with pytest.raises(InvalidOutput, match="unknown action 'click_at'"):
        parse("glm-v", "click_at(x=100, y=200)", 100, 100)  # another family's call is not a point
    with pytest.raises(InvalidOutput, match="phone action"):
        parse("glm-v", "swipe(direction='up')", 100, 100)


@pytest.mark.parametrize(("w", "h"), [(1440, 900), (1920, 1080)])
def test_gemini_click_at_matches_the_reference_denormalisation(w: int, h: int) -> None:
    response = {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "I will open the search box."},
        {"functionCall": {"name": "click_at", "args": {"x": 371, "y": 470}}}]}}]}  # fmt: skip
    answer, (click,) = parse("gemini", json.dumps(response), w, h)
    assert (click.x, click.y) == (int(371 / 1000 * w), int(470 / 1000 * h))
    assert answer.thought == "I will open the search box."


def test_gemini_type_text_at_defaults_and_every_desktop_function() -> None:
    _, acts = parse("gemini", json.dumps({"name": "type_text_at", "args": {"x": 100, "y": 100, "text": "Ada"}}), 1000, 1000)
    assert [type(a) for a in acts] == [Click, Key, Key, Type]  # cleared first, no Enter by default
    _, acts = parse("gemini", json.dumps({"function_call": {"name": "type_text_at", "args": {
        "x": 100, "y": 100, "text": "Ada", "press_enter": True, "clear_before_typing": False}}}), 1000, 1000)  # fmt: skip
    assert [type(a) for a in acts] == [Click, Type, Key] and acts[2].keys == ["enter"]
    calls = [
        ({"name": "hover_at", "args": {"x": 1, "y": 2}}, Move),
        ({"name": "key_combination", "args": {"keys": "Control+Shift+T"}}, Key),
        ({"name": "scroll_at", "args": {"x": 500, "y": 500, "direction": "down", "magnitude": 800}}, Scroll),
        ({"name": "scroll_document", "args": {"direction": "up"}}, Scroll),
        ({"name": "drag_and_drop", "args": {"x": 1, "y": 2, "destination_x": 900, "destination_y": 800}}, Drag),
        ({"name": "wait_5_seconds", "args": {}}, Wait),
        ({"name": "go_back", "args": {}}, Key),
    ]
    for call, kind in calls:
        _, (action,) = parse("gemini", json.dumps(call), 1000, 1000)
        assert isinstance(action, kind), call
    _, (keys,) = parse("gemini", json.dumps(calls[1][0]), 1000, 1000)
    assert keys.keys == ["ctrl", "shift", "t"]
    _, (scroll,) = parse("gemini", json.dumps(calls[2][0]), 1000, 1000)
    assert scroll.amount == 8
    _, acts = parse("gemini", json.dumps({"name": "navigate", "args": {"url": "http://127.0.0.1:8000/"}}), 100, 100)
    assert [type(a) for a in acts] == [Key, Type, Key] and acts[1].text == "http://127.0.0.1:8000/"


def test_gemini_text_only_ends_the_task_and_confirmation_is_never_executed() -> None:
    _, (done,) = parse("gemini", json.dumps({"parts": [{"text": "The price is $42."}]}), 100, 100)
    assert isinstance(done, Done) and done.success and done.answer == "The price is $42."
    risky = {"name": "click_at", "args": {"x": 1, "y": 2, "safety_decision": {
        "decision": "require_confirmation", "explanation": "Accepting cookies."}}}  # fmt: skip
    _, (stop,) = parse("gemini", json.dumps(risky), 100, 100)
    assert isinstance(stop, Done) and stop.success is False and "Accepting cookies." in (stop.answer or "")
    for name in ("open_web_browser", "search"):
        with pytest.raises(InvalidOutput, match="browser environment"):
            parse("gemini", json.dumps({"name": name, "args": {}}), 100, 100)
    with pytest.raises(InvalidOutput, match="unknown computer-use function"):
        parse("gemini", json.dumps({"name": "teleport", "args": {}}), 100, 100)
    with pytest.raises(InvalidOutput, match="outside"):
        parse("gemini", json.dumps({"name": "click_at", "args": {"x": 1001, "y": 2}}), 100, 100)


def test_family_names() -> None:
    assert detect_family("zai-org/GLM-4.5V") == "glm-v"
    assert detect_family("GLM-4.1V-9B-Thinking") == "glm-v"
    assert detect_family("glm-4.6v-flash") == "glm-v"
    assert detect_family("gemini-2.5-computer-use-preview-10-2025") == "gemini"
    assert detect_family("computer-use-preview") == "openai"
