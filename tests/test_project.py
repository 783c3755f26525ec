"""Project set-up: environment.yml and pyproject.toml list the same packages; outputs/ is ignored."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        declared |= {_name(r) for r in extra}
    declared.discard(_name(project["name"]))  # an extra that pulls in another extra of the package itself
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r) for r in pip_section if not r.startswith("-e")}
    assert listed == declared
    assert "-e ." in pip_section  # the package itself


def test_outputs_is_ignored_but_kept():
    tracked = subprocess.run(["git", "ls-files", "outputs"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert tracked == ["outputs/.gitkeep"]
    ignored = subprocess.run(["git", "check-ignore", "-q", "outputs/some_run/metrics.json"], cwd=ROOT)
    assert ignored.returncode == 0
