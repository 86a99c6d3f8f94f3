"""Health checks for ``sagaflow doctor``; none of them makes a billable call."""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sagaflow.config import Settings, load_settings
from sagaflow.errors import SagaflowError
from sagaflow.paths import Home

if TYPE_CHECKING:
    from sagaflow.skills.discovery import LoadedSkills


@dataclass
class Check:
    name: str
    level: str  # OK | WARN | FAIL
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _home(home: Home) -> Check:
    try:
        home.ensure()
        probe = home.root / f".doctor-{os.getpid()}"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except (SagaflowError, OSError) as exc:
        return Check("home", "FAIL", str(exc), "set SAGAFLOW_HOME to a writable directory")
    return Check("home", "OK", str(home.root))


def _permissions(home: Home) -> Check:
    """Whether the home and everything in it is owner-only (0700 / 0600)."""
    from sagaflow.paths import loose_permissions, private_fix

    found, total = loose_permissions(home.root, limit=3)
    if not total:
        return Check("permissions", "OK", "owner-only (directories 0700, files 0600)")
    shown = ", ".join(f"{path} ({mode:04o})" for path, mode in found)
    more = f" and {total - len(found)} more" if total > len(found) else ""
    return Check("permissions", "WARN",
                 f"{total} path(s) others may read: {shown}{more}", f"run: {private_fix(home.root)}")


def _temporal(settings: Settings) -> list[Check]:
    from sagaflow._engine import server
    from sagaflow._engine.client import connect, resolve

    try:
        resolved = resolve(settings)
    except SagaflowError as exc:
        return [Check("temporal", "FAIL", exc.message, "fix the Temporal profile or TEMPORAL_PROFILE")]
    target = resolved.address
    local = server.is_loopback(target)
    if local and not server.answers(target):
        return [Check("temporal", "WARN", f"nothing answers at {target}",
                      "the next launch starts the embedded server, or run 'sagaflow server start'")]

    async def probe() -> tuple[str, list[str], list[str]]:
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
        from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

        from sagaflow._engine.meta import SEARCH_ATTRIBUTES

        client = await connect(settings)
        info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        missing = [n for n in SEARCH_ATTRIBUTES if n not in listed.custom_attributes]
        return str(info.server_version or "unknown version"), missing, await _blocked(client)

    async def _blocked(client: Any) -> list[str]:
        """Open runs whose workflow task fails with a nondeterminism error (one query)."""
        from sagaflow._engine.blocked import blocked_query
        from sagaflow._engine.meta import SA_SKILL

        found = []
        async for wf in client.list_workflows(blocked_query(settings.task_queue), limit=20):
            skill = next((p.value for p in wf.typed_search_attributes if p.key.name == SA_SKILL),
                         wf.workflow_type)
            found.append(f"{wf.id} ({skill})")
        return found

    try:
        version, missing, blocked = asyncio.run(probe())
    except SagaflowError as exc:
        return [Check("temporal", "FAIL", exc.message, "check --address / TEMPORAL_ADDRESS")]
    except Exception as exc:  # an RPC refused (permissions) is a finding, not a crash
        return [Check("temporal", "FAIL", f"{target}: {str(exc)[:160]}", "check the namespace")]
    kind = "embedded/local" if local else "remote"
    checks = [Check("temporal", "OK", f"{target} ({kind}, server {version})")]
    if missing:
        from sagaflow._engine.search_attributes import create_command

        checks.append(Check(
            "search attributes", "WARN", f"not registered yet: {', '.join(missing)}",
            "the next worker start registers them ('sagaflow worker start'); on a remote "
            "cluster without operator rights run: "
            + create_command(resolved.namespace),
        ))
    else:
        checks.append(Check("search attributes", "OK", "SagaflowSkill, State, Waiting, CostUsd"))
    if blocked:
        checks.append(Check(
            "blocked runs", "WARN",
            f"code changed incompatibly under {len(blocked)} open run(s): {', '.join(blocked)}",
            "run 'sagaflow replay-check SKILL', then revert the skill's code and run "
            "'sagaflow upgrade RUN' (it moves the run to that compatible build, where it resumes)",
        ))
    return checks


def _worker(home: Home, settings: Settings, build: str) -> Check:
    """The worker of the working directory's build (other builds' workers serve their runs)."""
    from sagaflow._engine import buildstate, daemon

    pid = buildstate.live_pid(home, build)
    if pid is None:
        return Check("worker", "WARN", f"no worker for this directory's build {build}",
                     "the next launch starts one, or run 'sagaflow worker start'")
    state = buildstate.read_state(home, build) or {}
    if state.get("fingerprint") != daemon.expected_fingerprint(settings, build):
        return Check("worker", "WARN", f"worker pid {pid} runs an outdated sagaflow or settings",
                     "the next launch replaces it, or run 'sagaflow worker start'")
    return Check("worker", "OK", f"pid {pid}, build {build}, task queue {state.get('task_queue')}")


