"""`screenagent record` (issue 21, first part): a person's input, sent with xdotool as a person's
(XTEST, seen by the X RECORD extension like any keyboard and mouse), on the demo app on the
recorder's own desktop session. The file it writes names targets in words, keeps the typed text,
the wait the person made and the check added with ctrl+alt+e; `screenagent test` passes on it on a
fresh desktop (the app's own state file says the form was sent), and the .txt form runs with
`screenagent run`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, bare_xvfb, cli

from screenagent.testing.spec import load_test_file

pytestmark = [pytest.mark.display, pytest.mark.ocr, pytest.mark.slow]
DEMO = ROOT / "examples" / "demo_app.py"


@contextlib.contextmanager
def recording(out: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[dict[str, str], list[str]]]:
    """``screenagent record OUT --virtual-display 1280x800 ARGS`` until it records; yields the
    environment of its display (for xdotool) and a list that gets its stderr once it ended with
    Ctrl-C (a valid file with everything so far) at the end of the block."""
    proc = subprocess.Popen([sys.executable, "-m", "screenagent", "record", str(out), "--virtual-display", "1280x800",
                             *args], stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.stderr is not None
    log: list[str] = []
    try:
        line = ""
        deadline = time.monotonic() + 90
        while "recording on display" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "the recorder ended before recording"
            assert time.monotonic() < deadline
        m = re.search(r"display (:\d+) \(XAUTHORITY=(\S+)\)", line)
        assert m, line
        yield {**(env or os.environ), "DISPLAY": m.group(1), "XAUTHORITY": m.group(2)}, log
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        log.append(line + rest)
        assert proc.wait(timeout=300) == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()


def xdo(env: dict[str, str], *args: str, pause: float = 0.0) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=30)
    time.sleep(pause)


def geometry(env: dict[str, str], title: str) -> tuple[int, int, int, int]:
    """x, y, width, height of the window with this title."""
    geo = subprocess.run(["xdotool", "search", "--name", title, "getwindowgeometry"], env=env,
                         capture_output=True, text=True, timeout=30).stdout  # fmt: skip
    m = re.search(r"Position: (\d+),(\d+).*Geometry: (\d+)x(\d+)", geo, re.S)
    assert m, geo
    x, y, w, h = (int(v) for v in m.groups())
    return x, y, w, h


def press_at(env: dict[str, str], x: int, y: int, pause: float = 0.7) -> None:
    """Click as a person clicks: the button held for a moment (xdotool's `click` is instantaneous)."""
    xdo(env, "mousemove", str(x), str(y), "mousedown", "1", "sleep", "0.15", "mouseup", "1", pause=pause)


def record(out: Path, state: Path, person: Callable[[Callable[..., None], Callable[[int, int], None]], None],
           *extra: str) -> str:  # fmt: skip
    """Record on the demo app; ``person(xdo, click)`` acts. Returns the recorder's stderr."""
    with recording(out, "--app", f"{sys.executable} {DEMO} --state {state}", "--ready", "Submit", *extra) as (env, log):
        ox, oy, _, _ = geometry(env, "screenagent demo")

        def click(x: int, y: int) -> None:
            xdo(env, "mousemove", str(ox + x), str(oy + y), "click", "1", pause=0.7)

        person(lambda *args: xdo(env, *args), click)
        time.sleep(0.5)
    return log[0]


def test_a_recorded_form_workflow_is_a_test_that_passes_on_a_fresh_desktop(tmp_path: Path) -> None:
    out, state = tmp_path / "flow.yaml", tmp_path / "state.json"

    def person(xdo: Callable[..., None], click: Callable[[int, int], None]) -> None:
        click(270, 75)  # the Name field
        xdo("type", "--delay", "30", "Ada")
        click(270, 115)  # Email
        xdo("type", "--delay", "30", "ada@example.org")
        click(180, 203)  # Submit
        time.sleep(0.8)
        xdo("mousemove", "300", "645")  # over the status bar's message
        xdo("key", "ctrl+alt+e")  # "check this"
        time.sleep(1.0)
        click(820, 104)  # Refresh: "Open report" appears 1.5 s later
        time.sleep(2.5)  # the person waits for it
        click(820, 150)  # Open report (its upper part, away from its label)

    log = record(out, state, person, "--verify")
    text = out.read_text()
    tf = load_test_file(out)  # a valid test file
    steps = [(s.verb, s.label()) for s in tf.tests[0].steps]
    verbs = [v for v, _ in steps]
    assert verbs == ["type", "type", "click", "expect_visible", "click", "wait_for", "click"], (steps, text)
    typed = [s for s in tf.tests[0].steps if s.verb == "type"]
    assert [(s.text, s.into) for s in typed] == [("Ada", "Name"), ("ada@example.org", "Email")]  # type: ignore[attr-defined]
    targets = [t for s in tf.tests[0].steps for t in s.targets()]
    assert targets == ["Name", "Email", "Submit", "Thank you, Ada! Your form was submitted.", "Refresh",
                       "Open report", "Open report"], targets  # the wait the person made: Open report came late
    assert not any(re.fullmatch(r"\d+,\d+", t) or t.startswith("image:") for t in targets)  # words, not pixels
    check = next(s for s in tf.tests[0].steps if s.verb == "expect_visible")
    assert "Thank you, Ada" in check.target  # type: ignore[attr-defined]
    assert "# added with ctrl+alt+e" in text
    # the round trip (--verify): the written file, as a test, on a fresh desktop of its own; the
    # app started there begins the same state file afresh: what it holds is the replay's
    assert "verify: the recording replays on a fresh desktop: all 7 steps passed" in log, log + text
    sent = json.loads(state.read_text())["submitted"]
    assert [s["name"] for s in sent] == ["Ada"] and sent[0]["email"] == "ada@example.org"
    assert (tmp_path / "flow-verify" / "index.html").exists()


def test_a_recording_as_task_text_runs_with_run(tmp_path: Path) -> None:
    out, state = tmp_path / "task.txt", tmp_path / "state.json"

    def person(xdo: Callable[..., None], click: Callable[[int, int], None]) -> None:
        click(270, 75)
        xdo("type", "--delay", "30", "Grace")
        click(180, 203)

    record(out, state, person)
    task = out.read_text()
    assert task.splitlines()[:2] == ['type "Grace" into Name', "click Submit"], task
    state.unlink()
    proc = cli("run", task, "--virtual-display", "1280x800", "--launch", f"{sys.executable} {DEMO} --state {state}",
               timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [s["name"] for s in json.loads(state.read_text())["submitted"]] == ["Grace"]


def test_vnc_serves_the_recorders_desktop_on_localhost_with_a_password_and_ends_with_it(tmp_path: Path) -> None:
    """--vnc: x11vnc on 127.0.0.1 with a one-time password. A VNC client's first exchange (RFB
    6.1.1-6.1.2, RFC 6143) shows the server offers VNC authentication only (security type 2,
    never 1 "None"); when the recording ends, the port is closed."""
    import shutil
    import socket

    if shutil.which("x11vnc") is None:
        pytest.skip("x11vnc is not installed (bash .ci/setup.sh installs it)")
    proc = subprocess.Popen([sys.executable, "-m", "screenagent", "record", str(tmp_path / "v.yaml"),
                             "--virtual-display", "800x600", "--vnc", "--seconds", "20"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip
    assert proc.stderr is not None
    try:
        line = ""
        while "VNC:" not in line:
            line = proc.stderr.readline()
            assert line, "the recorder ended without a VNC line"
        m = re.search(r"127\.0\.0\.1:(\d+) with the password (\S+)", line)
        assert m and len(m.group(2)) == 8, line
        port = int(m.group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            assert s.recv(12).startswith(b"RFB 003.")
            s.sendall(b"RFB 003.008\n")
            count = s.recv(1)[0]
            types = s.recv(count)
        assert types == b"\x02", types  # VNC authentication, and nothing without a password
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        assert proc.returncode == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()  # x11vnc ended with it
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_gtk_password_dialog_is_named_by_its_tree_and_the_password_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zenity's password dialog (GTK): the field's tree role is `password text`, so what was
    typed becomes ${SECRET_1}; OK is named by its accessible name. Replayed with SECRET_1 set, the
    app itself prints the password it received (its stdout, in a file)."""
    import shutil

    if shutil.which("zenity") is None:
        pytest.skip("zenity is not installed (bash .ci/setup.sh installs it)")
    out, printed = tmp_path / "login.yaml", tmp_path / "printed.txt"
    app = f"sh -c 'zenity --password --title Login > {printed}'"
    with recording(out, "--app", app, "--ready", "OK") as (env, _):
        ox, oy, _, _ = geometry(env, "Login")
        press_at(env, ox + 191, oy + 74)  # the password field
        xdo(env, "type", "--delay", "40", "hunter2", pause=0.7)
        press_at(env, ox + 244, oy + 125)  # OK
    text = out.read_text()
    assert "hunter2" not in text and not any("hunter2" in p.read_text(errors="ignore")
                                             for p in tmp_path.rglob("*") if p.is_file() and p != printed)  # fmt: skip
    import yaml

    (typed, ok) = yaml.safe_load(text)["tests"][0]["steps"]
    assert typed == {"type": "${SECRET_1}", "into": "Password", "secret": True}, text
    assert ok == {"click": "button:OK"}, text
    monkeypatch.setenv("SECRET_1", "x")
    load_test_file(out)  # valid once the secret is in the environment
    assert "SECRET_1: the password typed into Password" in text
    printed.unlink()
    run = cli("test", str(out), "--report", str(tmp_path / "report"), env={**os.environ, "SECRET_1": "hunter2"}, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr + text
    assert printed.read_text().strip() == "hunter2"  # the app received the password


def test_a_mousepad_workflow_recorded_and_replayed_writes_the_same_file(tmp_path: Path) -> None:
    """A real app (mousepad, GTK3): two lines typed, Save As through GTK's file chooser (its
    Save button named by the tree), a check on the window title added with the hotkey. The
    replay of the written file on a fresh desktop writes the same file: judged on disk."""
    import shutil

    from apps.corpus import private_home

    if shutil.which("mousepad") is None:
        pytest.skip("mousepad is not installed (bash .ci/setup.sh installs it)")
    out, note = tmp_path / "note.yaml", tmp_path / "saved" / "note.txt"
    note.parent.mkdir()
    env_home = {**os.environ, **private_home(tmp_path)}
    with recording(out, "--app", "mousepad", "--ready", "File", env=env_home) as (env, _):
        xdo(env, "type", "--delay", "30", "hello from a person", pause=0.6)
        xdo(env, "key", "Return", pause=0.6)
        xdo(env, "type", "--delay", "30", "second line", pause=0.6)
        xdo(env, "key", "ctrl+shift+s", pause=2.0)  # the person waits for the dialog
        xdo(env, "type", "--delay", "20", str(note), pause=1.0)  # its Name field has the focus
        x, y, w, h = geometry(env, "Save As")
        press_at(env, x + w - 50, min(y + h, 800) - 29, pause=2.0)  # Save, bottom right of the dialog
        xdo(env, "key", "Return", pause=0.6)  # back in the editor: a third line, saved with ctrl+s
        xdo(env, "type", "--delay", "30", "third line", pause=0.6)
        xdo(env, "key", "ctrl+s", pause=1.5)
    lines = "hello from a person\nsecond line\nthird line"
    assert note.read_text() == lines  # the person's own run saved it
    text = out.read_text()
    load_test_file(out)
    import yaml

    steps = yaml.safe_load(text)["tests"][0]["steps"]
    assert steps == [{"type": "hello from a person"}, {"press": "enter"}, {"type": "second line"},
                     {"press": "ctrl+shift+s"}, {"wait_for": "Save As"},  # the dialog the person waited for
                     {"type": str(note)}, {"click": "button:Save"},  # named by the accessibility tree
                     {"press": "enter"}, {"type": "third line"}, {"press": "ctrl+s"}], text  # ten steps
    note.unlink()
    run = cli("test", str(out), "--report", str(tmp_path / "report"), env=env_home, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr + text
    deadline = time.monotonic() + 10
    while (not note.exists() or "third" not in note.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert note.read_text() == lines, text  # the replay wrote the same file


def test_an_x_server_without_record_is_a_clear_error(tmp_path: Path) -> None:
    """Xvfb started with RECORD turned off (``-extension RECORD``): the recorder says what is
    missing and writes nothing, instead of recording nothing."""
    with bare_xvfb("800x600x24", "-extension", "RECORD") as display:
        env = {**os.environ, "DISPLAY": display}
        env.pop("XAUTHORITY", None)
        proc = cli("record", str(tmp_path / "x.yaml"), "--seconds", "2", "--no-tree", env=env, timeout=120)
    assert proc.returncode != 0 and "no RECORD extension" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "x.yaml").exists()
