"""The 2026 families, from their documented forms.

- Holo3 / Holo3.1 (hub.hcompany.ai/agent-loop): one JSON object per step, ``{"note", "thought",
  "tool_call": {"tool_name": ..., arguments beside it}}``, integers in [0, 1000] of the image
  sent, mapped back as ``int(x / 1000 * width)``. The worked example is the page's own.
- UI-TARS-2: ``<gui_think>`` reasoning, then ``<seed:tool_call><function=NAME><parameter=KEY>
  value</parameter></function></seed:tool_call>`` with ``<point>x y</point>`` in [0, 1000]
  (the Seed GUI prompt's function set, as trycua/cua ``loops/uitars2.py`` reproduces it).
- Qwen3.5/3.6 agents: ``<tool_call>`` holding JSON ``{"name": "computer", "arguments": {...}}`` or
  the XML-style ``<function=computer><parameter=action>left_click</parameter>...`` (trycua/cua
  ``loops/qwen35.py``), coordinates in [0, 1000].
"""

from __future__ import annotations

import json

import pytest
from test_dialects import parse

from screenagent.actions import Click, Done, Drag, Key, Move, Scroll, Type, Wait
from screenagent.errors import InvalidOutput
from screenagent.policies.vlm import detect_family


def _h3(tool: dict, note: str | None = None, thought: str = "next") -> str:
    return json.dumps({"note": note, "thought": thought, "tool_call": tool})


def test_holo3_the_agent_loop_pages_example() -> None:
    text = _h3({"tool_name": "click", "element": "Continue button at the bottom right", "x": 932, "y": 880},
               note="Submit succeeded; receipt URL is /orders/8421.",
               thought="Recording the receipt URL before navigating away.")  # fmt: skip
    answer, (click,) = parse("holo3", text, 1920, 1080)
    assert isinstance(click, Click) and (click.x, click.y) == (int(932 / 1000 * 1920), int(880 / 1000 * 1080))
    assert answer.thought == "Recording the receipt URL before navigating away.\nNotes: Submit succeeded; receipt URL is /orders/8421."


def test_holo3_tools() -> None:
    _, w = parse("holo3", _h3({"tool_name": "write", "content": "Ada", "element": "Name", "x": 500, "y": 500,
                               "press_enter": True}), 1000, 1000)  # fmt: skip
    assert [type(a) for a in w] == [Click, Type, Key] and w[1].text == "Ada" and w[2].keys == ["enter"]
    _, (only_type,) = parse("holo3", _h3({"tool_name": "write", "content": "Ada"}), 1000, 1000)
    assert isinstance(only_type, Type)
    _, (key,) = parse("holo3", _h3({"tool_name": "key", "keys": ["ctrl", "s"]}), 1000, 1000)
    assert key.keys == ["ctrl", "s"]
    _, (dbl,) = parse("holo3", _h3({"tool_name": "double_click", "element": "f", "x": 10, "y": 10}), 1000, 1000)
    assert dbl.clicks == 2
    _, (sc,) = parse("holo3", _h3({"tool_name": "scroll", "direction": "down", "x": 500, "y": 500}), 1000, 1000)
    assert isinstance(sc, Scroll) and (sc.x, sc.y) == (500, 500)
    _, (wt,) = parse("holo3", _h3({"tool_name": "wait", "seconds": 3}), 1000, 1000)
    assert isinstance(wt, Wait) and wt.seconds == 3
    _, (end,) = parse("holo3", _h3({"tool_name": "answer", "content": "saved"}), 1000, 1000)
    assert isinstance(end, Done) and end.answer == "saved"
    _, (loc,) = parse("holo3", '{"x": 552, "y": 404}', 1000, 1000)  # a localization answer
    assert (loc.x, loc.y) == (552, 404)


