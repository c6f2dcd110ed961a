"""Local models through Hugging Face transformers.

``AutoModelForImageTextToText`` with the model's processor; device and dtype chosen sensibly
(cuda > mps > cpu; bf16 on GPUs that have it, else fp16 on GPUs, fp32 on CPU) and overridable;
greedy decoding; each model loaded once per process.

Without torchvision (CPU-only boxes, including this project's CI) the Qwen-family processors
cannot be built: ``AutoProcessor`` raises on the video processor, or quietly returns only the
tokenizer, and images would be dropped without an error. We detect both and build an
image-only processor from the same files (the processor class minus its video processor; the
image processor falls back to its PIL implementation), so a real checkpoint works unchanged.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from PIL import Image

from ..errors import ConfigError, MissingDependency


@dataclass(frozen=True, kw_only=True)
class Completion:
    """A model's answer and what it cost.

    Attributes:
        text: The generated text (special tokens removed).
        prompt_tokens, completion_tokens: Token counts.
        seconds: Wall time of the call.
        model_input_size: (width, height) of the image as the model saw it, when known.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    model_input_size: tuple[int, int] | None = None


def _image_only_processor(path: str) -> Any:
    """The model's processor class without a video processor (see the module docstring)."""
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer
    from transformers.processing_utils import ProcessorMixin

    config = AutoConfig.from_pretrained(path)
    model_type = getattr(config, "model_type", "")
    from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor

    bases: dict[str, type] = {"qwen2_vl": Qwen2VLProcessor, "qwen2_5_vl": Qwen2_5_VLProcessor}
    try:
        from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor

        bases["qwen3_vl"] = Qwen3VLProcessor
    except ImportError:  # pragma: no cover - older transformers
        pass
    base = bases.get(model_type)
    if base is None:
        raise ConfigError(
            f"Cannot build a processor for {path} (model type {model_type!r}) without torchvision; "
            "install torchvision that matches your torch, or use a Qwen-family model."
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    image_processor = AutoImageProcessor.from_pretrained(path)

    class ImageOnlyProcessor(base):  # type: ignore[valid-type, misc]
        def __init__(
            self,
            image_processor: Any = None,
            tokenizer: Any = None,
            chat_template: Any = None,
            **kw: Any,
        ):
            self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
            self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    template = getattr(tokenizer, "chat_template", None)
    return ImageOnlyProcessor(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


def _set_budget(ip: Any, min_pixels: int | None, max_pixels: int | None) -> None:
    """Set the pixel budget where this transformers version reads it: ``size`` (shortest_edge /
    longest_edge, in pixels) when the image processor has one, else the old attributes."""
    size = getattr(ip, "size", None)
    for value, key, attr in (
        (min_pixels, "shortest_edge", "min_pixels"),
        (max_pixels, "longest_edge", "max_pixels"),
    ):
        if value is None:
            continue
        if isinstance(size, dict) and key in size:
            size[key] = value
        else:
            setattr(ip, attr, value)


def _pick_device(device: str | None, torch: Any) -> str:
    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(dtype: str | None, device: str, torch: Any) -> Any:
    if dtype:
        try:
            return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                    "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[dtype]  # fmt: skip
        except KeyError:
            raise ConfigError(f"--dtype {dtype!r}: use bf16, fp16 or fp32.") from None
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


class TransformersBackend:
    """A local vision-language model.

    Args:
        path: A local folder or a hub id (hub downloads are the user's business; nothing here
            downloads on its own beyond what ``from_pretrained`` does).
        device: ``cuda``, ``cuda:1``, ``mps``, ``cpu``, or ``auto`` (a device map); default: the best one.
        dtype: ``bf16``, ``fp16`` or ``fp32``; default: by device.
        min_pixels, max_pixels: The image budget passed to the processor (Qwen families).
        max_new_tokens: Generation limit.
    """

    resizes_images = True
    """The processor resizes the image itself and the backend reports the size it chose."""
    _cache: ClassVar[dict[tuple[Any, ...], tuple[Any, Any]]] = {}
    """Loaded (model, processor) per path and settings: a model is loaded once per process."""
    _lock = threading.Lock()

    def __init__(
        self,
        path: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        max_new_tokens: int = 256,
    ) -> None:
        self.path = path
        self.device = device
        self.dtype = dtype
        self.min_pixels = min_pixels
        self.max_pixels = max_pixels
        self.max_new_tokens = max_new_tokens
        self.name = f"hf:{path}"

    def _load(self) -> tuple[Any, Any]:
        key = (self.path, self.device, self.dtype, self.min_pixels, self.max_pixels)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            try:
                import torch
                from transformers import AutoModelForImageTextToText, AutoProcessor
            except ImportError as exc:
                raise MissingDependency(
                    "transformers and torch",
                    "Install them with `pip install torch==2.13.0` (first) and `pip install 'screenagent[transformers]'`.",
                ) from exc
            device = _pick_device(self.device, torch)
            dtype = _pick_dtype(self.dtype, device if device != "auto" else "cuda", torch)
            try:
                processor = AutoProcessor.from_pretrained(self.path)
            except (OSError, ValueError, AttributeError, ImportError, TypeError):
                processor = None
            if processor is None or getattr(processor, "image_processor", None) is None:
                processor = _image_only_processor(self.path)  # no torchvision: see the docstring
            _set_budget(processor.image_processor, self.min_pixels, self.max_pixels)
            kwargs: dict[str, Any] = {"dtype": dtype}
            if device == "auto":
                kwargs["device_map"] = "auto"
            model = AutoModelForImageTextToText.from_pretrained(self.path, **kwargs)
            if device != "auto":
                model = model.to(device)  # type: ignore[arg-type]
            model.eval()
            self._cache[key] = (model, processor)
            return model, processor

    def complete(self, *, system: str | None, prompt: str, image: Image.Image) -> Completion:
        """One answer for one screenshot and one prompt."""
        import torch

        model, processor = self._load()
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
        messages.append(
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}
        )
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = processor(text=[text], images=[image.convert("RGB")], return_tensors="pt").to(
            model.device
        )
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        size = None
        if "image_grid_thw" in inputs:
            _, rows, cols = (int(v) for v in inputs["image_grid_thw"][0])
            patch = int(getattr(processor.image_processor, "patch_size", 14))
            size = (cols * patch, rows * patch)
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        seconds = time.perf_counter() - start
        new = out[0][inputs["input_ids"].shape[1] :]
        answer = processor.tokenizer.decode(new, skip_special_tokens=True)
        return Completion(
            text=answer, prompt_tokens=int(inputs["input_ids"].shape[1]), completion_tokens=int(new.shape[0]),
            seconds=seconds, model_input_size=size,
        )  # fmt: skip
