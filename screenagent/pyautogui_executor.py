"""The pyautogui executor: the only module that imports pyautogui.

pyautogui connects to the X display when it is imported, so the import happens on first use,
after a virtual display (if any) has set DISPLAY. Measured on Xvfb: with ``PAUSE=0`` a click
or key takes 0.3-2 ms and typing about 0.5 ms a character; the default ``PAUSE`` of 0.1 s after
every call is what makes naive agents slow, so it is 0 here (the loop waits for the screen to
settle instead).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from .actions import Action, Click, Drag, Key, Move, Scroll, Type
from .clipboard import paste_text
from .errors import DisplayError, MissingDependency
from .executor import Outcome, execute_common, screen_points
from .geometry import Frame
from .xconn import open_display, xlib_prints_to_stderr

# pyautogui.write types every other printable ASCII character correctly on X11 (checked by
# typing all 95 into a Tk entry on Xvfb); "<" comes out as ">". Newline and tab are keys.
_TYPEABLE = frozenset(chr(c) for c in range(32, 127)) - {"<"} | {"\n", "\t"}

_PLATFORM_KEYS = {
    "super": "command" if sys.platform == "darwin" else "winleft",
    "menu": "apps",
    "printscreen": "printscreen",
}

_DRAG_STEPS = 8


def _load_pyautogui(display: str | None) -> Any:
    if sys.platform.startswith("linux"):
        if display:
            os.environ["DISPLAY"] = display
        if not os.environ.get("DISPLAY"):
            raise DisplayError(
                "No X display to send input to: DISPLAY is not set. Use --virtual-display, "
                "`xvfb-run -a`, or run inside a desktop session."
            )
    try:
        with xlib_prints_to_stderr():  # pyautogui opens an X connection when imported
            import pyautogui
    except ImportError as exc:  # pragma: no cover - pyautogui is a base dependency
        raise MissingDependency(
            "pyautogui", "Install screenagent's base package: `pip install screenagent`."
        ) from exc
    except Exception as exc:  # Xlib raises its own errors for an unreachable display
        raise DisplayError(
            f"pyautogui cannot connect to the display {os.environ.get('DISPLAY')!r}: {exc}"
        ) from exc
    if display and sys.platform.startswith("linux"):
        _bind_x11_display(pyautogui, display)
    return pyautogui


def _bind_x11_display(pyautogui: Any, display: str) -> None:
    """pyautogui keeps one module-level X connection, opened at import. Point it at ours with
    a fresh connection: another display, or the same name reused by a newer Xvfb after the old
    one ended (its connection is dead), both need one."""
    x11 = pyautogui._pyautogui_x11
    old, x11._display = x11._display, open_display(display)
    try:
        old.close()
    except Exception:
        with contextlib.suppress(OSError):
            old.display.socket.close()


MULTI_CLICK_INTERVAL = 0.05
"""Seconds between the clicks of a double or triple click. Zero lost the second click of a
double click under openbox now and then (its focus-and-raise binding replays the first press);
toolkits count clicks within about 400-500 ms as one double click."""

class PyAutoGUIExecutor:
    """Performs actions with real mouse and keyboard events through pyautogui.

    Args:
        display: X display to drive (default ``$DISPLAY``); ignored on macOS and Windows.
        pause: pyautogui's pause after every call; 0 because the loop waits for the screen.
        failsafe: pyautogui's fail-safe: moving the pointer into a screen corner aborts.
        paste_always: Type all text by pasting (for layouts where synthetic typing is wrong).
    """

    name = "pyautogui"

    def __init__(
        self,
        *,
        display: str | None = None,
        pause: float = 0.0,
        failsafe: bool = True,
        paste_always: bool = False,
    ) -> None:
        self.display = display or os.environ.get("DISPLAY")
        self.pause = pause
        self.failsafe = failsafe
        self.paste_always = paste_always
        self._pg: Any = None

    @property
    def pg(self) -> Any:
        if self._pg is None:
            pg = _load_pyautogui(self.display)
            pg.PAUSE = self.pause
            pg.FAILSAFE = self.failsafe
            self._pg = pg
        return self._pg

    def screen_size(self) -> tuple[int, int]:
        """The desktop size in pyautogui's coordinates."""
        width, height = self.pg.size()
        return int(width), int(height)

    def execute(self, action: Action, frame: Frame) -> Outcome:
        common = execute_common(action)
        if common is not None:
            return common
        points = screen_points(action, frame)
        pg = self.pg
        try:
            detail = self._perform(pg, action, points)
        except pg.FailSafeException:
            return Outcome(
                status="failed",
                screen_points=points,
                error="pyautogui's fail-safe fired: the pointer was in a screen corner. "
                "Move it away to continue, or run with the fail-safe off.",
            )
        except _PasteNotTaken:
            return Outcome(
                status="failed",
                screen_points=points,
                error="the text was offered on the clipboard, but no application asked for it "
                "within 2 s: is a text field focused, and does it paste with ctrl+v?",
            )
        return Outcome(status="executed", screen_points=points, detail=detail)

    def _perform(self, pg: Any, action: Action, points: tuple[tuple[int, int], ...]) -> str:
        match action:
            case Click():
                (x, y) = points[0]
                mods = [self._key(m) for m in action.modifiers]
                for m in mods:
                    pg.keyDown(m)
                try:
                    pg.click(x=x, y=y, clicks=action.clicks, interval=MULTI_CLICK_INTERVAL,
                             button=action.button)  # fmt: skip
                finally:
                    for m in reversed(mods):
                        pg.keyUp(m)
                return ""
            case Move():
                pg.moveTo(*points[0])
                return ""
            case Drag():
                (x0, y0), (x1, y1) = points
                pg.moveTo(x0, y0)
                pg.mouseDown(x=x0, y=y0, button=action.button)
                try:
                    # Intermediate motion events: toolkits start a drag only after movement.
                    for i in range(1, _DRAG_STEPS + 1):
                        pg.moveTo(
                            round(x0 + (x1 - x0) * i / _DRAG_STEPS),
                            round(y0 + (y1 - y0) * i / _DRAG_STEPS),
                        )
                finally:
                    pg.mouseUp(x=x1, y=y1, button=action.button)
                return ""
            case Scroll():
                where = points[0] if points else (None, None)
                sign = 1 if action.direction in ("up", "right") else -1
                if action.direction in ("up", "down"):
                    pg.scroll(sign * action.amount, x=where[0], y=where[1])
                else:
                    pg.hscroll(sign * action.amount, x=where[0], y=where[1])
                return ""
            case Type():
                if not self.paste_always and all(ch in _TYPEABLE for ch in action.text):
                    pg.write(action.text, interval=0.0)
                    return "typed"
                modifier = "command" if sys.platform == "darwin" else "ctrl"
                report = paste_text(
                    action.text, lambda: pg.hotkey(modifier, "v"), display=self.display
                )
                if not report.served:
                    raise _PasteNotTaken()
                return f"typed by pasting (clipboard restored: {report.restored})"
            case Key():
                keys = [self._key(k) for k in action.keys]
                if len(keys) == 1:
                    pg.press(keys[0])
                else:
                    pg.hotkey(*keys)
                return ""
        raise TypeError(f"cannot execute {action!r}")  # pragma: no cover

    @staticmethod
    def _key(name: str) -> str:
        return _PLATFORM_KEYS.get(name, name)


class _PasteNotTaken(Exception):
    pass
