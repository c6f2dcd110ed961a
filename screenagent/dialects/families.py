"""Model families, table-driven: each is a parser plus its coordinate space, its image
preparation and its prompts. The parsers live by format: `uitars`, `qwen`, `grounders`,
`pyautogui_code`, `hosted`; the point families and ShowUI are here.

Formats and conversions follow the official sources summarised in the project's reference
(model-formats.md): ShowUI ``api.py``, OS-Atlas README, UGround README, and the modules above.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ..errors import InvalidOutput
from ..geometry import ModelSpace
from . import (
    atlas,
    gemini,
    glm,
    grounders,
    holo,
    hosted,
    mai,
    pyautogui_code,
    qwen,
    uitars,
    uitars2,
)
from .base import (
    Dialect,
    ModelAction,
    PadToCanvas,
    ParsedAnswer,
    Prompt,
    Resize,
    ScaleToTarget,
    done,
    numbers,
    phone_action,
    point_of,
    refuse_phone_action,
)

# --- point-only grounding families -------------------------------------------------------------


def _parse_point(extent: float, *, strip_refs: bool = False) -> Any:
    def parse(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
        body = uitars.SPECIAL_TOKENS.sub("", text)
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


_atlas_point = _parse_point(1000, strip_refs=True)


def _parse_os_atlas(text: str, model_size: tuple[int, int]) -> ParsedAnswer:
    """OS-Atlas-Pro's ``thoughts:``/``actions:`` answer, else the Base models' point or box."""
    return atlas.parse_atlas_pro(text) or _atlas_point(text, model_size)


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
        elif phone_action(kind):
            raise refuse_phone_action(kind, text)
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
            parse=uitars.parse_uitars("pixels"),
            resize=Resize(factor=28, min_pixels=100 * 28 * 28, max_pixels=16384 * 28 * 28),
            grounding=lambda t, size: Prompt(user=uitars.UITARS_GROUNDING.format(target=t)),
            agent=uitars.uitars_agent,
            notes="absolute pixels of the smart-resized image (ui-tars action_parser.py, model_type qwen25vl)",
        ),
        Dialect(
            id="ui-tars",
            parse=uitars.parse_uitars("relative"),
            grounding=lambda t, size: Prompt(
                user="Output only the coordinate of one point in your response. "
                f"What element matches the following task: {t}"
            ),
            agent=uitars.uitars_agent,
            notes="UI-TARS v1 (Qwen2-VL): relative 0-1000 (README_v1.md coordinate mapping)",
        ),
        Dialect(
            id="qwen2.5-vl",
            parse=qwen.parse_qwen("pixels", None),
            resize=Resize(),
            grounding=qwen.qwen_grounding,
            agent=qwen.qwen_agent(qwen3=False),
            notes="tool calls and point_2d/bbox_2d in pixels of the smart-resized input (cookbooks)",
        ),
        Dialect(
            id="qwen3-vl",
            parse=qwen.parse_qwen("relative", 1000),
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=qwen.qwen_grounding,
            agent=qwen.qwen_agent(qwen3=True),
            notes="tool calls relative 0-999 (mobile cookbook rescale_coordinates); point_2d relative 0-1000",
        ),
        Dialect(
            id="qwen3.5",
            parse=qwen.parse_qwen("relative", 1000, tool_extent=1000),
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=qwen.qwen_grounding,
            agent=qwen.qwen_agent(qwen3=True),
            notes="Qwen3.5/3.6 agents: <tool_call> JSON or XML-style <function=computer><parameter=...>, "
            "relative 0-1000 (trycua/cua loops/qwen35.py); point_2d relative 0-1000",
        ),
        Dialect(
            id="ui-tars-2",
            parse=uitars2.parse_uitars2,
            grounding=lambda t, size: uitars2.uitars2_agent(f"Click {t}.", "", size),
            agent=uitars2.uitars2_agent,
            notes="<seed:tool_call><function=click><parameter=point><point>x y</point>..., [0, 1000] of the "
            "image sent (Seed GUI prompt as trycua/cua loops/uitars2.py reproduces it)",
        ),
        Dialect(
            id="mai-ui",
            parse=mai.parse_mai_ui,
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=lambda t, size: mai.mai_agent(f"Click {t}.", "", size),
            agent=mai.mai_agent,
            notes="<thinking>, then <tool_call> mobile_use JSON, coordinates /999 (Tongyi-MAI/MAI-UI "
            "src/mai_naivigation_agent.py); desktop-applicable actions only, phone actions refused",
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
            parse=_parse_os_atlas,
            grounding=lambda t, size: Prompt(
                user="In this UI screenshot, what is the position of the element "
                f'corresponding to the command "{t}" (with bbox)?'
            ),
            agent=atlas.atlas_agent,
            notes="relative 0-1000 point or box (OS-Atlas README); Pro: thoughts:/actions: with "
            "CLICK <point>[[x,y]]</point>, TYPE [..], SCROLL [..] (eval prompts)",
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
            parse=holo.parse_holo1,
            resize=Resize(factor=28, min_pixels=56 * 56, max_pixels=14 * 14 * 4 * 1280),
            grounding=holo.holo1_grounding,
            notes="Click(x, y) in pixels of smart_resize(max 14*14*4*1280) (hai-cookbook localization.py); "
            "navigation steps {note, thought, action: {...}} (hai-cookbook navigation.py)",
        ),
        Dialect(
            id="holo1.5",
            parse=holo.parse_holo15,
            resize=Resize(),
            grounding=holo.holo15_grounding,
            notes='{"action": "click_absolute", "x", "y"} in pixels of the processor\'s resize (holo1_5 quickstart)',
        ),
        Dialect(
            id="holo2",
            parse=holo.parse_holo2,
            resize=Resize(factor=32, min_pixels=65536, max_pixels=16777216),
            grounding=holo.holo2_grounding,
            notes='{"x", "y"} relative 0-1000 (holo2 localization notebook; Qwen3-VL based)',
        ),
        Dialect(
            id="holo3",
            parse=holo.parse_holo3,
            grounding=holo.holo2_grounding,
            agent=holo.holo3_agent,
            notes="one JSON step {note, thought, tool_call: {tool_name, ...}} against the tool union shown in "
            "the system prompt, integers in [0, 1000] of the image sent (hub.hcompany.ai/agent-loop); "
            "grounding asks Holo2's {x, y} in [0, 1000]",
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
            id="glm-v",
            parse=glm.parse_glm,
            grounding=glm.glm_grounding,
            agent=glm.glm_agent,
            notes="boxes in <|begin_of_box|>[x1,y1,x2,y2]<|end_of_box|>, thousandths (zai-org/GLM-V "
            "README); desktop calls left_click(start_box='[x,y]') ... in 0-999 (GLM-V GUI agent "
            "instructions); phone JSON actions with the phone-only ones refused",
        ),
        Dialect(
            id="gemini",
            parse=gemini.parse_gemini,
            grounding=lambda t, size: gemini.gemini_agent(f"Click {t}.", "", size),
            agent=gemini.gemini_agent,
            notes="computer-use function calls (click_at, type_text_at ...) with x, y in 0-999, "
            "int(x / 1000 * width) (google-gemini/computer-use-preview agent.py)",
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
