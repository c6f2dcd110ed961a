"""A VNC server on the recorder's own desktop, so a person can watch and drive it: x11vnc on
127.0.0.1 only, a one-time password (never on a command line: x11vnc reads it from a file it
removes), started and ended by PID with the recording."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import DisplayError, MissingDependency


class VncServer:
    def __init__(self, display: str, env: dict[str, str]) -> None:
        self.display = display
        self.env = env
        self.password = secrets.token_urlsafe(6)[:8]
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> VncServer:
        exe = shutil.which("x11vnc")
        if exe is None:
            raise MissingDependency("x11vnc", "--vnc needs it: sudo apt-get install x11vnc")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        folder = Path(tempfile.mkdtemp(prefix="screenagent-vnc-"))
        pw = folder / "passwd"
        pw.write_text(self.password + "\n")
        pw.chmod(0o600)
        auth = self.env.get("XAUTHORITY")
        self.proc = subprocess.Popen(
            [exe, "-display", self.display, *(["-auth", auth] if auth else []), "-localhost", "-rfbport",
             str(self.port), "-passwdfile", f"rm:{pw}", "-forever", "-shared", "-quiet"],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DisplayError(f"x11vnc ended at once (exit {self.proc.returncode}) on {self.display}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    shutil.rmtree(folder, ignore_errors=True)  # x11vnc has read (and removed) it
                    return self
            except OSError:
                time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)
        self.stop()
        raise DisplayError(f"x11vnc did not listen on 127.0.0.1:{self.port} within {timeout:g} s")

    def stop(self) -> None:
        from ..display import end_process

        proc, self.proc = self.proc, None
        if proc is not None:
            end_process(proc)

    def __enter__(self) -> VncServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
