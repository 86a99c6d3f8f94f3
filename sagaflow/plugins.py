"""sagaflow plugins: your code, called before and after every run and step a worker serves.

A plugin is any object with one or more of these methods (sync or ``async``); subclass
:class:`Plugin` to get no-op defaults for the others::

    from sagaflow.plugins import Plugin, RunEvent, StepEvent

    class CostLog(Plugin):
        def after_step(self, event: StepEvent) -> None:
            if event.cost_usd:
                print(f"{event.run_id} {event.step}: ${event.cost_usd:.4f}")

        async def on_error(self, event: RunEvent | StepEvent) -> None:
            await page_someone(event.error)

Hooks (each receives one frozen event):

* ``before_run(RunEvent)`` — a run starts (status ``RUNNING``);
* ``after_run(RunEvent)`` — it ended: ``DONE``, ``FAILED`` or ``CANCELLED``, with its
  duration, tokens, model calls and cost;
* ``before_step(StepEvent)`` — an attempt of a step (an activity) starts;
* ``after_step(StepEvent)`` — that attempt ended: ``DONE``, ``FAILED`` or ``CANCELLED``;
* ``on_error(RunEvent | StepEvent)`` — after ``after_run`` / ``after_step`` when the
  status is ``FAILED`` (a failed attempt that Temporal retries too: ``will_retry``).

Where they run: in the worker process, never in workflow code, on a thread of their
own, one call at a time and in order (a run's ``before_run`` comes before its steps'
hooks, ``after_run`` after them). sagaflow never waits for a hook: a hook that raises is
logged (one line in the worker's log) and one slower than ``timeouts.plugin_seconds``
(default 5) is logged and left behind; neither changes any run. Events are delivered
at least once: a worker that dies between a hook and the step's completion can
deliver it again when the work is retried.

Loading (once per worker process, see :func:`load_plugins`): ``plugins:`` in
config.yaml (or ``SAGAFLOW_PLUGINS``, comma-separated) lists ``"module:attr"``
specs, and installed packages declare entry points in the group ``sagaflow.plugins``.
A spec naming a class is instantiated without arguments; anything else is used as is.
This module imports nothing heavy (no temporalio): import it freely.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOKS",
    "LoadedPlugins",
    "Plugin",
    "RunEvent",
    "StepEvent",
    "load_plugins",
]

#: the entry point group installed packages declare plugins in
ENTRY_POINT_GROUP = "sagaflow.plugins"
#: the hook method names, in the order of a run's life
HOOKS = ("before_run", "before_step", "after_step", "after_run", "on_error")


class _Tokens:
    """``tokens``: the sum of an event's four token counts."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    @property
    def tokens(self) -> int:
        """All tokens: input, output and cache reads and writes."""
        return (self.input_tokens + self.output_tokens + self.cache_creation_input_tokens
                + self.cache_read_input_tokens)


@dataclass(frozen=True)
class RunEvent(_Tokens):
    """A run starting or ending (``before_run``, ``after_run``, ``on_error``).

    Attributes:
        run_id: sagaflow's run id (the same string as Temporal's workflow id).
        skill: The skill's name.
        workflow_id: Temporal's workflow id (equal to ``run_id``; named for Temporal users).
        temporal_run_id: The Temporal execution (``retry`` starts a new one under the same
            run id).
        workflow_type: The workflow's type name.
        build: The build id of the worker that served this event ("" for an unversioned
            worker, e.g. ``--pool``).
        status: ``RUNNING`` (before_run), ``DONE``, ``FAILED`` or ``CANCELLED``.
        started_at: When the run (its first execution) started, ISO 8601 UTC.
        duration_seconds: Workflow time since then (0.0 in before_run).
        model_calls: Model calls made so far.
        cost_usd: USD spent so far (0.0 when the models have no price).
        input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens:
            Token counts so far.
        error: Why it failed or was cancelled ("" otherwise).
    """

    run_id: str
    skill: str
    workflow_id: str
    temporal_run_id: str
    workflow_type: str
    build: str
    status: str
    started_at: str
    duration_seconds: float = 0.0
    model_calls: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    error: str = ""


