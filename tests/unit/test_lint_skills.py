"""sagaflow lint over whole skills: no false positives on the bundled and test skills,
the sandbox's verdict and load failures as findings, names vs paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sagaflow.errors import UnknownSkillError
from sagaflow.runs.lint import lint_targets, load_finding

REPO = Path(__file__).resolve().parents[2]
TEST_SKILLS = REPO / "tests" / "skills"
#: test skills that are broken on purpose (their findings are checked below)
BROKEN = {"broken-register", "broken-syntax"}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp home and user, the test skills on the search path, cwd outside the repo."""
    for name in ("CLAUDE_CONFIG_DIR", "CLAUDE_SKILLS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("SAGAFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAGAFLOW_SKILLS_PATH", str(TEST_SKILLS))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bundled_and_test_skills_have_no_findings(world: Path) -> None:
    reports = {r.dir.name: r for r in lint_targets([])}
    assert "hello-world" in reports and "legacy-010" in reports
    noisy = {name: r.lines() for name, r in reports.items() if r.findings and name not in BROKEN}
    assert noisy == {}


def test_broken_skills_are_one_finding_each_at_their_line(world: Path) -> None:
    syntax, register = lint_targets(["broken-syntax", "broken-register"])
    assert [(f.file, f.line, f.rule) for f in syntax.findings] == [("__init__.py", 1, "syntax")]
    [found] = register.findings
    assert (found.file, found.line, found.rule) == ("__init__.py", 2, "load")
    assert "database not configured" in found.message


def copy_skill(world: Path, name: str) -> Path:
    target = world / "mine" / name
    shutil.copytree(TEST_SKILLS / name if name != "hello-world" else REPO / "skills" / name,
                    target)
    return target


def test_a_path_is_linted_in_place_of_the_skill_it_shadows(world: Path) -> None:
    skill = copy_skill(world, "hello-world")
    workflow = skill / "workflow.py"
    workflow.write_text(workflow.read_text().replace('"spawn_subagent"', '"spawn_subagnet"'))
    [report] = lint_targets([str(skill)])
    [found] = report.findings
    assert (found.file, found.rule, found.level) == ("workflow.py", "activity-name", "error")
    assert "did you mean 'spawn_subagent'?" in found.message
    assert report.lines()[0].startswith(f"mine/hello-world/workflow.py:{found.line}: error: ")
    assert [r.findings for r in lint_targets(["hello-world"])] == [[]]  # the bundled one


def test_activities_of_other_skills_count_as_registered(world: Path) -> None:
    # legacy-010 calls run_shell and deliver_artifact_to_slack (0.10 activities) by name
    [report] = lint_targets(["legacy-010"])
    assert report.findings == []


def test_sandbox_refusal_is_a_finding_at_the_module_line(world: Path) -> None:
    skill = copy_skill(world, "two-step")
    workflow = skill / "workflow.py"
    text = workflow.read_text()
    workflow.write_text(text.replace("\n\n@dataclass", "\nSTARTED = __import__('datetime')"
                                     ".datetime.now()\n\n\n@dataclass", 1))
    [report] = lint_targets([str(skill)])
    sandbox = [f for f in report.findings if f.rule == "sandbox"]
    assert len(sandbox) == 1 and sandbox[0].file == "workflow.py"
    assert "workflow sandbox" in sandbox[0].message


def test_load_finding_reads_the_location_the_message_names(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "wf.py").write_text("x\n")
    found = load_finding(tmp_path, "Skill s would stop the worker from starting: its workflow "
                         "W fails Temporal's workflow sandbox (RestrictedWorkflowAccessError "
                         "at wf.py:7: no).")
    assert (found.file, found.line, found.rule) == ("sub/wf.py", 7, "sandbox")
    assert load_finding(tmp_path, "it failed.").file == "__init__.py"


def test_unknown_name_and_non_skill_directory_are_usage_errors(world: Path) -> None:
    with pytest.raises(UnknownSkillError, match="did you mean hello-world"):
        lint_targets(["helo-world"])
    (world / "empty").mkdir()
    with pytest.raises(UnknownSkillError, match="not a skill directory"):
        lint_targets(["./empty"])
