"""A real (tiny) Qwen2.5-VL through the real transformers path: built and overfitted here
(no downloads) to answer a click on the demo app's Submit button in UI-TARS-1.5's format, and in
Holo3's and UI-TARS-2's; then `screenagent run --model hf:<folder>` clicks the real button on a
virtual display."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DemoApp, cli, launch_demo, settle_screen

from screenagent.display import VirtualDisplay
from screenagent.steplog import load_run

pytestmark = [pytest.mark.display, pytest.mark.slow]
pytest.importorskip("transformers")
pytest.importorskip("torch")

TASK = "click Submit"
FAMILY_ANSWERS = {
    "holo3": '{{"note": null, "thought": "the Submit button sends the form", "tool_call": '
             '{{"tool_name": "click", "element": "Submit button", "x": {x}, "y": {y}}}}}',
    "ui-tars-2": "<gui_think>the Submit button sends the form</gui_think>\n<seed:tool_call><function=click>"
                 "<parameter=point><point>{x} {y}</point></parameter></function></seed:tool_call>",
}
"""What the tiny model learns to answer for TASK in each 2026 family's own format."""
SAYS_DONE = "send the form as Ada"
ZOOM_TASK = "press the Submit button"
UITARS_CLICK = "Thought: the Submit button sends the form\nAction: click(start_box='<|box_start|>({x},{y})<|box_end|>')"
VERDICT_NO = '{"pass": false, "reason": "the Name field is empty and no reply is shown"}'


def park_pointer(vd: VirtualDisplay) -> None:
    """The pointer right of and below the demo window, over no widget (a hovered Tk button is drawn
    differently, and the tiny model knows one screenshot only)."""
    import subprocess

    subprocess.run(["xdotool", "mousemove", "1200", "720"], env=dict(vd.env), check=True, timeout=10)


@pytest.fixture(scope="module")
def tiny_model(
    xdisplay: VirtualDisplay, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, list[int]]]:
    from tiny_vlm import build_tiny_qwen25vl, overfit

    from screenagent.dialects import get_dialect
    from screenagent.geometry import smart_resize
    from screenagent.screen import MssScreen

    tmp = tmp_path_factory.mktemp("tiny")
    app = launch_demo(xdisplay, tmp / "state.json")
    try:
        park_pointer(xdisplay)
        settle_screen(xdisplay)
        with MssScreen(display=xdisplay.display) as screen:
            shot = screen.capture().image
        submit = app.box("submit")
    finally:
        app.proc.terminate()
        app.proc.wait(timeout=5)
    max_pixels = 28 * 28 * 64
    mh, mw = smart_resize(
        shot.height, shot.width, factor=28, min_pixels=28 * 28 * 4, max_pixels=max_pixels
    )
    cx, cy = submit[0] + submit[2] // 2, submit[1] + submit[3] // 2
    mx, my = (
        round(cx * mw / shot.width),
        round(cy * mh / shot.height),
    )  # the button in the model's space
    from screenagent.skills import BUNDLED_DIR, load_skills, prompt_context

    context, _ = prompt_context(
        TASK, list(load_skills([BUNDLED_DIR]).values())
    )  # what `run --model` adds
    prompt = (
        get_dialect("ui-tars-1.5").next_action_prompt(TASK, "", (mw, mh)).user + "\n\n" + context
    )
    answer = f"Thought: the Submit button sends the form\nAction: click(start_box='<|box_start|>({mx},{my})<|box_end|>')"
    # a second task the model wrongly says it has finished, and its own final check saying no
    from screenagent.testing.judge import TASK_SYSTEM, task_prompt

    context2, _ = prompt_context(SAYS_DONE, list(load_skills([BUNDLED_DIR]).values()))
    prompt2 = get_dialect("ui-tars-1.5").next_action_prompt(SAYS_DONE, "", (mw, mh)).user + "\n\n" + context2
    answer2 = "Thought: the form is sent\nAction: finished(content='sent')"
    verdict = task_prompt(SAYS_DONE, "sent")
    more = [(None, prompt2, answer2), (TASK_SYSTEM, verdict, VERDICT_NO)]
    corpus = [prompt, answer, prompt2, answer2, TASK_SYSTEM, verdict, VERDICT_NO]
    # the 2026 families, as `run --family holo3|ui-tars-2` asks them: coordinates in [0, 1000]
    kx, ky = round(cx * 1000 / shot.width), round(cy * 1000 / shot.height)
    for family, family_answer in FAMILY_ANSWERS.items():
        asked = get_dialect(family).next_action_prompt(TASK, "", shot.size)
        user = asked.user + "\n\n" + context
        reply = family_answer.format(x=kx, y=ky)
        more.append((asked.system, user, reply))
        corpus += [asked.system or "", user, reply]
    # zoom-in: for ZOOM_TASK it misses Submit on the whole screen (left of it, on the bare
    # window) and finds it on the window `run --zoom` sends around that first answer
    from screenagent.dialects import to_actions
    from screenagent.geometry import ZoomWindow

    uitars = get_dialect("ui-tars-1.5")
    zoom_prompt = uitars.next_action_prompt(ZOOM_TASK, "", (mw, mh)).user + "\n\n" + prompt_context(
        ZOOM_TASK, list(load_skills([BUNDLED_DIR]).values()))[0]  # fmt: skip
    miss = UITARS_CLICK.format(x=round((submit[0] - 40) * mw / shot.width), y=my)
    (first,) = to_actions(uitars.parse(miss, (mw, mh)), image_width=shot.width, image_height=shot.height)
    window = ZoomWindow.around(first.x, first.y, frame_size=shot.size, factor=2, size=(mw, mh))
    assert not submit[0] <= first.x < submit[0] + submit[2] and window.box.contains_point(cx, cy)
    hx, hy = window.from_frame(cx, cy)
    hit = UITARS_CLICK.format(x=hx, y=hy)
    more += [(None, zoom_prompt, miss), (None, zoom_prompt, hit, window.crop(shot))]
    corpus += [zoom_prompt, miss, hit]
    folder = build_tiny_qwen25vl(tmp / "model", corpus, max_pixels=max_pixels)
    folder.joinpath("prompt.txt").write_text(prompt)
    loss = overfit(folder, shot, prompt, answer, more=more)
    assert loss < 0.05, f"the tiny model did not learn its answer (loss {loss:.3f})"
    yield folder, submit


