"""Success and time of each real-app corpus task (tests/apps/corpus.py), per grounder, in one
run, printed as a table. Success is judged OUTSIDE screenagent (a file on disk, what a local
server received, the clipboard, a program's output); a task that raises counts as a failure
with its first line of error.

Grounders, side by side: ``fused`` (the default chain: the accessibility tree first, then
OCR) and ``ocr`` (the tree turned off, ``Session(tree=False)``).

Run: ``python tests/benchmarks/bench_real_apps.py [--runs 1] [--grounders fused,ocr]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from apps import corpus  # noqa: E402
from apps.corpus import TASKS  # noqa: E402

GROUNDERS = {"fused": {}, "ocr": {"tree": False}}


def run_task(name: str) -> tuple[bool, float, str]:
    _, task = TASKS[name]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        try:
            outcome = task(Path(tmp))
        except Exception as exc:  # the table records why; the loop goes on
            return False, time.monotonic() - start, f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
    return outcome.ok, time.monotonic() - start, outcome.seen[:60]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--grounders", default="fused,ocr", help="comma-separated: fused, ocr")
    args = parser.parse_args()
    grounders = [g.strip() for g in args.grounders.split(",") if g.strip()]
    print(f"real-app corpus, {args.runs} run(s) each, 1280x800 full desktop; grounders: {', '.join(grounders)}")
    print(f"{'task':<22} {'app':<11} {'grounder':<8} {'success':>8} {'seconds':>8}  last outside check / error")
    for name, (program, _) in TASKS.items():
        if shutil.which(program) is None and not shutil.which("chromium-browser"):
            print(f"{name:<22} {program:<11} {'':<8} {'skipped':>8} {'-':>8}  not installed")
            continue
        for grounder in grounders:
            corpus.SESSION_OPTIONS.clear()
            corpus.SESSION_OPTIONS.update(GROUNDERS[grounder])
            results = [run_task(name) for _ in range(args.runs)]
            ok = sum(r[0] for r in results)
            seconds = sorted(r[1] for r in results)[len(results) // 2]
            print(f"{name:<22} {program:<11} {grounder:<8} {f'{ok}/{len(results)}':>8} {seconds:>8.1f}  "
                  f"{results[-1][2]}")  # fmt: skip


if __name__ == "__main__":
    main()
