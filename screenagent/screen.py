"""Screen capture with mss, and the settle wait built on frame differences.

Measured on a 1280x800 Xvfb: an mss grab into a PIL image takes 1.3-2 ms; pyautogui's own
screenshot needs scrot or gnome-screenshot on X11 and is about 20x slower, so it is not used.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image, ImageChops

from .errors import ConfigError, DisplayError
from .geometry import Frame, Rect


class Screen(Protocol):
    """Anything that can capture a `Frame` of what the policy should see."""

    def capture(self) -> Frame: ...


def _require_display(display: str | None) -> None:
    if sys.platform.startswith("linux") and not (display or os.environ.get("DISPLAY")):
        raise DisplayError(
            "No X display to capture: DISPLAY is not set. Run inside a desktop session, pass "
            "--virtual-display 1280x800 to let screenagent start a private Xvfb, or wrap the "
            "command in `xvfb-run -a`."
        )


class MssScreen:
    """Captures one monitor (default: the primary) or one region of the desktop with mss.

    Args:
        monitor: mss monitor index: 1.. for a single monitor, 0 for the whole desktop,
            None for the primary monitor.
        region: Capture only this rectangle (screen units) instead of a whole monitor; it must
            lie on the chosen monitor (or on the desktop, if no monitor is given).
        display: X display name (``:5``); default ``$DISPLAY``.
        screen_size: The size pyautogui reports for the whole desktop, if known. When it
            differs from mss's desktop size (a DPI-unaware input layer), regions are converted
            so that frames still map to pyautogui's coordinates.
    """

    def __init__(
        self,
        *,
        monitor: int | None = None,
        region: Rect | None = None,
        display: str | None = None,
        screen_size: tuple[int, int] | None = None,
    ) -> None:
        _require_display(display)
        self._monitor_arg = monitor
        self._region_arg = region
        self._display = display
        self._screen_size = screen_size
        self._sct: Any = None
        self._grab_box: dict[str, int] | None = None
        self.region: Rect | None = None
        """What each frame covers, in screen units (known after the first capture)."""
        self.monitor: int | None = None

    @property
    def display(self) -> str | None:
        """The X display captured (None: the environment's DISPLAY)."""
        return self._display

    def _open(self) -> Any:
        import mss
        import mss.exception

        kwargs: dict[str, Any] = {}
        if self._display and sys.platform.startswith("linux"):
            kwargs["display"] = self._display
        try:
            sct = mss.MSS(**kwargs)
            monitors = sct.monitors
        except mss.exception.ScreenShotError as exc:
            name = self._display or os.environ.get("DISPLAY")
            raise DisplayError(
                f"Cannot open the X display {name!r} for capture ({exc}). Is the X server "
                "running and reachable (try `xdpyinfo`)? Use --virtual-display to start one."
            ) from exc
        desktop = monitors[0]
        if self._monitor_arg is None:
            mon = sct.primary_monitor
            self.monitor = monitors.index(mon) if mon in monitors else 1
        else:
            if not 0 <= self._monitor_arg < len(monitors):
                sct.close()
                listing = "; ".join(
                    f"{i}: {m['width']}x{m['height']}+{m['left']}+{m['top']}"
                    for i, m in enumerate(monitors)
                )
                raise ConfigError(
                    f"There is no monitor {self._monitor_arg}. Monitors (0 is the whole "
                    f"desktop): {listing}"
                )
            self.monitor = self._monitor_arg
            mon = monitors[self._monitor_arg]
        bounds = Rect(left=mon["left"], top=mon["top"], width=mon["width"], height=mon["height"])
        box = bounds
        if self._region_arg is not None:
            if not bounds.contains_rect(self._region_arg):
                sct.close()
                raise ConfigError(
                    f"The region {self._region_arg} (WxH+X+Y) is not inside monitor "
                    f"{self.monitor}, which covers {bounds}."
                )
            box = self._region_arg
        self._grab_box = {
            "left": box.left,
            "top": box.top,
            "width": box.width,
            "height": box.height,
        }
        # mss works in desktop units; pyautogui may not (see screen_size above).
        factor = 1.0
        if self._screen_size and self._screen_size[0] and self._screen_size[0] != desktop["width"]:
            factor = desktop["width"] / self._screen_size[0]
        self.region = Rect(
            left=round(box.left / factor),
            top=round(box.top / factor),
            width=round(box.width / factor),
            height=round(box.height / factor),
        )
        return sct

    def capture(self) -> Frame:
        if self._sct is None:
            self._sct = self._open()
        box, region = self._grab_box, self.region
        if box is None or region is None:  # pragma: no cover (both are set by _open)
            raise RuntimeError("capture area not initialised")
        shot = self._sct.grab(box)
        image = Image.frombuffer("RGB", shot.size, shot.bgra, "raw", "BGRX", 0, 1)
        return Frame(image=image, region=region, monitor=self.monitor)

    def monitors(self) -> list[Rect]:
        """All monitors as mss lists them (index 0 is the whole desktop)."""
        if self._sct is None:
            self._sct = self._open()
        return [
            Rect(left=m["left"], top=m["top"], width=m["width"], height=m["height"])
            for m in self._sct.monitors
        ]

    def close(self) -> None:
        if self._sct is not None:
            sct, self._sct = self._sct, None
            with contextlib.suppress(Exception):  # the X server may be gone already
                sct.close()

    def __enter__(self) -> MssScreen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageScreen:
    """A screen that shows fixed images (a file, or a list played in order): for dry runs
    against a screenshot and for unit tests of the loop."""

    def __init__(self, images: list[Image.Image], *, region: Rect | None = None) -> None:
        if not images:
            raise ValueError("ImageScreen needs at least one image")
        self._images = [im.convert("RGB") for im in images]
        self._index = 0
        first = self._images[0]
        self.region = region or Rect(left=0, top=0, width=first.width, height=first.height)

    def capture(self) -> Frame:
        image = self._images[min(self._index, len(self._images) - 1)]
        return Frame(image=image, region=self.region)

    def advance(self) -> None:
        """Show the next image (if any)."""
        self._index += 1


# --- settle -----------------------------------------------------------------------------------


def changed_fraction(a: Image.Image, b: Image.Image, *, tolerance: int = 8) -> float:
    """Share of pixels whose largest channel difference exceeds ``tolerance`` (0..1).

    Identical buffers return 0 without decoding (the common case on a static screen).
    Different sizes count as a complete change.
    """
    if a.size != b.size:
        return 1.0
    if a.tobytes() == b.tobytes():
        return 0.0
    diff = ImageChops.difference(a, b)
    # Max over channels, then threshold: anti-aliasing noise below tolerance is not a change.
    r, g, bl = diff.split()
    peak = ImageChops.lighter(ImageChops.lighter(r, g), bl)
    changed = peak.point(lambda v: 255 if v > tolerance else 0).histogram()[255]
    return changed / (a.width * a.height)


@dataclass(frozen=True, kw_only=True)
class SettleConfig:
    """How to wait for the screen to stop changing after an action.

    Attributes:
        threshold: Frames differing in at most this share of pixels count as unchanged
            (0.5%: a blinking caret or a spinner tick does not keep the wait going).
        min_seconds: Always wait at least this long (input events reach the app first).
        quiet_seconds: The screen must stay unchanged this long to count as settled.
        cap_seconds: Give up waiting after this long, log a warning and go on.
        interval: Pause between captures while waiting.
    """

    threshold: float = 0.005
    min_seconds: float = 0.02
    quiet_seconds: float = 0.04
    cap_seconds: float = 3.0
    interval: float = 0.01


@dataclass(frozen=True, kw_only=True)
class SettleResult:
    """What one settle wait saw.

    Attributes:
        seconds: How long the wait took.
        settled: False when the cap was reached with the screen still changing.
        frames: Captures taken while waiting.
        changed: Whether anything changed compared with the frame before the action.
        first_change: Seconds until the first change was seen (the app's reaction and
            repaint time, to within one capture interval), None if nothing changed.
        last: The last frame captured (the settled screen).
    """

    seconds: float
    settled: bool
    frames: int
    changed: bool
    first_change: float | None
    last: Frame


def wait_until_settled(
    screen: Screen,
    *,
    before: Frame | None = None,
    config: SettleConfig = SettleConfig(),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SettleResult:
    """Capture until consecutive frames stay (nearly) the same for ``quiet_seconds``.

    The wait ends at the first moment when at least ``min_seconds`` have passed and the
    screen has been stable for ``quiet_seconds``; or at ``cap_seconds`` (settled=False).
    """
    start = clock()
    prev = screen.capture()
    frames = 1
    stable_since = start
    first_change: float | None = None
    if before is not None and changed_fraction(before.image, prev.image) > config.threshold:
        first_change = clock() - start

    def result(settled: bool, elapsed: float) -> SettleResult:
        return SettleResult(
            seconds=elapsed,
            settled=settled,
            frames=frames,
            changed=first_change is not None,
            first_change=first_change,
            last=prev,
        )

    while True:
        now = clock()
        elapsed = now - start
        if elapsed >= config.min_seconds and now - stable_since >= config.quiet_seconds:
            return result(True, elapsed)
        if elapsed >= config.cap_seconds:
            return result(False, elapsed)
        sleep(config.interval)
        cur = screen.capture()
        frames += 1
        if changed_fraction(prev.image, cur.image) > config.threshold:
            stable_since = clock()
            if first_change is None:
                first_change = stable_since - start
        prev = cur
