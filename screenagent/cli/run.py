"""`screenagent run` and `screenagent replay`: their options and what they share (a `Session`,
the step log, progress output, the report)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UserError
from .models import model_policy
from .skills import skill_task, skills_context
from .support import (
    add_desktop_option,
    positive_float,
    positive_int,
    region_option,
    require_ocr,
    size_option,
)


def run_options(p: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """The options `run` and `replay` share."""
    p.add_argument("--dry-run", action="store_true", help="decide and log, but execute nothing")
    p.add_argument("--timeout", type=positive_float, default=15.0, metavar="S", help=timeout_help)
    p.add_argument("--max-steps", type=positive_int, default=50, metavar="N")
    p.add_argument(
        "--max-seconds",
        type=positive_float,
        default=600.0,
        metavar="S",
        help="time budget for the whole run (default 600)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="extra attempts after an invalid policy answer, per step (default 2)",
    )
    p.add_argument("--run-dir", type=Path, metavar="DIR", help="write the run log exactly here")
    p.add_argument(
        "--runs-root",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="parent of new run directories (default ./runs)",
    )
    p.add_argument(
        "--monitor",
        type=int,
        metavar="N",
        help="monitor to capture and act on: 1.. (default the primary), 0 all",
    )
    p.add_argument(
        "--region",
        metavar="X,Y,W,H",
        help="capture and act only inside this rectangle of the desktop",
    )
    p.add_argument(
        "--virtual-display",
        metavar="WxH",
        help="start a private Xvfb of this size for the run (e.g. 1280x800)",
    )
    add_desktop_option(p)
    p.add_argument(
        "--launch",
        metavar="CMD",
        help="start this program (on the virtual display, if any) before the run and end it afterwards",
    )
    p.add_argument(
        "--confirm",
        action="store_true",
        help="ask before each action: Enter runs it, n skips it, q stops",
    )
    p.add_argument(
        "--settle-cap",
        type=positive_float,
        default=3.0,
        metavar="S",
        help="longest wait for the screen to stop changing (default 3)",
    )
    p.add_argument(
        "--report", action="store_true", help="write report.html into the run directory at the end"
    )
    errors = p.add_mutually_exclusive_group()
    errors.add_argument(
        "--allow-errors", action="store_true",
        help="do not stop when an error appears on the screen (by default a new dialog, banner "
        "or traceback after a step fails the run with status error_on_screen; errors already "
        "there at the start do not count)",
    )  # fmt: skip
    errors.add_argument("--stop-on-error", action="store_true", help=argparse.SUPPRESS)  # now the default
    p.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                   help="check effects (default on): steps read back what they typed and toggled; "
                   "with --model/--planner the model is also shown the final screen and asked "
                   "whether the task is done, and a 'no' goes back to it as feedback")  # fmt: skip
    p.add_argument("--error-grace", type=float, default=None, metavar="S",
                   help="seconds the final screen is watched for a late error before success "
                   "(2, or $SCREENAGENT_ERROR_GRACE)")  # fmt: skip
    out = p.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="print only the run directory")
    out.add_argument(
        "--jsonl", action="store_true", help="print one JSON object per step, then the result"
    )
    p.add_argument("--verbose", "-v", action="store_true", help="debug messages on stderr")


def cmd_run(args: argparse.Namespace) -> int:
    from ..policies import Policy, ScriptedPolicy, load_script

    _verbose(args)
    scripted: ScriptedPolicy | None = None
    vlm: Policy | None = None
    if args.script is not None and (args.model or args.planner):
        raise ConfigError("Give --script or a model (--model, --planner), not both.")
    task = args.task
    skills_used: list[str] = []
    if args.script is not None:
        scripted = ScriptedPolicy(load_script(args.script), source=f"script {args.script}")
    elif args.model or args.planner:
        if not task:
            raise ConfigError("Give the task in words for the model.")
        context, skills_used = skills_context(args, task)
        vlm = model_policy(args, context)
    elif args.skill:
        task = skill_task(args)
    if task is None:
        raise ConfigError(
            "Give a task: steps such as 'click Save; type \"a.txt\"', or --skill NAME."
        )
    steps = None
    if scripted is None and vlm is None:
        from ..steps import parse_task

        steps = parse_task(task)  # unparseable steps stop here, before any display is touched
        require_ocr()

    def make_policy(screen: Any) -> Policy | None:
        return scripted if scripted is not None else vlm

    settings = {
        "script": str(args.script) if args.script else None, "timeout": args.timeout,
        "model": args.model, "planner": args.planner, "grounder": args.grounder if args.planner else None,
        "base_url": args.base_url, "policy": getattr(vlm, "name", None),
        "skill": args.skill, "skills_in_prompt": skills_used,
    }  # fmt: skip
    return _execute(args, task=task, make_policy=make_policy, settings=settings, steps=steps)


def cmd_replay(args: argparse.Namespace) -> int:
    from ..policies.recorded import RecordedRunPolicy
    from ..steplog import load_run

    _verbose(args)
    recorded = load_run(args.run)
    if args.reground and any(
        (s.step is not None and s.step.grounding is not None)
        or isinstance(s.attempts[-1].meta.get("target") if s.attempts else None, str)
        for s in recorded.steps
    ):
        require_ocr()
    task = f"replay of {recorded.path.name}: {recorded.meta.task}"

    def make_policy(screen: Any) -> Any:
        return RecordedRunPolicy(
            recorded, screen=screen, reground=args.reground, timeout=args.timeout
        )

    settings = {"replay_of": str(recorded.path), "reground": args.reground, "timeout": args.timeout}
    return _execute(args, task=task, make_policy=make_policy, settings=settings)


def _verbose(args: argparse.Namespace) -> None:
    if getattr(args, "verbose", False):
        import logging

        logging.basicConfig(
            level=logging.DEBUG, format="%(relativeCreated)8.1f ms %(name)s: %(message)s"
        )


def _execute(
    args: argparse.Namespace, *, task: str, make_policy: Any, settings: dict[str, Any],
    steps: list[Any] | None = None,
) -> int:  # fmt: skip
    """Everything `run` and `replay` share: a `Session` (display, executor, screen), launch,
    log, progress, report. Steps run through the session's step runner; a policy
    (``make_policy(screen)``, built once the screen exists) through the agent loop."""
    from ..act import LoopSettings
    from ..agent import drive, task_verifier
    from ..console import Progress
    from ..policies.planner import PlannerPolicy
    from ..policies.vlm import VLMPolicy
    from ..safety import Limits, Safety, TerminalConfirm
    from ..screen import SettleConfig
    from ..session import Session
    from ..steps.runner import Timeouts

    region = region_option(args.region)
    if not args.allow_errors and not args.dry_run:
        require_ocr()  # the error watch reads the screen
    if args.retries < 0:
        raise ConfigError("--retries must be 0 or more.")
    if args.run_dir is not None and args.run_dir.exists() and any(args.run_dir.iterdir()):
        raise ConfigError(
            f"--run-dir {args.run_dir} exists and is not empty; give a new directory."
        )
    if args.virtual_display:
        size_option(args.virtual_display, "--virtual-display")
    progress = Progress("quiet" if args.quiet else "jsonl" if args.jsonl else "rich")
    safety = Safety.build(
        limits=Limits(max_steps=args.max_steps, max_seconds=args.max_seconds,
                      max_retries=args.retries),
        confirm=TerminalConfirm() if args.confirm else None,
    )  # fmt: skip
    t = args.timeout
    session = Session(
        virtual_display=args.virtual_display, desktop=args.desktop, launch=args.launch,
        app_timeout=20.0, monitor=args.monitor, region=region,
        dry_run=args.dry_run, safety=safety, settle_cap=args.settle_cap,
        timeouts=Timeouts(action=t, expect=t, wait=t, optional=min(t, 2.0)), on_record=progress.step,
        allow_errors=args.allow_errors, error_grace=args.error_grace, verify=args.verify,
    )  # fmt: skip
    log = None
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with session:
            display = session.display
            policy = make_policy(session.screen)
            if policy is not None:
                # Fail here, before a log exists, if the policy can tell that its actions
                # cannot work: nothing has executed yet.
                policy.preflight(session.screen.capture())
            log = session.begin(
                task, run_dir=args.run_dir, runs_root=args.runs_root, policy=policy.name if policy else "steps",
                settings={
                    **settings, "dry_run": args.dry_run, "allow_errors": args.allow_errors, "verify": args.verify, "max_steps": args.max_steps,
                    "max_seconds": args.max_seconds, "retries": args.retries, "monitor": args.monitor,
                    "region": args.region, "virtual_display": args.virtual_display, "display": display,
                    "launch": args.launch, "confirm": args.confirm,
                },
            )  # fmt: skip
            progress.started(log.path)
            session.settings = LoopSettings(settle=SettleConfig(cap_seconds=args.settle_cap))
            if policy is None:
                result = session.run_parsed(steps or [])
                session.end(result)
            else:
                verifier = None
                if args.verify and isinstance(policy, VLMPolicy | PlannerPolicy):
                    verifier = task_verifier(policy.backend)
                result = drive(session.iter_policy(task, policy, verifier=verifier), progress.step)
    except KeyboardInterrupt:
        progress.stopped("interrupted; the log is closed.", log.path if log else None)
        return 1
    except UserError:
        raise
    except Exception as exc:
        if log is None:
            raise
        progress.stopped(f"the run stopped on an error: {type(exc).__name__}: {exc}", log.path)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    report = None
    if args.report:
        from ..report import write_report

        report = write_report(log.path)
    progress.finished(result, log.path, report)
    return 0 if result.success else 1


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
