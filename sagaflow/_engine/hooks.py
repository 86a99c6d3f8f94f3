"""Calls the loaded plugins' hooks (:mod:`sagaflow.plugins`) outside workflow code.

:class:`Hooks` is built once per worker (by
:class:`~sagaflow._engine.plugin.SagaflowPlugin`). Events are handed to it from two
places and never waited for:

* the workflow interceptor, through a Temporal *extern function*
  (``WorkflowInterceptorClassInput.unsafe_extern_functions``, the SDK's own way out of
  the sandbox, used by its tracing interceptor too): ``before_run`` when a run starts
  and ``after_run`` / ``on_error`` when it ends, only while not replaying, so a history
  replayed after a worker restart fires nothing twice. No command is added to any run;
* the activity interceptor (:mod:`sagaflow._engine.step_hooks`): ``before_step``,
  ``after_step`` and ``on_error`` around every attempt of a run's steps.

A daemon thread of its own runs an asyncio loop that takes the events from a bounded
queue and calls each plugin's hook in turn: ``async`` hooks on that loop, plain ones in
a small thread pool, each bounded by ``timeout`` seconds. A hook that raises or takes
longer is logged (one line, logger ``sagaflow.plugins``); the worker's own loop, the
runs and their steps never wait for a plugin. :meth:`Hooks.drain` (the plugin's
``run_context``, when the worker stops) lets queued events finish, bounded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sagaflow.plugins import HOOKS, RunEvent, StepEvent, load_plugins

if TYPE_CHECKING:
    from sagaflow._engine.otel import Otel
    from sagaflow.config import Settings

log = logging.getLogger("sagaflow.plugins")

#: the extern function name workflow code hands run events to
EXTERN_RUN_EVENT = "__sagaflow_plugin_run_event"
#: events waiting at most; beyond, new ones are dropped (and counted in the log)
QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class _Item:
    hook: str
    event: RunEvent | StepEvent


class Hooks:
    """The worker's loaded plugins and the thread that calls them.

    Args:
        plugins: ``(name, plugin)`` pairs (:attr:`sagaflow.plugins.LoadedPlugins.plugins`).
        timeout: Seconds one hook call may take before it is logged and left behind.
        build: The worker's build id, put into every event ("" when unversioned).
    """

    def __init__(self, plugins: Sequence[tuple[str, object]], *, timeout: float = 5.0,
                 build: str = "") -> None:
        self.plugins = list(plugins)
        self.timeout = timeout
        self.build = build
        self.dropped = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="sagaflow-plugin")

    # -- handing events over (any thread, never blocks) ---------------------------------

    def emit(self, hook: str, event: RunEvent | StepEvent) -> None:
        """Queue ``hook(event)`` for every plugin; returns at once.

        Raises:
            ValueError: ``hook`` is not one of :data:`sagaflow.plugins.HOOKS`.
        """
        if hook not in HOOKS:
            raise ValueError(f"unknown plugin hook {hook!r}; use one of {', '.join(HOOKS)}")
        if not self.plugins:
            return
        loop, queue = self._started()
        loop.call_soon_threadsafe(self._offer, queue, _Item(hook, event))

    def run_event(self, hook: str, event: RunEvent) -> None:
        """The extern function workflow code calls (see the module docstring); adds the
        worker's build, then ``on_error`` after a FAILED run's ``after_run``."""
        event = replace(event, build=self.build)
        self.emit(hook, event)
        if hook == "after_run" and event.status == "FAILED":
            self.emit("on_error", event)

    def _offer(self, queue: asyncio.Queue[_Item], item: _Item) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("plugins are %d events behind; %d event(s) dropped so far",
                            queue.qsize(), self.dropped)

    # -- the plugins' thread --------------------------------------------------------------

    def start(self) -> None:
        """Start the plugins' thread now (the worker starting), not at the first event,
        which may come from a workflow task."""
        if self.plugins:
            self._started()

    def _started(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Item]]:
        with self._lock:
            if self._loop is None or self._queue is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                holder: list[asyncio.Queue[_Item]] = []

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    queue: asyncio.Queue[_Item] = asyncio.Queue(QUEUE_LIMIT)
                    holder.append(queue)
                    self._consumer = loop.create_task(self._consume(queue))
                    ready.set()
                    loop.run_forever()

                threading.Thread(target=serve, name="sagaflow-plugins", daemon=True).start()
                ready.wait()
                self._loop, self._queue = loop, holder[0]
            return self._loop, self._queue

    async def _consume(self, queue: asyncio.Queue[_Item]) -> None:
        while True:
            item = await queue.get()
            try:
                for name, plugin in self.plugins:
                    await self._call(name, plugin, item)
            finally:
                queue.task_done()

    async def _call(self, name: str, plugin: object, item: _Item) -> None:
        fn = getattr(plugin, item.hook, None)
        if not callable(fn):
            return
        where = f"plugin {name}: {item.hook}"
        try:
            if inspect.iscoroutinefunction(fn):
                await asyncio.wait_for(fn(item.event), self.timeout)
                return
            loop = asyncio.get_running_loop()
            # a plain hook runs in the pool: one that blocks holds a pool thread, not this loop
            result = await asyncio.wait_for(
                loop.run_in_executor(self._pool, fn, item.event), self.timeout
            )
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, self.timeout)
        except TimeoutError:
            log.warning("%s took longer than %ss for run %s; left behind (no run waits for it)",
                        where, self.timeout, item.event.run_id)
        except Exception as exc:
            text = (str(exc).strip().splitlines() or [""])[0][:300]
            log.warning("%s raised %s%s (run %s; the run is not affected)", where,
                        type(exc).__name__, f": {text}" if text else "", item.event.run_id)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait (blocking) until the queued events were handed to every plugin.

        Returns:
            True when the queue emptied within ``timeout`` seconds (default: the hook
            timeout), False otherwise.
        """
        if self._loop is None or self._queue is None:
            return True
        future = asyncio.run_coroutine_threadsafe(self._queue.join(), self._loop)
        try:
            future.result(self.timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            log.warning("plugins: %d event(s) not delivered before the worker stopped",
                        self._queue.qsize())
            return False
        return True


def worker_extensions(
    settings: Settings, skills_by_workflow: Mapping[str, str]
) -> tuple[list[tuple[str, object]], Otel | None]:
    """The plugins and OpenTelemetry a worker adds, loaded once when it starts.

    A plugin that cannot be loaded is logged in one line and left out: the worker
    still serves runs.

    Returns:
        ``(plugins, otel)`` for :class:`~sagaflow._engine.plugin.SagaflowPlugin`.

    Raises:
        ConfigError: OpenTelemetry is turned on but ``sagaflow[otel]`` is not installed.
    """
    found = load_plugins(settings.plugins)
    for problem in found.problems:
        log.error("%s The worker serves runs without it.", problem)
    for name, _ in found.plugins:
        log.info("plugin %s loaded", name)
    otel = None
    if settings.otel:
        from sagaflow._engine.otel import setup

        otel = setup(dict(skills_by_workflow))
        log.info("OpenTelemetry spans on")
    return list(found.plugins), otel
