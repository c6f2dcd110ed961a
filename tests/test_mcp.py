"""`screenagent mcp` driven by the official MCP SDK's own client (mcp 2.x ``Client``), over
stdio and over streamable HTTP on 127.0.0.1: a real server process that owns a virtual desktop
with the demo app (the sandboxed form the README shows first). Effects are judged by the demo
app's state file, never by the server's own eyes.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import cli

pytestmark = [pytest.mark.display, pytest.mark.ocr, pytest.mark.slow]
pytest.importorskip("mcp", reason="the [mcp] extra is not installed")
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")

ROOT = Path(__file__).resolve().parents[1]
READ_ONLY = {"screenshot", "find", "wait_for", "read_text", "read_errors", "list_windows", "accessibility_tree",
             "verify"}  # fmt: skip
ACTING = {"click", "type_text", "press_keys", "scroll", "drag", "run_steps", "launch_app"}


def server_args(tmp: Path) -> list[str]:
    demo = f"{sys.executable} {ROOT / 'examples' / 'demo_app.py'} --state {tmp / 'state.json'}"
    return ["-m", "screenagent", "mcp", "--virtual-display", "1280x800", "--launch", demo, "--ready", "Submit",
            "--run-dir", str(tmp / "run")]  # fmt: skip


def state(tmp: Path) -> dict[str, Any]:
    return json.loads((tmp / "state.json").read_text())


def wait_state(tmp: Path, check: Any, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        s = state(tmp)
        if check(s) or time.monotonic() > deadline:
            return s
        time.sleep(0.1)


async def call(c: Any, name: str, **args: Any) -> Any:
    r = await c.call_tool(name, args)
    assert not r.is_error, (name, r.content[0].text if r.content else r)
    return r.structured_content if r.structured_content is not None else r


def test_the_tools_over_stdio_drive_the_demo_app(tmp_path: Path) -> None:
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters
    from PIL import Image

    async def session() -> None:
        params = StdioServerParameters(command=sys.executable, args=server_args(tmp_path), cwd=str(tmp_path))
        async with Client(params, read_timeout_seconds=120) as c:
            tools = {t.name: t for t in (await c.list_tools()).tools}
            assert set(tools) == READ_ONLY | ACTING
            for name, tool in tools.items():
                assert tool.annotations is not None and tool.annotations.read_only_hint == (name in READ_ONLY)
                assert tool.input_schema["type"] == "object"
            assert set(tools["click"].input_schema["properties"]) >= {"target", "x", "y", "button", "clicks"}

            # a screenshot of the stated size, scaled down: x/y are its pixels from now on
            shot = await c.call_tool("screenshot", {"max_side": 800})
            text, image = shot.content
            assert text.text.startswith("Screenshot 800x500 pixels of a 1280x800 screen")
            png = Image.open(io.BytesIO(base64.b64decode(image.data)))
            assert png.size == (800, 500) and image.mime_type == "image/png"

            # find: the point lies in the app's own account of the Submit button
            found = await call(c, "find", target="Submit")
            x, y, w, h = state(tmp_path)["widgets"]["submit"]
            px, py = (v * 1.6 for v in found["point"])
            assert x <= px < x + w and y <= py < y + h, (found, (x, y, w, h))

            # an error dialog of the app, read; then closed with a key
            await call(c, "click", target="Submit")
            errors = await call(c, "read_errors")
            assert any("Name is required" in e["message"] for e in errors["errors"]), errors
            await call(c, "press_keys", keys="enter")
            wait_state(tmp_path, lambda s: s["dialog"] is None)

            # typing with characters that need care, then a click by x/y of the screenshot
            typed = await call(c, "type_text", text="Ada <é> 中文", into="Name")
            assert typed["result"] == "passed"
            sx, sy, sw, sh = state(tmp_path)["widgets"]["submit"]
            await call(c, "click", x=(sx + sw / 2) / 1.6, y=(sy + sh / 2) / 1.6)
            got = wait_state(tmp_path, lambda s: s["submitted"])
            assert got["submitted"][0]["name"] == "Ada <é> 中文"

            # verify, true and false (a verdict, never a tool error)
            yes = await call(c, "verify", expectation="Thank you is visible")
            no = await call(c, "verify", expectation="Goodbye is visible", timeout=1)
            assert yes["verdict"] == "satisfied" and no["verdict"] == "unsatisfied" and no["evidence"]

            # a label that appears late
            await call(c, "click", target="Refresh")
            waited = await call(c, "wait_for", target="Open report", timeout=10)
            assert waited["result"] == "passed"

            # bad input: tool errors that say why, and the server keeps answering
            missing = await c.call_tool("find", {"target": "Preferences"})
            assert missing.is_error and "No text matching 'Preferences'" in missing.content[0].text
            off = await c.call_tool("click", {"x": 5000, "y": 10})
            assert off.is_error and "right of the frame" in off.content[0].text
            bad = await c.call_tool("click", {"clicks": "many"})
            assert bad.is_error
            neither = await c.call_tool("click", {})
            assert neither.is_error and "give `target`, or both `x` and `y`" in neither.content[0].text

            # the step-follower, and the text without an image
            ran = await call(c, "run_steps", task="click Clear; wait for Cleared")
            assert ran["status"] == "success" and len(ran["steps"]) == 2, ran
            assert wait_state(tmp_path, lambda s: s["status"] == "Cleared")["status"] == "Cleared"
            text = await call(c, "read_text")
            assert "Contact form" in text["text"]
            windows = await call(c, "list_windows")
            assert any(w["title"] == "screenagent demo" for w in windows["windows"])

    asyncio.run(session())
    # the client went away: the server closed the run log (and ended its desktop by PID)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["result"]["status"] == "success"
    # what the assistant did is one run directory: the report renders it
    proc = cli("report", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "run" / "report.html").exists()
    steps = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    assert any(s.get("action", {}) and s["action"].get("action") == "click" for s in steps)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_needs_the_bearer_token_and_then_serves_the_same_tools(tmp_path: Path) -> None:
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    token = "test-token-" + os.urandom(8).hex()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, *server_args(tmp_path), "--http", f"127.0.0.1:{port}"],
                            env={**os.environ, "SCREENAGENT_MCP_TOKEN": token}, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:  # up once it answers, even if only to refuse
            try:
                refused = httpx2.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=5)
                break
            except httpx2.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.3)
        assert refused.status_code == 401  # no token: refused before any tool runs
        wrong = httpx2.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401
        rebinding = httpx2.post(url, json={}, timeout=5, headers={"Authorization": f"Bearer {token}",
                                                                 "Host": f"evil.example:{port}"})  # fmt: skip
        assert rebinding.status_code in (400, 403, 421)

        async def session() -> None:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
            async with http, Client(streamable_http_client(url, http_client=http), read_timeout_seconds=120) as c:
                names = {t.name for t in (await c.list_tools()).tools}
                assert names == READ_ONLY | ACTING
                await call(c, "type_text", text="Grace", into="Name")
                await call(c, "click", target="Submit")

        asyncio.run(session())
        assert wait_state(tmp_path, lambda s: s["submitted"])["submitted"][0]["name"] == "Grace"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["result"]["status"] == "success"


def test_the_display_going_away_is_a_clear_error_and_the_server_stays_up(tmp_path: Path) -> None:
    """Attached to a display (no --virtual-display) that then stops: the next call is a tool
    error naming the display, and the server still answers; it exits cleanly when the client
    goes (the run log is closed)."""
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters

    from screenagent.display import VirtualDisplay

    vd = VirtualDisplay(800, 600).start()

    async def session() -> None:
        params = StdioServerParameters(command=sys.executable, env={**os.environ, **vd.env}, cwd=str(tmp_path),
                                       args=["-m", "screenagent", "mcp", "--run-dir", str(tmp_path / "run")])  # fmt: skip
        async with Client(params, read_timeout_seconds=60) as c:
            await call(c, "screenshot")
            vd.stop()
            gone = await c.call_tool("screenshot", {})
            assert gone.is_error and f"the display {vd.display} is gone" in gone.content[0].text
            assert len((await c.list_tools()).tools) == len(READ_ONLY | ACTING)

    try:
        asyncio.run(session())
    finally:
        vd.stop()
    assert json.loads((tmp_path / "run" / "run.json").read_text())["result"]["status"] == "success"
