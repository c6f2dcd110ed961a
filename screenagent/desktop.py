"""The desktop around a virtual display: a window manager, a private D-Bus session bus and the
AT-SPI accessibility bus, all started, owned and ended (by PID) with the display.

A bare Xvfb is not a desktop: without a window manager keyboard focus follows the pointer,
GTK dialogs open at (0, 0) without a title bar and no new window gets focus; without a session
bus GTK, Qt and Chromium print D-Bus errors and expose no accessibility tree. So a
`VirtualDisplay` starts, by default:

- openbox (``--sm-disable``): title bars, dialogs placed over their parent, new windows focused.
  Chosen because it runs under Xvfb as root with no session manager and starts in a fraction of
  a second (xfwm4 exits at once without an Xfce session; mutter needs a GNOME session);
- ``dbus-daemon --session`` on a private socket (never the user's bus);
- ``at-spi-bus-launcher --launch-immediately`` on that bus, told that assistive technology is
  on (``org.a11y.Status.IsEnabled``), so toolkits export their trees;
- the environment children need: DISPLAY, XAUTHORITY, DBUS_SESSION_BUS_ADDRESS, a private
  XDG_RUNTIME_DIR, and the toolkit switches (``GTK_MODULES=gail:atk-bridge``,
  ``QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1``; Chromium needs `CHROMIUM_FLAGS` on its command line).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import DisplayError, MissingDependency

DesktopKind = Literal["full", "bare"]

PROGRAMS = {
    "openbox": ("openbox", "openbox"),
    "dbus-daemon": ("dbus-daemon", "dbus-daemon"),
    "at-spi-bus-launcher": ("/usr/libexec/at-spi-bus-launcher", "at-spi2-core"),
    "dbus-send": ("dbus-send", "dbus-bin"),
}
"""The desktop's programs: name -> (what to look for, the Debian package that has it)."""

TOOLKIT_ENV = {
    "GTK_MODULES": "gail:atk-bridge",
    "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
    "QT_ACCESSIBILITY": "1",
}
"""Environment switches that make toolkits export their accessibility trees."""

CHROMIUM_FLAGS = ("--force-renderer-accessibility",)
"""Chromium reads no environment switch: give it these flags (the bus says AT is on)."""

START_TIMEOUT = 10.0


