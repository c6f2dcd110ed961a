"""The desktop's own account of what is on screen: X11 top-level windows with their titles,
geometry, type (dialog, normal ...) and the window they belong to (WM_TRANSIENT_FOR).

Works with or without a window manager: with one, `_NET_CLIENT_LIST` names the clients;
without (bare Xvfb), the mapped children of the root window that carry a WM_NAME are used.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from .errors import DisplayError, MissingDependency
from .xconn import open_display


@dataclass(frozen=True, kw_only=True)
class WindowInfo:
    id: int
    title: str
    x: int
    y: int
    width: int
    height: int
    types: tuple[str, ...] = ()
    transient_for: int | None = None
    pid: int | None = None
    wm_class: tuple[str, ...] = ()

    @property
    def box(self) -> list[int]:
        return [self.x, self.y, self.x + self.width, self.y + self.height]

    @property
    def is_dialog(self) -> bool:
        return self.transient_for is not None or any(
            t in ("DIALOG", "NOTIFICATION", "MODAL") for t in self.types
        )


def list_windows(display: str | None = None) -> list[WindowInfo]:
    """Mapped top-level windows with a title, bottom to top (the last one is on top)."""
    try:
        from Xlib import X, Xatom, error
    except ImportError as exc:  # pragma: no cover - python-xlib comes with pyautogui on Linux
        raise MissingDependency(
            "python-xlib", "Install it with `pip install python-xlib`."
        ) from exc
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise DisplayError("No X display: DISPLAY is not set (use --image PNG for a screenshot).")
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", name)
    if local and not os.path.exists(f"/tmp/.X11-unix/X{local.group(1)}"):
        raise DisplayError(f"Cannot open the X display {name!r}: no X server listens there.")
    try:
        d = open_display(name)
    except Exception as exc:
        raise DisplayError(f"Cannot open the X display {name!r}: {exc}") from None
    try:
        root = d.screen().root
        atom = d.intern_atom

        def prop(w: Any, name: str, kind: int = X.AnyPropertyType) -> Any:
            try:
                p = w.get_full_property(atom(name), kind)
            except error.XError:
                return None
            return p.value if p is not None else None

        stacking = prop(root, "_NET_CLIENT_LIST_STACKING") or prop(root, "_NET_CLIENT_LIST")
        candidates = (
            [d.create_resource_object("window", int(w)) for w in stacking]
            if stacking
            else root.query_tree().children
        )
        type_names = {}
        out: list[WindowInfo] = []
        for w in candidates:
            try:
                attrs = w.get_attributes()
                if attrs.map_state != X.IsViewable:
                    continue
                title = prop(w, "_NET_WM_NAME") or prop(w, "WM_NAME", Xatom.STRING)
                title = (
                    title.decode("utf-8", "replace") if isinstance(title, bytes) else (title or "")
                )
                if not title:
                    continue
                geom = w.get_geometry()
                pos = w.translate_coords(root, 0, 0)
                types = []
                for t in prop(w, "_NET_WM_WINDOW_TYPE", Xatom.ATOM) or []:
                    if t not in type_names:
                        type_names[t] = d.get_atom_name(t).removeprefix("_NET_WM_WINDOW_TYPE_")
                    types.append(type_names[t])
                state = [d.get_atom_name(a) for a in (prop(w, "_NET_WM_STATE", Xatom.ATOM) or [])]
                if "_NET_WM_STATE_MODAL" in state:
                    types.append("MODAL")
                transient = prop(w, "WM_TRANSIENT_FOR", Xatom.WINDOW)
                pid = prop(w, "_NET_WM_PID", Xatom.CARDINAL)
                wm_class = w.get_wm_class() or ()
            except error.XError:
                continue  # the window went away while we looked
            out.append(WindowInfo(
                id=w.id, title=title, x=-pos.x, y=-pos.y, width=geom.width, height=geom.height,
                types=tuple(types), transient_for=int(transient[0]) or None if transient else None,
                pid=int(pid[0]) if pid else None, wm_class=tuple(wm_class),
            ))  # fmt: skip
        return out
    finally:
        d.close()


def _connect(display: str | None) -> Any:
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise DisplayError("No X display: DISPLAY is not set.")
    try:
        return open_display(name)
    except Exception as exc:
        raise DisplayError(f"Cannot open the X display {name!r}: {exc}") from None


def active_window(display: str | None = None) -> int | None:
    """The window the window manager says has focus (_NET_ACTIVE_WINDOW); None without a
    window manager or with nothing focused."""
    from Xlib import Xatom

    d = _connect(display)
    try:
        root = d.screen().root
        if root.get_full_property(d.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0) is None:
            return None
        prop = root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW)
        return int(prop.value[0]) or None if prop is not None and len(prop.value) else None
    finally:
        d.close()


def activate_window(window_id: int, display: str | None = None) -> bool:
    """Ask the window manager to focus and raise a window (an EWMH _NET_ACTIVE_WINDOW request,
    as a pager sends it). False when no window manager runs."""
    from Xlib import X
    from Xlib.protocol import event

    d = _connect(display)
    try:
        root = d.screen().root
        if root.get_full_property(d.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0) is None:
            return False
        window = d.create_resource_object("window", window_id)
        message = event.ClientMessage(window=window, client_type=d.intern_atom("_NET_ACTIVE_WINDOW"),
                                      data=(32, [2, X.CurrentTime, 0, 0, 0]))  # fmt: skip
        root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        d.flush()
        return True
    finally:
        d.close()
