"""A person's mouse and keyboard, as the X server saw them: the RECORD extension.

python-xlib speaks RECORD itself (``Xlib.ext.record``), so no other library is needed: one
connection creates a context that asks for the device events of all clients (key and button
presses and releases, pointer motion), a second connection enables it and receives each event
as the server delivers it, with its root coordinates, modifier state and server time. Nothing
polls. The X server has to offer RECORD (Xvfb and Xorg do by default; a VNC server started with
``-extension RECORD`` off does not).
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..errors import DisplayError

KEY_PRESS, KEY_RELEASE, BUTTON_PRESS, BUTTON_RELEASE, MOTION = 2, 3, 4, 5, 6
SHIFT, LOCK, CONTROL, MOD1, MOD4 = 1, 2, 4, 8, 64
"""X event types and modifier masks (X11/X.h)."""


@dataclass(frozen=True)
class RawEvent:
    """One device event: ``kind`` an X event type, ``detail`` the button or keycode."""

    kind: int
    detail: int
    x: int
    y: int
    state: int
    time: int
    """Server time in milliseconds."""
    arrived: float = 0.0
    """``time.monotonic()`` when it reached the recorder (to pick the screen as it was then)."""


class InputRecorder:
    """Receives the display's device events on a thread of its own, into ``events``.

    Use as a context manager, or `start` / `stop`. Motion events are not kept (the press
    and release carry their positions).
    """

    def __init__(self, display: str) -> None:
        self.display = display
        self.events: queue.Queue[RawEvent] = queue.Queue()
        self._ctl: Any = None
        self._rec: Any = None
        self._ctx: Any = None
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def __enter__(self) -> InputRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> InputRecorder:
        from Xlib import X
        from Xlib.ext import record

        from ..xconn import open_display

        self._ctl = open_display(self.display)
        if not self._ctl.has_extension("RECORD"):
            self._ctl.close()
            raise DisplayError(
                f"the X server of {self.display} has no RECORD extension, so input cannot be recorded: "
                "use Xvfb or Xorg (they have it), or start your VNC/X server with RECORD enabled"
            )
        self._rec = open_display(self.display)
        self._ctx = self._ctl.record_create_context(0, [record.AllClients], [{
            "core_requests": (0, 0), "core_replies": (0, 0), "ext_requests": (0, 0, 0, 0),
            "ext_replies": (0, 0, 0, 0), "delivered_events": (0, 0),
            "device_events": (X.KeyPress, X.MotionNotify), "errors": (0, 0),
            "client_started": False, "client_died": False,
        }])  # fmt: skip
        self._ctl.sync()  # the context exists before the other connection enables it
        self._thread = threading.Thread(target=self._run, name="screenagent-record", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        from Xlib.ext import record
        from Xlib.protocol import rq

        field = rq.EventField(None)

        def on_reply(reply: Any) -> None:
            if reply.category != record.FromServer or reply.client_swapped or not reply.data:
                return
            data = reply.data
            while len(data) >= 32:
                ev, data = field.parse_binary_value(data, self._rec.display, None, None)
                if ev.type in (KEY_PRESS, KEY_RELEASE, BUTTON_PRESS, BUTTON_RELEASE):
                    self.events.put(RawEvent(ev.type, ev.detail, ev.root_x, ev.root_y, ev.state, ev.time,
                                             time.monotonic()))  # fmt: skip

        try:
            self._rec.record_enable_context(self._ctx, on_reply)
        except Exception as exc:
            self.error = exc

    def stop(self) -> None:
        """Stop receiving (what arrived stays in ``events``) and close both connections."""
        if self._ctl is None:
            return
        try:
            if self._ctx is not None:
                self._ctl.record_disable_context(self._ctx)
                self._ctl.flush()
            if self._thread is not None:
                self._thread.join(timeout=3)
            if self._ctx is not None:
                self._ctl.record_free_context(self._ctx)
                self._ctl.flush()
        finally:
            for conn in (self._rec, self._ctl):
                with contextlib.suppress(Exception):
                    conn.close()
            self._ctl = self._rec = self._ctx = self._thread = None


@functools.cache
def _keysym_names() -> dict[int, str]:
    from Xlib import XK

    names: dict[int, str] = {}
    for name in dir(XK):
        if name.startswith("XK_"):
            names.setdefault(getattr(XK, name), name[3:])
    return names


def key_name(display: Any, keycode: int, state: int) -> str:
    """The keysym name of a key as pressed (``a``, ``A``, ``Return``, ``BackSpace``...)."""
    keysym = display.keycode_to_keysym(keycode, 1 if state & SHIFT else 0) or display.keycode_to_keysym(keycode, 0)
    return _keysym_names().get(keysym, "")


def key_char(display: Any, keycode: int, state: int) -> str | None:
    """The character a key types (None for keys that type none: Return, F1, arrows...)."""
    from Xlib import XK

    keysym = display.keycode_to_keysym(keycode, 1 if state & SHIFT else 0)
    if 0x20 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if 0x1000100 <= keysym <= 0x110FFFF:  # Unicode keysyms
        return chr(keysym - 0x1000000)
    name = XK.keysym_to_string(keysym)
    return name if name and len(name) == 1 and name.isprintable() else None


class FrameBuffer:
    """The screen every ``period`` seconds on a thread of its own (its own capture connection),
    the last ``keep`` frames kept: `before` gives the screen as it was when an event arrived,
    even when what the person clicked (a dialog's OK) is gone by the time the event is read."""

    def __init__(self, display: str, *, period: float = 0.1, keep: int = 30) -> None:
        import collections

        self.display = display
        self.period = period
        self.frames: collections.deque[tuple[float, Any]] = collections.deque(maxlen=keep)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="screenagent-frames", daemon=True)

    def __enter__(self) -> FrameBuffer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        from ..screen import MssScreen

        with MssScreen(display=self.display) as screen:
            while not self._stop.is_set():
                started = time.monotonic()
                self.frames.append((started, screen.capture().image))
                self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))

    def before(self, when: float) -> Any:
        """The newest frame whose capture began before ``when`` (None: none yet)."""
        for started, image in reversed(self.frames):
            if started <= when:
                return image
        return None

