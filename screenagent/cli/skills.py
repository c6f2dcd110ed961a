"""`screenagent skills ...` and the skill options of `run`. The skill folders are gathered
here, at the CLI edge: the bundled ``skills/``, ``skills:`` in
``$XDG_CONFIG_HOME/screenagent/config.yaml`` (default ``~/.config``), ``$SCREENAGENT_SKILLS``
(folders separated by ``os.pathsep``), then ``--skills DIR``; later ones override earlier ones
by name."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError


def add_skill_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("skills")
    g.add_argument("--skill", action="append", default=[], metavar="NAME",
                   help="use this skill: without a model its steps run; with one its text is always in the prompt")  # fmt: skip
    g.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the skill's steps",
    )
    g.add_argument("--skills", action="append", default=[], type=Path, metavar="DIR",
                   help="a folder of skills (after the bundled ones, the config's and $SCREENAGENT_SKILLS)")  # fmt: skip
    g.add_argument(
        "--no-skills",
        action="store_true",
        help="send the model its family's prompt only, without skills",
    )


def skill_dirs(extra: list[Path]) -> list[Path]:
    from ..skills import BUNDLED_DIR

    dirs = [BUNDLED_DIR] if BUNDLED_DIR.is_dir() else []
    config = (
        Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        / "screenagent"
        / "config.yaml"
    )
    if config.is_file():
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config}: not valid YAML: {exc}.") from None
        listed = data.get("skills", []) if isinstance(data, dict) else None
        if not isinstance(listed, list) or not all(isinstance(d, str) for d in listed):
            raise ConfigError(f"{config}: 'skills' must be a list of folders.")
        dirs += [(config.parent / Path(d).expanduser()).resolve() for d in listed]
    env = os.environ.get("SCREENAGENT_SKILLS", "")
    dirs += [Path(d).expanduser() for d in env.split(os.pathsep) if d]
    return dirs + extra


def parse_params(items: list[str]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--param {item!r}: write KEY=VALUE, e.g. --param filename=report.txt."
            )
        params[key] = value
    return params


def skill_task(args: argparse.Namespace) -> str:
    """For `run --skill NAME` without a model: the skill's steps, filled in, as the task."""
    from ..skills import load_skills

    if len(args.skill) != 1:
        raise ConfigError("Without a model, give exactly one --skill to run its steps.")
    skills = load_skills(skill_dirs(args.skills))
    name = args.skill[0]
    if name not in skills:
        raise ConfigError(f"No skill named {name!r}; known: {', '.join(sorted(skills)) or 'none'}.")
    skill = skills[name]
    return "\n".join(skill.render_steps(parse_params(args.param)))


def skills_context(args: argparse.Namespace, task: str) -> tuple[str, list[str]]:
    """For a model run: (the skills text for the prompt, the names of the selected skills)."""
    from ..skills import load_skills, render_skills, select_skills

    skills = list(load_skills(skill_dirs(args.skills)).values())
    if args.param:
        raise ConfigError(
            "--param fills a skill's steps, which run without a model; drop --model or --param."
        )
    selected = select_skills(task, skills, forced=args.skill)
    return render_skills(skills, selected), [s.name for s in selected]


def cmd_skills(args: argparse.Namespace) -> int:
    from ..skills import check_skills, load_skills

    if args.skills_command == "check":
        folders = [args.dir] if args.dir else skill_dirs(args.skills)
        failed = 0
        for folder in folders:
            good, bad = check_skills(folder)
            for msg in bad:
                print(f"error: {msg}", file=sys.stderr)
            failed += len(bad)
            print(f"{folder}: {len(good)} skill(s) valid, {len(bad)} problem(s)")
        return 1 if failed else 0
    skills = load_skills(skill_dirs(args.skills))
    if args.skills_command == "list":
        rows: list[dict[str, Any]] = [
            {"name": s.name, "description": s.meta.description, "steps": bool(s.meta.steps),
             "params": s.params_used(), "platforms": s.meta.platforms, "path": str(s.path)}
            for s in skills.values()
        ]  # fmt: skip
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in rows:
                kind = "steps" if r["steps"] else "prompt"
                params = f" ({', '.join(r['params'])})" if r["params"] else ""
                print(f"{r['name']:22s} [{kind}]{params} {r['description']}")
        return 0
    name = args.name
    if name not in skills:
        raise ConfigError(f"No skill named {name!r}; known: {', '.join(sorted(skills)) or 'none'}.")
    s = skills[name]
    print(f"# {s.name}  ({s.path})\n{s.meta.description}\n")
    if s.meta.steps:
        print("Steps (run without a model):")
        for step in s.meta.steps:
            print(f"  {step}")
        for p in s.params_used():
            default = f" (default {s.meta.defaults[p]!r})" if p in s.meta.defaults else ""
            print(f"  ${{{p}}}: {s.meta.params.get(p, '')}{default}")
        print()
    print(s.body)
    return 0


def add_skills_command(sub: Any) -> None:
    p = sub.add_parser("skills", help="list, show or check skills")
    p.add_argument(
        "--skills",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a further folder of skills",
    )
    ss = p.add_subparsers(dest="skills_command", required=True, metavar="list|show|check")
    lst = ss.add_parser("list", help="every skill, with its description")
    lst.add_argument("--json", action="store_true")
    show = ss.add_parser("show", help="one skill: steps, parameters and instructions")
    show.add_argument("name")
    check = ss.add_parser("check", help="validate a folder of skills (default: all folders in use)")
    check.add_argument("dir", nargs="?", type=Path)
    p.set_defaults(func=cmd_skills)
