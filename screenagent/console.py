"""What `run` and `replay` print while they work.

Three modes: ``rich`` (a line per step on stderr, coloured on a terminal, then a result line;
the run directory alone on stdout, last), ``quiet`` (only the run directory on stdout) and
``jsonl`` (one JSON object per step on stdout, then one with the result).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Literal, TextIO

from .steplog import RunResult, StepRecord

Mode = Literal["rich", "quiet", "jsonl"]

_STYLE = {
    "executed": "green", "dry_run": "cyan", "done": "bold green", "skipped": "yellow",
    "invalid": "bold red", "failed": "bold red", "error": "bold red",
}  # fmt: skip


def step_summary(record: StepRecord) -> str:
    """``type "Ada" into Name: click (133, 106)`` - the instruction, then the action."""
    action = record.action or {}
    what = str(action.get("action", "-"))
    if action:
        from .actions import describe, parse_action

        with contextlib.suppress(Exception):
            what = describe(parse_action(action))
    if record.thought:
        what = (
            record.thought
            if action.get("action") in ("wait", "done")
            else f"{record.thought}: {what}"
        )
    return what


class Progress:
    def __init__(
        self, mode: Mode = "rich", *, err: TextIO | None = None, out: TextIO | None = None
    ) -> None:
        from rich.console import Console

        self.mode = mode
        self.out = out or sys.stdout
        self.console = Console(file=err or sys.stderr, highlight=False, soft_wrap=True)

    def started(self, run_dir: Path) -> None:
        if self.mode == "rich":
            self.console.print(f"run directory: {run_dir}", markup=False)

    def step(self, record: StepRecord) -> None:
        if self.mode == "jsonl":
            self.out.write(
                json.dumps({"type": "step", **record.model_dump(mode="json")}, ensure_ascii=False)
                + "\n"
            )
            self.out.flush()
            return
        if self.mode != "rich":
            return
        from rich.text import Text

        where = " ".join(f"@({x},{y})" for x, y in record.screen_points)
        t = record.timings
        timing = f"decide {t.decide * 1000:.0f} ms" if t.decide >= 0.05 else ""
        if record.settle:
            timing += f"{' · ' if timing else ''}settle {record.settle.seconds * 1000:.0f} ms"
        line = Text(f"step {record.index:>3}  ")
        line.append(f"{step_summary(record):<56} ")
        line.append(record.status, style=_STYLE.get(record.status, ""))
        verified = record.step.verified if record.step is not None else None
        if verified and record.status in ("checked", "failed", "error", "done"):
            line.append(f" [{verified}]", style="green" if verified == "confirmed" else "yellow")
        if where:
            line.append(f" {where}", style="dim")
        if timing:
            line.append(f"  {timing}", style="dim")
        for e in record.errors:
            line.append(f"  ! {e}", style="red")
        for w in record.warnings:
            line.append(f"  (warning: {w})", style="yellow")
        self.console.print(line)

    def finished(self, result: RunResult, run_dir: Path, report: Path | None = None) -> None:
        if self.mode == "jsonl":
            data = {"type": "result", **result.model_dump(mode="json"), "run_dir": str(run_dir)}
            if report is not None:
                data["report"] = str(report)
            self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
            self.out.flush()
            return
        if self.mode == "rich":
            from rich.text import Text

            summary = Text("result: ")
            summary.append(result.status, style="bold green" if result.success else "bold red")
            summary.append(f" after {result.steps} step{'s' * (result.steps != 1)}")
            if result.answer:
                summary.append(f"; answer: {result.answer}")
            if result.message and not result.success and result.message != result.answer:
                summary.append(f" ({result.message})")
            self.console.print(summary)
            if report is not None:
                self.console.print(f"report: {report}", markup=False)
        self.out.write(f"{run_dir}\n")
        self.out.flush()

    def stopped(self, message: str, run_dir: Path | None) -> None:
        """The run ended on an interrupt or an unexpected error (the log is closed)."""
        if self.mode != "jsonl":
            self.console.print(f"screenagent: {message}", markup=False)
        if run_dir is not None:
            if self.mode == "jsonl":
                self.out.write(
                    json.dumps({"type": "stopped", "message": message, "run_dir": str(run_dir)})
                    + "\n"
                )
            else:
                self.out.write(f"{run_dir}\n")
            self.out.flush()
