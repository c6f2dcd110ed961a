"""Runs YAML tests: a fresh virtual display and app per test, retries, flaky detection, workers.

Each test (or each file, with ``isolation: file``) gets its own Xvfb and its own app; the app
is ready when its ``ready`` target is visible. ``before_each`` runs first, ``after_each``
always runs. A test that fails and then passes on a retry is *flaky*. With ``workers > 1``,
tests run in separate processes, each on its own display (pyautogui keeps one X connection
per process).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..grounding.cache import CacheMode, GroundingCache
from ..safety import Limits, Safety
from ..session import Session
from ..steplog import RunResult, StepInfo, StepRecord
from ..steps.failures import RunStopped, StepFailed
from ..steps.model import SleepStep, StepSpec
from ..steps.runner import expected_error
from .spec import TestFile, TestSpec, load_test_file


@dataclass
class RunOptions:
    report_dir: Path = Path("screenagent-report")
    retries: int = 0
    timeout_scale: float = 1.0
    tags: list[str] = field(default_factory=list)
    workers: int = 1
    cache_mode: CacheMode = "off"
    cache_path: Path | None = None
    model: Callable[[], Any] | None = None
    """Builds the `Model` in the process that runs the test (picklable)."""
    limits: Limits = field(default_factory=lambda: Limits(max_steps=10_000, max_seconds=3600.0))
    """Safety budgets per test attempt (``--max-steps``, ``--max-seconds``)."""
    allow_errors: bool = False
    """Do not fail a test on an error that appears on the screen (``--allow-errors``)."""
    error_grace: float | None = None
    """Seconds the final screen of a passing test is watched for a late error (None: the
    default, `screenagent.findings.watch.default_grace`)."""
    verify: bool = True
    """Read back what steps typed and toggled (``--no-verify``: trust the actions)."""
    keep: Callable[[TestFile, list[TestSpec]], list[TestSpec]] | None = None
    """Which of a file's selected tests this run takes (a shard's part; picklable)."""


@dataclass
class Attempt:
    status: str  # passed | failed | error
    message: str | None
    steps: list[dict[str, Any]]
    duration: float
    artifacts: str
    display: str = ""
    worker: int = 0
    started: float = 0.0
    """Wall-clock start (``time.time()``), to see which attempts overlapped."""


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class
    file: str
    name: str
    status: str  # passed | failed | flaky | error
    attempts: list[Attempt]
    line: int = 0
    tags: list[str] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        return self.attempts[-1].message

    @property
    def duration(self) -> float:
        return sum(a.duration for a in self.attempts)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "test"


# -- one display + app ---------------------------------------------------------------------------


@contextmanager
def session(tf: TestFile, opts: RunOptions, cache: GroundingCache | None) -> Iterator[Session]:
    """A `Session` on a fresh Xvfb with the file's app launched and ready."""
    from ..steps.runner import Timeouts

    scale = opts.timeout_scale
    model = opts.model() if opts.model else None
    timeouts = Timeouts(**{k: tf.timeout(k) for k in ("action", "expect", "optional", "wait")})
    app = tf.app
    s = Session(
        virtual_display=tf.display.size, desktop=tf.display.desktop,
        launch=app.launch if app else None,
        ready=app.ready if app else None, app_timeout=(app.timeout if app else 30.0) * scale,
        cwd=tf.base_dir, env=app.env if app else None, timeouts=timeouts.scaled(scale),
        model=model, cache=cache, failsafe=False, safety=Safety.build(limits=opts.limits),
        allow_errors=opts.allow_errors or tf.allow_errors, error_grace=opts.error_grace,
        verify=opts.verify,
    )  # fmt: skip
    with s:
        yield s


# -- running steps ---------------------------------------------------------------------------------


def run_step(s: Session, step: StepSpec, scale: float = 1.0, *, expecting: str | None = None) -> StepInfo:
    """Run one parsed step on the session, its own timeout and sleep scaled."""
    update: dict[str, Any] = {}
    if step.timeout is not None:
        update["timeout"] = step.timeout * scale
    if isinstance(step, SleepStep):
        update["seconds"] = step.seconds * scale
    return s.runner.run(step.model_copy(update=update) if update else step, expecting=expecting)


