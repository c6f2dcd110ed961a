"""Models behind an OpenAI-compatible chat-completions endpoint: vLLM, SGLang, Ollama,
llama.cpp server, LM Studio, TGI, ``transformers serve`` and hosted APIs.

Transport only, through the official ``openai`` client: the screenshot goes as a base64 data
URL (PNG by default; JPEG is smaller for large screens), decoding is greedy (temperature 0),
connection errors, timeouts, 429 and 5xx are retried a bounded number of times by the client
with backoff. What cannot be fixed by retrying (a wrong URL, a refused key, an unknown model)
becomes a BackendError that says what to check.

The API key is never read here: the CLI reads it from the environment and passes it in (or
passes a ready client).
"""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

from PIL import Image

from ..errors import BackendError, MissingDependency
from .transformers_backend import Completion


def image_data_url(image: Image.Image, fmt: str = "png", quality: int = 90) -> str:
    """``data:image/png;base64,...`` (or JPEG) for one image."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
    else:
        image.save(buf, format="PNG", compress_level=1)
    return f"data:image/{fmt};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class OpenAIBackend:
    """A model served over the OpenAI chat-completions API.

    Args:
        model: The model name the server knows.
        base_url: The server's ``/v1`` URL (e.g. ``http://127.0.0.1:8000/v1``); None: OpenAI's.
        api_key: The key (servers that need none accept any string).
        client: A ready ``openai.OpenAI`` client (tests, custom transports); overrides the above.
        timeout: Seconds for one request.
        max_retries: Transport retries (connection errors, timeouts, 429, 5xx).
        image_format: ``png`` or ``jpeg``.
        max_tokens: Generation limit.
    """

    resizes_images = False
    """The image is sent as prepared: the server's own resize is not visible from here."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: Any = None,
        timeout: float = 120.0,
        max_retries: int = 2,
        image_format: str = "png",
        max_tokens: int = 512,
    ) -> None:
        if image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be png or jpeg, not {image_format!r}")
        self.model = model
        self.base_url = base_url
        self.image_format = image_format
        self.max_tokens = max_tokens
        self.name = f"openai:{model}"
        if client is None:
            try:
                import openai
            except ImportError as exc:
                raise MissingDependency(
                    "The openai client", "Install it with `pip install 'screenagent[serving]'`."
                ) from exc
            client = openai.OpenAI(
                base_url=base_url,
                api_key=api_key or "none",
                timeout=timeout,
                max_retries=max_retries,
            )
        self.client = client

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion:
        import openai

        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": image_data_url(image, self.image_format)},
                    },
                    {"type": "text", "text": prompt},
                ],
            }
        )
        where = self.base_url or "the OpenAI API"
        start = time.perf_counter()
        try:
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=self.max_tokens, temperature=0.0
            )
        except openai.APIConnectionError as exc:
            raise BackendError(
                f"Cannot reach the model server at {where} ({exc.__class__.__name__}): is it running, "
                "and is --base-url its /v1 address?"
            ) from exc
        except openai.AuthenticationError as exc:
            raise BackendError(
                f"{where} refused the API key (401): set OPENAI_API_KEY (or SCREENAGENT_API_KEY)."
            ) from exc
        except openai.NotFoundError as exc:
            raise BackendError(
                f"{where} does not know the model {self.model!r} or the endpoint (404): check the "
                "model name (GET /v1/models lists them) and that --base-url ends in /v1."
            ) from exc
        except openai.APIStatusError as exc:
            raise BackendError(
                f"{where} answered HTTP {exc.status_code}: {str(exc)[:300]}"
            ) from exc
        seconds = time.perf_counter() - start
        if not response.choices:
            raise BackendError(f"{where} returned no choices for model {self.model!r}.")
        message = response.choices[0].message
        text = (message.content or "") + tool_calls_text(getattr(message, "tool_calls", None))
        usage = response.usage
        return Completion(
            text=text,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            seconds=seconds,
            model_input_size=image.size,
        )


def tool_calls_text(calls: Any) -> str:
    """A server's parsed ``tool_calls`` written back as the text the model produced:
    ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` per call (the Hermes form that
    vLLM/SGLang tool parsers take out of Qwen-based models' answers). Without this, a server
    started with a tool parser (``--enable-auto-tool-choice``) hands back an empty answer."""
    out = []
    for call in calls or ():
        fn = getattr(call, "function", None)
        if fn is None:
            continue
        try:
            arguments = json.loads(fn.arguments or "{}")
        except (TypeError, ValueError):
            arguments = fn.arguments
        out.append("<tool_call>" + json.dumps({"name": fn.name, "arguments": arguments}, ensure_ascii=False)
                   + "</tool_call>")  # fmt: skip
    return "".join(out)

