"""Model families, table-driven: each is a parser plus its coordinate space and resize.

Formats and conversions follow the official sources summarised in the project's reference
(model-formats.md): UI-TARS ``codes/ui_tars/action_parser.py`` and README_coordinates.md,
Qwen2.5-VL/Qwen3-VL cookbooks, ShowUI ``api.py``, OS-Atlas README, UGround README.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from ..geometry import ModelSpace
from ..policies.base import InvalidOutput
from . import grounders, hosted, pyautogui_code
from .base import (
    Dialect,
    ModelAction,
    PadToCanvas,
    ParsedAnswer,
    Prompt,
    Resize,
    ScaleToTarget,
    call_kwargs,
    done,
    key_names,
    number,
    numbers,
    point_of,
    scroll_amount,
    split_keys,
)

# --- UI-TARS ----------------------------------------------------------------------------------

_SPECIAL = re.compile(r"<\|box_start\|>|<\|box_end\|>|<\|im_end\|>|<\|endoftext\|>")
_POINT_TAG = re.compile(r"<point>\s*(-?\d+(?:\.\d+)?)[\s,]+(-?\d+(?:\.\d+)?)\s*</point>")
_UITARS_KEYS = {"arrowleft": "left", "arrowright": "right", "arrowup": "up", "arrowdown": "down"}


def _uitars_calls(text: str) -> tuple[str | None, list[str]]:
    text = _SPECIAL.sub("", text)
    text = _POINT_TAG.sub(lambda m: f"({m.group(1)},{m.group(2)})", text)
    thought = None
    m = re.search(r"(?:Thought|Reflection|Action_Summary):\s*(.*?)(?=\n\s*Action:|\Z)", text, re.S)
    if m:
        thought = m.group(1).strip() or None
    if "Action:" not in text:
        raise InvalidOutput(
            "no 'Action:' in the answer; write 'Action: click(start_box=\"(x,y)\")'", raw=text
        )
    body = text.rsplit("Action:", 1)[1].strip()
    calls = [c.strip() for c in re.split(r"\)\s*\n\s*\n", body) if c.strip()]
    calls = [c if c.endswith(")") else c + ")" for c in calls]
    return thought, calls


def _escape_type_content(call: str) -> str:
    """UI-TARS writes type(content='it's') with unescaped quotes; re-escape the inner ones as
    its own parser does, so the literal can be read."""
    m = re.match(r"^(type\s*\(\s*content\s*=\s*)(['\"])(.*)\2(\s*\))\s*$", call, re.S)
    if not m:
        return call
    inner = m.group(3)
    inner = re.sub(r"(?<!\\)" + re.escape(m.group(2)), "\\\\" + m.group(2), inner)
    return f"{m.group(1)}{m.group(2)}{inner}{m.group(2)}{m.group(4)}"


def _uitars_action(name: str, kw: dict[str, Any], space: ModelSpace) -> list[ModelAction]:
    def pt(key_names: tuple[str, ...]) -> tuple[float, float]:
        for k in key_names:
            if k in kw:
                return point_of(str(kw[k]), f"{name}.{k}")
        raise InvalidOutput(f"{name}: missing {' or '.join(key_names)}", raw=str(kw))

    start = ("start_box", "point", "start_point")
    match name:
        case "click" | "left_single":
            x, y = pt(start)
            return [ModelAction(data={"action": "click", "x": x, "y": y}, space=space)]
        case "left_double":
            x, y = pt(start)
            return [ModelAction(data={"action": "click", "x": x, "y": y, "clicks": 2}, space=space)]
        case "right_single":
            x, y = pt(start)
            return [
                ModelAction(
                    data={"action": "click", "x": x, "y": y, "button": "right"}, space=space
                )
            ]
        case "hover" | "mouse_move":
            x, y = pt(start)
            return [ModelAction(data={"action": "move", "x": x, "y": y}, space=space)]
        case "drag" | "select":
            x, y = pt(start)
            tx, ty = pt(("end_box", "end_point"))
            return [
                ModelAction(
                    data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=space
                )
            ]
        case "hotkey" | "press" | "keydown":
            keys = [
                _UITARS_KEYS.get(k.lower(), k)
                for k in split_keys(str(kw.get("key", kw.get("hotkey", ""))))
            ]
            return [ModelAction(data={"action": "key", "keys": keys})]
        case "type":
            content = str(kw.get("content", ""))
            out = []
            submit = content.endswith("\n")
            text = content.rstrip("\n") if submit else content
            if text:
                out.append(ModelAction(data={"action": "type", "text": text}))
            if submit:
                out.append(ModelAction(data={"action": "key", "keys": ["enter"]}))
            if not out:
                raise InvalidOutput("type: empty content", raw=str(kw))
            return out
        case "scroll":
            direction = str(kw.get("direction", "down")).lower().strip()
            data: dict[str, Any] = {"action": "scroll", "direction": direction, "amount": 5}
            if any(k in kw for k in start):
                data["x"], data["y"] = pt(start)
                return [ModelAction(data=data, space=space)]
            return [ModelAction(data=data)]
        case "wait":
            return [ModelAction(data={"action": "wait", "seconds": 5})]
        case "finished":
            return [done(True, str(kw.get("content", "")) or None)]
        case "call_user":
            return [done(False, "the model asked for the user's help")]
    raise InvalidOutput(
        f"unknown action {name!r}; use click, left_double, right_single, drag, hotkey, type, "
        "scroll, wait, finished or call_user",
        raw=str(kw),
    )


def _parse_uitars(space_of: str) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        space = (
            ModelSpace.pixels(*model_size) if space_of == "pixels" else ModelSpace.relative(1000)
        )
        thought, calls = _uitars_calls(text)
        actions: list[ModelAction] = []
        for call in calls:
            name, kw = call_kwargs(_escape_type_content(call))
            actions += _uitars_action(name, kw, space)
        return ParsedAnswer(thought=thought, actions=tuple(actions))

    return parse


_UITARS_GROUNDING = (
    "You are a GUI agent. You are given a task and your action history, with screenshots. "
    "You need to perform the next action to complete the task.\n\n## Output Format\n\n"
    "Action: ...\n\n\n## Action Space\nclick(point='<point>x1 y1</point>'')\n\n"
    "## User Instruction\n{target}"
)

_UITARS_COMPUTER = """You are a GUI agent. You are given a task and your action history, with screenshots. You need to perform the next action to complete the task.

## Output Format
```
Thought: ...
Action: ...
```

## Action Space
click(start_box='<|box_start|>(x1,y1)<|box_end|>')
left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')
right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')
drag(start_box='<|box_start|>(x1,y1)<|box_end|>', end_box='<|box_start|>(x3,y3)<|box_end|>')
hotkey(key='')
type(content='') #If you want to submit your input, use "\\n" at the end of `content`.
scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', direction='down or up or right or left')
wait() #Sleep for 5s and take a screenshot to check for any changes.
finished()
call_user() # Submit the task and call the user when the task is unsolvable, or when you need the user's help.

## Note
- Use English in `Thought` part.
- Summarize your next action (with its target element) in one sentence in `Thought` part.

## User Instruction
{task}
{history}"""


def _uitars_agent(task: str, history: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=_UITARS_COMPUTER.format(
            task=task, history=f"\n## Previous actions\n{history}" if history else ""
        )
    )


# --- Qwen2.5-VL / Qwen3-VL --------------------------------------------------------------------

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.S)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)(?:```|\Z)", re.S)


def _json_loose(text: str) -> Any:
    """JSON, repairing a list cut off mid-way (as the Qwen cookbook does)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        cut = text.rfind('"}')
        if text.lstrip().startswith("[") and cut > 0:
            try:
                return json.loads(text[: cut + 2] + "]")
            except json.JSONDecodeError:
                pass
        cut = text.rfind("}")
        if cut > 0:
            try:
                return json.loads(text[: cut + 1])
            except json.JSONDecodeError:
                pass
    raise InvalidOutput(f"the answer's JSON cannot be read: {text[:200]!r}", raw=text)


def _qwen_tool_action(
    args: dict[str, Any], space: ModelSpace, last: list[float] | None
) -> list[ModelAction]:
    action = str(args.get("action", ""))

    def coord(key: str = "coordinate") -> tuple[float, float]:
        value = args.get(key)
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise InvalidOutput(
                f"{action}: '{key}' must be [x, y], got {value!r}", raw=json.dumps(args)
            )
        return number(value[0], f"{action}: x"), number(value[1], f"{action}: y")

    clicks = {"left_click": ("left", 1), "click": ("left", 1), "right_click": ("right", 1),
              "middle_click": ("middle", 1), "double_click": ("left", 2), "triple_click": ("left", 3)}  # fmt: skip
    if action in clicks:
        button, n = clicks[action]
        x, y = coord()
        return [
            ModelAction(
                data={"action": "click", "x": x, "y": y, "button": button, "clicks": n}, space=space
            )
        ]
    if action == "mouse_move":
        x, y = coord()
        return [ModelAction(data={"action": "move", "x": x, "y": y}, space=space)]
    if action == "left_click_drag":
        if last is None:
            raise InvalidOutput("left_click_drag drags from the pointer: move the mouse first (mouse_move) "
                                "in the same answer", raw=json.dumps(args))  # fmt: skip
        x, y = coord()
        return [
            ModelAction(
                data={"action": "drag", "x": last[0], "y": last[1], "to_x": x, "to_y": y},
                space=space,
            )
        ]
    if action == "swipe":
        x, y = coord()
        tx, ty = coord("coordinate2")
        return [
            ModelAction(
                data={"action": "drag", "x": x, "y": y, "to_x": tx, "to_y": ty}, space=space
            )
        ]
    if action == "key":
        keys = args.get("keys", args.get("text"))
        keys = split_keys(keys) if isinstance(keys, str) else key_names(keys, "key: keys")
        return [ModelAction(data={"action": "key", "keys": keys})]
    if action == "type":
        return [ModelAction(data={"action": "type", "text": str(args.get("text", ""))})]
    if action in ("scroll", "hscroll"):
        amount = args.get("pixels", args.get("amount", 3))
        try:
            amount = float(amount)
        except (TypeError, ValueError):
            raise InvalidOutput(
                f"{action}: 'pixels' must be a number", raw=json.dumps(args)
            ) from None
        if action == "scroll":
            direction = "up" if amount > 0 else "down"
        else:
            direction = "right" if amount > 0 else "left"
        data: dict[str, Any] = {
            "action": "scroll",
            "direction": direction,
            "amount": scroll_amount(amount),
        }
        if args.get("coordinate") is not None:
            data["x"], data["y"] = coord()
            return [ModelAction(data=data, space=space)]
        return [ModelAction(data=data)]
    if action == "wait":
        return [
            ModelAction(
                data={
                    "action": "wait",
                    "seconds": number(args["time"], "wait: time")
                    if args.get("time") is not None
                    else 1.0,
                }
            )
        ]
    if action == "terminate":
        return [done(str(args.get("status", "success")).lower() == "success")]
    if action == "answer":
        return [done(True, str(args.get("text", "")) or None)]
    raise InvalidOutput(f"unknown computer_use action {action!r}", raw=json.dumps(args))


def _qwen_grounding(target: str, size: tuple[int, int]) -> Prompt:
    return Prompt(
        user=f"Locate {target} in the image, output its point coordinates in JSON format."
    )


def _computer_use_tool(width: int, height: int, *, qwen3: bool) -> dict[str, Any]:
    """The ``computer_use`` function of the Qwen cookbooks' agent_function_call.py, as a
    function schema; the resolution it states is the size the model sees."""
    actions = ["key", "type", "mouse_move", "left_click", "left_click_drag", "right_click",
               "middle_click", "double_click", "scroll", "wait", "terminate"]  # fmt: skip
    if qwen3:
        actions = [*actions[:8], "triple_click", "scroll", "hscroll", "wait", "terminate", "answer"]
    return {
        "type": "function",
        "function": {
            "name_for_human": "computer_use",
            "name": "computer_use",
            "description": "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
            "* This is an interface to a desktop GUI. You do not have access to a terminal or "
            "applications menu. You must click on desktop icons to start applications.\n"
            "* Some applications may take time to start or process actions, so you may need to "
            "wait and take successive screenshots to see the results of your actions.\n"
            f"* The screen's resolution is {width}x{height}.\n"
            "* Whenever you intend to move the cursor to click on an element like an icon, you "
            "should consult a screenshot to determine the coordinates of the element before "
            "moving the cursor.\n"
            "* Make sure to click any buttons, links, icons, etc with the cursor tip in the "
            "center of the element.",
            "parameters": {
                "properties": {
                    "action": {"description": "The action to perform.", "enum": actions, "type": "string"},
                    "keys": {"description": "Required only by `action=key`.", "type": "array"},
                    "text": {"description": "Required only by `action=type`" + (" and `action=answer`." if qwen3 else "."), "type": "string"},
                    "coordinate": {"description": "(x, y): The x (pixels from the left edge) and y (pixels from the top edge) coordinates to move the mouse to.", "type": "array"},
                    "pixels": {"description": "The amount of scrolling to perform. Positive values scroll up, negative values scroll down. Required only by `action=scroll`" + (" and `action=hscroll`." if qwen3 else "."), "type": "number"},
                    "time": {"description": "The seconds to wait. Required only by `action=wait`.", "type": "number"},
                    "status": {"description": "The status of the task. Required only by `action=terminate`.", "type": "string", "enum": ["success", "failure"]},
                },
                "required": ["action"],
                "type": "object",
            },
            "args_format": "Format the arguments as a JSON object.",
        },
    }  # fmt: skip


_FNCALL_SYSTEM = """You are a helpful assistant.

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{tool}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{{"name": <function-name>, "arguments": <args-json-object>}}
</tool_call>"""

_QWEN3_FORMAT = """

# Response format

Response format for every step:
1) Thought: one concise sentence explaining the next move (no multi-step reasoning).
2) Action: a short imperative describing what to do in the UI.
3) A single <tool_call>...</tool_call> block containing only the JSON: {"name": <function-name>, "arguments": <args-json-object>}."""


def _qwen_agent(qwen3: bool) -> Any:
    def prompt(task: str, history: str, size: tuple[int, int]) -> Prompt:
        w, h = (999, 999) if qwen3 else size  # Qwen3-VL's agent space is fixed at 0-999
        tool = json.dumps(_computer_use_tool(w, h, qwen3=qwen3), ensure_ascii=False)
        system = _FNCALL_SYSTEM.format(tool=tool) + (_QWEN3_FORMAT if qwen3 else "")
        steps = f"\n\nPrevious actions:\n{history}" if history else ""
        return Prompt(system=system, user=f"The user query: {task}{steps}")

    return prompt


def _parse_qwen(tool_space: str, grounding_extent: int | None) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        pixel_space = ModelSpace.pixels(*model_size)
        tool = pixel_space if tool_space == "pixels" else ModelSpace.relative(999)
        grounding = (
            pixel_space if grounding_extent is None else ModelSpace.relative(grounding_extent)
        )
        thought = None
        m = re.search(r"Thought:\s*(.*?)(?=\n\s*(?:Action:|<tool_call>)|\Z)", text, re.S)
        if m:
            thought = m.group(1).strip() or None
        calls = _TOOL_CALL.findall(text)
        actions: list[ModelAction] = []
        if calls:
            last: list[float] | None = None
            for raw in calls:
                obj = _json_loose(raw)
                if not isinstance(obj, dict) or not isinstance(obj.get("arguments"), dict):
                    raise InvalidOutput('a tool call is {"name": ..., "arguments": {...}}', raw=raw)
                for ma in _qwen_tool_action(obj["arguments"], tool, last):
                    actions.append(ma)
                    if ma.data.get("x") is not None:
                        last = [
                            ma.data.get("to_x", ma.data["x"]),
                            ma.data.get("to_y", ma.data["y"]),
                        ]
            return ParsedAnswer(thought=thought, actions=tuple(actions))
        fence = _FENCE.search(text)
        body = fence.group(1) if fence else text.strip()
        if body.startswith(("[", "{")):
            obj = _json_loose(body)
            items = obj if isinstance(obj, list) else [obj]
            for item in items[:1]:  # grounding: the first (best) item
                if isinstance(item, dict) and "point_2d" in item:
                    x, y = point_of(json.dumps(item["point_2d"]), "point_2d")
                elif isinstance(item, dict) and "bbox_2d" in item:
                    x, y = point_of(json.dumps(item["bbox_2d"]), "bbox_2d")
                else:
                    raise InvalidOutput("expected point_2d or bbox_2d", raw=body)
                actions.append(
                    ModelAction(data={"action": "click", "x": x, "y": y}, space=grounding)
                )
            if actions:
                return ParsedAnswer(thought=thought, actions=tuple(actions))
        raise InvalidOutput("no <tool_call> and no point_2d/bbox_2d in the answer", raw=text)

    return parse


# --- point-only grounding families -------------------------------------------------------------


def _parse_point(extent: float, *, strip_refs: bool = False) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        body = _SPECIAL.sub("", text)
        if strip_refs:
            body = re.sub(r"<\|object_ref_start\|>.*?<\|object_ref_end\|>", "", body, flags=re.S)
        nums = numbers(body)
        if len(nums) not in (2, 4):
            raise InvalidOutput(
                f"expected one point (x, y) or box (x1, y1, x2, y2), got {text.strip()[:120]!r}",
                raw=text,
            )
        x, y = (
            (nums[0], nums[1])
            if len(nums) == 2
            else ((nums[0] + nums[2]) / 2, (nums[1] + nums[3]) / 2)
        )
        return ParsedAnswer(thought=None, actions=(ModelAction(data={"action": "click", "x": x, "y": y},
                                                               space=ModelSpace.relative(extent)),))  # fmt: skip

    return parse


def _parse_showui(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    """ShowUI: a point ``[0.73, 0.21]`` (grounding) or Python-literal action dicts (navigation)."""
    body = text.strip()
    rel = ModelSpace.relative(1.0)
    if body.startswith("["):
        x, y = point_of(body, "point")
        return ParsedAnswer(
            thought=None,
            actions=(ModelAction(data={"action": "click", "x": x, "y": y}, space=rel),),
        )
    actions: list[ModelAction] = []
    for lit in re.findall(r"\{.*?\}(?=\s*,?\s*(?:\{|$))", body, re.S):
        try:
            item = ast.literal_eval(lit)
        except (ValueError, SyntaxError):
            raise InvalidOutput(f"cannot read {lit[:80]!r}", raw=text) from None
        kind = str(item.get("action", "")).upper()
        pos, value = item.get("position"), item.get("value")
        if kind in ("CLICK", "TAP", "HOVER", "SELECT") and pos:
            x, y = point_of(str(pos), kind)
            act = "move" if kind == "HOVER" else "click"
            actions.append(ModelAction(data={"action": act, "x": x, "y": y}, space=rel))
        elif kind == "INPUT":
            if pos:
                x, y = point_of(str(pos), kind)
                actions.append(ModelAction(data={"action": "click", "x": x, "y": y}, space=rel))
            actions.append(ModelAction(data={"action": "type", "text": str(value or "")}))
        elif kind == "ENTER":
            actions.append(ModelAction(data={"action": "key", "keys": ["enter"]}))
        elif kind == "SCROLL":
            actions.append(
                ModelAction(data={"action": "scroll", "direction": str(value or "down").lower()})
            )
        elif kind == "ANSWER":
            actions.append(done(True, str(value) if value else None))
        else:
            raise InvalidOutput(f"unsupported ShowUI action {kind!r}", raw=text)
    if not actions:
        raise InvalidOutput("no point and no action dictionary in the answer", raw=text)
    return ParsedAnswer(thought=None, actions=tuple(actions))


FAMILIES: dict[str, Dialect] = {
    d.id: d
    for d in (
        Dialect(
            id="ui-tars-1.5",
            parse=_parse_uitars("pixels"),
            resize=Resize(factor=28, min_pixels=100 * 28 * 28, max_pixels=16384 * 28 * 28),
            grounding=lambda t, size: Prompt(user=_UITARS_GROUNDING.format(target=t)),
            agent=_uitars_agent,
            notes="absolute pixels of the smart-resized image (ui-tars action_parser.py, model_type qwen25vl)",
        ),
        Dialect(
            id="ui-tars",
            parse=_parse_uitars("relative"),
            grounding=lambda t, size: Prompt(
                user="Output only the coordinate of one point in your response. "
                f"What element matches the following task: {t}"
            ),
            agent=_uitars_agent,
            notes="UI-TARS v1 (Qwen2-VL): relative 0-1000 (README_v1.md coordinate mapping)",
        ),
        Dialect(
            id="qwen2.5-vl",
            parse=_parse_qwen("pixels", None),
            resize=Resize(),
            grounding=_qwen_grounding,
            agent=_qwen_agent(qwen3=False),
            notes="tool calls and point_2d/bbox_2d in pixels of the smart-resized input (cookbooks)",
        ),
        Dialect(
            id="qwen3-vl",
            parse=_parse_qwen("relative", 1000),
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=_qwen_grounding,
            agent=_qwen_agent(qwen3=True),
            notes="tool calls relative 0-999 (mobile cookbook rescale_coordinates); point_2d relative 0-1000",
        ),
        Dialect(
            id="showui",
            parse=_parse_showui,
            resize=Resize(factor=28, min_pixels=256 * 28 * 28, max_pixels=1344 * 28 * 28),
            grounding=lambda t, size: Prompt(
                user="Based on the screenshot of the page, I give a text description and you "
                "give its corresponding location. The coordinate represents a clickable location [x, y] for an "
                "element, which is a relative coordinate on the screenshot, scaled from 0 to 1.\n"
                + t
            ),
            notes="relative 0-1 points; navigation answers are Python literals (ShowUI api.py, app.py)",
        ),
        Dialect(
            id="os-atlas",
            parse=_parse_point(1000, strip_refs=True),
            grounding=lambda t, size: Prompt(
                user="In this UI screenshot, what is the position of the element "
                f'corresponding to the command "{t}" (with bbox)?'
            ),
            notes="relative 0-1000 point or box (OS-Atlas README)",
        ),
        Dialect(
            id="uground",
            parse=_parse_point(1000),
            grounding=lambda t, size: Prompt(
                user="Your task is to help the user identify the precise coordinates (x, y) of a "
                "specific area/element/object on the screen based on a description.\n\n- Your response should aim to "
                "point to the center or a representative point within the described area/element/object as "
                "accurately as possible.\n- If the description is unclear or ambiguous, infer the most relevant area "
                "or element based on its likely context or purpose.\n- Your answer should be a single string (x, y) "
                f"corresponding to the point of the interest.\n\nDescription: {t}\n\nAnswer:"
            ),
            notes="relative [0, 1000) point (x, y) (UGround README)",
        ),
        Dialect(
            id="seeclick",
            parse=grounders.parse_seeclick,
            grounding=grounders.seeclick_grounding,
            agent=grounders.seeclick_agent,
            notes="relative 0-1 point or box; Qwen-VL <box> in 0-1000; agent dicts (SeeClick readme, mind2web_test.py)",
        ),
        Dialect(
            id="aguvis",
            parse=pyautogui_code.parse_aguvis,
            grounding=pyautogui_code.aguvis_grounding,
            agent=pyautogui_code.aguvis_agent,
            notes="pyautogui calls with relative 0-1 floats (aguvis constants.py, serve/cli.py)",
        ),
        Dialect(
            id="opencua",
            parse=pyautogui_code.parse_opencua,
            resize=Resize(factor=28, min_pixels=3136, max_pixels=12845056),
            grounding=pyautogui_code.aguvis_grounding,
            agent=pyautogui_code.opencua_agent,
            notes="pyautogui in the last python block, pixels of smart_resize; both values in [0, 1] "
            "means relative (OSWorld opencua_agent.py _coordinate_projection)",
        ),
        Dialect(
            id="gta1",
            parse=grounders.parse_gta1,
            resize=Resize(factor=28, min_pixels=3136, max_pixels=4096 * 2160),
            grounding=grounders.gta1_grounding,
            notes="(x,y) in pixels of the smart-resized image, max 4096*2160",
        ),
        Dialect(
            id="holo1",
            parse=grounders.parse_holo1,
            resize=Resize(factor=28, min_pixels=56 * 56, max_pixels=14 * 14 * 4 * 1280),
            grounding=grounders.holo1_grounding,
            notes="Click(x, y) in pixels of smart_resize(max 14*14*4*1280) (hai-cookbook localization.py)",
        ),
        Dialect(
            id="holo1.5",
            parse=grounders.parse_holo15,
            resize=Resize(),
            grounding=grounders.holo15_grounding,
            notes='{"action": "click_absolute", "x", "y"} in pixels of the processor\'s resize (holo1_5 quickstart)',
        ),
        Dialect(
            id="holo2",
            parse=grounders.parse_holo2,
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=grounders.holo2_grounding,
            notes='{"x", "y"} relative 0-1000 (holo2 localization notebook; Qwen3-VL based)',
        ),
        Dialect(
            id="ui-venus",
            parse=grounders.parse_ui_venus,
            resize=Resize(factor=28, min_pixels=2000000, max_pixels=4800000),
            grounding=grounders.ui_venus_grounding,
            notes="[x1,y1,x2,y2] in pixels of smart_resize(min 2M, max 4.8M): small screens are upscaled",
        ),
        Dialect(
            id="infigui-g1",
            parse=grounders.parse_infigui,
            resize=Resize(factor=28, min_pixels=3136, max_pixels=12845056),
            grounding=grounders.infigui_grounding,
            notes="<think> then [{point_2d}], first candidate, pixels of the resized image (eval/prompts.py)",
        ),
        Dialect(
            id="phi-ground",
            parse=grounders.parse_phi_ground,
            resize=PadToCanvas(canvas=grounders.PHI_CANVAS),
            grounding=grounders.phi_ground_grounding,
            notes="<point>x, y</point> in thousandths of a 1008x672 white canvas, image pasted at (0, 0)",
        ),
        Dialect(
            id="cogagent",
            parse=grounders.parse_cogagent,
            grounding=grounders.cogagent_grounding,
            agent=grounders.cogagent_agent,
            notes="Grounded Operation:OP(box=[[a,b,c,d]]) in thousandths (CogAgent Action_space_en.md)",
        ),
        Dialect(
            id="gui-actor",
            parse=pyautogui_code.parse_gui_actor,
            grounding=pyautogui_code.aguvis_grounding,
            notes="text carries <|pointer_pad|>, no coordinates: reported as such (gui_actor inference.py)",
        ),
        Dialect(
            id="anthropic",
            parse=hosted.parse_anthropic,
            resize=ScaleToTarget(targets=((1024, 768), (1280, 800), (1366, 768))),
            grounding=lambda t, size: hosted.anthropic_agent(f"Click {t}.", "", size),
            agent=hosted.anthropic_agent,
            notes="computer tool inputs in pixels of the screenshot sent, scaled to XGA/WXGA/FWXGA "
            "when the aspect ratio matches (computer-use-demo tools/computer.py)",
        ),
        Dialect(
            id="openai",
            parse=hosted.parse_openai,
            grounding=lambda t, size: hosted.openai_agent(f"Click {t}.", "", size),
            agent=hosted.openai_agent,
            notes="computer_call action / actions[] in pixels of the screenshot sent",
        ),
    )
}


def get_dialect(family: str) -> Dialect:
    try:
        return FAMILIES[family]
    except KeyError:
        from ..errors import ConfigError

        raise ConfigError(
            f"Unknown model family {family!r}; known: {', '.join(sorted(FAMILIES))}."
        ) from None
