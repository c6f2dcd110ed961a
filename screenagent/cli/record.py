"""`screenagent record OUT`: a person shows a workflow once; screenagent writes the steps."""

from __future__ import annotations

import argparse
import contextlib
import queue
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import UserError
from .support import add_desktop_option, positive_float


def add_record_command(sub: Any) -> None:
    p = sub.add_parser(
        "record",
        help="record a person's mouse and keyboard and write readable steps (a YAML test or task text)",
        description="Record what a person does on the screen until Ctrl-C (or --seconds) and write "
        "it as steps that name targets in words: OUT.yaml is a test for `screenagent test`, OUT.txt "
        "task text for `screenagent run`. Press ctrl+alt+e over a text to add an expect_visible for "
        "it. Input is read with the X RECORD extension; on --virtual-display, drive the desktop "
        "with xdotool or a VNC viewer.",
    )
    p.add_argument("out", type=Path, metavar="OUT.yaml|OUT.txt")
    p.add_argument("--seconds", type=positive_float, metavar="S", help="stop after S seconds (default: Ctrl-C)")
    p.add_argument("--app", metavar="CMD", help="written into the YAML file's app: section (and started, with --virtual-display)")
    p.add_argument("--ready", metavar="TARGET", help="the app is ready when this is visible (written with --app)")
    p.add_argument("--virtual-display", metavar="WxH", help="record on a desktop session of its own")
    p.add_argument("--launch", metavar="CMD", help="start this program first (default: --app)")
    p.add_argument("--name", default="Recorded workflow", help="the test file's name")
    p.add_argument("--no-tree", action="store_true", help="name targets with OCR only")
    p.add_argument("--vnc", action="store_true",
                   help="with --virtual-display: serve the desktop over VNC on 127.0.0.1 with a one-time "
                        "password (printed), so a person can watch and drive it (x11vnc)")  # fmt: skip
    p.add_argument("--verify", action="store_true",
                   help="replay the written test once on a fresh desktop and say which steps did not find "
                        "their targets (a .yaml with --app)")  # fmt: skip
    add_desktop_option(p)
    p.set_defaults(func=cmd_record)


def _stop_on(signals: tuple[int, ...]) -> dict[str, bool]:
    flag = {"stop": False}

    def handler(signum: int, frame: Any) -> None:
        flag["stop"] = True

    for s in signals:
        signal.signal(s, handler)
    return flag


