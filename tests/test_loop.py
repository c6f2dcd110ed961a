"""The loop with pure test doubles: a fixed image, the dry-run executor, a replayed transcript.

These check the loop's rules (retries with feedback, bounds, budgets, confirmation, secrets,
the log) without a display; the same loop drives a real app in test_demo_e2e.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from screenagent.actions import Click, Type
from screenagent.agent import iter_steps, run
from screenagent.errors import ConfigError
from screenagent.executor import DryRunExecutor
from screenagent.policies import ReplayPolicy, ScriptedPolicy
from screenagent.safety import Limits, Safety
from screenagent.screen import ImageScreen
from screenagent.steplog import StepLog, load_run


def screen() -> ImageScreen:
    return ImageScreen([Image.new("RGB", (640, 480), "white")])


def open_log(tmp_path: Path, task: str = "t") -> StepLog:
    return StepLog.create(task=task, policy="replay", executor="dry-run", run_dir=tmp_path / "run")


def test_invalid_answers_are_fed_back_then_a_valid_one_runs(tmp_path: Path) -> None:
    policy = ReplayPolicy(
        [
            "click the OK button",  # not JSON
            '{"action": "click", "x": 900, "y": 10}',  # off the frame
            '{"thought": "OK is at 100,50", "action": {"action": "click", "x": 100, "y": 50}}',
            '{"action": "done", "success": true, "answer": "clicked"}',
        ]
    )
    executor = DryRunExecutor()
    log = open_log(tmp_path)
    result = run("click OK", screen=screen(), policy=policy, executor=executor, log=log)
    assert result.status == "success" and result.answer == "clicked"
    # what the policy was told on each attempt of step 1
    feedback = [list(c.feedback) for c in policy.calls[:3]]
    assert feedback[0] == []
    assert "not valid JSON" in feedback[1][0]
    assert feedback[2] == ["x=900 is right of the frame: x must be 0..639 (frame is 640x480)"]
    # only the valid action executed
    assert [a for a, _ in executor.performed] == [Click(x=100, y=50)]
    run_ = load_run(tmp_path / "run")
    first = run_.steps[0]
    assert [len(a.errors) for a in first.attempts] == [1, 1, 0]
    assert first.attempts[0].raw == "click the OK button"
    assert first.thought == "OK is at 100,50"
    assert first.status == "dry_run" and first.screen_points == [(100, 50)]
    assert run_.meta.result.status == "success"


def test_no_valid_answer_within_retries_ends_the_run_without_executing(tmp_path: Path) -> None:
    policy = ReplayPolicy(['{"action": "click", "x": 1, "y": 1, "extra": 1}'] * 5)
    executor = DryRunExecutor()
    safety = Safety.build(limits=Limits(max_retries=2))
    result = run(
        "t",
        screen=screen(),
        policy=policy,
        executor=executor,
        safety=safety,
        log=open_log(tmp_path),
    )
    assert result.status == "invalid"
    assert "3 attempts" in (result.message or "") and "extra: unknown field" in (
        result.message or ""
    )
    assert executor.performed == []
    assert len(policy.calls) == 3
    step = load_run(tmp_path / "run").steps[0]
    assert step.status == "invalid" and step.action is None


def test_max_steps_budget(tmp_path: Path) -> None:
    policy = ReplayPolicy(['{"action": "move", "x": 1, "y": 1}'] * 10)
    safety = Safety.build(limits=Limits(max_steps=3))
    result = run("t", screen=screen(), policy=policy, executor=DryRunExecutor(), safety=safety)
    assert result.status == "max_steps" and result.steps == 3


def test_time_budget() -> None:
    ticks = iter(range(0, 1000, 10))  # every clock reading advances 10 s
    policy = ReplayPolicy(['{"action": "move", "x": 1, "y": 1}'] * 10)
    safety = Safety.build(limits=Limits(max_seconds=25))
    gen = iter_steps(
        "t",
        screen=screen(),
        policy=policy,
        executor=DryRunExecutor(),
        safety=safety,
        clock=lambda: float(next(ticks)),
    )
    records = []
    with pytest.raises(StopIteration) as stop:
        while True:
            records.append(next(gen))
    assert stop.value.value.status == "timeout"
    assert len(records) == 2


def test_confirmation_skip_and_quit(tmp_path: Path) -> None:
    answers = iter(["skip", "yes", "quit"])
    asked = []

    def confirm(step, action, points):
        asked.append((step, points))
        return next(answers)

    policy = ReplayPolicy(['{"action": "click", "x": 10, "y": 20}'] * 5)
    executor = DryRunExecutor()
    safety = Safety.build(confirm=confirm)
    result = run(
        "t",
        screen=screen(),
        policy=policy,
        executor=executor,
        safety=safety,
        log=open_log(tmp_path),
    )
    assert result.status == "aborted"
    assert asked == [(1, ((10, 20),)), (2, ((10, 20),)), (3, ((10, 20),))]
    assert len(executor.performed) == 1
    assert [s.status for s in load_run(tmp_path / "run").steps] == ["skipped", "dry_run", "skipped"]


def test_secret_text_never_reaches_the_log(tmp_path: Path) -> None:
    secret = "correct horse battery staple"
    policy = ReplayPolicy(
        [
            json.dumps(
                {
                    "thought": f"typing {secret}",
                    "action": {"action": "type", "text": secret, "secret": True},
                }
            ),
            '{"action": "done", "success": true}',
        ]
    )
    executor = DryRunExecutor()
    result = run(
        "log in", screen=screen(), policy=policy, executor=executor, log=open_log(tmp_path)
    )
    assert result.success
    assert executor.performed[0][0] == Type(text=secret, secret=True)  # executed in clear
    for path in (tmp_path / "run").iterdir():
        if path.suffix in (".json", ".jsonl"):
            assert secret not in path.read_text(encoding="utf-8"), path.name
    step = load_run(tmp_path / "run").steps[0]
    assert step.action == {"action": "type", "text": "«secret»", "secret": True}
    assert "«secret»" in step.raw and "«secret»" in (step.thought or "")


def test_script_preflight_rejects_off_frame_before_anything_runs(tmp_path: Path) -> None:
    policy = ScriptedPolicy([Click(x=10, y=10), Click(x=700, y=10), Click(x=10, y=480)])
    executor = DryRunExecutor()
    with pytest.raises(ConfigError) as err:
        run("t", screen=screen(), policy=policy, executor=executor)
    message = str(err.value)
    assert "action 2: x=700 is right of the frame" in message
    assert "action 3: y=480 is below the frame" in message
    assert executor.performed == []


def test_interrupt_closes_the_log(tmp_path: Path) -> None:
    class Boom:
        name = "boom"

        def preflight(self, frame):
            return None

        def decide(self, ctx):
            if ctx.step == 2:
                raise KeyboardInterrupt
            from screenagent.policies import Proposal

            return Proposal(raw="move", action={"action": "move", "x": 1, "y": 1})

    with pytest.raises(KeyboardInterrupt):
        run("t", screen=screen(), policy=Boom(), executor=DryRunExecutor(), log=open_log(tmp_path))
    loaded = load_run(tmp_path / "run")
    assert loaded.meta.result.status == "interrupted"
    assert [s.status for s in loaded.steps] == ["dry_run", "error"]
    assert loaded.steps[1].errors == ["KeyboardInterrupt: "]


def test_a_scripted_run_appends_done(tmp_path: Path) -> None:
    policy = ScriptedPolicy([Click(x=1, y=1)])
    result = run(
        "t", screen=screen(), policy=policy, executor=DryRunExecutor(), log=open_log(tmp_path)
    )
    assert result.success and result.steps == 2


def test_a_no_from_the_final_check_goes_back_to_the_policy_then_fails_the_run(tmp_path: Path) -> None:
    """`--verify` with a stand-in verifier (the real one runs a tiny model in test_vlm_e2e.py):
    each "no" is fed back to the policy's next step; after VERIFY_ROUNDS of them the run is a
    failure, never a success."""
    from screenagent.checks import VERIFY_ROUNDS

    done = '{"action": "done", "success": true, "answer": "saved"}'
    policy = ReplayPolicy([done] * (VERIFY_ROUNDS + 1))
    asked: list[tuple[str, str | None]] = []

    def verifier(task: str, answer: str | None, image: Image.Image) -> tuple[bool | None, str]:
        asked.append((task, answer))
        return False, "the file list does not show note.txt"

    result = run("save note.txt", screen=screen(), policy=policy, executor=DryRunExecutor(),
                 log=open_log(tmp_path), verifier=verifier)  # fmt: skip
    assert result.status == "failure"
    assert result.message == "the final check says the task is not done: the file list does not show note.txt"
    assert asked == [("save note.txt", "saved")] * (VERIFY_ROUNDS + 1)
    assert list(policy.calls[0].feedback) == []
    for call in policy.calls[1:]:  # the next step is told why
        assert "not done: the file list does not show note.txt" in call.feedback[0]
    steps = load_run(tmp_path / "run").steps
    assert [s.step.verified for s in steps if s.step] == ["diverged"] * (VERIFY_ROUNDS + 1)
    assert all("not done" in s.errors[0] for s in steps)
    from screenagent.report import write_report

    page = write_report(tmp_path / "run").read_text()
    assert page.count('class="badge verdict v-diverged"') == VERIFY_ROUNDS + 1
    assert "the final check says the task is not done: the file list does not show note.txt" in page


def test_the_final_check_confirms_or_cannot_check(tmp_path: Path) -> None:
    """A yes: success, ``confirmed`` with the reason; no usable verdict: success stays, but the
    record says ``not checkable`` and warns (never counted as confirmed)."""
    for verdict, verified in ((True, "confirmed"), (None, "not checkable")):
        run_dir = tmp_path / verified.replace(" ", "_")
        log = StepLog.create(task="t", policy="replay", executor="dry-run", run_dir=run_dir)
        policy = ReplayPolicy(['{"action": "done", "success": true}'])
        result = run("t", screen=screen(), policy=policy, executor=DryRunExecutor(), log=log,
                     verifier=lambda t, a, i, v=verdict: (v, "the dialog says Saved"))  # fmt: skip
        assert result.status == "success"
        (step,) = load_run(run_dir).steps
        assert step.step is not None and step.step.verified == verified
        assert step.step.reason == "the dialog says Saved"
        assert bool(step.warnings) == (verdict is None)


def test_no_verdict_after_a_no_leaves_the_no_standing(tmp_path: Path) -> None:
    """The verifier says no, then gives no usable answer: the run is not a success."""
    from screenagent.checks import VERIFY_ROUNDS

    answers = iter([(False, "no file list shows note.txt")] + [(None, "not JSON")] * VERIFY_ROUNDS)
    policy = ReplayPolicy(['{"action": "done", "success": true}'] * (VERIFY_ROUNDS + 1))
    result = run("t", screen=screen(), policy=policy, executor=DryRunExecutor(), log=open_log(tmp_path),
                 verifier=lambda t, a, i: next(answers))  # fmt: skip
    assert result.status == "failure" and "no file list shows note.txt" in (result.message or "")
    steps = load_run(tmp_path / "run").steps
    assert [s.step.verified for s in steps if s.step] == ["diverged"] * (VERIFY_ROUNDS + 1)
    assert all("gave no verdict" in s.warnings[0] for s in steps[1:])


def test_a_done_that_gives_up_is_not_checked(tmp_path: Path) -> None:
    policy = ReplayPolicy(['{"action": "done", "success": false, "answer": "no such file"}'])

    def verifier(task: str, answer: str | None, image: Image.Image) -> tuple[bool | None, str]:
        raise AssertionError("a failure needs no final check")

    result = run("t", screen=screen(), policy=policy, executor=DryRunExecutor(), verifier=verifier)
    assert result.status == "failure" and result.message == "no such file"


def _banner_frame(text: str | None) -> Image.Image:
    from PIL import ImageDraw, ImageFont

    image = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 18)
    draw.text((40, 40), "Connection settings", fill="black", font=font)
    draw.text((40, 400), "Connect", fill="black", font=font)
    if text:
        draw.rectangle((20, 200, 620, 250), fill=(255, 235, 235))
        draw.text((40, 212), text, fill=(160, 0, 0), font=font)
    return image


@pytest.mark.ocr
def test_a_banner_that_flashes_by_is_a_warning_with_its_frame(tmp_path: Path) -> None:
    """Real OCR on drawn frames (the timing of a real flash cannot be pinned down on a shared
    machine): an error banner on the frame after the action, gone on the frame read half a
    second later, does not fail the run; it is a warning of that step, naming the frame it was
    seen on, which is saved."""
    pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")
    from screenagent.executor import Outcome
    from screenagent.findings.watch import ErrorGuard
    from screenagent.geometry import Frame, Rect

    clean, banner = _banner_frame(None), _banner_frame("Error: connection lost")

    class Screen:  # shows the banner from the click on, until the guard has looked once
        image = clean

        def capture(self) -> Frame:
            return Frame(image=self.image, region=Rect(left=0, top=0, width=640, height=480))

    screen = Screen()

    class Executor(DryRunExecutor):  # "executed", so the guard looks after the action
        def execute(self, action, frame):  # type: ignore[no-untyped-def]
            screen.image = banner
            return Outcome(status="executed", screen_points=((60, 410),))

    class Flash(ErrorGuard):
        def check(self, frame):  # type: ignore[no-untyped-def]
            found = super().check(frame)
            if frame.image is banner:
                screen.image = clean  # gone before the confirming look
            return found

    policy = ReplayPolicy(['{"action": "click", "x": 60, "y": 410}',
                           '{"action": "done", "success": true}'])  # fmt: skip
    result = run("connect", screen=screen, policy=policy, executor=Executor(),
                 log=open_log(tmp_path), guard=Flash(grace=0.0))  # fmt: skip
    assert result.status == "success", result
    first = load_run(tmp_path / "run").steps[0]
    (warning,) = first.warnings
    assert "showed briefly" in warning and "connection lost" in warning.lower(), warning
    seen_on = warning.rsplit("seen on ", 1)[1].rstrip(")")
    assert (tmp_path / "run" / seen_on).exists()

    # the same banner still there half a second later: the run stops on it
    screen.image = clean
    policy = ReplayPolicy(['{"action": "click", "x": 60, "y": 410}', '{"action": "done", "success": true}'])
    result = run("connect", screen=screen, policy=policy, executor=Executor(), guard=ErrorGuard(grace=0.0))
    assert result.status == "error_on_screen" and "connection lost" in (result.message or "").lower()


def test_a_narrow_field_that_shows_the_end_of_the_typed_text_counts_as_read_back() -> None:
    from screenagent.steps.states import _shows_the_end

    path = "/tmp/screenagent-ro/pytest-42/note.txt"
    assert _shows_the_end(path, "ro/pytest-42/note.txt")
    assert _shows_the_end(path, "Xo/pytest-42/note.txt")  # a first glyph cut in half
    assert not _shows_the_end(path, "note")  # too little to tell it from what was there
    assert not _shows_the_end(path, "pytest-42/note.tx")  # not the end: the text is not all there
    assert not _shows_the_end(path, "")
