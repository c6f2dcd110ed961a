"""The `screenagent` command.

Exit codes: 0 the run ended with ``done`` and success; 1 it did not (failure, budget reached,
interrupted, an action failed); 2 a usage or configuration error (printed as one paragraph,
no traceback). Environment variables are read here, at the edge, and nowhere else.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError, UserError


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


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
        help="the steps to follow, e.g. 'click Name; type \"Ada\"; press enter' "
        "(with --script: a label for the run)",
    )
    run.add_argument("--script", type=Path, metavar="FILE", help="JSON list of actions to play")
    run.add_argument(
        "--model",
        metavar="hf:PATH",
        help="let a vision-language model decide (hf:<folder or hub id>)",
    )
    run.add_argument(
        "--family", metavar="ID", help="the model's family (default: detected from its name)"
    )
    run.add_argument("--device", help="cuda, cuda:1, mps, cpu or auto (default: the best one)")
    run.add_argument("--dtype", help="bf16, fp16 or fp32 (default: by device)")
    run.add_argument(
        "--max-pixels", type=_positive_int, metavar="N", help="the model's image pixel budget"
    )
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
    ground.add_argument("--monitor", type=int, metavar="N")
    ground.add_argument("--region", metavar="X,Y,W,H")
    ground.add_argument("--virtual-display", metavar="WxH")
    ground.add_argument(
        "--launch", metavar="CMD", help="start this program first (with --virtual-display)"
    )
    ground.set_defaults(func=cmd_ground)

    parse = sub.add_parser(
        "parse",
        help="parse one raw model answer (stdin) into actions",
        description="Read one raw model answer on stdin and print its actions as a JSON list, "
        "coordinates in pixels of the original image.",
    )
    parse.add_argument(
        "--family", required=True, help="model family id (e.g. ui-tars-1.5, qwen2.5-vl)"
    )
    parse.add_argument(
        "--image-size", required=True, metavar="WxH", help="size of the original screenshot"
    )
    parse.add_argument("--model-input-size", metavar="WxH",
                       help="size of the image the model saw (default: the family's own resize)")  # fmt: skip
    parse.add_argument(
        "--min-pixels", type=_positive_int, metavar="N", help="the pixel budget's lower bound"
    )
    parse.add_argument(
        "--max-pixels", type=_positive_int, metavar="N", help="the pixel budget's upper bound"
    )
    parse.set_defaults(func=cmd_parse)

    schema = sub.add_parser("schema", help="print the JSON Schema of an action")
    schema.set_defaults(func=cmd_schema)

    doctor = sub.add_parser("doctor", help="check the display, input, scale and installed extras")
    doctor.add_argument("--virtual-display", metavar="WxH", help="check inside a private Xvfb")
    doctor.set_defaults(func=cmd_doctor)
    return parser


def _run_options(p: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """The options `run` and `replay` share."""
    p.add_argument("--dry-run", action="store_true", help="decide and log, but execute nothing")
    p.add_argument("--timeout", type=_positive_float, default=15.0, metavar="S", help=timeout_help)
    p.add_argument("--max-steps", type=_positive_int, default=50, metavar="N")
    p.add_argument(
        "--max-seconds",
        type=_positive_float,
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
        type=_positive_float,
        default=3.0,
        metavar="S",
        help="longest wait for the screen to stop changing (default 3)",
    )
    p.add_argument(
        "--report", action="store_true", help="write report.html into the run directory at the end"
    )
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
        print(f"screenagent: {exc}", file=sys.stderr)
        return 2


# --- run --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _virtual_display(size: str | None) -> Iterator[Any]:
    if not size:
        yield None
        return
    from .display import VirtualDisplay, parse_size

    try:
        width, height, depth = parse_size(size)
    except ValueError as exc:
        raise ConfigError(f"--virtual-display: {exc}") from None
    with VirtualDisplay(width, height, depth) as vd:
        yield vd


@contextlib.contextmanager
def launched(command: str | None, *, screen: Any, timeout: float = 20.0) -> Iterator[Any]:
    """Start ``command`` (no shell), wait until its window has drawn, end it afterwards."""
    if not command:
        yield None
        return
    from .screen import SettleConfig, changed_fraction, wait_until_settled

    argv = shlex.split(command)
    if not argv or (shutil.which(argv[0]) is None and not Path(argv[0]).exists()):
        raise ConfigError(f"--launch: cannot find the program {argv[0] if argv else command!r}.")
    before = screen.capture()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while changed_fraction(before.image, screen.capture().image) <= 0.001:
            if proc.poll() is not None:
                raise ConfigError(
                    f"--launch: {command!r} exited with code {proc.returncode} before showing a window."
                )
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"--launch: {command!r} showed nothing on the screen within {timeout:g} s."
                )
            time.sleep(0.05)
        wait_until_settled(screen, config=SettleConfig(quiet_seconds=0.3, cap_seconds=5.0))
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def cmd_run(args: argparse.Namespace) -> int:
    from .policies import Policy, ScriptedPolicy, load_script

    _verbose(args)
    scripted: ScriptedPolicy | None = None
    vlm: Policy | None = None
    if args.script is not None and args.model:
        raise ConfigError("Give --script or --model, not both.")
    if args.script is not None:
        scripted = ScriptedPolicy(load_script(args.script), source=f"script {args.script}")
    elif args.model:
        vlm = _vlm_policy(args)
    else:
        from .policies.steps import parse_task

        parse_task(args.task)  # unparseable steps stop here, before any display is touched
        _require_ocr()

    def make_policy(screen: Any) -> Policy:
        if scripted is not None:
            return scripted
        if vlm is not None:
            return vlm
        from .policies.steps import StepFollower

        return StepFollower(args.task, screen=screen, timeout=args.timeout)

    settings = {
        "script": str(args.script) if args.script else None, "timeout": args.timeout,
        "model": args.model, "family": getattr(vlm, "name", None),
    }  # fmt: skip
    return _execute(args, task=args.task, make_policy=make_policy, settings=settings)


def _vlm_policy(args: argparse.Namespace) -> Any:
    from .dialects import get_dialect
    from .policies.vlm import VLMPolicy, detect_family

    kind, _, name = args.model.partition(":")
    if kind != "hf" or not name:
        raise ConfigError(
            f"--model {args.model!r}: give hf:<local folder or hub id> (OpenAI-compatible servers are not "
            "wired into this build yet)."
        )
    family = args.family or detect_family(name)
    if family is None:
        raise ConfigError(
            f"Cannot tell the family of {name!r} from its name: give --family (e.g. ui-tars-1.5)."
        )
    dialect = get_dialect(family)
    from .backends import TransformersBackend

    backend = TransformersBackend(
        name, device=args.device, dtype=args.dtype, max_pixels=args.max_pixels
    )
    return VLMPolicy(backend, dialect)


def cmd_replay(args: argparse.Namespace) -> int:
    from .policies.recorded import RecordedRunPolicy
    from .steplog import load_run

    _verbose(args)
    recorded = load_run(args.run)
    if args.reground and any(
        isinstance(s.attempts[-1].meta.get("target") if s.attempts else None, str)
        for s in recorded.steps
    ):
        _require_ocr()
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
    args: argparse.Namespace, *, task: str, make_policy: Any, settings: dict[str, Any]
) -> int:
    """Everything `run` and `replay` share: display, executor, screen, launch, log, loop,
    progress, report. ``make_policy(screen)`` builds the policy once the screen exists."""
    from .agent import LoopSettings, run
    from .console import Progress
    from .executor import DryRunExecutor, Executor
    from .policy import Limits, Safety, TerminalConfirm
    from .screen import MssScreen, SettleConfig
    from .steplog import StepLog

    region = _region(args.region)
    if args.retries < 0:
        raise ConfigError("--retries must be 0 or more.")
    if args.run_dir is not None and args.run_dir.exists() and any(args.run_dir.iterdir()):
        raise ConfigError(
            f"--run-dir {args.run_dir} exists and is not empty; give a new directory."
        )
    progress = Progress("quiet" if args.quiet else "jsonl" if args.jsonl else "rich")
    log: StepLog | None = None
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with _virtual_display(args.virtual_display) as vd:
            display = vd.display if vd is not None else os.environ.get("DISPLAY")
            executor: Executor
            if args.dry_run:
                executor, screen_size = DryRunExecutor(), None
            else:
                from .pyautogui_executor import PyAutoGUIExecutor

                pg_executor = PyAutoGUIExecutor(display=display)
                screen_size = pg_executor.screen_size()
                executor = pg_executor
            with (
                MssScreen(
                    monitor=args.monitor, region=region, display=display, screen_size=screen_size
                ) as screen,
                launched(args.launch, screen=screen),
            ):
                policy = make_policy(screen)
                # Fail here, before a log exists, if the display is unusable or the policy
                # can tell that its actions cannot work: nothing has executed yet.
                policy.preflight(screen.capture())
                log = StepLog.create(
                    task=task, policy=policy.name, executor=executor.name,
                    run_dir=args.run_dir, runs_root=args.runs_root,
                    settings={
                        **settings, "dry_run": args.dry_run, "max_steps": args.max_steps,
                        "max_seconds": args.max_seconds, "retries": args.retries, "monitor": args.monitor,
                        "region": args.region, "virtual_display": args.virtual_display, "display": display,
                        "launch": args.launch, "confirm": args.confirm,
                    },
                )  # fmt: skip
                progress.started(log.path)
                safety = Safety.build(
                    limits=Limits(
                        max_steps=args.max_steps,
                        max_seconds=args.max_seconds,
                        max_retries=args.retries,
                    ),
                    confirm=TerminalConfirm() if args.confirm else None,
                )
                result = run(
                    task, screen=screen, policy=policy, executor=executor, log=log, safety=safety,
                    settings=LoopSettings(settle=SettleConfig(cap_seconds=args.settle_cap)),
                    on_step=progress.step,
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


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(args.run)
    print(path)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from .steplog import load_run

    if args.runs_command == "show":
        from .console import step_summary

        loaded = load_run(args.run)
        m = loaded.meta
        print(f"task:     {m.task}")
        print(f"policy:   {m.policy} · executor {m.executor}")
        print(f"started:  {m.started_at}" + (f" · ended {m.ended_at}" if m.ended_at else ""))
        print(
            f"result:   {m.result.status} after {len(loaded.steps)} steps"
            + (f" · answer: {m.result.answer}" if m.result.answer else "")
        )
        if m.result.message and not m.result.success:
            print(f"message:  {m.result.message}")
        for step in loaded.steps:
            where = " ".join(f"@({x},{y})" for x, y in step.screen_points)
            print(f"  {step.index:>3}  {step_summary(step):<56} {step.status} {where}".rstrip())
        if loaded.damaged_lines:
            print(f"  (lines {loaded.damaged_lines} of steps.jsonl could not be read)")
        if (loaded.path / "report.html").exists():
            print(f"report:   {loaded.path / 'report.html'}")
        return 0
    root = args.runs_root
    rows = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if not (path / "run.json").exists():
            continue
        try:
            loaded = load_run(path)
        except UserError:
            rows.append((path.name, "?", "damaged", "", ""))
            continue
        m = loaded.meta
        rows.append((path.name, m.started_at[:19].replace("T", " "), m.result.status, str(len(loaded.steps)),
                     m.task.replace("\n", " · ")[:60]))  # fmt: skip
    if not rows:
        print(f"no runs in {root}")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("run", "started (UTC)", "result", "steps", "task"):
        table.add_column(col, no_wrap=col != "task")
    for row in rows:
        table.add_row(*row)
    Console(highlight=False, width=200 if not sys.stdout.isatty() else None).print(table)
    return 0


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _region(text: str | None) -> Any:
    from .geometry import Rect

    if not text:
        return None
    try:
        return Rect.parse(text)
    except ValueError as exc:
        raise ConfigError(f"--region: {exc}") from None


def _require_ocr() -> None:
    from .errors import MissingDependency

    if importlib.util.find_spec("rapidocr") is None:
        raise MissingDependency(
            "RapidOCR (the offline OCR engine the step-follower grounds targets with)",
            "Install it with `pip install 'screenagent[ocr]'`, or give --script FILE.",
        )


def cmd_ground(args: argparse.Namespace) -> int:
    from PIL import Image, UnidentifiedImageError

    from .grounding import Grounder, parse_target
    from .screen import MssScreen

    target = parse_target(args.target)
    if target.kind != "image":
        _require_ocr()
    grounder = Grounder()
    if args.image is not None:
        try:
            with Image.open(args.image) as im:
                image = im.convert("RGB")
        except (OSError, UnidentifiedImageError) as exc:
            raise ConfigError(f"Cannot read the image {args.image}: {exc}.") from None
        return _print_grounding(grounder, target, image, args.json)
    region = _region(args.region)
    with _virtual_display(args.virtual_display) as vd:
        display = vd.display if vd is not None else os.environ.get("DISPLAY")
        with (
            MssScreen(monitor=args.monitor, region=region, display=display) as screen,
            launched(args.launch, screen=screen),
        ):
            return _print_grounding(grounder, target, screen.capture().image, args.json)
    raise AssertionError("unreachable")  # pragma: no cover


def _print_grounding(grounder: Any, target: Any, image: Any, as_json: bool) -> int:
    from .grounding import GroundingError

    try:
        found = grounder.locate(target, image)
    except GroundingError as exc:
        if as_json:
            print(
                json.dumps(
                    {
                        "error": str(exc),
                        "target": str(target),
                        "candidates": [
                            {"text": c.text, "box": c.box.as_list(), "score": round(c.score, 4)}
                            for c in exc.candidates[:10]
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        print(f"screenagent: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        print(
            f"{found.x} {found.y}  {found.text!r} box {found.box.as_list()} score {found.score:.2f} ({found.grounded_by})"
        )
    return 0


# --- schema, doctor ---------------------------------------------------------------------------


def _size(text: str, option: str) -> tuple[int, int]:
    from .display import parse_size

    try:
        w, h, _ = parse_size(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    return w, h


def cmd_parse(args: argparse.Namespace) -> int:
    import dataclasses

    from .actions import action_to_json
    from .dialects import get_dialect, to_actions
    from .policies.base import InvalidOutput

    dialect = get_dialect(args.family)
    width, height = _size(args.image_size, "--image-size")
    if args.model_input_size:
        model_size = _size(args.model_input_size, "--model-input-size")
    else:
        resize = dialect.resize
        if resize is not None and (args.min_pixels or args.max_pixels):
            resize = dataclasses.replace(
                resize,
                min_pixels=args.min_pixels or resize.min_pixels,
                max_pixels=args.max_pixels or resize.max_pixels,
            )
        model_size = dialect.model_input_size(width, height, resize)
    raw = sys.stdin.read()
    try:
        answer = dialect.parse(raw, model_size)
        actions = to_actions(answer, image_width=width, image_height=height)
    except InvalidOutput as exc:
        print(f"screenagent: no valid action in the {dialect.id} answer: {exc}", file=sys.stderr)
        return 1
    print(json.dumps([action_to_json(a, redact_secret=False) for a in actions], ensure_ascii=False))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .actions import action_json_schema

    print(json.dumps(action_json_schema(), indent=2))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    with _virtual_display(args.virtual_display) as vd:
        return _doctor(vd.display if vd is not None else os.environ.get("DISPLAY"))


def _doctor(display: str | None) -> int:
    from .errors import UserError as _UserError
    from .screen import MssScreen

    problems = 0

    def report(ok: bool | None, what: str, detail: str) -> None:
        nonlocal problems
        mark = {True: "ok  ", False: "FAIL", None: "info"}[ok]
        if ok is False:
            problems += 1
        print(f"[{mark}] {what}: {detail}")

    import platform

    report(
        None, "screenagent", f"{__version__} on Python {platform.python_version()} ({sys.platform})"
    )
    if sys.platform.startswith("linux"):
        report(None, "DISPLAY", display or "not set")
        if os.environ.get("WAYLAND_DISPLAY"):
            report(
                None,
                "Wayland",
                "a Wayland session: only XWayland windows can be captured and driven",
            )
    xvfb = shutil.which("Xvfb")
    report(
        None if sys.platform != "linux" else bool(xvfb),
        "Xvfb",
        xvfb or "not found (apt-get install xvfb) - needed for --virtual-display",
    )
    xclip = shutil.which("xclip")
    report(
        None,
        "xclip",
        xclip or "not found: pasting still works; a previous clipboard is not restored",
    )
    mss_size = None
    try:
        with MssScreen(display=display) as screen:
            frame = screen.capture()
            mons = screen.monitors()
            mss_size = (mons[0].width, mons[0].height)
            report(
                True, "capture (mss)", f"{frame.width}x{frame.height} from monitor {screen.monitor}"
            )
            for i, m in enumerate(mons):
                report(None, f"monitor {i}", f"{m}{' (whole desktop)' if i == 0 else ''}")
    except _UserError as exc:
        report(False, "capture (mss)", str(exc))
    try:
        from .pyautogui_executor import PyAutoGUIExecutor

        size = PyAutoGUIExecutor(display=display).screen_size()
        report(True, "input (pyautogui)", f"desktop {size[0]}x{size[1]}")
        if mss_size:
            factor = mss_size[0] / size[0]
            report(
                None,
                "scale",
                f"{factor:g} capture pixels per input point"
                + (" (HiDPI: screenagent maps coordinates for you)" if factor != 1 else ""),
            )
    except _UserError as exc:
        report(False, "input (pyautogui)", str(exc))
    extras = {
        "transformers": ("torch", "transformers"),
        "ocr": ("rapidocr", "onnxruntime"),
        "serving": ("fastapi", "uvicorn", "openai"),
    }
    for extra, modules in extras.items():
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        report(
            None,
            f"extra [{extra}]",
            "installed"
            if not missing
            else f"not installed (missing {', '.join(missing)}): pip install 'screenagent[{extra}]'",
        )
    return 0 if problems == 0 else 1
