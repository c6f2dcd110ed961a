"""One HTML report for runs and for test sessions, rendered from Jinja2 templates.

``write_report(run_dir)`` writes ``report.html`` for any run directory (`run`, `replay`, a
test attempt, a `Session` log) and, beside it in ``report/``, the pictures: per record, the
frame it acted on with the action drawn on it, cropped to what is on the screen (a click opens
the whole frame), a film-strip thumbnail, and the screen after the step settled.
``write_session_report(results, out)`` writes a test session's ``index.html``: the tests with
pass/fail/flaky/error filters, each attempt's message and its steps rendered by the same
template macros from the attempt's run directory. Everything is local and relative; text comes
from the step log (secrets already masked) and is escaped by the templates.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .views import RunView, run_view

__all__ = ["RunView", "run_view", "write_report", "write_session_report"]


def _env() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("screenagent.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    env.filters["ms"] = lambda s: f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"
    return env


def write_report(run_dir: str | Path) -> Path:
    """Write ``report.html`` (and its pictures) for a run directory; returns the HTML's path."""
    run_dir = Path(run_dir)
    view = run_view(run_dir)
    page = _env().get_template("run.html.j2").render(run=view, prefix="")
    out = run_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def write_session_report(results: Sequence[Any], out: str | Path) -> Path:
    """Write a test session's ``index.html`` over its tests' attempts (run directories)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tests = []
    for r in results:
        attempts = []
        for a in r.attempts:
            run_dir = Path(a.artifacts)
            view = run_view(run_dir) if (run_dir / "run.json").exists() else None
            if view is not None:
                write_report(run_dir)
            prefix = os.path.relpath(run_dir, out) + "/"
            attempts.append({"status": a.status, "message": a.message, "run": view,
                             "prefix": prefix, "duration": a.duration})  # fmt: skip
        tests.append({"name": r.name, "file": Path(r.file).name, "line": r.line,
                      "status": r.status, "duration": r.duration, "attempts": attempts})  # fmt: skip
    counts = Counter(str(r.status) for r in results)
    page = _env().get_template("session.html.j2").render(
        tests=tests, counts=counts, total=len(results),
        seconds=sum(r.duration for r in results), filters=("all", "passed", "failed", "flaky", "error"),
    )  # fmt: skip
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
