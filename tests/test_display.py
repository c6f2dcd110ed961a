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


@pytest.mark.display
def test_two_desktops_share_no_display_no_bus_and_leave_nothing_running() -> None:
    """Each desktop has its own window manager, session bus and accessibility bus; ending one
    ends exactly its processes (and the ones they started), in reverse order."""
    import subprocess

    with VirtualDisplay(640, 480, set_environ=False) as a, \
            VirtualDisplay(640, 480, set_environ=False) as b:  # fmt: skip
        assert a.desktop is not None and b.desktop is not None
        assert a.display != b.display
        bus_a, bus_b = a.env["DBUS_SESSION_BUS_ADDRESS"], b.env["DBUS_SESSION_BUS_ADDRESS"]
        assert bus_a != bus_b
        # each bus answers, and each has its own accessibility bus registered on it
        for env in (a.env, b.env):
            names = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames"],
                env=dict(env), capture_output=True, text=True, timeout=10,
            ).stdout  # fmt: skip
            assert "org.a11y.Bus" in names
        # and the accessibility bus is OUR launcher's (a message sent to org.a11y.Bus before it
        # owned the name made the bus start a second one from its service file)
        for vd in (a, b):
            assert vd.desktop is not None
            owner = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID",
                 "string:org.a11y.Bus"],
                env=dict(vd.env), capture_output=True, text=True, timeout=10,
            ).stdout.split()[-1]  # fmt: skip
            assert int(owner) == vd.desktop.procs[1].pid
        pids = [p.pid for p in (*a.desktop.procs, *b.desktop.procs)]
        exited = [(p.args, p.returncode) for p in (*a.desktop.procs, *b.desktop.procs)
                  if p.poll() is not None]  # fmt: skip
        assert not exited, f"desktop programs ended early: {exited}"
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.display
def test_a_bare_display_has_no_desktop() -> None:
    with VirtualDisplay(320, 240, desktop="bare", set_environ=False) as vd:
        assert vd.desktop is None
        # nothing of a desktop is added: the bus variable is this process's own (or none)
        assert vd.env.get("DBUS_SESSION_BUS_ADDRESS") == os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        assert "GTK_MODULES" not in vd.env or vd.env["GTK_MODULES"] == os.environ.get("GTK_MODULES")


def test_missing_desktop_programs_name_their_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    """No openbox, buses or AT-SPI launcher: one error naming every Debian package to install,
    and the bare display as the way out."""
    from screenagent import desktop

    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    monkeypatch.setattr(desktop.os, "access", lambda path, mode: False)
    with pytest.raises(MissingDependency) as err:
        desktop.find_programs()
    message = str(err.value)
    assert "sudo apt-get install openbox dbus-daemon at-spi2-core dbus-bin" in message
    assert "--desktop bare" in message
