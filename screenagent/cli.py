"""The `screenagent` command.

Exit codes: 0 the run ended with ``done`` and success; 1 it did not (failure, budget reached,
interrupted, an action failed); 2 a usage or configuration error (printed as one paragraph,
no traceback). Environment variables are read here, at the edge, and nowhere else.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .cli_models import add_model_options, model_policy
from .cli_skills import add_skill_options, add_skills_command, skill_task, skills_context
from .cli_support import (
    launched,
    positive_float,
    positive_int,
    region_option,
    require_ocr,
    size_option,
)
from .cli_tools import (
    cmd_doctor,
    cmd_ground,
    cmd_parse,
    cmd_read_errors,
    cmd_report,
    cmd_runs,
    cmd_schema,
)
from .errors import ConfigError, UserError


def _family_ids() -> list[str]:
    from .dialects import FAMILIES

    return sorted(FAMILIES)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screenagent",
        description="Screenshot-grounded GUI agent: capture, decide, validate, act, log.",
    )
    parser.add_argument("--version", action="version", version=f"screenagent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="run a task on the screen", description="Run a task on the screen."
    )
    run.add_argument(
        "task",
        nargs="?",
        default=None,
        help="the steps to follow, e.g. 'click Name; type \"Ada\"; press enter' "
        "(with --script: a label for the run)",
    )
    run.add_argument("--script", type=Path, metavar="FILE", help="JSON list of actions to play")
    add_model_options(run, composed=True)
    add_skill_options(run)
    _run_options(run, timeout_help="how long each step waits for its target to appear (default 15)")
    run.set_defaults(func=cmd_run)

    replay = sub.add_parser(
        "replay",
        help="do a recorded run again, with no model",
        description="Execute the actions of a recorded run again. Each action first checks that "
        "the screen around its point looks as recorded; --reground finds each target again "
        "instead (by its words with OCR, else by its recorded look).",
    )
    replay.add_argument("run", type=Path, metavar="RUN_DIR")
    replay.add_argument(
        "--reground", action="store_true", help="find every target again on the current screen"
    )
    _run_options(replay, timeout_help="how long each action waits for its target (default 15)")
    replay.set_defaults(func=cmd_replay)

    add_skills_command(sub)

    report = sub.add_parser("report", help="write RUN_DIR/report.html")
    report.add_argument("run", type=Path, metavar="RUN_DIR")
    report.set_defaults(func=cmd_report)

    runs = sub.add_parser("runs", help="list recorded runs, or show one")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True, metavar="list|show")
    runs_list = runs_sub.add_parser("list", help="what ran, when, with what result")
    runs_list.add_argument("--runs-root", type=Path, default=Path("runs"), metavar="DIR")
    runs_show = runs_sub.add_parser("show", help="one run, step by step")
    runs_show.add_argument("run", type=Path, metavar="RUN_DIR")
    runs.set_defaults(func=cmd_runs)

    ground = sub.add_parser(
        "ground",
        help="find a target on the screen or in an image",
        description="Find a target (text, regex:..., image:..., #N, relations) and print "
        "where it is, in frame pixels (the image's pixels with --image).",
    )
    ground.add_argument("target")
    ground.add_argument(
        "--image", type=Path, metavar="PNG", help="look in this image, not on the screen"
    )
    ground.add_argument("--json", action="store_true", help="print one JSON object")
    add_model_options(ground, composed=False)
    ground.add_argument("--monitor", type=int, metavar="N")
    ground.add_argument("--region", metavar="X,Y,W,H")
    ground.add_argument("--virtual-display", metavar="WxH")
    ground.add_argument(
        "--launch", metavar="CMD", help="start this program first (with --virtual-display)"
    )
    ground.set_defaults(func=cmd_ground)

    read_errors = sub.add_parser(
        "read-errors",
        help="find the errors on the screen (dialogs, banners, tracebacks) and print them",
        description="Find every error and warning on the screen, or in an image: dialogs, "
        "banners and status bars, terminal tracebacks, inline messages. Exit 0: none found; "
        "3: errors found; 1: the model gave no usable answer; 2: a usage, display or "
        "installation problem.",
    )
    read_errors.add_argument(
        "--image", type=Path, metavar="PNG", help="read this screenshot, not the screen"
    )
    read_errors.add_argument("--json", action="store_true", help="print the findings as JSON")
    read_errors.add_argument(
        "--monitor", type=int, default=0, metavar="N",
        help="read monitor N (1..) only; default 0: every monitor",
    )  # fmt: skip
    add_model_options(read_errors, composed=False)
    read_errors.add_argument(
        "--retries", type=int, default=2, metavar="N",
        help="with --model: extra attempts after an unusable answer (default 2)",
    )  # fmt: skip
    read_errors.set_defaults(func=cmd_read_errors)

    parse = sub.add_parser(
        "parse",
        help="parse one raw model answer (stdin) into actions",
        description="Read one raw model answer on stdin and print its actions as a JSON list, "
        "coordinates in pixels of the original image.",
    )
    parse.add_argument(
        "--family", required=True, metavar="ID", help="model family: " + ", ".join(_family_ids())
    )
    parse.add_argument(
        "--image-size", required=True, metavar="WxH", help="size of the original screenshot"
    )
    parse.add_argument("--model-input-size", metavar="WxH",
                       help="size of the image the model saw (default: the family's own resize)")  # fmt: skip
    parse.add_argument(
        "--min-pixels", type=positive_int, metavar="N", help="the pixel budget's lower bound"
    )
    parse.add_argument(
        "--max-pixels", type=positive_int, metavar="N", help="the pixel budget's upper bound"
    )
    parse.set_defaults(func=cmd_parse)

    schema = sub.add_parser("schema", help="print the JSON Schema of an action")
    schema.set_defaults(func=cmd_schema)

    doctor = sub.add_parser("doctor", help="check the display, input, scale and installed extras")
    doctor.add_argument("--virtual-display", metavar="WxH", help="check inside a private Xvfb")
    doctor.set_defaults(func=cmd_doctor)

    from .testing.cli import add_test_command

    add_test_command(sub)
    return parser


def _run_options(p: argparse.ArgumentParser, *, timeout_help: str) -> None:
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
    p.add_argument(
        "--stop-on-error", action="store_true",
        help="stop as soon as an error appears on the screen (dialog, banner, traceback: see "
        "read-errors); errors already there at the start do not count",
    )  # fmt: skip
    out = p.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="print only the run directory")
    out.add_argument(
        "--jsonl", action="store_true", help="print one JSON object per step, then the result"
    )
    p.add_argument("--verbose", "-v", action="store_true", help="debug messages on stderr")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"screenagent: {cli_words(str(exc))}", file=sys.stderr)
        return 2


_FLAGS = {
    "base_url": "--base-url", "family": "--family", "min_pixels": "--min-pixels",
    "max_pixels": "--max-pixels", "device": "--device", "dtype": "--dtype",
    "api_key": "the OPENAI_API_KEY environment variable", "max_steps": "--max-steps",
    "max_seconds": "--max-seconds", "retries": "--retries", "timeout": "--timeout",
    "virtual_display": "--virtual-display", "launch": "--launch", "model": "--model",
}  # fmt: skip


def cli_words(message: str) -> str:
    """A library error names parameters (`` `base_url` ``); a command's user knows flags."""
    return re.sub(r"`(\w+)`", lambda m: _FLAGS.get(m.group(1), m.group(0)), message)


