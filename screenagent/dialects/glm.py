"""GLM-V (GLM-4.1V-Thinking, GLM-4.5V, GLM-4.6V; zai-org/GLM-V).

- **Grounding** (the GLM-V README, "Grounding"): asked "Help me to locate <expr> in the image
  and give me its bounding boxes.", the model answers a box ``[x1,y1,x2,y2]`` with each value
  normalised by the image's width or height and scaled by 1000, marked with
  ``<|begin_of_box|>...<|end_of_box|>``; the bracket style varies (``[]``, ``[[]]``, ``()``).
  The box's centre is the point; several boxes: the first, the others named in a note.
- **Desktop agent** (the GLM-V GUI agent instructions, "Desktop Environment", OSWorld): a plain
  explanation, one call of ``left_click / right_click / middle_click / hover /
  left_double_click(start_box='[x,y]', element_info='')``, ``left_drag(start_box, end_box)``,
  ``key(keys='ctrl+c')``, ``type(content='')``, ``scroll(start_box, direction='down|up',
  step=k)`` (k defaults to 5), ``WAIT()`` (5 s), ``DONE()``, ``FAIL()``, then a ``Memory:``
  JSON list. Coordinates are integers 0-999, thousandths of the screenshot's width or height.
  A thinking model wraps it in ``<think>...</think><answer>...</answer>``; the box tokens may
  surround a ``start_box``.
- **Phone agent** (same document, "Mobile Environment"): ``Action: {"action_type": ...}``;
  ``click`` and ``input_text`` (click the field, clear it when ``override``, type, Enter) with
  ``box_2d`` ``[[xmin,ymin,xmax,ymax]]`` in 0-999, ``keyboard_enter``, ``wait``, ``answer``,
  ``status``; ``long_press``, ``swipe``, ``navigate_home/back``, ``open_app`` are refused.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from .base import (
    ModelAction,
    ParsedAnswer,
    Prompt,
    call_kwargs,
    done,
    numbers,
    phone_action,
    point_of,
    refuse_phone_action,
    scroll_amount,
    split_keys,
)

SPACE = ModelSpace.relative(1000)
_THINK = re.compile(r"<think>(.*?)</think>", re.S)
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S)
_BOX = re.compile(r"<\|(?:begin|start)_of_box\|>(.*?)<\|end_of_box\|>", re.S)
_BOX_TOKENS = re.compile(r"<\|(?:begin|start|end)_of_box\|>")
_CALL = re.compile(r"\b(left_click|right_click|middle_click|hover|left_double_click|left_drag|key|type|"
                   r"scroll|WAIT|DONE|FAIL)\s*\(")  # fmt: skip
_CLICKS = {"left_click": ("left", 1), "right_click": ("right", 1), "middle_click": ("middle", 1),
           "left_double_click": ("left", 2)}  # fmt: skip


def _call_text(body: str, start: int) -> str:
    """The call that starts at ``start`` up to its closing parenthesis (quotes respected)."""
    depth, quote, i = 0, "", start
    while i < len(body):
        c = body[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return body[start : i + 1]
        i += 1
    raise InvalidOutput(f"the action call {body[start:start + 60]!r} is not closed", raw=body)


def _point(kwargs: dict[str, Any], key: str, name: str, raw: str) -> tuple[float, float]:
    value = kwargs.get(key)
    if not isinstance(value, str):
        raise InvalidOutput(f"{name}: {key} must be '[x,y]' in 0-999, got {value!r}", raw=raw)
    return point_of(_BOX_TOKENS.sub("", value), f"{name} {key}")


def _pc_action(name: str, kwargs: dict[str, Any], raw: str) -> list[ModelAction]:
    if name in _CLICKS:
        button, clicks = _CLICKS[name]
        x, y = _point(kwargs, "start_box", name, raw)
        return [ModelAction(data={"action": "click", "x": x, "y": y, "button": button, "clicks": clicks},
                            space=SPACE)]  # fmt: skip
    if name == "hover":
        x, y = _point(kwargs, "start_box", name, raw)
        return [ModelAction(data={"action": "move", "x": x, "y": y}, space=SPACE)]
    if name == "left_drag":
        (x, y), (tx, ty) = _point(kwargs, "start_box", name, raw), _point(kwargs, "end_box", name, raw)
        return [ModelAction(data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=SPACE)]
    if name == "key":
        keys = kwargs.get("keys", kwargs.get("key"))
        if not isinstance(keys, str) or not keys.strip():
            raise InvalidOutput("key: keys must name a key or a combination like 'ctrl+c'", raw=raw)
        return [ModelAction(data={"action": "key", "keys": split_keys(keys)})]
    if name == "type":
        content = kwargs.get("content")
        if not isinstance(content, str) or not content:
            raise InvalidOutput("type: content must be a non-empty string", raw=raw)
        return [ModelAction(data={"action": "type", "text": content})]
    if name == "scroll":
        x, y = _point(kwargs, "start_box", name, raw)
        direction = str(kwargs.get("direction", "down")).lower()
        if direction not in ("up", "down"):
            raise InvalidOutput(f"scroll: direction must be 'down' or 'up', got {direction!r}", raw=raw)
        return [ModelAction(data={"action": "scroll", "x": x, "y": y, "direction": direction,
                                  "amount": scroll_amount(kwargs.get("step", 5))}, space=SPACE)]  # fmt: skip
    if name == "WAIT":
        return [ModelAction(data={"action": "wait", "seconds": 5.0})]
    return [done(name == "DONE")]


def _box_2d(item: dict[str, Any], raw: str) -> tuple[float, float]:
    nums = numbers(json.dumps(item.get("box_2d")))
    if len(nums) not in (2, 4):
        raise InvalidOutput(f"{item.get('action_type')}: box_2d must be [[xmin,ymin,xmax,ymax]] in 0-999", raw=raw)
    return point_of(json.dumps(nums), "box_2d")


def _phone_json(body: str, raw: str) -> list[ModelAction]:
    m = re.search(r"\{.*\}", body, re.S)
    try:
        item = json.loads(m.group(0)) if m else None
    except json.JSONDecodeError:
        try:  # the documented history shows Python dicts ({'action_type': 'open_app', ...})
            item = ast.literal_eval(m.group(0)) if m else None
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            item = None
    if not isinstance(item, dict):
        raise InvalidOutput('expected Action: {"action_type": ...} as JSON', raw=raw)
    kind = str(item.get("action_type", ""))
    if kind == "click":
        x, y = _box_2d(item, raw)
        return [ModelAction(data={"action": "click", "x": x, "y": y}, space=SPACE)]
    if kind == "input_text":
        x, y = _box_2d(item, raw)
        text = item.get("text")
        if not isinstance(text, str) or not text:
            raise InvalidOutput("input_text: text must be a non-empty string", raw=raw)
        clear = [ModelAction(data={"action": "key", "keys": ["ctrl", "a"]})] if item.get("override") else []
        return [ModelAction(data={"action": "click", "x": x, "y": y}, space=SPACE), *clear,
                ModelAction(data={"action": "type", "text": text}),
                ModelAction(data={"action": "key", "keys": ["enter"]})]  # fmt: skip
    if kind == "keyboard_enter":
        return [ModelAction(data={"action": "key", "keys": ["enter"]})]
    if kind == "wait":
        return [ModelAction(data={"action": "wait", "seconds": 5.0})]
    if kind == "answer":
        return [done(True, str(item.get("text", "")) or None)]
    if kind == "status":
        return [done(str(item.get("goal_status", "")).lower() == "complete")]
    if phone_action(kind):
        raise refuse_phone_action(kind, raw)
    raise InvalidOutput(f"unknown action_type {kind!r}", raw=raw)


def _grounding(body: str, raw: str) -> ParsedAnswer:
    marked = _BOX.findall(body)
    call = re.search(r"\b([A-Za-z_]\w*)\((?:[^()]*=|\s*\))", body)  # name(key=...) or name()
    if not marked and call:  # a call, but not one of GLM-V's: never guessed at
        if phone_action(call.group(1)):
            raise refuse_phone_action(call.group(1), raw)
        raise InvalidOutput(f"unknown action {call.group(1)!r}; GLM-V's desktop actions are left_click, "
                            "right_click, middle_click, hover, left_double_click, left_drag, key, type, "
                            "scroll, WAIT, DONE and FAIL", raw=raw)  # fmt: skip
    text = marked[0] if marked else body
    groups = re.findall(r"[\[(<]\s*-?\d[^\[\]()<>]*[\])>]", text)
    nums = numbers(groups[0]) if groups else numbers(text)
    if len(nums) not in (2, 4):
        raise InvalidOutput("expected an action call or a box [x1,y1,x2,y2] in 0-1000 "
                            "(<|begin_of_box|>...<|end_of_box|>)", raw=raw)  # fmt: skip
    x, y = point_of(json.dumps(nums), "box")
    others = len(groups) - 1 + max(0, len(marked) - 1)
    notes = (f"{others} more box(es) in the answer; the first was taken",) if others > 0 else ()
    return ParsedAnswer(thought=None, actions=(ModelAction(data={"action": "click", "x": x, "y": y}, space=SPACE),),
                        notes=notes)  # fmt: skip


def parse_glm(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    think = _THINK.search(text)
    body = _THINK.sub("", text)
    answer = _ANSWER.search(body)
    body = answer.group(1) if answer else body
    thought = think.group(1).strip() if think else None
    if "action_type" in body:  # the phone layout: Memory, Reason, then Action: {...}
        action = body.rsplit("Action:", 1)[-1]
        reason = re.search(r"Reason:(.*?)(?:Action:|$)", body, re.S)
        return ParsedAnswer(thought=thought or (reason.group(1).strip() if reason else None) or None,
                            actions=tuple(_phone_json(action, text)))  # fmt: skip
    body = body.split("Memory:", 1)[0]
    calls = list(_CALL.finditer(body))
    if not calls:
        return _grounding(body, text)
    first = calls[0]
    call = _call_text(body, first.start())
    name, kwargs = call_kwargs(call)
    before = _BOX_TOKENS.sub("", body[: first.start()]).strip().removeprefix("Action:").strip()
    return ParsedAnswer(thought=thought or before or None, actions=tuple(_pc_action(name, kwargs, text)))


def glm_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(user=f"Help me to locate {target} in the image and give me its bounding boxes.")


GLM_PC_PROMPT = """You are a GUI operation agent. You will be given a task and your action history, with recent screenshots. You should help me control the computer, output the best action step by step to accomplish the task.
The actions you output must be in the following action space:
left_click(start_box='[x,y]', element_info='')
# left single click at [x,y]
right_click(start_box='[x,y]', element_info='')
# right single click at [x,y]
middle_click(start_box='[x,y]', element_info='')
# middle single click at [x,y]
hover(start_box='[x,y]', element_info='')
# hover the mouse at [x,y]
left_double_click(start_box='[x,y]', element_info='')
# left double click at [x,y]
left_drag(start_box='[x1,y1]', end_box='[x2,y2]', element_info='')
# left drag from [x1,y1] to [x2,y2]
key(keys='')
# press a single key or a key combination/shortcut, if it's a key combination, you should use '+' to connect the keys like key(key='ctrl+c')
type(content='')
# type text into the current active element, it performs a copy&paste operation, so *you must click at the target element first to active it before typing something in*, if you want to overwrite the content, you should clear the content before type something in.
scroll(start_box='[x,y]', direction='down/up', step=k, element_info='')
# scroll the page at [x,y] to the specified direction for k clicks of the mouse wheel
WAIT()
# sleep for 5 seconds
DONE()
# output when the task is fully completed
FAIL()
# output when the task can not be performed at all

The output rules are as follows:
1. The start/end box parameter of the action should be in the format of [x, y] normalized to 0-1000, which usually should be the bounding box of a specific target element.
2. The element_info parameter is optional, it should be a string that describes the element you want to operate with, you should fill this parameter when you're sure about what the target element is.
3. Take actions step by step. *NEVER output multiple actions at once*.
4. If there are previous actions that you have already performed, I'll provide you history actions.
5. You should put the key information you *have to remember* in a separated memory part and I'll give it to you in the next round. The content in this part should be a JSON list. If you no longer need some given information, you should remove it from the memory. Even if you don't need to remember anything, you should also output an empty <memory></memory> part.
6. You can choose to give me a brief explanation before you start to take actions.

Output Format:
Plain text explanation with action(param='...')
Memory:
[{"user_email": "x@gmail.com", ...}]

Now Please help me to solve the following task:
"""
"""The desktop prompt of the GLM-V GUI agent instructions (the template's task and history
slots filled here; the benchmark-specific tips and the 50% history screenshots left out: one
screenshot is sent per step)."""


def glm_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    steps = f"\nHistory actions:\n{history}\nMemory:\n[]" if history else ""
    return Prompt(user=GLM_PC_PROMPT + task + steps)
