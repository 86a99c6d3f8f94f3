# ruff: noqa: F811  (the fixtures imported from test_discovery are used as parameters)
"""Bad skills are isolated for real: naming rules and workflow-sandbox validation.

Each refused skill is an ``error`` info with its reason; the good skill beside it
still loads. Sandbox verdicts are cached by content hash.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_discovery import (  # noqa: F401  (fixtures: layout, _restore_skills_namespace)
    Layout,
    _restore_skills_namespace,
    info_for,
    layout,
    make_skill,
    uid,
)

from sagaflow.skills import validation
from sagaflow.skills.discovery import load_skills

CLOCK_AT_IMPORT = """\
import datetime

from temporalio import workflow

STARTED = datetime.datetime.now()  # module level: forbidden in the workflow sandbox


@workflow.defn(name={wf!r})
class Wf:
    @workflow.run
    async def run(self) -> str:
        return "never"
"""


def _errors(loaded: object) -> dict[str, str]:
    return {i.dir.name: i.error or "" for i in loaded.infos if i.status == "error"}  # type: ignore[attr-defined]


def test_a_directory_name_that_is_no_module_name_is_refused(layout: Layout) -> None:
    good = f"good-{uid()}"
    make_skill(layout.outer, good)
    make_skill(layout.outer, "My Review", name="my-review")
    make_skill(layout.outer, "2fast", name="twofast")
    loaded = load_skills(cwd=layout.cwd)
    info_for(loaded, good)
    errors = _errors(loaded)
    assert "not a valid module name" in errors["My Review"]
    assert "rename it, e.g. to 'my-review'" in errors["My Review"]
    assert "e.g. to 'skill-2fast'" in errors["2fast"]
    assert loaded.registry.get("my-review") is None


def test_names_colliding_after_dash_to_underscore_are_both_refused(layout: Layout) -> None:
    tag = uid()
    make_skill(layout.outer, f"dup-{tag}", name=f"dup-a-{tag}")
    make_skill(layout.outer, f"dup_{tag}", name=f"dup-b-{tag}")
    make_skill(layout.bundled, f"dup-{tag}", name=f"dup-c-{tag}")  # lower root: shadowed
    loaded = load_skills(cwd=layout.cwd)
    errors = _errors(loaded)
    for name in (f"dup-{tag}", f"dup_{tag}"):
        assert f"would all be imported as skills.dup_{tag}" in errors[name], errors
    assert not any(loaded.registry.get(f"dup-{x}-{tag}") for x in "abc")
    assert [i.origin for i in loaded.infos if i.status == "shadowed"] == ["bundled"]


def test_a_symlink_must_be_named_like_its_target(layout: Layout, tmp_path: Path) -> None:
    tag = uid()
    elsewhere = tmp_path / "elsewhere"
    target = make_skill(elsewhere, f"real-{tag}")
    (layout.outer / f"alias-{tag}").symlink_to(target, target_is_directory=True)
    same = make_skill(elsewhere, f"same-{tag}")
    (layout.user / f"same-{tag}").symlink_to(same, target_is_directory=True)
    loaded = load_skills(cwd=layout.cwd)
    errors = _errors(loaded)
    assert f"name the link 'real-{tag}'" in errors[f"alias-{tag}"], errors
    info_for(loaded, f"same-{tag}")  # a link named like its target is fine


def test_a_workflow_that_fails_the_sandbox_is_excluded_with_its_reason(layout: Layout) -> None:
    good, bad = f"good-{uid()}", f"clock-{uid()}"
    make_skill(layout.outer, good)
    make_skill(layout.outer, bad,
               workflow_src=CLOCK_AT_IMPORT.format(wf=f"Wf_{bad.replace('-', '_')}"))
    loaded = load_skills(cwd=layout.cwd)
    info_for(loaded, good)
    error = info_for(loaded, bad, "error").error or ""
    assert "would stop the worker from starting" in error
    assert "RestrictedWorkflowAccessError at workflow.py:5" in error, error
    assert "datetime.datetime.now" in error
    assert loaded.registry.get(bad) is None and loaded.registry.get(good) is not None


def test_sandbox_verdicts_are_cached_by_content(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"cached-{uid()}"
    directory = make_skill(layout.outer, name)
    calls: list[type] = []
    real = validation.sandbox_problem

    def counting(cls: type, skill_dir: Path) -> str | None:
        calls.append(cls)
        return real(cls, skill_dir)

    monkeypatch.setattr(validation, "sandbox_problem", counting)
    load_skills(cwd=layout.cwd)
    assert len(calls) == 1
    started = time.perf_counter()
    info_for(load_skills(cwd=layout.cwd), name)
    assert len(calls) == 1, "an unchanged skill is not validated again"
    assert time.perf_counter() - started < 2.0
    (directory / "notes.txt").write_text("edited", encoding="utf-8")
    load_skills(cwd=layout.cwd)
    assert len(calls) == 2, "an edited skill is validated again"
