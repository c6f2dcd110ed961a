"""X11 top-level windows (titles, geometry, dialog types) from real zenity dialogs on Xvfb."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from conftest import wait_for_window

from screenagent.display import VirtualDisplay
from screenagent.errors import DisplayError
from screenagent.windows import list_windows


@pytest.mark.display
def test_zenity_dialogs_are_listed_with_title_type_and_geometry(
    xdisplay: VirtualDisplay, spawn: Callable[..., subprocess.Popen[bytes]]
) -> None:
    err = spawn("zenity", "--error", "--title", "Disk full", "--text", "No space left on device.")
    spawn("zenity", "--warning", "--text", "Low battery")
    wait_for_window(xdisplay, "Disk full")
    wait_for_window(xdisplay, "Warning")
    found = {w.title: w for w in list_windows(xdisplay.display)}
    disk = found["Disk full"]
    assert disk.is_dialog and "DIALOG" in disk.types and disk.pid == err.pid
    assert disk.wm_class == ("zenity", "Zenity")
    x1, y1, x2, y2 = disk.box
    assert 0 <= x1 < x2 <= xdisplay.width and 0 <= y1 < y2 <= xdisplay.height
    assert x2 - x1 > 150 and y2 - y1 > 60
    assert found["Warning"].is_dialog


def test_no_display_is_a_clear_error() -> None:
    with pytest.raises(DisplayError, match="Cannot open the X display"):
        list_windows(":987654")
