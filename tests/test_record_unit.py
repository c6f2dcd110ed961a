"""`Recording` (events -> steps) on synthetic X events, with a describer that names fixed regions
(pure unit tests beside test_record.py, which records a real person's input on a real app).
Keycodes and keysyms are X11's: keysyms from X11/keysymdef.h (XK_a = 0x61, XK_Return = 0xff0d)."""

from __future__ import annotations

from typing import Any

from PIL import Image

from screenagent.record.capture import (
    BUTTON_PRESS,
    BUTTON_RELEASE,
    CONTROL,
    KEY_PRESS,
    MOD1,
    SHIFT,
    RawEvent,
)
from screenagent.record.recorder import Recording
from screenagent.record.words import Words
from screenagent.record.writer import to_text, to_yaml
from screenagent.testing.spec import load_test_file

KEYSYMS = {10: 0x61, 11: 0x62, 12: 0x73, 13: 0x65, 36: 0xFF0D, 22: 0xFF08, 23: 0xFF09, 50: 0xFFE1, 37: 0xFFE3}
"""keycode -> keysym (shifted: the upper case for letters)."""


class Keyboard:
    def keycode_to_keysym(self, keycode: int, index: int) -> int:
        sym = KEYSYMS.get(keycode, 0)
        return sym - 0x20 if index and 0x61 <= sym <= 0x7A else sym


class Screen:
    """Named regions; ``late`` names appear only after ``shown`` is set."""

    def __init__(self) -> None:
        self.regions = {"Name": (100, 50, 400, 80), "Password": (100, 90, 400, 120), "Save": (100, 200, 180, 230),
                        "Report": (300, 200, 400, 230)}  # fmt: skip
        self.fields = {"Name": "Name", "Password": "Password"}
        self.shown = {"Name", "Password", "Save"}
        self.grounder = self

    def is_visible(self, target: str, frame: Any) -> bool:
        return target in frame.info.get("shown", set())

    def at(self, frame: Any, x: int, y: int) -> Words:
        for name, (x1, y1, x2, y2) in self.regions.items():
            if x1 <= x < x2 and y1 <= y < y2:
                return Words(name, "ocr")
        return Words("image:rec-images/target-1.png", "image", note="no words here")

    def line_at(self, frame: Any, x: int, y: int) -> str | None:
        return None  # no text lines in this fake: the hotkey falls back

    def field(self, frame: Any, x: int, y: int) -> Words | None:
        name = self.at(frame, x, y).target
        return Words(self.fields[name], "ocr") if name in self.fields else None


def run(events: list[tuple[int, int, int, int, int]], screen: Screen | None = None) -> Recording:
    screen = screen or Screen()

    def capture() -> Image.Image:
        img = Image.new("RGB", (10, 10))
        img.info["shown"] = set(screen.shown)
        return img

    rec = Recording(screen, capture, Keyboard())  # type: ignore[arg-type]
    for kind, detail, x, y, state_time in events:
        state, t = divmod(state_time, 100_000)
        rec.feed(RawEvent(kind, detail, x, y, state, t))
    rec.finish()
    return rec


def click(x: int, y: int, t: int, button: int = 1) -> list[tuple[int, int, int, int, int]]:
    return [(BUTTON_PRESS, button, x, y, t), (BUTTON_RELEASE, button, x, y, t + 60)]


def key(code: int, t: int, state: int = 0) -> tuple[int, int, int, int, int]:
    return (KEY_PRESS, code, 0, 0, state * 100_000 + t)


def test_typing_after_a_click_is_type_into_its_label_and_backspace_edits_it() -> None:
    rec = run([*click(150, 60, 1000), key(10, 1100), key(11, 1200), key(22, 1300), key(12, 1400),
               key(36, 1500), *click(120, 210, 2000)])  # fmt: skip
    assert [(s.verb, s.value, s.fields) for s in rec.steps] == [
        ("type", "as", {"into": "Name", "enter": True}), ("click", "Save", {})]
    tf_text = to_yaml(rec.steps, name="t")
    assert '      - type: "as"\n        into: "Name"\n        enter: true' in tf_text


def test_double_right_drag_scroll_and_shortcuts() -> None:
    events = [*click(120, 210, 1000), *click(121, 211, 1300),  # a double click
              *click(320, 210, 3000, button=3),  # a right click
              (BUTTON_PRESS, 1, 120, 60, 4000), (BUTTON_RELEASE, 1, 330, 215, 4400),  # a drag
              (BUTTON_PRESS, 5, 150, 60, 5000), (BUTTON_PRESS, 5, 152, 61, 5100), (BUTTON_PRESS, 5, 151, 60, 5200),
              key(12, 6000, CONTROL), key(13, 6100, CONTROL | SHIFT), key(23, 6200)]  # fmt: skip
    screen = Screen()
    screen.shown.add("Report")  # on the screen from the start: no wait
    steps = [(s.verb, s.value, s.fields) for s in run(events, screen).steps]
    assert steps == [("double_click", "Save", {}), ("right_click", "Report", {}),
                     ("drag", "Name", {"to": "Report"}), ("scroll", "down", {"amount": 3, "in": "Name"}),
                     ("press", "ctrl+s", {}), ("press", "ctrl+shift+e", {}), ("press", "tab", {})]  # fmt: skip


def test_a_target_that_was_not_there_before_gets_a_wait_and_a_password_never_leaks() -> None:
    screen = Screen()
    events = [*click(150, 100, 1000), key(10, 1100), key(11, 1200), *click(120, 210, 2000)]
    rec = Recording(screen, lambda: _frame(screen), Keyboard())  # type: ignore[arg-type]
    for kind, detail, x, y, t in events[:6]:  # typing into Password, then Save clicked
        rec.feed(RawEvent(kind, detail, x, y, 0, t))
    screen.shown.add("Report")  # Report appears after Save was clicked
    for kind, detail, x, y, t in [*click(320, 210, 3000)]:
        rec.feed(RawEvent(kind, detail, x, y, 0, t))
    rec.finish()
    steps = [(s.verb, s.value, s.fields) for s in rec.steps]
    assert steps == [("type", "${SECRET_1}", {"into": "Password", "secret": True}), ("click", "Save", {}),
                     ("wait_for", "Report", {}), ("click", "Report", {})]  # fmt: skip
    text = to_yaml(rec.steps, name="t", secrets=rec.secrets)
    assert "ab" not in text.replace("tab", "") and "SECRET_1: the password typed into Password" in text


def _frame(screen: Screen) -> Image.Image:
    img = Image.new("RGB", (10, 10))
    img.info["shown"] = set(screen.shown)
    return img


def test_the_hotkey_and_unnamed_spots(tmp_path: Any) -> None:
    rec = run([*click(900, 900, 1000), key(13, 2000, CONTROL | MOD1)])
    (where, check) = rec.steps
    assert where.value.startswith("image:") and where.comments == ["no words here"]
    assert check.verb == "screenshot" and "no text" in check.comments[0]  # the fake describer has no lines
    path = tmp_path / "t.yaml"
    path.write_text(to_yaml(rec.steps, name="t", app=["python3", "app.py"], ready="Save",
                            proposals=["Saved"]))  # fmt: skip
    tf = load_test_file(path)
    assert tf.app is not None and tf.app.ready == "Save" and len(tf.tests[0].steps) == 2
    assert '# - expect_visible: "Saved"' in path.read_text()
    assert to_text(rec.steps).startswith("# no words here\nclick image:")
