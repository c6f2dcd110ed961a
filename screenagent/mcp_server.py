"""`screenagent mcp`: the toolkit as a Model Context Protocol server.

Built on the official Python SDK (``mcp`` 2.x, its `MCPServer`): the tools are thin wrappers
over one `Session`, so every action goes through the same validation, Safety, execution,
settle wait, error watch and step log as ``screenagent run``; the server's session is one run
directory (``screenagent report`` / ``replay`` work on what an assistant did). OCR, caches and
models stay loaded for the server's life.

Coordinates: the x/y arguments and results of the tools are pixels of the last screenshot the
server returned (the screen's own pixels until one was taken); they map back to the screen
through the one transform, so a client may work on a downscaled screenshot.

Transports: stdio (the default), or streamable HTTP on 127.0.0.1 with ``--http HOST:PORT``.
An HTTP server controls a desktop, so it is never open: every request must carry
``Authorization: Bearer <token>`` (from ``$SCREENAGENT_MCP_TOKEN``, or generated and printed
once at start), and Host/Origin are checked against DNS rebinding (the SDK's transport
security). All desktop work runs on one worker thread: X connections are not shared between
threads.
"""

from __future__ import annotations

import asyncio
import hmac
import io
import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .steplog import RunResult

SCREENSHOT_LIMIT = 900_000
"""Bytes of a screenshot a tool result may carry (Claude Desktop rejects results over 1 MB)."""
INSTRUCTIONS = (
    "screenagent drives a desktop. Find before you click (find), read text instead of taking "
    "screenshots when text is enough (read_text), and check the effect after acting (verify, "
    "wait_for, read_errors). x/y arguments are pixels of the last screenshot."
)


@dataclass
class Shot:
    """How the last screenshot maps to the screen: its pixels times ``scale`` plus the region's
    corner are frame pixels."""

    scale: float = 1.0
    left: int = 0
    top: int = 0

    def to_frame(self, x: float, y: float) -> tuple[int, int]:
        return round(self.left + x * self.scale), round(self.top + y * self.scale)

    def from_frame(self, x: float, y: float) -> list[int]:
        return [round((x - self.left) / self.scale), round((y - self.top) / self.scale)]

    def box(self, box: Any) -> list[int]:
        """A box [x1, y1, x2, y2] of frame pixels in screenshot pixels."""
        return [*self.from_frame(box[0], box[1]), *self.from_frame(box[2], box[3])]


@dataclass
class Desktop:
    """One `Session` for the server's life, used from one worker thread only."""

    options: dict[str, Any]
    runs_root: str = "runs"
    run_dir: str | None = None
    session: Any = None
    shot: Shot = field(default_factory=Shot)
    apps: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="desktop"))

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the desktop's thread; a failure becomes a tool error with its message
        (a target not found names the closest candidates; nothing was executed)."""
        from mcp.server.mcpserver.exceptions import ToolError

        from .errors import UserError
        from .grounding import GroundingError
        from .steps.failures import RunStopped, StepFailed

        try:
            return await asyncio.wrap_future(self._pool.submit(fn, *args, **kwargs))
        except (UserError, GroundingError, StepFailed, RunStopped, ValueError) as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:  # the server stays up; the client reads what went wrong
            from .display import display_alive

            shown = self.session.display if self.session is not None else None
            if shown and display_alive(shown) is False:
                raise ToolError(f"the display {shown} is gone (no X server answers there); this server "
                                "cannot act any more: restart it") from exc  # fmt: skip
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc

    def s(self) -> Any:
        """The session, started on first use (its display, app and run directory)."""
        if self.session is None:
            from .session import Session

            session = Session(**self.options, allow_errors=True, failsafe=False)
            session.start()
            session.begin("mcp session", run_dir=self.run_dir, runs_root=self.runs_root, policy="mcp",
                          settings={"server": "screenagent mcp", **{k: v for k, v in self.options.items()
                                                                      if isinstance(v, str | int | float | bool)}})  # fmt: skip
            self.session = session
        return self.session

    def close(self) -> None:
        def shut() -> None:
            for proc in self.apps:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            if self.session is not None:
                steps = len(self.session.runner.records) if self.session.log is not None else 0
                self.session.end(RunResult(status="success", steps=steps, message="the MCP session ended"))
                self.session.close()

        self._pool.submit(shut).result(timeout=60)
        self._pool.shutdown(wait=True)


def _step_result(desktop: Desktop, info: Any, before: int) -> dict[str, Any]:
    """What a step did, for a tool's answer: its result, verdict, point and warnings."""
    s = desktop.session
    records = s.runner.records[before:]
    out: dict[str, Any] = {"step": info.text, "result": info.result}
    if info.verified:
        out["verified"] = info.verified
    if info.grounding is not None:
        g = info.grounding
        out["target"] = {"text": g.text, "by": g.by, "score": g.score,
                         "point": desktop.shot.from_frame(*g.point)}  # fmt: skip
    warnings = [w for r in records for w in r.warnings]
    if warnings:
        out["warnings"] = warnings  # an error that appeared on the screen, a settle cap
    if info.note:
        out["note"] = info.note
    if s.log is not None:
        out["run_dir"] = str(s.log.path)
    return out


def build_server(desktop: Desktop) -> Any:
    """The `MCPServer` with screenagent's tools bound to ``desktop``."""
    from mcp.server.mcpserver import Image, MCPServer
    from mcp.types import ToolAnnotations

    from . import __version__
    from .tools_mcp import register

    server = MCPServer(name="screenagent", version=__version__, instructions=INSTRUCTIONS)
    register(server, desktop, Image=Image, read_only=ToolAnnotations(read_only_hint=True, open_world_hint=False),
             acts=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))  # fmt: skip
    return server


def screenshot_png(image: Any, max_side: int) -> tuple[bytes, float, Any]:
    """The image scaled to fit ``max_side`` and the tool-result size limit: PNG bytes, the
    scale (frame pixels per screenshot pixel) and the scaled image."""
    from PIL import Image

    scale = max(1.0, max(image.size) / max_side)
    while True:
        size = (max(1, round(image.width / scale)), max(1, round(image.height / scale)))
        shown = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        shown.save(buf, format="PNG", optimize=False, compress_level=6)
        if buf.tell() <= SCREENSHOT_LIMIT or max(size) < 200:
            return buf.getvalue(), image.width / size[0], shown
        scale *= 1.25


def token_from_env() -> tuple[str, bool]:
    """The bearer token: ``$SCREENAGENT_MCP_TOKEN``, or a new random one (True: generated)."""
    token = os.environ.get("SCREENAGENT_MCP_TOKEN", "")
    if token:
        return token, False
    return secrets.token_urlsafe(32), True


class BearerGate:
    """An ASGI wrapper that refuses any HTTP request without the bearer token (401) before it
    reaches the MCP app, so no tool runs for a caller without it."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "unauthorized: send Authorization: Bearer <token>"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer")]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def serve_http(server: Any, host: str, port: int, token: str) -> None:
    """Streamable HTTP behind the bearer gate, with Host/Origin checks (DNS rebinding)."""
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    origins = [f"http://{h}" for h in hosts]
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                         allowed_origins=origins)  # fmt: skip
    app = BearerGate(server.streamable_http_app(transport_security=security, host=host), token)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
