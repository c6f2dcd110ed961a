"""`screenagent test PATH...`: run YAML GUI tests; exit 0 all passed, 1 any failed, 2 bad files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..testing.spec import TestFile, TestFileError, collect_files, load_test_file
from .support import positive_float

_MODELS: dict[str, Any] = {}


class ModelFactory:
    """Loads the model once per process (picklable for workers): it grounds action targets
    OCR cannot find and judges ``expect:`` statements."""

    def __init__(self, spec: str, options: dict[str, Any]) -> None:
        self.spec = spec
        self.options = options

    def __call__(self) -> Any:
        if self.spec not in _MODELS:
            from .models import load_for_cli

            _MODELS[self.spec] = load_for_cli(self.spec, argparse.Namespace(**self.options))
        return _MODELS[self.spec]


def add_test_command(sub: Any) -> None:
    from .models import add_model_options

    p = sub.add_parser(
        "test",
        help="run YAML GUI tests, each on a fresh virtual display",
        description="Run YAML GUI tests (files, or folders holding test_*.yaml / *.test.yaml). "
        "Exit 0 when all pass, 1 when any fails, 2 when a test file is broken.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    p.add_argument("--report", type=Path, default=Path("screenagent-report"), metavar="DIR",
                   help="HTML report, summary.json and screenshots (default ./screenagent-report)")  # fmt: skip
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="run a failed test again up to N times; a pass on retry is reported flaky")  # fmt: skip
    p.add_argument("--allow-errors", action="store_true",
                   help="an error that appears on the screen does not fail a test (default: it does)")
    p.add_argument("--error-grace", type=float, default=None, metavar="S",
                   help="seconds the final screen of a passing test is watched for a late error "
                   "(2, or $SCREENAGENT_ERROR_GRACE)")
    p.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                   help="read back what steps typed and toggled (default on)")  # fmt: skip
    p.add_argument("--timeout-scale", type=positive_float, default=1.0, metavar="X",
                   help="multiply every timeout (slow machines: 2)")  # fmt: skip
    p.add_argument(
        "--tag", action="append", default=[], metavar="T", help="only tests with this tag"
    )
    p.add_argument("--shard", metavar="I/N",
                   help="run only the I-th of N disjoint parts (CI machines side by side; join them with `screenagent merge`)")  # fmt: skip
    p.add_argument("--durations", type=Path, metavar="SUMMARY",
                   help="balance the shards by the test times of an earlier run's summary.json")  # fmt: skip
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run N tests at once, each on its own display")  # fmt: skip
    p.add_argument("--cache", choices=("off", "read-write", "read-only"), default="off",
                   help="grounding cache: read-only for CI with a committed cache file")  # fmt: skip
    p.add_argument("--cache-file", type=Path, metavar="FILE",
                   help="where the grounding cache lives (default: .screenagent-cache.json beside the first test file)")  # fmt: skip
    p.add_argument("--max-steps", type=int, default=10_000, metavar="N",
                   help="Safety: most actions and checks one test attempt may take")  # fmt: skip
    p.add_argument("--max-seconds", type=positive_float, default=3600.0, metavar="S",
                   help="Safety: time budget of one test attempt")  # fmt: skip
    add_model_options(p, composed=False)
    p.set_defaults(func=cmd_test)


def load_all(paths: list[str]) -> list[TestFile]:
    """Every file loaded before anything runs; all problems of all files in one error."""
    files, problems = [], []
    for path in collect_files(list(paths)):
        try:
            files.append(load_test_file(path))
        except TestFileError as exc:
            problems.append(str(exc))
    if problems:
        raise TestFileError("\n".join(problems))
    if not files:
        raise TestFileError(f"no test files in {' '.join(paths)} (test_*.yaml or *.test.yaml)")
    return files


def cmd_test(args: argparse.Namespace) -> int:
    from ..report import write_session_report
    from ..safety import Limits
    from ..testing.outputs import counts, write_junit, write_summary
    from ..testing.runner import RunOptions, run_tests

    if args.retries < 0 or args.workers < 1 or args.max_steps < 1:
        raise UserError("--retries must be 0 or more, --workers and --max-steps 1 or more.")
    files = load_all(args.paths)
    needs_model = [
        f"{tf.path.name}:{s.line}"
        for tf in files
        for steps in (tf.before_each, tf.after_each, *(t.steps for t in tf.tests))
        for s in steps
        if s.verb == "expect"
    ]
    if needs_model and not args.model:
        raise TestFileError(
            f"`expect:` steps are judged by a model: run with --model ({', '.join(needs_model[:5])})."
        )
    from .support import require_ocr

    require_ocr()
    model = None
    if args.model:
        keys = ("family", "base_url", "device", "dtype", "min_pixels", "max_pixels",
                "image_format", "request_timeout", "zoom")  # fmt: skip
        model = ModelFactory(args.model, {k: getattr(args, k) for k in keys})
    keep = None
    if args.shard:
        from ..testing.scale import Shard, claim, load_durations, shard_filter

        shard = Shard.parse(args.shard)
        keep = shard_filter(files, args.tag, shard, load_durations(args.durations) if args.durations else None)
        claim(args.report, shard)
        if not keep.keys:
            print(f"screenagent: shard {shard} has no tests (fewer tests than shards)", file=sys.stderr)
    elif args.durations:
        raise UserError("--durations balances shards: give --shard I/N with it.")
    cache_path = args.cache_file or files[0].base_dir / ".screenagent-cache.json"
    opts = RunOptions(
        report_dir=args.report.resolve(), retries=args.retries, timeout_scale=args.timeout_scale,
        tags=args.tag, workers=args.workers, cache_mode=args.cache, cache_path=cache_path.resolve(),
        model=model, limits=Limits(max_steps=args.max_steps, max_seconds=args.max_seconds),
        allow_errors=args.allow_errors, error_grace=args.error_grace, verify=args.verify, keep=keep,
    )  # fmt: skip
    results = run_tests(files, opts)
    if not results and keep is not None:
        write_summary(results, opts.report_dir / "summary.json")
        return 0
    if not results:
        print(
            "screenagent: no test matched " + " ".join(f"--tag {t}" for t in args.tag),
            file=sys.stderr,
        )
        return 1
    for r in results:
        mark = {"passed": "✓", "flaky": "~", "failed": "✗", "error": "!"}[r.status]
        extra = f" (passed on attempt {len(r.attempts)})" if r.status == "flaky" else ""
        print(f"{mark} {Path(r.file).name} › {r.name}  {r.duration:.1f} s{extra}")
        if r.status in ("failed", "error") and r.message:
            print("    " + r.message.replace("\n", "\n    "))
    write_summary(results, opts.report_dir / "summary.json")
    index = write_session_report(results, opts.report_dir)
    if args.junit:
        write_junit(results, args.junit)
    c = counts(results)
    print(f"{len(results)} tests: {c['passed']} passed, {c['failed']} failed, {c['flaky']} flaky, "
          f"{c['error']} errors · report {index}")  # fmt: skip
    return 1 if c["failed"] or c["error"] else 0


def add_merge_command(sub: Any) -> None:
    p = sub.add_parser(
        "merge",
        help="join the report folders of test shards into one report",
        description="Join the report folders that `screenagent test --shard I/N --report DIR` wrote "
        "(on one machine or several: copy them here first) into one summary.json, one index.html and "
        "one JUnit file. Exit 0 when all tests passed, 1 when any failed or a shard is missing, 2 "
        "when the folders overlap or two shards ran the same test.",
    )
    p.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    p.add_argument("--out", type=Path, default=Path("screenagent-report"), metavar="DIR",
                   help="where the merged report goes (default ./screenagent-report)")  # fmt: skip
    p.add_argument("--junit", type=Path, metavar="FILE", help="write the merged JUnit XML here")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    from ..report import write_session_report
    from ..testing.outputs import counts, write_junit, write_summary
    from ..testing.scale import ShardError, merge

    out = args.out.resolve()
    if any(out == f.resolve() for f in args.folders):
        raise ShardError(f"--out {args.out} is one of the shard folders: merge into a folder of its own")
    results, problems = merge(args.folders)
    write_summary(results, out / "summary.json")
    index = write_session_report(results, out)
    if args.junit:
        write_junit(results, args.junit)
    for problem in problems:
        print(f"screenagent: {problem}", file=sys.stderr)
    c = counts(results)
    print(f"{len(results)} tests from {len(args.folders)} folders: {c['passed']} passed, {c['failed']} failed, "
          f"{c['flaky']} flaky, {c['error']} errors · report {index}")  # fmt: skip
    return 1 if c["failed"] or c["error"] or problems else 0

