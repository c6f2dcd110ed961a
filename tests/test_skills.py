"""Skills: loader errors that name the file and the field, selection, bounded rendering, the
CLI, and the bundled deterministic skills run for real on the demo app."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, DemoApp, cli, wait_for_window

from screenagent.display import VirtualDisplay
from screenagent.skills import (
    BUNDLED_DIR,
    SkillError,
    check_skills,
    load_skill,
    load_skills,
    render_skills,
    select_skills,
)
from screenagent.steplog import load_run


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).mkdir(parents=True, exist_ok=True)
    path = folder / name / "SKILL.md"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ndescription: does something useful\n---\nbody", "field 'name': Field required"),
        (
            "---\nname: demo\ndescription: does something useful\ncolour: blue\n---\n",
            "field 'colour': unknown field",
        ),
        ("---\nname: demo\ndescription: [unclosed\n---\n", "not valid YAML at line"),
        ("---\nname: demo\ndescription: short\n---\n", "field 'description'"),
        (
            "---\nname: other\ndescription: does something useful\n---\n",
            "must match its folder's name 'demo'",
        ),
        (
            "---\nname: demo\ndescription: does something useful\nsteps: click OK\n---\n",
            "field 'steps'",
        ),
        (
            "---\nname: demo\ndescription: does something useful\nplatforms: [beos]\n---\n",
            "field 'platforms.0'",
        ),
        ("name: demo\n", "must start with a '---' line"),
    ],
)
def test_loader_errors_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "demo", text)
    with pytest.raises(SkillError, match=message) as err:
        load_skill(path)
    assert str(path) in str(err.value)


def test_later_folders_override_by_name_and_params_fill_steps(tmp_path: Path) -> None:
    write(tmp_path, "fill-field", "---\nname: fill-field\ndescription: my own way to fill fields\n"
          "steps:\n  - click ${label}\n---\nMine.")  # fmt: skip
    skills = load_skills([BUNDLED_DIR, tmp_path])
    assert skills["fill-field"].body == "Mine." and "save-as" in skills
    assert (
        skills["save-as"].render_steps({"filename": "a b.txt"})[2]
        == 'type "a b.txt" into File name clear'
    )
    with pytest.raises(SkillError, match=r"needs --param filename=\.\.\."):
        skills["save-as"].render_steps({})
    with pytest.raises(SkillError, match="has no parameter colour"):
        skills["save-as"].render_steps({"filename": "x", "colour": "red"})
    write(
        tmp_path,
        "advice",
        "---\nname: advice\ndescription: instructions for a model only\n---\nBe kind.",
    )
    with pytest.raises(SkillError, match="has no steps"):
        load_skills([tmp_path])["advice"].render_steps({})


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("save the report as report.txt", ["save-as"]),
        ("an error popped up, what does it say?", ["dismiss-error-dialog"]),
        ("dismiss the warning", ["dismiss-error-dialog"]),
        ("type ada into the Name field", ["fill-field"]),
        ("enter my email address", ["fill-field"]),
        ("start the text editor", ["open-app"]),
        ("launch a terminal", ["open-app"]),
        ("close this popup", ["close-dialog"]),
        ("copy the order number", ["copy-visible-text"]),
        ("fill the form and save it as out.txt", ["save-as", "fill-field"]),
        ("click Submit", []),
    ],
)
def test_selection_picks_the_skills_that_fit(task: str, expected: list[str]) -> None:
    skills = list(load_skills([BUNDLED_DIR]).values())
    assert sorted(s.name for s in select_skills(task, skills)) == sorted(expected)


def test_rendering_is_bounded_and_forced_skills_come_first() -> None:
    skills = list(load_skills([BUNDLED_DIR]).values())
    chosen = select_skills("click Submit", skills, forced=["open-app"])
    assert [s.name for s in chosen] == ["open-app"]
    text = render_skills(skills, chosen)
    assert "- save-as: Save the current document" in text and "## Skill: open-app" in text
    assert len(render_skills(skills, skills, budget=900)) <= 900
    with pytest.raises(SkillError, match="No skill named 'nope'"):
        select_skills("x", skills, forced=["nope"])


def test_bundled_skills_pass_check_and_the_cli_reports_problems(tmp_path: Path) -> None:
    good, bad = check_skills(BUNDLED_DIR)
    assert bad == [] and len(good) >= 6
    proc = cli("skills", "check", str(BUNDLED_DIR))
    assert proc.returncode == 0 and "0 problem(s)" in proc.stdout
    write(tmp_path, "broken", "---\nname: broken\n---\n")
    (tmp_path / "empty").mkdir()
    proc = cli("skills", "check", str(tmp_path))
    assert proc.returncode == 1
    assert "broken/SKILL.md: field 'description': Field required" in proc.stderr
    assert "empty: no SKILL.md" in proc.stderr
    listed = json.loads(cli("skills", "list", "--json").stdout)
    assert {r["name"] for r in listed} >= {"save-as", "fill-field", "open-app"}
    shown = cli("skills", "show", "save-as").stdout
    assert "${filename}: the file name" in shown and "Save As dialog" in shown


@pytest.mark.display
def test_fill_field_skill_runs_without_a_model(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    proc = cli("run", "--skill", "fill-field", "--param", "label=Name", "--param", "value=Grace Hopper",
               "--run-dir", str(tmp_path / "run"), env=dict(xdisplay.env), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert demo_app.wait_for(lambda s: s["name"] == "Grace Hopper")["name"] == "Grace Hopper"
    assert load_run(tmp_path / "run").meta.settings["skill"] == ["fill-field"]


@pytest.mark.display
@pytest.mark.parametrize("skill", ["dismiss-error-dialog", "close-dialog"])
def test_dialog_skills_dismiss_the_real_error_dialog(
    skill: str, demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    proc = cli(
        "run",
        "click Submit",
        "--allow-errors",  # this run opens the error dialog the skill then deals with
        "--run-dir",
        str(tmp_path / "open"),
        env=dict(xdisplay.env),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert demo_app.wait_for(lambda s: s["dialog"])["dialog"]["message"] == "Name is required."
    proc = cli(
        "run",
        "--skill",
        skill,
        "--run-dir",
        str(tmp_path / "run"),
        env=dict(xdisplay.env),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert demo_app.wait_for(lambda s: s["dialog"] is None)["dialog"] is None
    if skill == "dismiss-error-dialog":  # the message was read before the dialog went away
        assert "Name is required." in (load_run(tmp_path / "run").meta.result.answer or "")


def test_skill_cli_errors(tmp_path: Path) -> None:
    proc = cli("run", "--skill", "save-as")
    assert proc.returncode == 2 and "needs --param filename=..." in proc.stderr
    proc = cli("run", "--skill", "nope")
    assert proc.returncode == 2 and "No skill named 'nope'" in proc.stderr
    proc = cli("run", "--skill", "fill-field", "--param", "oops")
    assert proc.returncode == 2 and "KEY=VALUE" in proc.stderr


@pytest.mark.display
def test_save_as_skill_saves_through_tks_real_dialog(
    demo_app: DemoApp, xdisplay: VirtualDisplay, tmp_path: Path
) -> None:
    """Tk's file dialog: OCR's box of "File name:" runs into the entry, which field_beside
    must recognise as the field itself."""
    proc = cli("run", "--skill", "save-as", "--param", "filename=report.txt", "--run-dir", str(tmp_path / "run"),
               env=dict(xdisplay.env), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    state = demo_app.wait_for(lambda s: s["saved_as"])
    saved = Path(state["saved_as"])
    assert (
        saved.name == "report.txt" and saved.parent == demo_app.state_path.parent and saved.exists()
    )


@pytest.mark.display
def test_copy_visible_text_skill_copies_from_a_real_gtk_entry(
    xdisplay: VirtualDisplay, spawn: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    spawn("zenity", "--entry", "--title", "Share", "--text", "Invite code:",
          "--entry-text", "ZX-4471-QP")  # fmt: skip
    wait_for_window(xdisplay, "Share")
    proc = cli("run", "--skill", "copy-visible-text", "--param", "text=ZX-4471-QP",
               "--run-dir", str(tmp_path / "run"), env=dict(xdisplay.env), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    clip = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=dict(xdisplay.env),
                          capture_output=True, text=True, timeout=10)  # fmt: skip
    assert clip.stdout == "ZX-4471-QP"


@pytest.mark.display
def test_open_app_skill_starts_the_demo_app_from_a_run_dialog(
    xdisplay: VirtualDisplay, spawn: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """alt+F2 on a launcher that grabs it for real (tests/run_dialog.py, a GTK entry)."""
    launcher = spawn(sys.executable, str(ROOT / "tests" / "run_dialog.py"), stdout=subprocess.PIPE)
    assert launcher.stdout is not None and launcher.stdout.readline().strip() == b"ready"
    state = tmp_path / "opened.json"
    command = f"{sys.executable} {ROOT / 'examples' / 'demo_app.py'} --state {state}"
    proc = cli("run", "--skill", "open-app", "--param", f"command={command}",
               "--param", "window=Submit", "--run-dir", str(tmp_path / "run"),
               env=dict(xdisplay.env), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    opened = DemoApp(proc=launcher, state_path=state)
    assert opened.wait_for(lambda s: s.get("ready"))["ready"] is True
    launcher.terminate()  # it ends the app it started
    assert launcher.wait(timeout=10) == 0
