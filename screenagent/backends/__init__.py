"""Transport to vision-language models: a prompt and a screenshot in, text out."""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from .openai_backend import OpenAIBackend
from .transformers_backend import Completion, TransformersBackend

__all__ = ["Backend", "Completion", "OpenAIBackend", "TransformersBackend"]


class Backend(Protocol):
    name: str

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion: ...
