"""Model-family dialects: documented answers parse to the official conversion (within 1 px),
and no answer, however mangled, raises anything but InvalidOutput or leaves the image."""

from __future__ import annotations

import json

import pytest
from conftest import cli
from hypothesis import given, settings
from hypothesis import strategies as st

from screenagent.actions import Click, Done, Drag, Key, Scroll, Type
from screenagent.dialects import FAMILIES, get_dialect, to_actions
from screenagent.errors import InvalidOutput
from screenagent.geometry import ModelSpace, model_to_frame, smart_resize


def parse(family: str, text: str, w: int, h: int, model_size: tuple[int, int] | None = None):
    d = get_dialect(family)
    answer = d.parse(text, model_size or d.model_input_size(w, h))
    return answer, to_actions(answer, image_width=w, image_height=h)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # (w, h) -> the reference table's Qwen2.5 default / HF __init__ / ShowUI / UI-Venus / Qwen3 HF
        ((1920, 1080), ["1932x1092", "1316x728", "1344x756", "1932x1092", "1920x1088"]),
        ((2560, 1440), ["2548x1428", "1316x728", "1344x756", "2548x1428", "2560x1440"]),
        ((1366, 768), ["1372x756", "1316x728", "1372x756", "1904x1064", "1376x768"]),
        ((1280, 800), ["1288x812", "1260x784", "1288x812", "1792x1120", "1280x800"]),
        ((3840, 2160), ["3836x2156", "1316x728", "1344x756", "2912x1624", "3840x2176"]),
        ((1080, 2400), ["1092x2408", "672x1484", "672x1512", "1092x2408", "1088x2400"]),
        ((1440, 900), ["1428x896", "1260x784", "1288x784", "1792x1120", "1440x896"]),
    ],
)
def test_smart_resize_matches_the_reference_table(
    size: tuple[int, int], expected: list[str]
) -> None:
    w, h = size
    configs = [(28, 3136, 12845056), (28, 3136, 1003520), (28, 256 * 784, 1344 * 784), (28, 2000000, 4800000),
               (32, 65536, 16777216)]  # fmt: skip
    got = []
    for factor, lo, hi in configs:
        rh, rw = smart_resize(h, w, factor=factor, min_pixels=lo, max_pixels=hi)
        got.append(f"{rw}x{rh}")
    assert got == expected


def test_model_to_frame_rejects_outside_and_maps_the_edge() -> None:
    space = ModelSpace.relative(1000)
    assert model_to_frame(1000, 1000, space=space, frame_width=1920, frame_height=1080) == (
        1919,
        1079,
    )
    assert model_to_frame(0, 0, space=space, frame_width=1920, frame_height=1080) == (0, 0)
    for bad in ((1000.5, 5), (-1, 5), (5, float("nan"))):
        with pytest.raises(ValueError, match="outside the model's relative 0-1000 space"):
            model_to_frame(*bad, space=space, frame_width=1920, frame_height=1080)


def near(action, x: int, y: int) -> bool:
    return abs(action.x - x) <= 1 and abs(action.y - y) <= 1


def test_ui_tars_1_5_readme_coordinates() -> None:
    # README_coordinates.md: 1920x1080, output (197,525) -> (195, 519)
    answer, (click,) = parse(
        "ui-tars-1.5", "Thought: the button\nAction: click(start_box='(197,525)')", 1920, 1080
    )
    assert (
        answer.thought == "the button"
        and isinstance(click, Click)
        and (click.x, click.y) == (195, 519)
    )
    # special tokens, <point> syntax, several actions separated by a blank line
    _, actions = parse("ui-tars-1.5", "Action: click(start_box='<|box_start|>(495,30)<|box_end|>')\n\n"
                       "left_double(point='<point>100 200</point>')\n\nhotkey(key='ctrl c')", 1920, 1080)  # fmt: skip
    assert [type(a) for a in actions] == [Click, Click, Key]
    assert actions[1].clicks == 2 and actions[2].keys == ["ctrl", "c"]


def test_ui_tars_v1_relative_1000() -> None:
    # README_v1.md: (235, 512) on 1920x1080 -> round(451.2)=451, round(552.96)=553
    _, (click,) = parse("ui-tars", "Action: click(start_box='(235,512)')", 1920, 1080)
    assert near(click, 451, 553)


def test_ui_tars_actions() -> None:
    text = ("Thought: finish the form\nAction: type(content='it's \"quoted\"\\nnext line\\n')\n\n"
            "drag(start_box='(10,10)', end_box='(100,100)')\n\nscroll(start_box='(50,50)', direction='up')\n\n"
            "right_single(start_box='(5,5,15,15)')\n\nfinished(content='done it')")  # fmt: skip
    _, actions = parse("ui-tars", text, 1000, 1000)
    kinds = [type(a) for a in actions]
    assert kinds == [Type, Key, Drag, Scroll, Click, Done]
    assert actions[0].text == 'it\'s "quoted"\nnext line' and actions[1].keys == ["enter"]
    assert (actions[2].to_x, actions[2].to_y) == (100, 100) and actions[3].direction == "up"
    assert (actions[4].x, actions[4].y, actions[4].button) == (10, 10, "right")
    assert actions[5].success and actions[5].answer == "done it"
    _, (call_user,) = parse("ui-tars-1.5", "Action: call_user()", 1920, 1080)
    assert isinstance(call_user, Done) and not call_user.success  # never a click at (0, 0)


