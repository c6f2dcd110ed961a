"""What a test run leaves behind: JUnit XML, a JSON summary and an HTML report.

The report is ``index.html`` plus the step screenshots as JPEG files beside it (relative
paths, lazy loading); it loads nothing from the internet.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from .runner import TestResult


def counts(results: list[TestResult]) -> Counter[str]:
    return Counter(r.status for r in results)


def write_junit(results: list[TestResult], path: str | Path) -> Path:
    """One testsuite per file, one testcase per test; a flaky test passes with its earlier
    failure kept in <system-out>."""
    path = Path(path)
    root = ET.Element("testsuites", name="screenagent")
    by_file: dict[str, list[TestResult]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    total = counts(results)
    root.set("tests", str(len(results)))
    root.set("failures", str(total["failed"]))
    root.set("errors", str(total["error"]))
    root.set("time", f"{sum(r.duration for r in results):.3f}")
    for file, rs in by_file.items():
        c = counts(rs)
        suite = ET.SubElement(
            root, "testsuite", name=Path(file).name, file=file, tests=str(len(rs)),
            failures=str(c["failed"]), errors=str(c["error"]), skipped="0",
            time=f"{sum(r.duration for r in rs):.3f}",
        )  # fmt: skip
        for r in rs:
            case = ET.SubElement(suite, "testcase", name=r.name, classname=Path(file).stem,
                                 file=file, line=str(r.line), time=f"{r.duration:.3f}")  # fmt: skip
            if r.status in ("failed", "error"):
                tag = "failure" if r.status == "failed" else "error"
                msg = r.message or r.status
                el = ET.SubElement(case, tag, message=msg.splitlines()[0][:1000], type=tag)
                el.text = msg
            lines = [f"step {row.get('index')} {row.get('label')}: {row.get('status')}"
                     + (f" [{row['verified']}]" if row.get("verified") else "")
                     for row in (r.attempts[-1].steps if r.attempts else [])]  # fmt: skip
            if r.status == "flaky":
                lines.insert(0, "flaky: passed on attempt {} after: {}".format(
                    len(r.attempts), " | ".join(a.message or "" for a in r.attempts[:-1])
                ))  # fmt: skip
            if lines:  # each step's result and verdict (confirmed, no change, diverged...)
                ET.SubElement(case, "system-out").text = "\n".join(lines)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def summary(results: list[TestResult], report_dir: str | Path | None = None) -> dict[str, Any]:
    """The run as JSON; ``report_dir`` (where the artifact paths point) lets a merge on another
    machine re-root them."""
    c = counts(results)
    return {
        "report_dir": str(Path(report_dir).resolve()) if report_dir else None,
        "total": len(results),
        "passed": c["passed"], "failed": c["failed"], "flaky": c["flaky"], "error": c["error"],
        "duration": round(sum(r.duration for r in results), 3),
        "tests": [
            {
                "file": r.file, "name": r.name, "line": r.line, "status": r.status, "tags": r.tags,
                "duration": round(r.duration, 3), "message": r.message,
                "attempts": [
                    {"status": a.status, "message": a.message, "duration": round(a.duration, 3),
                     "artifacts": a.artifacts, "display": a.display, "worker": a.worker,
                     "started": round(a.started, 3), "steps": a.steps}
                    for a in r.attempts
                ],
            }
            for r in results
        ],
    }  # fmt: skip


def write_summary(results: list[TestResult], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary(results, path.parent), indent=1), encoding="utf-8")
    return path
