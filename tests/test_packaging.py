"""The package as a user gets it: a wheel built from the project (not an editable install)
ships the bundled skills and its commands work; the pytest plugin imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT

SKILLS = sorted(p.parent.name for p in (ROOT / "skills").glob("*/SKILL.md"))


def test_every_package_is_listed_in_pyproject() -> None:
    """The package list is explicit (skills/ is mapped into the wheel): a new subpackage must be
    added to it, or the wheel ships without it."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "screenagent").rglob("__init__.py")}  # fmt: skip
    assert found <= listed, found - listed


@pytest.mark.slow
def test_the_wheel_ships_the_bundled_skills(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300)  # fmt: skip
    (wheel,) = wheels.glob("screenagent-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    target = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    # the wheel's files only (no dependencies resolved from an index): unpack it into the venv
    subprocess.run([sys.executable, "-m", "zipfile", "-e", str(wheel), target], check=True)
    # dependencies from this interpreter's site-packages, which hold no screenagent files
    deps = sysconfig.get_paths()["purelib"]
    assert not (Path(deps) / "screenagent").exists()
    env = {"PYTHONPATH": deps, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run([str(py), "-c", "import screenagent; print(screenagent.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path,
                           check=True).stdout  # fmt: skip
    assert where.startswith(target), where  # the wheel's copy, not the source tree
    listed = subprocess.run([str(py), "-m", "screenagent", "skills", "list"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    for name in SKILLS:
        assert name in listed.stdout, (name, listed.stdout)
    schema = subprocess.run([str(py), "-m", "screenagent", "schema"], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=120)  # fmt: skip
    assert schema.returncode == 0 and '"click"' in schema.stdout, schema.stderr


def test_the_pytest_plugin_imports_nothing_heavy(tmp_path: Path) -> None:
    """Collecting an empty folder loads the plugin (entry point) but none of the heavy
    packages: the plugin must stay light for every pytest run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
         str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "screenagent.testing.spec" in modules, proc.stderr[-500:]  # the plugin loaded
    heavy = {"torch", "transformers", "rapidocr", "pyautogui", "cv2", "onnxruntime", "mss",
             "screenagent.session", "screenagent.steps.runner", "screenagent.agent"}  # fmt: skip
    assert not heavy & modules, heavy & modules
