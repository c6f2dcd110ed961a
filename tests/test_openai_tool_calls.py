"""A server with a tool parser on (vLLM/SGLang ``--enable-auto-tool-choice --tool-call-parser
hermes``) takes the model's ``<tool_call>`` text out of ``content`` and returns it as OpenAI
``tool_calls`` (Chat Completions API reference: ``choices[].message.tool_calls[].function`` with
``name`` and ``arguments``, a JSON string). The OpenAI backend writes them back as the text the
model produced, so the families that read ``<tool_call>`` (Qwen2.5-VL, Qwen3.5, MAI-UI) and
Holo3's tool calls still parse. The server here is a stub on 127.0.0.1 answering what such a
server answers; the real `openai` client talks to it over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

pytest.importorskip("openai")

from screenagent.backends import OpenAIBackend
from screenagent.dialects import get_dialect, to_actions

REPLY: dict = {}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(REPLY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _reply(content: str | None, calls: list[tuple[str, dict]]) -> dict:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": content,
            "tool_calls": [{"id": f"call_{i}", "type": "function",
                            "function": {"name": n, "arguments": json.dumps(a)}} for i, (n, a) in enumerate(calls)],
        }}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }  # fmt: skip


@pytest.mark.parametrize(("family", "content", "calls", "want"), [
    ("qwen3.5", None, [("computer", {"action": "left_click", "coordinate": [500, 250]})], (640, 200)),
    ("qwen2.5-vl", "", [("computer_use", {"action": "left_click", "coordinate": [100, 80]})], (99, 78)),  # of 1288x812
    ("holo3", '{"note": null, "thought": "the Save button"}',
     [("click", {"element": "Save button", "x": 500, "y": 500})], (640, 400)),
])  # fmt: skip
def test_tool_calls_reach_the_dialect(base_url: str, family: str, content: str | None,
                                      calls: list[tuple[str, dict]], want: tuple[int, int]) -> None:  # fmt: skip
    REPLY.clear()
    REPLY.update(_reply(content, calls))
    backend = OpenAIBackend("m", base_url=base_url, api_key="k")
    image = Image.new("RGB", (1280, 800), "white")
    completion = backend.complete(system=None, prompt="click Save", image=image)
    assert "<tool_call>" in completion.text
    dialect = get_dialect(family)
    size = dialect.model_input_size(*image.size)
    (click,) = to_actions(dialect.parse(completion.text, size), image_width=1280, image_height=800)
    assert (click.x, click.y) == want


def test_content_alone_is_unchanged(base_url: str) -> None:
    REPLY.clear()
    REPLY.update(_reply("Action: click(start_box='(1,2)')", []))
    text = OpenAIBackend("m", base_url=base_url, api_key="k").complete(
        system=None, prompt="p", image=Image.new("RGB", (10, 10))).text  # fmt: skip
    assert text == "Action: click(start_box='(1,2)')"
