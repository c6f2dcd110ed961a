"""Layout of OCR lines: rows, blocks of text, button rows, icons, edges between lines."""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence

from PIL import Image

from ..geometry import Box
from ..ocr import OcrLine
from .model import Severity, normalize_ws

# --- layout helpers ----------------------------------------------------------------------------


def _height(lines: Sequence[OcrLine]) -> float:
    return statistics.median(line.box.height for line in lines) if lines else 16.0


def rows_of(lines: Iterable[OcrLine]) -> list[list[OcrLine]]:
    """Lines grouped into rows (vertical centres close), top to bottom, each left to right."""
    ordered = sorted(lines, key=lambda line: (line.box.center[1], line.box.x1))
    rows: list[list[OcrLine]] = []
    for line in ordered:
        cy = line.box.center[1]
        if rows:
            row = rows[-1]
            row_cy = sum(x.box.center[1] for x in row) / len(row)
            if abs(cy - row_cy) <= 0.5 * min(line.box.height, row[0].box.height):
                row.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda x: x.box.x1) for row in rows]


def _row_box(row: Sequence[OcrLine]) -> Box:
    box = row[0].box
    for line in row[1:]:
        box = box.union(line.box)
    return box


def segments(line: OcrLine) -> list[str]:
    """A line's text split where its words are far apart (OCR joins neighbouring buttons,
    or the entries of a menu bar, into one line)."""
    words = [w for w in line.words if w.text.strip()]
    if len(words) < 2 or normalize_ws(" ".join(w.text for w in words)) != normalize_ws(line.text):
        return [normalize_ws(line.text)]
    gap = 0.9 * line.box.height
    out = [[words[0]]]
    for prev, word in itertools.pairwise(words):
        if word.box.x1 - prev.box.x2 > gap:
            out.append([word])
        else:
            out[-1].append(word)
    return [normalize_ws(" ".join(w.text for w in seg)) for seg in out]


def _join(rows: Sequence[Sequence[OcrLine]]) -> str:
    """The text of rows in reading order; a line that wraps after "/" or a word's hyphen
    joins the next one without a space (toolkits break paths and hyphenated words there)."""
    out = ""
    for line in (ln for row in rows for ln in row):
        text = normalize_ws(line.text)
        if out and not (out.endswith("/") or re.search(r"[^\W\d_]-$", out)):
            out += " "
        out += text
    return out


def text_key(text: str) -> str:
    """Text compared by its letters and digits only, case-folded."""
    return re.sub(r"[\W_]+", "", text).casefold()


def _same_text(a: str, b: str) -> bool:
    return text_key(a) == text_key(b) and text_key(a) != ""


BUTTON_WORDS = frozenset((
    "ok", "okay", "close", "cancel", "retry", "yes", "no", "ignore", "abort", "details", "quit",
    "continue", "dismiss", "help", "report", "wait", "open", "save", "discard", "apply", "send",
    "stop", "skip", "back", "next", "finish", "done", "got", "it", "try", "again", "don't",
    "show", "force", "more", "info", "learn",
))  # fmt: skip


def _is_button_label(text: str) -> bool:
    words = text.casefold().replace("&", "").split()
    return 0 < len(words) <= 3 and all(w.strip(".!") in BUTTON_WORDS for w in words)


def _is_icon(line: OcrLine, height: float) -> bool:
    """An icon OCR read as a character or two ("0", "!"): short text in a tall box."""
    return len(line.text.strip()) <= 2 and line.box.height > 1.6 * height


# --- icon colour -------------------------------------------------------------------------------


def icon_severity(image: Image.Image, box: Box) -> Severity | None:
    """The severity an error (red) or warning (orange/yellow) icon in ``box`` suggests."""
    import numpy as np

    crop = np.asarray(image.crop((box.x1, box.y1, box.x2, box.y2)).convert("RGB"), dtype=np.int16)
    if crop.size == 0:
        return None
    r, g, b = crop[..., 0], crop[..., 1], crop[..., 2]
    red = int(((r > 150) & (g < 90) & (b < 90) & (r - g > 90)).sum())
    amber = int(((r > 190) & (g > 100) & (g < 215) & (b < 110) & (r - g > 35)).sum())
    if red >= 150 and red >= amber:
        return "error"
    if amber >= 150:
        return "warning"
    return None


