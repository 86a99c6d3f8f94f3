"""sagaflow lint's rules, one seeded mistake each (files only: nothing is imported or run).

The issue's three examples are here: a typo'd activity name, ``datetime.now()`` in
workflow code and a prompt variable with no value.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sagaflow.skills.lint import Finding, static_findings
from sagaflow.skills.lint.findings import ERROR, WARNING
from sagaflow.skills.validation import restrictions

PASSTHROUGH = frozenset(restrictions().passthrough_modules)
REGISTERED = {"write_artifact", "spawn_subagent", "emit_finding"}

INIT = """\
from sagaflow.prompts import load_prompt
from sagaflow.registry import SkillSpec

from skills.seeded.workflow import Wf


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return {{"p": {load}}}


def register(registry):
    registry.register(SkillSpec(name="seeded", workflow_cls=Wf, build_input=_build_input))
"""

WORKFLOW = """\
from datetime import timedelta

from temporalio import workflow

{imports}


@workflow.defn(name="Seeded")
class Wf:
    @workflow.run
    async def run(self, inp: dict) -> str:
{body}
        return "done"
"""


def seed(tmp_path: Path, body: str = "        pass", imports: str = "",
         load: str = 'load_prompt(__file__, "user", {"name": "x"})',
         prompt: str | None = "Hello $name\n", extra: dict[str, str] | None = None) -> Path:
    """A skill directory ``seeded/`` with one workflow and one prompt."""
    skill = tmp_path / "seeded"
    (skill / "prompts").mkdir(parents=True)
    (skill / "__init__.py").write_text(INIT.format(load=load), encoding="utf-8")
    (skill / "workflow.py").write_text(WORKFLOW.format(imports=imports, body=body),
                                       encoding="utf-8")
    if prompt is not None:
        (skill / "prompts" / "user.md").write_text(prompt, encoding="utf-8")
    for rel, text in (extra or {}).items():
        (skill / rel).parent.mkdir(parents=True, exist_ok=True)
        (skill / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    return skill


def lint(skill: Path, kind: str = "python") -> list[Finding]:
    return static_findings(skill, kind, "skills.seeded", registered=REGISTERED,
                           passthrough=PASSTHROUGH)


def only(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def test_a_clean_skill_has_no_findings(tmp_path: Path) -> None:
    assert lint(seed(tmp_path, body="        now = workflow.now()\n        _ = now")) == []


def test_typod_activity_name_is_an_error_with_the_close_match(tmp_path: Path) -> None:
    body = ('        await workflow.execute_activity("spawn_subagnet", {},\n'
            '            start_to_close_timeout=timedelta(seconds=5))')
    [found] = lint(seed(tmp_path, body=body))
    assert (found.file, found.line, found.level, found.rule) == (
        "workflow.py", 12, ERROR, "activity-name")
    assert "'spawn_subagnet'" in found.message and "did you mean 'spawn_subagent'?" in found.message
    assert found.line_text().startswith("workflow.py:12: error: no sagaflow worker registers")
    assert found.line_text().endswith("(activity-name)")


def test_datetime_now_in_workflow_code_names_workflow_now(tmp_path: Path) -> None:
    skill = seed(tmp_path, imports="from datetime import datetime",
                 body="        stamp = datetime.now().isoformat()\n        _ = stamp")
    [found] = lint(skill)
    assert (found.file, found.line, found.level, found.rule) == ("workflow.py", 12, ERROR, "clock")
    assert found.message.startswith("datetime.now() in workflow code")
    assert "use workflow.now()" in found.message


def test_missing_prompt_variable_is_an_error_at_its_prompt_line(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, prompt="Hello $name,\nwrite about ${topic}.\n"))
    assert (found.file, found.line, found.level, found.rule) == (
        "prompts/user.md", 2, ERROR, "prompt-variable")
    assert "$topic has no value" in found.message and "__init__.py:8" in found.message
    assert "gives only name" in found.message


@pytest.mark.parametrize(("imports", "call", "rule", "alternative"), [
    ("import datetime", "datetime.datetime.utcnow()", "clock", "workflow.now()"),
    ("import datetime as dt", "dt.date.today()", "clock", "workflow.now().date()"),
    ("import time", "time.time()", "clock", "workflow.time()"),
    ("import time", "time.monotonic()", "clock", "workflow.time()"),
    ("from time import sleep", "sleep(1)", "clock", "workflow.sleep"),
    ("import random", "random.randint(1, 6)", "randomness", "workflow.random()"),
    ("from random import choice", "choice([1, 2])", "randomness", "workflow.random()"),
    ("import uuid", "uuid.uuid4()", "randomness", "workflow.uuid4()"),
    ("import os", "os.urandom(8)", "randomness", "workflow.random().randbytes"),
    ("import secrets", "secrets.token_hex(8)", "randomness", "workflow.random()"),
    ("", "open('x').read()", "io", "an activity"),
    ("from pathlib import Path", "Path('x').read_text()", "io", "an activity"),
    ("from pathlib import Path", "Path('x').exists()", "io", "an activity"),
    ("import os", "os.getenv('HOME')", "io", "an activity"),
    ("import os", "os.path.exists('x')", "io", "an activity"),
    ("import subprocess", "subprocess.run(['ls'])", "io", "an activity"),
    ("import socket", "socket.create_connection(('a', 1))", "io", "an activity"),
    ("import urllib.request", "urllib.request.urlopen('http://x')", "io", "an activity"),
    ("import threading", "threading.Thread(target=print).start()", "threads", "parallel"),
    ("import concurrent.futures", "concurrent.futures.ThreadPoolExecutor()", "threads",
     "parallel"),
    ("import asyncio", "asyncio.to_thread(print)", "threads", "parallel"),
])
def test_non_deterministic_calls(tmp_path: Path, imports: str, call: str, rule: str,
                                 alternative: str) -> None:
    [found] = lint(seed(tmp_path, imports=imports, body=f"        _ = {call}"))
    assert (found.line, found.level, found.rule) == (12, ERROR, rule), found
    assert alternative in found.message


def test_os_environ_in_workflow_code(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, imports="import os", body="        _ = os.environ['HOME']"))
    assert found.rule == "io" and "build_input" in found.message


def test_deterministic_look_alikes_are_not_flagged(tmp_path: Path) -> None:
    body = "\n".join(f"        _ = {c}" for c in (
        "random.Random(42).random()", "time.localtime(0)", "time.strftime('%Y', time.gmtime(0))",
        "urllib.parse.quote('a b')", "workflow.random().randint(1, 6)", "workflow.uuid4()",
        "asyncio.sleep(0)", "json.dumps({})", "datetime.fromtimestamp(0)"))
    imports = ("import asyncio\nimport json\nimport random\nimport time\nimport urllib.parse\n"
               "from datetime import datetime")
    assert lint(seed(tmp_path, imports=imports, body=body)) == []


def test_helpers_the_workflow_calls_are_workflow_code(tmp_path: Path) -> None:
    helpers = """\
        import time
        from datetime import datetime


        def stamp():
            return datetime.now()


        def unused_by_workflows():
            return time.time()
        """
    skill = seed(tmp_path, imports="from .helpers import stamp\nfrom . import helpers as h",
                 body="        _ = stamp()\n        _ = h.stamp",
                 extra={"helpers.py": helpers})
    [found] = lint(skill)
    assert (found.file, found.line, found.rule) == ("helpers.py", 6, "clock")


def test_functions_passed_along_are_followed_but_activities_are_not(tmp_path: Path) -> None:
    activities = """\
        from pathlib import Path

        from temporalio import activity


        @activity.defn
        async def read_it(path: str) -> str:
            return Path(path).read_text()


        def _compensate(path):
            return Path(path).write_text("undone")
        """
    body = ("        await workflow.execute_activity(read_it, 'x', "
            "start_to_close_timeout=timedelta(seconds=5))\n"
            "        saga.add(_compensate, 'x')")
    skill = seed(tmp_path, imports="from .acts import _compensate, read_it",
                 body=body, extra={"acts.py": activities})
    [found] = lint(skill)
    assert (found.file, found.line, found.rule) == ("acts.py", 12, "io")


def test_build_input_and_module_code_outside_workflows_are_not_checked(tmp_path: Path) -> None:
    load = 'load_prompt(__file__, "user", {"name": __import__("time").time()})'
    extra = {"tools.py": "import time\n\ndef now():\n    return time.time()\n"}
    assert lint(seed(tmp_path, load=load, extra=extra)) == []


def test_third_party_import_outside_the_pass_through_block_warns(tmp_path: Path) -> None:
    imports = ("import yaml\nimport pydantic\nimport json\n\n"
               "with workflow.unsafe.imports_passed_through():\n    import requests")
    [found] = lint(seed(tmp_path, imports=imports))
    assert (found.line, found.level, found.rule) == (5, WARNING, "sandbox-import")
    assert "'yaml'" in found.message and "imports_passed_through" in found.message


def test_import_inside_workflow_code_warns(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, body="        import yaml\n        _ = yaml"))
    assert (found.line, found.rule) == (12, "sandbox-import")


def test_ignore_comment_silences_its_rule_only(tmp_path: Path) -> None:
    body = ("        _ = time.time()  # sagaflow-lint: ignore[clock]\n"
            "        _ = random.random()  # sagaflow-lint: ignore[clock]\n"
            "        _ = uuid.uuid4()  # sagaflow-lint: ignore")
    skill = seed(tmp_path, imports="import random\nimport time\nimport uuid", body=body)
    assert [(f.line, f.rule) for f in lint(skill)] == [(15, "randomness")]


def test_unused_substitution_warns_at_the_call(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, load='load_prompt(__file__, "user", {"name": 1, "tone": 2})'))
    assert (found.file, found.line, found.level, found.rule) == (
        "__init__.py", 8, WARNING, "prompt-unused")
    assert "'tone'" in found.message


def test_substitutions_in_a_variable_are_read(tmp_path: Path) -> None:
    init = INIT.replace('    return {{"p": {load}}}',
                        '    subs = {{"name": 1}}\n    return {{"p": {load}}}')
    skill = seed(tmp_path, prompt="$name and $missing\n")
    (skill / "__init__.py").write_text(
        init.format(load='load_prompt(__file__, "user", subs)'), encoding="utf-8")
    [found] = lint(skill)
    assert found.rule == "prompt-variable" and "$missing" in found.message


def test_substitutions_built_at_run_time_are_not_judged(tmp_path: Path) -> None:
    skill = seed(tmp_path, load='load_prompt(__file__, "user", dict(cli_args))',
                 prompt="$anything\n")
    assert lint(skill) == []


def test_prompt_without_substitutions_keeps_its_placeholders(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, load='load_prompt(__file__, "user")', prompt="Hi $name\n"))
    assert (found.file, found.level, found.rule) == ("prompts/user.md", WARNING, "prompt-variable")
    assert "as written" in found.message


def test_templates_filled_by_the_skill_itself_are_not_flagged(tmp_path: Path) -> None:
    extra = {"fill.py": "from string import Template\n\ndef fill(t, **kw):\n"
                        "    return Template(t).safe_substitute(kw)\n"}
    skill = seed(tmp_path, load='load_prompt(__file__, "user")', prompt="Hi $name\n",
                 extra=extra)
    assert lint(skill) == []


def test_templates_are_checked_against_the_render_calls_filling_them(tmp_path: Path) -> None:
    imports = ("with workflow.unsafe.imports_passed_through():\n"
               "    from sagaflow.prompts import render")
    body = ('        _ = render(inp.critic_prompt, {"text": 1, "mood": 2})\n'
            '        _ = render(inp.other_prompt, {"text": 1})')
    skill = seed(tmp_path, imports=imports, body=body, prompt="As $critic, review:\n$text\n",
                 load='load_prompt(__file__, "user")')
    init = skill / "__init__.py"
    init.write_text(init.read_text().replace('{"p": load_prompt', '{"p": dict(critic_prompt=load_prompt')
                    .replace('"user")}', '"user"))}'), encoding="utf-8")
    found = sorted((f.file, f.line, f.level, f.rule) for f in lint(skill))
    assert found == [("prompts/user.md", 1, ERROR, "prompt-variable"),
                     ("workflow.py", 13, WARNING, "prompt-unused")]
    [missing] = [f for f in lint(skill) if f.level == ERROR]
    assert "render at workflow.py:13 gives only mood, text, so the run fails at that step" \
        in missing.message


def test_malformed_placeholder_is_an_error(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, prompt="Hello $name, that costs $5\n"))
    assert (found.level, found.rule) == (ERROR, "prompt-variable")
    assert "'$5'" in found.message and "$$" in found.message


def test_missing_prompt_file_suggests_the_close_name(tmp_path: Path) -> None:
    [found] = lint(seed(tmp_path, load='load_prompt(__file__, "usr", {"name": 1})'))
    assert (found.file, found.line, found.rule) == ("__init__.py", 8, "prompt-file")
    assert "prompts/usr.md" in found.message and "did you mean 'user'?" in found.message


def test_syntax_error_is_one_finding(tmp_path: Path) -> None:
    skill = seed(tmp_path, extra={"broken.py": "def f(:\n"})
    [found] = lint(skill)
    assert (found.file, found.line, found.rule) == ("broken.py", 1, "syntax")


SKILLMD = """\
---
name: seeded
description: A seeded SKILL.md.
argument-hint: "[topic]"
{more}---
Write about $ARGUMENTS for $audience (budget: $5mm, not $k).
Use $0, then $1. Shell: `echo $home_dir` and

