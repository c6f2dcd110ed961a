"""Model-family dialects: prompts, output parsers, coordinate spaces and resize rules."""

from .base import Dialect, ImagePrep, ModelAction, ParsedAnswer, Prompt, Resize, to_actions
from .families import FAMILIES, get_dialect

__all__ = [
    "FAMILIES",
    "Dialect",
    "ImagePrep",
    "ModelAction",
    "ParsedAnswer",
    "Prompt",
    "Resize",
    "get_dialect",
    "to_actions",
]
