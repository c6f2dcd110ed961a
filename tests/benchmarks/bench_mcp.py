"""`screenagent mcp` round trips, driven by the MCP SDK's own client over stdio: the server owns
a 1280x800 virtual desktop with the demo app. Prints median / p95 ms of: `find` on an unchanged
screen, `click` by target (settle wait included, printed apart), `screenshot` (full size and at
the default max side 1568, which a 1280x800 screen fits), `read_text`; and, for comparison, one
`screenagent ground` command (a new process each time: start, OCR load, read).

Run: ``python tests/benchmarks/bench_mcp.py [--n 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(n: int, tmp: Path) -> dict[str, list[float]]:
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters

    demo = f"{sys.executable} {ROOT / 'examples' / 'demo_app.py'} --state {tmp / 'state.json'}"
    params = StdioServerParameters(command=sys.executable, cwd=str(tmp), args=[
        "-m", "screenagent", "mcp", "--virtual-display", "1280x800", "--launch", demo, "--ready", "Submit",
        "--run-dir", str(tmp / "run")])  # fmt: skip
    out: dict[str, list[float]] = {}

    async def timed(name: str, tool: str, args: dict[str, object]) -> object:
        t = time.perf_counter()
        r = await c.call_tool(tool, args)
        out.setdefault(name, []).append(time.perf_counter() - t)
        assert not r.is_error, r.content
        return r

    async with Client(params, read_timeout_seconds=120) as c:
        await c.call_tool("find", {"target": "Submit"})  # the first look reads the screen
        for _ in range(n):
            await timed("find (unchanged screen)", "find", {"target": "Submit"})
        for _ in range(n):
            await timed("screenshot (max_side 1568)", "screenshot", {})
        for _ in range(n):
            await timed("read_text (unchanged screen)", "read_text", {})
        settle: list[float] = []
        for _ in range(n):
            await timed("click by target", "click", {"target": "Subscribe to news"})
            steps = (tmp / "run" / "steps.jsonl").read_text().splitlines()
            last = json.loads(steps[-1])
            settle.append(float(last.get("timings", {}).get("settle", 0.0)))
        out["  of which the settle wait"] = settle
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        results = asyncio.run(bench(args.n, tmp))
        ground = []
        for _ in range(3):
            shot = tmp / "shot.png"
            if not shot.exists():
                from PIL import Image

                Image.new("RGB", (1280, 800), "white").save(shot)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "screenagent", "ground", "Submit", "--image", str(shot)],
                           capture_output=True, check=False)  # fmt: skip
            ground.append(time.perf_counter() - t0)
        results["screenagent ground (a new process)"] = ground
    print(f"screenagent mcp over stdio (SDK client), demo app on a 1280x800 virtual desktop, n={args.n}")
    for name, values in results.items():
        print(f"{name:<38} median {statistics.median(values) * 1000:7.1f} ms   p95 {pct(values, 0.95) * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