```bash
for f in $files; do echo "$HOME"; done
```
"""


def test_skillmd_names_nothing_substitutes(tmp_path: Path) -> None:
    skill = tmp_path / "seeded"
    skill.mkdir()
    (skill / "SKILL.md").write_text(SKILLMD.format(more=""), encoding="utf-8")
    found = lint(skill, "skillmd")
    assert [(f.line, f.level, f.rule) for f in found] == [
        (6, WARNING, "skill-argument"), (7, WARNING, "skill-argument")]
    assert "$audience is never substituted" in found[0].message
    assert "--audience VALUE" in found[0].message
    assert "$1 is word 2" in found[1].message


def test_skillmd_frontmatter_problems(tmp_path: Path) -> None:
    skill = tmp_path / "seeded"
    skill.mkdir()
    more = ("allowed-tools: Read, WebSearch, Frobnicate\nmax-turns: 5\n"
            "metadata:\n  sagaflow:\n    tier: gpt\n    colour: red\n"
            "category: docs\nmaturity: beta\n")
    (skill / "SKILL.md").write_text(SKILLMD.format(more=more), encoding="utf-8")
    found = {(f.rule, f.level, f.line): f.message for f in lint(skill, "skillmd")}
    assert "unknown tool 'Frobnicate'" in found[("frontmatter", ERROR, 5)]
    assert "metadata: {sagaflow" in found[("frontmatter", WARNING, 6)]  # max-turns at top level
    assert "WebSearch" in found[("frontmatter", WARNING, 5)]
    assert "tier is 'gpt'" in found[("frontmatter", ERROR, 9)]
    assert "colour is not a sagaflow option" in found[("frontmatter", WARNING, 10)]
    # keys Claude Code does not know: one warning for all of them
    assert "keys category, maturity are not Claude Code's" in found[("frontmatter", WARNING, 11)]
    assert len([key for key in found if key[0] == "frontmatter"]) == 6


def test_skillmd_that_does_not_parse_is_one_error(tmp_path: Path) -> None:
    skill = tmp_path / "seeded"
    skill.mkdir()
    (skill / "SKILL.md").write_text("no frontmatter\n", encoding="utf-8")
    [found] = lint(skill, "skillmd")
    assert (found.line, found.level, found.rule) == (1, ERROR, "frontmatter")


def test_child_run_of_a_skill_that_does_not_exist(tmp_path: Path) -> None:
    imports = ("with workflow.unsafe.imports_passed_through():\n"
               "    from sagaflow.workflow import child")
    body = ('        await child("helo-world", {"name": "x"})\n'
            '        await child("hello-world")\n'
            '        await child(inp["other"])')
    skill = seed(tmp_path, imports=imports, body=body)
    found = static_findings(skill, "python", "skills.seeded", registered=REGISTERED,
                            passthrough=PASSTHROUGH, skills={"hello-world", "seeded"})
    [one] = found
    assert (one.line, one.level, one.rule) == (13, ERROR, "child-skill")
    assert "'helo-world'" in one.message and "did you mean 'hello-world'?" in one.message
