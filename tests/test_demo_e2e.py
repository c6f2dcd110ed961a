"""End to end on a real X server: the real CLI and loop drive the real demo app with real
pyautogui input, and the app's own state file proves where every action landed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DemoApp, cli

from screenagent.agent import run
from screenagent.display import VirtualDisplay
from screenagent.geometry import Rect
from screenagent.policies import ScriptedPolicy, load_script
from screenagent.pyautogui_executor import PyAutoGUIExecutor
from screenagent.screen import MssScreen
from screenagent.steplog import load_run

pytestmark = pytest.mark.display

ITEMS = [f"Item {i:02d}" for i in range(1, 41)]
TRICKY = "a<b>&\"c'"
UNICODE = " é 中文"


def test_scripted_run_lands_every_action(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    c = demo_app.center
    token, target = c("token"), c("target")
    canvas_x, canvas_y, _, _ = demo_app.box("canvas")
    right_at = (canvas_x + 200, canvas_y + 150)
    list_at = c("list")
    row_x, row_y, _, row_h = demo_app.box("list_row")
    script = [
        {"action": "click", "x": c("name")[0], "y": c("name")[1]},
        {"action": "type", "text": TRICKY},
        {"action": "type", "text": UNICODE},
        {"action": "click", "x": c("email")[0], "y": c("email")[1]},
        {"action": "type", "text": "ada@example.org"},
        {"action": "click", "x": c("subscribe")[0] - 140, "y": c("subscribe")[1]},
        {"action": "click", "x": c("submit")[0], "y": c("submit")[1]},
        {"action": "scroll", "x": list_at[0], "y": list_at[1], "direction": "down", "amount": 2},
        {"action": "click", "x": row_x + 20, "y": row_y + row_h // 2, "clicks": 2},
        {"action": "click", "x": right_at[0], "y": right_at[1], "button": "right"},
        {"action": "drag", "x": token[0], "y": token[1], "to_x": target[0], "to_y": target[1]},
        {"action": "key", "keys": ["ctrl", "s"]},
        {"action": "done", "success": True, "answer": "all done"},
    ]
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    run_dir = tmp_path / "run"
    proc = cli(
        "run",
        "drive the demo",
        "--script",
        str(script_path),
        "--run-dir",
        str(run_dir),
        "-v",
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(run_dir)

    state = demo_app.wait_for(lambda s: s["saves"] == 1)
    # typing: "<" and non-ASCII arrive exactly (through the clipboard), plain text is typed
    assert state["name"] == TRICKY + UNICODE, (state, proc.stderr)
    assert state["email"] == "ada@example.org"
    assert state["subscribe"] is True
    assert state["submitted"] == [
        {"name": TRICKY + UNICODE, "email": "ada@example.org", "subscribe": True}
    ]
    # scroll moved the list; the double-click opened the row that was on top after it
    assert state["list_top"] > 0
    assert state["opened"] == [ITEMS[state["list_top"]]]
    # every press landed on the exact pixel it was aimed at, with the right button
    presses = {(p["x"], p["y"], p["button"]) for p in state["clicks"]}
    for item in script:
        if item["action"] == "click":
            button = {"left": 1, "right": 3}[item.get("button", "left")]
            assert (item["x"], item["y"], button) in presses, item
    assert state["status"].startswith("Saved")
    assert state["drops"] == [{"x": target[0], "y": target[1], "in_target": True}]

    loaded = load_run(run_dir)
    assert loaded.meta.result.status == "success" and loaded.meta.result.answer == "all done"
    assert len(loaded.steps) == len(script)
    assert [s.status for s in loaded.steps] == ["executed"] * (len(script) - 1) + ["done"]
    for step in loaded.steps:
        assert (run_dir / step.frame).exists()
        if step.status == "executed":
            assert step.settle is not None and step.settle.settled
    typed = [s for s in loaded.steps if s.action and s.action["action"] == "type"]
    assert "pasting" in typed[0].detail and "pasting" in typed[1].detail
    assert typed[2].detail == "typed"


def test_region_capture_maps_offsets_in_process(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """Frame coordinates inside a region offset from the screen origin land at the right
    screen points (the monitor-offset path of the transform, on a real display)."""
    region = Rect(left=100, top=50, width=800, height=600)
    ex, ey = demo_app.center("email")
    fx, fy = ex - region.left, ey - region.top
    executor = PyAutoGUIExecutor(display=xdisplay.display)
    with MssScreen(
        region=region, display=xdisplay.display, screen_size=executor.screen_size()
    ) as screen:
        frame = screen.capture()
        assert (frame.width, frame.height) == (800, 600)
        from screenagent.actions import Click, Type

        policy = ScriptedPolicy([Click(x=fx, y=fy), Type(text="offset ok")])
        result = run("type into email", screen=screen, policy=policy, executor=executor)
    assert result.success
    state = demo_app.wait_for(lambda s: s["email"] == "offset ok")
    assert {"widget": "email", "button": 1, "x": ex, "y": ey} in state["clicks"]


def test_dry_run_touches_nothing(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    run_dir = tmp_path / "dry"
    proc = cli(
        "run",
        "demo",
        "--script",
        "examples/demo_script.json",
        "--dry-run",
        "--run-dir",
        str(run_dir),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    loaded = load_run(run_dir)
    assert {s.status for s in loaded.steps[:-1]} == {"dry_run"}
    first = load_script("examples/demo_script.json")[0]
    assert loaded.steps[0].screen_points == [(first.x, first.y)]  # type: ignore[union-attr]
    state = demo_app.state()
    assert state["clicks"] == [] and state["name"] == "" and state["saves"] == 0


def test_the_bundled_demo_script_fills_the_form(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """examples/demo_script.json (what the README demo plays) matches the app's layout."""
    actions = load_script("examples/demo_script.json")
    assert len(actions) == 11
    proc = cli(
        "run",
        "demo",
        "--script",
        "examples/demo_script.json",
        "--run-dir",
        str(tmp_path / "r"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 0, proc.stderr
    state = demo_app.wait_for(lambda s: s["saves"] == 1)
    assert state["submitted"] == [
        {"name": "Ada Lovelace", "email": "ada@example.org", "subscribe": True}
    ]
    assert state["drops"][0]["in_target"] is True
    assert len(state["opened"]) == 1


def _clipboard(display: str) -> str | None:
    import subprocess

    proc = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard", "-display", display],
        capture_output=True,
        timeout=5,
    )
    return proc.stdout.decode() if proc.returncode == 0 else None


@pytest.mark.skipif(not __import__("shutil").which("xclip"), reason="xclip is not installed")
def test_pasting_gives_the_clipboard_back(demo_app: DemoApp, xdisplay: VirtualDisplay) -> None:
    import subprocess

    from screenagent.actions import Click, Type

    d = xdisplay.display
    executor = PyAutoGUIExecutor(display=d)
    with MssScreen(display=d) as screen:
        frame = screen.capture()
        executor.execute(Click(x=demo_app.center("name")[0], y=demo_app.center("name")[1]), frame)
        # 1. the user had text on the clipboard: it is there again afterwards
        owner = subprocess.Popen(
            ["xclip", "-selection", "clipboard", "-display", d],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        owner.communicate(b"the user's text", timeout=5)
        assert _clipboard(d) == "the user's text"
        outcome = executor.execute(Type(text="Ünïcode"), frame)
        assert outcome.ok and "clipboard restored: text" in outcome.detail
        assert _clipboard(d) == "the user's text"
        # 2. the clipboard was empty: it is empty again (a pasted password does not linger)
        from Xlib import X
        from Xlib.display import Display

        xd = Display(d)  # take the clipboard and go away: nobody owns it afterwards
        window = xd.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent)
        window.set_selection_owner(xd.intern_atom("CLIPBOARD"), X.CurrentTime)
        xd.sync()
        xd.close()
        empty = PyAutoGUIExecutor(display=d)
        assert _clipboard(d) is None
        outcome = empty.execute(Type(text="秘密", secret=True), frame)
        assert outcome.ok and "clipboard restored: empty" in outcome.detail
        assert _clipboard(d) is None
    state = demo_app.wait_for(lambda s: s["name"].endswith("秘密"))
    assert state["name"] == "Ünïcode秘密"
