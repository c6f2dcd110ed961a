"""Build a tiny Qwen2.5-VL (a few layers, hidden size 64) with a tokenizer trained offline,
and overfit it to answer one exact text for one screenshot: the real transformers code path,
with no downloads (see shared/ENVIRONMENT.md)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>", "<|box_start|>", "<|box_end|>"]  # fmt: skip
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen25vl(folder: Path, corpus: list[str], *, max_pixels: int = 28 * 28 * 64) -> Path:
    """Save an untrained tiny model, its tokenizer and its image processor into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
    )
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   chat_template=CHAT_TEMPLATE)  # fmt: skip
    ids = {t: fast.convert_tokens_to_ids(t) for t in SPECIAL}
    config = Qwen2_5_VLConfig(
        text_config={
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": len(fast), "max_position_embeddings": 8192,
            "rope_scaling": {"type": "mrope", "mrope_section": [4, 2, 2]},
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
            "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "fullatt_block_indexes": [1],
            "window_size": 56,
        },
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=max_pixels).save_pretrained(folder)
    return folder


def overfit(
    folder: Path,
    image: Image.Image,
    prompt: str,
    answer: str,
    *,
    steps: int = 300,
    system: str | None = None,
    more: list[tuple[str | None, str, str] | tuple[str | None, str, str, Image.Image]] = (),  # type: ignore[assignment]
) -> float:
    """Train the saved model until it answers ``answer`` for ``image`` and ``prompt`` (and each
    ``(system, prompt, answer[, image])`` of ``more``: on ``image`` unless one is given);
    returns the worst final loss. Uses the same processor screenagent builds (image-only,
    without torchvision)."""
    import torch
    from transformers import AutoModelForImageTextToText

    from screenagent.backends.transformers_backend import _image_only_processor

    processor = _image_only_processor(str(folder))
    model = AutoModelForImageTextToText.from_pretrained(str(folder), dtype=torch.float32)
    batches = []
    for sys_text, user, target, *own in [(system, prompt, answer), *more]:
        shot = (own[0] if own else image).convert("RGB")
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": user}]}
        ]
        if sys_text:
            messages.insert(0, {"role": "system", "content": [{"type": "text", "text": sys_text}]})
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prefix = processor(text=[text], images=[shot], return_tensors="pt")
        full = processor(text=[text + target + "<|im_end|>"], images=[shot], return_tensors="pt")
        labels = full["input_ids"].clone()
        labels[:, : prefix["input_ids"].shape[1]] = -100
        batches.append((full, labels))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    losses = [1.0] * len(batches)
    for step in range(steps * len(batches)):
        i = step % len(batches)
        full, labels = batches[i]
        loss = model(**full, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[i] = loss.item()
        if max(losses) < 0.005:
            break
    model.save_pretrained(folder)
    return float(max(losses))


IMAGE_ONLY_PROCESSOR_CODE = '''"""The Qwen2.5-VL processor without its video processor, for servers on machines without
torchvision (loaded as remote code: transformers serve --trust-remote-code)."""

from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.processing_utils import ProcessorMixin


class ImageOnlyQwen25VLProcessor(Qwen2_5_VLProcessor):
    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)
'''


def add_image_only_processor(folder: Path) -> None:
    """Save the image-only processor into ``folder`` as remote code, so that a server (which
    builds its processor with AutoProcessor) gets the images through without torchvision."""
    import json

    (folder / "image_only_processor.py").write_text(IMAGE_ONLY_PROCESSOR_CODE)
    (folder / "processor_config.json").write_text(json.dumps({
        "processor_class": "ImageOnlyQwen25VLProcessor",
        "auto_map": {"AutoProcessor": "image_only_processor.ImageOnlyQwen25VLProcessor"},
    }))  # fmt: skip
