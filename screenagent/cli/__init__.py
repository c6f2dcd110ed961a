"""The `screenagent` command.

Exit codes: 0 the run ended with ``done`` and success; 1 it did not (failure, budget reached,
interrupted, an action failed); 2 a usage or configuration error (printed as one paragraph,
no traceback). Environment variables are read here, at the edge, and nowhere else.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import UserError
from .models import add_model_options
from .run import cmd_replay, cmd_run, run_options
from .skills import add_skill_options, add_skills_command
from .support import add_desktop_option, positive_int
from .tools import (
    cmd_doctor,
    cmd_ground,
    cmd_parse,
    cmd_read_errors,
    cmd_report,
    cmd_runs,
    cmd_schema,
    cmd_tree,
)


def _family_ids() -> list[str]:
    from ..dialects import FAMILIES

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
    run_options(run, timeout_help="how long each step waits for its target to appear (default 15)")
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
    run_options(replay, timeout_help="how long each action waits for its target (default 15)")
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
    add_desktop_option(ground)
    ground.add_argument(
        "--launch", metavar="CMD", help="start this program first (with --virtual-display)"
    )
    ground.add_argument("--no-tree", action="store_true",
                        help="do not ask the accessibility tree (OCR and image matching only)")  # fmt: skip
    ground.set_defaults(func=cmd_ground)

    tree = sub.add_parser(
        "tree",
        help="print the accessibility tree of the screen (roles, names, states, values, boxes)",
        description="Print the showing part of the desktop's accessibility tree (AT-SPI): one "
        "line per interactive node, window and label, indented by depth: [index] role 'name' "
        "(states) = value @ x,y wxh (screen coordinates). Targets such as button:Save or "
        "field:'Full name' name these nodes. Apps that expose no tree (Tk, remote screens) "
        "show nothing here; OCR grounds them.",
    )
    tree.add_argument("--json", action="store_true", help="print every node as JSON")
    tree.add_argument("--all", action="store_true", help="every showing node, not just the useful ones")
    tree.add_argument("--app", metavar="NAME", help="only this application's nodes")
    tree.add_argument("--virtual-display", metavar="WxH")
    add_desktop_option(tree)
    tree.add_argument("--launch", metavar="CMD", help="start this program first (with --virtual-display)")
    tree.set_defaults(func=cmd_tree)

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
    add_model_options(read_errors, composed=False, pointing=False)
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
    add_desktop_option(doctor)
    doctor.set_defaults(func=cmd_doctor)

    from .batch import add_batch_command
    from .mcp import add_mcp_command
    from .record import add_record_command
    from .test import add_merge_command, add_test_command

    add_test_command(sub)
    add_merge_command(sub)
    add_batch_command(sub)
    add_record_command(sub)
    add_mcp_command(sub)
    return parser


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
