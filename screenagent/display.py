"""VirtualDisplay: a private Xvfb that screenagent starts, owns and ends.

The machine may be shared: a fixed display number can collide with somebody else's server
(another process's typing has landed in a test app on ``:99``). Xvfb picks a free number
itself with ``-displayfd`` and writes it to a pipe once it accepts connections; we keep the
PID and end exactly that process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .desktop import Desktop, DesktopKind, start_desktop
from .errors import ConfigError, DisplayError, MissingDependency


def end_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """End a process we started, by its PID: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def parse_size(text: str) -> tuple[int, int, int]:
    """``1280x800`` or ``1280x800x24`` -> (width, height, depth)."""
    parts = text.lower().split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or any(n <= 0 for n in nums):
        raise ValueError(f"expected a size like 1280x800 or 1280x800x24, got {text!r}")
    width, height = nums[0], nums[1]
    depth = nums[2] if len(nums) == 3 else 24
    return width, height, depth


def write_xauthority(path: str, cookie: bytes) -> None:
    """Write an X authority file with one MIT-MAGIC-COOKIE-1 entry for every local display.

    The entry has an empty display number, which libXau and python-xlib both read as "any
    display": the file can be written before Xvfb has chosen its number.
    """

    def field(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    family_local = 256
    entry = (
        struct.pack(">H", family_local)
        + field(socket.gethostname().encode())
        + field(b"")
        + field(b"MIT-MAGIC-COOKIE-1")
        + field(cookie)
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(entry)


class VirtualDisplay:
    """Start Xvfb on a free display number; use as a context manager.

    Inside the ``with`` block ``os.environ["DISPLAY"]`` names this display and
    ``XAUTHORITY`` its private cookie (both restored on exit), so capture, input and child
    processes started there all use it. ``env`` gives the same variables for processes
    started elsewhere (and for a second display in one process, with ``set_environ=False``).

    Args:
        width, height, depth: Screen size and colour depth.
        set_environ: Point this process's DISPLAY at the new server while it runs.
        start_timeout: Seconds to wait for Xvfb to report its display number.
        desktop: ``full`` (default): also a window manager, a private D-Bus session bus and
            the accessibility bus (`screenagent.desktop`); ``bare``: Xvfb alone.
    """

    def __init__(
        self,
        width: int = 1280,
        height: int = 800,
        depth: int = 24,
        *,
        set_environ: bool = True,
        start_timeout: float = 15.0,
        desktop: DesktopKind = "full",
    ) -> None:
        if desktop not in ("full", "bare"):
            raise ConfigError(f"`desktop` is 'full' or 'bare', not {desktop!r}.")
        self.width, self.height, self.depth = width, height, depth
        self.desktop_kind: DesktopKind = desktop
        self.desktop: Desktop | None = None
        self.set_environ = set_environ
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.display: str | None = None
        self._saved_env: dict[str, str | None] = {}
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._xauthority: str | None = None
        self._log_path = Path(os.devnull)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def env(self) -> Mapping[str, str]:
        """Environment for child processes that should run on this display."""
        if self.display is None:
            raise DisplayError("the virtual display is not running")
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        if self._xauthority:
            env["XAUTHORITY"] = self._xauthority
        env.pop("WAYLAND_DISPLAY", None)
        if self.desktop is not None:
            env.update(self.desktop.env)
        return env

    def start(self) -> VirtualDisplay:
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise MissingDependency(
                "Xvfb (the virtual X server)",
                "Install it with `sudo apt-get install xvfb` (Debian/Ubuntu) or "
                "`sudo dnf install xorg-x11-server-Xvfb` (Fedora), or run on a real desktop "
                "without --virtual-display.",
            )
        self._tmpdir = tempfile.TemporaryDirectory(prefix="screenagent-xvfb-")
        # A private cookie: Xvfb admits only clients that hold it, so other users of a
        # shared machine cannot type into our display; our clients find it via XAUTHORITY.
        self._xauthority = str(Path(self._tmpdir.name) / "Xauthority")
        write_xauthority(self._xauthority, secrets.token_bytes(16))
        self._log_path = Path(self._tmpdir.name) / "xvfb.log"
        read_fd, write_fd = os.pipe()
        log = open(self._log_path, "wb")  # noqa: SIM115 (closed below; Xvfb keeps its copy)
        try:
            self.proc = subprocess.Popen(
                [
                    xvfb,
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    f"{self.width}x{self.height}x{self.depth}",
                    "-auth",
                    self._xauthority,
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
            log.close()
        try:
            number = self._read_display_number(read_fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
        self.display = f":{number}"
        self._wait_for_socket(number)
        if self.desktop_kind == "full":
            try:
                self.desktop = start_desktop(self.display, self.env, Path(self._tmpdir.name))
            except BaseException:
                self.stop()
                raise
        if self.set_environ:
            wanted = {"DISPLAY": self.display, "XAUTHORITY": self._xauthority,
                      **(self.desktop.env if self.desktop else {})}  # fmt: skip
            for key, value in wanted.items():
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = value
        return self

    def _read_display_number(self, fd: int) -> int:
        deadline = time.monotonic() + self.start_timeout
        data = b""
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DisplayError(f"Xvfb did not report a display within {self.start_timeout:g} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 64)
            if not chunk:  # Xvfb exited before writing its number
                err = self._stderr_tail()
                raise DisplayError(f"Xvfb exited before it was ready: {err or 'no message'}")
            data += chunk
        return int(data.strip())

    def _wait_for_socket(self, number: int) -> None:
        path = f"/tmp/.X11-unix/X{number}"
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.connect(path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise DisplayError(f"Xvfb on :{number} does not accept connections") from None
                time.sleep(0.02)

    def _stderr_tail(self) -> str:
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        try:
            return self._log_path.read_text(errors="replace").strip()[-500:]
        except OSError:
            return ""

    def stop(self) -> None:
        """End the Xvfb this object started (only that PID) and restore DISPLAY."""
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        desktop, self.desktop = self.desktop, None
        if desktop is not None:
            desktop.stop()
        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc)
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> VirtualDisplay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def display_alive(display: str | None) -> bool | None:
    """Whether an X server accepts connections on a local display (``:N``); None when that
    cannot be told from here (a remote display, no DISPLAY)."""
    import re

    m = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display or "")
    if m is None:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(f"/tmp/.X11-unix/X{m.group(1)}")
        return True
    except OSError:
        return False
