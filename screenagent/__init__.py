"""screenagent: screenshot-grounded GUI agents.

Importing this package does nothing heavy and needs no display: torch, transformers, OCR and
pyautogui are imported lazily by the modules that use them.
"""

__version__ = "0.1.0"
