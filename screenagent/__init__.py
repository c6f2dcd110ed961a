"""screenagent: screenshot-grounded GUI agents.

    from screenagent import Agent, Session, load_model

    with Session(virtual_display="1280x800", launch=["python3", "app.py"], ready="Submit") as s:
        s.type("Ada", into="Name")
        s.click("Submit")
        s.expect_visible("Thank you")
        Agent().run("click Clear; expect no errors", session=s)

Importing this package does nothing heavy and needs no display: torch, transformers, OCR and
pyautogui are imported lazily by the modules that use them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Agent": ".agent",
    "Session": ".session",
    "load_model": ".models",
    "Model": ".models",
    "read_errors": ".findings",
    "Finding": ".findings",
    "StepFailed": ".steps.failures",
    "RunResult": ".steplog",
    "load_run": ".steplog",
}
__all__ = [
    "Agent", "Finding", "Model", "RunResult", "Session", "StepFailed", "load_model", "load_run",
    "read_errors",
]  # fmt: skip

if TYPE_CHECKING:
    from .agent import Agent
    from .findings import Finding, read_errors
    from .models import Model, load_model
    from .session import Session
    from .steplog import RunResult, load_run
    from .steps.failures import StepFailed


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (nothing heavy at import time)."""
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'screenagent' has no attribute {name!r}")
