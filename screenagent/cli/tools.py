"""The `screenagent` commands that inspect rather than run: ground, parse, schema, doctor,
report and runs."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
from typing import Any

from .. import __version__
from ..errors import ConfigError, DisplayError, UserError
from .support import region_option, require_ocr, size_option, virtual_display


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    path = write_report(args.run)
    print(path)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from ..steplog import load_run

    if args.runs_command == "show":
        from ..console import step_summary

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


def load_image(path: Any) -> Any:
    """An --image option's file as RGB, or a ConfigError that says why it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError(f"Cannot read the image {path}: {exc}.") from None


def cmd_read_errors(args: argparse.Namespace) -> int:
    """Exit 0: no error on the screen; 3: errors found; 1: the model gave no usable answer;
    2: usage, display or installation problems."""
    import time

    from ..errors import InvalidOutput
    from ..findings import ErrorReader, read_screen

    require_ocr()
    reader: Any = ErrorReader()
    if args.model:
        from ..ocr import CachedOcr, RapidOcrEngine
        from .models import load_for_cli

        if args.retries < 0:
            raise ConfigError("--retries must be 0 or more.")
        model = load_for_cli(args.model, args, family_required=False)
        reader = model.error_reader(ocr=CachedOcr(RapidOcrEngine()), retries=args.retries)
    t = time.perf_counter()
    try:
        if args.image is not None:
            image = load_image(args.image)
            findings = reader.read(image)
            where = str(args.image)
        else:
            try:
                frame, findings = read_screen(monitor=args.monitor, reader=reader)
            except DisplayError as exc:
                raise DisplayError(f"{exc} (Or read a screenshot: --image PNG.)") from None
            image = frame.image
            where = "the screen" + (f" (monitor {args.monitor})" if args.monitor else "")
    except InvalidOutput as exc:
        print(f"screenagent: {exc}\nraw answer: {exc.raw!r}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t
    for n, attempt in enumerate(getattr(reader, "attempts", [])[:-1], 1):
        print(f"screenagent: the model's answer {n} was unusable ({'; '.join(attempt.errors)}); asked again",
              file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps([f.model_dump() for f in findings], ensure_ascii=False, indent=2))
    elif not findings:
        print(f"No errors on {where} ({image.width}x{image.height}, read in {seconds:.1f} s).")
    else:
        n = len(findings)
        print(
            f"{n} finding{'s' * (n != 1)} on {where} ({image.width}x{image.height}, read in {seconds:.1f} s):"
        )
        for f in findings:
            print(f.describe())
    return 3 if findings else 0


def cmd_ground(args: argparse.Namespace) -> int:
    from ..grounding import Grounder, parse_target

    grounder: Any
    if args.model:
        from .models import model_grounder

        target: Any = args.target  # a description in words, for the model
        grounder = model_grounder(args.model, args)
    else:
        target = parse_target(args.target)
        if target.kind != "image":
            require_ocr()
        grounder = Grounder()
    if args.image is not None:
        return _print_grounding(grounder, target, load_image(args.image), args.json)
    from ..session import Session

    with Session(virtual_display=args.virtual_display, desktop=args.desktop, launch=args.launch,
                 monitor=args.monitor, region=region_option(args.region), dry_run=True,
                 tree=not args.no_tree) as s:  # fmt: skip
        if not args.model:
            grounder = s.grounder  # the accessibility tree first, then OCR
        return _print_grounding(grounder, target, s.capture().image, args.json)


def cmd_tree(args: argparse.Namespace) -> int:
    """Print the accessibility tree of the screen: one line per interactive node."""
    from ..a11y import A11yUnavailable
    from ..session import Session

    with Session(virtual_display=args.virtual_display, desktop=args.desktop, launch=args.launch,
                 dry_run=True) as s:  # fmt: skip
        try:
            snap = s.tree()
        except A11yUnavailable as exc:
            if args.json:
                print(json.dumps({"error": str(exc)}, ensure_ascii=False))
            print(f"screenagent: no accessibility tree: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(snap.to_json(app=args.app), ensure_ascii=False))
    else:
        print(snap.render(everything=args.all, app=args.app)
              or "(no showing nodes" + (f" of {args.app!r}" if args.app else "") + ")")  # fmt: skip
        print(f"# {len(snap)} showing nodes of {len(snap.apps)} applications read in "
              f"{snap.seconds * 1000:.0f} ms" + (f"; cut: {snap.cut}" if snap.cut else ""),
              file=sys.stderr)  # fmt: skip
        for warning in snap.warnings:
            print(f"screenagent: {warning}", file=sys.stderr)
    return 0


def _print_grounding(grounder: Any, target: Any, image: Any, as_json: bool) -> int:
    from ..errors import InvalidOutput
    from ..grounding import GroundingError

    try:
        found = grounder.locate(target, image)
    except InvalidOutput as exc:
        if as_json:
            print(
                json.dumps(
                    {"error": str(exc), "target": str(target), "raw": exc.raw}, ensure_ascii=False
                )
            )
        print(f"screenagent: the model's answer names no usable point: {exc}\nraw answer: {exc.raw!r}",
              file=sys.stderr)  # fmt: skip
        return 1
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
        if found.zoom is not None:
            z = found.zoom
            print(f"zoom x{z.magnification:.2f}: first answer {z.first[0]} {z.first[1]}, asked again on "
                  f"{z.window.as_list()}" + (f" -> {z.second[0]} {z.second[1]}" if z.second else f"; {z.note}"))  # fmt: skip
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from ..actions import action_to_json
    from ..dialects import get_dialect, to_actions
    from ..errors import InvalidOutput

    dialect = get_dialect(args.family)
    width, height = size_option(args.image_size, "--image-size")
    if args.model_input_size:
        model_size = size_option(args.model_input_size, "--model-input-size")
    else:
        prep = dialect.image_prep(args.min_pixels, args.max_pixels)
        model_size = dialect.model_input_size(width, height, prep)
    raw = sys.stdin.read()
    try:
        answer = dialect.parse(raw, model_size)
        actions = to_actions(answer, image_width=width, image_height=height)
    except InvalidOutput as exc:
        print(f"screenagent: no valid action in the {dialect.id} answer: {exc}", file=sys.stderr)
        return 1
    for note in answer.notes:
        print(f"screenagent: note: {note}", file=sys.stderr)
    print(json.dumps([action_to_json(a, redact_secret=False) for a in actions], ensure_ascii=False))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ..actions import action_json_schema

    print(json.dumps(action_json_schema(), indent=2))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    with virtual_display(args.virtual_display, args.desktop) as vd:
        code = _doctor(vd.display if vd is not None else os.environ.get("DISPLAY"))
        return _doctor_desktop(vd, args.desktop) or code


def _doctor_desktop(vd: Any, kind: str) -> int:
    """The desktop's parts: programs found, and with --virtual-display, what started."""
    from ..desktop import PROGRAMS, find_programs
    from ..errors import MissingDependency
    from ..windows import active_window

    try:
        found = find_programs()
    except MissingDependency as exc:
        print(f"[{'FAIL' if vd is not None and kind == 'full' else 'info'}] desktop programs: {exc}")
        return 1 if vd is not None and kind == "full" else 0
    for name, path in found.items():
        print(f"[ok  ] {name}: {path} (Debian package {PROGRAMS[name][1]})")
    desktop = getattr(vd, "desktop", None)
    if desktop is not None:
        for part, seconds in desktop.seconds.items():
            print(f"[ok  ] {part}: started in {seconds * 1000:.0f} ms")
        print(f"[ok  ] session bus: {desktop.env['DBUS_SESSION_BUS_ADDRESS']}")
        print(f"[info] focused window: {active_window(vd.display) or 'none yet'}")
        _doctor_tree(desktop.env["DBUS_SESSION_BUS_ADDRESS"])
    elif vd is not None:
        print("[info] desktop: bare (Xvfb alone: no window manager, no buses)")
    return 0


def _doctor_tree(session_bus: str) -> None:
    """Whether the accessibility tree can be read on this desktop, and how fast."""
    from ..a11y import AtspiBus, read_snapshot
    from ..errors import UserError as _UserError

    bus = AtspiBus(session_bus)
    try:
        snap = read_snapshot(bus.connect())
    except _UserError as exc:
        print(f"[FAIL] accessibility tree: {exc}")
        return
    finally:
        bus.close()
    print(f"[ok  ] accessibility tree: {len(snap.apps)} applications, {len(snap)} showing nodes "
          f"read in {snap.seconds * 1000:.0f} ms (bus {bus.address})")  # fmt: skip


def _doctor(display: str | None) -> int:
    from ..errors import UserError as _UserError
    from ..screen import MssScreen

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
        from ..pyautogui_executor import PyAutoGUIExecutor

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
        "a11y": ("jeepney",),
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
