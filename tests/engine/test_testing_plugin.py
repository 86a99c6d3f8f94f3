"""``sagaflow.testing`` as an author uses it: a project whose conftest enables the plugin,
its tests using the ``skill_runner`` fixture, run by pytest in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sagaflow.authoring import scaffold

AUTHOR_TESTS = '''
from sagaflow.testing import Observed, SkillRunner


def test_run_returns_what_the_run_did(skill_runner: SkillRunner) -> None:
    seen = skill_runner.run("my-notes", args={"topic": "kelp"})
    assert isinstance(seen, Observed)
    assert seen.status == "DONE"
    assert seen.result == "kelp, in short: a scripted summary."
    assert seen.inbox is not None and "kelp" in seen.inbox.summary
    assert seen.steps == ["spawn_subagent"]
    assert seen.model_calls == 1


def test_inline_replies(skill_runner: SkillRunner) -> None:
    rules = [{"match": "about: (?P<t>.+)", "reply":
              "STRUCTURED_OUTPUT_START\\nSUMMARY|short $t\\nSTRUCTURED_OUTPUT_END"}]
    assert skill_runner.run("my-notes", args={"topic": "kelp"}, replies=rules).result == "short kelp"


def test_yaml_cases(skill_runner: SkillRunner) -> None:
    report = skill_runner.check("my-notes")
    assert report.failed == 0, [r.line() for r in report.results]


def test_a_failing_expectation_fails_the_test(skill_runner: SkillRunner) -> None:
    assert skill_runner.run("my-notes", args={"topic": "kelp"}).result == "something else"
'''


def test_authors_enable_the_plugin_and_use_the_fixture(tmp_path: Path, home: object) -> None:
    project = tmp_path / "project"
    scaffold.create("my-notes", parent=project / ".claude" / "skills")
    (project / ".git").mkdir()  # the project's root: its .claude/skills is found from here
    (project / "conftest.py").write_text('pytest_plugins = ["sagaflow.testing"]\n')
    (project / "test_my_notes.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rN", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 3 passed" in proc.stdout, proc.stdout
    assert "+ kelp, in short: a scripted summary." in proc.stdout
