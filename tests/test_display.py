"""VirtualDisplay: a private Xvfb, started with -displayfd and ended by PID."""

from __future__ import annotations

import os
import shutil

import pytest

from screenagent.display import VirtualDisplay, parse_size
from screenagent.errors import MissingDependency
from screenagent.screen import MssScreen


def test_parse_size() -> None:
    assert parse_size("1280x800") == (1280, 800, 24)
    assert parse_size("640X480x16") == (640, 480, 16)
    for bad in ("1280", "axb", "0x10", "1x2x3x4"):
        with pytest.raises(ValueError, match="1280x800"):
            parse_size(bad)


@pytest.mark.display
def test_two_displays_side_by_side_and_cleanup() -> None:
    before, xauth_before = os.environ.get("DISPLAY"), os.environ.get("XAUTHORITY")
    with VirtualDisplay(320, 240) as a, VirtualDisplay(640, 480, set_environ=False) as b:
        assert a.display != b.display
        assert os.environ["DISPLAY"] == a.display  # b did not touch the environment
        # each display has its own cookie: a client of b needs b's environment (a restores
        # the variable when it stops)
        os.environ["XAUTHORITY"] = b.env["XAUTHORITY"]
        with MssScreen(display=b.display) as screen:
            frame = screen.capture()
        assert (frame.width, frame.height) == (640, 480)
        procs = (a.proc, b.proc)
        assert b.env["DISPLAY"] == b.display
    assert all(p is not None and p.poll() is not None for p in procs)
    assert os.environ.get("DISPLAY") == before
    assert os.environ.get("XAUTHORITY") == xauth_before


def test_missing_xvfb(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("Xvfb") is None
    with pytest.raises(MissingDependency, match="apt-get install xvfb"):
        VirtualDisplay().start()
