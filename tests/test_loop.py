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
