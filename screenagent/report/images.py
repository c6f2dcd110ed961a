"""The report's pictures: a step's action drawn on the frame it acted on (the click point and
target box, the drag path, the scroll direction, the typed text), cropped to what is on the
screen (a small window on a large dark root would be a speck), a thumbnail for the film strip.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFont

from ..steplog import StepRecord

MAX_WIDTH = 1280
"""Annotated screenshots wider than this are scaled down (a report of hundreds of steps stays
small)."""
THUMB_WIDTH = 168
JPEG_QUALITY = 78

CROP_MARGIN = 32
"""Pixels kept around the screen's content (and the step's marks) when cropping."""


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1
        return ImageFont.load_default()


def _target_box(step: StepRecord) -> list[int] | None:
    """The grounded target's box: from the step's typed info, else from a planner's log."""
    if step.step is not None and step.step.grounding is not None:
        return list(step.step.grounding.box)
    for attempt in reversed(step.attempts):
        grounding = attempt.meta.get("grounding") if isinstance(attempt.meta, dict) else None
        if isinstance(grounding, dict) and isinstance(grounding.get("box"), list):
            return [int(v) for v in grounding["box"]]
    return None


def zoom_of(step: StepRecord) -> dict[str, Any] | None:
    """The step's zoom-in pass (first answer, window, second answer), wherever it was logged:
    the step's grounding, a model policy's meta, a planner's grounding meta."""
    if step.step is not None and step.step.grounding is not None and step.step.grounding.zoom:
        return step.step.grounding.zoom.model_dump()
    for attempt in reversed(step.attempts):
        meta = attempt.meta if isinstance(attempt.meta, dict) else {}
        for zoom in (meta.get("zoom"), (meta.get("grounding") or {}).get("zoom")):
            if isinstance(zoom, dict) and isinstance(zoom.get("window"), list):
                return zoom
    return None


def _draw_zoom(draw: ImageDraw.ImageDraw, zoom: dict[str, Any]) -> None:
    """The window asked about again (dashed amber) and the first answer (a hollow amber ring);
    the final point is drawn as every step's point."""
    amber = (245, 160, 0, 255)
    x1, y1, x2, y2 = (int(v) for v in zoom["window"])
    for x in range(x1, x2, 16):
        draw.line([x, y1, min(x + 8, x2), y1], fill=amber, width=2)
        draw.line([x, y2, min(x + 8, x2), y2], fill=amber, width=2)
    for y in range(y1, y2, 16):
        draw.line([x1, y, x1, min(y + 8, y2)], fill=amber, width=2)
        draw.line([x2, y, x2, min(y + 8, y2)], fill=amber, width=2)
    fx, fy = (int(v) for v in zoom["first"])
    draw.ellipse([fx - 9, fy - 9, fx + 9, fy + 9], outline=amber, width=3)


def _frame_points(step: StepRecord) -> list[tuple[int, int]]:
    a = step.action or {}
    points = []
    if "x" in a and a.get("x") is not None and a.get("y") is not None:
        points.append((int(a["x"]), int(a["y"])))
    if "to_x" in a:
        points.append((int(a["to_x"]), int(a["to_y"])))
    return points


