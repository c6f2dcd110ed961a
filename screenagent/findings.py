"""Errors on the screen as data: error dialogs, banners, inline messages and terminal
tracebacks, each one a validated `Finding`.

The embedded reader needs no weights. Where an X display is there, the desktop's own account
comes first: its top-level windows (`screenagent.windows`) say which are dialogs, what they
are titled (a bare X server draws no title bars, so titles cannot come from pixels), where
they are and which is on top. OCR of the frame is then split by window: inside a dialog the
lines are grouped by layout into message rows and a row of buttons; inside a terminal,
Python tracebacks are joined into one finding and other error lines are collected; anywhere
else, blocks of text that use error language become banner or inline findings. Without
windows (``--image``, or no X server) the same text rules run on the pixels alone, and a
block of error text with a row of buttons below it is taken for a dialog.

Error language is matched in several forms and a few languages (error/errors/ERROR:,
failed/failure, exception, denied, not found, traceback, exit code N, could not, unable to,
timed out, errno phrases ...); phrases that name errors without reporting one ("Error
handling", "error log", "0 errors", "no failures") are removed first.

`VLMErrorReader` asks a vision-language model instead: a structured-extraction prompt whose
answer is validated against the same `Finding` model; invalid answers are fed back (bounded
retries), the OCR text is offered as a hint, and the model's boxes are kept (mapped to frame
pixels).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .ocr import Box, CachedOcr, OcrEngine, OcrLine, RapidOcrEngine

Kind = Literal["dialog", "banner", "terminal", "inline"]
Severity = Literal["error", "warning"]


class Finding(BaseModel):
    """One error or warning seen on the screen.

    ``box`` is ``[x1, y1, x2, y2]`` in the pixels of the image that was read (a live frame:
    frame pixels, which are screen pixels at scale 1), ``x2``/``y2`` exclusive.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: str | None = None
    message: str = ""
    buttons: list[str] = Field(default_factory=list)
    box: list[int]
    severity: Severity
    source: Literal["ocr", "vlm", "window"]
    details: list[str] = Field(
        default_factory=list, description="More lines: a traceback's frames, for example."
    )
    window: str | None = Field(default=None, description="The window it is in, when known.")

    @field_validator("box")
    @classmethod
    def _box(cls, v: list[int]) -> list[int]:
        if len(v) != 4:
            raise ValueError(f"box needs 4 numbers [x1, y1, x2, y2], got {len(v)}")
        x1, y1, x2, y2 = v
        if x1 < 0 or y1 < 0 or x2 <= x1 or y2 <= y1:
            raise ValueError(f"box {v} is not [x1, y1, x2, y2] with x1 < x2 and y1 < y2, >= 0")
        return v

    def one_line(self) -> str:
        """The finding in one line (for failure messages)."""
        head = self.describe().splitlines()[0].rsplit(" (", 1)[0]
        tail = f": {self.message}" if self.message else ""
        buttons = f" [buttons: {', '.join(self.buttons)}]" if self.buttons else ""
        return head + tail + buttons

    def describe(self) -> str:
        """One or more readable lines for a person."""
        head = f"{self.severity.upper()} {self.kind}"
        if self.title:
            head += f" {self.title!r}"
        if self.window and self.window != self.title:
            head += f" in {self.window!r}"
        x1, y1, x2, y2 = self.box
        out = [f"{head} at [{x1}, {y1}, {x2}, {y2}] ({self.source})"]
        if self.message:
            out.append(f"  {self.message}")
        if self.buttons:
            out.append("  buttons: " + ", ".join(self.buttons))
        out.extend(f"  | {d}" for d in self.details)
        return "\n".join(out)


# --- error language ----------------------------------------------------------------------------

