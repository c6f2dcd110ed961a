"""The embedded reader: windows, OCR and layout into findings, with no weights, and the live
screen (runs watch it through `screenagent.findings.watch.ErrorGuard`)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..geometry import Box
from ..ocr import CachedOcr, OcrEngine, OcrLine, RapidOcrEngine
from .layout import (
    _blocks,
    _button_row_below,
    _clip,
    _height,
    _inside,
    _is_icon,
    _join,
    _pad,
    _row_box,
    _same_text,
    _shift,
    icon_severity,
    rows_of,
    segments,
    text_key,
)
from .model import Finding, classify, split_label
from .terminal import _error_runs, _tracebacks

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
        rest = _tracebacks(page.findings, lines, window=win.title, right=box.x2)
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
        lines = _tracebacks(page.findings, lines, window=window)
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


TITLE_BAR = 45
"""Pixels above a dialog where a window manager draws its title bar."""


def _title_bar_of(f: Finding, dialogs: list[Finding]) -> Finding | None:
    """The dialog whose title bar ``f`` is: one line just above the dialog, over its width."""
    if f.kind not in ("banner", "inline") or "\n" in f.message:
        return None
    x1, y1, x2, y2 = f.box
    for d in dialogs:
        dx1, dy1, dx2, _ = d.box
        overlap = min(x2, dx2) - max(x1, dx1)
        if dy1 - TITLE_BAR <= y1 and y2 <= dy1 + 4 and overlap > 0.5 * (x2 - x1):
            return d
    return None


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop a banner or inline finding that repeats a dialog's message (an app often shows the
    dialog's text in its status bar too), or that is the dialog's title bar (drawn by a window
    manager above the dialog; from the pixels alone it becomes the dialog's title)."""
    dialogs = [f for f in findings if f.kind == "dialog"]
    keys = [text_key(f"{f.title or ''} {f.message}") for f in dialogs]
    out: list[Finding] = []
    titled: dict[int, str] = {}
    for f in findings:
        key = text_key(f.message)
        if f.kind in ("banner", "inline") and key and any(key in d for d in keys):
            continue
        owner = _title_bar_of(f, dialogs)
        if owner is not None:
            titled.setdefault(id(owner), f.message)
            continue
        out.append(f)
    return [f.model_copy(update={"title": titled[id(f)]}) if id(f) in titled and not f.title
            else f for f in out]  # fmt: skip


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


def read_frame(frame: Any, *, display: str | None, reader: Any = None,
               tree: Any = None) -> list[Finding]:  # fmt: skip
    """The errors on a captured frame, with the windows of X display ``display`` where it
    answers (None, Wayland, macOS, Windows: the pixels alone), and dialogs made exact by the
    accessibility tree (a `screenagent.a11y.TreeReader`) where there is one."""
    from ..errors import DisplayError, MissingDependency
    from ..windows import list_windows

    infos: list[Any] = []
    if display:
        with contextlib.suppress(DisplayError, MissingDependency):
            infos = list_windows(display)
    reader = reader or _default_reader()
    found = list(reader.read(frame.image, frame_windows(frame, infos)))
    if tree is not None and found:
        from .tree import refine_with_tree

        found = refine_with_tree(found, tree.view(frame.image))
    return found


def read_screen(
    *, display: str | None = None, monitor: int | None = 0, reader: Any = None
) -> tuple[Any, list[Finding]]:
    """Capture the screen (all monitors by default) and read its errors. Returns (frame,
    findings)."""
    import os

    from ..screen import MssScreen

    with MssScreen(monitor=monitor, display=display) as screen:
        frame = screen.capture()
    return frame, read_frame(frame, display=display or os.environ.get("DISPLAY"), reader=reader)
