"""Test runs spread over several CI machines: deterministic shards, and their summaries merged.

A test's key is ``<file>::<test name>``, the file relative to the current directory when it is
under it (what pytest's node ids use). ``--shard i/n`` keeps the i-th of n disjoint parts; with
a summary of an earlier run (``--durations summary.json``), the parts are balanced by the time
each test took (longest first, each to the part with the least time so far); without one, every
test counts alike. Tests of an ``isolation: file`` file stay together.

Each shard writes ``shard.json`` into its report folder; a second shard writing into the same
folder, or into one inside or around it, is refused. `merge` joins the shards' summaries into one
summary, one report and one JUnit file.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from .runner import Attempt, TestResult, selected
from .spec import TestFile, TestSpec

SHARD_FILE = "shard.json"


class ShardError(UserError):
    exit_code = 2


@dataclass(frozen=True)
class Shard:
    index: int
    """1-based."""
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            i, n = (int(p) for p in text.split("/"))
        except ValueError:
            raise ShardError(f"a shard is I/N, e.g. 1/3, got {text!r}") from None
        if not 1 <= i <= n:
            raise ShardError(f"shard {text}: I must be between 1 and N")
        return cls(i, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def unit_key(file: str | Path, name: str) -> str:
    """``<file>::<name>``, the file relative to the current directory when under it."""
    path = Path(file)
    with contextlib.suppress(ValueError):
        path = path.resolve().relative_to(Path.cwd().resolve())
    return f"{path.as_posix()}::{name}"


def load_durations(path: str | Path) -> dict[str, float]:
    """Test key -> seconds, from a ``summary.json`` of an earlier run."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {unit_key(t["file"], t["name"]): float(t["duration"]) for t in data["tests"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ShardError(f"cannot read durations from {path}: {exc}") from None


def assign(units: dict[str, float | None], shard: Shard) -> set[str]:
    """The units (key -> seconds, None when unknown) of this shard: longest first, each to the
    part with the least time so far (ties: the lower part, then the key's order)."""
    known = [d for d in units.values() if d is not None and d > 0]
    default = statistics.median(known) if known else 1.0
    load = [0.0] * shard.total
    mine = set()
    for key in sorted(units, key=lambda k: (-(units[k] or default), k)):
        part = min(range(shard.total), key=lambda p: (load[p], p))
        load[part] += units[key] or default
        if part == shard.index - 1:
            mine.add(key)
    return mine


@dataclass(frozen=True)
class ShardFilter:
    """`RunOptions.keep` for a shard: the tests whose keys (or whose file's key, for
    ``isolation: file``) fell to it."""

    shard: Shard
    keys: frozenset[str]

    def __call__(self, tf: TestFile, tests: list[TestSpec]) -> list[TestSpec]:
        if tf.isolation == "file":
            return tests if unit_key(tf.path, "*") in self.keys else []
        return [t for t in tests if unit_key(tf.path, t.name) in self.keys]


def shard_filter(files: Sequence[TestFile], tags: list[str], shard: Shard,
                 durations: dict[str, float] | None = None) -> ShardFilter:  # fmt: skip
    """This shard's part of the selected tests of ``files``."""
    durations = durations or {}
    units: dict[str, float | None] = {}
    for tf in files:
        tests = selected(tf, tags)
        if tf.isolation == "file" and tests:
            known = [durations[k] for t in tests if (k := unit_key(tf.path, t.name)) in durations]
            units[unit_key(tf.path, "*")] = sum(known) if known else None
        else:
            for t in tests:
                units[unit_key(tf.path, t.name)] = durations.get(unit_key(tf.path, t.name))
    return ShardFilter(shard, frozenset(assign(units, shard)))


def claim(report_dir: Path, shard: Shard) -> None:
    """Mark ``report_dir`` as this shard's; refuse a folder another shard writes into, inside
    it or around it."""
    report_dir = report_dir.resolve()
    others = [p / SHARD_FILE for p in (report_dir, *report_dir.parents)]
    if report_dir.is_dir():
        others += list(report_dir.glob(f"*/{SHARD_FILE}")) + list(report_dir.glob(f"*/*/{SHARD_FILE}"))
    for marker in others:
        if marker.is_file():
            try:
                theirs = json.loads(marker.read_text(encoding="utf-8")).get("shard")
            except (OSError, ValueError):
                theirs = None
            if theirs != str(shard):
                raise ShardError(
                    f"{marker.parent} is the output folder of shard {theirs}: give shard {shard} "
                    "a folder of its own (--report DIR), not one inside or around another shard's"
                )
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / SHARD_FILE).write_text(json.dumps({"shard": str(shard)}), encoding="utf-8")


# --- merging -------------------------------------------------------------------------------


def results_from(summary: dict[str, Any], base: Path) -> list[TestResult]:
    """TestResults back from a summary; artifact folders are re-rooted under ``base`` when the
    summary was written on another machine (its ``report_dir`` no longer exists here)."""
    old = summary.get("report_dir")

    def where(artifacts: str) -> str:
        if old and not Path(artifacts).exists():
            try:
                return str(base / Path(artifacts).relative_to(old))
            except ValueError:
                pass
        return artifacts

    return [
        TestResult(
            file=t["file"], name=t["name"], status=t["status"], line=int(t.get("line", 0)),
            tags=list(t.get("tags", [])),
            attempts=[Attempt(status=a["status"], message=a.get("message"), steps=a.get("steps", []),
                              duration=float(a["duration"]), artifacts=where(a["artifacts"]),
                              display=a.get("display", ""), worker=int(a.get("worker", 0)),
                              started=float(a.get("started", 0.0)))
                      for a in t["attempts"]],
        )
        for t in summary["tests"]
    ]


def merge(folders: Sequence[Path]) -> tuple[list[TestResult], list[str]]:
    """Every shard folder's tests, and what is wrong with the set (missing shards). Refuses
    folders that overlap and a test that two shards both ran."""
    resolved = [f.resolve() for f in folders]
    for i, a in enumerate(resolved):
        for b in resolved[i + 1:]:
            if a == b or a in b.parents or b in a.parents:
                raise ShardError(f"{a} and {b} overlap: give each shard's own report folder once")
    results: list[TestResult] = []
    seen: dict[str, Path] = {}
    shards: list[Shard] = []
    for folder in resolved:
        path = folder / "summary.json"
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ShardError(f"{path}: cannot read the summary ({exc}); is {folder} a test report folder?") from None
        marker = folder / SHARD_FILE
        if marker.is_file():
            shards.append(Shard.parse(json.loads(marker.read_text(encoding="utf-8"))["shard"]))
        for r in results_from(summary, folder):
            key = unit_key(r.file, r.name)
            if key in seen:
                raise ShardError(f"{key} ran in both {seen[key]} and {folder}: the shards overlap")
            seen[key] = folder
            results.append(r)
    return results, missing_shards(shards)


def missing_shards(shards: Iterable[Shard]) -> list[str]:
    shards = list(shards)
    totals = {s.total for s in shards}
    if not shards:
        return []
    if len(totals) > 1:
        return [f"the folders come from different splits ({', '.join(map(str, shards))})"]
    total = totals.pop()
    have = {s.index for s in shards}
    return [f"shard {i}/{total} is missing" for i in range(1, total + 1) if i not in have]
