"""Model-family dialects: prompts, output parsers, coordinate spaces and resize rules."""

from .base import Dialect, ModelAction, ParsedAnswer, Resize, to_actions
from .families import FAMILIES, get_dialect

__all__ = [
    "FAMILIES",
    "Dialect",
    "ModelAction",
    "ParsedAnswer",
    "Resize",
    "get_dialect",
    "to_actions",
]
