"""Shared fixtures: one private Xvfb for the session and the demo app on it.

Tests never touch the developer's desktop: the display is started here with -displayfd (a
free number), and only processes started here are ended, by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from screenagent.display import VirtualDisplay, end_process

ROOT = Path(__file__).resolve().parent.parent
DEMO_APP = ROOT / "examples" / "demo_app.py"

# The final screen of a passing run is watched 2 s for a late error by default; our own demo
# app reports its errors at once, so the suite watches 0.5 s (it runs about a hundred runs and
# tests). tests/test_verified_effects.py keeps the 2 s default for the late banner it tests.
os.environ.setdefault("SCREENAGENT_ERROR_GRACE", "0.5")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("Xvfb"):
        return
    skip = pytest.mark.skip(
        reason="Xvfb is not installed (apt-get install xvfb); .ci/run installs it"
    )
    for item in items:
        if "display" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[VirtualDisplay]:
    """A 1280x800 Xvfb for the whole session; DISPLAY points at it while tests run."""
    with VirtualDisplay(1280, 800) as vd:
        yield vd


@dataclass
class DemoApp:
    proc: subprocess.Popen[bytes]
    state_path: Path

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def wait_for(
        self, pred: Callable[[dict[str, Any]], Any], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Poll the state file until ``pred(state)`` is true; fail with the last state."""
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                state = self.state()
                if pred(state):
                    return state
            except (OSError, json.JSONDecodeError):
                pass
            time.sleep(0.02)
        raise AssertionError(f"the demo app never reached the expected state; last state: {state}")

    def box(self, name: str) -> list[int]:
        return self.state()["widgets"][name]

    def center(self, name: str) -> tuple[int, int]:
        x, y, w, h = self.box(name)
        return x + w // 2, y + h // 2


def launch_demo(vd: VirtualDisplay, state_path: Path, *extra: str) -> DemoApp:
    proc = subprocess.Popen(
        [sys.executable, str(DEMO_APP), "--state", str(state_path), *extra],
        env=vd.env,
        stdin=subprocess.DEVNULL,
    )
    app = DemoApp(proc=proc, state_path=state_path)
    app.wait_for(lambda s: s.get("ready"), timeout=20)
    return app


@pytest.fixture
def demo_app(xdisplay: VirtualDisplay, tmp_path: Path) -> Iterator[DemoApp]:
    """The demo app, freshly started on the session display."""
    app = launch_demo(xdisplay, tmp_path / "state.json")
    try:
        yield app
    finally:
        end_process(app.proc)


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run the real `screenagent` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "screenagent", *args],
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=kw.pop("cwd", ROOT),
        **kw,
    )


@pytest.fixture
def spawn(xdisplay: VirtualDisplay) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start a program (zenity, xterm ...) on the session display; ended by PID afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            list(argv),
            env={**xdisplay.env, **kw.pop("env", {})},
            stdin=subprocess.DEVNULL,
            stdout=kw.pop("stdout", subprocess.DEVNULL),
            stderr=subprocess.DEVNULL,
            **kw,
        )
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        end_process(proc)


def wait_for_window(vd: VirtualDisplay, title: str, timeout: float = 20.0) -> None:
    """Block until a window with this title is mapped (xdotool --sync), or fail."""
    proc = subprocess.run(
        ["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
        env=dict(vd.env),
        capture_output=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"no window titled {title!r} appeared"


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    """Wait until ``path`` exists (an app writes what it received), at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def settle_screen(vd: VirtualDisplay, *, quiet: float = 0.3, cap: float = 5.0) -> None:
    """Wait until the display stops changing (the app's first paints are over): frames a
    tiny model is trained on must be the frames it will see."""
    from screenagent.screen import MssScreen, SettleConfig, wait_until_settled

    with MssScreen(display=vd.display) as screen:
        wait_until_settled(screen, config=SettleConfig(quiet_seconds=quiet, cap_seconds=cap))


@contextlib.contextmanager
def bare_xvfb(size: str = "1280x800x24", *args: str) -> Iterator[str]:
    """A plain Xvfb with no access control and no desktop (``args`` go to Xvfb: ``-extension
    RECORD`` turns RECORD off); yields its display name, ends it by PID."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (.ci/setup.sh installs it)")
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp", *args],
                            pass_fds=(write,), stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    try:
        yield f":{number.decode().strip()}"
    finally:
        end_process(xvfb)

