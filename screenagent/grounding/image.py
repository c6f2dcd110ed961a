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


def field_beside(image: Image.Image, label: Box, *, reach: int = 400) -> tuple[int, int] | None:
    """Where to click to type into the field that a text label names.

    Forms put the field right of its label or below it. Walking from the label's edge along
    its centre line, the first change from the background colour is the field's border; the
    click goes a little inside it. Returns None when no such edge is within ``reach`` pixels
    (then the label itself is the best guess: some toolkits focus the field on a label click).
    """
    rgb = image.convert("RGB")
    loaded = rgb.load()
    if loaded is None:  # pragma: no cover
        return None

    def px(x: int, y: int) -> tuple[int, int, int]:
        value = loaded[x, y]
        return value if isinstance(value, tuple) else (int(value),) * 3  # type: ignore[return-value]

    def differs(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
        return max(abs(int(x) - int(y)) for x, y in zip(a, b, strict=False)) > 40

    cx, cy = label.center
    # to the right, along the label's centre row
    start = min(label.x2 + 2, rgb.width - 1)
    background = px(start, cy)
    panel = px(max(0, label.x1 - 3), cy)
    if max(abs(a - b) for a, b in zip(background, panel, strict=False)) > 24:
        # OCR's box ran into the field (a white entry on a grey panel): we are already inside it
        return min(rgb.width - 1, start + 8), cy
    for x in range(start, min(rgb.width, start + reach)):
        if differs(px(x, cy), background):
            inside = min(rgb.width - 1, x + 12)
            return inside, cy
    # below, along the label's centre column (a field under its label)
    start = min(label.y2 + 2, rgb.height - 1)
    background = px(cx, start)
    for y in range(start, min(rgb.height, start + reach // 4)):
        if differs(px(cx, y), background):
            return cx, min(rgb.height - 1, y + 8)
    return None
