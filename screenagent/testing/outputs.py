"""What a test run leaves behind: JUnit XML, a JSON summary and an HTML report.

The report is ``index.html`` plus the step screenshots as JPEG files beside it (relative
paths, lazy loading); it loads nothing from the internet.
"""

from __future__ import annotations

import html
import json
import os
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
            elif r.status == "flaky":
                out = ET.SubElement(case, "system-out")
                out.text = "flaky: passed on attempt {} after: {}".format(
                    len(r.attempts), " | ".join(a.message or "" for a in r.attempts[:-1])
                )
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def summary(results: list[TestResult]) -> dict[str, Any]:
    c = counts(results)
    return {
        "total": len(results),
        "passed": c["passed"], "failed": c["failed"], "flaky": c["flaky"], "error": c["error"],
        "duration": round(sum(r.duration for r in results), 3),
        "tests": [
            {
                "file": r.file, "name": r.name, "status": r.status, "tags": r.tags,
                "duration": round(r.duration, 3), "message": r.message,
                "attempts": [
                    {"status": a.status, "message": a.message, "duration": round(a.duration, 3),
                     "artifacts": a.artifacts, "display": a.display, "worker": a.worker,
                     "steps": a.steps}
                    for a in r.attempts
                ],
            }
            for r in results
        ],
    }  # fmt: skip


def write_summary(results: list[TestResult], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary(results), indent=1), encoding="utf-8")
    return path


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} .counts span{margin-right:14px}
nav{padding:10px 24px} nav button{margin-right:6px;padding:4px 12px;border:1px solid #d0d7de;
border-radius:14px;background:#fff;cursor:pointer} nav button.on{background:#0969da;color:#fff}
main{padding:0 24px 40px} details.test{background:#fff;border:1px solid #d0d7de;border-radius:6px;
margin:8px 0} summary{padding:10px 14px;cursor:pointer} .badge{display:inline-block;min-width:54px;
text-align:center;border-radius:10px;color:#fff;font-size:12px;padding:1px 8px;margin-right:8px}
.passed{background:#1a7f37}.failed,.error{background:#cf222e}.flaky{background:#9a6700}
.soft-failed{background:#bc4c00}.skipped{background:#6e7781}
.msg{white-space:pre-wrap;background:#ffebe9;border-left:4px solid #cf222e;margin:0 14px 10px;
padding:8px 10px;font-family:ui-monospace,monospace;font-size:12px}
table{border-collapse:collapse;width:calc(100% - 28px);margin:0 14px 14px}
td,th{border-top:1px solid #eaeef2;padding:6px;vertical-align:top;text-align:left;font-size:13px}
td.shots img{width:220px;border:1px solid #d0d7de;margin-right:6px}
.err{color:#cf222e;white-space:pre-wrap} .muted{color:#6e7781} h3{margin:6px 14px;font-size:14px}
"""

_JS = """
document.querySelectorAll('nav button').forEach(b=>b.onclick=()=>{
 document.querySelectorAll('nav button').forEach(x=>x.classList.toggle('on',x===b));
 const f=b.dataset.f; document.querySelectorAll('details.test').forEach(d=>
  d.style.display=(f==='all'||d.dataset.status===f)?'':'none');});
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _step_row(step: dict[str, Any], art: Path, out: Path) -> str:
    shots = []
    for which in ("before", "after"):
        name = step.get(which)
        if name:
            rel = os.path.relpath(art / name, out)
            shots.append(
                f'<a href="{_e(rel)}"><img loading="lazy" src="{_e(rel)}" alt="{which}"></a>'
            )
    timing = " · ".join(
        f"{k} {step.get(k + '_s', 0) * 1000:.0f} ms" for k in ("locate", "settle", "act")
    )
    by = step.get("grounded_by") or ""
    where = (
        f"<br><span class=muted>box {step['box']} · point {step.get('point')}</span>"
        if step.get("box")
        else ""
    )
    err = f'<div class="err">{_e(step["error"])}</div>' if step.get("error") else ""
    warn = (
        f'<div class="muted">{_e(step["detail"]["warning"])}</div>'
        if step.get("detail", {}).get("warning")
        else ""
    )
    phase = (
        f' <span class="muted">({_e(step["phase"])})</span>'
        if step.get("phase", "test") != "test"
        else ""
    )
    return (
        f"<tr><td>{step['index']}</td><td><span class='badge {_e(step['status'])}'>{_e(step['status'])}"
        f"</span></td><td><b>{_e(step['label'])}</b>{phase}{where}{err}{warn}</td>"
        f"<td>{_e(by)}</td><td class=muted>{timing}</td><td class=shots>{''.join(shots)}</td></tr>"
    )


def write_html(results: list[TestResult], out: str | Path) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    c = counts(results)
    parts = [
        "<!doctype html><html><head><meta charset=utf-8><title>screenagent test report</title>",
        f"<style>{_CSS}</style></head><body><header><h1>screenagent test report</h1><div class=counts>",
        f"<span>{len(results)} tests</span><span>{c['passed']} passed</span><span>{c['failed']} failed</span>",
        f"<span>{c['flaky']} flaky</span><span>{c['error']} errors</span>",
        f"<span>{sum(r.duration for r in results):.1f} s</span></div></header><nav>",
        *(f'<button data-f="{f}" class="{"on" if f == "all" else ""}">{f}</button>'
          for f in ("all", "passed", "failed", "flaky", "error")),
        "</nav><main>",
    ]  # fmt: skip
    for r in results:
        open_ = " open" if r.status in ("failed", "error") else ""
        parts.append(
            f'<details class="test" data-status="{_e(r.status)}"{open_}><summary>'
            f"<span class='badge {_e(r.status)}'>{_e(r.status)}</span><b>{_e(r.name)}</b> "
            f"<span class=muted>{_e(Path(r.file).name)}:{r.line} · {r.duration:.1f} s"
            f"{' · ' + str(len(r.attempts)) + ' attempts' if len(r.attempts) > 1 else ''}</span></summary>"
        )
        for i, a in enumerate(r.attempts, 1):
            if len(r.attempts) > 1:
                parts.append(f"<h3>attempt {i}: {_e(a.status)}</h3>")
            if a.message:
                parts.append(f'<div class="msg">{_e(a.message)}</div>')
            if a.steps:
                parts.append("<table><tr><th>#</th><th></th><th>step</th><th>grounded by</th>"
                             "<th>timings</th><th>before / after</th></tr>")  # fmt: skip
                parts += [_step_row(s, Path(a.artifacts), out) for s in a.steps]
                parts.append("</table>")
        parts.append("</details>")
    parts.append(f"</main><script>{_JS}</script></body></html>")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
