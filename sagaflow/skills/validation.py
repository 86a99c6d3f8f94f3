"""Validating a skill the way the worker will load it: in Temporal's workflow sandbox.

A ``Worker`` validates each workflow class when it is built
(``SandboxedWorkflowRunner.prepare_workflow``: the workflow's module is
re-imported inside the sandbox, where ``datetime.now()``, file or network access
at module level raise). One failing class stops the whole worker from starting,
so every skill is checked here first and a failing one is excluded, with its
reason, from ``skills``, ``doctor``, launches and the worker.

Validation costs an import of ``temporalio.worker`` (hundreds of ms) plus about
20-30 ms per skill, so verdicts are cached per skill under the home
(``cache/skill-validation.json``), keyed by a hash of the skill directory's file
contents and the sagaflow, temporalio and Python versions: an unchanged skill is
never validated twice. Code a skill imports from outside its directory is not
part of the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sagaflow
from sagaflow.paths import Home

if TYPE_CHECKING:
    from temporalio.worker import WorkflowRunner
    from temporalio.worker.workflow_sandbox import SandboxRestrictions

T = TypeVar("T")
CACHE_NAME = "skill-validation.json"
#: modules the workflow sandbox passes through (imported once, shared with the worker)
PASSTHROUGH = ("sagaflow",)


def restrictions() -> SandboxRestrictions:
    """Temporal's default sandbox restrictions with ``sagaflow`` passed through."""
    from temporalio.worker.workflow_sandbox import SandboxRestrictions

    return SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)


def sandbox_runner() -> WorkflowRunner:
    """The sandboxed runner with :func:`restrictions`; the worker uses this one too."""
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

    return SandboxedWorkflowRunner(restrictions=restrictions())


def content_hash(directory: Path) -> str:
    """sha256 of every file under ``directory`` (relative path and bytes) and the versions
    that decide what the sandbox allows."""
    import temporalio

    digest = hashlib.sha256(
        f"{sagaflow.__version__}|{temporalio.__version__}|{sys.version_info[:2]}\n".encode()
    )
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(dirpath, name)
            digest.update(f"{path.relative_to(directory)}\n".encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()


def _in_a_loop(fn: Callable[[], T]) -> T:
    """Call ``fn`` where an event loop runs (the sandbox's instance needs one)."""
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    if running:
        return fn()

    async def call() -> T:
        return fn()

    return asyncio.run(call())


def sandbox_problem(workflow_cls: type, skill_dir: Path) -> str | None:
    """Why ``workflow_cls`` fails the workflow sandbox's validation, or None.

    The message names the exception and, when the traceback passes through the
    skill's own files, the file and line.
    """
    from temporalio import workflow

    defn = workflow._Definition.must_from_class(workflow_cls)
    runner = sandbox_runner()
    try:
        _in_a_loop(lambda: runner.prepare_workflow(defn))
    except Exception as exc:
        cause: BaseException = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        frames = traceback.extract_tb(cause.__traceback__)
        own = [f for f in frames if str(skill_dir) in f.filename]
        where = f" at {Path(own[-1].filename).name}:{own[-1].lineno}" if own else ""
        text = " ".join(str(cause).split())[:300]
        return f"{type(cause).__name__}{where}: {text}"
    return None


class ValidationCache:
    """Verdicts by skill directory and content hash, in one JSON file (best effort)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.data = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.data = {}

    @classmethod
    def for_home(cls) -> ValidationCache:
        try:
            return cls(Home.current().root / "cache" / CACHE_NAME)
        except Exception:  # no usable home: validate every time
            return cls(None)

    def verdict(self, key: str, digest: str) -> tuple[bool, str | None]:
        """``(known, problem)`` for the skill at ``key`` with content ``digest``."""
        entry = self.data.get(key)
        if isinstance(entry, dict) and entry.get("hash") == digest:
            return True, entry.get("problem")
        return False, None

    def record(self, key: str, digest: str, problem: str | None) -> None:
        self.data[key] = {"hash": digest, "problem": problem}
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.data, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: concurrent writers lose a verdict, never the file
        except OSError:
            pass
        self.dirty = False


def validate(workflow_cls: type, skill_dir: Path, cache: ValidationCache) -> str | None:
    """:func:`sandbox_problem` through ``cache`` (keyed by the workflow and the content hash)."""
    key = f"{skill_dir}::{workflow_cls.__module__}.{workflow_cls.__qualname__}"
    digest = content_hash(skill_dir)
    known, problem = cache.verdict(key, digest)
    if not known:
        problem = sandbox_problem(workflow_cls, skill_dir)
        cache.record(key, digest, problem)
    return problem
