"""Errors on the screen as data: error dialogs, banners, inline messages and terminal
tracebacks, each one a validated `Finding`.

The embedded reader needs no weights. Where an X display is there, the desktop's own account
comes first: its top-level windows (`screenagent.windows`) say which are dialogs, what they
are titled (a bare X server draws no title bars, so titles cannot come from pixels), where
they are and which is on top. OCR of the frame is then split by window: inside a dialog the
lines are grouped by layout into message rows and a row of buttons; inside a terminal,
Python tracebacks are joined into one finding and other error lines are collected; anywhere
else, blocks of text that use error language become banner or inline findings. Without
windows (``--image``, or no X server) the same text rules run on the pixels alone, and a
block of error text with a row of buttons below it is taken for a dialog.

Error language is matched in several forms and a few languages (error/errors/ERROR:,
failed/failure, exception, denied, not found, traceback, exit code N, could not, unable to,
timed out, errno phrases ...); phrases that name errors without reporting one ("Error
handling", "error log", "0 errors", "no failures") are removed first.

`VLMErrorReader` asks a vision-language model instead: a structured-extraction prompt whose
answer is validated against the same `Finding` model; invalid answers are fed back (bounded
retries), the OCR text is offered as a hint, and the model's boxes are kept (mapped to frame
pixels).
"""

from .model import Finding, Kind, Severity, classify, normalize_ws, split_label
from .reader import (
    ErrorReader,
    ScreenWindow,
    frame_windows,
    read_errors,
    read_frame,
    read_screen,
)
from .vlm import VLM_SYSTEM, VLMErrorReader, VLMFindings, _to_frame

__all__ = [
    "VLM_SYSTEM",
    "ErrorReader",
    "Finding",
    "Kind",
    "ScreenWindow",
    "Severity",
    "VLMErrorReader",
    "VLMFindings",
    "_to_frame",
    "classify",
    "frame_windows",
    "normalize_ws",
    "read_errors",
    "read_frame",
    "read_screen",
    "split_label",
]
