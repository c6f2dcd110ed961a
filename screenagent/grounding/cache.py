"""A grounding cache that checks its answers against the pixels before trusting them.

Key: the target, the grounder and the screen size. Value: the box, the click point and a crop of
the screen around the box. A cached box is used only when the crop still matches at that place
(template match, score >= ``MIN_SCORE``, within ``SLACK`` pixels); otherwise the target is
grounded again and, in read-write mode, the entry is replaced. Modes: ``off``, ``read-write``
(local runs) and ``read-only`` (CI: use a committed cache, never write it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from ..geometry import Box
from .model import GroundedBy, Grounding

CacheMode = Literal["off", "read-write", "read-only"]
MARGIN = 8
"""Pixels of context kept around the box in the crop (a 1 px model point gets a 17 px crop)."""
MIN_SCORE = 0.95
SLACK = 4
"""How far (pixels) the crop may have moved and still count as "at that place"."""
VERSION = 1


@dataclass(frozen=True)
class CacheCheck:
    """What a lookup found: the grounding (or None) and why."""

    grounding: Grounding | None
    reason: Literal["hit", "miss", "moved", "off"]
    score: float | None = None


class GroundingCache:
    def __init__(self, path: str | Path, mode: CacheMode = "read-write") -> None:
        self.path = Path(path)
        self.mode = mode
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty = False
        self._new: dict[str, dict[str, Any]] = {}
        if mode != "off" and self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                from ..errors import ConfigError

                raise ConfigError(
                    f"The grounding cache {self.path} cannot be read ({exc}); delete it or run "
                    "with --cache off."
                ) from None
            if data.get("version") == VERSION:
                self._entries = dict(data.get("entries", {}))

    @staticmethod
    def key(target: str, grounder: str, size: tuple[int, int]) -> str:
        raw = json.dumps([target, grounder, list(size)])
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, target: str, grounder: str, image: Image.Image) -> CacheCheck:
        if self.mode == "off":
            return CacheCheck(None, "off")
        entry = self._entries.get(self.key(target, grounder, image.size))
        if entry is None:
            return CacheCheck(None, "miss")
        crop_box = Box(**entry["crop_box"])
        crop = Image.open(io.BytesIO(base64.b64decode(entry["crop"])))
        score = _score_at(image, crop, crop_box)
        if score < MIN_SCORE:
            return CacheCheck(None, "moved", score)
        box = Box(**entry["box"])
        return CacheCheck(
            Grounding(
                target=target, x=entry["x"], y=entry["y"], box=box, text=entry.get("text", ""),
                score=score, grounded_by=GroundedBy.CACHE,
            ),
            "hit",
            score,
        )  # fmt: skip

    def store(self, grounder: str, image: Image.Image, g: Grounding) -> None:
        if self.mode != "read-write":
            return
        b = g.box
        crop_box = Box(
            x1=max(0, b.x1 - MARGIN), y1=max(0, b.y1 - MARGIN),
            x2=min(image.width, b.x2 + MARGIN), y2=min(image.height, b.y2 + MARGIN),
        )  # fmt: skip
        buf = io.BytesIO()
        image.crop((crop_box.x1, crop_box.y1, crop_box.x2, crop_box.y2)).convert("L").save(
            buf, format="PNG"
        )
        entry = {
            "target": g.target, "grounder": grounder, "size": list(image.size),
            "box": {"x1": b.x1, "y1": b.y1, "x2": b.x2, "y2": b.y2}, "x": g.x, "y": g.y,
            "text": g.text, "crop_box": crop_box.__dict__,
            "crop": base64.b64encode(buf.getvalue()).decode(), "grounded_by": str(g.grounded_by),
        }  # fmt: skip
        with self._lock:
            key = self.key(g.target, grounder, image.size)
            self._entries[key] = self._new[key] = entry
            self._dirty = True

    def new_entries(self) -> dict[str, dict[str, Any]]:
        """What this process stored (a worker hands these to the parent, which saves)."""
        return dict(self._new)

    def merge(self, entries: dict[str, dict[str, Any]]) -> None:
        if self.mode == "read-write" and entries:
            with self._lock:
                self._entries.update(entries)
                self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (only in read-write mode and when something changed)."""
        if self.mode != "read-write" or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + f".{os.getpid()}.tmp")
        with self._lock:
            data = {"version": VERSION, "entries": self._entries}
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
            self._dirty = False


def _score_at(image: Image.Image, crop: Image.Image, where: Box) -> float:
    """Best normalised correlation of ``crop`` within ``SLACK`` px of ``where`` on ``image``."""
    import numpy as np

    from .image import match_template

    x1, y1 = max(0, where.x1 - SLACK), max(0, where.y1 - SLACK)
    x2, y2 = min(image.width, where.x2 + SLACK), min(image.height, where.y2 + SLACK)
    if x2 - x1 < crop.width or y2 - y1 < crop.height:
        return 0.0
    region = image.crop((x1, y1, x2, y2)).convert("L")
    tpl = np.asarray(crop.convert("L"), dtype=np.float32)
    if float(tpl.std()) < 1e-3:
        # a flat crop (an empty area): the region must be the same flat colour
        return 1.0 if abs(float(np.asarray(region).mean()) - float(tpl.mean())) < 2 else 0.0
    found = match_template(region, crop, threshold=-1.0, scales=(1.0,))
    return found[0][1] if found else 0.0
