"""Scripted GUI tests: YAML files run by `screenagent test`, and the same steps from Python.

    from screenagent.testing import Gui, load_test_file, run_tests, RunOptions

See `spec` (the file format), `driver` (`Gui`: the step vocabulary as methods), `runner`
(displays, apps, retries, workers), `cache` (the pixel-validated grounding cache), `outputs`
(JUnit, summary.json, the HTML report) and `pytest_plugin`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Gui": "driver", "StepFailed": "driver", "StepRecord": "driver",
    "RunOptions": "runner", "TestResult": "runner", "run_tests": "runner",
    "TestFile": "spec", "TestFileError": "spec", "load_test_file": "spec",
}  # fmt: skip
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Imported on first use: the pytest plugin loads with every pytest run, so stay light."""
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