def run_steps(s: Session, tf: TestFile, test: TestSpec, scale: float) -> str | None:
    """before_each, the test's steps, after_each (always). Returns the failure message or None."""
    runner = s.runner
    failure: str | None = None
    try:
        runner.phase = "before_each"
        for i, step in enumerate(tf.before_each):
            run_step(s, step, scale, expecting=expected_error(tf.before_each, i))
        runner.phase = "test"
        for i, step in enumerate(test.steps):
            run_step(s, step, scale, expecting=expected_error(test.steps, i))
        runner.final_check()
    except StepFailed as exc:
        failure = _where(tf, exc.info) + str(exc)
    except RunStopped as exc:
        failure = f"{tf.path.name}: the run stopped ({exc.status}): {exc}"
    finally:
        runner.phase = "after_each"
        for step in tf.after_each:
            try:
                run_step(s, step, scale)
            except (StepFailed, RunStopped) as exc:
                where = _where(tf, exc.info) if isinstance(exc, StepFailed) else ""
                failure = failure or where + str(exc)
                break
    if failure is None and runner.soft_failures:
        soft = runner.soft_failures
        failure = f"{len(soft)} soft assertion{'s' if len(soft) > 1 else ''} failed: " + " | ".join(
            _where(tf, r) + (r.message or r.text) for r in soft
        )
    return failure


def _where(tf: TestFile, info: StepInfo) -> str:
    line = f":{info.line}" if info.line else ""
    phase = f" ({info.phase})" if info.phase != "test" else ""
    return f"{tf.path.name}{line}{phase}: "


def _attempt(tf: TestFile, test: TestSpec, s: Session, artifacts: Path, scale: float) -> Attempt:
    start, started = time.monotonic(), time.time()
    s.begin(f"{tf.path.name} › {test.name}", run_dir=artifacts, policy="steps",
            settings={"test_file": str(tf.path), "test": test.name, "line": test.line})  # fmt: skip
    message = run_steps(s, tf, test, scale)
    status = "failed" if message else "passed"
    s.end(RunResult(status="failure" if message else "success", steps=len(s.runner.records),
                    message=message))  # fmt: skip
    return Attempt(
        status=status,
        message=f"test {test.name!r} failed at {message}" if message else None,
        steps=step_rows(s.runner.steps, s.runner.records),
        duration=time.monotonic() - start,
        artifacts=str(artifacts),
        display=s.display or "",
        worker=os.getpid(),
        started=started,
    )


_JUDGED_BY = {"expect": "model", "expect_no_errors": "ocr"}
"""What checked a step that grounds no target."""


def step_rows(steps: list[StepInfo], records: list[StepRecord]) -> list[dict[str, Any]]:
    """One summary row per step, from the step log's records (for summary.json and JUnit)."""
    rows = []
    for info in steps:
        mine = [r for r in records if r.step is not None and r.step.number == info.number]
        g = info.grounding
        act = sum(r.timings.execute for r in mine)
        row: dict[str, Any] = {
            "index": info.number, "label": info.text, "verb": info.verb, "phase": info.phase,
            "line": info.line, "status": info.result or "failed", "verified": info.verified,
            "target": info.target,
            "grounded_by": g.by if g else _JUDGED_BY.get(info.verb), "box": g.box if g else None,
            "point": list(info.field or g.point) if g else None, "score": g.score if g else None,
            "locate_s": round(info.waited, 4), "settle_s": round(info.settle, 4), "act_s": round(act, 4),
            "looks": info.looks, "before": mine[0].frame if mine else None,
            "after": next((r.after for r in reversed(mine) if r.after), None), "error": info.message,
            "detail": {k: v for k, v in {
                "to": {"box": info.to.box, "point": list(info.to.point)} if info.to else None,
                "findings": info.findings or None, "reason": info.reason, "read": info.read,
                "candidates": info.candidates or None,
                "warning": next((w for r in mine for w in r.warnings), None),
            }.items() if v is not None},
        }  # fmt: skip
        rows.append({k: v for k, v in row.items() if v is not None and v != {}})
    return rows


