"""The real `screenagent` command: schema, errors before anything executes, exit codes,
confirmation, doctor."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import DemoApp, cli

from screenagent.display import VirtualDisplay

display = pytest.mark.display


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "script.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_schema_prints_the_json_schema() -> None:
    proc = cli("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    names = {
        m["properties"]["action"]["const"]
        for m in schema["$defs"].values()
        if "action" in m.get("properties", {})
    }
    assert names == {"click", "move", "drag", "scroll", "type", "key", "wait", "done"}


def test_a_free_form_goal_without_a_model_is_a_usage_error() -> None:
    proc = cli("run", "tidy up my desktop", env={**os.environ, "DISPLAY": ""})
    assert proc.returncode == 2
    assert "does not understand step 1: 'tidy up my desktop'" in proc.stderr
    assert "--model" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"action": "click", "x": 1, "y": 2},', "not valid JSON: Expecting value at line 1"),
        (
            '[{"action": "key", "keys": ["ctrl", "hyperdrive"]}]',
            "action 1: keys: Value error, unknown key 'hyperdrive'",
        ),
        (
            '[{"action": "move", "x": 1, "y": 1}, {"action": "click", "x": 1, "y": 2, "color": "red"}]',
            "action 2: color: unknown field",
        ),
        ('{"click": [1, 2]}', "must be a non-empty JSON list of actions"),
        ("[]", "must be a non-empty JSON list"),
    ],
)
def test_bad_scripts_are_rejected_before_any_display_is_touched(
    tmp_path: Path, text: str, expected: str
) -> None:
    # No DISPLAY at all: the script is checked first, so the error is about the script.
    proc = cli(
        "run",
        "t",
        "--script",
        str(write(tmp_path, text)),
        "--run-dir",
        str(tmp_path / "run"),
        env={**os.environ, "DISPLAY": ""},
    )
    assert proc.returncode == 2
    assert expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def test_missing_script_file(tmp_path: Path) -> None:
    proc = cli("run", "t", "--script", str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and "Cannot read the script" in proc.stderr


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    script = write(tmp_path, '[{"action": "click", "x": 1, "y": 2}]')
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = cli("run", "t", "--script", str(script), env=env)
    assert proc.returncode == 2
    assert "DISPLAY is not set" in proc.stderr and "--virtual-display" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_xvfb_names_the_package(tmp_path: Path) -> None:
    script = write(tmp_path, '[{"action": "click", "x": 1, "y": 2}]')
    proc = cli(
        "run",
        "t",
        "--script",
        str(script),
        "--virtual-display",
        "640x480",
        env={**os.environ, "PATH": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert "Xvfb" in proc.stderr and "apt-get install xvfb" in proc.stderr


def test_bad_option_values(tmp_path: Path) -> None:
    script = write(tmp_path, '[{"action": "click", "x": 1, "y": 2}]')
    proc = cli("run", "t", "--script", str(script), "--virtual-display", "big")
    assert proc.returncode == 2 and "--virtual-display" in proc.stderr and "1280x800" in proc.stderr
    proc = cli("run", "t", "--script", str(script), "--region", "1,2,3")
    assert proc.returncode == 2 and "--region" in proc.stderr
    proc = cli("run", "t", "--script", str(script), "--max-steps", "0")
    assert proc.returncode == 2 and "positive integer" in proc.stderr


@display
def test_off_frame_script_executes_nothing(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    script = write(
        tmp_path,
        json.dumps(
            [
                {"action": "click", "x": 270, "y": 107},
                {"action": "type", "text": "should never be typed"},
                {"action": "drag", "x": 10, "y": 10, "to_x": 5000, "to_y": 10},
            ]
        ),
    )
    proc = cli(
        "run",
        "t",
        "--script",
        str(script),
        "--run-dir",
        str(tmp_path / "run"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 2
    assert (
        "action 3: to_x=5000 is right of the frame: x must be 0..1279 (frame is 1280x800)"
        in proc.stderr
    )
    assert "nothing was executed" in proc.stderr
    state = demo_app.state()
    assert state["clicks"] == [] and state["name"] == ""
    assert not (tmp_path / "run").exists()


@display
def test_region_outside_the_monitor(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = write(tmp_path, '[{"action": "click", "x": 1, "y": 2}]')
    proc = cli(
        "run", "t", "--script", str(script), "--region", "1000,700,400,200", env=dict(xdisplay.env)
    )
    assert proc.returncode == 2 and "not inside monitor" in proc.stderr


@display
def test_unknown_monitor_lists_the_monitors(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = write(tmp_path, '[{"action": "click", "x": 1, "y": 2}]')
    proc = cli(
        "run", "t", "--script", str(script), "--monitor", "7", "--dry-run", env=dict(xdisplay.env)
    )
    assert (
        proc.returncode == 2
        and "There is no monitor 7" in proc.stderr
        and "1280x800+0+0" in proc.stderr
    )


@display
def test_confirm_skips_runs_and_quits(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    name, email = demo_app.center("name"), demo_app.center("email")
    script = write(
        tmp_path,
        json.dumps(
            [
                {"action": "click", "x": name[0], "y": name[1]},
                {"action": "click", "x": email[0], "y": email[1]},
                {"action": "type", "text": "never"},
            ]
        ),
    )
    proc = cli(
        "run",
        "t",
        "--script",
        str(script),
        "--confirm",
        "--run-dir",
        str(tmp_path / "run"),
        env=dict(xdisplay.env),
        input="n\ny\nq\n",
    )
    assert proc.returncode == 1
    assert proc.stderr.count("run it? [Y/n/q]") == 3
    assert "result: aborted" in proc.stderr
    state = demo_app.wait_for(lambda s: s["clicks"])
    assert [(c["x"], c["y"]) for c in state["clicks"]] == [email]
    assert state["email"] == ""


@display
def test_a_failed_run_exits_1(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = write(
        tmp_path,
        '[{"action": "move", "x": 5, "y": 5}, {"action": "done", "success": false, "answer": "not found"}]',
    )
    proc = cli(
        "run",
        "t",
        "--script",
        str(script),
        "--run-dir",
        str(tmp_path / "run"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 1
    assert "result: failure" in proc.stderr and "not found" in proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "run")


@display
def test_max_steps_exits_1(xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    script = write(tmp_path, json.dumps([{"action": "move", "x": 5 + i, "y": 5} for i in range(5)]))
    proc = cli(
        "run",
        "t",
        "--script",
        str(script),
        "--max-steps",
        "2",
        "--runs-root",
        str(tmp_path / "runs"),
        env=dict(xdisplay.env),
    )
    assert proc.returncode == 1 and "result: max_steps after 2 steps" in proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert proc.stdout.strip() == str(run_dir)


@display
def test_doctor_on_a_virtual_display() -> None:
    proc = cli(
        "doctor",
        "--virtual-display",
        "800x600",
        env={k: v for k, v in os.environ.items() if k != "DISPLAY"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[ok  ] capture (mss): 800x600 from monitor 1" in proc.stdout
    assert "[ok  ] input (pyautogui): desktop 800x600" in proc.stdout
    assert "[info] scale: 1 capture pixels per input point" in proc.stdout


def test_doctor_without_a_display_reports_failures() -> None:
    proc = cli("doctor", env={k: v for k, v in os.environ.items() if k != "DISPLAY"})
    assert proc.returncode == 1
    assert "[FAIL] capture (mss)" in proc.stdout and "DISPLAY is not set" in proc.stdout
