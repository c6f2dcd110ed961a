"""`Session`: one desktop to drive, with the step vocabulary as methods.

    from screenagent import Session

    with Session(virtual_display="1280x800", launch=["python3", "app.py"], ready="Submit") as s:
        s.type("Ada", into="Name")
        s.click("Submit")
        s.expect_visible("Thank you, Ada!")

``Session()`` attaches to the current display (``DISPLAY``); ``virtual_display="WxH"`` starts
a private Xvfb that the session owns and ends. Every method runs one step through the one
runner (`screenagent.steps.runner`): grounding, waiting, validation, Safety, the executor and
the step log are the same as for ``screenagent run`` and ``screenagent test``. A failed step
raises `StepFailed` (an AssertionError) with a message naming the target, the grounder, the
timeout and the screenshot.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .act import LoopSettings
from .desktop import DesktopKind
from .errors import ConfigError, DisplayError
from .geometry import Rect
from .launch import AppNotReady, LaunchedApp
from .looking import Looking
from .safety import Safety
from .screen import SettleConfig
from .steplog import RunResult, StepInfo, StepLog, StepRecord
from .steps import model as m
from .steps.failures import RunStopped, StepFailed
from .steps.model import StepSpec
from .steps.runner import StepRunner, Timeouts, expected_error
from .steps.text import parse_task
from .steps.vocabulary import StepMethods


class Session(StepMethods, Looking):
    """A desktop to drive by targets in words (see the module docstring).

    Args:
        display: The X display to attach to (default: ``DISPLAY``).
        virtual_display: Start a private Xvfb of this size (``"1280x800"``) and own it.
        desktop: With ``virtual_display``: ``full`` (a window manager, a session bus and the
            accessibility bus; `screenagent.desktop`) or ``bare`` (Xvfb alone).
        launch: A program to start on the display (argv list or a command line); it is ended
            with the session.
        ready: A target that shows the launched app is ready (waited for up to
            ``app_timeout`` seconds).
        app_timeout: Seconds to wait for ``ready``.
        cwd: Working folder of the launched app (also where ``image:`` targets are found).
        env: Extra environment of the launched app.
        monitor: Monitor to capture and act on (1.., default the primary; 0 all).
        region: Capture and act only inside this rectangle of the desktop.
        dry_run: Decide and log, but execute nothing.
        safety: Validation, budgets, confirmation and secrets (default: `Safety()`).
        settle_cap: Longest wait for the screen to stop changing after an action.
        timeouts: Seconds per kind of step (actions, assertions, optional steps, waits).
        model: A `Model` (`load_model`) that grounds targets OCR cannot find and judges
            ``expect`` statements.
        cache: A grounding cache (`screenagent.grounding.cache.GroundingCache`).
        run_dir: Write the step log exactly here.
        runs_root: Write the step log to a new timestamped folder of this one.
        on_record: Sees each step-log record as it is written.
        failsafe: pyautogui's fail-safe (moving the pointer into a corner stops it).
        tree: Use the accessibility tree where there is one (grounding, error reading).
        allow_errors: A new error on the screen is a warning in the log, not a failure.
        error_grace: Seconds the final screen is watched for a late error (default 2, or
            ``$SCREENAGENT_ERROR_GRACE``).
        verify: Read effects back (typed text, toggled states); False trusts the actions.
    """

    def __init__(
        self,
        *,
        display: str | None = None,
        virtual_display: str | None = None,
        desktop: DesktopKind = "full",
        launch: Sequence[str] | str | None = None,
        ready: str | None = None,
        app_timeout: float = 30.0,
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        monitor: int | None = None,
        region: Rect | None = None,
        dry_run: bool = False,
        safety: Safety | None = None,
        settle_cap: float = 3.0,
        timeouts: Timeouts | None = None,
        model: Any = None,
        cache: Any = None,
        run_dir: str | Path | None = None,
        runs_root: str | Path | None = None,
        task: str = "session",
        on_record: Callable[[StepRecord], None] | None = None,
        failsafe: bool = True,
        tree: bool = True,
        allow_errors: bool = False,
        error_grace: float | None = None,
        verify: bool = True,
    ) -> None:
        if display is not None and virtual_display is not None:
            raise ConfigError("Give `display` (attach) or `virtual_display` (own one), not both.")
        self._display_arg = display
        self.virtual_display = virtual_display
        self.desktop = desktop
        self.launch = shlex.split(launch) if isinstance(launch, str) else list(launch or [])
        self.ready = ready
        self.app_timeout = app_timeout
        self.cwd = Path(cwd) if cwd is not None else None
        self.env = dict(env or {})
        self.monitor = monitor
        self.region = region
        self.dry_run = dry_run
        self.safety = safety or Safety()
        self.settings = LoopSettings(settle=SettleConfig(cap_seconds=settle_cap))
        self.timeouts = timeouts or Timeouts()
        self.model = model
        self.cache = cache
        self.on_record = on_record
        self.failsafe = failsafe
        self.use_tree = tree
        self.allow_errors = allow_errors
        self.verify = verify
        if error_grace is None:
            from .findings.watch import default_grace

            error_grace = default_grace()
        self.error_grace = error_grace
        self._tree: Any = None
        self._log_args = (run_dir, runs_root, task)
        self.display: str | None = None
        self.log: StepLog | None = None
        self._vd: Any = None
        self.app: LaunchedApp | None = None
        """The launched app (its process and, once seen, its window)."""
        self._screen: Any = None
        self._executor: Any = None
        self._grounder: Any = None
        self._runner: StepRunner | None = None
        self._started = False

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Session:
        """Start (or attach to) the display, open the screen and the executor, launch the app
        and wait until it is ready. Called by ``with`` and by the first step."""
        if self._started:
            return self
        self._started = True
        try:
            self._open_display()
            if self.launch:
                self._launch()
            run_dir, runs_root, task = self._log_args  # after the launch: the log names its window
            if run_dir is not None or runs_root is not None:
                self.begin(task, run_dir=run_dir, runs_root=runs_root or "runs")
        except BaseException:
            self.close()
            raise
        return self

    def _open_display(self) -> None:
        from .executor import DryRunExecutor
        from .screen import MssScreen

        if self.virtual_display is not None:
            from .display import VirtualDisplay, parse_size

            try:
                width, height, depth = parse_size(self.virtual_display)
            except ValueError as exc:
                raise ConfigError(f"`virtual_display`: {exc}") from None
            self._vd = VirtualDisplay(width, height, depth, desktop=self.desktop).start()
            self.display = self._vd.display
        else:
            self.display = self._display_arg or os.environ.get("DISPLAY")
            if not self.display:
                raise DisplayError(
                    "No display to drive: DISPLAY is not set. Give `virtual_display` "
                    "(e.g. '1280x800') to start a private one."
                )
        screen_size = None
        if self.dry_run:
            self._executor = DryRunExecutor()
        else:
            from .pyautogui_executor import PyAutoGUIExecutor

            self._executor = PyAutoGUIExecutor(display=self.display, failsafe=self.failsafe)
            screen_size = self._executor.screen_size()
        self._screen = MssScreen(monitor=self.monitor, region=self.region, display=self.display,
                                 screen_size=screen_size)  # fmt: skip

    def child_env(self) -> dict[str, str]:
        """The environment for a program to run on this session's desktop (its display, bus
        and toolkit switches)."""
        self.start()
        base = dict(self._vd.env) if self._vd is not None else dict(os.environ)
        if self._vd is None and self.display:
            base["DISPLAY"] = self.display
        return base

    def _launch(self) -> None:
        """Start the app, wait for its window (mapped, focused), then for its ready target."""
        from .launch import start_app, wait_for_window
        from .windows import list_windows

        display = self.display or ""
        before = {w.id for w in list_windows(display)}
        env = {**self.child_env(), **self.env}
        self.app = start_app(self.launch, display=display, env=env, cwd=self.cwd)
        start = time.monotonic()
        wait_for_window(self.app, display=display, before=before, timeout=self.app_timeout)
        if self.ready is None:  # no target to wait for: at least let its first paints end
            self.wait_settled(5.0, quiet=0.3)
            return
        runner = self._new_runner(log=None, watch=False)  # the wait for the app is not part of a run
        left = max(self.app_timeout - (time.monotonic() - start), 1.0)
        try:
            runner.run(m.WaitForStep(target=self.ready, timeout=left))
        except StepFailed:
            raise self._not_ready() from None

    def _not_ready(self) -> AppNotReady:
        """The error for an app that never showed its ready target: the target, the windows
        that did appear, a screenshot, and how the app ended if it did."""
        from .windows import list_windows

        shot = Path(tempfile.mkdtemp(prefix="screenagent-not-ready-")) / "screen.png"
        self.screenshot(shot)
        titles = ", ".join(repr(w.title) for w in list_windows(self.display)) or "none"
        why = self.app.exited() if self.app else ""
        return AppNotReady(
            f"the app {self.launch} did not show {self.ready!r} within {self.app_timeout:g} s. "
            f"Windows on the screen: {titles}. Screenshot: {shot}." + (f" Then {why}" if why else "")
        )

    def _end_app(self) -> None:
        from .launch import end_app

        if self.app is not None:
            end_app(self.app)
            self.app = None

    def close(self) -> None:
        """End what the session started (app, screen, Xvfb); close an open step log."""
        if self.log is not None and not self.log.finished:
            self.end(RunResult(status="interrupted", message="the session was closed"))
        self._end_app()
        if self._tree is not None:
            self._tree.close()
            self._tree = None
        self._grounder = None
        if self._screen is not None:
            self._screen.close()
            self._screen = None
        if self._vd is not None:
            self._vd.stop()
            self._vd = None

    # -- the step log --------------------------------------------------------------------------

    def begin(self, task: str, *, run_dir: str | Path | None = None, runs_root: str | Path = "runs",
              settings: dict[str, Any] | None = None, policy: str = "steps") -> StepLog:  # fmt: skip
        """Open a new run directory; the steps that follow are logged there until `end`."""
        if self.log is not None and not self.log.finished:
            self.end(RunResult(status="interrupted", message="a new run began"))
        if self.app is not None:
            settings = {**(settings or {}), "app": {"argv": self.app.argv, "pid": self.app.proc.pid,
                                                    "window": self.app.window_json()}}  # fmt: skip
        self.log = StepLog.create(task=task, policy=policy, executor=self.executor.name,
                                  run_dir=run_dir, runs_root=runs_root, settings=settings)  # fmt: skip
        frame = self.screen.capture()
        self.log.set_screen({"frame_size": [frame.width, frame.height], "display": self.display,
                             "scale": frame.scale, "monitor": frame.monitor})  # fmt: skip
        self._runner = None
        return self.log

    def end(self, result: RunResult) -> None:
        """Close the run directory with its result."""
        if self.log is not None:
            self.log.finish(result)

    # -- parts ---------------------------------------------------------------------------------

    @property
    def screen(self) -> Any:
        self.start()
        return self._screen

    @property
    def executor(self) -> Any:
        self.start()
        return self._executor

    @property
    def tree_reader(self) -> Any:
        """The desktop's accessibility tree reader (`screenagent.a11y.TreeReader`)."""
        if self._tree is None:
            from .a11y import TreeReader

            env = self.child_env()
            # an owned bare display has no bus of its own: the inherited one is another
            # desktop's, whose tree is not this screen's
            bare = self._vd is not None and self._vd.desktop is None
            self._tree = TreeReader(session_bus=env.get("DBUS_SESSION_BUS_ADDRESS"),
                                    display=self.display, region=lambda: self.screen.region,
                                    enabled=self.use_tree and not bare)  # fmt: skip
            if bare and self.use_tree:
                self._tree.reason = ("a bare display (desktop='bare', --desktop bare) has no accessibility "
                                     "bus of its own; start it as a desktop (the default) to read a tree")  # fmt: skip
        return self._tree

    @property
    def grounder(self) -> Any:
        if self._grounder is None:
            from .grounding import Grounder

            self._grounder = Grounder(base_dir=self.cwd or Path.cwd(), tree=self.tree_reader)
        return self._grounder

    def _new_runner(self, log: StepLog | None, *, watch: bool = True) -> StepRunner:
        model = self.model
        runner = StepRunner(
            screen=self.screen, executor=self.executor, grounder=self.grounder, safety=self.safety,
            log=log, settings=self.settings, timeouts=self.timeouts, cache=self.cache,
            model=model.grounder() if model is not None and model.dialect is not None else None,
            judge=model.judge() if model is not None else None,
            on_record=self.on_record, display=self.display, verify=self.verify,
        )  # fmt: skip
        if watch:
            runner.errors = self.error_guard(runner.error_reader())
        return runner

    def error_guard(self, reader: Any = None) -> Any:
        """A new `ErrorGuard` for a run on this session (None on a dry run: nothing happens to
        watch). With ``allow_errors`` it still watches, and new errors become warnings in the
        log, never a failure."""
        if self.dry_run:
            return None
        from .findings import ErrorReader
        from .findings.watch import ErrorGuard

        return ErrorGuard(display=self.display, reader=reader or ErrorReader(self.grounder.ocr),
                          tree=self.tree_reader, grace=self.error_grace,
                          fail=not self.allow_errors)  # fmt: skip

    def iter_policy(self, task: str, policy: Any, *, verifier: Any = None,
                    safety: Safety | None = None) -> Generator[StepRecord, None, RunResult]:  # fmt: skip
        """A policy (a model deciding each action) runs ``task`` on this session, with the
        error guard and, when given, the final check (`screenagent.agent.iter_steps`)."""
        from .agent import iter_steps

        looped: RunResult = yield from iter_steps(
            task, screen=self.screen, policy=policy, executor=self.executor, log=self.log,
            safety=safety or self.safety, settings=self.settings, guard=self.error_guard(),
            verifier=verifier,
        )  # fmt: skip
        return looped

    @property
    def runner(self) -> StepRunner:
        """The runner of the current run (a new one after each `begin`)."""
        if self._runner is None:
            self._runner = self._new_runner(self.log)
        return self._runner

    # -- steps ---------------------------------------------------------------------------------

    def run(self, step: StepSpec) -> StepInfo:
        """Run one step (any `screenagent.steps.model` step)."""
        return self.runner.run(step)

    def run_steps(self, text: str) -> RunResult:
        """Run task text (``"click Save; type 'a' into Name"``) to the end; returns how it
        ended (a failed step ends it with status ``failure``). Also closes an open step log."""
        steps = parse_task(text)
        result = self.run_parsed(steps)
        self.end(result)
        return result

    def run_parsed(self, steps: Sequence[StepSpec]) -> RunResult:
        """Run parsed steps until the end, a ``done`` step, a failure or a stop."""
        from .agent import drive

        return drive(self.iter_parsed(steps))

    def iter_parsed(self, steps: Sequence[StepSpec]) -> Generator[StepRecord, None, RunResult]:
        """`run_parsed` as a generator: each step's records as soon as the step ends."""
        runner = self.runner
        n0 = len(runner.records)
        for i, step in enumerate(steps):
            seen = len(runner.records)
            try:
                runner.run(step, expecting=expected_error(steps, i))
            except StepFailed as exc:
                yield from runner.records[seen:]
                return self._result("failure", exc.info.message, n0)
            except RunStopped as exc:
                yield from runner.records[seen:]
                return self._result(exc.status, str(exc), n0)
            except KeyboardInterrupt:
                self.end(self._result("interrupted", "interrupted by the user (Ctrl-C)", n0))
                raise
            yield from runner.records[seen:]
            if isinstance(step, m.DoneStep):
                break
        if runner.soft_failures:
            soft = "; ".join(s.message or s.text for s in runner.soft_failures)
            return self._result("failure", f"soft assertions failed: {soft}", n0)
        seen = len(runner.records)
        try:
            runner.final_check()
        except RunStopped as exc:
            yield from runner.records[seen:]
            return self._result(exc.status, str(exc), n0)
        return self._result("success", None, n0)

    def _result(self, status: str, message: str | None, n0: int) -> RunResult:
        runner = self.runner
        answer = "\n".join(runner.answers) or None
        return RunResult(status=status, steps=len(runner.records) - n0,  # type: ignore[arg-type]
                         message=self.safety.redact(message) if message else None, answer=answer)  # fmt: skip
