"""`ErrorGuard`: errors on the screen watched through a whole run, by default.

- ``start(frame)``: what is on the screen when the run starts is the baseline (a run started
  to deal with an error dialog is not stopped by it);
- ``check(frame)`` after each action: the findings that are new. A frame identical to the last
  one checked costs a comparison; a frame the grounder (or a read-back) already read costs
  nothing; a new one is read through the grounder's OCR cache (text detection over the frame,
  recognition only of line crops not seen before), and the grounder then finds it read;
- ``allow(text)``: an error the steps expect (``expect_error``) is no failure from then on;
- ``final(screen)``: before a run is called a success, the final screen is watched for a grace
  period, since apps report failures late (featherpad's "Cannot be saved!" banner appears after
  the dialog that caused it has closed and the screen has settled).

A finding counts as the same as an earlier one when kind, title and message read alike (OCR of
the same pixels in a different crop can differ by a character).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..grounding.text import normalize, similarity
from ..ocr import OcrLine
from .model import Finding
from .reader import _default_reader, frame_windows


def default_grace() -> float:
    """The final screen's grace period: 2 s, or ``$SCREENAGENT_ERROR_GRACE`` (seconds)."""
    import os

    try:
        return max(0.0, float(os.environ.get("SCREENAGENT_ERROR_GRACE", "2")))
    except ValueError:
        return 2.0


CONFIRM_AFTER = 0.5
"""Seconds before a new error on the screen is read again to confirm it."""


def _same(a: Finding, b: Finding) -> bool:
    """The same error: the same message (an error that moved from its dialog to the status
    bar when the dialog closed is not new), or the same kind and title for one without."""
    ta, tb = normalize(a.title or ""), normalize(b.title or "")
    ma, mb = normalize(a.message), normalize(b.message)
    if ma and mb:
        return similarity(ma, mb) >= 0.85
    return a.kind == b.kind and similarity(ta, tb) >= 0.85 and not (ma or mb)


def _still_shown(f: Finding, lines: Sequence[OcrLine]) -> bool:
    """Whether the start of the finding's message is still among the lines (an error dialog
    that turned out to be a file chooser is still there; a banner that went is not)."""
    head = normalize(f.message)[:30]
    if not head:
        return False
    for line in lines:
        text = normalize(line.text)
        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == " "]
        if any(similarity(head, text[i : i + len(head)]) >= 0.9 for i in starts):
            return True
    return False


@dataclass
class WatchStats:
    """What the watch cost (for benchmarks and the step log)."""

    checks: int = 0
    unchanged: int = 0
    full_reads: int = 0
    shared_reads: int = 0
    seconds: float = 0.0