def test_qwen25_tool_call_in_resized_pixels() -> None:
    # mobile cookbook: 1080x2400 screenshot, display 1092x2408, click [935, 406]
    text = '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n</tool_call>'
    _, (click,) = parse("qwen2.5-vl", text, 1080, 2400)
    assert near(click, round(935 * 1080 / 1092), round(406 * 2400 / 2408))
    # computer_use: several calls, a drag from the pointer, terminate
    text = ('<tool_call>\n{"name": "computer_use", "arguments": {"action": "mouse_move", "coordinate": [100, 100]}}\n'
            '</tool_call>\n<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click_drag", '
            '"coordinate": [300, 100]}}\n</tool_call>\n<tool_call>\n{"name": "computer_use", "arguments": '
            '{"action": "key", "keys": ["ctrl", "s"]}}\n</tool_call>\n<tool_call>{"name": "computer_use", '
            '"arguments": {"action": "scroll", "pixels": -5}}</tool_call>\n<tool_call>{"name": "computer_use", '
            '"arguments": {"action": "terminate", "status": "failure"}}</tool_call>')  # fmt: skip
    _, actions = parse("qwen2.5-vl", text, 1288, 812)  # 1288x812 resizes to itself
    assert [type(a) for a in actions][1:] == [Drag, Key, Scroll, Done]
    assert (actions[1].x, actions[1].to_x) == (100, 300) and actions[3].direction == "down"
    assert actions[4].success is False


def test_qwen25_grounding_json_and_repair() -> None:
    text = '```json\n[\n\t{"bbox_2d": [100, 200, 300, 400], "label": "Save"}\n]\n```'
    _, (click,) = parse("qwen2.5-vl", text, 1920, 1080, model_size=(1932, 1092))
    assert near(click, int(200 * 1920 / 1932), int(300 * 1080 / 1092))
    truncated = '```json\n[\n\t{"point_2d": [966, 546], "label": "centre"},\n\t{"point_2d": [1'
    _, (click,) = parse("qwen2.5-vl", truncated, 1920, 1080, model_size=(1932, 1092))
    assert near(click, 960, 540)


def test_qwen3_relative_spaces() -> None:
    # mobile cookbook: 1440x3120, click [447, 81] / 999 -> (644, 253)
    text = ('Thought: search bar\nAction: "tap it"\n<tool_call>\n{"name": "mobile_use", "arguments": '
            '{"action": "click", "coordinate": [447, 81]}}\n</tool_call>')  # fmt: skip
    answer, (click,) = parse("qwen3-vl", text, 1440, 3120)
    assert near(click, 644, 253) and answer.thought == "search bar"
    # grounding point_2d is relative 0-1000
    _, (click,) = parse(
        "qwen3-vl", '```json\n[\n\t{"point_2d": [925, 618], "label": "point_1"}\n]\n```', 1000, 500
    )
    assert near(click, 925, 309)


def test_point_families() -> None:
    _, (a,) = parse("os-atlas", "<|object_ref_start|>language switch<|object_ref_end|><|box_start|>(576,12),(592,42)"
                    "<|box_end|><|im_end|>", 1920, 1080)  # fmt: skip
    assert near(a, int(584 / 1000 * 1920), int(27 / 1000 * 1080))
    _, (b,) = parse("uground", "(500, 250)", 1920, 1080)
    assert (b.x, b.y) == (960, 270)
    _, (c,) = parse("showui", "[0.73, 0.21]", 1920, 1080)
    assert near(c, int(0.73 * 1920), int(0.21 * 1080))
    _, actions = parse("showui", "{'action': 'CLICK', 'value': None, 'position': [0.49, 0.42]},\n"
                       "{'action': 'INPUT', 'value': 'weather for New York city', 'position': [0.49, 0.42]},\n"
                       "{'action': 'ENTER', 'value': None, 'position': None}", 1920, 1080)  # fmt: skip
    assert [type(x) for x in actions] == [Click, Click, Type, Key]


