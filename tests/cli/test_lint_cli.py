"""``sagaflow lint``, and lint inside ``launch`` and ``doctor``, through the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fake_anthropic import FakeAnthropic
from sandbox import REPO, Sandbox, one_line_failure


def user_hello(sf: Sandbox) -> Path:
    """A user copy of hello-world (it shadows the bundled one)."""
    target = sf.user_skills / "hello-world"
    shutil.copytree(REPO / "skills" / "hello-world", target)
    return target


def seed_clock(skill: Path) -> int:
    """Put ``datetime.now()`` into hello-world's workflow; returns its line."""
    workflow = skill / "workflow.py"
    text = workflow.read_text().replace(
        "        prompt_path = ", "        started = datetime.now()\n        prompt_path = ", 1)
    workflow.write_text("from datetime import datetime\n" + text)
    return next(i for i, line in enumerate(workflow.read_text().splitlines(), start=1)
                if "datetime.now()" in line)


def seed_unused_substitution(skill: Path) -> None:
    init = skill / "__init__.py"
    init.write_text(init.read_text().replace('substitutions={"name": name}',
                                             'substitutions={"name": name, "tone": "warm"}'))


def test_lint_exit_codes_lines_and_json(sf: Sandbox) -> None:
    clean = sf.run("lint", "hello-world")
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr
    assert "hello-world: no findings" in clean.stderr

    skill = user_hello(sf)
    seed_unused_substitution(skill)
    warned = sf.run("lint", "hello-world")
    assert warned.returncode == 0, warned.stderr
    [line] = warned.stdout.splitlines()
    assert line.endswith("(prompt-unused)") and ": warning: substitution 'tone'" in line
    assert line.startswith(f"{skill / '__init__.py'}:")

    line_no = seed_clock(skill)
    failed = sf.run("lint", "hello-world")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert f"{skill / 'workflow.py'}:{line_no}: error: datetime.now() in workflow code" \
        in failed.stdout
    assert "hello-world: 1 error, 1 warning" in failed.stderr

    data = json.loads(sf.run("lint", "hello-world", "--json").stdout)
    assert (data["errors"], data["warnings"]) == (1, 1)
    [report] = data["skills"]
    assert {(f["rule"], f["level"], f["file"]) for f in report["findings"]} == {
        ("clock", "error", "workflow.py"), ("prompt-unused", "warning", "__init__.py")}
    assert report["findings"][0]["path"].startswith(str(skill))


def test_lint_of_an_unknown_skill_is_one_usage_line(sf: Sandbox) -> None:
    one_line_failure(sf.run("lint", "helo-world"), 2, "Unknown skill", "hello-world")


def test_launch_refuses_a_new_build_with_a_lint_error(sf: Sandbox) -> None:
    skill = user_hello(sf)
    line_no = seed_clock(skill)
    proc = sf.run("launch", "hello-world", "--name", "x")
    one_line_failure(proc, 1, "1 lint error", "--no-lint")
    assert f"workflow.py:{line_no}: error: datetime.now()" in proc.stderr
    runs = sf.home / "runs"
    assert not runs.exists() or [p for p in runs.iterdir() if not p.name.startswith(".")] == []
    forced = sf.run("launch", "hello-world", "--name", "x", "--no-lint")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("hello-world-")


def test_launch_prints_warnings_once_per_build(sf: Sandbox, fake_model: FakeAnthropic) -> None:
    seed_unused_substitution(user_hello(sf))
    first = sf.run("launch", "hello-world", "--name", "bo", "--await", check=True)
    assert first.stdout.strip() == "hello, bo"
    assert "warning: substitution 'tone'" in first.stderr
    assert len(list((sf.home / "cache" / "lint").glob("*.json"))) == 1  # runs.lintcache
    again = sf.run("launch", "hello-world", "--name", "bo", "--await", check=True)
    assert again.stdout.strip() == "hello, bo"
    assert "warning:" not in again.stderr


def test_doctor_lists_findings_per_skill(sf: Sandbox) -> None:
    skill = user_hello(sf)
    seed_unused_substitution(skill)
    seed_clock(skill)
    checks = {c["name"]: c for c in json.loads(sf.run("doctor", "--json").stdout)}
    check = checks["lint hello-world"]
    assert check["level"] == "WARN"
    assert check["detail"].startswith("1 error(s), 1 warning(s): ")
    assert "(clock)" in check["detail"] and "(prompt-unused)" in check["detail"]
    assert "sagaflow lint hello-world" in check["fix"]
