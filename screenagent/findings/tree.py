"""Findings made exact by the accessibility tree: a dialog or alert node gives the dialog's
title, its message (the labels inside it) and its buttons as the toolkit names them, where OCR
reads pixels (and misreads light text on dark title bars, or a lone symbol)."""

from __future__ import annotations

from typing import Any

from ..a11y.tree import Node
from ..geometry import Box
from .model import Finding, classify

DIALOG_ROLES = frozenset({"dialog", "alert"})
MESSAGE_ROLES = frozenset({"label", "static", "text", "paragraph"})
BUTTON_ROLES = frozenset({"push button", "toggle button"})


def _overlap(a: Box, b: list[int]) -> float:
    """How much of ``a`` lies inside box ``b`` (0..1)."""
    w = min(a.x2, b[2]) - max(a.x1, b[0])
    h = min(a.y2, b[3]) - max(a.y1, b[1])
    return 0.0 if w <= 0 or h <= 0 else (w * h) / max(a.width * a.height, 1)


def _inside(view: Any, dialog: Node) -> list[Node]:
    """The dialog's showing descendants, in tree order."""
    out: list[Node] = []
    stack = list(reversed(dialog.children))
    while stack:
        node = view.snapshot.nodes[stack.pop()]
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def refine_with_tree(findings: list[Finding], view: Any) -> list[Finding]:
    """Replace OCR's title, message and buttons of each dialog finding with those of the
    dialog node that covers it (the finding's source becomes ``tree``). A plain dialog whose
    own words hold no error language, or one holding a file chooser, is dropped: OCR took it
    for an error by its look (an icon), and the tree says otherwise; an alert stays."""
    if view is None:
        return findings
    dialogs = [(n, view.box(n)) for n in view.visible() if n.role in DIALOG_ROLES]
    out = []
    for f in findings:
        match = None
        if f.kind == "dialog":
            scored = [(_overlap(box, f.box), n) for n, box in dialogs if box is not None]
            best = max(scored, key=lambda s: s[0], default=(0.0, None))
            match = best[1] if best[0] >= 0.5 else None
        if match is None:
            out.append(f)
            continue
        inside = [n for n in _inside(view, match) if view.box(n) is not None]
        if any(n.role == "file chooser" for n in inside):
            continue  # a file dialog (Open, Save As) is no error, whatever its icons look like
        message = "\n".join(n.name.strip() for n in inside if n.role in MESSAGE_ROLES and n.name.strip())
        buttons = [n.name for n in inside if n.role in BUTTON_ROLES and n.name]
        judged = classify(f"{match.name}\n{message}")
        if match.role == "dialog" and judged is None:
            continue  # the toolkit's own words of a plain dialog say nothing is wrong
        severity = judged or f.severity
        out.append(f.model_copy(update={
            "title": match.name or f.title, "message": message or f.message,
            "buttons": buttons or f.buttons, "source": "tree", "severity": severity,
        }))  # fmt: skip
    return out