def cmd_record(args: argparse.Namespace) -> int:
    from ..record.capture import FrameBuffer, InputRecorder
    from ..record.recorder import Recording
    from ..record.words import Describer
    from ..record.writer import app_words, to_text, to_yaml, write_atomic
    from ..session import Session
    from ..xconn import open_display

    out: Path = args.out
    if out.suffix not in (".yaml", ".yml", ".txt"):
        raise UserError(f"{out}: name the output .yaml (a test file) or .txt (task text for run).")
    if args.vnc and not args.virtual_display:
        raise UserError("--vnc serves the recorder's own desktop: give --virtual-display WxH too.")
    if args.verify and (out.suffix == ".txt" or not args.app):
        raise UserError("--verify replays a test file on a fresh desktop: write a .yaml and give --app.")
    out.parent.mkdir(parents=True, exist_ok=True)
    app = app_words(args.app, relative_to=out.parent)
    launch = args.launch or (args.app if args.virtual_display else None)
    with Session(virtual_display=args.virtual_display, desktop=args.desktop, launch=launch, ready=args.ready,
                 cwd=Path.cwd(), dry_run=True, failsafe=False, tree=not args.no_tree) as s:  # fmt: skip
        display = s.display or ""
        describer = Describer(s.grounder, None if args.no_tree else s.tree_reader,
                              crops=out.parent / f"{out.stem}-images")  # fmt: skip
        xdisplay = open_display(display)
        frames = FrameBuffer(display)
        from ..windows import list_windows

        recording = Recording(describer, lambda: s.capture().image, xdisplay, before=frames.before,
                              windows=lambda: {w.id: w.title for w in list_windows(display)})  # fmt: skip
        first = s.capture().image

        def save(final: bool = False) -> None:
            steps = recording.finish() if final else recording.steps
            proposals = _changes(describer, first if not steps else (steps[-1].frame or first), s.capture().image,
                                 steps) if final else []  # fmt: skip
            if out.suffix == ".txt":
                text = to_text(steps, proposals)
            else:
                text = to_yaml(steps, name=args.name, app=app, ready=args.ready, proposals=proposals,
                               secrets=recording.secrets,
                               header=[f"recorded by `screenagent record` on display {display}"])  # fmt: skip
            write_atomic(out, text)

        stop = _stop_on((signal.SIGINT, signal.SIGTERM))
        deadline = time.monotonic() + args.seconds if args.seconds else None
        with contextlib.ExitStack() as stack:
            if args.vnc:
                from ..record.vnc import VncServer

                vnc = stack.enter_context(VncServer(display, s.child_env()))
                print(f"VNC: connect a viewer to 127.0.0.1:{vnc.port} with the password {vnc.password} "
                      "(for this recording only; it ends with it)", file=sys.stderr, flush=True)  # fmt: skip
            stack.enter_context(frames)
            inp = stack.enter_context(InputRecorder(display))
            auth = s.child_env().get("XAUTHORITY") if args.virtual_display else None
            print(f"recording on display {display}" + (f" (XAUTHORITY={auth})" if auth else "")
                  + f": ctrl+alt+e adds a check for the text under the pointer; Ctrl-C ends (writing {out})",
                  file=sys.stderr, flush=True)  # fmt: skip
            save()
            while not stop["stop"] and (deadline is None or time.monotonic() < deadline):
                if inp.error is not None:
                    raise UserError(f"recording stopped: {inp.error}")
                try:
                    ev = inp.events.get(timeout=0.1)
                except queue.Empty:
                    continue
                count = len(recording.steps)
                recording.feed(ev)
                if len(recording.steps) != count:
                    save()
        time.sleep(0.3)  # the last action's effect reaches the screen
        save(final=True)
        xdisplay.close()
    steps = recording.steps
    print(f"{len(steps)} steps written to {out}", file=sys.stderr)
    return verify(out) if args.verify else 0


def verify(path: Path) -> int:
    """Replay the written test once on a fresh desktop; name the steps that failed, so the
    person fixes their words now. Its report stays beside the file."""
    from ..report import write_session_report
    from ..testing.runner import RunOptions, run_tests
    from ..testing.spec import load_test_file

    report = path.parent / f"{path.stem}-verify"
    (result,) = run_tests([load_test_file(path)], RunOptions(report_dir=report.resolve()))
    write_session_report([result], report)
    rows = result.attempts[-1].steps
    if result.status == "passed":
        print(f"verify: the recording replays on a fresh desktop: all {len(rows)} steps passed", file=sys.stderr)
        return 0
    for row in rows:
        if row.get("status") not in ("passed", "skipped"):
            print(f"verify: step {row.get('index')} {row.get('label')} (line {row.get('line')}): "
                  f"{row.get('error') or row.get('status')}", file=sys.stderr)  # fmt: skip
    print(f"verify: {result.message}; report: {report / 'index.html'}", file=sys.stderr)
    return 1


def _changes(describer: Any, before: Any, after: Any, steps: list[Any]) -> list[str]:
    """Text on the final screen that was not there before the last action (checks to offer)."""
    try:
        old = {ln.text for ln in describer.grounder.read(before)}
        new = [ln.text.strip() for ln in describer.grounder.read(after)]
    except Exception:
        return []
    from ..grounding import similarity

    named = {s.value for s in steps}
    fresh = [t for t in dict.fromkeys(new) if len(t) > 2 and t not in named
             and all(similarity(t, o) < 0.8 for o in old)]  # an OCR variant of old text is not new
    return fresh[:5]
