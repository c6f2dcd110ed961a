"""Every ``--json`` output is valid JSON on stdout and nothing else, also when python-xlib
prints "Xlib.xauth: warning, no xauthority details available" (XAUTHORITY names an empty file
and the X server needs no cookie): that line went to stdout before ``read-errors --json``'s
JSON (issue 20). The X server is a real Xvfb started here without access control, ended by PID."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import bare_xvfb, cli

pytestmark = pytest.mark.display


@pytest.fixture
def display_without_cookie() -> Iterator[str]:
    with bare_xvfb() as display:
        yield display


@pytest.mark.parametrize("args", [
    ["read-errors", "--json"],
    ["tree", "--json"],
    ["ground", "Submit", "--json", "--no-tree"],
    ["skills", "list", "--json"],
    ["schema"],
])  # fmt: skip
def test_json_output_is_only_json_with_an_empty_xauthority(
    display_without_cookie: str, tmp_path: Path, args: list[str]
) -> None:
    empty = tmp_path / "Xauthority"
    empty.write_bytes(b"")
    env = {**os.environ, "DISPLAY": display_without_cookie, "XAUTHORITY": str(empty)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = cli(*args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    json.loads(proc.stdout)  # the whole of stdout, nothing before or after
    assert "Xlib" not in proc.stdout


def test_parse_json_is_only_json() -> None:
    proc = cli("parse", "--family", "holo1", "--image-size", "1710x852",
               input='{"note": "", "thought": "t", "action": {"action": "click_element", "element": "e", "x": 700, "y": 350}}')  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["x"] == 855