def find_programs() -> dict[str, str]:
    """Paths of the desktop's programs; MissingDependency names every missing Debian package."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for name, (what, package) in PROGRAMS.items():
        path = what if os.path.isabs(what) and os.access(what, os.X_OK) else shutil.which(what)
        if path:
            found[name] = path
        else:
            missing.append(package)
    if missing:
        raise MissingDependency(
            "The virtual desktop's programs (" + ", ".join(missing) + ")",
            f"Install them with `sudo apt-get install {' '.join(missing)}`, or use a bare "
            "display (`desktop='bare'`, `--desktop bare`).",
        )
    return found


def _end(proc: subprocess.Popen[Any]) -> None:
    """End a process we started, by its PID, and the processes it started in its own session
    (the accessibility launcher runs its bus as a child)."""
    from .display import end_process

    pgid = proc.pid
    end_process(proc)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)


@dataclass
class Desktop:
    """The running parts of a desktop (see the module docstring).

    Attributes:
        env: What children need beyond DISPLAY/XAUTHORITY (bus address, runtime dir, toolkit
            switches).
        procs: The processes started, in start order (ended in reverse).
        seconds: Start-up time of each part.
    """

    env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def stop(self) -> None:
        """End every process, in reverse start order (safe to call twice)."""
        while self.procs:
            _end(self.procs.pop())


def _read_line(proc: subprocess.Popen[bytes], what: str) -> str:
    """The first line a child prints on stdout (its bus address), within START_TIMEOUT."""
    if proc.stdout is None:  # pragma: no cover - the caller pipes stdout
        raise DisplayError(f"{what}: no output to read")
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + START_TIMEOUT
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            raise DisplayError(f"{what} did not start within {START_TIMEOUT:g} s")
        chunk = os.read(fd, 256)
        if not chunk:
            raise DisplayError(f"{what} exited at start (code {proc.wait(timeout=2)})")
        data += chunk
    return data.decode().strip()


@contextlib.contextmanager
def _xauthority(path: str | None) -> Any:
    """python-xlib reads the cookie's path from this process's environment."""
    saved = os.environ.get("XAUTHORITY")
    if path:
        os.environ["XAUTHORITY"] = path
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("XAUTHORITY", None)
        else:
            os.environ["XAUTHORITY"] = saved


def _wait_for_wm(display: str, proc: subprocess.Popen[Any], xauthority: str | None) -> None:
    """Until the window manager has claimed the screen (_NET_SUPPORTING_WM_CHECK on root)."""
    from .xconn import open_display

    with _xauthority(xauthority):
        d = open_display(display)
    try:
        check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
        root = d.screen().root
        deadline = time.monotonic() + START_TIMEOUT
        while root.get_full_property(check, 0) is None:
            if proc.poll() is not None:
                raise DisplayError(f"openbox exited at start (code {proc.returncode})")
            if time.monotonic() > deadline:
                raise DisplayError(f"openbox did not manage {display} within {START_TIMEOUT:g} s")
            time.sleep(0.02)
    finally:
        d.close()


def _wait_for_name(env: Mapping[str, str], dbus_send: str, launcher: subprocess.Popen[Any]) -> None:
    """Until our launcher owns org.a11y.Bus. Asked of the bus daemon itself (NameHasOwner
    activates nothing): a message sent TO org.a11y.Bus before the launcher owns the name makes
    the session bus start a second launcher from its service file; ours then loses the name
    and exits, and an app that already took the first accessibility bus's address is left on
    a dead bus and never shows a tree (seen with Qt apps, about one start in eight)."""
    argv = [dbus_send, "--session", "--print-reply", "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.a11y.Bus"]  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        done = subprocess.run(argv, env=dict(env), capture_output=True, timeout=START_TIMEOUT)
        if b"boolean true" in done.stdout:
            return
        if launcher.poll() is not None:
            raise DisplayError(f"at-spi-bus-launcher exited at start (code {launcher.returncode})")
        if time.monotonic() > deadline:
            raise DisplayError(f"at-spi-bus-launcher did not own org.a11y.Bus within {START_TIMEOUT:g} s")
        time.sleep(0.01)


def _enable_accessibility(env: Mapping[str, str], dbus_send: str) -> None:
    """Tell the bus that assistive technology is on (Chromium exports its tree only then);
    retried until the launcher answers."""
    argv = [dbus_send, "--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus",
            "org.freedesktop.DBus.Properties.Set", "string:org.a11y.Status", "string:IsEnabled",
            "variant:boolean:true"]  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        done = subprocess.run(argv, env=dict(env), capture_output=True, timeout=START_TIMEOUT)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise DisplayError(
                "the accessibility bus did not answer: " + done.stderr.decode(errors="replace")[-300:]
            )
        time.sleep(0.05)


def start_desktop(display: str, base_env: Mapping[str, str], workdir: Path) -> Desktop:
    """Start the window manager and both buses for ``display``; ``workdir`` is private to it
    (logs, the runtime dir). On failure everything started so far is ended."""
    programs = find_programs()
    desktop = Desktop()
    runtime = workdir / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**base_env, "XDG_RUNTIME_DIR": str(runtime), **TOOLKIT_ENV}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    log = open(workdir / "desktop.log", "ab")  # noqa: SIM115 (children keep their copies)
    try:
        t = time.perf_counter()
        bus = subprocess.Popen(
            [programs["dbus-daemon"], "--session", "--nofork", "--nopidfile", "--print-address=1",
             f"--address=unix:path={runtime / 'bus'}"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        desktop.procs.append(bus)
        env["DBUS_SESSION_BUS_ADDRESS"] = _read_line(bus, "dbus-daemon")
        desktop.seconds["session bus"] = time.perf_counter() - t

        t = time.perf_counter()
        launcher = subprocess.Popen(
            [programs["at-spi-bus-launcher"], "--launch-immediately"], env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        desktop.procs.append(launcher)
        _wait_for_name(env, programs["dbus-send"], launcher)
        _enable_accessibility(env, programs["dbus-send"])
        desktop.seconds["accessibility bus"] = time.perf_counter() - t

        t = time.perf_counter()
        wm = subprocess.Popen(
            [programs["openbox"], "--sm-disable"], env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        desktop.procs.append(wm)
        _wait_for_wm(display, wm, env.get("XAUTHORITY"))
        desktop.seconds["window manager"] = time.perf_counter() - t
    except BaseException:
        desktop.stop()
        raise
    finally:
        log.close()
    desktop.env = {k: env[k] for k in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", *TOOLKIT_ENV)}
    return desktop
