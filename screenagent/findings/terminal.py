"""Terminal text: Python tracebacks joined into one finding each, and shell error lines."""

from __future__ import annotations

import re

from ..ocr import OcrLine
from .layout import _join, _row_box
from .model import Finding, classify, normalize_ws

_PROMPT = re.compile(r"^(?:\S*[@:]\S*\s?[$#%>]|[$#%>❯»]|PS\s.*>)\s")


def _error_runs(rows: list[list[OcrLine]], *, prompt_aware: bool) -> list[list[list[OcrLine]]]:
    """Consecutive rows with error language, each run one group (a prompt line never counts:
    ``$ grep error log`` is a command, not an error)."""
    runs: list[list[list[OcrLine]]] = []
    previous: list[OcrLine] | None = None
    for row in rows:
        text = _join([row])
        if (prompt_aware and _PROMPT.match(text)) or classify(text) is None:
            previous = None
            continue
        if (
            previous is not None
            and runs
            and _row_box(row).y1 - _row_box(previous).y2 < 0.8 * _row_box(row).height
        ):
            runs[-1].append(row)
        else:
            runs.append([row])
        previous = row
    return runs


# --- tracebacks --------------------------------------------------------------------------------

_TB_HEAD = re.compile(r"^Traceback\s*\(most\s+recent\s+call\s+last\)\s*[:;.]?$", re.I)
_TB_CHAIN = re.compile(r"^(?:During handling of the above exception|The above exception was)", re.I)
_EXC = re.compile(r"^([A-Za-z_][\w.]*)(?:\s*[:;]\s*(.*))?$")


_FRAME_DONE = re.compile(r'^File ".*", line \d+, in \S+$')


def _tracebacks(
    found: list[Finding], lines: list[OcrLine], *, window: str | None, right: int | None = None
) -> list[OcrLine]:
    """Add one terminal finding per Python traceback among ``lines`` to ``found``; return the
    rest.

    A traceback starts at its header; indented lines are frames, a line at the header's left
    edge is the exception (or the text that chains one traceback to the next). A line the
    terminal wrapped (the one above reached ``right``, the terminal's right edge, or is a
    ``File ...`` line cut short) continues the line above."""
    ordered = sorted(lines, key=lambda ln: (ln.box.y1, ln.box.x1))
    used: set[int] = set()

    def chain(text: str) -> bool:
        return bool(_TB_CHAIN.match(text) or _TB_HEAD.match(normalize_ws(text)))

    for i, head in enumerate(ordered):
        if id(head) in used or not _TB_HEAD.match(normalize_ws(head.text)):
            continue
        h = head.box.height
        char = head.box.width / max(1, len(head.text))
        left = head.box.x1
        part = [head]
        texts = [normalize_ws(head.text)]
        exc: int | None = None  # index in texts of the exception line
        for line in ordered[i + 1 :]:
            if line.box.x1 < left - 2 * char or line.box.x1 > head.box.x2:
                continue  # another column of the screen
            prev = part[-1]
            if line.box.y1 - prev.box.y2 > 2.5 * h:
                break
            text = normalize_ws(line.text)
            at_left = abs(line.box.x1 - left) <= max(3.0, 1.5 * char)
            wrapped = at_left and (
                (right is not None and prev.box.x2 >= right - 3 * char)
                or (texts[-1].startswith('File "') and not _FRAME_DONE.match(texts[-1]))
            )
            if wrapped:
                part.append(line)
                # a wrap drops the space it fell on; the one in ", in <function>" is known
                texts[-1] = re.sub(r"(, line \d+, in)(?=\S)", r"\1 ", texts[-1] + text)
                continue
            if exc is not None and not chain(text):
                break  # what follows the exception line (a prompt, other output)
            part.append(line)
            texts.append(text)
            if at_left:
                exc = None if chain(text) else len(texts) - 1
        used.update(id(ln) for ln in part)
        title, message = "Traceback", ""
        if exc is not None:
            m = _EXC.match(texts[exc])
            if m:
                title, message = m.group(1), normalize_ws(m.group(2) or "")
            else:
                message = texts[exc]
        box = part[0].box
        for ln in part[1:]:
            box = box.union(ln.box)
        details = [t for k, t in enumerate(texts) if k != exc]
        found.append(Finding(
            kind="terminal", title=title, message=message, box=box.as_list(), severity="error",
            source="ocr", details=details, window=window,
        ))  # fmt: skip
    return [ln for ln in lines if id(ln) not in used]
