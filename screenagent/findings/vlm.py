"""Errors read by a vision-language model: a structured-extraction prompt, answers validated
as `Finding`s, bounded retries with the error fed back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict

from ..models import NoUsableAnswer, Tried, feedback_text, json_object
from ..ocr import OcrEngine
from .model import Finding, normalize_ws
from .reader import ScreenWindow

# --- with a vision-language model --------------------------------------------------------------

VLM_SYSTEM = (
    "You read computer screens for a support engineer. List every error or warning shown on "
    "the screenshot: error dialogs, banners and status-bar messages, terminal errors and "
    "tracebacks, inline form errors. Answer with one JSON object and nothing else:\n"
    '{"findings": [{"kind": "dialog" | "banner" | "terminal" | "inline", "title": "<title or '
    'null>", "message": "<the message, word for word>", "buttons": ["<button>", ...], '
    '"box": [x1, y1, x2, y2], "severity": "error" | "warning"}]}\n'
    'Boxes are in pixels of the screenshot. Answer {"findings": []} when there is no error.'
)


class VLMFindings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[Finding]


class VLMErrorReader:
    """Reads errors with a vision-language model; answers are validated `Finding`s.

    Args:
        backend: Where the model runs (`Backend.complete`).
        prep: How the image is prepared for the model's family (None: sent as it is). Boxes
            are asked for in pixels of the image the model is sent, and mapped back.
        ocr: Offers the text on screen (with boxes) as a hint; None leaves it out.
        retries: Extra attempts after an unusable answer, each told what was wrong.
    """

    name = "vlm"

    def __init__(
        self, backend: Any, *, prep: Any = None, ocr: OcrEngine | None = None, retries: int = 2,
        hint_lines: int = 80,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.prep = prep
        self.ocr = ocr
        self.retries = retries
        self.hint_lines = hint_lines
        self.attempts: list[Tried] = []
        """The last read's attempts: raw answers and their errors (for logs and tests)."""

    def prompt(self, image: Image.Image, size: tuple[int, int]) -> str:
        sx, sy = size[0] / image.width, size[1] / image.height
        text = f"The screenshot is {size[0]}x{size[1]} pixels."
        if self.ocr is not None:
            lines = sorted(self.ocr.read(image), key=lambda ln: (ln.box.y1, ln.box.x1))
            hint = [
                f"[{int(ln.box.x1 * sx)}, {int(ln.box.y1 * sy)}, {int(ln.box.x2 * sx)}, "
                f"{int(ln.box.y2 * sy)}] {normalize_ws(ln.text)}"
                for ln in lines[: self.hint_lines]
            ]
            if hint:
                text += "\nText read by OCR (box, text), which may help:\n" + "\n".join(hint)
        return text + "\nList the errors and warnings on the screen."

    @staticmethod
    def feedback(error: str, size: tuple[int, int]) -> str:
        """What the model is told after an unusable answer (appended to the prompt)."""
        hint = (
            f'Answer again with one JSON object {{"findings": [...]}} as described, boxes '
            f"inside the {size[0]}x{size[1]} screenshot."
        )
        return "\n\n" + feedback_text([error], hint)

    def read(self, image: Image.Image, windows: Sequence[ScreenWindow] = ()) -> list[Finding]:
        from ..models import ask_structured

        size = self.prep.model_size(*image.size) if self.prep is not None else image.size
        sent = self.prep.prepare(image) if self.prep is not None else image
        prompt = self.prompt(image, size)

        def send(errors: tuple[str, ...]) -> str:
            extra = self.feedback("; ".join(errors), size) if errors else ""
            return str(self.backend.complete(system=VLM_SYSTEM, prompt=prompt + extra, image=sent).text)

        def validate(raw: str) -> list[Finding]:
            data = json_object(raw)
            if isinstance(data, dict):
                for item in data.get("findings") or []:
                    if isinstance(item, dict):
                        item.setdefault("source", "vlm")
            answer = VLMFindings.model_validate(data)
            return [_to_frame(f, size, image.size) for f in answer.findings]

        try:
            answered = ask_structured(send, validate, retries=self.retries, what="list of findings")
        except NoUsableAnswer as exc:
            self.attempts = list(exc.attempts)
            raise
        self.attempts = list(answered.attempts)
        return answered.value


def _to_frame(f: Finding, size: tuple[int, int], frame: tuple[int, int]) -> Finding:
    """A model's finding with its box mapped from the sent image's pixels to the frame's."""
    x1, y1, x2, y2 = f.box
    if x2 > size[0] or y2 > size[1]:
        raise ValueError(
            f"box {f.box} of {f.message[:40]!r} lies outside the {size[0]}x{size[1]} screenshot"
        )
    sx, sy = frame[0] / size[0], frame[1] / size[1]
    box = [int(x1 * sx), int(y1 * sy), max(int(x1 * sx) + 1, round(x2 * sx)),
           max(int(y1 * sy) + 1, round(y2 * sy))]  # fmt: skip
    return f.model_copy(update={"box": box, "source": "vlm", "message": normalize_ws(f.message)})
