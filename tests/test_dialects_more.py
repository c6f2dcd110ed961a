"""The remaining families, each from its documented format and its official conversion
(model-formats.md sections 8-19): within 1 px of the official numbers, every action kept in
order, terminal actions as `done`, and unusable answers as InvalidOutput with a reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dialects import near, parse

from screenagent.actions import Click, Done, Drag, Key, Move, Scroll, Type, Wait
from screenagent.dialects import get_dialect
from screenagent.errors import InvalidOutput
from screenagent.geometry import smart_resize


def test_seeclick_points_boxes_and_agent_dicts() -> None:
    _, (a,) = parse("seeclick", "(0.17,0.06)", 1920, 1080)
    assert (a.x, a.y) == (int(0.17 * 1920), int(0.06 * 1080))
    _, (b,) = parse("seeclick", "(0.10,0.20,0.30,0.40)", 1920, 1080)  # a box: its centre
    assert near(b, 384, 324)
    _, (c,) = parse("seeclick", "<box>(100,200),(300,400)</box>", 1920, 1080)  # Qwen-VL 0-1000
    assert near(c, 384, 324)
    _, (d,) = parse("seeclick", '{"action_type": 4, "click_point": (0.49,0.40)}', 1920, 1080)
    assert near(d, int(0.49 * 1920), int(0.40 * 1080))
    _, (e, f) = parse(
        "seeclick", "{'action_type': 3, 'click_point': (0.5,0.5), 'value': 'New York'}", 1920, 1080
    )
    assert isinstance(e, Click) and isinstance(f, Type) and f.text == "New York"
    prompt = get_dialect("seeclick").grounding_prompt("the Save button", (1920, 1080))
    assert prompt.user.endswith('command "the Save button" (with point)?')


def test_aguvis_pyautogui_relative_floats() -> None:
    text = "Thought: open the menu\nAction: click File\npyautogui.click(x=0.3395, y=0.6307)"
    answer, (a,) = parse("aguvis", text, 1920, 1080)
    assert answer.thought == "open the menu"
    assert near(a, round(0.3395 * 1920), round(0.6307 * 1080))  # OSWorld int(round(x * w))
    code = (
        "pyautogui.moveTo(x=0.1, y=0.2)\npyautogui.dragTo(x=0.5, y=0.2, button='left')\n"
        "pyautogui.write(message='it\\'s \"here\"\\nnext')\npyautogui.hotkey(keys=['ctrl', 'c'])\n"
        "pyautogui.press(keys=['enter'])\npyautogui.scroll(-3)\npyautogui.doubleClick(x=0.5, y=0.5)\n"
        "computer.terminate(status='failure')"
    )
    _, actions = parse("aguvis", code, 1000, 1000)
    assert [type(x) for x in actions] == [Drag, Type, Key, Key, Scroll, Click, Done]
    drag, typed, hot, press, scroll, dbl, end = actions
    assert (drag.x, drag.y, drag.to_x, drag.to_y) == (100, 200, 500, 200)
    assert (
        typed.text == 'it\'s "here"\nnext' and hot.keys == ["ctrl", "c"] and press.keys == ["enter"]
    )
    assert scroll.direction == "down" and scroll.amount == 3  # pyautogui: negative scrolls down
    assert dbl.clicks == 2 and end.success is False


def test_opencua_last_block_pixels_and_the_relative_rule() -> None:
    text = (
        "## Thought:\nfirst try\n```python\npyautogui.click(x=10, y=10)\n```\n"
        "## Action:\nclick the button\n## Code:\n```python\npyautogui.click(x=1443, y=343)\n```"
    )
    rh, rw = smart_resize(1080, 1920, factor=28, min_pixels=3136, max_pixels=12845056)
    _, (a,) = parse("opencua", text, 1920, 1080)
    assert near(a, int(1443 / rw * 1920), int(343 / rh * 1080))  # OSWorld truncates
    _, (b,) = parse("opencua", "```python\npyautogui.click(x=0.5, y=0.25)\n```", 1920, 1080)
    assert (b.x, b.y) == (960, 270)  # both in [0, 1]: relative (OSWorld's rule)
    _, (c,) = parse("opencua", "```code\ncomputer.terminate(status='success')\n```", 1920, 1080)
    assert isinstance(c, Done) and c.success
    _, (d,) = parse("opencua", "```python\ncomputer.triple_click(x=100, y=100)\n```", 1920, 1080)
    assert d.clicks == 3
    _, (e,) = parse("opencua", "```python\npyautogui.write(text='hi')\n```", 1920, 1080)
    assert e.text == "hi"  # write(text=...) corrected to message=, as upstream does


def test_gta1_point_and_its_prompt_states_the_resized_size() -> None:
    rh, rw = smart_resize(1080, 1920, factor=28, min_pixels=3136, max_pixels=4096 * 2160)
    _, (a,) = parse("gta1", "(640,360)", 1920, 1080)
    assert (a.x, a.y) == (int(640 * 1920 / rw), int(360 * 1080 / rh))  # cua: floor
    d = get_dialect("gta1")
    prompt = d.grounding_prompt("Save", d.model_input_size(1920, 1080))
    assert f"height {rh} and width {rw}" in (prompt.system or "") and prompt.user == "Save"


def test_holo_families() -> None:
    # Holo1: smart_resize(max 14*14*4*1280) turns the cookbook's 1710x852 into 1400x700
    assert get_dialect("holo1").model_input_size(1710, 852) == (1400, 700)
    _, (a,) = parse("holo1", "Click(350, 342)", 1710, 852)
    assert near(a, int(350 * 1710 / 1400), int(342 * 852 / 700))
    # Holo1.5: the processor's Qwen2.5 defaults give 1708x840
    assert get_dialect("holo1.5").model_input_size(1710, 852) == (1708, 840)
    _, (b,) = parse("holo1.5", '{"action": "click_absolute", "x": 947, "y": 338}', 1710, 852)
    assert near(b, round(947 * 1710 / 1708), round(338 * 852 / 840))
    # Holo2: 0-1000
    _, (c,) = parse("holo2", '{"x":552,"y":404}', 1920, 1080)
    assert near(c, int(552 / 1000 * 1920), int(404 / 1000 * 1080))
    assert (
        "normalized between 0 and 1000"
        in get_dialect("holo2").grounding_prompt("Book", (1, 1)).user
    )


def test_ui_venus_upscales_small_screens() -> None:
    d = get_dialect("ui-venus")
    assert d.model_input_size(1366, 768) == (1904, 1064)  # min_pixels 2M upscales
    _, (a,) = parse("ui-venus", "[100,200,300,400]", 1366, 768)
    assert near(a, int(200 / 1904 * 1366), int(300 / 1064 * 768))


def test_infigui_g1_think_then_first_candidate() -> None:
    text = '<think>the blue button</think>\n[{"point_2d": [966, 546]}, {"point_2d": [10, 10]}]'
    answer, (a,) = parse("infigui-g1", text, 1920, 1080)
    assert near(a, 960, 540) and answer.thought == "the blue button"
    prompt = get_dialect("infigui-g1").grounding_prompt("OK", (1932, 1092))
    assert "resolution is 1932x1092" in prompt.user and "<think>" in (prompt.system or "")


def test_phi_ground_canvas_and_padding() -> None:
    d = get_dialect("phi-ground")
    assert d.model_input_size(1920, 1080) == (1008, 567)  # fitted inside 1008x672
    _, (a,) = parse("phi-ground", "<point>500, 500</point>", 1920, 1080)
    re_ = 1008 / 1920  # upstream: x = r_x * 1008 / re, y = r_y * 672 / re
    assert near(a, int(0.5 * 1008 / re_), int(0.5 * 672 / re_))
    with pytest.raises(InvalidOutput, match="outside"):  # in the white margin below the image
        parse("phi-ground", "<point>500, 900</point>", 1920, 1080)
    assert d.resize is not None
    from PIL import Image

    canvas = d.resize.prepare(Image.new("RGB", (1920, 1080), (0, 0, 0)))
    assert canvas.size == (1008, 672)
    assert canvas.getpixel((5, 560)) == (0, 0, 0) and canvas.getpixel((5, 600)) == (255, 255, 255)


def test_cogagent_operations() -> None:
    text = "Action: Left click\nGrounded Operation:CLICK(box=[[150,911,180,975]], element_info='lower')\n<<一般操作>>"
    answer, (a,) = parse("cogagent", text, 1920, 1080)
    x1, x2 = int(150 / 1000 * 1920), int(180 / 1000 * 1920)
    y1, y2 = int(911 / 1000 * 1080), int(975 / 1000 * 1080)
    assert near(a, (x1 + x2) // 2, (y1 + y2) // 2) and answer.thought == "Left click"
    _, (b,) = parse(
        "cogagent", "Grounded Operation:DOUBLE_CLICK(box=[[000,086,100,114]])", 1000, 1000
    )
    assert (b.x, b.y, b.clicks) == (50, 100, 2)  # leading zeros read as numbers
    _, (c, d) = parse(
        "cogagent", "Grounded Operation:TYPE(box=[[10,10,20,20]], text='it\\'s ok')", 1000, 1000
    )
    assert isinstance(c, Click) and d.text == "it's ok"
    _, (e,) = parse(
        "cogagent", "Grounded Operation:SCROLL_DOWN(box=[[0,0,999,999]], step_count=5)", 1000, 1000
    )
    assert e.direction == "down" and e.amount == 5
    _, (f,) = parse("cogagent", "Grounded Operation:GESTURE(actions=[KEY_DOWN(key='Lcontrol'), "
                    "KEY_PRESS(key='A'), KEY_UP(key='Lcontrol')])", 1000, 1000)  # fmt: skip
    assert f.keys == ["ctrl", "a"]
    _, (g,) = parse("cogagent", "Grounded Operation:KEY_PRESS(key='F11')", 1000, 1000)
    assert g.keys == ["f11"]
    _, (h,) = parse("cogagent", "Grounded Operation:END()", 1000, 1000)
    assert isinstance(h, Done)
    with pytest.raises(InvalidOutput, match="LAUNCH is not supported"):
        parse("cogagent", "Grounded Operation:LAUNCH(app='Settings', url='None')", 1000, 1000)
    prompt = get_dialect("cogagent").next_action_prompt("open settings", "clicked Start", (1, 1))
    assert prompt.user.startswith("Task: open settings\nHistory steps: \n0. clicked Start")


def test_gui_actor_reports_no_coordinates() -> None:
    text = "pyautogui.click(<|pointer_start|><|pointer_pad|><|pointer_end|>)"
    with pytest.raises(InvalidOutput, match="no coordinates"):
        parse("gui-actor", text, 1920, 1080)


def test_anthropic_computer_tool() -> None:
    d = get_dialect("anthropic")
    assert d.model_input_size(1920, 1080) == (1366, 768)  # FWXGA: aspect within 0.02
    assert d.model_input_size(1280, 800) == (1280, 800) and d.model_input_size(1000, 1000) == (
        1000,
        1000,
    )
    message = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "I'll save the file."},
            {"type": "tool_use", "id": "t1", "name": "computer", "input": {"action": "left_click", "coordinate": [500, 300]}},
            {"type": "tool_use", "id": "t2", "name": "computer", "input": {"action": "key", "text": "ctrl+s"}},
        ],
    }  # fmt: skip
    answer, (a, k) = parse("anthropic", json.dumps(message), 1920, 1080)
    assert answer.thought == "I'll save the file." and k.keys == ["ctrl", "s"]
    sx, sy = 1366 / 1920, 768 / 1080  # the reference scales back with round(x / factor)
    assert near(a, round(500 / sx), round(300 / sy))
    _, actions = parse("anthropic", json.dumps([
        {"action": "left_click_drag", "start_coordinate": [10, 10], "coordinate": [100, 50]},
        {"action": "scroll", "coordinate": [50, 50], "scroll_direction": "up", "scroll_amount": 4},
        {"action": "type", "text": "héllo <world>"}, {"action": "key", "text": "Return"},
        {"action": "double_click", "coordinate": [20, 20]}, {"action": "wait", "duration": 2},
    ]), 1280, 800)  # fmt: skip
    assert [type(x) for x in actions] == [Drag, Scroll, Type, Key, Click, Wait]
    assert actions[1].direction == "up" and actions[1].amount == 4 and actions[3].keys == ["enter"]
    with pytest.raises(InvalidOutput, match="zoom"):
        parse("anthropic", '{"action": "zoom", "region": [0, 0, 10, 10]}', 1280, 800)


def test_openai_computer_calls_single_and_batched() -> None:
    single = {"type": "computer_call", "call_id": "c1", "action": {"type": "click", "button": "left", "x": 100, "y": 200},
              "pending_safety_checks": []}  # fmt: skip
    _, (a,) = parse("openai", json.dumps(single), 1024, 768)
    assert (a.x, a.y) == (100, 200)
    batched = {"output": [
        {"type": "reasoning", "summary": []},
        {"type": "computer_call", "call_id": "c2", "actions": [
            {"type": "double_click", "x": 10, "y": 10},
            {"type": "scroll", "x": 500, "y": 400, "scroll_x": 0, "scroll_y": 300},
            {"type": "keypress", "keys": ["CTRL", "A"]},
            {"type": "type", "text": "hello"},
            {"type": "drag", "path": [{"x": 1, "y": 1}, {"x": 50, "y": 60}, {"x": 90, "y": 99}]},
            {"type": "move", "x": 3, "y": 4}, {"type": "wait"},
        ]},
    ]}  # fmt: skip
    _, actions = parse("openai", json.dumps(batched), 1024, 768)
    assert [type(x) for x in actions] == [Click, Scroll, Key, Type, Drag, Move, Wait]
    assert actions[1].direction == "down" and actions[1].amount == 3  # positive scroll_y: down
    assert actions[2].keys == ["ctrl", "a"] and (actions[4].to_x, actions[4].to_y) == (90, 99)
    _, (end,) = parse("openai", json.dumps({"output": [{"type": "message", "content": [{"type": "output_text", "text": "All done."}]}]}), 1024, 768)  # fmt: skip
    assert isinstance(end, Done) and end.answer == "All done."
    with pytest.raises(InvalidOutput, match="outside"):
        parse(
            "openai", json.dumps({"type": "click", "button": "left", "x": 2000, "y": 5}), 1024, 768
        )


def test_qwen_agent_prompts_state_the_model_resolution() -> None:
    d = get_dialect("qwen2.5-vl")
    size = d.model_input_size(1920, 1080)
    prompt = d.next_action_prompt("save the file", "Step 1: clicked File -> ok", size)
    assert "The screen's resolution is 1932x1092." in (prompt.system or "")
    assert '"name": "computer_use"' in (prompt.system or "") and "<tool_call>" in (
        prompt.system or ""
    )
    assert "save the file" in prompt.user and "clicked File" in prompt.user
    q3 = get_dialect("qwen3-vl").next_action_prompt("t", "", (1920, 1088))
    assert "resolution is 999x999" in (q3.system or "") and "Response format" in (q3.system or "")


@pytest.mark.parametrize(
    ("family", "text", "message"),
    [
        ("aguvis", "pyautogui.click(x=__import__('os'), y=1)", "must be literals"),
        ("aguvis", "```python\nimport os\npyautogui.click(x=0.1, y=0.1)\n```", "only action calls"),
        ("aguvis", "pyautogui.dragTo(x=0.5, y=0.5)", "moveTo the start first"),
        ("opencua", "I think we are done.", "no action code"),
        ("seeclick", "somewhere near the top", "expected a point"),
        ("holo1.5", "I cannot find it", "expected a JSON click"),
        ("ui-venus", "[1, 2, 3]", "expected a point"),
        ("infigui-g1", "<think>hmm</think> nothing", "expected"),
        ("cogagent", "Action: hmm", "no 'Grounded Operation:'"),
        ("anthropic", "not json", "expected the API's JSON"),
        (
            "openai",
            '{"type": "computer_call", "action": {"type": "teleport"}}',
            "unknown computer action",
        ),
    ],
)
def test_more_invalid_answers_say_why(family: str, text: str, message: str) -> None:
    with pytest.raises(InvalidOutput, match=message):
        parse(family, text, 1920, 1080)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["x", "y", "type"]), inner, max_size=3)
    ),
    max_leaves=8,
)
_keys = st.sampled_from(["action", "type", "coordinate", "start_coordinate", "text", "keys", "scroll_direction",
                         "scroll_amount", "duration", "x", "y", "button", "path", "scroll_x", "scroll_y",
                         "pixels", "time", "status", "clicks", "presses", "message", "page",
                         "element", "content", "direction", "url", "seconds", "point", "start_point",
                         "end_point", "press_enter", "start_coordinate", "end_coordinate", "start_box", "end_box",
                         "destination_x", "destination_y", "magnitude", "clear_before_typing", "step"])  # fmt: skip
_names = st.sampled_from(["left_click", "click", "double_click", "scroll", "key", "keypress", "type", "wait",
                          "drag", "left_click_drag", "mouse_move", "move", "terminate", "hscroll", "triple_click",
                          "click_element", "write_element_abs", "go_back", "refresh", "goto", "answer", "restart",
                          "write", "right_click", "left_double", "right_single", "move_to", "hotkey", "press",
                          "finished", "call_user", "swipe", "long_press", "system_button", "INFO",
                          "click_at", "type_text_at", "scroll_at", "drag_and_drop", "key_combination",
                          "left_drag", "hover", "middle_click", "left_double_click"])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(name=_names, args=st.dictionaries(_keys, _json_values, max_size=5))
def test_structured_garbage_never_escapes(name: str, args: dict) -> None:
    """Well-formed containers with wrong values inside: only InvalidOutput, never off-image."""
    import math

    calls = {
        "anthropic": json.dumps({"action": name, **args}),
        "openai": json.dumps({"type": "computer_call", "action": {**args, "type": name}}),
        "qwen2.5-vl": "<tool_call>" + json.dumps({"name": "computer_use", "arguments": {**args, "action": name}}) + "</tool_call>",
        "holo1": json.dumps({"note": "", "thought": "t", "action": {**args, "action": name}}),
        "holo3": json.dumps({"note": None, "thought": "t", "tool_call": {**args, "tool_name": name}}),
        "mai-ui": "<tool_call>" + json.dumps({"name": "mobile_use", "arguments": {**args, "action": name}}) + "</tool_call>",
        "qwen3.5": "<tool_call><function=computer>" + "".join(f"<parameter={k}>{json.dumps(v)}</parameter>"
                                                             for k, v in {**args, "action": name}.items()) + "</function></tool_call>",
        "ui-tars-2": f"<seed:tool_call><function={name}>" + "".join(
            f"<parameter={k}>" + (f"<point>{v} {v}</point>" if k.endswith("point") else str(v)) + "</parameter>"
            for k, v in args.items()) + "</function></seed:tool_call>",
        "aguvis": "pyautogui." + name + "(" + ", ".join(f"{k}={v!r}" for k, v in args.items()
                                                        if not (isinstance(v, float) and not math.isfinite(v))) + ")",
        "gemini": json.dumps({"name": name, "args": args}),
        "glm-v": name + "(" + ", ".join(f"{k}={str(v)!r}" for k, v in args.items()) + ")",
    }  # fmt: skip
    for family, text in calls.items():
        try:
            _, actions = parse(family, text, 1280, 800)
        except InvalidOutput:
            continue
        for a in actions:
            for _, x, y in a.points():
                assert 0 <= x < 1280 and 0 <= y < 800


@settings(max_examples=200, deadline=None)
@given(fx=st.floats(0.0, 0.999), fy=st.floats(0.0, 0.999))
def test_valid_structured_answers_always_parse(fx: float, fy: float) -> None:
    """The fuzzers above pass on every InvalidOutput; this one holds the parsers to the other
    side: every well-formed click in each structured format parses, to a point inside the image
    (the share of valid answers that parse is all of them)."""
    w, h = 1280, 800
    for family, make in {
        "anthropic": lambda x, y: json.dumps({"action": "left_click", "coordinate": [x, y]}),
        "openai": lambda x, y: json.dumps({"type": "computer_call", "action": {"type": "click", "button": "left", "x": x, "y": y}}),
        "qwen2.5-vl": lambda x, y: "<tool_call>" + json.dumps({"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [x, y]}}) + "</tool_call>",
        "aguvis": lambda x, y: f"pyautogui.click(x={fx:.4f}, y={fy:.4f})",  # relative 0-1
        "holo3": lambda x, y: json.dumps({"note": None, "thought": "t", "tool_call": {
            "tool_name": "click", "element": "e", "x": int(fx * 1000), "y": int(fy * 1000)}}),
        "ui-tars-2": lambda x, y: f"<seed:tool_call><function=click><parameter=point><point>{int(fx * 1000)} "
                                  f"{int(fy * 1000)}</point></parameter></function></seed:tool_call>",
        "qwen3.5": lambda x, y: "<tool_call><function=computer><parameter=action>left_click</parameter>"
                                f"<parameter=coordinate>[{int(fx * 1000)}, {int(fy * 1000)}]</parameter></function></tool_call>",
        "gemini": lambda x, y: json.dumps({"name": "click_at", "args": {"x": int(fx * 1000), "y": int(fy * 1000)}}),
        "glm-v": lambda x, y: f"left_click(start_box='[{int(fx * 1000)},{int(fy * 1000)}]')",
    }.items():  # fmt: skip
        mw, mh = get_dialect(family).model_input_size(w, h)
        x, y = int(fx * mw), int(fy * mh)
        _, actions = parse(family, make(x, y), w, h)
        (click,) = actions
        assert isinstance(click, Click), (family, actions)
        assert 0 <= click.x < w and 0 <= click.y < h


@pytest.mark.parametrize(("size", "answer", "want"), [
    ((1920, 1080), "<point>500, 400</point>", (960, 512)),  # width-limited: 1008x567 on the canvas
    ((1280, 1024), "<point>250, 500</point>", (384, 512)),  # height-limited: 840x672 on the canvas
])  # fmt: skip
def test_phi_ground_points_map_through_the_canvas_like_the_official_example(
    size: tuple[int, int], answer: str, want: tuple[int, int]
) -> None:
    """microsoft/Phi-Ground examples/call_example.py: the screenshot is resized by one ratio
    (``reshape_ratio``) and pasted at (0, 0) on a 1008x672 white canvas; ``<point>x, y</point>``
    are thousandths of the canvas, mapped back by ``x/1000 * 1008 / ratio`` and
    ``y/1000 * 672 / ratio`` (``to_absolute_coordinates``). Worked examples from issue 20."""
    from screenagent.dialects import get_dialect, to_actions

    d = get_dialect("phi-ground")
    (click,) = to_actions(d.parse(answer, d.resize.model_size(*size)), image_width=size[0], image_height=size[1])
    assert (click.x, click.y) == want


def test_a_list_of_several_points_grounds_on_the_first_and_says_so() -> None:
    """Qwen's grounding cookbooks answer a JSON list (``[{"point_2d": [x, y], "label": ...}, ...]``,
    model-formats.md §3.4/§4.3), and InfiGUI-G1's eval takes the first item as the prediction
    (§15). A grounding step asks for one element, so the first point is clicked and the others
    are set aside with a note (the step log, ``screenagent parse`` on stderr), never clicked."""
    from conftest import cli

    text = '```json\n[{"point_2d": [100, 200], "label": "Save"}, {"point_2d": [300, 400], "label": "Save as"}]\n```'
    answer, (click,) = parse("qwen2.5-vl", text, 1280, 800, model_size=(1280, 800))
    assert (click.x, click.y) == (100, 200)
    assert len(answer.notes) == 1 and "listed 2 points" in answer.notes[0] and "Save as" in answer.notes[0]
    one, _ = parse("qwen2.5-vl", '[{"point_2d": [100, 200]}]', 1280, 800, model_size=(1280, 800))
    assert one.notes == ()
    proc = cli("parse", "--family", "qwen2.5-vl", "--image-size", "1280x800", "--model-input-size", "1280x800",
               input=text)  # fmt: skip
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["x"] == 100
    assert "listed 2 points" in proc.stderr
