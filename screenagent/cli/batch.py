"""`screenagent batch TASKS.jsonl --out DIR`: many tasks, local workers or a Ray cluster."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .support import positive_float


def add_batch_command(sub: Any) -> None:
    p = sub.add_parser(
        "batch",
        help="run many tasks (a JSONL file), each worker on its own desktop session",
        description="Run the tasks of a JSON Lines file (one object per line: id, task, app, ready, and "
        "optionally model, planner, grounder, max_steps, timeout, cwd). Results stream into "
        "OUT/results.jsonl as they finish; a rerun skips the ids already there; OUT/index.html links "
        "every run. Exit 0 when every task succeeded, 1 when any did not, 2 for a bad tasks file or "
        "an unreachable Ray cluster.",
    )
    p.add_argument("tasks", type=Path, metavar="TASKS.jsonl")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="results, run directories, index.html")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="tasks at once: local processes, or Ray actors with --ray (default 1)")  # fmt: skip
    p.add_argument("--ray", metavar="ADDRESS",
                   help="run on Ray: 'local' starts one here, 'auto' or HOST:PORT joins a cluster (pip install 'screenagent[ray]')")  # fmt: skip
    p.add_argument("--skip-bad", action="store_true", help="run the good lines of a tasks file that has bad ones")
    p.add_argument("--task-timeout", type=positive_float, default=600.0, metavar="S",
                   help="seconds a task may take unless its line gives timeout (default 600)")  # fmt: skip
    p.add_argument("--display", default="1280x800", metavar="WxH", help="each desktop's screen size")
    p.add_argument("--base-url", metavar="URL",
                   help="the OpenAI-compatible server every worker's openai: models use (default: $OPENAI_BASE_URL)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print each result as one JSON line on stdout")
    p.set_defaults(func=cmd_batch)


def cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import BatchError, BatchOptions, load_tasks, run_batch

    if args.workers < 1:
        raise BatchError("--workers must be 1 or more.")
    tasks, problems = load_tasks(args.tasks, skip_bad=args.skip_bad)
    for problem in problems:
        print(f"screenagent: skipped {problem}", file=sys.stderr)
    options = BatchOptions(
        out=args.out.resolve(), base_dir=args.tasks.resolve().parent, task_timeout=args.task_timeout,
        display=args.display, base_url=args.base_url or os.environ.get("OPENAI_BASE_URL") or None,
        api_key=os.environ.get("SCREENAGENT_API_KEY") or os.environ.get("OPENAI_API_KEY"),
    )  # fmt: skip
    runner = None
    if args.ray:
        from functools import partial

        from ..batch_ray import run_ray

        runner = partial(run_ray, address=args.ray)

    def show(o: Any) -> None:
        if args.json:
            print(json.dumps(asdict(o), ensure_ascii=False), flush=True)
            return
        mark = "✓" if o.status == "success" else "✗"
        retry = f" (attempt {o.attempt})" if o.attempt > 1 else ""
        print(f"{mark} {o.id}  {o.reason}  {o.seconds:.1f} s  {o.steps} steps  tokens "
              f"{o.tokens['prompt']}/{o.tokens['completion']}{retry}", flush=True)  # fmt: skip
        if o.status != "success" and o.message:
            print(f"    {o.message}", flush=True)
        for earlier in o.infra:
            print(f"    ran again after: {earlier}", flush=True)

    start = time.monotonic()
    results = run_batch(tasks, options, workers=args.workers, runner=runner, on_result=show)
    wall = time.monotonic() - start
    skipped = len(tasks) - len(results)
    ok = sum(r.status == "success" for r in results)
    rate = len(results) / wall * 60 if wall > 0 and results else 0.0
    print(f"{len(results)} tasks run ({skipped} already finished): {ok} succeeded, {len(results) - ok} did not · "
          f"{wall:.1f} s, {rate:.1f} tasks/min · {options.out / 'index.html'}",
          file=sys.stderr if args.json else sys.stdout)  # fmt: skip
    return 0 if ok == len(results) else 1
