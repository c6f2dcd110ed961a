"""Events -> steps: what a person did, as the steps `screenagent test` and `run` take.

- A press and release of the left button at one spot is a ``click``; a second one at the same
  spot within `DOUBLE_MS` makes it a ``double_click``; the right button a ``right_click``; a press
  and release `DRAG_PX` apart a ``drag`` from the words at the press to those at the release.
  Wheel notches at one spot become one ``scroll`` (direction, count, ``in`` its words).
- Keys typed after a click become ``type "..." into <the field's label>`` in place of that
  click (``clear`` when the field held text; Backspace edits what was typed, Return ends it with
  ``enter``); typed with no click before, a plain ``type``. A key with Ctrl, Alt or Super is a
  ``press`` (``ctrl+s``); Tab, Escape, arrows and function keys too.
- `ASSERT_CHORD` (ctrl+alt+e) adds ``expect_visible`` for the text under the pointer.
- A target that was not on the screen before the previous action appeared after it: a
  ``wait_for`` it goes first.
- A field whose tree role is a password, or whose label says password, gets ``${SECRET_n}`` and
  ``secret: true``: what was typed is never written.

Each press is paired with the screen as it was when the press arrived (captured then), so the
words are those of what the person pointed at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .capture import (
    BUTTON_PRESS,
    BUTTON_RELEASE,
    CONTROL,
    KEY_PRESS,
    MOD1,
    MOD4,
    SHIFT,
    RawEvent,
    key_char,
    key_name,
)
from .words import Describer, Words

DOUBLE_MS = 450
ENTER_PAUSE_MS = 400
"""Return this long after the last typed key is its own step (``press enter``)."""
DRAG_PX = 10
ASSERT_CHORD = "ctrl+alt+e"
MODIFIER_KEYS = {"Shift_L", "Shift_R", "Control_L", "Control_R", "Alt_L", "Alt_R", "Meta_L", "Meta_R",
                 "Super_L", "Super_R", "ISO_Level3_Shift", "Caps_Lock", "Num_Lock", "Mode_switch"}  # fmt: skip
KEY_WORDS = {"Return": "enter", "KP_Enter": "enter", "Tab": "tab", "ISO_Left_Tab": "shift+tab", "Escape": "esc",
             "BackSpace": "backspace", "Delete": "delete", "Up": "up", "Down": "down", "Left": "left",
             "Right": "right", "Home": "home", "End": "end", "Prior": "pageup", "Next": "pagedown",
             "space": "space", "Insert": "insert"}  # fmt: skip


@dataclass
class Step:
    """One recorded step: a verb, its primary value, its other fields, and comments."""

    verb: str
    value: str
    fields: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    at: tuple[int, int] | None = None
    by: str = ""
    """What named its target (tree, ocr, image), for a pointer step."""
    time: int = 0
    frame: Image.Image | None = field(default=None, repr=False)


@dataclass
class _Press:
    button: int
    x: int
    y: int
    time: int
    frame: Image.Image
    words: Words | None = None
    """What is under it, read when the press arrived (a dialog's OK is gone after the release)."""


class Recording:
    """Feed it events in order (`feed`); `steps` is what they mean so far (valid at any time).

    ``capture()`` returns the screen now; ``display`` is an Xlib display (for key names);
    ``before(t)`` the screen as it was at a moment (a `FrameBuffer`'s)."""

    def __init__(self, describer: Describer, capture: Any, display: Any, before: Any = None,
                 windows: Any = None) -> None:  # fmt: skip
        self.describer = describer
        self.capture = capture
        self.before = before
        self.windows = windows
        """``windows()``: {window id: title} of the top-level windows now (None: not watched)."""
        self._seen_windows: dict[int, str] | None = windows() if windows is not None else None
        """``before(t)``: the screen as it was at ``time.monotonic()`` t (a `FrameBuffer`), or None."""
        self.display = display
        self.steps: list[Step] = []
        self.secrets: dict[str, str] = {}
        """``SECRET_n`` -> the field it is for (never what was typed)."""
        self._press: _Press | None = None
        self._typing: list[str] = []
        self._typing_into: Step | None = None
        self._last_key = 0
        self._last_frame: Image.Image | None = None

    # -- events -------------------------------------------------------------------------------

    def feed(self, ev: RawEvent) -> None:
        if ev.kind == BUTTON_PRESS and ev.detail in (4, 5, 6, 7):
            self._scroll(ev)
        elif ev.kind == BUTTON_PRESS:
            self._end_typing()
            self._wait_for_new_window()
            frame = self._screen_at(ev)
            self._press = _Press(ev.detail, ev.x, ev.y, ev.time, frame, self._words(frame, ev.x, ev.y))
        elif ev.kind == BUTTON_RELEASE and self._press is not None and ev.detail == self._press.button:
            press, self._press = self._press, None
            self._pointer(press, ev)
        elif ev.kind == KEY_PRESS:
            self._key(ev)

    def finish(self) -> list[Step]:
        """End what is open (typing) and return the steps."""
        self._end_typing()
        return self.steps

    def _wait_for_new_window(self) -> None:
        """A window that opened since the previous action (a dialog the person waited for) gets
        a ``wait_for`` its title before the action the person now starts in it."""
        if self.windows is None or self._seen_windows is None:
            return
        now = self.windows()
        new = [title for wid, title in now.items() if wid not in self._seen_windows and title.strip()]
        self._seen_windows = now
        if new and self.steps:
            self.steps.append(Step("wait_for", new[-1].strip(), comments=["a window the person waited for"]))

    def _screen_at(self, ev: RawEvent) -> Image.Image:
        """The screen as it was when the event arrived (``before(arrived)``), else now."""
        frame = self.before(ev.arrived) if self.before is not None and ev.arrived else None
        return frame if frame is not None else self.capture()

    # -- pointer ------------------------------------------------------------------------------

    def _add(self, step: Step) -> None:
        pointed = step.verb in ("click", "double_click", "right_click") and step.by != "image"
        if pointed and self._last_frame is not None and not self._visible(step.value, self._last_frame):
            self.steps.append(Step("wait_for", step.value, comments=["it appeared after the previous step"]))
        self.steps.append(step)
        if step.frame is not None:
            self._last_frame = step.frame

    def _visible(self, target: str, frame: Image.Image) -> bool:
        try:
            return bool(self.describer.grounder.is_visible(target, frame))
        except Exception:
            return True

    def _words(self, frame: Image.Image, x: int, y: int) -> Words:
        return self.describer.at(frame, x, y)

    def _pointer(self, press: _Press, release: RawEvent) -> None:
        far = math.dist((press.x, press.y), (release.x, release.y)) > DRAG_PX
        if far and press.button == 1:
            a = press.words or self._words(press.frame, press.x, press.y)
            b = self._words(press.frame, release.x, release.y)
            self._add(Step("drag", a.target, {"to": b.target}, [c for c in (a.note, b.note) if c],
                           at=(press.x, press.y), time=press.time, frame=press.frame))  # fmt: skip
            return
        last = self.steps[-1] if self.steps else None
        if (press.button == 1 and last is not None and last.verb == "click" and last.at is not None
                and math.dist(last.at, (press.x, press.y)) <= 6 and press.time - last.time <= DOUBLE_MS):  # fmt: skip
            last.verb = "double_click"
            last.time = press.time
            return
        verb = {1: "click", 2: "click", 3: "right_click"}[press.button]
        words = press.words or self._words(press.frame, press.x, press.y)
        step = Step(verb, words.target, {}, [words.note] if words.note else [], at=(press.x, press.y),
                    by=words.by, time=press.time, frame=press.frame)  # fmt: skip
        self._add(step)

    def _scroll(self, ev: RawEvent) -> None:
        self._end_typing()
        direction = {4: "up", 5: "down", 6: "left", 7: "right"}[ev.detail]
        last = self.steps[-1] if self.steps else None
        same = last is not None and last.verb == "scroll" and last.value == direction and last.at is not None
        if same and last is not None and last.at is not None and math.dist(last.at, (ev.x, ev.y)) <= 20 \
                and ev.time - last.time <= 1500:  # fmt: skip
            last.fields["amount"] = int(last.fields.get("amount", 1)) + 1
            last.time = ev.time
            return
        frame = self._screen_at(ev)
        words = self._words(frame, ev.x, ev.y)
        fields: dict[str, Any] = {"amount": 1}
        if words.by in ("tree", "ocr"):
            fields["in"] = words.target
        self._add(Step("scroll", direction, fields, at=(ev.x, ev.y), time=ev.time, frame=frame))

    # -- keys ---------------------------------------------------------------------------------

    def _key(self, ev: RawEvent) -> None:
        name = key_name(self.display, ev.detail, ev.state)
        if name in MODIFIER_KEYS or not name:
            return
        mods = [m for m, bit in (("ctrl", CONTROL), ("alt", MOD1), ("super", MOD4)) if ev.state & bit]
        if not self._typing:
            self._wait_for_new_window()
        if mods:  # a shortcut: the unshifted key, with shift named (ctrl+shift+s, not ctrl+S)
            base = key_name(self.display, ev.detail, ev.state & ~SHIFT) or name
            chord = "+".join([*mods, *(["shift"] if ev.state & SHIFT else []), KEY_WORDS.get(base, base.lower())])
            self._end_typing()
            if chord == ASSERT_CHORD:
                self._assert_at(ev.x, ev.y)
            else:
                self.steps.append(Step("press", chord, time=ev.time))
            return
        if name in ("Return", "KP_Enter") and self._typing:
            # at once: part of the typing; after a pause (the person looked first), a step of
            # its own, so a replay lets the screen settle before it too
            self._end_typing(enter=ev.time - self._last_key <= ENTER_PAUSE_MS)
            if ev.time - self._last_key > ENTER_PAUSE_MS:
                self.steps.append(Step("press", "enter", time=ev.time))
            return
        self._last_key = ev.time
        if name == "BackSpace" and self._typing:
            self._typing.pop()
            return
        char = key_char(self.display, ev.detail, ev.state)
        if (char is not None and name not in KEY_WORDS) or name == "space":
            self._start_typing()
            self._typing.append(char or " ")
            return
        self._end_typing()
        self.steps.append(Step("press", KEY_WORDS.get(name, name.lower()), time=ev.time))

    def _assert_at(self, x: int, y: int) -> None:
        frame = self.capture()
        line = self.describer.line_at(frame, x, y)
        if line is not None:  # the whole line pointed at: what a person reads as the message
            self.steps.append(Step("expect_visible", line, comments=["added with ctrl+alt+e"]))
            return
        words = self._words(frame, x, y)
        if words.by in ("tree", "ocr"):
            text = words.target.split(":", 1)[1] if words.by == "tree" and ":" in words.target else words.target
            self.steps.append(Step("expect_visible", text, comments=["added with ctrl+alt+e"]))
        else:
            self.steps.append(Step("screenshot", "asserted here", comments=[
                "ctrl+alt+e pointed at no text: a screenshot marks the spot instead"]))  # fmt: skip

    def _start_typing(self) -> None:
        if self._typing or self._typing_into is not None:
            return
        last = self.steps[-1] if self.steps else None
        self._typing_into = last if last is not None and last.verb == "click" and last.at is not None else None

    def _end_typing(self, *, enter: bool = False) -> None:
        if not self._typing:
            self._typing_into = None
            if enter:
                self.steps.append(Step("press", "enter"))
            return
        text, self._typing = "".join(self._typing), []
        click, self._typing_into = self._typing_into, None
        fields: dict[str, Any] = {}
        comments: list[str] = []
        secret = False
        if click is not None and click.frame is not None and click.at is not None:
            label = self.describer.field(click.frame, *click.at)
            if label is not None:
                fields["into"] = label.target
                if label.had_text:
                    fields["clear"] = True
                secret = label.secret or "password" in label.target.lower()
                self.steps.remove(click)  # typing into a field clicks it first
            else:
                comments.append("the field has no label: the click before this step focuses it")
        if enter:
            fields["enter"] = True
        if secret:
            name = f"SECRET_{len(self.secrets) + 1}"
            self.secrets[name] = str(fields.get("into", "a field"))
            fields["secret"] = True
            text = "${" + name + "}"
            comments.append(f"a password: set {name} in the environment; what was typed is not kept")
        self.steps.append(Step("type", text, fields, comments))
