"""Skills: reusable know-how in ``<dir>/<name>/SKILL.md``.

A skill is a folder with a ``SKILL.md``: YAML front matter (``name``, ``description`` of what it
does and when to use it; optionally ``steps`` the step-follower runs without a model, their
``params``, and ``platforms``) and a Markdown body of instructions for a model. Extra files
beside it (templates, images for ``image:`` targets) are found relative to the folder.

Skills come from several folders, later ones overriding earlier ones by name: the bundled
``skills/``, the folders of the user's config file, ``$SCREENAGENT_SKILLS``, then ``--skills``
(the CLI reads the environment and the config; this module only takes folders).

Selection: every skill's name and description go into a model's prompt (a catalogue); the
bodies of the few that fit the task are added, chosen by BM25 over the task's words against
each skill's name and description (weighted 3x) and body. BM25 is used because skill
descriptions are short, keyword-dense texts written to be matched against requests, which is
what BM25's term-frequency saturation and length normalisation handle well, with no model.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

SKILL_FILE = "SKILL.md"
_HERE = Path(__file__).resolve().parent
BUNDLED_DIR = _HERE / "bundled_skills"
"""The bundled skills: the project's top-level ``skills/`` folder, which the build maps into
the package as ``screenagent/bundled_skills`` (pyproject's package-dir)."""
if not BUNDLED_DIR.is_dir():  # a source checkout (editable install): the folder itself
    BUNDLED_DIR = _HERE.parent / "skills"

PROMPT_BUDGET = 6000
"""Characters of the prompt that skills may use (catalogue + selected bodies)."""


class SkillError(ConfigError):
    """A skill file that cannot be used; the message names the file and the field."""


class SkillMeta(BaseModel):
    """The front matter of a SKILL.md."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Lower-case words joined by '-'."
    )
    description: str = Field(
        min_length=10, max_length=1024, description="What it does and when to use it."
    )
    steps: list[str] | None = Field(
        default=None, min_length=1, description="Step-follower steps; ${param} is replaced."
    )
    params: dict[str, str] = Field(
        default_factory=dict, description="Parameter name -> what it means."
    )
    defaults: dict[str, str] = Field(
        default_factory=dict, description="Default values of parameters."
    )
    platforms: list[Literal["linux", "macos", "windows"]] | None = None


@dataclass(frozen=True, kw_only=True)
class Skill:
    meta: SkillMeta
    body: str
    path: Path
    """The SKILL.md file."""

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def folder(self) -> Path:
        return self.path.parent

    def params_used(self) -> list[str]:
        found: list[str] = []
        for step in self.meta.steps or []:
            for p in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", step):
                if p not in found:
                    found.append(p)
        return found

    def render_steps(self, params: dict[str, str]) -> list[str]:
        """The steps with ``${param}`` filled in; a missing parameter is a SkillError."""
        if not self.meta.steps:
            raise SkillError(
                f"Skill {self.name!r} ({self.path}) has no steps: it needs a model (--model)."
            )
        values = {**self.meta.defaults, **params}
        missing = [p for p in self.params_used() if p not in values]
        if missing:
            hints = "; ".join(f"{p}: {self.meta.params.get(p, 'no description')}" for p in missing)
            raise SkillError(
                f"Skill {self.name!r} needs --param {' --param '.join(f'{p}=...' for p in missing)} ({hints})."
            )
        unknown = sorted(set(params) - set(self.params_used()))
        if unknown:
            raise SkillError(f"Skill {self.name!r} has no parameter {', '.join(unknown)}; it takes: "
                             f"{', '.join(self.params_used()) or 'none'}.")  # fmt: skip
        out = []
        for step in self.meta.steps:
            text = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: values[m.group(1)], step)
            out.append(text.replace("image:./", f"image:{self.folder}/"))
        return out

    def runs_here(self) -> bool:
        if not self.meta.platforms:
            return True
        here = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(
            sys.platform, sys.platform
        )
        return here in self.meta.platforms


def _front_matter(text: str, path: Path) -> tuple[dict[str, object], str]:
    """(front matter, body)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SkillError(
            f"{path}: must start with a '---' line, then YAML front matter (name, description), then '---'."
        )
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise SkillError(f"{path}: the front matter is not closed by a '---' line.")
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SkillError(f"{path}: the front matter is not valid YAML{where}: {problem}.") from None
    if not isinstance(data, dict):
        raise SkillError(
            f"{path}: the front matter must be a mapping (name: ..., description: ...)."
        )
    return data, "\n".join(lines[end + 1 :]).strip()


def load_skill(path: Path) -> Skill:
    """One SKILL.md (or the folder holding it)."""
    path = path / SKILL_FILE if path.is_dir() else path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SkillError(f"{path}: cannot be read: {exc.strerror or exc}.") from None
    data, body = _front_matter(text, path)
    try:
        meta = SkillMeta.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(front matter)"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"field '{field}': {msg}")
        raise SkillError(f"{path}: " + "; ".join(problems) + ".") from None
    if meta.name != path.parent.name:
        raise SkillError(
            f"{path}: field 'name': {meta.name!r} must match its folder's name {path.parent.name!r}."
        )
    return Skill(meta=meta, body=body, path=path)


def load_skills(dirs: Iterable[Path]) -> dict[str, Skill]:
    """Every skill of the folders, later folders overriding earlier ones by name. Raises the
    first SkillError; use `check_skills` to see them all."""
    skills: dict[str, Skill] = {}
    for d in dirs:
        if not d.is_dir():
            raise SkillError(f"Skills folder {d} does not exist.")
        for file in sorted(d.glob(f"*/{SKILL_FILE}")):
            skill = load_skill(file)
            skills[skill.name] = skill
    return skills


def check_skills(folder: Path) -> tuple[list[Skill], list[str]]:
    """(the valid skills of one folder, a message per broken one)."""
    good, bad = [], []
    if not folder.is_dir():
        return [], [f"Skills folder {folder} does not exist."]
    names: dict[str, Path] = {}
    for file in sorted(folder.glob(f"*/{SKILL_FILE}")):
        try:
            skill = load_skill(file)
        except SkillError as exc:
            bad.append(str(exc))
            continue
        if skill.name in names:
            bad.append(f"{file}: field 'name': {skill.name!r} is also used by {names[skill.name]}.")
            continue
        names[skill.name] = file
        good.append(skill)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not (p / SKILL_FILE).exists()):
        if not sub.name.startswith((".", "_")):
            bad.append(f"{sub}: no {SKILL_FILE} in this skill folder.")
    return good, bad