def _clip(box: Box, width: int, height: int) -> Box | None:
    clipped = Box(
        x1=max(0, box.x1), y1=max(0, box.y1), x2=min(width, box.x2), y2=min(height, box.y2)
    )
    return clipped if clipped.x2 > clipped.x1 and clipped.y2 > clipped.y1 else None


def _shift(line: OcrLine, dx: int, dy: int) -> OcrLine:
    def mv(b: Box) -> Box:
        return Box(x1=b.x1 + dx, y1=b.y1 + dy, x2=b.x2 + dx, y2=b.y2 + dy)

    from dataclasses import replace

    return replace(
        line, box=mv(line.box), words=tuple(replace(w, box=mv(w.box)) for w in line.words)
    )


def _inside(box: list[int], outer: Box) -> list[int]:
    x1, y1, x2, y2 = box
    clipped = [max(x1, outer.x1), max(y1, outer.y1), min(x2, outer.x2), min(y2, outer.y2)]
    return clipped if clipped[0] < clipped[2] and clipped[1] < clipped[3] else box


def _pad(box: Box, pad: int, image: Image.Image) -> Box:
    padded = Box(x1=box.x1 - pad, y1=box.y1 - pad, x2=box.x2 + pad, y2=box.y2 + pad)
    return _clip(padded, image.width, image.height) or box


def _edge_between(image: Image.Image, upper: Box, lower: Box) -> bool:
    """Whether a horizontal edge (a border, a panel's side) runs between two boxes across the
    columns they share: text of one paragraph has plain background between its lines."""
    import numpy as np

    x1, x2 = max(upper.x1, lower.x1), min(upper.x2, lower.x2)
    y1, y2 = (upper.y1 + upper.y2) // 2, lower.y1 + 2  # OCR boxes overshoot an edge
    if x2 - x1 < 4 or y2 - y1 < 2:
        return False
    px = np.asarray(image.crop((x1, y1, x2, y2)).convert("L"), dtype=np.int16)
    changed = (np.abs(np.diff(px, axis=0)) > 30).mean(axis=1)
    return bool(changed.max(initial=0.0) > 0.8)


def _blocks(image: Image.Image, lines: Sequence[OcrLine]) -> list[list[list[OcrLine]]]:
    """Lines grouped into blocks of text, each block as rows. A line joins a block when it
    starts under the block's lines (left edges aligned, or overlapping), the gap to the
    block's bottom is under a line's height and no edge runs between them; lines side by
    side in other columns stay apart."""
    blocks: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box.y1, ln.box.x1)):
        b = line.box
        for block in reversed(blocks):
            bbox = _row_box(block)
            gap = b.y1 - bbox.y2
            overlap = min(b.x2, bbox.x2) - max(b.x1, bbox.x1)
            aligned = abs(b.x1 - bbox.x1) <= 2 * b.height or overlap > 0.5 * min(
                b.width, bbox.width
            )
            if (
                -0.5 * b.height <= gap <= 0.8 * b.height
                and aligned
                and not _edge_between(image, _row_box(rows_of(block)[-1]), b)
            ):
                block.append(line)
                break
        else:
            blocks.append([line])
    return [rows_of(block) for block in blocks]


def _button_row_below(
    rows: list[list[OcrLine]], block: list[list[OcrLine]], h: float
) -> list[OcrLine] | None:
    bbox = _row_box([ln for r in block for ln in r])
    for row in rows:
        rbox = _row_box(row)
        if rbox.y1 < bbox.y2 or rbox.y1 - bbox.y2 > 4 * h:
            continue
        if rbox.x2 < bbox.x1 - 4 * h or rbox.x1 > bbox.x2 + 8 * h:
            continue
        labels = [s for ln in row for s in segments(ln)]
        if labels and all(_is_button_label(s) for s in labels):
            return row
    return None