@dataclass
class ErrorGuard:
    """Watches a run's screen for new errors (see the module docstring).

    Args:
        display: The X display (its windows tell dialogs from the rest).
        reader: The error reader (share the grounder's OCR: `StepRunner.error_reader`).
        tree: The accessibility tree reader (exact dialog titles, messages, buttons).
        warnings: Warnings count too (default: errors only).
        grace: Seconds the final screen is watched before a success (``final``).
        fail: False: new errors are recorded as warnings and the run goes on
            (``--allow-errors``).
    """

    display: str | None = None
    reader: Any = None
    tree: Any = None
    warnings: bool = False
    grace: float = 2.0
    fail: bool = True
    baseline: list[Finding] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    stats: WatchStats = field(default_factory=WatchStats)
    started: bool = False
    flickers: list[tuple[Finding, Any]] = field(default_factory=list)
    _image: Image.Image | None = None
    _lines: list[OcrLine] = field(default_factory=list)
    _found: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = self.reader or _default_reader()

    # -- reading ---------------------------------------------------------------------------

    def _read_lines(self, image: Image.Image) -> list[OcrLine]:
        """OCR lines of the frame, through the grounder's OCR cache (a frame the grounder or a
        read-back has read costs nothing; a new one is detected whole, and only the lines whose
        pixels are new are recognised: `screenagent.ocr.RapidOcrEngine`)."""
        ocr = self.reader.ocr
        known = ocr.peek(image) if hasattr(ocr, "peek") else None
        if known is not None:
            self.stats.shared_reads += 1
            return list(known)
        self.stats.full_reads += 1
        return list(ocr.read(image))

    def read(self, frame: Any) -> list[Finding]:
        """Every error (and warning, with ``warnings``) on the frame."""
        image = frame.image
        if self._image is not None and image.size == self._image.size and image.tobytes() == self._image.tobytes():
            self.stats.unchanged += 1
            return self._found
        lines = self._read_lines(image)
        infos: list[Any] = []
        if self.display:
            from ..errors import DisplayError, MissingDependency
            from ..windows import list_windows

            with contextlib.suppress(DisplayError, MissingDependency):
                infos = list_windows(self.display)
        found = list(self.reader.read(image, frame_windows(frame, infos), lines=lines))
        if self.tree is not None and found:
            from .tree import refine_with_tree

            found = refine_with_tree(found, self.tree.view(image))
        found = [f for f in found if self.warnings or f.severity == "error"]
        self._image, self._lines, self._found = image, lines, found
        return found

    # -- the run ---------------------------------------------------------------------------

    def forget(self) -> None:
        """Read the next frame afresh: no reuse of the last frame's lines, findings or tree."""
        self._image, self._lines, self._found = None, [], []
        forget = getattr(self.tree, "forget", None)
        if forget is not None:
            forget()

    def start(self, frame: Any) -> None:
        """Take the baseline: the errors already on the screen."""
        start = time.perf_counter()
        self.baseline = self.read(frame)
        self.started = True
        self.stats.seconds += time.perf_counter() - start

    def allow(self, text: str) -> None:
        """From now on, findings whose title or message contains ``text`` are expected."""
        self.allowed.append(normalize(text))

    def _new(self, found: Sequence[Finding]) -> list[Finding]:
        def allowed(f: Finding) -> bool:
            words = normalize(f"{f.title or ''} {f.message}")
            return any(a and a in words for a in self.allowed)

        return [f for f in found if not any(_same(f, b) for b in self.baseline) and not allowed(f)]

    def check(self, frame: Any) -> list[Finding]:
        """The new errors on this frame (empty: none)."""
        start = time.perf_counter()
        if not self.started:
            self.start(frame)
            return []
        self.stats.checks += 1
        new = self._new(self.read(frame))
        self.stats.seconds += time.perf_counter() - start
        return new

    def after_action(self, screen: Any, *, confirm_after: float = CONFIRM_AFTER) -> tuple[list[Finding], Any]:
        """The new errors on the screen after an action, and the frame they are on. A new
        error is confirmed on a frame read afresh ``confirm_after`` seconds later (no reuse of
        lines, findings or tree views): a dialog is painted before its tree node exists, a
        banner fades in (half-read text)."""
        frame = screen.capture()
        new = self.check(frame)
        if new:
            first, seen_on = new, frame
            time.sleep(confirm_after)
            self.forget()
            frame = screen.capture()
            new = self.check(frame)
            if not new:  # gone: a banner that flashed by, unless its text is still there
                self.flickers += [(f, seen_on) for f in first if not _still_shown(f, self._lines)]
        return new, frame

    def take_flickers(self) -> list[tuple[Finding, Any]]:
        """Errors that showed after an action and were gone half a second later (a banner that
        flashed by), with the frame each was seen on; the caller records them as warnings."""
        flickers, self.flickers = self.flickers, []
        return flickers

    def final(self, screen: Any, grace: float | None = None, *, poll: float = 0.25) -> tuple[list[Finding], Any]:
        """Watch the screen for ``grace`` seconds (default: the guard's); the new errors that
        appeared (reading only when the frame changed) and the frame they were seen on."""
        deadline = time.monotonic() + (self.grace if grace is None else grace)
        frame = screen.capture()
        while True:
            new = self.check(frame)
            if new or time.monotonic() >= deadline:
                return new, frame
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
            frame = screen.capture()


def describe(found: Sequence[Finding]) -> str:
    return "; ".join(f.one_line() for f in found)

