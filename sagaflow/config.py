"""Settings: the home's ``config.yaml`` overlaid with environment variables.

Example ``config.yaml`` (every key optional)::

    temporal:                      # where: see sagaflow._engine.client.resolve for precedence
      address: localhost:7233      # TEMPORAL_ADDRESS, --address
      namespace: default           # TEMPORAL_NAMESPACE, --namespace
      profile: null                # TEMPORAL_PROFILE, --profile (Temporal envconfig profile:
                                   # address, namespace, TLS, API key)
      task_queue: sagaflow         # SAGAFLOW_TASK_QUEUE
      embedded: true               # SAGAFLOW_EMBEDDED=0: never start a local dev server
    transport: auto                # SAGAFLOW_TRANSPORT: auto|anthropic|claude|scripted
    models:                        # SAGAFLOW_MODEL_HAIKU / _SONNET / _OPUS
      HAIKU: claude-haiku-4-5
      SONNET: claude-sonnet-4-5
      OPUS: claude-opus-4-5
    timeouts:
      heartbeat_seconds: 3         # cap on heartbeat timeouts of model calls
      worker_shutdown_seconds: 15  # graceful drain on SIGTERM
      worker_idle_seconds: 600     # a build worker neither current nor running any open
                                   # run exits after this long (SAGAFLOW_WORKER_IDLE_SECONDS)
      server_start_seconds: 30
      plugin_seconds: 5            # a plugin hook slower than this is logged and left behind
      steps:                       # per-step (activity) timeouts in seconds, over the skill's
        spawn_subagent: 600
        hello-world/spawn_subagent: 120   # for one skill only
    artifacts:
      allowed_roots: [~/reports]   # where runs may write besides their run directory
                                   # (absolute; fixed per run when it is launched)
    slack:
      webhook_url: https://hooks.slack.com/services/...  # SAGAFLOW_SLACK_WEBHOOK_URL: where
                                   # report_slack_progress / deliver_artifact_to_slack post
                                   # (unset: recorded in the run's slack.jsonl only)
    permissions:                   # tool rules for SKILL.md skills, Claude Code's syntax,
      allow: ["Bash(npm run test:*)"]   # merged with Claude Code's settings files
      ask: []
      deny: ["Bash(rm:*)"]
    plugins: ["mypkg.audit:AuditPlugin"]   # SAGAFLOW_PLUGINS (comma-separated): sagaflow.plugins
                                   # objects every worker loads (entry points too)
    otel: false                    # SAGAFLOW_OTEL=1: OpenTelemetry spans, exported by the
                                   # OTEL_* variables (needs pip install 'sagaflow[otel]')
    payloads:
      store_above_kib: 64          # SAGAFLOW_PAYLOAD_STORE_KIB: a workflow or activity input,
                                   # result, signal or memo field at least this big (KiB,
                                   # after encoding) is kept in <home>/payloads and history
                                   # holds a reference; "off": keep every payload in history
    prices:                        # USD per million tokens, merged over the defaults
      claude-sonnet-4-5: {input: 3, output: 15, cache_write: 3.75, cache_read: 0.3}
      my-model: {input: 1, output: 5}   # cache_* default to 1.25x / 0.1x input
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from sagaflow.errors import ConfigError
from sagaflow.paths import Home
from sagaflow.pricing import DEFAULT_PRICES, Price, price_table

TIERS = ("HAIKU", "SONNET", "OPUS")
TRANSPORTS = ("auto", "anthropic", "claude", "scripted")
DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"
#: ``payloads.store_above_kib``'s default. Temporal warns at 256 KB per payload and refuses
#: 2 MB, and every ``show``, ``tail``, replay and worker cache miss reads the whole history
#: (50 MB cap): 64 KiB keeps ordinary prompts and replies (a 4,096-token reply is about
#: 16 KiB) in history, readable in Temporal's UI, while a 100-step run of large documents
#: stays a few hundred KB instead of tens of MB.
DEFAULT_PAYLOAD_STORE_KIB = 64
DEFAULT_MODELS = {
    "HAIKU": "claude-haiku-4-5",
    "SONNET": "claude-sonnet-4-5",
    "OPUS": "claude-opus-4-5",
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, already merged from file and environment.

    ``address`` / ``namespace`` are sagaflow's own choice (flag, environment, config.yaml,
    else the default); ``*_from_user`` says whether one of those set it. Where sagaflow
    really connects also depends on the Temporal envconfig profile: use
    ``sagaflow._engine.client.resolve``.
    """

    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    profile: str | None = None
    task_queue: str = "sagaflow"
    transport: str = "auto"
    models: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    heartbeat_seconds: float = 3.0
    worker_shutdown_seconds: float = 15.0
    worker_idle_seconds: float = 600.0
    server_start_seconds: float = 30.0
    address_from_user: bool = False
    namespace_from_user: bool = False
    embedded: bool = True
    prices: dict[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    step_timeouts: dict[str, float] = field(default_factory=dict)
    artifact_roots: tuple[str, ...] = ()
    slack_webhook_url: str = ""
    #: ``permissions:`` allow/ask/deny rule lists (sagaflow.agent.permissions)
    permissions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``plugins:`` "module:attr" specs (:mod:`sagaflow.plugins`), loaded by every worker
    plugins: tuple[str, ...] = ()
    #: a plugin hook slower than this many seconds is logged and left behind
    plugin_seconds: float = 5.0
    #: OpenTelemetry spans (``otel:`` / ``SAGAFLOW_OTEL``; :mod:`sagaflow._engine.otel`)
    otel: bool = False
    #: payloads of at least this many bytes are stored outside history
    #: (``payloads.store_above_kib``); None: never (sagaflow._engine.converter)
    payload_store_bytes: int | None = DEFAULT_PAYLOAD_STORE_KIB * 1024

    def step_timeouts_for(self, skill: str) -> dict[str, float]:
        """Activity name -> timeout seconds for ``skill`` (skill-specific keys win)."""
        chosen = {k: v for k, v in self.step_timeouts.items() if "/" not in k}
        prefix = f"{skill}/"
        chosen.update({
            k[len(prefix):]: v for k, v in self.step_timeouts.items() if k.startswith(prefix)
        })
        return chosen

    def model_for(self, tier: str) -> str:
        """Model id for a tier; an unknown tier is an error, never an upgrade."""
        key = tier.upper()
        if key not in self.models:
            raise ConfigError(
                f"Unknown model tier {tier!r}; use one of {', '.join(sorted(self.models))} "
                "(or add it under 'models:' in config.yaml)."
            )
        return self.models[key]

    def with_overrides(self, **changes: Any) -> Settings:
        """Copy with CLI-level overrides applied (None values are ignored)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        if "address" in clean:
            clean["address_from_user"] = True
        if "namespace" in clean:
            clean["namespace_from_user"] = True
        return replace(self, **clean)


def _read_file(home: Home) -> dict[str, Any]:
    path = home.config_file
    if not path.exists():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"Cannot read {path}: {first}. Fix or delete the file.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings; fix or delete the file.")
    return data


def _section(data: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"'{name}' in {path} must be a mapping; fix the file.")
    return value


def _number(value: Any, key: str, path: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"'{key}' in {path} must be a number, not {value!r}.") from None
    if number <= 0:
        raise ConfigError(f"'{key}' in {path} must be positive, not {value!r}.")
    return number


def _roots(section: dict[str, Any], path: str) -> tuple[str, ...]:
    """``artifacts.allowed_roots``: absolute directories (``~`` expanded), as given."""
    raw = section.get("allowed_roots") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError(f"'artifacts.allowed_roots' in {path} must be a list of directories.")
    roots = []
    for item in raw:
        root = os.path.expanduser(str(item))
        if not os.path.isabs(root):
            raise ConfigError(
                f"'artifacts.allowed_roots' in {path} holds {item!r}; give absolute directories."
            )
        roots.append(os.path.normpath(root))
    return tuple(roots)


def _permissions(section: dict[str, Any], path: str) -> dict[str, tuple[str, ...]]:
    """``permissions.allow/ask/deny``: lists of rule strings (checked when a run loads them)."""
    found = {}
    for key, value in section.items():
        if key not in ("allow", "ask", "deny"):
            raise ConfigError(f"'permissions.{key}' in {path} is unknown; use allow, ask and deny.")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'permissions.{key}' in {path} must be a list of rule strings.")
        found[str(key)] = tuple(value)
    return found


def _plugins(env_value: str | None, file_value: Any, path: str) -> tuple[str, ...]:
    """``plugins:`` (or ``SAGAFLOW_PLUGINS``, comma-separated): "module:attr" strings."""
    if env_value:
        return tuple(s.strip() for s in env_value.split(",") if s.strip())
    raw = file_value or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ConfigError(f"'plugins' in {path} must be a list of \"module:attr\" strings.")
    return tuple(s.strip() for s in raw if s.strip())
def _store_bytes(env_value: str | None, section: dict[str, Any], path: str) -> int | None:
    """``payloads.store_above_kib`` (or ``SAGAFLOW_PAYLOAD_STORE_KIB``) in bytes; None: off."""
    unknown = sorted(str(k) for k in section if k != "store_above_kib")
    if unknown:
        raise ConfigError(f"'payloads.{unknown[0]}' in {path} is unknown; use store_above_kib.")
    raw: Any = env_value if env_value else section.get("store_above_kib", DEFAULT_PAYLOAD_STORE_KIB)
    if raw is False or (isinstance(raw, str) and raw.strip().lower() in ("off", "false", "no")):
        return None
    if env_value:
        return int(_number(raw, "SAGAFLOW_PAYLOAD_STORE_KIB", "the environment") * 1024)
    return int(_number(raw, "payloads.store_above_kib", path) * 1024)


def _flag(env_value: str | None, file_value: Any) -> bool:
    if env_value is not None and env_value != "":
        return env_value.strip().lower() not in ("0", "false", "no", "off")
    return bool(file_value)


def load_settings(home: Home | None = None) -> Settings:
    """Load settings for ``home`` (default: the current home)."""
    home = home or Home.current()
    data = _read_file(home)
    path = str(home.config_file)
    temporal = _section(data, "temporal", path)
    timeouts = _section(data, "timeouts", path)
    models = dict(DEFAULT_MODELS)
    for tier, model in _section(data, "models", path).items():
        models[str(tier).upper()] = str(model)
    env = os.environ
    for tier in list(models):
        if env.get(f"SAGAFLOW_MODEL_{tier}"):
            models[tier] = env[f"SAGAFLOW_MODEL_{tier}"]

    address = env.get("TEMPORAL_ADDRESS") or temporal.get("address")
    namespace = env.get("TEMPORAL_NAMESPACE") or temporal.get("namespace")
    transport = str(env.get("SAGAFLOW_TRANSPORT") or data.get("transport") or "auto").lower()
    if transport not in TRANSPORTS:
        raise ConfigError(
            f"Unknown transport {transport!r}; use one of {', '.join(TRANSPORTS)}."
        )
    defaults = Settings()
    return Settings(
        address=str(address or DEFAULT_ADDRESS),
        namespace=str(namespace or DEFAULT_NAMESPACE),
        profile=env.get("TEMPORAL_PROFILE") or temporal.get("profile"),
        task_queue=str(env.get("SAGAFLOW_TASK_QUEUE") or temporal.get("task_queue") or "sagaflow"),
        transport=transport,
        models=models,
        heartbeat_seconds=_number(
            timeouts.get("heartbeat_seconds", defaults.heartbeat_seconds),
            "timeouts.heartbeat_seconds", path,
        ),
        worker_shutdown_seconds=_number(
            timeouts.get("worker_shutdown_seconds", defaults.worker_shutdown_seconds),
            "timeouts.worker_shutdown_seconds", path,
        ),
        worker_idle_seconds=_number(
            os.environ.get("SAGAFLOW_WORKER_IDLE_SECONDS")
            or timeouts.get("worker_idle_seconds", defaults.worker_idle_seconds),
            "timeouts.worker_idle_seconds", path,
        ),
        server_start_seconds=_number(
            timeouts.get("server_start_seconds", defaults.server_start_seconds),
            "timeouts.server_start_seconds", path,
        ),
        address_from_user=bool(address),
        namespace_from_user=bool(namespace),
        embedded=_flag(env.get("SAGAFLOW_EMBEDDED"), temporal.get("embedded", True)),
        prices=price_table(_section(data, "prices", path), source=path),
        step_timeouts={
            str(k): _number(v, f"timeouts.steps.{k}", path)
            for k, v in _section(timeouts, "steps", path).items()
        },
        artifact_roots=_roots(_section(data, "artifacts", path), path),
        slack_webhook_url=str(
            env.get("SAGAFLOW_SLACK_WEBHOOK_URL")
            or _section(data, "slack", path).get("webhook_url") or ""
        ).strip(),
        permissions=_permissions(_section(data, "permissions", path), path),
        plugins=_plugins(env.get("SAGAFLOW_PLUGINS"), data.get("plugins"), path),
        plugin_seconds=_number(
            timeouts.get("plugin_seconds", defaults.plugin_seconds), "timeouts.plugin_seconds", path
        ),
        otel=_flag(env.get("SAGAFLOW_OTEL"), data.get("otel", False)),
        payload_store_bytes=_store_bytes(
            env.get("SAGAFLOW_PAYLOAD_STORE_KIB"), _section(data, "payloads", path), path
        ),
    )
