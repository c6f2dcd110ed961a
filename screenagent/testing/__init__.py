"""Scripted GUI tests: YAML files run by `screenagent test`, and the same steps from Python.

    from screenagent.testing import load_test_file, run_tests, RunOptions

See `spec` (the file format), `runner` (a `screenagent.Session` per test: displays, apps,
retries, workers; the steps run through `screenagent.steps.runner`, the one step runner), `cache` (the pixel-validated grounding cache), `outputs`
(JUnit, summary.json, the HTML report) and `pytest_plugin`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "StepFailed": "..steps.failures",
    "RunOptions": "runner", "TestResult": "runner", "run_tests": "runner",
    "TestFile": "spec", "TestFileError": "spec", "load_test_file": "spec",
}  # fmt: skip
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Imported on first use: the pytest plugin loads with every pytest run, so stay light."""
    if name in _WHERE:
        where = _WHERE[name]
        return getattr(import_module(where if where.startswith("..") else f".{where}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