_ERROR = re.compile(
    r"\b(?:errors?|fail(?:s|ed|ure|ures|ing)?|exceptions?|denied|not\s+found|traceback"
    r"|exit(?:ed)?\s+(?:with\s+)?(?:code|status)\s*[:=]?\s*-?[1-9]\d*|fatal|could\s*n[o']t"
    r"|cannot|can't|unable\s+to|invalid|refused|timed\s+out|crash(?:ed|es)?|abort(?:ed)?"
    r"|panic(?:ked)?|segmentation\s+fault|core\s+dumped|no\s+such\s+(?:file|directory)"
    r"|no\s+space\s+left|not\s+permitted|is\s+required|unreachable|not\s+responding"
    r"|stopped\s+working|unexpected(?:ly)?|out\s+of\s+memory|fehler|fehlgeschlagen|erreur"
    r"|échec|errore|ошибка)\b|\bERR!|错误|失败|エラー|오류",
    re.IGNORECASE,
)
_WARNING = re.compile(r"\b(?:warn(?:s|ing|ings)?|caution|deprecated|achtung|avertissement)\b", re.I)
_BENIGN = re.compile(
    r"\b(?:no|zero|0|without)\s+(?:errors?|failures?|warnings?|problems?|exceptions?)\b"
    r"|\berror[- ]free\b|\b(?:errors?|failures?|warnings?|failed)\s*[:=]\s*0\b|\b0\s+failed\b"
    r"|\berrors?\s+(?:handling|log|logs|logging|reporting|reports?|console|list|messages"
    r"|codes|settings|levels?|checking|correction|page|tracking|budget|rate|bars?)\b"
    r"|\bwarnings?\s+(?:settings|levels?|list|log)\b"
    r"|\bexceptions?\s+(?:handling|list|settings|rules)\b|\bon\s+(?:error|failure)\b",
    re.IGNORECASE,
)


def classify(text: str) -> Severity | None:
    """``error``, ``warning`` or None for a piece of text, by its language.

    >>> classify("Could not save the file"), classify("Error handling..."), classify("Warning")
    ('error', None, 'warning')
    """
    text = _BENIGN.sub(" ", text)
    if _ERROR.search(text):
        return "error"
    if _WARNING.search(text):
        return "warning"
    return None


def normalize_ws(text: str) -> str:
    return " ".join(text.split())


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


def _same_text(a: str, b: str) -> bool:
    def key(s: str) -> str:
        return re.sub(r"[\W_]+", "", s).casefold()

    return key(a) == key(b) and key(a) != ""


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


_LABEL = re.compile(r"^([\w.\-/\[\]]{1,40})\s*:\s+(\S.*)$")


def split_label(text: str) -> tuple[str | None, str]:
    """``"Error: Name is required."`` -> ("Error", "Name is required."); a leading program
    name or severity label becomes the title."""
    m = _LABEL.match(text)
    if m is None:
        return None, text
    return m.group(1), m.group(2)


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


# --- windows -----------------------------------------------------------------------------------

TERMINAL_CLASSES = frozenset((
    "xterm", "uxterm", "urxvt", "rxvt", "gnome-terminal", "gnome-terminal-server", "konsole",
    "alacritty", "kitty", "terminator", "tilix", "xfce4-terminal", "st", "st-256color",
    "wezterm", "org.wezfurlong.wezterm", "foot", "lxterminal", "mate-terminal", "qterminal",
    "terminology", "sakura", "guake", "tilda", "yakuake", "ghostty", "com.mitchellh.ghostty",
))  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ScreenWindow:
    """A top-level window in frame pixels, as the reader needs it."""

    title: str
    box: Box
    dialog: bool = False
    terminal: bool = False
    notification: bool = False

    @classmethod
    def from_info(
        cls, info: Any, *, origin: tuple[int, int] = (0, 0), scale: float = 1.0
    ) -> ScreenWindow:
        """From a `screenagent.windows.WindowInfo` (desktop units) onto a frame whose top-left
        is the desktop point ``origin``, at ``scale`` frame pixels per unit."""
        ox, oy = origin
        box = Box(
            x1=round((info.x - ox) * scale),
            y1=round((info.y - oy) * scale),
            x2=round((info.x + info.width - ox) * scale),
            y2=round((info.y + info.height - oy) * scale),
        )
        classes = {c.lower() for c in info.wm_class}
        return cls(
            title=info.title,
            box=box,
            dialog=info.is_dialog,
            terminal=bool(classes & TERMINAL_CLASSES),
            notification="NOTIFICATION" in info.types,
        )


def _clip(box: Box, width: int, height: int) -> Box | None:
    clipped = Box(
        x1=max(0, box.x1), y1=max(0, box.y1), x2=min(width, box.x2), y2=min(height, box.y2)
    )
    return clipped if clipped.x2 > clipped.x1 and clipped.y2 > clipped.y1 else None