def _error_attempt(test: TestSpec, exc: Exception, artifacts: Path, start: float) -> Attempt:
    return Attempt(status="error", message=f"test {test.name!r} could not run: {exc}", steps=[],
                   duration=time.monotonic() - start, artifacts=str(artifacts))  # fmt: skip


def run_file_tests(
    tf: TestFile, tests: list[TestSpec], opts: RunOptions, cache: GroundingCache | None
) -> list[TestResult]:
    """Run these tests of one file (in this process), with retries."""
    results: list[TestResult] = []
    base = opts.report_dir / slug(tf.path.stem)
    if tf.isolation == "file":
        attempts: dict[str, list[Attempt]] = {t.name: [] for t in tests}
        for round_ in range(opts.retries + 1):
            todo = [
                t for t in tests if not attempts[t.name] or attempts[t.name][-1].status != "passed"
            ]
            if not todo:
                break
            start = time.monotonic()
            try:
                with session(tf, opts, cache) as s:
                    for t in todo:
                        art = base / slug(t.name) / f"attempt-{round_ + 1}"
                        attempts[t.name].append(_attempt(tf, t, s, art, opts.timeout_scale))
            except UserError as exc:
                for t in todo:
                    if len(attempts[t.name]) <= round_:
                        attempts[t.name].append(_error_attempt(t, exc, base, start))
        return [_result(tf, t, attempts[t.name]) for t in tests]
    for t in tests:
        tries: list[Attempt] = []
        for round_ in range(opts.retries + 1):
            art = base / slug(t.name) / f"attempt-{round_ + 1}"
            start = time.monotonic()
            try:
                with session(tf, opts, cache) as s:
                    tries.append(_attempt(tf, t, s, art, opts.timeout_scale))
            except UserError as exc:
                tries.append(_error_attempt(t, exc, art, start))
            if tries[-1].status == "passed":
                break
        results.append(_result(tf, t, tries))
    return results


def _result(tf: TestFile, t: TestSpec, attempts: list[Attempt]) -> TestResult:
    last = attempts[-1].status
    status = "flaky" if last == "passed" and len(attempts) > 1 else last
    return TestResult(file=str(tf.path), name=t.name, status=status, attempts=attempts, line=t.line,
                      tags=sorted({*tf.tags, *t.tags}))  # fmt: skip


def selected(tf: TestFile, tags: list[str]) -> list[TestSpec]:
    if not tags:
        return list(tf.tests)
    return [t for t in tf.tests if set(tags) & {*tf.tags, *t.tags}]


def _worker(
    path: str, names: list[str], opts: RunOptions
) -> tuple[list[TestResult], dict[str, Any]]:
    tf = load_test_file(path)
    cache = _open_cache(opts)
    tests = [t for t in tf.tests if t.name in names]
    results = run_file_tests(tf, tests, opts, cache)
    return results, (cache.new_entries() if cache else {})


def _open_cache(opts: RunOptions) -> GroundingCache | None:
    if opts.cache_mode == "off" or opts.cache_path is None:
        return None
    return GroundingCache(opts.cache_path, opts.cache_mode)


def run_tests(files: list[TestFile], opts: RunOptions) -> list[TestResult]:
    """Run every selected test of every file; the cache is saved at the end (read-write)."""
    cache = _open_cache(opts)
    jobs: list[tuple[TestFile, list[TestSpec]]] = []
    for tf in files:
        tests = selected(tf, opts.tags)
        if opts.keep is not None:
            tests = opts.keep(tf, tests)
        if not tests:
            continue
        if tf.isolation == "file" or opts.workers <= 1:
            jobs.append((tf, tests))
        else:
            jobs += [(tf, [t]) for t in tests]
    results: list[TestResult] = []
    if opts.workers <= 1:
        for tf, tests in jobs:
            results += run_file_tests(tf, tests, opts, cache)
    else:
        with ProcessPoolExecutor(max_workers=opts.workers, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(_worker, str(tf.path), [t.name for t in tests], opts)
                for tf, tests in jobs
            ]
            for fut in futures:
                part, entries = fut.result()
                results += part
                if cache is not None:
                    cache.merge(entries)
    if cache is not None:
        cache.save()
    return results
