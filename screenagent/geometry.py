"""Coordinate spaces and the one transform between them.

Spaces:
- ``frame``: pixels of the captured image (what the policy sees and what actions hold).
- ``screen``: the coordinates the input library (pyautogui) takes: logical points on the
  whole desktop, including the captured monitor's offset.

A frame covers ``region`` (in screen units) with ``image`` pixels; on a 2x HiDPI screen the
image has twice as many pixels per side as the region has points, so ``scale`` is 2. Model
spaces (resized inputs, 0-1000 relative) map into the frame in the dialects, through the
helpers here, and nowhere else.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True, kw_only=True)
class Box:
    """An axis-aligned box in frame pixels: ``x1``/``y1`` inclusive, ``x2``/``y2`` exclusive."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def center(self) -> tuple[int, int]:
        return (self.x1 + self.x2) // 2, (self.y1 + self.y2) // 2

    def intersects(self, other: Box) -> bool:
        """Whether the two boxes share at least one pixel."""
        return self.x1 < other.x2 and other.x1 < self.x2 and self.y1 < other.y2 and other.y1 < self.y2

    def contains_point(self, x: float, y: float) -> bool:
        return self.x1 <= x < self.x2 and self.y1 <= y < self.y2

    def contains(self, other: Box) -> bool:
        return (
            self.x1 <= other.x1
            and self.y1 <= other.y1
            and other.x2 <= self.x2
            and other.y2 <= self.y2
        )

    def union(self, other: Box) -> Box:
        return Box(
            x1=min(self.x1, other.x1),
            y1=min(self.y1, other.y1),
            x2=max(self.x2, other.x2),
            y2=max(self.y2, other.y2),
        )

    def as_list(self) -> list[int]:
        return [self.x1, self.y1, self.x2, self.y2]

    @classmethod
    def from_points(cls, points: Any) -> Box:
        """The bounding box of a quadrilateral ``[[x, y], ...]`` (what OCR engines return)."""
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        return cls(x1=int(min(xs)), y1=int(min(ys)), x2=round(max(xs)) + 1, y2=round(max(ys)) + 1)



@dataclass(frozen=True, kw_only=True)
class Rect:
    """An axis-aligned rectangle: ``left``/``top`` inclusive, ``width``/``height`` in units."""

    left: int
    top: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"a rectangle needs a positive size, got {self.width}x{self.height}")

    @property
    def right(self) -> int:
        """One past the last column."""
        return self.left + self.width

    @property
    def bottom(self) -> int:
        """One past the last row."""
        return self.top + self.height

    def contains(self, x: float, y: float) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom

    def contains_rect(self, other: Rect) -> bool:
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    @classmethod
    def parse(cls, text: str) -> Rect:
        """Parse ``X,Y,W,H`` (what ``--region`` takes)."""
        parts = text.replace(" ", "").split(",")
        try:
            left, top, width, height = (int(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"expected a region as X,Y,WIDTH,HEIGHT in integers, got {text!r}"
            ) from None
        return cls(left=left, top=top, width=width, height=height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}+{self.left}+{self.top}"


@dataclass(frozen=True, kw_only=True)
class Frame:
    """One captured image and where it sits on the screen.

    Attributes:
        image: The pixels, RGB.
        region: The part of the desktop the image shows, in screen units.
        monitor: mss monitor index the capture came from (None for a bare region or an image).
        captured_at: ``time.monotonic()`` at capture.
    """

    image: Image.Image
    region: Rect
    monitor: int | None = None
    captured_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        sx = self.image.width / self.region.width
        sy = self.image.height / self.region.height
        if not math.isclose(sx, sy, rel_tol=0.01):
            raise ValueError(
                f"frame {self.image.width}x{self.image.height} does not cover region {self.region} "
                f"at one scale ({sx:.3f} across, {sy:.3f} down)"
            )

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def scale(self) -> float:
        """Frame pixels per screen unit: 1.0 normally, 2.0 on a 2x HiDPI screen."""
        return self.image.width / self.region.width

    def to_screen(self, x: int, y: int) -> tuple[int, int]:
        """Frame pixel -> the screen point whose pixel contains that frame pixel's centre."""
        return frame_to_screen(x, y, region=self.region, scale=self.scale)

    def from_screen(self, sx: int, sy: int) -> tuple[int, int]:
        """Screen point -> the frame pixel at that point's centre."""
        return screen_to_frame(sx, sy, region=self.region, scale=self.scale)


def frame_to_screen(x: float, y: float, *, region: Rect, scale: float) -> tuple[int, int]:
    """THE transform from frame pixels to screen coordinates (pyautogui's).

    Frame pixel ``x`` covers screen ``[x/scale, (x+1)/scale)``; we aim at the screen pixel
    that holds its centre, ``floor((x + 0.5) / scale)``, offset by the region's origin. At
    scale 1 this is the identity plus the offset.
    """
    return (
        region.left + math.floor((x + 0.5) / scale),
        region.top + math.floor((y + 0.5) / scale),
    )


def screen_to_frame(sx: float, sy: float, *, region: Rect, scale: float) -> tuple[int, int]:
    """Inverse of `frame_to_screen`: the frame pixel under the centre of screen pixel (sx, sy)."""
    return (
        math.floor((sx - region.left + 0.5) * scale),
        math.floor((sy - region.top + 0.5) * scale),
    )


# --- model spaces -----------------------------------------------------------------------------


def smart_resize(
    height: int, width: int, *, factor: int = 28, min_pixels: int = 3136, max_pixels: int = 12845056
) -> tuple[int, int]:
    """The size a Qwen-family processor resizes an image to, as ``(height, width)``.

    The algorithm of qwen-vl-utils' ``smart_resize`` (Qwen2-VL/2.5-VL/3-VL and the models built
    on them): round each side to a multiple of ``factor`` (Python's round: half to even), then,
    if the pixel count leaves ``[min_pixels, max_pixels]``, rescale from the original size and
    floor (too many) or ceil (too few) to the factor.
    """
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"aspect ratio of {width}x{height} is above 200")
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = math.floor(height / beta / factor) * factor
        w = math.floor(width / beta / factor) * factor
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w


