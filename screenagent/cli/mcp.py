"""`screenagent mcp`: serve the desktop tools over the Model Context Protocol (stdio, or
streamable HTTP with a bearer token)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingDependency
from .models import add_model_options, load_for_cli
from .support import add_desktop_option, positive_float, positive_int, region_option, size_option


def add_mcp_command(sub: Any) -> None:
    p = sub.add_parser(
        "mcp", help="serve the desktop tools to an assistant over MCP (stdio, or --http)",
        description="Serve screenshot, find, click, type_text, press_keys, scroll, drag, wait_for, "
        "read_text, read_errors, list_windows, accessibility_tree, run_steps, verify and launch_app "
        "over the Model Context Protocol. stdio by default; --http serves streamable HTTP and "
        "requires a bearer token ($SCREENAGENT_MCP_TOKEN, or one printed at start).",
    )  # fmt: skip
    p.add_argument("--http", metavar="HOST:PORT", help="serve streamable HTTP here (e.g. 127.0.0.1:8765)")
    p.add_argument("--virtual-display", metavar="WxH", help="a private desktop of this size, owned by the server")
    add_desktop_option(p)
    p.add_argument("--launch", metavar="CMD", help="start this program on the display (ended with the server)")
    p.add_argument("--ready", metavar="TARGET", help="with --launch: wait until this target shows")
    p.add_argument("--monitor", type=int, metavar="N", help="monitor to capture and act on (1.., 0 all)")
    p.add_argument("--region", metavar="X,Y,W,H", help="capture and act only inside this rectangle")
    p.add_argument("--dry-run", action="store_true", help="decide and log, but execute nothing")
    p.add_argument("--max-steps", type=positive_int, default=10_000, metavar="N",
                   help="actions allowed for the server's life (default 10000)")  # fmt: skip
    p.add_argument("--max-seconds", type=positive_float, default=24 * 3600.0, metavar="S")
    p.add_argument("--run-dir", type=Path, metavar="DIR", help="write the session's step log exactly here")
    p.add_argument("--runs-root", type=Path, default=Path("runs"), metavar="DIR",
                   help="parent of the session's run directory (default ./runs)")  # fmt: skip
    add_model_options(p, composed=False)
    p.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise MissingDependency("the MCP SDK", "Install it with `pip install 'screenagent[mcp]'`.") from None
    from ..mcp_server import Desktop, build_server, serve_http, token_from_env
    from ..safety import Limits, Safety

    host = port = None
    if args.http:
        host, _, port_text = args.http.rpartition(":")
        if not host or not port_text.isdigit():
            raise ConfigError(f"--http {args.http!r}: give HOST:PORT, e.g. 127.0.0.1:8765.")
        port = int(port_text)
    if args.virtual_display:
        size_option(args.virtual_display, "--virtual-display")
    if args.ready and not args.launch:
        raise ConfigError("--ready needs --launch (the program whose readiness it shows).")
    options: dict[str, Any] = {
        "virtual_display": args.virtual_display, "desktop": args.desktop, "launch": args.launch,
        "ready": args.ready, "monitor": args.monitor, "region": region_option(args.region),
        "dry_run": args.dry_run, "app_timeout": 60.0,
        "safety": Safety.build(limits=Limits(max_steps=args.max_steps, max_seconds=args.max_seconds)),
        "model": load_for_cli(args.model, args) if args.model else None,
    }  # fmt: skip
    desktop = Desktop(options=options, runs_root=str(args.runs_root),
                      run_dir=str(args.run_dir) if args.run_dir else None)  # fmt: skip
    server = build_server(desktop)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if host is None:
            server.run("stdio")
        else:
            token, generated = token_from_env()
            if generated:
                print(f"screenagent mcp: bearer token {token}", file=sys.stderr, flush=True)
            print(f"screenagent mcp: serving http://{host}:{port}/mcp", file=sys.stderr, flush=True)
            serve_http(server, host, port or 0, token)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        desktop.close()  # the owned desktop and launched apps end by PID, the run log closes
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