def _pools(home: Home, settings: Settings) -> list[Check]:
    """Running runs whose pool no worker serves (one task-queue check per pool)."""
    from sagaflow._engine import meta
    from sagaflow._engine.client import connect
    from sagaflow.runs import listing
    from sagaflow.runs.pools import waiting_notes

    async def probe() -> tuple[dict[str, int], dict[str, str]]:
        client = await connect(settings)
        query = (f"{listing.scope_clause(settings.task_queue)} AND ExecutionStatus = 'Running' "
                 f"AND WorkflowType != '{meta.SCHEDULED_WORKFLOW}'")
        counts: dict[str, int] = {}
        async for wf in listing.executions(client, query, None):
            counts[wf.task_queue] = counts.get(wf.task_queue, 0) + 1
        return counts, await waiting_notes(client, settings, home, set(counts))

    try:
        counts, notes = asyncio.run(probe())
    except SagaflowError as exc:
        return [Check("pools", "WARN", exc.message, "run 'sagaflow doctor' again")]
    checks = []
    for queue, note in sorted(notes.items()):
        pool = meta.pool_of(queue, settings.task_queue)
        what, _, fix = note.partition("; ")
        runs = counts[queue]
        checks.append(Check(f"pool {pool}", "WARN",
                            f"{runs} running run{'' if runs == 1 else 's'} {what}", fix))
    if counts and not notes:
        checks.append(Check("pools", "OK", "every pool with running runs has a worker"))
    return checks


def _transport(settings: Settings) -> Check:
    from sagaflow.models import choose_transport, has_api_key, preflight

    try:
        name = choose_transport(settings)
        if name != "scripted":
            preflight(name, None)
    except SagaflowError as exc:
        return Check("transport", "FAIL", exc.message,
                     "export ANTHROPIC_API_KEY, install claude, or launch with --transport scripted")
    why = "API key set" if name == "anthropic" and has_api_key() else "configured"
    base = os.environ.get("ANTHROPIC_BASE_URL")
    return Check("transport", "OK", f"{name} ({why}{', base URL ' + base if base else ''})")


def _plugins(settings: Settings) -> list[Check]:
    """Each plugin that cannot be loaded (one line each), and OpenTelemetry's packages."""
    from sagaflow.plugins import load_plugins

    found = load_plugins(settings.plugins)
    checks = [Check("plugins", "WARN", problem, "workers serve runs without it")
              for problem in found.problems]
    if found.plugins:
        checks.append(Check("plugins", "OK", ", ".join(name for name, _ in found.plugins)))
    if settings.otel:
        from sagaflow._engine.otel import check_installed

        try:
            check_installed()
        except SagaflowError as exc:
            checks.append(Check("otel", "FAIL", exc.message, "pip install 'sagaflow[otel]'"))
        else:
            where = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "the OTLP default endpoint"
            checks.append(Check("otel", "OK", f"spans exported to {where}"))
    return checks


def _hook(home: Home) -> Check:
    from sagaflow import hook

    info = hook.status(home)
    if info.get("problem"):
        return Check("hook", "FAIL", str(info["problem"]), f"fix {info['path']}")
    if not info.get("installed"):
        return Check("hook", "WARN", f"not installed in {info['path']}", "run 'sagaflow hook install'")
    if not info.get("current"):
        return Check("hook", "WARN", "installed but outdated", "run 'sagaflow hook install'")
    return Check("hook", "OK", f"installed in {info['path']}")


def _lint(loaded: LoadedSkills) -> list[Check]:
    """``sagaflow lint``'s findings for every skill that loaded (the others are reported
    above): one WARN per skill with findings, naming the first three."""
    from sagaflow.runs.lint import registered_names, report_for

    ok_dirs = {i.dir for i in loaded.infos if i.status == "ok"}
    registered = registered_names(loaded)
    checks, clean = [], 0
    for source in loaded.sources:
        if source.dir not in ok_dirs:
            continue
        try:
            report = report_for(source, loaded, registered, set(loaded.registry.names()))
        except Exception as exc:  # a check that crashes is a finding, never a doctor crash
            checks.append(Check(f"lint {source.dir.name}", "WARN", f"lint failed: {exc}",
                                f"run 'sagaflow lint {source.dir}' (SAGAFLOW_VERBOSE=1 shows the traceback)"))
            continue
        if not report.findings:
            clean += 1
            continue
        lines = report.lines()
        more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
        checks.append(Check(
            f"lint {report.skill}", "WARN",
            f"{report.errors} error(s), {report.warnings} warning(s): "
            + "; ".join(lines[:3]) + more,
            f"run 'sagaflow lint {report.skill}'"
            + (" (errors refuse its launches)" if report.errors else "")))
    if clean and not checks:
        checks.append(Check("lint", "OK", f"no findings in {clean} skill(s)"))
    return checks


def run_checks(home: Home, settings: Settings | None = None) -> list[Check]:
    """Every check, in the order a user would fix them."""
    checks = [_home(home), _permissions(home)]
    try:
        settings = settings or load_settings(home)
    except SagaflowError as exc:
        return [*checks, Check("config", "FAIL", exc.message, f"fix {home.config_file}")]
    checks.append(Check("config", "OK", str(home.config_file) if home.config_file.exists()
                        else "defaults (no config.yaml)"))
    temporal = _temporal(settings)
    checks.extend(temporal)
    from sagaflow.skills.builds import identify
    from sagaflow.skills.discovery import load_skills

    loaded = load_skills()
    broken = [i for i in loaded.infos if i.status == "error"]
    ok = [i.name for i in loaded.infos if i.status == "ok"]
    checks.append(_worker(home, settings, identify(home, loaded.sources)))
    if temporal[0].level == "OK":
        checks.extend(_pools(home, settings))
    checks.append(_transport(settings))
    if broken:
        for info in broken:
            checks.append(Check(f"skill {info.name}", "WARN", info.error or "failed to load",
                                "fix the skill; the others still run"))
    checks.append(Check("skills", "OK" if ok else "WARN", f"{len(ok)} loaded: {', '.join(ok)}"))
    checks.extend(_lint(loaded))
    checks.extend(_plugins(settings))
    checks.append(_hook(home))
    return checks
