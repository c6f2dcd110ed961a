"""Recorded steps -> a YAML test file or task text, readable and valid at every moment.

Scalars are written as JSON strings (a JSON string is a valid YAML double-quoted scalar), so any
text round-trips exactly; comments carry what the recorder noticed. The file is written
atomically, so a recording stopped at any time leaves a whole file.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from .recorder import Step

TEXT_VERBS = {"click": "click", "double_click": "double-click", "right_click": "right-click",
              "wait_for": "wait for", "expect_visible": "expect"}  # fmt: skip


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def yaml_lines(step: Step, indent: str = "      ") -> list[str]:
    out = [f"{indent}# {c}" for c in step.comments]
    out.append(f"{indent}- {step.verb}: {_q(step.value)}")
    for key, value in step.fields.items():
        out.append(f"{indent}  {key}: {_q(value)}")
    return out


def to_yaml(steps: Sequence[Step], *, name: str, app: Sequence[str] | None = None, ready: str | None = None,
            proposals: Sequence[str] = (), secrets: dict[str, str] | None = None,
            header: Sequence[str] = ()) -> str:  # fmt: skip
    lines = [f"# {h}" for h in header]
    for secret, where in (secrets or {}).items():
        lines.append(f"# {secret}: the password typed into {where}; set it in the environment before running")
    lines.append(f"name: {_q(name)}")
    if app:
        lines.append("app:")
        lines.append(f"  launch: [{', '.join(_q(a) for a in app)}]")
        if ready:
            lines.append(f"  ready: {_q(ready)}")
    lines += ["tests:", f"  - name: {_q('recorded: ' + name)}", "    steps:"]
    for step in steps:
        lines += yaml_lines(step)
    if not steps:
        lines.append("      - screenshot: \"nothing was recorded\"")
    if proposals:
        lines.append("      # what changed on the final screen; uncomment what the test should check:")
        lines += [f"      # - expect_visible: {_q(p)}" for p in proposals]
    return "\n".join(lines) + "\n"


def to_text(steps: Sequence[Step], proposals: Sequence[str] = ()) -> str:
    """Task text for `screenagent run` (the step-follower's language)."""
    out = []
    for s in steps:
        out += [f"# {c}" for c in s.comments]
        if s.verb in TEXT_VERBS:
            out.append(f"{TEXT_VERBS[s.verb]} {s.value}")
        elif s.verb == "type":
            line = f"type {_q(s.value)}"
            if s.fields.get("into"):
                line += f" into {s.fields['into']}"
            out.append(line)
            if s.fields.get("enter"):
                out.append("press enter")
        elif s.verb == "press":
            out.append(f"press {s.value}")
        elif s.verb == "scroll":
            where = f" in {s.fields['in']}" if s.fields.get("in") else ""
            out.append(f"scroll {s.value} {s.fields.get('amount', 1)}{where}")
        elif s.verb == "drag":
            out.append(f"drag {s.value} to {s.fields['to']}")
        elif s.verb == "screenshot":
            out.append("screenshot")
    out += [f"# expect {p}" for p in proposals]
    return "\n".join(out) + "\n"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def app_words(cmd: str | None, *, relative_to: Path) -> list[str] | None:
    """The app's argv for the file's ``app:`` section: paths that exist are made relative to
    the file's folder (the test file resolves them from there)."""
    if not cmd:
        return None
    out = []
    for word in shlex.split(cmd):
        path = Path(word)
        if not word.startswith("-") and (path.is_file() or path.is_dir()) and not path.is_absolute():
            word = os.path.relpath(path.resolve(), relative_to.resolve())
        out.append(word)
    return out
