"""Opening X connections through python-xlib without writing to stdout.

python-xlib prints "Xlib.xauth: warning, no xauthority details available" with ``print()``
when XAUTHORITY names an empty or foreign file and the server needs no cookie; on stdout that
line broke every ``--json`` output (``read-errors --json`` printed it before its JSON). Its
connections are opened here, with stdout sent to stderr for the moment it takes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def xlib_prints_to_stderr() -> Iterator[None]:
    """Anything python-xlib prints while this is open goes to stderr (also for modules that
    open a connection when imported, like pyautogui on Linux)."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def open_display(name: str | None) -> Any:
    """``Xlib.display.Display(name)``, its warnings on stderr."""
    from Xlib import display as xdisplay

    with xlib_prints_to_stderr():
        return xdisplay.Display(name)