# --- the embedded reader -----------------------------------------------------------------------


@dataclass
class _Page:
    """The lines not yet used by a finding, and the findings so far."""

    image: Image.Image
    findings: list[Finding] = field(default_factory=list)


class ErrorReader:
    """Reads errors from frames with OCR and, when given, the desktop's windows.

    Args:
        ocr: The OCR engine (default: RapidOCR, cached per screen).
        terminal_scale: Read terminal windows whose text is smaller than
            ``small_text`` px again at this scale (fixed-size terminal fonts are small).
    """

    name = "ocr"

    def __init__(
        self,
        ocr: OcrEngine | None = None,
        *,
        terminal_scale: float = 2.0,
        small_text: int = 17,
    ) -> None:
        self.ocr = ocr if ocr is not None else CachedOcr(RapidOcrEngine())
        self.terminal_scale = terminal_scale
        self.small_text = small_text

    def read(
        self, image: Image.Image, windows: Sequence[ScreenWindow] = (), *, lines: Sequence[OcrLine] | None = None
    ) -> list[Finding]:  # fmt: skip
        """Every error and warning in ``image``; ``windows`` bottom to top, in its pixels."""
        all_lines = list(self.ocr.read(image) if lines is None else lines)
        page = _Page(image=image)
        visible = [w for w in windows if _clip(w.box, image.width, image.height) is not None]
        owned: dict[int, list[OcrLine]] = {i: [] for i in range(len(visible))}
        loose: list[OcrLine] = []
        for line in all_lines:
            cx, cy = line.box.center
            for i in range(len(visible) - 1, -1, -1):  # the topmost window that holds it
                if visible[i].box.contains_point(cx, cy):
                    owned[i].append(line)
                    break
            else:
                loose.append(line)
        for i, win in enumerate(visible):
            box = _clip(win.box, image.width, image.height)
            if box is None:
                continue
            first = len(page.findings)
            if win.dialog or win.notification:
                self._dialog(page, win, box, owned[i])
            elif win.terminal:
                self._terminal(page, win, box, owned[i])
            else:
                self._text(page, owned[i], container=box, window=win.title)
            for k in range(first, len(page.findings)):  # OCR boxes overshoot by a pixel or two
                f = page.findings[k]
                page.findings[k] = f.model_copy(update={"box": _inside(f.box, box)})
        self._text(page, loose, container=Box(x1=0, y1=0, x2=image.width, y2=image.height))
        return _dedupe(page.findings)

    # dialogs ---------------------------------------------------------------------------

    def _dialog(self, page: _Page, win: ScreenWindow, box: Box, lines: list[OcrLine]) -> None:
        h = _height(lines)
        content = [line for line in lines if not _is_icon(line, h)]
        rows = rows_of(content)
        buttons: list[str] = []
        if len(rows) >= 2:
            last = rows[-1]
            labels = [s for line in last for s in segments(line)]
            above = _row_box(rows[-2])
            if (
                all(len(s.split()) <= 3 and len(s) <= 24 for s in labels)
                and last[0].box.y1 - above.y2 > 0.3 * h
            ):
                buttons = labels
                rows = rows[:-1]
        if rows and _same_text(_join(rows[:1]), win.title):
            rows = rows[1:]  # a heading that repeats the title
        message = _join(rows)
        severity = classify(win.title) or icon_severity(page.image, box) or classify(message)
        if severity is None:
            return
        page.findings.append(Finding(
            kind="banner" if win.notification else "dialog", title=win.title or None,
            message=message, buttons=buttons, box=box.as_list(), severity=severity,
            source="window", window=win.title or None,
        ))  # fmt: skip

    # terminals -------------------------------------------------------------------------

    def _terminal(self, page: _Page, win: ScreenWindow, box: Box, lines: list[OcrLine]) -> None:
        if lines and _height(lines) < self.small_text and self.terminal_scale > 1:
            crop = page.image.crop((box.x1, box.y1, box.x2, box.y2))
            lines = [_shift(line, box.x1, box.y1) for line in self.ocr.read(crop, scale=self.terminal_scale)]  # fmt: skip
        rest = _tracebacks(page, lines, window=win.title, right=box.x2)
        for group in _error_runs(rows_of(rest), prompt_aware=True):
            title, message = split_label(_join(group))
            page.findings.append(Finding(
                kind="terminal", title=title, message=message, box=_row_box([ln for r in group for ln in r]).as_list(),
                severity=classify(_join(group)) or "error", source="ocr", window=win.title or None,
            ))  # fmt: skip

    # everything else -------------------------------------------------------------------

    def _text(
        self, page: _Page, lines: list[OcrLine], *, container: Box, window: str | None = None
    ) -> None:
        h = _height(lines)
        lines = [ln for ln in lines if not _is_icon(ln, h)]
        lines = _tracebacks(page, lines, window=window)
        rows = rows_of(lines)
        used: set[int] = set()
        for block in _blocks(page.image, lines):
            if id(block[0][0]) in used:
                continue
            text = _join(block)
            h = _height([ln for r in block for ln in r])
            buttons_row = _button_row_below(rows, block, h)
            severity = classify(text)
            if severity is None and buttons_row is not None:
                bbox = _row_box([ln for r in block for ln in r])
                severity = icon_severity(page.image, _pad(Box(
                    x1=bbox.x1 - round(5 * h), y1=bbox.y1, x2=bbox.x2, y2=bbox.y2), round(h), page.image))  # fmt: skip
            if severity is None:
                continue
            title: str | None = None
            body = block
            first = _join(block[:1])
            if (
                len(block) >= 2
                and len(first.split()) <= 4
                and not first.rstrip().endswith((".", ":", ","))
            ):
                title, body = first, block[1:]
            box = _row_box([ln for r in block for ln in r])
            if buttons_row is not None:
                used.add(id(buttons_row))
                box = box.union(_row_box(buttons_row))
                labels = [s for ln in buttons_row for s in segments(ln)]
                page.findings.append(Finding(
                    kind="dialog", title=title, message=_join(body), buttons=labels,
                    box=_pad(box, round(h / 2), page.image).as_list(), severity=severity,
                    source="ocr", window=window,
                ))  # fmt: skip
                continue
            if title is None and len(block) == 1:
                title, message = split_label(text)
            else:
                message = _join(body)
            near_edge = min(box.y1 - container.y1, container.y2 - box.y2) < 0.12 * container.height
            page.findings.append(Finding(
                kind="banner" if len(block) == 1 and near_edge else "inline", title=title,
                message=message, box=box.as_list(), severity=severity, source="ocr", window=window,
            ))  # fmt: skip


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
    page: _Page, lines: list[OcrLine], *, window: str | None, right: int | None = None
) -> list[OcrLine]:
    """Add one terminal finding per Python traceback among ``lines``; return the rest.

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
        page.findings.append(Finding(
            kind="terminal", title=title, message=message, box=box.as_list(), severity="error",
            source="ocr", details=details, window=window,
        ))  # fmt: skip
    return [ln for ln in lines if id(ln) not in used]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop a banner or inline finding that repeats a dialog's message (an app often shows the
    dialog's text in its status bar too)."""
    dialogs = [f for f in findings if f.kind == "dialog"]

    def key(s: str) -> str:
        return re.sub(r"[\W_]+", "", s).casefold()

    out = []
    for f in findings:
        if f.kind in ("banner", "inline") and any(
            key(f.message) and key(f.message) in key(f"{d.title or ''} {d.message}")
            for d in dialogs
        ):
            continue
        out.append(f)
    return out


