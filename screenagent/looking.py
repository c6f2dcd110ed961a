"""`Looking`: a `Session`'s queries of the screen as it is now (no waiting, no action): a frame,
a screenshot, where a target is, the accessibility tree, the errors shown, a settled frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from .geometry import Frame
from .grounding import Grounding
from .screen import SettleConfig


class Looking:
    """Mixed into `screenagent.Session`, which provides ``screen``, ``runner``,
    ``tree_reader`` and ``display``."""

    screen: Any
    runner: Any
    tree_reader: Any
    display: str | None

    def capture(self) -> Frame:
        """The screen now, as a `Frame` (image, region, scale)."""
        frame: Frame = self.screen.capture()
        return frame

    def screenshot(self, path: str | Path | None = None) -> Image.Image:
        """The screen now, as an image (also saved to ``path`` when given)."""
        image: Image.Image = self.capture().image
        if path is not None:
            image.save(path)
        return image

    def find(self, target: str) -> Grounding:
        """Where the target is on the screen now (no waiting): a typed `Grounding` in frame
        pixels; raises `TargetNotFound` / `AmbiguousTarget`."""
        return self.runner.ground(target, self.capture().image)

    def tree(self) -> Any:
        """The accessibility tree now (a `screenagent.a11y.Snapshot`: ``render()`` for text,
        ``to_json()``); raises `A11yUnavailable` where there is none (Tk, a bare display)."""
        return self.tree_reader.snapshot()

    def read_errors(self) -> list[Any]:
        """The errors on the screen now (`Finding`s: dialogs, banners, tracebacks)."""
        from .findings import read_frame

        return read_frame(self.capture(), display=self.display, reader=self.runner.error_reader(),
                          tree=self.tree_reader)  # fmt: skip

    def wait_settled(self, timeout: float = 3.0, *, quiet: float = 0.04) -> Frame:
        """Wait until the screen stays unchanged ``quiet`` seconds (at most ``timeout`` s);
        the settled frame."""
        from .screen import wait_until_settled

        config = SettleConfig(quiet_seconds=quiet, cap_seconds=timeout)
        return wait_until_settled(self.screen, config=config).last
