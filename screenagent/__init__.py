"""screenagent: screenshot-grounded GUI agents.

Importing this package does nothing heavy and needs no display: torch, transformers, OCR and
pyautogui are imported lazily by the modules that use them.
"""

__version__ = "0.1.0"

__all__ = ["Finding", "read_errors"]


def __getattr__(name: str) -> object:
    """``screenagent.read_errors`` and ``screenagent.Finding``, imported on first use."""
    if name in ("read_errors", "Finding"):
        from . import findings

        return getattr(findings, name)
    raise AttributeError(f"module 'screenagent' has no attribute {name!r}")
