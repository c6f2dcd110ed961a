"""The agent loop: capture -> decide -> validate -> execute -> settle -> log, one step at a time.

`iter_steps` is a generator that yields one `StepRecord` per step and returns the
`RunResult`; `run` drives it to the end. The loop builds none of its boundaries: the screen,
policy, executor, step log and safety rules are passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any

from .act import End, LoopSettings, actuate
from .actions import Action, Done, action_to_json
from .checks import VERIFY_ROUNDS, LoopChecks, Verifier
from .errors import ConfigError, InvalidOutput
from .executor import Executor
from .geometry import Frame
from .models import NoUsableAnswer, Tried, ask_structured
from .policies.base import Policy, Proposal, StepContext
from .safety import Limits, Safety
from .screen import Screen
from .steplog import Attempt, RunResult, StepLog, StepRecord, Timings, utc_now


def _screen_info(frame: Frame) -> dict[str, object]:
    return {
        "frame_size": [frame.width, frame.height],
        "region": [frame.region.left, frame.region.top, frame.region.width, frame.region.height],
        "scale": frame.scale,
        "monitor": frame.monitor,
    }


def iter_steps(
    task: str,
    *,
    screen: Screen,
    policy: Policy,
    executor: Executor,
    log: StepLog | None = None,
    safety: Safety | None = None,
    settings: LoopSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    guard: Any = None,
    verifier: Verifier | None = None,
    verify_rounds: int = VERIFY_ROUNDS,
) -> Generator[StepRecord, None, RunResult]:
    """Run the loop, yielding one record per step; the generator's return value is the result.

    ``guard`` (`screenagent.findings.watch.ErrorGuard`) watches the screen: errors there on
    the first frame are its baseline, a new one after an action ends the run
    (``error_on_screen``), and the final screen is watched for its grace period before a
    ``done``. ``verifier(task, answer, image)`` then checks the final screen (True, False or
    None: no usable verdict); a "no" goes back to the policy as feedback for the next step,
    ``verify_rounds`` times, then ends the run as a ``failure``.

    Raises UserError subclasses (ConfigError, DisplayError, ...) for problems a person must
    fix, before anything executes where they can be found up front (`Policy.preflight`).
    Everything that happens after the first action is recorded in the log, which is closed
    with the result even if the loop is interrupted or crashes.
    """
    safety = safety or Safety()
    settings = settings or LoopSettings()
    limits = safety.limits
    history: list[StepRecord] = []
    result = RunResult(status="error", message="the run ended before its first step")
    started = clock()

    try:
        frame = screen.capture()
        policy.preflight(frame)
        if log is not None:
            log.set_screen(_screen_info(frame))
        if guard is not None and not guard.started:
            guard.start(frame)  # the baseline: errors already on the screen
        fresh = True  # the first frame was captured for preflight; step 1 uses it
        feedback: tuple[str, ...] = ()  # the final check's "no", for the next step
        checks = LoopChecks(guard=guard, verifier=verifier, rounds=verify_rounds)
        while True:
            step = len(history) + 1
            spent = _over_budget(limits, step, clock() - started)
            if spent is not None:
                result = _result(spent[0], history, spent[1])
                return result
            t0 = time.perf_counter()
            if not fresh:
                frame = screen.capture()
            fresh = False
            record = StepRecord(
                index=step,
                started_at=utc_now(),
                status="error",
                frame_size=(frame.width, frame.height),
                timings=Timings(capture=time.perf_counter() - t0),
            )
            try:
                end = _step(
                    task,
                    frame,
                    history,
                    record,
                    policy=policy,
                    executor=executor,
                    screen=screen,
                    log=log,
                    safety=safety,
                    settings=settings,
                    feedback=feedback,
                )
                end, feedback = checks.after(task, record, end, screen=screen, safety=safety, log=log)
            except BaseException as exc:
                record.errors = record.errors or [safety.redact(f"{type(exc).__name__}: {exc}")]
                history.append(record)
                if log is not None:
                    log.append(record)
                raise
            history.append(record)
            if log is not None:
                log.append(record)
            yield record
            if end is not None:
                status, message, answer = end
                result = _result(
                    status, history, safety.redact(message) if message else None, answer
                )
                return result
    except KeyboardInterrupt:
        result = _result("interrupted", history, "interrupted by the user (Ctrl-C)")
        raise
    except GeneratorExit:
        result = _result("interrupted", history, "the caller stopped the run")
        raise
    except BaseException as exc:
        result = _result("error", history, safety.redact(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        if log is not None:
            log.finish(result)


def _over_budget(limits: Limits, step: int, elapsed: float) -> tuple[str, str] | None:
    """(status, message) when step ``step`` may not start: a budget of Safety is spent."""
    if step > limits.max_steps:
        return "max_steps", f"stopped after {limits.max_steps} steps without done"
    if elapsed > limits.max_seconds:
        return "timeout", f"stopped at the time budget of {limits.max_seconds:g} s"
    return None


def _result(
    status: str, history: list[StepRecord], message: str | None, answer: str | None = None
) -> RunResult:
    return RunResult(status=status, steps=len(history), message=message, answer=answer)  # type: ignore[arg-type]


def _step(
    task: str,
    frame: Frame,
    history: list[StepRecord],
    record: StepRecord,
    *,
    policy: Policy,
    executor: Executor,
    screen: Screen,
    log: StepLog | None,
    safety: Safety,
    settings: LoopSettings,
    feedback: tuple[str, ...] = (),
) -> End | None:
    """Fill ``record`` for one step; return (status, message, answer) if the run ends here."""
    step = record.index
    action, frame = _decide(task, frame, step, history, policy, safety, record, feedback)
    # The frame the action refers to: the step's capture, or a newer one the policy waited for.
    t = time.perf_counter()
    if log is not None:
        record.frame = log.save_frame(step, frame)
    record.frame_size = (frame.width, frame.height)
    record.timings.log = time.perf_counter() - t
    if action is None:
        record.status = "invalid"
        n = len(record.attempts)
        return (
            "invalid",
            f"step {step}: no valid action after {n} attempt{'s' * (n != 1)}: "
            + "; ".join(record.errors),
            None,
        )
    if isinstance(action, Done):
        record.action = safety.redact.scrub(action_to_json(action))
        record.status = "done"
        if action.success:
            return ("success", None, action.answer)
        return ("failure", action.answer or "the policy gave up", action.answer)

    end, _ = actuate(record, action, frame, screen=screen, executor=executor, safety=safety,
                     settings=settings)  # fmt: skip
    return end


def _decide(
    task: str,
    frame: Frame,
    step: int,
    history: list[StepRecord],
    policy: Policy,
    safety: Safety,
    record: StepRecord,
    told: tuple[str, ...] = (),
) -> tuple[Action | None, Frame]:
    """Ask the policy until it proposes a valid action or runs out of retries (through the one
    retry helper). Returns the action (None if none was valid) and the frame its coordinates
    refer to. ``told``: feedback the policy gets with its first try (the final check's "no")."""
    tries = 0

    def send(feedback: tuple[str, ...]) -> Proposal:
        nonlocal tries
        ctx = StepContext(task=task, frame=frame, step=step, history=tuple(history),
                          feedback=told + feedback, attempt=tries)  # fmt: skip
        tries += 1
        t = time.perf_counter()
        try:
            return policy.decide(ctx)
        finally:
            record.timings.decide += time.perf_counter() - t

    def validate(proposal: Proposal) -> tuple[Action, Frame]:
        t = time.perf_counter()
        seen = frame
        if proposal.frame is not None:
            if proposal.frame.region != frame.region or proposal.frame.scale != frame.scale:
                raise RuntimeError(f"{policy.name} answered for a frame of another screen area")
            seen = proposal.frame
        action, errors = safety.validate(proposal.action, seen)
        record.timings.check += time.perf_counter() - t
        if action is None:
            raise InvalidOutput("; ".join(errors), raw=proposal.raw)
        return action, seen

    try:
        answered = ask_structured(send, validate, retries=safety.limits.max_retries,
                                  raw=lambda p: p.raw, meta=lambda p: p.meta, what="action")  # fmt: skip
        tried = answered.attempts
    except NoUsableAnswer as exc:
        tried = exc.attempts
    # Redact every attempt at the end: a secret may only be known by the last one.
    record.attempts = [_attempt(a, safety) for a in tried]
    if record.attempts:
        record.raw = record.attempts[-1].raw
    if tried[-1].errors:
        record.errors = list(tried[-1].errors)
        return None, frame
    record.thought = record.attempts[-1].thought
    record.errors = []
    return answered.value


def _attempt(tried: Tried, safety: Safety) -> Attempt:
    thought = tried.reply.thought if isinstance(tried.reply, Proposal) else None
    return Attempt(
        raw=safety.redact(tried.raw), errors=list(tried.errors),
        meta=safety.redact.scrub(tried.meta), thought=safety.redact(thought) if thought else None,
    )  # fmt: skip


def run(
    task: str,
    *,
    screen: Screen,
    policy: Policy,
    executor: Executor,
    log: StepLog | None = None,
    safety: Safety | None = None,
    settings: LoopSettings | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    guard: Any = None,
    verifier: Verifier | None = None,
) -> RunResult:
    """Run the loop to the end (`iter_steps`); ``on_step`` sees each record as it is written."""
    return drive(iter_steps(task, screen=screen, policy=policy, executor=executor, log=log,
                            safety=safety, settings=settings, guard=guard, verifier=verifier),
                 on_step)  # fmt: skip


def drive(gen: Generator[StepRecord, None, RunResult],
          on_step: Callable[[StepRecord], None] | None = None) -> RunResult:  # fmt: skip
    """Run a generator of records to its end; its result. ``on_step`` sees each record."""
    while True:
        try:
            record = next(gen)
        except StopIteration as stop:
            result: RunResult = stop.value
            return result
        if on_step is not None:
            on_step(record)


class Agent:
    """Decides and performs the steps of a task on a `Session`.

    Args:
        model: A `Model` (`screenagent.load_model`) or a model spec string that decides every
            action from the screenshot; None: the step-follower, which runs explicit steps
            ("click Save; type 'a' into Name") with OCR grounding and needs no weights.
        planner: Composed mode: a model that plans each step and names its target in words
            (a `Model` or a spec); ``grounder`` turns the words into a point.
        grounder: Composed mode: a grounding `Model` (or spec), or None for OCR.
        skills: Text added to every model prompt (the rendered skills).
        safety: Validation, budgets, confirmation and secrets (default: the session's).
        verify: Before a model's ``done`` counts, show it the final screenshot and the task and
            ask whether it is done (`screenagent.checks`); a "no" goes back to it as feedback.

    ``agent.run(task, session=s)`` returns the typed `RunResult`; ``agent.iter(task,
    session=s)`` yields each `StepRecord` as it is written (model policies) and returns the
    result.
    """

    def __init__(
        self, *, model: Any = None, planner: Any = None, grounder: Any = None, skills: str = "",
        safety: Safety | None = None, verify: bool = True,
    ) -> None:  # fmt: skip
        if model is not None and planner is not None:
            raise ConfigError("Give `model` (one model does everything) or `planner`, not both.")
        if grounder is not None and planner is None:
            raise ConfigError("`grounder` needs `planner` (the model that decides what to do).")
        self.model = _as_model(model)
        self.planner = _as_model(planner, family_required=False)
        self.grounder = _as_model(grounder)
        self.skills = skills
        self.safety = safety
        self.verify = verify

    def policy(self) -> Policy | None:
        """The policy that decides (None: the step-follower runs the task's steps)."""
        if self.model is not None:
            policy: Policy = self.model.policy(context=self.skills)
            return policy
        if self.planner is not None:
            from .grounding import Grounder
            from .policies.planner import PlannerPolicy

            words: Any = self.grounder.grounder() if self.grounder is not None else Grounder()
            return PlannerPolicy(self.planner.backend, words, context=self.skills)
        return None

    def iter(self, task: str, *, session: Any) -> Generator[StepRecord, None, RunResult]:
        """Run the task step by step on ``session``, yielding each record."""
        safety = self.safety or session.safety
        policy = self.policy()
        if policy is None:
            from .steps import parse_task

            steps: RunResult = yield from session.iter_parsed(parse_task(task))
            return steps
        looped: RunResult = yield from session.iter_policy(task, policy, verifier=self.verifier(),
                                                          safety=safety)  # fmt: skip
        return looped

    def verifier(self) -> Verifier | None:
        """The final check of a model's run (``verify``): the model that decides (the planner
        in composed mode) answers whether the final screenshot shows the task done."""
        judge = self.model or self.planner
        if not self.verify or judge is None:
            return None
        return task_verifier(judge.backend)


    def run(self, task: str, *, session: Any) -> RunResult:
        """Run the task on ``session`` to the end; returns how it ended."""
        return drive(self.iter(task, session=session))


def task_verifier(backend: Any) -> Verifier:
    """The final check of a model's run, asked of ``backend`` (`VLMJudge.task_done`)."""
    from .testing.judge import VLMJudge

    task_done: Verifier = VLMJudge(backend).task_done
    return task_done


def _as_model(value: Any, *, family_required: bool = True) -> Any:
    if isinstance(value, str):
        from .models import load_model

        return load_model(value, family_required=family_required)
    return value
