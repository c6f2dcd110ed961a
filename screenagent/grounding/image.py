"""Pixel-level helpers for targets that OCR cannot name: template matching (icons, recorded
patches) and the input field beside a text label."""

from __future__ import annotations

from PIL import Image

from ..errors import MissingDependency
from ..geometry import Box

SCALES = (1.0, 0.9, 1.1, 0.8, 1.25, 0.75, 1.5, 2.0, 0.5)
"""Template sizes tried, best guesses first: the same icon drawn at another DPI or theme."""


def match_template(
    image: Image.Image,
    template: Image.Image,
    *,
    threshold: float,
    scales: tuple[float, ...] = SCALES,
) -> list[tuple[Box, float]]:
    """Every place ``template`` appears in ``image`` with a normalised correlation of at least
    ``threshold``, at any of ``scales``; overlapping matches keep only the best. Best first."""
    try:
        import cv2
        import numpy as np
    except ImportError as exc:
        raise MissingDependency(
            "OpenCV (for image targets)", "Install it with `pip install 'screenagent[ocr]'`."
        ) from exc
    tpl = np.asarray(template.convert("L"))
    screen = np.asarray(image.convert("L"))
    found: list[tuple[Box, float]] = []
    for scale in scales:
        th, tw = round(tpl.shape[0] * scale), round(tpl.shape[1] * scale)
        if th < 4 or tw < 4 or th > screen.shape[0] or tw > screen.shape[1]:
            continue
        scaled = tpl if scale == 1.0 else cv2.resize(tpl, (tw, th), interpolation=cv2.INTER_AREA)
        if float(scaled.std()) < 1e-3:
            continue  # a flat template matches everywhere and nowhere
        result = cv2.matchTemplate(screen, scaled, cv2.TM_CCOEFF_NORMED)
        ys, xs = np.where(result >= threshold)
        for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
            found.append((Box(x1=x, y1=y, x2=x + tw, y2=y + th), float(result[y, x])))
    # Non-maximum suppression: keep the best of overlapping matches.
    found.sort(key=lambda m: -m[1])
    kept: list[tuple[Box, float]] = []
    for box, score in found:
        cx, cy = box.center
        if not any(k.contains_point(cx, cy) for k, _ in kept):
            kept.append((box, score))
    return kept


class _Pixels:
    """Pixel reads for edge walks: colour, "differs from the background", runs of change."""

    def __init__(self, image: Image.Image) -> None:
        self.rgb = image.convert("RGB")
        self.width, self.height = self.rgb.size
        self.data = self.rgb.load()

    def px(self, x: int, y: int) -> tuple[int, ...]:
        value = self.data[x, y]  # type: ignore[index]
        return value if isinstance(value, tuple) else (int(value),) * 3

    @staticmethod
    def differs(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
        return max(abs(int(x) - int(y)) for x, y in zip(a, b, strict=False)) > tolerance

    def run(self, x: int, y: int, dx: int, dy: int, background: tuple[int, ...], n: int) -> int:
        """How many pixels from (x, y) along (dx, dy) differ from the background."""
        k = 0
        while k < n and 0 <= x + k * dx < self.width and 0 <= y + k * dy < self.height:
            if not self.differs(self.px(x + k * dx, y + k * dy), background):
                break
            k += 1
        return k


def _edge_right(p: _Pixels, label: Box, reach: int) -> tuple[int, tuple[int, int]] | None:
    """A vertical edge right of the label on its centre row: (distance, a point inside)."""
    cy = label.center[1]
    start = min(label.x2 + 2, p.width - 1)
    background = p.px(start, cy)
    for x in range(start, min(p.width, start + reach)):
        if p.differs(p.px(x, cy), background):
            tall = p.run(x, cy, 0, -1, background, 40) + p.run(x, cy, 0, 1, background, 40)
            return (x - start, (min(p.width - 1, x + 12), cy)) if tall >= max(12, label.height) else None
    return None


def _edge_below(p: _Pixels, label: Box, reach: int) -> tuple[int, tuple[int, int]] | None:
    """A horizontal edge below the label, down its left part: (distance, a point inside)."""
    column = min(label.x1 + max(4, min(label.width // 4, 20)), p.width - 1)
    start = min(label.y2 + 2, p.height - 1)
    background = p.px(column, start)
    panel = p.px(max(0, label.x1 - 3), label.center[1])
    if p.differs(background, panel, 24):  # OCR's box reached into the field below: inside it
        return 0, (label.center[0], min(p.height - 1, start + 6))
    for y in range(start, min(p.height, start + reach)):
        if p.differs(p.px(column, y), background):
            wide = p.run(column, y, 1, 0, background, 60) + p.run(column, y, -1, 0, background, 60)
            return (y - start, (label.center[0], min(p.height - 1, y + 8))) if wide >= 40 else None
    return None


def field_beside(image: Image.Image, label: Box, *, reach: int = 400) -> tuple[int, int] | None:
    """Where to click to type into the field that a text label names.

    Forms put the field right of its label or below it. Walking from the label's edge along
    its centre row (and down its left part), the first change from the background colour that
    looks like a box's edge (a vertical edge to the right, a horizontal one below, not the
    strokes of the next label's letters) is the field's border; the nearer of the two wins and
    the click goes a little inside it. Returns None when neither is within reach (then the
    label itself is the best guess: some toolkits focus the field on a label click).
    """
    p = _Pixels(image)
    start = min(label.x2 + 2, p.width - 1)
    cy = label.center[1]
    panel = p.px(max(0, label.x1 - 3), cy)
    if max(abs(a - b) for a, b in zip(p.px(start, cy), panel, strict=False)) > 24:
        # OCR's box ran into the field (a white entry on a grey panel): we are already inside it
        return min(p.width - 1, start + 8), cy
    found = [e for e in (_edge_right(p, label, reach), _edge_below(p, label, reach // 4)) if e]
    return min(found)[1] if found else None
