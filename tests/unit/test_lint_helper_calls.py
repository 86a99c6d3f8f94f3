"""lint finds helper calls that would fail their run at the call: unknown options,
durations of the wrong type, ``parallel([])``, an undeclared ``route`` key."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from sagaflow.skills.lint import Finding, static_findings
from sagaflow.skills.lint.helpers import SIGNATURES
from sagaflow.skills.validation import restrictions

WORKFLOW = """\
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sagaflow.workflow import (
        ApprovalGate, ask_model, child, loop_until, parallel, route, sleep, wait_for_signal,
    )


@workflow.defn(name="Seeded")
class Wf:
    @workflow.run
    async def run(self, inp: dict) -> str:
        {body}
        return "done"
"""


def lint(tmp_path: Path, body: str) -> list[Finding]:
    skill = tmp_path / "seeded"
    skill.mkdir()
    (skill / "workflow.py").write_text(WORKFLOW.format(body=body), encoding="utf-8")
    found = static_findings(skill, "python", "skills.seeded", registered=None,
                            passthrough=frozenset(restrictions().passthrough_modules))
    return [f for f in found if f.rule == "helper-call"]


def test_the_table_matches_the_helpers_signatures() -> None:
    import sagaflow.workflow as public

    for name, sig in SIGNATURES.items():
        params = inspect.signature(getattr(public, name)).parameters.values()
        kinds = inspect.Parameter
        assert sig.positional == tuple(
            p.name for p in params if p.kind == kinds.POSITIONAL_OR_KEYWORD), name
        assert sig.keyword_only == tuple(p.name for p in params if p.kind == kinds.KEYWORD_ONLY)
        assert set(sig.required) == {p.name for p in params if p.default is kinds.empty}, name


@pytest.mark.parametrize(("call", "message"), [
    ("await ask_model('p', temperature=0)",
     "ask_model(): no option 'temperature'; its options: prompt, system, "
     "tier, max_tokens, output, tools, role, timeout, so the run fails at this call"),
    ("await ask_model('p', tool=True)",
     "ask_model(): no option 'tool' (did you mean 'tools'?); its options: prompt, system, "
     "tier, max_tokens, output, tools, role, timeout, so the run fails at this call"),
    ("await ask_model('p', 'be brief')", "ask_model(): it takes at most 1 positional argument "
     "(prompt), given 2; pass the rest by name"),
    ("await sleep('5m')", "sleep(): duration must be seconds (int or float) or a "
     "datetime.timedelta, not str '5m'"),
    ("await sleep(-1)", "sleep(): duration must be longer than zero, not -1s"),
    ("await sleep()", "sleep(): duration missing (required)"),
    ("await ask_model('p', timeout='10')", "ask_model(): timeout must be seconds"),
    ("await wait_for_signal('go', timeout='1h')", "wait_for_signal(): timeout must be seconds"),
    ("await ApprovalGate(timeout=True).wait('x')", "ApprovalGate(): timeout must be seconds"),
    ("await parallel([])", "parallel(): needs at least one call; this list is empty"),
    ("await parallel([lambda: sleep(1)], max_concurrency=0)",
     "parallel(): max_concurrency must be a whole number of at least 1, not 0"),
    ("await route('c', {'a': lambda: sleep(1), 'b': lambda: sleep(1)})",
     "route(): key 'c' is not declared; declared: a, b; add a branch for it or pass default="),
    ("await route('aa', {'a': lambda: sleep(1)})", "route(): key 'aa' is not declared "
     "(did you mean 'a'?)"),
    ("await loop_until(lambda i, p: sleep(1))", "loop_until(): max_iterations missing"),
    ("await loop_until(lambda i, p: sleep(1), max_iterations=3, on_max='last')",
     "loop_until(): on_max must be 'fail' or 'return_last', not 'last'"),
    ("await ask_model('p', tier='gpt')", "ask_model(): tier must be one of haiku, sonnet, opus"),
    ("await child('other', {}, True)", "child(): it takes at most 2 positional arguments"),
])
def test_a_call_that_fails_at_run_time_is_an_error_at_its_line(
    tmp_path: Path, call: str, message: str
) -> None:
    [found] = lint(tmp_path, call)
    assert (found.file, found.line, found.level) == ("workflow.py", 15, "error")
    assert found.message.startswith(message), found.message


@pytest.mark.parametrize("call", [
    "await ask_model('p', system='s', tier='Sonnet', max_tokens=9, output=dict, timeout=30)",
    "await ask_model(inp['p'], **inp['options'])",
    "await sleep(timedelta(hours=2)); await sleep(1.5); await sleep(inp['seconds'])",
    "await parallel([lambda: sleep(1)], max_concurrency=2, fail_fast=False)",
    "await parallel(inp['calls'])",
    "await route(inp['key'], {'a': lambda: sleep(1)})",
    "await route('z', {'a': lambda: sleep(1)}, default=lambda: sleep(2))",
    "await route('a', {'a': lambda: sleep(1), **inp['more']})",
    "await loop_until(lambda i, p: sleep(1), max_iterations=2, on_max='return_last')",
    "await wait_for_signal('go', timeout=None, default=1)",
    "await ApprovalGate(300, 'approve').wait('x')",
    "await child('other', {'topic': 'x'}, wait=False)",
    "await workflow.sleep('not ours')",
])
def test_good_calls_and_values_known_only_at_run_time_are_not_judged(
    tmp_path: Path, call: str
) -> None:
    assert lint(tmp_path, call) == []


@pytest.mark.parametrize("call", ["os.path.join('a', 'b')", "os.getpid()", "os.cpu_count()"])
def test_os_functions_the_sandbox_refuses_are_errors(tmp_path: Path, call: str) -> None:
    skill = tmp_path / "seeded"
    skill.mkdir()
    body = f"_ = {call}"
    (skill / "workflow.py").write_text("import os\n" + WORKFLOW.format(body=body), encoding="utf-8")
    found = static_findings(skill, "python", "skills.seeded", registered=None,
                            passthrough=frozenset(restrictions().passthrough_modules))
    [finding] = [f for f in found if f.rule != "helper-call"]
    assert (finding.line, finding.rule) == (16, "sandbox")
    assert "refused by Temporal's workflow sandbox at run time" in finding.message
    assert finding.message.endswith("use posixpath or pathlib.PurePosixPath for path text, or "
                                    "an activity")


def test_pure_path_text_is_not_judged(tmp_path: Path) -> None:
    skill = tmp_path / "seeded"
    skill.mkdir()
    body = "_ = posixpath.join('a', 'b') + PurePosixPath('x/y').name + os.name"
    (skill / "workflow.py").write_text(
        "import os\nimport posixpath\nfrom pathlib import PurePosixPath\n"
        + WORKFLOW.format(body=body), encoding="utf-8")
    assert static_findings(skill, "python", "skills.seeded", registered=None,
                           passthrough=frozenset(restrictions().passthrough_modules)) == []
