"""One engine: the same steps written as task text and as YAML are the same values and do the
same things; a test attempt is a run directory that `load_run`, `report`, `runs show` and
`replay` open; Safety (budgets, secrets) holds in tests. Real Xvfb, real demo app, real OCR;
the app's state file is the judge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO_APP, cli, launch_demo

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run
from screenagent.steps.text import parse_task
from screenagent.testing.spec import load_test_file

TEXT = """type "Ada Lovelace" into Name
type "ada@example.org" into Email
click Subscribe to news
click Submit
expect Thank you, Ada Lovelace
press tab 2 times
scroll down 3 in Item 01
wait until Open report is gone"""

YAML = """name: same steps
app:
  launch: ["{python}", "{app}", "--state", "{state}"]
  ready: "Submit"
tests:
  - name: fill and submit
    steps:
      - type: "Ada Lovelace"
        into: "Name"
      - type: "ada@example.org"
        into: "Email"
      - click: "Subscribe to news"
      - click: "Submit"
      - expect_visible: "Thank you, Ada Lovelace"
      - press: tab
        times: 2
      - scroll: down
        in: "Item 01"
        amount: 3
      - wait_until_gone: "Open report"
"""


def _yaml(tmp_path: Path, state: Path, body: str = YAML) -> Path:
    path = tmp_path / "test_same.yaml"
    path.write_text(body.format(python=sys.executable, app=DEMO_APP, state=state))
    return path


def _plain(steps: list) -> list[tuple[str, dict]]:
    return [(type(s).__name__, s.model_dump()) for s in steps]


def test_text_and_yaml_parse_to_equal_steps(tmp_path: Path) -> None:
    from_text = parse_task(TEXT)
    from_yaml = load_test_file(_yaml(tmp_path, tmp_path / "s.json")).tests[0].steps
    assert _plain(from_text) == _plain(from_yaml)
    # where they came from is kept for messages, and is not part of the value
    assert from_text[0].source == 'type "Ada Lovelace" into Name' and from_yaml[0].line == 8


def _actions(run_dir: Path) -> list[dict]:
    return [s.action for s in load_run(run_dir).steps if s.action]


def _same_within_a_pixel(a: list[dict], b: list[dict]) -> bool:
    """The same actions, with points at most 1 px apart: each run grounds on its own frames, and
    something as small as a Tk entry's blinking caret can move an OCR box by a pixel (in a
    full-suite run the 11th action clicked x=202 in one run and x=201 in the other)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        near = {k: v for k, v in x.items() if k in ("x", "y")}
        if {k: v for k, v in x.items() if k not in near} != {k: v for k, v in y.items() if k not in near}:
            return False
        if any(abs(v - y[k]) > 1 for k, v in near.items()):
            return False
    return True


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_text_and_yaml_act_the_same_on_the_demo_app(
    xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    pytest.importorskip("rapidocr")
    # task text through `screenagent run`
    app = launch_demo(xdisplay, tmp_path / "text.json")
    try:
        proc = cli("run", TEXT, "--run-dir", str(tmp_path / "text-run"), env=dict(xdisplay.env),
                   timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        text_state = app.wait_for(lambda s: s["submitted"])
    finally:
        app.proc.terminate()
        app.proc.wait(timeout=5)
    # the same steps in YAML through `screenagent test` (its own Xvfb and app)
    state = tmp_path / "yaml.json"
    report = tmp_path / "report"
    proc = cli("test", str(_yaml(tmp_path, state)), "--report", str(report), timeout=300,
               env={**os.environ})  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yaml_state = json.loads(state.read_text())
    attempt = report / "test-same" / "fill-and-submit" / "attempt-1"
    assert _same_within_a_pixel(_actions(attempt), _actions(tmp_path / "text-run")), (
        _actions(attempt), _actions(tmp_path / "text-run"))
    for key in ("submitted", "subscribe", "focus", "list_top"):
        assert yaml_state[key] == text_state[key], key
    assert text_state["list_top"] > 0, "the list scrolled"


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_a_test_attempt_is_a_run_directory_that_reports_and_replays(
    xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    pytest.importorskip("rapidocr")
    state = tmp_path / "yaml.json"
    report = tmp_path / "report"
    proc = cli("test", str(_yaml(tmp_path, state)), "--report", str(report), timeout=300,
               env={**os.environ})  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    attempt = report / "test-same" / "fill-and-submit" / "attempt-1"
    run = load_run(attempt)
    assert run.meta.result.status == "success" and run.meta.task == "test_same.yaml › fill and submit"
    assert {s.step.verb for s in run.steps if s.step} >= {"type", "click", "expect_visible"}
    assert [s.step.line for s in run.steps if s.step and s.step.verb == "click"] == [12, 13]
    # the session's index shows the steps from that run directory, with its pictures
    index = (report / "index.html").read_text()
    assert "fill-and-submit/attempt-1/report.html" in index
    assert "fill-and-submit/attempt-1/report/step-0001.jpg" in index
    proc = cli("report", str(attempt))
    assert proc.returncode == 0 and (attempt / "report.html").exists(), proc.stderr
    proc = cli("runs", "show", str(attempt))
    assert proc.returncode == 0 and "success" in proc.stdout, proc.stderr
    # replay the test's run on a fresh app at the same place: the same final state
    again = launch_demo(xdisplay, tmp_path / "again.json")
    try:
        proc = cli("replay", str(attempt), "--run-dir", str(tmp_path / "replay"),
                   env=dict(xdisplay.env), timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        replayed = again.wait_for(lambda s: s["submitted"])
    finally:
        again.proc.terminate()
        again.proc.wait(timeout=5)
    original = json.loads(state.read_text())
    assert replayed["submitted"] == original["submitted"]


@pytest.mark.display
@pytest.mark.ocr
@pytest.mark.slow
def test_safety_holds_in_tests(tmp_path: Path) -> None:
    pytest.importorskip("rapidocr")
    secret = "pa55-never-logged"
    body = """name: safety
app:
  launch: ["{python}", "{app}", "--state", "{state}"]
  ready: "Submit"
tests:
  - name: secret then too many steps
    steps:
      - type: "SECRET"
        into: "Email"
        secret: true
      - click: "Submit"
      - press: tab
      - press: tab
""".replace("SECRET", secret)
    state = tmp_path / "s.json"
    report = tmp_path / "report"
    proc = cli("test", str(_yaml(tmp_path, state, body)), "--report", str(report), "--max-steps",
               "5", env={**os.environ}, timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # typing into Email is 4 actions (click, ctrl+a, backspace, type), Submit the 5th: the
    # first tab is over the budget and ends the test
    assert "the run stopped (max_steps): stopped after 5 steps" in proc.stdout
    assert json.loads(state.read_text())["email"] == secret  # it was really typed
    for path in report.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


BROKEN = """name: broken
tests:
  - name: four problems
    steps:
      - click: "regex:("
      - frobnicate: "X"
      - press: tab
        times: many
      - click: "OK"
        timeout: soon
"""


def test_bad_input_is_listed_with_lines_from_the_cli_and_the_plugin(tmp_path: Path) -> None:
    path = tmp_path / "test_broken.yaml"
    path.write_text(BROKEN)
    report = tmp_path / "report"
    proc = cli("test", str(path), "--report", str(report))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    for part in ("4 problems", "line 5: test 'four problems', step 1: click: target: The target "
                 "'regex:(' is not a valid regular expression", "line 6: test 'four problems', "
                 "step 2: unknown step 'frobnicate'", "line 7: test 'four problems', step 3: press: "
                 "times:", "line 9: test 'four problems', step 4: click: timeout: 'soon' is not a "
                 "duration"):  # fmt: skip
        assert part in proc.stderr, (part, proc.stderr)
    assert not report.exists(), "nothing ran"
    # the pytest plugin: the same problems as a collection error, no traceback
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    out = plugin.stdout + plugin.stderr
    assert plugin.returncode != 0 and "4 problems" in out and "line 5:" in out, out
    assert "Traceback" not in out and "screenagent/" not in out.split("4 problems")[0], out


def test_bad_task_text_is_listed_by_step_and_nothing_runs(tmp_path: Path) -> None:
    proc = cli("run", "click regex:(; frobnicate; press tab many times; click OK",
               "--run-dir", str(tmp_path / "run"), env={**os.environ, "DISPLAY": ""})  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "step 1: In the step 'click regex:(': target: The target 'regex:('" in proc.stderr
    assert "step 2: 'frobnicate'" in proc.stderr
    assert "step 3: In the step 'press tab many times': keys: unknown key" in proc.stderr
    assert "step 4" not in proc.stderr and "--model" in proc.stderr
    assert not (tmp_path / "run").exists()
