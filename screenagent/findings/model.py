"""The `Finding` model and the error language that decides what counts as an error."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["dialog", "banner", "terminal", "inline"]
Severity = Literal["error", "warning"]


class Finding(BaseModel):
    """One error or warning seen on the screen.

    ``box`` is ``[x1, y1, x2, y2]`` in the pixels of the image that was read (a live frame:
    frame pixels, which are screen pixels at scale 1), ``x2``/``y2`` exclusive.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: str | None = None
    message: str = ""
    buttons: list[str] = Field(default_factory=list)
    box: list[int]
    severity: Severity
    source: Literal["ocr", "vlm", "window", "tree"]
    details: list[str] = Field(
        default_factory=list, description="More lines: a traceback's frames, for example."
    )
    window: str | None = Field(default=None, description="The window it is in, when known.")

    @field_validator("box")
    @classmethod
    def _box(cls, v: list[int]) -> list[int]:
        if len(v) != 4:
            raise ValueError(f"box needs 4 numbers [x1, y1, x2, y2], got {len(v)}")
        x1, y1, x2, y2 = v
        if x1 < 0 or y1 < 0 or x2 <= x1 or y2 <= y1:
            raise ValueError(f"box {v} is not [x1, y1, x2, y2] with x1 < x2 and y1 < y2, >= 0")
        return v

    def one_line(self) -> str:
        """The finding in one line (for failure messages)."""
        head = self.describe().splitlines()[0].rsplit(" (", 1)[0]
        tail = f": {self.message}" if self.message else ""
        buttons = f" [buttons: {', '.join(self.buttons)}]" if self.buttons else ""
        return head + tail + buttons

    def describe(self) -> str:
        """One or more readable lines for a person."""
        head = f"{self.severity.upper()} {self.kind}"
        if self.title:
            head += f" {self.title!r}"
        if self.window and self.window != self.title:
            head += f" in {self.window!r}"
        x1, y1, x2, y2 = self.box
        out = [f"{head} at [{x1}, {y1}, {x2}, {y2}] ({self.source})"]
        if self.message:
            out.append(f"  {self.message}")
        if self.buttons:
            out.append("  buttons: " + ", ".join(self.buttons))
        out.extend(f"  | {d}" for d in self.details)
        return "\n".join(out)


# --- error language ----------------------------------------------------------------------------

_ERROR = re.compile(
    r"\b(?:errors?|fail(?:s|ed|ure|ures|ing)?|exceptions?|denied|not\s+found|traceback"
    r"|exit(?:ed)?\s+(?:with\s+)?(?:code|status)\s*[:=]?\s*-?[1-9]\d*|fatal|could\s*n[o']t"
    r"|cannot|can't|unable\s+to|invalid|refused|timed\s+out|crash(?:ed|es)?|abort(?:ed)?"
    r"|panic(?:ked)?|segmentation\s+fault|core\s+dumped|no\s+such\s+(?:file|directory)"
    r"|no\s+space\s+left|not\s+permitted|is\s+required|unreachable|not\s+responding"
    r"|stopped\s+working|unexpected(?:ly)?|out\s+of\s+memory|fehler|fehlgeschlagen|erreur"
    r"|échec|errore|ошибка)\b|\bERR!|错误|失败|エラー|오류",
    re.IGNORECASE,
)
_WARNING = re.compile(r"\b(?:warn(?:s|ing|ings)?|caution|deprecated|achtung|avertissement)\b", re.I)
_BENIGN = re.compile(
    r"\b(?:no|zero|0|without)\s+(?:errors?|failures?|warnings?|problems?|exceptions?)\b"
    r"|\berror[- ]free\b|\b(?:errors?|failures?|warnings?|failed)\s*[:=]\s*0\b|\b0\s+failed\b"
    r"|\berrors?\s+(?:handling|log|logs|logging|reporting|reports?|console|list|messages"
    r"|codes|settings|levels?|checking|correction|page|tracking|budget|rate|bars?)\b"
    r"|\bwarnings?\s+(?:settings|levels?|list|log)\b"
    r"|\bexceptions?\s+(?:handling|list|settings|rules)\b|\bon\s+(?:error|failure)\b",
    re.IGNORECASE,
)


def classify(text: str) -> Severity | None:
    """``error``, ``warning`` or None for a piece of text, by its language.

    >>> classify("Could not save the file"), classify("Error handling..."), classify("Warning")
    ('error', None, 'warning')
    """
    text = _BENIGN.sub(" ", text)
    if _ERROR.search(text):
        return "error"
    if _WARNING.search(text):
        return "warning"
    return None


def normalize_ws(text: str) -> str:
    return " ".join(text.split())


_LABEL = re.compile(r"^([\w.\-/\[\]]{1,40})\s*:\s+(\S.*)$")


def split_label(text: str) -> tuple[str | None, str]:
    """``"Error: Name is required."`` -> ("Error", "Name is required."); a leading program
    name or severity label becomes the title."""
    m = _LABEL.match(text)
    if m is None:
        return None, text
    return m.group(1), m.group(2)
