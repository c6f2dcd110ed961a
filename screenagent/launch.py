"""Starting an app on a display and knowing when it is there: its window is mapped (and, with a
window manager, focused), so that typing right after the launch lands in it.

The app's window is the first new top-level window whose ``_NET_WM_PID`` is the app's PID, else
(apps that hand over to another process, such as a browser) the first new window at all. Its
stderr goes to a file (a pipe nobody reads would block a chatty GTK app), whose last lines are
quoted when the app exits early or never gets ready.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, UserError
from .windows import WindowInfo, activate_window, active_window, list_windows

FOCUS_TIMEOUT = 3.0
"""Seconds to wait for the window manager to focus the new window after asking it to."""


class AppExited(ConfigError):
    """The launched program could not start, or exited before it showed a window."""


class AppNotReady(UserError):
    """The launched app never showed its window or its ready target."""


@dataclass
class LaunchedApp:
    """A program started on the display; ``window`` is its main window once seen."""

    argv: list[str]
    proc: subprocess.Popen[bytes]
    log: Path
    window: WindowInfo | None = None

    def stderr_tail(self, limit: int = 800) -> str:
        try:
            return self.log.read_text(errors="replace").strip()[-limit:]
        except OSError:
            return ""

    def exited(self) -> str:
        """Why the app is gone, for an error message ('' while it runs)."""
        code = self.proc.poll()
        if code is None:
            return ""
        tail = self.stderr_tail()
        return f"it exited with code {code}" + (f"; its stderr ends with:\n{tail}" if tail else "")

    def window_json(self) -> dict[str, Any] | None:
        w = self.window
        if w is None:
            return None
        return {"title": w.title, "class": list(w.wm_class), "pid": w.pid, "box": w.box}


def start_app(argv: Sequence[str], *, display: str, env: Mapping[str, str],
              cwd: str | Path | None = None) -> LaunchedApp:  # fmt: skip
    """Start ``argv`` (no shell) on ``display``; AppExited when it cannot start."""
    argv = list(argv)
    fd, log = tempfile.mkstemp(prefix="screenagent-app-", suffix=".log")
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env={**env, "DISPLAY": display},
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fd)  # fmt: skip
    except OSError as exc:
        os.unlink(log)
        raise AppExited(f"`launch` {argv}: cannot start it: {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    return LaunchedApp(argv=argv, proc=proc, log=Path(log))


def _new_window(app: LaunchedApp, display: str, before: set[int]) -> WindowInfo | None:
    fresh = [w for w in list_windows(display) if w.id not in before]
    mine = [w for w in fresh if w.pid == app.proc.pid]
    found = mine or fresh
    return found[-1] if found else None


def wait_for_window(app: LaunchedApp, *, display: str, before: set[int], timeout: float) -> WindowInfo:
    """Until the app's window is mapped, then ask the window manager to focus it (when one
    runs) and wait until it has. AppExited when the app dies first; AppNotReady at the timeout."""
    deadline = time.monotonic() + timeout
    while (window := _new_window(app, display, before)) is None:
        if app.proc.poll() is not None:
            raise AppExited(f"`launch` {app.argv} showed no window: {app.exited()}")
        if time.monotonic() > deadline:
            raise AppNotReady(f"`launch` {app.argv} showed no window within {timeout:g} s.")
        time.sleep(0.05)
    app.window = window
    if active_window(display) != window.id and activate_window(window.id, display):
        focus_deadline = time.monotonic() + FOCUS_TIMEOUT
        while active_window(display) != window.id and time.monotonic() < focus_deadline:
            time.sleep(0.05)
    return window


def end_app(app: LaunchedApp) -> None:
    """End the app by its PID and remove its stderr file."""
    from .display import end_process

    end_process(app.proc)
    with contextlib.suppress(OSError):
        app.log.unlink()
