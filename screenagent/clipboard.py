"""Paste text through the clipboard, for text that synthetic key presses cannot type.

pyautogui types ``<`` as ``>`` on X11 and silently drops every non-ASCII character. Pasting
types anything. On X11 the clipboard is a conversation: the owner of the CLIPBOARD selection
answers each paste request. `X11Paste` takes ownership on its own X connection, triggers the
paste, answers the application's request, and then gives the clipboard back as it was: empty
if it was empty, or the previous text (held by a background ``xclip``, since an X selection
lives only as long as its owner).

Elsewhere (macOS, Windows) `pyperclip`, which pyautogui installs, sets and restores the
clipboard.
"""

from __future__ import annotations

import logging
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PasteReport:
    """How one paste went.

    Attributes:
        served: Whether the application asked for the text (False: nothing took the paste).
        restored: What happened to the previous clipboard: "empty", "text", "not restored".
    """

    served: bool
    restored: str


class X11Paste:
    """Own the X11 CLIPBOARD for one paste.

    Args:
        display: X display name (``:3``).
        timeout: Seconds to wait for the application's paste request.
        grace: Seconds to keep answering after the first answer.
    """

    def __init__(self, display: str, *, timeout: float = 2.0, grace: float = 0.03) -> None:
        self.display_name = display
        self.timeout = timeout
        self.grace = grace

    def paste(self, text: str, trigger: Callable[[], None]) -> PasteReport:
        from Xlib import X, Xatom

        from .xconn import open_display

        d = open_display(self.display_name)
        try:
            window = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
            atoms = {
                name: d.intern_atom(name)
                for name in (
                    "CLIPBOARD",
                    "TARGETS",
                    "UTF8_STRING",
                    "TEXT",
                    "text/plain;charset=utf-8",
                    "SCREENAGENT_SEL",
                    "TIMESTAMP",
                )
            }
            previous = self._read(d, window, atoms, X)
            window.set_selection_owner(atoms["CLIPBOARD"], X.CurrentTime)
            d.flush()
            if d.get_selection_owner(atoms["CLIPBOARD"]) != window:
                raise RuntimeError("could not take ownership of the X11 clipboard")
            trigger()
            served = self._serve_until_pasted(d, text, atoms, X, Xatom)
            window.destroy()  # ownership ends with the window: the clipboard is empty again
            d.flush()
        finally:
            d.close()
        restored = "empty"
        if previous is not None:
            restored = "text" if self._hold_with_xclip(previous) else "not restored"
        return PasteReport(served=served, restored=restored)

    def _wait_event(self, d: Any, deadline: float) -> Any | None:
        while True:
            if d.pending_events():
                return d.next_event()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            select.select([d.fileno()], [], [], remaining)

    def _read(self, d: Any, window: Any, atoms: dict[str, int], X: Any) -> bytes | None:
        """Current clipboard text, or None if nobody owns it or it holds no text."""
        if d.get_selection_owner(atoms["CLIPBOARD"]) == X.NONE:
            return None
        window.convert_selection(
            atoms["CLIPBOARD"], atoms["UTF8_STRING"], atoms["SCREENAGENT_SEL"], X.CurrentTime
        )
        d.flush()
        deadline = time.monotonic() + 0.5
        while (ev := self._wait_event(d, deadline)) is not None:
            if ev.type == X.SelectionNotify:
                if ev.property == X.NONE:
                    return None
                prop = window.get_full_property(atoms["SCREENAGENT_SEL"], X.AnyPropertyType)
                window.delete_property(atoms["SCREENAGENT_SEL"])
                return bytes(prop.value) if prop is not None else None
        return None

    def _serve_until_pasted(
        self, d: Any, text: str, atoms: dict[str, int], X: Any, Xatom: Any
    ) -> bool:
        from Xlib.protocol import event as xevent

        data = text.encode("utf-8")
        text_targets = {atoms["UTF8_STRING"], atoms["TEXT"], atoms["text/plain;charset=utf-8"]}
        deadline = time.monotonic() + self.timeout
        served = False
        while (ev := self._wait_event(d, deadline)) is not None:
            if ev.type == X.SelectionClear:
                return served  # somebody else took the clipboard
            if ev.type != X.SelectionRequest:
                log.debug("clipboard: event type %s while waiting", ev.type)
                continue
            log.debug(
                "clipboard: request for %s from window %s, time %s",
                d.get_atom_name(ev.target),
                ev.requestor.id,
                ev.time,
            )
            prop = ev.property if ev.property != X.NONE else ev.target
            served_text = False
            if ev.target == atoms["TARGETS"]:
                targets = [atoms["TARGETS"], atoms["UTF8_STRING"], Xatom.STRING, atoms["TEXT"]]
                ev.requestor.change_property(prop, Xatom.ATOM, 32, targets)
            elif ev.target in text_targets:
                kind = atoms["UTF8_STRING"] if ev.target == atoms["TEXT"] else ev.target
                ev.requestor.change_property(prop, kind, 8, data)
                served_text = True
            elif ev.target == Xatom.STRING:
                ev.requestor.change_property(
                    prop, Xatom.STRING, 8, text.encode("latin-1", "replace")
                )
                served_text = True
            else:
                prop = X.NONE
            notify = xevent.SelectionNotify(
                time=ev.time,
                requestor=ev.requestor,
                selection=ev.selection,
                target=ev.target,
                property=prop,
            )
            ev.requestor.send_event(notify)
            d.flush()
            if served_text and not served:
                served = True
                # Keep answering for a moment: some toolkits ask again (another target, or
                # a retry) right after the first answer.
                deadline = time.monotonic() + self.grace
        return served

    def _hold_with_xclip(self, data: bytes) -> bool:
        """Give the previous text back to the clipboard through a background xclip."""
        xclip = shutil.which("xclip")
        if xclip is None:
            return False
        proc = subprocess.Popen(
            [xclip, "-selection", "clipboard", "-display", self.display_name],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        proc.communicate(data, timeout=5)  # xclip forks; the parent exits once it has the text
        return proc.returncode == 0


def paste_text(text: str, trigger: Callable[[], None], *, display: str | None) -> PasteReport:
    """Paste ``text`` into the focused application; ``trigger`` presses the paste keys."""
    if sys.platform.startswith("linux"):
        if not display:
            raise RuntimeError("pasting on X11 needs the display name")
        return X11Paste(display).paste(text, trigger)
    import pyperclip

    try:
        previous: str | None = pyperclip.paste()
    except pyperclip.PyperclipException:
        previous = None
    pyperclip.copy(text)
    trigger()
    time.sleep(0.2)  # macOS/Windows apps read the pasteboard asynchronously; no owner to watch
    pyperclip.copy(previous or "")
    return PasteReport(served=True, restored="text" if previous else "empty")
