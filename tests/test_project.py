"""Project set-up: environment.yml and pyproject.toml agree; outputs/ is ignored; `make lab` starts as root."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
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


@pytest.mark.parametrize(("uid", "flag"), [("0", True), ("1000", False)], ids=["root", "user"])
def test_make_lab_allows_root_only_for_root(tmp_path, uid, flag):
    fake = tmp_path / "id"  # what `id -u` answers, without changing who runs the test
    fake.write_text(f"#!/bin/sh\necho {uid}\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    dry_run = subprocess.run(["make", "-n", "lab"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lab = next(line for line in dry_run.stdout.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in lab.split()) is flag and lab.split()[-1] == "notebooks/"