@pytest.mark.parametrize(("tool", "reason"), [
    ({"tool_name": "swipe", "direction": "up"}, "swipe is a phone action"),
    ({"tool_name": "teleport"}, "unknown tool_name 'teleport'"),
    ({"tool_name": "click", "element": "e"}, 'needs "x" and "y"'),
    ({"tool_name": "key", "keys": []}, "list of key names"),
])  # fmt: skip
def test_holo3_unusable_steps_say_why(tool: dict, reason: str) -> None:
    with pytest.raises(InvalidOutput, match=reason):
        parse("holo3", _h3(tool), 1000, 1000)


def test_holo3_prompt_shows_the_tool_union() -> None:
    from screenagent.dialects import get_dialect

    prompt = get_dialect("holo3").next_action_prompt("save the file", "", (1280, 800))
    assert prompt.system is not None and "<output_format>" in prompt.system and '"tool_name"' in prompt.system
    assert prompt.user == "<task>\nsave the file\n</task>"


def test_uitars2_calls() -> None:
    text = ("<gui_think>Fill the name and submit</gui_think>\n<seed:tool_call><function=click>"
            "<parameter=point><point>500 250</point></parameter></function><function=type><parameter=content>"
            "Ada Lovelace\n</parameter></function></seed:tool_call>")  # fmt: skip
    answer, actions = parse("ui-tars-2", text, 1280, 800)
    assert answer.thought == "Fill the name and submit"
    assert [type(a) for a in actions] == [Click, Type, Key] and (actions[0].x, actions[0].y) == (640, 200)
    _, (drag,) = parse("ui-tars-2", "<seed:tool_call><function=drag><parameter=start_point><point>100 100</point>"
                       "</parameter><parameter=end_point><point>200 300</point></parameter></function></seed:tool_call>",
                       1000, 1000)  # fmt: skip
    assert isinstance(drag, Drag) and (drag.to_x, drag.to_y) == (200, 300)
    _, (hk,) = parse("ui-tars-2", "<seed:tool_call><function=hotkey><parameter=key>ctrl s</parameter></function>"
                     "</seed:tool_call>", 1000, 1000)  # fmt: skip
    assert hk.keys == ["ctrl", "s"]
    _, (mv, sc) = parse("ui-tars-2", "<seed:tool_call><function=move_to><parameter=point><point>1 2</point></parameter>"
                        "</function><function=scroll><parameter=direction>down</parameter></function></seed:tool_call>",
                        1000, 1000)  # fmt: skip
    assert isinstance(mv, Move) and isinstance(sc, Scroll) and sc.x is None
    _, (fin,) = parse("ui-tars-2", "<seed:tool_call><function=finished><parameter=content>done it</parameter>"
                      "</function></seed:tool_call>", 1000, 1000)  # fmt: skip
    assert isinstance(fin, Done) and fin.success and fin.answer == "done it"
    _, (ask,) = parse("ui-tars-2", "<seed:tool_call><function=call_user><parameter=content>which file?</parameter>"
                      "</function></seed:tool_call>", 1000, 1000)  # fmt: skip
    assert isinstance(ask, Done) and not ask.success


@pytest.mark.parametrize(("text", "reason"), [
    ("I would click Submit", "no <seed:tool_call>"),
    ("<seed:tool_call><function=click><parameter=point>500, 250</parameter></function></seed:tool_call>", "<point>x y</point>"),
    ("<seed:tool_call><function=mouse_down></function></seed:tool_call>", "use drag"),
    ("<seed:tool_call><function=long_press><parameter=point><point>1 1</point></parameter></function></seed:tool_call>",
     "long_press is a phone action"),
    ("<seed:tool_call><function=wait><parameter=time>soon</parameter></function></seed:tool_call>", "wait"),
])  # fmt: skip
def test_uitars2_unusable_answers_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidOutput, match=reason):
        parse("ui-tars-2", text, 1000, 1000)


