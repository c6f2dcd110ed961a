"""How big and how slow a report of a long run is: a 300-step dry run on a 1280x800 screenshot.

Run: ``python tests/benchmarks/bench_report.py [--steps 300]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from screenagent.actions import Click, Drag, Type  # noqa: E402
from screenagent.agent import run  # noqa: E402
from screenagent.executor import DryRunExecutor  # noqa: E402
from screenagent.policies import ScriptedPolicy  # noqa: E402
from screenagent.report import write_report  # noqa: E402
from screenagent.screen import ImageScreen  # noqa: E402
from screenagent.steplog import StepLog  # noqa: E402


def busy_screen() -> Image.Image:
    img = Image.new("RGB", (1280, 800), (220, 220, 220))
    d = ImageDraw.Draw(img)
    for i in range(40):
        d.rectangle(
            [20 + (i % 8) * 150, 20 + (i // 8) * 150, 150 + (i % 8) * 150, 60 + (i // 8) * 150],
            fill="white",
        )
        d.text((30 + (i % 8) * 150, 30 + (i // 8) * 150), f"Button {i:02d}", fill="black")
    return img


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    actions = []
    for i in range(args.steps - 1):
        kind = i % 3
        actions.append(
            Click(x=10 + i % 1200, y=10 + (7 * i) % 780) if kind == 0 else
            Type(text=f"line {i}") if kind == 1 else
            Drag(x=100, y=100, to_x=400 + i % 600, to_y=500)
        )  # fmt: skip
    from screenagent.safety import Limits, Safety

    with TemporaryDirectory() as tmp:
        log = StepLog.create(
            task="a long run", policy="script", executor="dry-run", run_dir=Path(tmp) / "run"
        )
        result = run("a long run", screen=ImageScreen([busy_screen()]), policy=ScriptedPolicy(actions),
                     executor=DryRunExecutor(), log=log, safety=Safety.build(limits=Limits(max_steps=args.steps + 1)))  # fmt: skip
        t = time.perf_counter()
        path = write_report(Path(tmp) / "run")
        elapsed = time.perf_counter() - t
        html_kb = path.stat().st_size / 1024
        assets = sum(p.stat().st_size for p in (path.parent / "report").iterdir()) / 1024 / 1024
        pngs = sum(p.stat().st_size for p in path.parent.glob("step-*.png")) / 1024 / 1024
        print(f"{result.steps} steps: report written in {elapsed:.1f} s ({elapsed / result.steps * 1000:.0f} ms a step); "
              f"report.html {html_kb:.0f} KB; annotated JPEGs + thumbnails {assets:.1f} MB "
              f"(the step log's PNG frames: {pngs:.1f} MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
