"""The pytest plugin's session side: one report across pytest-xdist workers, and one grounding
cache they fill safely.

Under ``pytest -n N`` every worker is a process of its own: each YAML test starts its own Xvfb
(``-displayfd``: no two tests share a display), its step logs go to their own folders, and its
result travels to the controller inside the test report (``user_properties``). The controller
writes ``summary.json``, ``index.html`` and ``junit.xml`` once, into ``--gui-report DIR``.
With ``--gui-cache FILE`` each worker reads the cache and keeps what it adds to itself; the
controller gathers the workers' additions (xdist's ``workeroutput``) and writes the file once,
so no two processes write it. Without xdist the same code runs in one process.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the plugin loads for every pytest run: nothing heavy at import
    from .runner import TestResult


def result_json(result: TestResult) -> str:
    return json.dumps(dataclasses.asdict(result))


def result_from_json(text: str) -> TestResult:
    from .runner import Attempt, TestResult

    data = json.loads(text)
    attempts = [Attempt(**a) for a in data.pop("attempts")]
    return TestResult(**data, attempts=attempts)


class GuiSession:
    """Registered by the plugin for every pytest run (controller and workers alike)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[TestResult] = []
        self.worker = hasattr(config, "workerinput")
        self.cache: Any = None
        path = config.getoption("--gui-cache")
        if path:
            from ..grounding.cache import GroundingCache

            self.cache = GroundingCache(path, config.getoption("--gui-cache-mode"))
        report, shard = config.getoption("--gui-report"), config.getoption("--gui-shard")
        if report and shard and not self.worker:
            from .scale import Shard, claim

            claim(Path(report), Shard.parse(shard))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == "screenagent_result":
                self.results.append(result_from_json(str(value)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist controller: a worker has finished; take the cache entries it added."""
        entries = getattr(node, "workeroutput", {}).get("screenagent_cache")
        if entries and self.cache is not None:
            self.cache.merge(entries)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker:
            if self.cache is not None:
                self.config.workeroutput["screenagent_cache"] = self.cache.new_entries()  # type: ignore[attr-defined]
            return
        if self.cache is not None:
            self.cache.save()
        report = self.config.getoption("--gui-report")
        if not report or not self.results:
            return
        from ..report import write_session_report
        from .outputs import write_junit, write_summary

        out = Path(report)
        results = sorted(self.results, key=lambda r: (r.file, r.line, r.name))
        write_summary(results, out / "summary.json")
        write_session_report(results, out)
        write_junit(results, out / "junit.xml")