@dataclass(frozen=True, kw_only=True)
class ModelSpace:
    """The space a model's coordinates are in.

    Attributes:
        width, height: For ``pixels``: the size of the image the model saw (after its resize).
            For ``relative``: the extent of each axis (1000, 999 or 1.0).
        kind: ``pixels`` of the model input, or ``relative`` to the image.
    """

    kind: str
    width: float
    height: float

    @classmethod
    def relative(cls, extent: float) -> ModelSpace:
        return cls(kind="relative", width=extent, height=extent)

    @classmethod
    def pixels(cls, width: int, height: int) -> ModelSpace:
        return cls(kind="pixels", width=width, height=height)

    def describe(self) -> str:
        if self.kind == "relative" and self.width == self.height:
            return f"relative 0-{self.width:g}"
        if self.kind == "relative":
            return f"relative 0-{self.width:g} by 0-{self.height:g}"
        return f"pixels of a {self.width:g}x{self.height:g} model input"


def model_to_frame(
    x: float, y: float, *, space: ModelSpace, frame_width: int, frame_height: int
) -> tuple[int, int]:
    """A point in a model's space -> the frame pixel it names.

    ``x * frame_width / space.width``, truncated to the pixel that holds it (every official
    conversion truncates or rounds; truncation is within one pixel of all of them and never
    leaves the image). The far edge itself (``x == space.width``) names the last pixel.
    Anything outside ``[0, extent]`` raises ValueError naming the bound: it is an invalid model
    answer, never clamped.
    """
    for name, v, extent in (("x", x, space.width), ("y", y, space.height)):
        if not (0 <= v <= extent) or math.isnan(v):
            raise ValueError(
                f"{name}={v:g} is outside the model's {space.describe()} space (0..{extent:g})"
            )
    fx = min(frame_width - 1, math.floor(x * frame_width / space.width))
    fy = min(frame_height - 1, math.floor(y * frame_height / space.height))
    return fx, fy


# --- the zoom-in pass -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ZoomWindow:
    """The zoom-in pass's space: the part of the frame around a first answer (``box``, frame
    pixels), sent to the model as an image of ``size`` pixels.

    A crop pixel ``x`` covers frame ``[x1 + x * box.width / size[0], ...)``; `to_frame` aims at
    the frame pixel holding its centre, `from_frame` is its inverse (within one crop pixel).
    """

    box: Box
    size: tuple[int, int]

    def __post_init__(self) -> None:
        if self.box.width <= 0 or self.box.height <= 0 or min(self.size) <= 0:
            raise ValueError(f"a zoom window needs a positive size, got {self.box} -> {self.size}")

    @classmethod
    def around(cls, x: int, y: int, *, frame_size: tuple[int, int], factor: float,
               size: tuple[int, int] | None = None) -> ZoomWindow:  # fmt: skip
        """A window of ``1/factor`` of the frame on each side, centred on (x, y) and moved
        (never shrunk) to lie inside the frame; sent at ``size`` (default: the frame's size,
        the model input size of a whole screenshot)."""
        if not factor > 1:
            raise ValueError(f"a zoom factor must be above 1, got {factor:g}")
        fw, fh = frame_size
        w, h = max(1, round(fw / factor)), max(1, round(fh / factor))
        x1 = min(max(0, x - w // 2), fw - w)
        y1 = min(max(0, y - h // 2), fh - h)
        return cls(box=Box(x1=x1, y1=y1, x2=x1 + w, y2=y1 + h), size=size or (fw, fh))

    @property
    def magnification(self) -> float:
        """Crop pixels per frame pixel."""
        return self.size[0] / self.box.width

    def to_frame(self, x: float, y: float) -> tuple[int, int]:
        """A pixel of the sent crop -> the frame pixel under its centre."""
        if not (0 <= x < self.size[0] and 0 <= y < self.size[1]):
            raise ValueError(f"({x:g}, {y:g}) is outside the {self.size[0]}x{self.size[1]} crop")
        return (
            self.box.x1 + math.floor((x + 0.5) * self.box.width / self.size[0]),
            self.box.y1 + math.floor((y + 0.5) * self.box.height / self.size[1]),
        )

    def from_frame(self, fx: float, fy: float) -> tuple[int, int]:
        """Inverse of `to_frame`: the crop pixel under the centre of frame pixel (fx, fy)."""
        if not self.box.contains_point(fx, fy):
            raise ValueError(f"({fx:g}, {fy:g}) is outside the zoom window {self.box.as_list()}")
        return (
            math.floor((fx - self.box.x1 + 0.5) * self.size[0] / self.box.width),
            math.floor((fy - self.box.y1 + 0.5) * self.size[1] / self.box.height),
        )

    def crop(self, image: Image.Image) -> Image.Image:
        """The window's pixels at ``size`` (what the zoom-in pass sends)."""
        from PIL import Image as PILImage

        part = image.crop((self.box.x1, self.box.y1, self.box.x2, self.box.y2))
        return part if part.size == self.size else part.resize(self.size, PILImage.Resampling.LANCZOS)
