"""What is at a point of the screen, in the words a step can name it by.

In order: the accessibility tree's node under the point (``button:Save``, ``field:Name``);
else the text OCR reads under the pointer, the shortest phrase that the grounder resolves back
to this very place (a word, else its line, else the line with ``#N``); else a small crop of the
screen saved beside the recording (``image:``), with the reason. A field's words are its label:
the tree's name, else the text left of it on its row, else the text just above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..geometry import Box

ROLE_WORDS = {"push button": "button", "toggle button": "button", "check box": "checkbox",
              "radio button": "radio", "menu item": "menuitem", "menu": "menu", "page tab": "tab",
              "link": "link", "combo box": "combobox", "list item": "list item", "text": "field",
              "entry": "field", "password text": "field", "spin button": "field"}  # fmt: skip
"""Tree roles -> the role qualifiers targets take (`screenagent.grounding.roles`)."""
EDITABLE = {"text", "entry", "password text", "spin button", "terminal"}
CROP = 40
"""Half the side of an ``image:`` crop, in pixels."""
NEAR_X, NEAR_Y = 12, 18
"""How far from its text a point still names it (a button's edge, around its label)."""


def _near(box: Box) -> Box:
    return Box(x1=box.x1 - NEAR_X, y1=box.y1 - NEAR_Y, x2=box.x2 + NEAR_X, y2=box.y2 + NEAR_Y)


def _gap(box: Box, x: int, y: int) -> float:
    dx = max(box.x1 - x, 0, x - box.x2)
    dy = max(box.y1 - y, 0, y - box.y2)
    return float(dx * dx + dy * dy)


@dataclass(frozen=True)
class Words:
    target: str
    by: str
    """tree | ocr | image."""
    note: str = ""
    secret: bool = False
    """The tree says it is a password field."""
    had_text: bool = False
    """A field that already held text (typing into it clears it first)."""


class Describer:
    """Names points of frames; ``grounder`` is the session's (tree first, then OCR)."""

    def __init__(self, grounder: Any, tree: Any = None, *, crops: Path | None = None) -> None:
        self.grounder = grounder
        self.tree = tree
        self.crops = crops
        self._crop_n = 0

    # -- the tree -----------------------------------------------------------------------------

    def _node(self, image: Image.Image, x: int, y: int) -> Any:
        if self.tree is None or not getattr(self.tree, "available", False):
            return None
        view = self.tree.view(image)
        if view is None:
            return None
        best = None
        for node in view.visible():
            box = view.box(node)
            named = node.name or node.role in EDITABLE
            if box is not None and box.contains_point(x, y) and named and (best is None or node.depth > best.depth):
                best = node
        return best

    # -- OCR ----------------------------------------------------------------------------------

    def _resolves_here(self, target: str, image: Image.Image, x: int, y: int) -> bool:
        try:
            g = self.grounder.locate(target, image)
        except Exception:
            return False
        return _near(g.box).contains_point(x, y)

    def _lines(self, image: Image.Image) -> list[Any]:
        return list(self.grounder.read(image))

    def _line_at(self, image: Image.Image, x: int, y: int, slack: int | None = None) -> Any:
        """The line under (x, y): the smallest one holding it, else the nearest one around it
        (a click on a button's edge is a click on its label); ``slack=0``: under it only."""
        lines = self._lines(image)
        inside = [ln for ln in lines if ln.box.contains_point(x, y)]
        if inside:
            return min(inside, key=lambda ln: ln.box.width * ln.box.height)
        if slack == 0:
            return None
        around = [ln for ln in lines if _near(ln.box).contains_point(x, y)]
        return min(around, key=lambda ln: _gap(ln.box, x, y)) if around else None

    def _ocr_words(self, image: Image.Image, x: int, y: int) -> str | None:
        line = self._line_at(image, x, y)
        if line is None:
            return None
        word = [w.text for w in line.words if w.box.x1 - 4 <= x < w.box.x2 + 4 and len(w.text) > 1]
        # a short line is a label (a button's, a menu's): named whole; in a long one, the word
        tries = [line.text, *word] if len(line.text.split()) <= 4 else [*word, line.text]
        for text in tries:
            phrase = text.strip().strip(".,:;")
            if phrase and self._resolves_here(phrase, image, x, y):
                return phrase
        same = [ln for ln in self._lines(image) if ln.text == line.text]
        if len(same) > 1:  # reading order: rows top to bottom, then left to right
            ordered = sorted(same, key=lambda ln: (round(ln.box.center[1] / 12), ln.box.x1))
            n = next(i for i, ln in enumerate(ordered, 1) if ln.box == line.box)
            target = f"{line.text} #{n}"
            if self._resolves_here(target, image, x, y):
                return target
        return None

    def line_at(self, image: Image.Image, x: int, y: int) -> str | None:
        """The whole line of text under (x, y), when the grounder finds it there again."""
        line = self._line_at(image, x, y)
        text = line.text.strip() if line is not None else ""
        return text if text and self._resolves_here(text, image, x, y) else None

    def _crop(self, image: Image.Image, x: int, y: int) -> str | None:
        if self.crops is None:
            return None
        self._crop_n += 1
        self.crops.mkdir(parents=True, exist_ok=True)
        path = self.crops / f"target-{self._crop_n}.png"
        image.crop((max(0, x - CROP), max(0, y - CROP), min(image.width, x + CROP),
                    min(image.height, y + CROP))).save(path)  # fmt: skip
        return f"image:{path.parent.name}/{path.name}"

    # -- public -------------------------------------------------------------------------------

    def at(self, image: Image.Image, x: int, y: int) -> Words:
        """The words of whatever is at (x, y)."""
        node = self._node(image, x, y)
        if node is not None and node.name:
            role = ROLE_WORDS.get(node.role)
            target = f"{role}:{node.name}" if role else node.name
            if self._resolves_here(target, image, x, y):
                return Words(target, "tree", secret=node.role == "password text")
        text = self._ocr_words(image, x, y)
        if text is not None:
            return Words(text, "ocr")
        crop = self._crop(image, x, y)
        if crop is not None:
            return Words(crop, "image", note="no words here: neither the tree nor OCR names this spot, "
                                               "so a crop of the screen stands for it")  # fmt: skip
        return Words(f"{x},{y}", "none", note="nothing names this spot")

    def field(self, image: Image.Image, x: int, y: int) -> Words | None:
        """The label of the field at (x, y), for ``type ... into``; None when none is found."""
        node = self._node(image, x, y)
        secret = node is not None and node.role == "password text"
        if node is not None and node.role in EDITABLE:
            name = node.name.strip()
            if name:
                return Words(f"field:{name}", "tree", secret=secret, had_text=bool(node.value))
        had_text = self._line_at(image, x, y, slack=0) is not None and not secret  # dots are no text
        row = [ln for ln in self._lines(image) if ln.box.x2 <= x and abs((ln.box.y1 + ln.box.y2) / 2 - y) < 14]
        if row:
            label = max(row, key=lambda ln: ln.box.x2)
            return Words(label.text.strip().rstrip(":"), "ocr", had_text=had_text, secret=secret)
        above = [ln for ln in self._lines(image) if ln.box.y2 <= y and y - ln.box.y2 < 40
                 and ln.box.x1 - 20 <= x <= ln.box.x2 + 200]  # fmt: skip
        if above:
            label = max(above, key=lambda ln: ln.box.y2)
            return Words(label.text.strip().rstrip(":"), "ocr", had_text=had_text, secret=secret)
        return None
