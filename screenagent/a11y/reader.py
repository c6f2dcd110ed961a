"""`TreeReader`: one desktop's accessibility tree as the grounding chain uses it.

- a snapshot is read at most once per distinct frame (keyed by the frame's pixels), so a
  screen that did not change costs a hash;
- node boxes are mapped from screen coordinates into frame pixels through the one transform
  in `screenagent.geometry` (`screen_to_frame`);
- a node counts as visible only when its box lies on the frame and no window stacked above
  its own covers its centre (a dialog over a main window hides the main window's buttons,
  although the tree still says they are showing);
- without a bus, without the client library, or when the tree is empty there, the reader says
  once (on stderr) which grounder is used instead and answers None from then on.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from ..errors import UserError
from ..geometry import Box, Rect, screen_to_frame
from ..ocr import image_digest
from .atspi import A11yUnavailable, AtspiBus
from .tree import WINDOW_ROLES, Limits, Node, Snapshot, read_snapshot

_SAID: set[str] = set()
_SAID_LOCK = threading.Lock()


def say_once(message: str) -> None:
    """Print a notice to stderr once per process (machine-readable output stays on stdout)."""
    with _SAID_LOCK:
        if message in _SAID:
            return
        _SAID.add(message)
    print(f"screenagent: {message}", file=sys.stderr)


@dataclass
class TreeView:
    """A snapshot as seen on one frame: frame-pixel boxes of the nodes that are visible there."""

    snapshot: Snapshot
    boxes: dict[int, Box] = field(default_factory=dict)
    """Node index -> its box in frame pixels, for visible nodes only."""
    hidden: dict[int, str] = field(default_factory=dict)
    """Node index -> why a showing node is not visible on this frame (off the frame, covered)."""

    def visible(self) -> list[Node]:
        return [self.snapshot.nodes[i] for i in self.boxes]

    def box(self, node: Node) -> Box | None:
        return self.boxes.get(node.index)


class TreeReader:
    """Reads the accessibility tree of the desktop a session drives (see the module docstring).

    Args:
        session_bus: The desktop's D-Bus session bus address (default: the environment's).
        display: The X display, for window stacking (default: the environment's).
        region: Returns the screen rectangle frames cover (None: the whole screen at 1:1).
        limits: Bounds of one snapshot.
        enabled: False turns the tree off (OCR only).
        max_age: Seconds a snapshot serves frames with the same pixels (a state can change
            without a visible change, so the same frame is re-read after this).
    """

    def __init__(
        self,
        *,
        session_bus: str | None = None,
        display: str | None = None,
        region: Callable[[], Rect | None] | None = None,
        limits: Limits | None = None,
        enabled: bool = True,
        cache_size: int = 4,
        max_age: float = 1.0,
    ) -> None:
        self.max_age = max_age
        self.bus = AtspiBus(session_bus)
        self.display = display
        self.region = region or (lambda: None)
        self.limits = limits or Limits()
        self.enabled = enabled
        self.reason: str | None = None if enabled else "the accessibility tree is turned off"
        self._cache: OrderedDict[str, TreeView] = OrderedDict()
        self._size = cache_size
        self.reads = 0
        """How many snapshots were actually read (for tests and benchmarks)."""
        self._last: tuple[Image.Image | None, TreeView | None] = (None, None)

    @property
    def available(self) -> bool:
        """Whether a tree can be read here (connects on first use; says once why not)."""
        if self.reason is not None:
            return False
        try:
            self.bus.connect()
        except UserError as exc:  # A11yUnavailable or MissingDependency
            self._unavailable(str(exc))
            return False
        return True

    def _unavailable(self, why: str) -> None:
        self.reason = why
        say_once(f"no accessibility tree ({why}); grounding with OCR, image matching and "
                 "the model only")  # fmt: skip

    def close(self) -> None:
        self.bus.close()

    def forget(self) -> None:
        """Drop the cached views: the next frame gets a fresh snapshot."""
        self._cache.clear()
        self._last = (None, None)

    def snapshot(self) -> Snapshot:
        """A fresh snapshot (raises A11yUnavailable when there is no tree to read)."""
        if not self.available:
            raise A11yUnavailable(self.reason or "no accessibility tree")
        self.reads += 1
        return read_snapshot(self.bus, limits=self.limits)

    def view(self, image: Image.Image) -> TreeView | None:
        """The tree as it applies to this frame (cached per frame); None without a tree."""
        if not self.available:
            return None
        last_image, last_view = self._last
        if image is last_image and last_view is not None and (
            time.monotonic() - last_view.snapshot.taken_at <= self.max_age
        ):  # the same frame object again (one lookup asks several times): no digest
            return last_view
        view = self._view(image)
        self._last = (image, view)
        return view

    def _view(self, image: Image.Image) -> TreeView | None:
        key = image_digest(image)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached.snapshot.taken_at <= self.max_age:
            self._cache.move_to_end(key)
            return cached
        try:
            snap = self.snapshot()
        except A11yUnavailable as exc:
            self._unavailable(str(exc))
            return None
        view = self.map(snap, image.size)
        self._cache[key] = view
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return view

    def map(self, snap: Snapshot, size: tuple[int, int]) -> TreeView:
        """Frame boxes of the nodes visible on a frame of ``size`` (see the module docstring)."""
        region = self.region() or Rect(left=0, top=0, width=size[0], height=size[1])
        scale = size[0] / region.width
        view = TreeView(snapshot=snap)
        stacking = _stacking(self.display, snap)
        for n in snap.nodes:
            if n.box is None:
                continue
            b = n.box
            x1, y1 = screen_to_frame(b.left, b.top, region=region, scale=scale)
            x2, y2 = screen_to_frame(b.right - 1, b.bottom - 1, region=region, scale=scale)
            box = Box(x1=max(x1, 0), y1=max(y1, 0), x2=min(x2 + 1, size[0]), y2=min(y2 + 1, size[1]))
            if box.width <= 0 or box.height <= 0:
                view.hidden[n.index] = "off the frame"
                continue
            covered = _covered_by(n, snap, stacking)
            if covered:
                view.hidden[n.index] = f"covered by the window {covered!r}"
                continue
            view.boxes[n.index] = box
        return view


# -- stacking --------------------------------------------------------------------------------


def _stacking(display: str | None, snap: Snapshot) -> list[tuple[Rect, str, int | None]]:
    """The X windows bottom to top as (rect, title, the snapshot's window node matched to it)."""
    try:
        from ..windows import list_windows

        windows = list_windows(display)
    except UserError:
        return []
    tops = [n for n in snap.nodes if n.role in WINDOW_ROLES and n.box is not None
            and n.window == n.index]  # fmt: skip
    out = []
    for w in windows:
        rect = Rect(left=w.x, top=w.y, width=max(w.width, 1), height=max(w.height, 1))
        best, best_iou = None, 0.5
        for n in tops:
            iou = _iou(rect, n.box)  # type: ignore[arg-type]
            if iou > best_iou:
                best, best_iou = n.index, iou
        out.append((rect, w.title, best))
    return out


def _iou(a: Rect, b: Rect) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a.width * a.height + b.width * b.height - inter)


def _covered_by(n: Node, snap: Snapshot, stacking: list[tuple[Rect, str, int | None]]) -> str | None:
    """The title of a window above the node's own window that covers the node's centre."""
    if n.window is None or n.box is None:
        return None
    level = next((i for i, (_, _, w) in enumerate(stacking) if w == n.window), None)
    if level is None:
        return None  # its window is not a managed X window (a menu, a tooltip): on top
    cx, cy = n.box.left + n.box.width / 2, n.box.top + n.box.height / 2
    for rect, title, _ in stacking[level + 1 :]:
        if rect.contains(cx, cy):
            return title
    return None