@pytest.mark.parametrize(
    ("family", "text", "message"),
    [
        ("ui-tars-1.5", "I am not sure what to do.", "no 'Action:'"),
        ("ui-tars-1.5", "Action: click(start_box='(5000,10)')", "outside the model's pixels"),
        ("ui-tars-1.5", "Action: launch_rockets(count=3)", "unknown action 'launch_rockets'"),
        (
            "ui-tars-1.5",
            "Action: click(start_box=__import__('os').system('rm -rf /'))",
            "must be a literal",
        ),
        ("qwen2.5-vl", "<tool_call>{not json}</tool_call>", "cannot be read"),
        ("qwen2.5-vl", "nothing here", "no <tool_call>"),
        ("uground", "(10, 20, 30)", "expected one point"),
        ("showui", "[1.5, 0.2]", "outside the model's relative 0-1 space"),
    ],
)
def test_invalid_answers_say_why(family: str, text: str, message: str) -> None:
    with pytest.raises(InvalidOutput, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(family, text, 1920, 1080)


_fragments = st.sampled_from([
    "Thought: ok\n", "Action: ", "click(start_box='(", ")')", "<|box_start|>", "<point>", "</point>",
    "<tool_call>", "</tool_call>", '{"name": "computer_use", "arguments": {"action": "click", "coordinate": [',
    "]}}", "```json\n[", '{"point_2d": [', "], \"label\": \"x\"}", "\n\n", ",", "'", '"', "\\", "(", ")",
    "type(content='", "finished(", "scroll(direction='up')", "-", "999999", "0.5", "1e9", "nan",
    "pyautogui.click(x=", ", y=", "pyautogui.dragTo(", "pyautogui.scroll(", "computer.terminate(status='success')",
    "```python\n", "```", "Click(", "<box>(", "),(", "</box>", "Grounded Operation:", "CLICK(box=[[", "]])",
    "TYPE(", "text='", "GESTURE(actions=[KEY_DOWN(key='", '{"x": ', ', "y": ', "<think>", "</think>",
    '{"action": "left_click", "coordinate": [', '{"type": "computer_call", "action": {"type": "click", "x": ',
    '"actions": [', '{"type": "scroll", "scroll_y": ', "<|pointer_pad|>", "{'action_type': 4, 'click_point': (",
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    family=st.sampled_from(sorted(FAMILIES)),
    parts=st.lists(
        st.one_of(_fragments, st.integers(-5000, 5000).map(str), st.text(max_size=8)), max_size=14
    ),
    w=st.integers(100, 4000),  # screens: Qwen's resize refuses aspect ratios above 200
    h=st.integers(100, 4000),
)
def test_mangled_answers_never_escape_or_crash(
    family: str, parts: list[str], w: int, h: int
) -> None:
    try:
        _, actions = parse(family, "".join(parts), w, h)
    except InvalidOutput:
        return
    for a in actions:
        for _, x, y in a.points():
            assert 0 <= x < w and 0 <= y < h


def test_parse_command() -> None:
    proc = cli("parse", "--family", "ui-tars-1.5", "--image-size", "1920x1080",
               input="Thought: t\nAction: click(start_box='(197,525)')")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        {"action": "click", "x": 195, "y": 519, "button": "left", "clicks": 1, "modifiers": []}
    ]
    proc = cli("parse", "--family", "qwen2.5-vl", "--image-size", "1920x1080", "--model-input-size", "1932x1092",
               input='{"point_2d": [966, 546]}')  # fmt: skip
    assert json.loads(proc.stdout)[0]["x"] == 960
    proc = cli("parse", "--family", "qwen2.5-vl", "--image-size", "2560x1440", "--max-pixels", str(1280 * 28 * 28),
               input='{"point_2d": [658, 364]}')  # fmt: skip
    assert json.loads(proc.stdout)[0]["x"] == 1280  # the budget made the model input 1316x728
    proc = cli("parse", "--family", "ui-tars", "--image-size", "1920x1080", input="no action here")
    assert (
        proc.returncode == 1 and "no valid action" in proc.stderr and "Traceback" not in proc.stderr
    )
    proc = cli("parse", "--family", "nonsense", "--image-size", "1920x1080", input="")
    assert proc.returncode == 2 and "Unknown model family" in proc.stderr


@settings(max_examples=200, deadline=None)
@given(
    family=st.sampled_from(["ui-tars-1.5", "ui-tars", "qwen2.5-vl", "showui", "os-atlas"]),
    fx=st.floats(0.0, 0.999),
    fy=st.floats(0.0, 0.999),
)
def test_valid_grounding_answers_always_parse(family: str, fx: float, fy: float) -> None:
    """The counterpart of the fuzzer above (which passes on every rejection): a well-formed
    click in the family's documented format always parses, inside the image."""
    w, h = 1920, 1080
    d = get_dialect(family)
    mw, mh = d.model_input_size(w, h)
    answer = {
        "ui-tars-1.5": f"Action: click(start_box='({int(fx * mw)},{int(fy * mh)})')",
        "ui-tars": f"Action: click(start_box='({int(fx * 1000)},{int(fy * 1000)})')",
        "qwen2.5-vl": json.dumps({"point_2d": [int(fx * mw), int(fy * mh)]}),
        "showui": f"[{fx:.3f}, {fy:.3f}]",
        "os-atlas": f"<|box_start|>({int(fx * 1000)},{int(fy * 1000)})<|box_end|>",
    }[family]
    _, actions = parse(family, answer, w, h)
    assert actions, answer
    for a in actions:
        for _, x, y in a.points():
            assert 0 <= x < w and 0 <= y < h
