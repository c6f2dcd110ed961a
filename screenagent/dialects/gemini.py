"""Gemini computer use: the API answers with function calls, not text.

The raw answer is the JSON of what the Gemini API returned, at any level a user is likely to
paste: the whole ``generateContent`` response, a candidate, its ``content``, the list of
``parts``, one part, or one call ``{"name": ..., "args": {...}}`` (REST ``functionCall`` and
SDK ``function_call`` spellings both). Text parts are the thought; an answer with text and no
function call ends the task (the reference agent's loop does the same).

The predefined functions and their conversion follow google-gemini/computer-use-preview
``agent.py``: ``x``/``y`` are normalised to 0-999 and mapped with ``int(x / 1000 * width)``.
``click_at``, ``hover_at``, ``type_text_at`` (click, then ctrl+a and Delete unless
``clear_before_typing`` is false, type, Enter when ``press_enter``), ``key_combination``
(``"Control+C"``), ``scroll_at`` (``magnitude`` in the same 0-999 units, 800 by default, turned
into wheel notches of a tenth of that: 8), ``scroll_document`` (at the screen's centre),
``drag_and_drop``, ``wait_5_seconds``, ``go_back``/``go_forward`` (alt+Left/Right) and
``navigate`` (ctrl+L, the URL, Enter: a browser must have the focus). ``open_web_browser`` and
``search`` have no desktop meaning and are refused by name. A call carrying a
``safety_decision`` that requires confirmation is never executed: the run ends, unsuccessful,
with the safety service's explanation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from ..models import loads
from .base import ModelAction, ParsedAnswer, Prompt, done, number, scroll_amount, split_keys

SPACE = ModelSpace.relative(1000)


def _load(text: str) -> Any:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    return loads(body, raw=text, what="expected the Gemini API's JSON (a response, its parts or a function call)")


def _parts(obj: Any) -> list[Any]:
    """Descend to the list of parts (or one call)."""
    if isinstance(obj, dict) and isinstance(obj.get("candidates"), list) and obj["candidates"]:
        obj = obj["candidates"][0]
    if isinstance(obj, dict) and isinstance(obj.get("content"), dict):
        obj = obj["content"]
    if isinstance(obj, dict) and isinstance(obj.get("parts"), list):
        obj = obj["parts"]
    if isinstance(obj, dict):
        obj = [obj]
    if not isinstance(obj, list):
        raise InvalidOutput("expected a response, a candidate, its parts or a function call", raw=str(obj)[:200])
    return obj


def _calls(obj: Any) -> tuple[list[str], list[dict[str, Any]]]:
    texts, calls = [], []
    for part in _parts(obj):
        if not isinstance(part, dict):
            continue
        call = part.get("functionCall") or part.get("function_call")
        if call is None and "name" in part and ("args" in part or "arguments" in part):
            call = part
        if isinstance(call, dict):
            calls.append(call)
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    return texts, calls


def _xy(args: dict[str, Any], name: str, kx: str = "x", ky: str = "y") -> tuple[float, float]:
    if kx not in args or ky not in args:
        raise InvalidOutput(f"{name} needs {kx} and {ky} (0-999)", raw=repr(args))
    return number(args[kx], f"{name} {kx}"), number(args[ky], f"{name} {ky}")


def _key(*keys: str) -> ModelAction:
    return ModelAction(data={"action": "key", "keys": list(keys)})


def _click(a: dict[str, Any], n: str) -> list[ModelAction]:
    x, y = _xy(a, n)
    return [ModelAction(data={"action": "click", "x": x, "y": y}, space=SPACE)]


def _hover(a: dict[str, Any], n: str) -> list[ModelAction]:
    x, y = _xy(a, n)
    return [ModelAction(data={"action": "move", "x": x, "y": y}, space=SPACE)]


def _type_at(a: dict[str, Any], n: str) -> list[ModelAction]:
    text = a.get("text")
    if not isinstance(text, str):
        raise InvalidOutput(f"{n} needs text", raw=repr(a))
    out = _click(a, n)
    if a.get("clear_before_typing", True):
        out += [_key("ctrl", "a"), _key("delete")]
    if text:
        out.append(ModelAction(data={"action": "type", "text": text}))
    if a.get("press_enter", False):
        out.append(_key("enter"))
    return out


def _direction(a: dict[str, Any], n: str) -> str:
    d = str(a.get("direction", "")).lower()
    if d not in ("up", "down", "left", "right"):
        raise InvalidOutput(f"{n}: direction must be up, down, left or right, got {d!r}", raw=repr(a))
    return d


def _scroll_at(a: dict[str, Any], n: str) -> list[ModelAction]:
    x, y = _xy(a, n)
    notches = scroll_amount(number(a.get("magnitude", 800), f"{n} magnitude") / 100)
    return [ModelAction(data={"action": "scroll", "x": x, "y": y, "direction": _direction(a, n),
                              "amount": notches}, space=SPACE)]  # fmt: skip


def _scroll_document(a: dict[str, Any], n: str) -> list[ModelAction]:
    return _scroll_at({**a, "x": 500, "y": 500}, n)


def _drag(a: dict[str, Any], n: str) -> list[ModelAction]:
    (x, y), (tx, ty) = _xy(a, n), _xy(a, n, "destination_x", "destination_y")
    return [ModelAction(data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=SPACE)]


def _keys(a: dict[str, Any], n: str) -> list[ModelAction]:
    keys = a.get("keys")
    if not isinstance(keys, str) or not keys.strip():
        raise InvalidOutput(f"{n}: keys must be a combination like 'Control+C'", raw=repr(a))
    return [_key(*split_keys(keys))]


def _navigate(a: dict[str, Any], n: str) -> list[ModelAction]:
    url = a.get("url")
    if not isinstance(url, str) or not url:
        raise InvalidOutput(f"{n} needs a url", raw=repr(a))
    return [_key("ctrl", "l"), ModelAction(data={"action": "type", "text": url}), _key("enter")]


def _refuse(a: dict[str, Any], n: str) -> list[ModelAction]:
    raise InvalidOutput(f"{n} only has a meaning in Gemini's own browser environment; on a desktop, "
                        "start the browser with --launch and answer with click_at, type_text_at, "
                        "key_combination or navigate", raw=repr(a))  # fmt: skip


_ACTIONS: dict[str, Callable[[dict[str, Any], str], list[ModelAction]]] = {
    "click_at": _click, "hover_at": _hover, "type_text_at": _type_at, "scroll_at": _scroll_at,
    "scroll_document": _scroll_document, "drag_and_drop": _drag, "key_combination": _keys,
    "navigate": _navigate, "go_back": lambda a, n: [_key("alt", "left")],
    "go_forward": lambda a, n: [_key("alt", "right")],
    "wait_5_seconds": lambda a, n: [ModelAction(data={"action": "wait", "seconds": 5.0})],
    "open_web_browser": _refuse, "search": _refuse,
}  # fmt: skip


def parse_gemini(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    texts, calls = _calls(_load(text))
    thought = " ".join(t.strip() for t in texts if t.strip()) or None
    if not calls:
        if thought is not None:  # a reply without a function call ends the task
            return ParsedAnswer(thought=None, actions=(done(True, thought),))
        raise InvalidOutput("the answer holds no function call and no text", raw=text)
    out: list[ModelAction] = []
    for call in calls:
        name = str(call.get("name", ""))
        args = call.get("args", call.get("arguments")) or {}
        if not isinstance(args, dict):
            raise InvalidOutput(f"{name}: args must be an object", raw=text)
        safety = args.get("safety_decision")
        if isinstance(safety, dict) and safety.get("decision") == "require_confirmation":
            why = str(safety.get("explanation", "")).strip()
            return ParsedAnswer(thought=thought, actions=(done(
                False, f"Gemini's safety service asks a person to confirm {name} before it runs: {why}"),))
        act = _ACTIONS.get(name)
        if act is None:
            raise InvalidOutput(f"unknown computer-use function {name!r}; the desktop takes "
                                + ", ".join(sorted(k for k, v in _ACTIONS.items() if v is not _refuse)), raw=text)
        out += act(args, name)
    return ParsedAnswer(thought=thought, actions=tuple(out))


def gemini_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    steps = f"\n\nEarlier steps:\n{history}" if history else ""
    return Prompt(
        system="You operate a computer with Gemini's computer-use functions: click_at, hover_at, "
        "type_text_at, key_combination, scroll_at, scroll_document, drag_and_drop, wait_5_seconds, "
        "navigate, go_back, go_forward. x and y are integers from 0 to 999, thousandths of the "
        'screenshot\'s width and height. Answer with the function call as JSON, for example '
        '{"name": "click_at", "args": {"x": 500, "y": 300}}; when the task is finished, answer '
        "with text only.",
        user=f"{task}{steps}",
    )