def annotate(image: Image.Image, step: StepRecord) -> Image.Image:
    """Draw the step's action on a copy of the frame the policy saw."""
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img, "RGBA")
    a = step.action or {}
    kind = a.get("action")
    red, blue = (230, 30, 40, 255), (20, 110, 240, 255)
    box = _target_box(step)
    if box:
        draw.rectangle(box, outline=blue, width=3)
    zoom = zoom_of(step)
    if zoom:
        _draw_zoom(draw, zoom)
    points = _frame_points(step)
    if kind == "drag" and len(points) == 2:
        (x0, y0), (x1, y1) = points
        draw.line([x0, y0, x1, y1], fill=red, width=4)
        draw.ellipse([x0 - 7, y0 - 7, x0 + 7, y0 + 7], outline=red, width=3)
        draw.polygon(_arrow_head(x0, y0, x1, y1), fill=red)
    elif kind == "scroll":
        x, y = points[0] if points else (img.width // 2, img.height // 2)
        dy = {"up": -60, "down": 60}.get(a.get("direction", ""), 0)
        dx = {"left": -60, "right": 60}.get(a.get("direction", ""), 0)
        draw.line([x, y, x + dx, y + dy], fill=red, width=5)
        draw.polygon(_arrow_head(x, y, x + dx, y + dy), fill=red)
    else:
        for x, y in points:
            draw.ellipse([x - 14, y - 14, x + 14, y + 14], outline=red, width=4)
            draw.line([x - 22, y, x + 22, y], fill=red, width=2)
            draw.line([x, y - 22, x, y + 22], fill=red, width=2)
    label = _label(a)
    if label:
        font = _font(18)
        x, y = points[0] if points else (12, 12)
        tx, ty = min(x + 20, img.width - 10), max(y - 38, 4)
        bbox = draw.textbbox((tx, ty), label, font=font)
        if bbox[2] > img.width - 4:
            shift = int(bbox[2] - (img.width - 4))
            tx -= int(shift)
            bbox = (bbox[0] - shift, bbox[1], bbox[2] - shift, bbox[3])
        draw.rectangle([bbox[0] - 6, bbox[1] - 4, bbox[2] + 6, bbox[3] + 4], fill=(20, 20, 20, 200))
        draw.text((tx, ty), label, fill=(255, 255, 255, 255), font=font)
    return img


def _label(a: dict[str, Any]) -> str:
    kind = a.get("action")
    if kind == "type":
        text = str(a.get("text", ""))
        return "type " + (text if len(text) <= 40 else text[:37] + "…")
    if kind == "key":
        return "press " + "+".join(a.get("keys", []))
    if kind == "click" and (a.get("clicks", 1) != 1 or a.get("button", "left") != "left"):
        return f"{a.get('button', 'left')} ×{a.get('clicks', 1)}"
    return ""


def _arrow_head(
    x0: float, y0: float, x1: float, y1: float, size: float = 16
) -> list[tuple[float, float]]:
    import math

    angle = math.atan2(y1 - y0, x1 - x0)
    left = (x1 - size * math.cos(angle - 0.45), y1 - size * math.sin(angle - 0.45))
    right = (x1 - size * math.cos(angle + 0.45), y1 - size * math.sin(angle + 0.45))
    return [(x1, y1), left, right]


def _background(rgb: Image.Image) -> tuple[int, int, int]:
    """The colour most of the frame's edge shows: the root window's (a window in a corner
    covers only part of the edge)."""
    w, h = rgb.size
    edge = [(x, 0) for x in range(0, w, 4)] + [(x, h - 1) for x in range(0, w, 4)]
    edge += [(0, y) for y in range(0, h, 4)] + [(w - 1, y) for y in range(0, h, 4)]
    counts = Counter(rgb.getpixel(p) for p in edge)
    return counts.most_common(1)[0][0]  # type: ignore[return-value]


def content_box(image: Image.Image, marks: list[tuple[int, int]], *, tolerance: int = 14
                ) -> tuple[int, int, int, int]:  # fmt: skip
    """The part of the frame worth showing: what differs from the background colour (the
    root window's, `_background`), grown to hold every mark, with a margin. The whole frame
    when the content fills most of it."""
    rgb = image.convert("RGB")
    bg = Image.new("RGB", rgb.size, _background(rgb))
    diff = ImageChops.difference(rgb, bg).convert("L").point(lambda v: 255 if v > tolerance else 0)
    box = diff.getbbox()
    if box is None:
        return (0, 0, rgb.width, rgb.height)
    x1, y1, x2, y2 = box
    for x, y in marks:
        x1, y1, x2, y2 = min(x1, x), min(y1, y), max(x2, x + 1), max(y2, y + 1)
    x1, y1 = max(0, x1 - CROP_MARGIN), max(0, y1 - CROP_MARGIN)
    x2, y2 = min(rgb.width, x2 + CROP_MARGIN), min(rgb.height, y2 + CROP_MARGIN)
    if (x2 - x1) * (y2 - y1) > 0.8 * rgb.width * rgb.height:
        return (0, 0, rgb.width, rgb.height)
    return (x1, y1, x2, y2)


def marks(step: StepRecord) -> list[tuple[int, int]]:
    """The points a crop must keep: the action's points and the target box's corners."""
    out = _frame_points(step)
    box = _target_box(step)
    if box:
        out += [(box[0], box[1]), (box[2], box[3])]
    zoom = zoom_of(step)
    if zoom:
        out.append((int(zoom["first"][0]), int(zoom["first"][1])))
    return out


def save_jpeg(image: Image.Image, path: Path, *, width: int = MAX_WIDTH, quality: int = JPEG_QUALITY) -> None:
    """Save scaled down to ``width`` at most."""
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)),
                             Image.Resampling.LANCZOS)  # fmt: skip
    image.convert("RGB").save(path, quality=quality, optimize=True)