# --- run --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from .policies import Policy, ScriptedPolicy, load_script

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
        from .steps import parse_task

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
    from .policies.recorded import RecordedRunPolicy
    from .steplog import load_run

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
    from .agent import LoopSettings, run
    from .console import Progress
    from .safety import Limits, Safety, TerminalConfirm
    from .screen import SettleConfig
    from .session import Session
    from .steps.runner import Timeouts

    region = region_option(args.region)
    if args.stop_on_error:
        require_ocr()
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
        virtual_display=args.virtual_display, monitor=args.monitor, region=region,
        dry_run=args.dry_run, safety=safety, settle_cap=args.settle_cap,
        timeouts=Timeouts(action=t, expect=t, wait=t, optional=min(t, 2.0)), on_record=progress.step,
    )  # fmt: skip
    log = None
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with session, launched(args.launch, screen=session.screen):
            display = session.display
            policy = make_policy(session.screen)
            if policy is not None:
                # Fail here, before a log exists, if the policy can tell that its actions
                # cannot work: nothing has executed yet.
                policy.preflight(session.screen.capture())
            log = session.begin(
                task, run_dir=args.run_dir, runs_root=args.runs_root, policy=policy.name if policy else "steps",
                settings={
                    **settings, "dry_run": args.dry_run, "stop_on_error": args.stop_on_error, "max_steps": args.max_steps,
                    "max_seconds": args.max_seconds, "retries": args.retries, "monitor": args.monitor,
                    "region": args.region, "virtual_display": args.virtual_display, "display": display,
                    "launch": args.launch, "confirm": args.confirm,
                },
            )  # fmt: skip
            progress.started(log.path)
            watch = None
            if args.stop_on_error:
                from .findings import ErrorWatch

                watch = ErrorWatch(display=display, screen=session.screen)
            loop = LoopSettings(settle=SettleConfig(cap_seconds=args.settle_cap), watch=watch)
            session.settings = loop
            if policy is None:
                result = session.run_parsed(steps or [])
                session.end(result)
            else:
                result = run(
                    task, screen=session.screen, policy=policy, executor=session.executor, log=log,
                    safety=safety, settings=loop, on_step=progress.step,
                )  # fmt: skip
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
        from .report import write_report

        report = write_report(log.path)
    progress.finished(result, log.path, report)
    return 0 if result.success else 1


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
