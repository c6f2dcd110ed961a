"""Composed mode and model grounding for real: a tiny Qwen2.5-VL, overfitted here to plan
("click Submit", in words) and to ground "Submit" in UI-TARS-1.5's format, drives the demo app
as `--planner hf:F --grounder hf:F`, and answers `screenagent ground --model hf:F`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DemoApp, cli, launch_demo, settle_screen

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run

pytestmark = [pytest.mark.display, pytest.mark.slow]
pytest.importorskip("transformers")
pytest.importorskip("torch")

TASK = "press the Submit button"
BUDGET = ["--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64)]
PLAN = '{"thought": "Submit sends the form", "action": "click", "target": "Submit"}'


@pytest.fixture(scope="module")
def planner_model(
    xdisplay: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path, list[int]]]:
    from tiny_vlm import build_tiny_qwen25vl, overfit

    from screenagent.dialects import get_dialect
    from screenagent.geometry import smart_resize
    from screenagent.policies.base import StepContext
    from screenagent.policies.planner import PLANNER_SYSTEM, planner_prompt
    from screenagent.screen import MssScreen

    tmp = tmp_path_factory.mktemp("planner")
    app = launch_demo(xdisplay, tmp / "state.json")
    try:
        settle_screen(xdisplay)
        with MssScreen(display=xdisplay.display) as screen:
            frame = screen.capture()
        submit = app.box("submit")
    finally:
        app.proc.terminate()
        app.proc.wait(timeout=5)
    shot = tmp / "shot.png"
    frame.image.save(shot)
    mh, mw = smart_resize(
        frame.height, frame.width, factor=28, min_pixels=3136, max_pixels=28 * 28 * 64
    )
    cx, cy = submit[0] + submit[2] // 2, submit[1] + submit[3] // 2
    point = f"Action: click(point='<point>{round(cx * mw / frame.width)} {round(cy * mh / frame.height)}</point>')"
    grounding = get_dialect("ui-tars-1.5").grounding_prompt("Submit", (mw, mh)).user

    from screenagent.skills import BUNDLED_DIR, load_skills, prompt_context

    context, _ = prompt_context(
        TASK, list(load_skills([BUNDLED_DIR]).values())
    )  # what `run --planner` adds
    # no OCR text in the planner's prompt with a model grounder
    plan_prompt = planner_prompt(StepContext(task=TASK, frame=frame, step=1)) + "\n\n" + context
    folder = build_tiny_qwen25vl(
        tmp / "model", [PLANNER_SYSTEM, plan_prompt, PLAN, grounding, point]
    )
    loss = overfit(
        folder,
        frame.image,
        plan_prompt,
        PLAN,
        system=PLANNER_SYSTEM,
        more=[(None, grounding, point)],
    )
    assert loss < 0.05, f"the tiny model did not learn its answers (loss {loss:.3f})"
    yield folder, shot, submit


def test_planner_and_model_grounder_click_the_real_button(
    planner_model: tuple[Path, Path, list[int]],
    demo_app: DemoApp,
    xdisplay: VirtualDisplay,
    tmp_path: Path,
) -> None:
    folder, _, _ = planner_model
    settle_screen(xdisplay)
    run_dir = tmp_path / "run"
    proc = cli("run", TASK, "--planner", f"hf:{folder}", "--grounder", f"hf:{folder}", "--family", "ui-tars-1.5",
               *BUDGET, "--max-steps", "1", "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # one step allowed, no "done": max_steps
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert state["dialog"]["message"] == "Name is required."
    step = load_run(run_dir).steps[0]
    assert step.raw == PLAN and step.thought == "Submit sends the form"
    meta = step.attempts[0].meta
    assert meta["target"] == "Submit" and meta["grounded_by"] == "model"
    assert meta["grounding"]["model"] == "vlm:ui-tars-1.5"
    assert "<point>" in meta["grounder_raw"]


def test_ground_command_with_a_model(planner_model: tuple[Path, Path, list[int]]) -> None:
    folder, shot, (x, y, w, h) = planner_model
    proc = cli("ground", "Submit", "--model", f"hf:{folder}", "--family", "ui-tars-1.5", *BUDGET,
               "--image", str(shot), "--json", timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert (
        x <= found["x"] < x + w
        and y <= found["y"] < y + h
        and found["grounded_by"] == "model"
        and found["model"] == "vlm:ui-tars-1.5"
    )