def test_backend_and_dialect_on_the_tiny_model(tiny_model: tuple[Path, list[int]], xdisplay: VirtualDisplay,
                                               tmp_path: Path) -> None:  # fmt: skip
    from screenagent.backends import TransformersBackend
    from screenagent.dialects import get_dialect, to_actions
    from screenagent.screen import MssScreen

    folder, submit = tiny_model
    app = launch_demo(xdisplay, tmp_path / "state.json")
    try:
        settle_screen(xdisplay)
        with MssScreen(display=xdisplay.display) as screen:
            frame = screen.capture()
        dialect = get_dialect("ui-tars-1.5")
        completion = TransformersBackend(str(folder)).complete(
            system=None,
            prompt=(folder / "prompt.txt").read_text(),  # the prompt it was trained on
            image=frame.image,
        )
        assert completion.model_input_size == (
            280,
            168,
        )  # the processor's own resize, read from its output
        assert completion.completion_tokens > 0 and completion.prompt_tokens > 100
        (click,) = to_actions(dialect.parse(completion.text, completion.model_input_size),
                              image_width=frame.width, image_height=frame.height)  # fmt: skip
        x, y, w, h = submit
        assert x <= click.x < x + w and y <= click.y < y + h, (completion.text, click)
    finally:
        app.proc.terminate()
        app.proc.wait(timeout=5)