@dataclass(frozen=True)
class StepEvent(_Tokens):
    """One attempt of a step (an activity) starting or ending.

    Attributes:
        run_id: The sagaflow run the step belongs to (a Task sub-agent's steps carry
            the id of the run that started it).
        skill: The skill's name.
        workflow_id: Temporal's workflow id of the workflow that ran the step.
        temporal_run_id: The Temporal execution that ran it.
        build: The worker's build id ("" when unversioned).
        step: The activity's name (``spawn_subagent``, ``write_artifact``, your own...).
        activity_id: Temporal's activity id within the execution.
        attempt: 1 for the first try, 2... for Temporal's retries.
        status: ``RUNNING`` (before_step), ``DONE``, ``FAILED`` or ``CANCELLED``.
        duration_seconds: Wall time of this attempt (0.0 in before_step).
        model: The model a model step used ("" for other steps).
        cost_usd: USD this attempt cost (model steps; a failed call that was billed too).
        input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens:
            Token counts of this attempt (model steps).
        error: The failure ("" unless FAILED or CANCELLED).
        will_retry: A FAILED attempt that Temporal will try again (the failure is
            retryable; the step's retry policy may still give up).
    """

    run_id: str
    skill: str
    workflow_id: str
    temporal_run_id: str
    build: str
    step: str
    activity_id: str
    attempt: int
    status: str
    duration_seconds: float = 0.0
    model: str = ""
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    error: str = ""
    will_retry: bool = False


class Plugin:
    """A base class with a no-op for every hook: override the ones you need.

    Methods may be plain or ``async def``. A plugin need not subclass this: any object
    with at least one of :data:`HOOKS` is accepted.
    """

    def before_run(self, event: RunEvent) -> Any:
        """A run starts."""

    def after_run(self, event: RunEvent) -> Any:
        """A run ended (DONE, FAILED or CANCELLED)."""

    def before_step(self, event: StepEvent) -> Any:
        """An attempt of a step starts."""

    def after_step(self, event: StepEvent) -> Any:
        """An attempt of a step ended."""

    def on_error(self, event: RunEvent | StepEvent) -> Any:
        """A run or a step attempt FAILED (called after after_run / after_step)."""


@dataclass(frozen=True)
class LoadedPlugins:
    """What :func:`load_plugins` found.

    Attributes:
        plugins: ``(name, plugin object)`` pairs, in load order: config specs first, then
            entry points (by name). The name is the spec or ``entry point NAME``.
        problems: One sentence per spec or entry point that could not be loaded, naming
            it and saying how to fix it.
    """

    plugins: tuple[tuple[str, object], ...] = ()
    problems: tuple[str, ...] = ()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _instantiate(target: object) -> object:
    """A class is instantiated without arguments; anything else is the plugin itself."""
    plugin = target() if inspect.isclass(target) else target
    if not any(callable(getattr(plugin, hook, None)) for hook in HOOKS):
        raise TypeError(f"it has none of the hook methods {', '.join(HOOKS)}")
    return plugin


def _from_spec(spec: str) -> object:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name.strip() or not attr.strip():
        raise ValueError("a plugin is named 'module:attr' (for example 'mypkg.audit:AuditPlugin')")
    target: object = importlib.import_module(module_name.strip())
    for part in attr.strip().split("."):
        target = getattr(target, part)
    return _instantiate(target)


def load_plugins(specs: Iterable[str], *, entry_points: bool = True) -> LoadedPlugins:
    """Import and build the plugins named by ``specs`` and (optionally) entry points.

    Args:
        specs: ``"module:attr"`` strings (config.yaml ``plugins:``); duplicates load once.
        entry_points: Also load every entry point of the group :data:`ENTRY_POINT_GROUP`.

    Returns:
        The plugins that loaded and one problem sentence per one that did not; nothing
        raises, so a bad spec never keeps a worker from serving runs.
    """
    loaded: list[tuple[str, object]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        spec = spec.strip()
        if not spec or spec in seen:
            continue
        seen.add(spec)
        try:
            loaded.append((spec, _from_spec(spec)))
        except Exception as exc:  # any import-time error of someone else's code
            problems.append(
                f"Plugin {spec!r} (config.yaml plugins) cannot be loaded ({_first_line(exc)}); "
                "fix or remove it."
            )
    if entry_points:
        from importlib.metadata import entry_points as found

        for point in sorted(found(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
            if point.value in seen:
                continue
            seen.add(point.value)
            try:
                loaded.append((f"entry point {point.name}", _instantiate(point.load())))
            except Exception as exc:
                problems.append(
                    f"Plugin entry point {point.name!r} ({point.value}) cannot be loaded "
                    f"({_first_line(exc)}); fix or uninstall the package that declares it."
                )
    return LoadedPlugins(tuple(loaded), tuple(problems))
