"""The step-follower (the default policy) driving the demo app through the real CLI: real OCR,
real input, a real X server; the app's state file is the judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DemoApp, cli

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run

pytestmark = [pytest.mark.display, pytest.mark.ocr]
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")


def test_fill_submit_and_read_the_confirmation(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    task = """
    type "Ada Lovelace" into Name
    type "ada@example.org" into Email
    click Subscribe to news
    click Submit
    expect Thank you
    read Thank you
    press ctrl+s
    press tab 3 times
    """
    run_dir = tmp_path / "run"
    proc = cli("run", task, "--run-dir", str(run_dir), env=dict(xdisplay.env))
    assert proc.returncode == 0, proc.stderr
    state = demo_app.wait_for(lambda s: s["saves"] == 1)
    assert state["submitted"] == [
        {"name": "Ada Lovelace", "email": "ada@example.org", "subscribe": True}
    ]
    # Tab moved the focus three times from Email: Subscribe, Submit, Clear
    state = demo_app.wait_for(lambda s: s["focus"] == "clear")
    loaded = load_run(run_dir)
    assert loaded.meta.policy == "steps"
    assert loaded.meta.result.status == "success"
    assert loaded.meta.result.answer == "Thank you, Ada Lovelace! Your form was submitted."
    # "into Name" clicked the field beside the label, not the label
    first = loaded.steps[0]
    assert first.thought == 'type "Ada Lovelace" into Name'
    x, y = first.screen_points[0]
    nx, ny, nw, nh = demo_app.box("name")
    assert nx <= x < nx + nw and ny <= y < ny + nh
    assert first.step is not None and first.step.grounding is not None
    assert first.step.grounding.by == "ocr" and first.step.field == (x, y)


def test_a_target_that_appears_late_and_one_that_goes_away(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    proc = cli("run", "click Refresh; click Open report; wait until Open report is gone", "--run-dir", str(run_dir),
               env=dict(xdisplay.env))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert demo_app.state()["reports"] == 1
    steps = load_run(run_dir).steps
    opened, gone = steps[1].step, steps[2].step
    assert opened is not None and gone is not None
    # the button appears 1.5 s after Refresh: the step looked more than once before clicking
    assert opened.text == "click Open report" and opened.looks > 1
    # the report window goes away a moment after the click: seen at least once, then gone
    assert gone.verb == "wait_until_gone" and gone.looks >= 2 and steps[2].status == "checked"


def test_unparseable_step_executes_nothing(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    proc = cli("run", "click Submit; fill in the form nicely", "--run-dir", str(tmp_path / "run"),
               env=dict(xdisplay.env))  # fmt: skip
    assert proc.returncode == 2
    assert "step 2: 'fill in the form nicely'" in proc.stderr and "--model" in proc.stderr
    assert demo_app.state()["clicks"] == []
    assert not (tmp_path / "run").exists()


def test_an_error_after_a_step_fails_the_run_by_default(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """Submit with an empty name makes the app show its error dialog: the click step fails and
    the run ends error_on_screen naming the dialog (no flag needed); with --allow-errors the
    run goes on and fails at the expectation instead; `expect error` lets it be."""
    proc = cli("run", "click Submit; expect Thank you", "--timeout", "1.5", "--run-dir", str(tmp_path / "run"),
               env=dict(xdisplay.env))  # fmt: skip
    assert proc.returncode == 1
    assert "`click Submit` failed: an error appeared on the screen after this step" in proc.stderr
    assert "Name is required" in proc.stderr
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert state["dialog"]["message"] == "Name is required."
    result = load_run(tmp_path / "run").meta.result
    assert result.status == "error_on_screen" and "Name is required" in (result.message or "")

    allowed = cli("run", "click OK; click Submit; expect Thank you", "--timeout", "1.5", "--allow-errors",
                  "--run-dir", str(tmp_path / "run2"), env=dict(xdisplay.env))  # fmt: skip
    assert allowed.returncode == 1
    assert "`expect Thank you` failed: target 'Thank you' did not appear within 1.5 s" in allowed.stderr
    result = load_run(tmp_path / "run2").meta.result
    assert result.status == "failure" and "Closest:" in (result.message or "")


def test_an_expected_error_is_no_failure(demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    expected = cli("run", "click Submit; expect error 'Name is required'; click OK",
                   "--timeout", "5", "--run-dir", str(tmp_path / "run"), env=dict(xdisplay.env))  # fmt: skip
    assert expected.returncode == 0, expected.stderr
    run = load_run(tmp_path / "run")
    assert run.meta.result.status == "success"
    check = next(r for r in run.steps if r.step is not None and r.step.verb == "expect_error")
    assert check.step is not None and "Name is required" in check.step.findings[0]["message"]


def test_the_readme_demo_task(demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path) -> None:
    """examples/demo_task.txt, which the README's demo command runs, does what it says."""
    from conftest import ROOT

    task = (ROOT / "examples" / "demo_task.txt").read_text(encoding="utf-8")
    proc = cli("run", task, "--run-dir", str(tmp_path / "run"), env=dict(xdisplay.env))
    assert proc.returncode == 0, proc.stderr
    state = demo_app.wait_for(lambda s: s["saves"] == 1)
    assert state["submitted"][0]["name"] == "Ada Lovelace"
    assert state["opened"] == ["Item 30"]
    assert state["drops"][0]["in_target"] is True
    steps = load_run(tmp_path / "run").steps
    drag = next(s for s in steps if s.action and s.action["action"] == "drag")
    assert drag.step is not None and drag.step.grounding is not None and drag.step.to is not None
    assert (drag.step.grounding.by, drag.step.to.by) == ("image", "image")