def test_run_with_the_model_clicks_the_real_button(
    tiny_model: tuple[Path, list[int]], demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    folder, _ = tiny_model
    settle_screen(xdisplay)
    run_dir = tmp_path / "run"
    # the tiny model was trained at its own small pixel budget, not UI-TARS-1.5's default
    proc = cli("run", TASK, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--max-steps", "1",
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64),
               "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the app's own error dialog ends the run
    assert "result: error_on_screen after 1 step" in proc.stderr and "Name is required" in proc.stderr
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert state["dialog"]["message"] == "Name is required."  # the Submit button was pressed
    assert any(c["widget"] == "submit" for c in state["clicks"])
    step = load_run(run_dir).steps[0]
    assert load_run(run_dir).meta.policy == "vlm:ui-tars-1.5"
    assert "Action: click" in step.raw and step.thought == "the Submit button sends the form"
    assert step.attempts[0].meta["model_input_size"] == [280, 168]


def test_zoom_in_corrects_a_first_answer_that_misses(
    tiny_model: tuple[Path, list[int]], demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """For ZOOM_TASK the tiny model misses Submit on the whole screen and finds it on the zoomed
    window: without --zoom the click lands beside the button (the app sees no Submit), with
    --zoom the second look clicks it (the app reports it), and the log keeps both answers."""
    folder, submit = tiny_model
    budget = ["--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64)]
    settle_screen(xdisplay)
    plain = cli("run", ZOOM_TASK, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--max-steps", "1",
                *budget, "--run-dir", str(tmp_path / "plain"), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert "result: max_steps after 1 step" in plain.stderr, plain.stderr
    time.sleep(0.5)
    assert not any(c["widget"] == "submit" for c in demo_app.state()["clicks"]), "the first answer misses"
    miss = load_run(tmp_path / "plain").steps[0].action
    assert miss is not None and not (submit[0] <= miss["x"] < submit[0] + submit[2])
    run_dir = tmp_path / "zoomed"
    zoomed = cli("run", ZOOM_TASK, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--max-steps", "1",
                 "--zoom", *budget, "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert "Name is required" in zoomed.stderr, zoomed.stderr
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert any(c["widget"] == "submit" for c in state["clicks"])  # the app itself saw the click
    step = load_run(run_dir).steps[0]
    zoom = step.attempts[-1].meta["zoom"]
    assert zoom["first"] == [miss["x"], miss["y"]] and zoom["second"] == [step.action["x"], step.action["y"]]
    assert "click(start_box=" in zoom["raw"]
    proc = cli("report", str(run_dir), env=dict(xdisplay.env), timeout=120)
    assert proc.returncode == 0, proc.stderr
    html = (run_dir / "report.html").read_text()
    assert f"first answer ({miss['x']}, {miss['y']})" in html and "second answer" in html


@pytest.mark.parametrize("family", list(FAMILY_ANSWERS))
def test_2026_families_click_the_real_button_through_transformers(
    tiny_model: tuple[Path, list[int]], demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path, family: str
) -> None:
    """Holo3's JSON step and UI-TARS-2's <seed:tool_call> text, generated by the real transformers
    backend, parsed by their dialects and executed: the demo app receives the click."""
    folder, _ = tiny_model
    settle_screen(xdisplay)
    run_dir = tmp_path / "run"
    proc = cli("run", TASK, "--model", f"hf:{folder}", "--family", family, "--max-steps", "1",
               "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the app's own error dialog ends the run
    assert "Name is required" in proc.stderr
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert any(c["widget"] == "submit" for c in state["clicks"])  # the app itself saw the click
    step = load_run(run_dir).steps[0]
    assert load_run(run_dir).meta.policy == f"vlm:{family}"
    assert step.thought == "the Submit button sends the form"
    assert ("tool_call" in step.raw) if family == "holo3" else ("<seed:tool_call>" in step.raw)


@pytest.fixture(scope="module")
def served(
    tiny_model: tuple[Path, list[int]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The tiny model behind `transformers serve` on 127.0.0.1 (started and ended here, by PID)."""
    import socket
    import subprocess
    import sys
    import urllib.request

    from tiny_vlm import add_image_only_processor

    folder, _ = tiny_model
    add_image_only_processor(folder)
    home = tmp_path_factory.mktemp("hf_home")
    (home / "hub").mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "transformers"
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "serve", str(folder), "--trust-remote-code", "--host", "127.0.0.1", "--port", str(port),
         "--device", "cpu"],
        env={**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"},
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"transformers serve exited: {(home / 'serve.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not answer within 120 s")
            time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_openai_backend_through_transformers_serve_clicks_the_real_button(
    tiny_model: tuple[Path, list[int]],
    served: str,
    demo_app: DemoApp,
    xdisplay: VirtualDisplay,
    tmp_path: Path,
) -> None:
    folder, _ = tiny_model
    settle_screen(xdisplay)
    run_dir = tmp_path / "run"
    proc = cli("run", TASK, "--model", f"openai:{folder}", "--family", "ui-tars-1.5", "--base-url", served,
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64), "--max-steps", "1",
               "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    state = demo_app.wait_for(lambda s: s["dialog"])
    assert state["dialog"]["message"] == "Name is required."  # the Submit button was pressed
    step = load_run(run_dir).steps[0]
    meta = step.attempts[0].meta
    assert meta["model"] == f"openai:{folder}" and meta["model_input_size"] == [280, 168]
    assert (
        meta["prompt_tokens"] > 60 and meta["completion_tokens"] > 0
    )  # the image reached the model
    assert "Action: click" in step.raw


def test_batch_workers_share_one_server_and_report_tokens(
    tiny_model: tuple[Path, list[int]], served: str, tmp_path: Path
) -> None:
    """Models at scale: two batch workers, each on its own desktop with its own demo app, send
    their screenshots to the one OpenAI-compatible server (the tiny model behind `transformers
    serve`) instead of each loading the model; every result line carries its tokens."""
    import json
    import sys

    folder, _ = tiny_model
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo_app.py"
    lines = [{"id": f"m{i}", "task": TASK, "app": [sys.executable, str(demo), "--state", str(tmp_path / f"m{i}.json")],
              "ready": "Submit", "model": f"openai:{folder}", "family": "ui-tars-1.5", "min_pixels": 3136,
              "max_pixels": 28 * 28 * 64, "max_steps": 1} for i in range(2)]  # fmt: skip
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    proc = cli("batch", str(tmp_path / "tasks.jsonl"), "--out", str(tmp_path / "out"), "--workers", "2",
               "--base-url", served, timeout=400)  # fmt: skip
    results = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(results) == 2, proc.stdout + proc.stderr
    for r in results:
        assert r["reason"] == "error_on_screen", r  # the app's own "Name is required" dialog
        assert r["tokens"]["prompt"] > 60 and r["tokens"]["completion"] > 0, r
        state = json.loads((tmp_path / f"{r['id']}.json").read_text())
        assert any(c["widget"] == "submit" for c in state["clicks"])  # each app saw its click
    assert len({r["worker"] for r in results}) == 2
    assert "tokens " in proc.stdout and " s " in proc.stdout


def test_unreachable_server_is_a_clear_error(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    proc = cli("run", TASK, "--model", "openai:some-model", "--family", "ui-tars-1.5",
               "--base-url", f"http://127.0.0.1:{port}/v1", "--run-dir", str(tmp_path / "run"),
               env=dict(xdisplay.env), timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Cannot reach the model server" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "run" / "run.json").exists()  # the log of the run survives the error


def test_a_skill_body_reaches_the_models_prompt(
    tiny_model: tuple[Path, list[int]], demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    folder, _ = tiny_model
    run_dir = tmp_path / "run"
    proc = cli("run", TASK, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--skill", "fill-field",
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64), "--max-steps", "1", "--retries", "0",
               "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    run = load_run(run_dir)
    # one step allowed: the run ends by the model (success), the budget or an unusable answer;
    # never by a crash, and the exit code says which
    status = run.meta.result.status
    assert status in ("success", "max_steps", "invalid", "error_on_screen"), (status, proc.stderr)
    assert proc.returncode == (0 if status == "success" else 1) and "Traceback" not in proc.stderr
    assert run.meta.settings["skills_in_prompt"] == ["fill-field"]
    prompt = run.steps[0].attempts[0].meta["prompt"]
    assert (
        "## Skill: fill-field" in prompt
        and "Click inside the input box next to the label" in prompt
    )
    assert "- save-as: Save the current document" in prompt  # the catalogue of all skills


def test_a_model_that_says_done_too_early_is_not_a_success(
    tiny_model: tuple[Path, list[int]], demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """``--verify`` (on by default with --model): the model answers ``finished`` on the untouched
    form, its own final check on the final screenshot says no (trained on the verdict prompt of
    screenagent.testing.judge), and the run does not end ``success``; the app received nothing."""
    folder, _ = tiny_model
    park_pointer(xdisplay)  # the screen as the model was trained on it (no button under the pointer)
    settle_screen(xdisplay)
    run_dir = tmp_path / "run"
    # one step: what a tiny model answers after the "no" (a prompt it was never trained on) is
    # outside this test; with the 2026 families' answers also learned it clicked Submit there
    proc = cli("run", SAYS_DONE, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--max-steps", "1",
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64), "--retries", "0",
               "--run-dir", str(run_dir), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    run = load_run(run_dir)
    assert run.meta.result.status != "success" and run.meta.settings["verify"] is True
    first = run.steps[0]
    assert first.status == "done" and first.step is not None and first.step.verified == "diverged"
    assert first.step.reason == "the Name field is empty and no reply is shown"
    assert "the final check says the task is not done" in first.errors[0]
    state = demo_app.state()
    assert not state["submitted"] and not state["clicks"]  # the app saw nothing happen

    # --no-verify: the model's word is taken (the old behaviour, now opt-in)
    park_pointer(xdisplay)
    trusted = tmp_path / "trusted"
    proc = cli("run", SAYS_DONE, "--model", f"hf:{folder}", "--family", "ui-tars-1.5", "--max-steps", "2",
               "--min-pixels", "3136", "--max-pixels", str(28 * 28 * 64), "--no-verify",
               "--run-dir", str(trusted), env=dict(xdisplay.env), timeout=300)  # fmt: skip
    assert proc.returncode == 0 and load_run(trusted).meta.result.status == "success", proc.stderr
