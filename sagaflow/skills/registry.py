"""Skill registration: what a skill's ``register(registry)`` hands to sagaflow.

Seed API::

    registry.register(SkillSpec(
        name="hello-world",
        workflow_cls=HelloWorldWorkflow,
        activities=[write_artifact, emit_finding, spawn_subagent],
        build_input=_build_input,
    ))

``build_input(*, run_id, run_dir, inbox_path, cli_args)`` turns the CLI's
``--key value`` arguments (a ``dict[str, str]``) into the workflow's input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagaflow.errors import SkillLoadError, UsageError
from sagaflow.paths import SKILL_NAME_MAX, check_name


@dataclass(frozen=True)
class SkillSpec:
    """One runnable skill.

    Attributes:
        name: The name users launch it by (``sagaflow launch <name>``).
        workflow_cls: The ``@workflow.defn`` class.
        activities: Activity callables the workflow uses; shared ones register once.
        build_input: ``(*, run_id, run_dir, inbox_path, cli_args) -> input``.
        arguments: Optional explicit argument names (``name`` or ``name!`` for
            required). When omitted, sagaflow learns the accepted names from the
            keys ``build_input`` reads.
        description: One line shown by ``sagaflow skills``.
        uses_model: Whether the skill calls a model (``spawn_subagent``). True by
            default: launch then refuses to start without a usable model transport.
            A skill that never calls one says ``uses_model=False`` and launches
            without a key; should it call a model anyway, that step fails at once
            saying no transport is configured.
        kind: ``python`` (a ``register()`` skill) or ``skillmd`` (a SKILL.md directory
            run by the agent loop, :mod:`sagaflow.skills.skillmd_spec`).
    """

    name: str
    workflow_cls: type
    activities: Sequence[Callable[..., Any]] = ()
    build_input: Callable[..., Any] | None = None
    arguments: Sequence[str] | None = None
    description: str = ""
    uses_model: bool = True
    kind: str = "python"

    @property
    def workflow_name(self) -> str:
        """The Temporal workflow type name."""
        defn = getattr(self.workflow_cls, "__temporal_workflow_definition", None)
        name = getattr(defn, "name", None)
        return str(name) if name else self.workflow_cls.__name__


@dataclass
class SkillRegistry:
    """Collects :class:`SkillSpec` objects from skills' ``register`` functions."""

    _specs: dict[str, SkillSpec] = field(default_factory=dict)

    def register(self, spec: SkillSpec) -> None:
        """Add a skill; a second skill with the same name is an error."""
        if not isinstance(spec, SkillSpec):
            raise SkillLoadError(
                f"register() was given {type(spec).__name__}, not a SkillSpec; "
                "pass SkillSpec(name=..., workflow_cls=..., activities=..., build_input=...)."
            )
        try:  # the name becomes part of run ids and so of paths
            check_name(spec.name, "Skill name", SKILL_NAME_MAX)
        except UsageError as exc:
            raise SkillLoadError(f"{exc.message} Rename the SkillSpec.") from None
        if spec.name in self._specs:
            raise SkillLoadError(
                f"Skill {spec.name!r} is registered twice; give each SkillSpec a unique name."
            )
        self._specs[spec.name] = spec

    def discard(self, names: set[str]) -> None:
        """Forget skills (used when a skill's register() fails halfway)."""
        for name in names:
            self._specs.pop(name, None)

    def get(self, name: str) -> SkillSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __iter__(self) -> Iterator[SkillSpec]:
        return iter(list(self._specs.values()))

    def __len__(self) -> int:
        return len(self._specs)