def read_errors(
    frame: Any, *, windows: Sequence[Any] | None = None, reader: ErrorReader | None = None
) -> list[Finding]:
    """The errors on a frame (a `Frame` or a PIL image).

    ``windows``: `WindowInfo`s (desktop units, as `screenagent.windows.list_windows` gives
    them) or `ScreenWindow`s (frame pixels). Without them, only the pixels are read.
    """
    reader = reader or _default_reader()
    image = frame.image if hasattr(frame, "image") else frame
    wins = frame_windows(frame, windows or ())
    return reader.read(image, wins)


def frame_windows(frame: Any, windows: Sequence[Any]) -> list[ScreenWindow]:
    """Windows mapped onto a frame's pixels (a plain image: desktop = image pixels)."""
    region = getattr(frame, "region", None)
    origin = (region.left, region.top) if region is not None else (0, 0)
    scale = float(getattr(frame, "scale", 1.0))
    return [
        w if isinstance(w, ScreenWindow) else ScreenWindow.from_info(w, origin=origin, scale=scale)
        for w in windows
    ]


_READER: ErrorReader | None = None


def _default_reader() -> ErrorReader:
    global _READER
    if _READER is None:
        _READER = ErrorReader()
    return _READER


# --- with a vision-language model --------------------------------------------------------------