def test_qwen35_xml_and_json_tool_calls_agree() -> None:
    xml = ("<tool_call>\n<function=computer>\n<parameter=action>\nleft_click\n</parameter>\n"
           "<parameter=coordinate>\n[500, 250]\n</parameter>\n</function>\n</tool_call>")  # fmt: skip
    js = '<tool_call>{"name": "computer", "arguments": {"action": "left_click", "coordinate": [500, 250]}}</tool_call>'
    _, (a,) = parse("qwen3.5", xml, 1280, 800)
    _, (b,) = parse("qwen3.5", js, 1280, 800)
    assert (a.x, a.y) == (b.x, b.y) == (640, 200)
    typed = "<tool_call><function=computer><parameter=type>type</parameter><parameter=text>hello</parameter></function></tool_call>"
    _, (t,) = parse("qwen3.5", typed, 1280, 800)
    assert isinstance(t, Type) and t.text == "hello"


@pytest.mark.parametrize(("name", "family"), [
    ("Hcompany/Holo3-35B-A3B", "holo3"), ("Hcompany/Holo3.1-4B", "holo3"), ("ByteDance-Seed/UI-TARS-2", "ui-tars-2"),
    ("Qwen/Qwen3.5-27B", "qwen3.5"), ("Qwen/Qwen3.6-35B-A3B", "qwen3.5"), ("ByteDance-Seed/UI-TARS-1.5-7B", "ui-tars-1.5"),
    ("Qwen/Qwen3-VL-8B-Instruct", "qwen3-vl"),
])  # fmt: skip
def test_family_from_the_model_name(name: str, family: str) -> None:
    assert detect_family(name) == family


def _mai(args: dict, thinking: str = "tap the search box") -> str:
    call = json.dumps({"name": "mobile_use", "arguments": args}, separators=(",", ":"))
    return f"<thinking>\n{thinking}\n</thinking>\n<tool_call>\n{call}\n</tool_call>"


def test_mai_ui_points_are_thousandths_of_999() -> None:
    """Tongyi-MAI/MAI-UI src/mai_naivigation_agent.py: ``SCALE_FACTOR = 999``; the point is
    divided by it (a 4-value coordinate gives its centre); the history format written there is
    the one parsed here."""
    answer, (click,) = parse("mai-ui", _mai({"action": "click", "coordinate": [500, 250]}), 1998, 1998)
    assert isinstance(click, Click) and (click.x, click.y) == (1000, 500)
    assert answer.thought == "tap the search box"
    _, (box,) = parse("mai-ui", _mai({"action": "click", "coordinate": [400, 200, 600, 300]}), 1998, 1998)
    assert (box.x, box.y) == (1000, 500)
    _, (t,) = parse("mai-ui", "thinking out loud</think><tool_call>" + json.dumps(
        {"name": "mobile_use", "arguments": {"action": "type", "text": "hello"}}) + "</tool_call>", 999, 999)
    assert isinstance(t, Type) and t.text == "hello"


def test_mai_ui_desktop_actions_and_refusals() -> None:
    _, (d,) = parse("mai-ui", _mai({"action": "drag", "start_coordinate": [0, 0], "end_coordinate": [999, 999]}),
                    1000, 1000)  # fmt: skip
    assert isinstance(d, Drag)
    _, (enter,) = parse("mai-ui", _mai({"action": "system_button", "button": "enter"}), 1000, 1000)
    assert enter.keys == ["enter"]
    _, (end,) = parse("mai-ui", _mai({"action": "terminate", "status": "fail"}), 1000, 1000)
    assert isinstance(end, Done) and not end.success
    _, (ask,) = parse("mai-ui", _mai({"action": "INFO", "text": "which account?"}), 1000, 1000)
    assert isinstance(ask, Done) and not ask.success and "which account?" in (ask.answer or "")
    for args, name in [({"action": "long_press", "coordinate": [1, 1]}, "long_press"),
                       ({"action": "swipe", "direction": "up"}, "swipe"), ({"action": "open", "text": "Maps"}, "open"),
                       ({"action": "system_button", "button": "home"}, "system_button 'home'"),
                       ({"action": "AWAKE", "text": "Maps"}, "AWAKE")]:  # fmt: skip
        with pytest.raises(InvalidOutput, match=f"{name} is a phone action"):
            parse("mai-ui", _mai(args), 1000, 1000)
    assert detect_family("Tongyi-MAI/MAI-UI-8B") == "mai-ui"
