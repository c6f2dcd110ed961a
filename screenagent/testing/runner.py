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
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UserError
from .cache import CacheMode, GroundingCache
from .driver import Gui, Judge, Locator, StepFailed, StepRecord
from .spec import StepSpec, TestFile, TestSpec, load_test_file


@dataclass
class RunOptions:
    report_dir: Path = Path("screenagent-report")
    retries: int = 0
    timeout_scale: float = 1.0
    tags: list[str] = field(default_factory=list)
    workers: int = 1
    cache_mode: CacheMode = "off"
    cache_path: Path | None = None
    model: Callable[[], tuple[Locator | None, Judge | None]] | None = None
    """Builds (grounding model, judge) in the process that runs the test (picklable)."""


@dataclass
class Attempt:
    status: str  # passed | failed | error
    message: str | None
    steps: list[dict[str, Any]]
    duration: float
    artifacts: str
    display: str = ""
    worker: int = 0


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


@dataclass
class Session:
    display: str
    gui_factory: Callable[[Path | None], Gui]


@contextmanager
def session(tf: TestFile, opts: RunOptions, cache: GroundingCache | None) -> Iterator[Session]:
    """A fresh Xvfb (set as this process's DISPLAY), the app on it, and a factory of Gui
    objects that drive it."""
    from ..display import VirtualDisplay, end_process, parse_size
    from ..grounding import Grounder
    from ..pyautogui_executor import PyAutoGUIExecutor
    from ..screen import MssScreen

    width, height, depth = parse_size(tf.display.size)
    model, judge = opts.model() if opts.model else (None, None)
    timeouts = {
        k: tf.timeout(k) * opts.timeout_scale for k in ("action", "expect", "optional", "wait")
    }
    with VirtualDisplay(width, height, depth) as vd:
        display = vd.display or ""
        executor = PyAutoGUIExecutor(display=display, failsafe=False)
        grounder = Grounder(base_dir=tf.base_dir)
        with MssScreen(display=display) as screen:

            def make_gui(artifacts: Path | None) -> Gui:
                return Gui(screen, executor, grounder, model=model, judge=judge, cache=cache,
                           timeouts=timeouts, artifacts=artifacts)  # fmt: skip

            app = None
            try:
                if tf.app is not None:
                    app = _launch(tf, vd.env, make_gui, opts.timeout_scale)
                yield Session(display=display, gui_factory=make_gui)
            finally:
                if app is not None:
                    end_process(app)


def _launch(
    tf: TestFile, env: Any, make_gui: Callable[[Path | None], Gui], scale: float
) -> subprocess.Popen[bytes]:
    from ..display import end_process

    if tf.app is None:  # pragma: no cover - the caller checks
        raise ConfigError(f"{tf.path}: no app to launch")
    argv = list(tf.app.launch)
    try:
        proc = subprocess.Popen(
            argv, cwd=tf.base_dir, env={**os.environ, **env, **tf.app.env},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
    except OSError as exc:
        raise ConfigError(
            f"{tf.path}: app.launch {argv}: cannot start it: {exc.strerror or exc}"
        ) from None
    if tf.app.ready is None:
        return proc
    gui = make_gui(None)  # no screenshots of the wait for the app
    deadline = tf.app.timeout * scale
    try:
        gui.wait_for(tf.app.ready, timeout=deadline)
    except StepFailed:
        end_process(proc)
        err = proc.stderr.read().decode(errors="replace")[-800:] if proc.stderr else ""
        exited = (
            f" The app exited with code {proc.returncode}."
            if proc.returncode not in (None, -15)
            else ""
        )
        raise AppNotReady(
            f"the app {argv} did not show {tf.app.ready!r} within {deadline:g} s.{exited}"
            + (f" Its stderr ends with:\n{err}" if err.strip() else "")
        ) from None
    return proc


class AppNotReady(UserError):
    pass


# -- running steps ---------------------------------------------------------------------------------


def run_step(gui: Gui, step: StepSpec, scale: float = 1.0) -> StepRecord:
    """Call the Gui method of a parsed step, with its options."""
    opts: dict[str, Any] = {"optional": step.optional, "soft": step.soft}
    if step.timeout is not None:
        opts["timeout"] = step.timeout * scale
    gui.line = step.line
    data = {
        k: v
        for k, v in step.model_dump(by_alias=False).items()
        if k not in ("line", "timeout", "optional", "soft")
    }
    verb = step.verb
    if verb in ("click", "double_click", "right_click", "hover", "wait_for", "wait_until_gone",
                "expect_visible", "expect_not_visible"):  # fmt: skip
        return getattr(gui, verb)(data["target"], **opts)
    if verb == "type":
        text = data.pop("text")
        return gui.type(text, **data, **opts)
    if verb == "press":
        return gui.press(data["keys"], times=data["times"], **opts)
    if verb == "scroll":
        return gui.scroll(data["direction"], amount=data["amount"], in_=data["in_"], **opts)
    if verb == "drag":
        return gui.drag(data["from_"], data["to"], **opts)
    if verb == "sleep":
        return gui.sleep(data["seconds"] * scale, **opts)
    if verb == "screenshot":
        return gui.screenshot(data["name"], **opts)
    if verb == "expect_text":
        return gui.expect_text(**data, **opts)
    if verb == "expect":
        return gui.expect(data["statement"], **opts)
    if verb == "expect_no_errors":
        return gui.expect_no_errors(**data, **opts)
    raise ConfigError(f"no runner for the step {verb!r}")  # pragma: no cover - spec lists them


def run_steps(gui: Gui, tf: TestFile, test: TestSpec, scale: float) -> str | None:
    """before_each, the test's steps, after_each (always). Returns the failure message or None."""
    failure: str | None = None
    try:
        gui.phase = "before_each"
        for step in tf.before_each:
            run_step(gui, step, scale)
        gui.phase = "test"
        for step in test.steps:
            run_step(gui, step, scale)
    except StepFailed as exc:
        failure = _where(tf, exc.record) + str(exc)
    finally:
        gui.phase = "after_each"
        for step in tf.after_each:
            try:
                run_step(gui, step, scale)
            except StepFailed as exc:
                failure = failure or _where(tf, exc.record) + str(exc)
                break
    if failure is None and gui.soft_failures:
        soft = gui.soft_failures
        failure = f"{len(soft)} soft assertion{'s' if len(soft) > 1 else ''} failed: " + " | ".join(
            _where(tf, r) + (r.error or r.label) for r in soft
        )
    return failure


def _where(tf: TestFile, rec: StepRecord) -> str:
    line = f":{rec.line}" if rec.line else ""
    phase = f" ({rec.phase})" if rec.phase != "test" else ""
    return f"{tf.path.name}{line}{phase}: "


def _attempt(tf: TestFile, test: TestSpec, s: Session, artifacts: Path, scale: float) -> Attempt:
    start = time.monotonic()
    gui = s.gui_factory(artifacts)
    message = run_steps(gui, tf, test, scale)
    return Attempt(
        status="failed" if message else "passed",
        message=f"test {test.name!r} failed at {message}" if message else None,
        steps=[r.to_json() for r in gui.records],
        duration=time.monotonic() - start,
        artifacts=str(artifacts),
        display=s.display,
        worker=os.getpid(),
    )


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