VLM_SYSTEM = (
    "You read computer screens for a support engineer. List every error or warning shown on "
    "the screenshot: error dialogs, banners and status-bar messages, terminal errors and "
    "tracebacks, inline form errors. Answer with one JSON object and nothing else:\n"
    '{"findings": [{"kind": "dialog" | "banner" | "terminal" | "inline", "title": "<title or '
    'null>", "message": "<the message, word for word>", "buttons": ["<button>", ...], '
    '"box": [x1, y1, x2, y2], "severity": "error" | "warning"}]}\n'
    'Boxes are in pixels of the screenshot. Answer {"findings": []} when there is no error.'
)


class VLMFindings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[Finding]


class VLMErrorReader:
    """Reads errors with a vision-language model; answers are validated `Finding`s.

    Args:
        backend: Where the model runs (`Backend.complete`).
        prep: How the image is prepared for the model's family (None: sent as it is). Boxes
            are asked for in pixels of the image the model is sent, and mapped back.
        ocr: Offers the text on screen (with boxes) as a hint; None leaves it out.
        retries: Extra attempts after an unusable answer, each told what was wrong.
    """

    name = "vlm"

    def __init__(
        self, backend: Any, *, prep: Any = None, ocr: OcrEngine | None = None, retries: int = 2,
        hint_lines: int = 80,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.prep = prep
        self.ocr = ocr
        self.retries = retries
        self.hint_lines = hint_lines
        self.attempts: list[dict[str, Any]] = []
        """Each call's prompt, raw answer and error (for logs and tests)."""

    def prompt(self, image: Image.Image, size: tuple[int, int]) -> str:
        sx, sy = size[0] / image.width, size[1] / image.height
        text = f"The screenshot is {size[0]}x{size[1]} pixels."
        if self.ocr is not None:
            lines = sorted(self.ocr.read(image), key=lambda ln: (ln.box.y1, ln.box.x1))
            hint = [
                f"[{int(ln.box.x1 * sx)}, {int(ln.box.y1 * sy)}, {int(ln.box.x2 * sx)}, "
                f"{int(ln.box.y2 * sy)}] {normalize_ws(ln.text)}"
                for ln in lines[: self.hint_lines]
            ]
            if hint:
                text += "\nText read by OCR (box, text), which may help:\n" + "\n".join(hint)
        return text + "\nList the errors and warnings on the screen."

    @staticmethod
    def feedback(error: str, size: tuple[int, int]) -> str:
        """What the model is told after an unusable answer (appended to the prompt)."""
        return (
            f"\n\nYour previous answer could not be used: {error}. Answer again with one JSON "
            f'object {{"findings": [...]}} as described, boxes inside the {size[0]}x{size[1]} '
            "screenshot."
        )

    def read(self, image: Image.Image, windows: Sequence[ScreenWindow] = ()) -> list[Finding]:
        from .policies.base import InvalidOutput
        from .policies.planner import json_object

        size = self.prep.model_size(*image.size) if self.prep is not None else image.size
        sent = self.prep.prepare(image) if self.prep is not None else image
        prompt = self.prompt(image, size)
        feedback = ""
        self.attempts = []
        for _ in range(self.retries + 1):
            raw = self.backend.complete(
                system=VLM_SYSTEM, prompt=prompt + feedback, image=sent
            ).text
            try:
                data = json_object(raw)
                if isinstance(data, dict):
                    for item in data.get("findings") or []:
                        if isinstance(item, dict):
                            item.setdefault("source", "vlm")
                answer = VLMFindings.model_validate(data)
                findings = [_to_frame(f, size, image.size) for f in answer.findings]
            except (InvalidOutput, ValidationError, ValueError) as exc:
                error = _first_error(exc)
                self.attempts.append({"prompt": prompt + feedback, "raw": raw, "error": error})
                feedback = self.feedback(error, size)
                continue
            self.attempts.append({"prompt": prompt + feedback, "raw": raw, "error": None})
            return findings
        last = self.attempts[-1]
        raise InvalidOutput(
            f"the model gave no usable list of findings in {len(self.attempts)} attempt{'s' * (len(self.attempts) != 1)} "
            f"(last error: {last['error']})",
            raw=last["raw"],
        )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}"
    return str(exc).splitlines()[0]