# --- selection and rendering -------------------------------------------------------------------

_STOP = frozenset(["a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "from", "by", "is", "it", "this", "that", "be", "as", "into", "your", "you", "use", "when", "what", "how", "do", "does", "on"])  # fmt: skip


def _words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def _bm25(query: set[str], docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> list[float]:
    avg = sum(len(d) for d in docs) / len(docs) or 1.0
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    scores = []
    for d in docs:
        tf = Counter(d)
        score = 0.0
        for w in query:
            if tf[w]:
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                score += idf * tf[w] * (k1 + 1) / (tf[w] + k1 * (1 - b + b * len(d) / avg))
        scores.append(score)
    return scores


BODY_WEIGHT = 0.25
"""How much a match in a skill's body counts next to one in its name and description."""


def score_skills(task: str, skills: Sequence[Skill]) -> list[tuple[float, Skill]]:
    """BM25 score of every skill for the task, best first: the name and description are one
    field, the body another worth `BODY_WEIGHT` (descriptions are written to be matched;
    bodies mention many things in passing)."""
    if not skills:
        return []
    query = set(_words(task))
    heads = _bm25(
        query, [_words(s.name.replace("-", " ") + " " + s.meta.description) for s in skills]
    )
    bodies = _bm25(query, [_words(s.body) for s in skills])
    scored = [(h + BODY_WEIGHT * b, s) for h, b, s in zip(heads, bodies, skills, strict=True)]
    return sorted(scored, key=lambda p: -p[0])


def select_skills(task: str, skills: Sequence[Skill], *, limit: int = 2, min_score: float = 1.0,
                  relative: float = 0.7, forced: Sequence[str] = ()) -> list[Skill]:  # fmt: skip
    """The skills whose bodies go into the prompt: the forced ones, then the best matches that
    score at least ``min_score`` and ``relative`` times the best score (at most ``limit``)."""
    by_name = {s.name: s for s in skills}
    chosen = []
    for name in forced:
        if name not in by_name:
            raise SkillError(
                f"No skill named {name!r}; known: {', '.join(sorted(by_name)) or 'none'}."
            )
        chosen.append(by_name[name])
    scored = score_skills(task, [s for s in skills if s.runs_here()])
    top = scored[0][0] if scored else 0.0
    for score, skill in scored:
        if len(chosen) >= max(limit, len(forced)) or score < max(min_score, relative * top):
            break
        if skill not in chosen:
            chosen.append(skill)
    return chosen


def render_skills(
    skills: Sequence[Skill], selected: Sequence[Skill], *, budget: int = PROMPT_BUDGET
) -> str:
    """The skills part of a prompt: the catalogue, then the selected bodies, within ``budget``
    characters (bodies are cut first, then the catalogue)."""
    if not skills:
        return ""
    catalogue = "Skills you know (name: when to use it):\n" + "\n".join(
        f"- {s.name}: {s.meta.description}" for s in skills if s.runs_here()
    )
    parts = [catalogue[:budget]]
    left = budget - len(parts[0])
    for s in selected:
        block = f"\n\n## Skill: {s.name}\n{s.body}"
        if left <= 40:
            break
        if len(block) > left:
            block = block[: left - 20].rstrip() + "\n[...cut to fit]"
        parts.append(block)
        left -= len(block)
    return "".join(parts)


def prompt_context(
    task: str, skills: Sequence[Skill], *, forced: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """(the skills text for a model's prompt, the names of the skills whose bodies it holds)."""
    selected = select_skills(task, skills, forced=forced)
    return render_skills(skills, selected), [s.name for s in selected]