def _to_frame(f: Finding, size: tuple[int, int], frame: tuple[int, int]) -> Finding:
    """A model's finding with its box mapped from the sent image's pixels to the frame's."""
    x1, y1, x2, y2 = f.box
    if x2 > size[0] or y2 > size[1]:
        raise ValueError(
            f"box {f.box} of {f.message[:40]!r} lies outside the {size[0]}x{size[1]} screenshot"
        )
    sx, sy = frame[0] / size[0], frame[1] / size[1]
    box = [int(x1 * sx), int(y1 * sy), max(int(x1 * sx) + 1, round(x2 * sx)),
           max(int(y1 * sy) + 1, round(y2 * sy))]  # fmt: skip
    return f.model_copy(update={"box": box, "source": "vlm", "message": normalize_ws(f.message)})


def read_frame(frame: Any, *, display: str | None, reader: Any = None) -> list[Finding]:
    """The errors on a captured frame, with the windows of X display ``display`` where it
    answers (None, Wayland, macOS, Windows: the pixels alone)."""
    from .errors import DisplayError, MissingDependency
    from .windows import list_windows

    infos: list[Any] = []
    if display:
        with contextlib.suppress(DisplayError, MissingDependency):
            infos = list_windows(display)
    reader = reader or _default_reader()
    return list(reader.read(frame.image, frame_windows(frame, infos)))


class ErrorWatch:
    """For ``run --stop-on-error``: called with each step's frame, it answers a message once an
    error is on the screen that was not there on the first frame (an error dialog the run was
    started to deal with does not stop it)."""

    def __init__(
        self, *, display: str | None, screen: Any = None, reader: Any = None, warnings: bool = False
    ) -> None:
        self.display = display
        self.screen = screen
        """When given, a new error is confirmed on a frame captured after the screen settles
        (a dialog is mapped a moment before it paints its text)."""
        self.reader = reader or _default_reader()
        self.warnings = warnings
        self.baseline: set[tuple[str, str, str]] | None = None
        self.findings: list[Finding] = []

    @staticmethod
    def _key(f: Finding) -> tuple[str, str, str]:
        return f.kind, normalize_ws(f.title or ""), normalize_ws(f.message)

    def _read(self, frame: Any) -> list[Finding]:
        return [
            f for f in read_frame(frame, display=self.display, reader=self.reader)
            if self.warnings or f.severity == "error"
        ]  # fmt: skip

    def __call__(self, frame: Any) -> str | None:
        found = self._read(frame)
        if self.baseline is None:
            self.baseline = {self._key(f) for f in found}
            return None
        new = [f for f in found if self._key(f) not in self.baseline]
        if new and self.screen is not None:
            from .screen import SettleConfig, wait_until_settled

            settled = wait_until_settled(
                self.screen, config=SettleConfig(quiet_seconds=0.3, cap_seconds=3.0)
            )
            new = [f for f in self._read(settled.last) if self._key(f) not in self.baseline]
        self.findings = new
        if not new:
            return None
        return "an error appeared on the screen: " + "; ".join(f.one_line() for f in new)


def read_screen(
    *, display: str | None = None, monitor: int | None = 0, reader: Any = None
) -> tuple[Any, list[Finding]]:
    """Capture the screen (all monitors by default) and read its errors. Returns (frame,
    findings)."""
    import os

    from .screen import MssScreen

    with MssScreen(monitor=monitor, display=display) as screen:
        frame = screen.capture()
    return frame, read_frame(frame, display=display or os.environ.get("DISPLAY"), reader=reader)
