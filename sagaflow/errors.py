"""The one exception tree of sagaflow.

Every error is a complete, user-facing sentence that says what is wrong and
how to fix it, plus a flag telling Temporal whether retrying could help::

    SagaflowError
    ├── UsageError            bad command-line input (exit 2)
    │   ├── UnknownSkillError
    │   └── SkillArgumentError
    ├── ConfigError           unreadable config file or setting
    ├── HomeError             the sagaflow home is not usable
    │   └── ConfinementError  a path a run writes or reads leaves its allowed places
    ├── SkillLoadError        a skill failed to import or register
    ├── PromptError           a prompt is missing or has an undefined $variable
    ├── TransportError        no way to call a model is configured
    ├── ModelError            a model call failed (retryable or not)
    │   └── SchemaOutputError a reply broke its output_schema after the repair turn
    ├── TemporalError         Temporal is unreachable or refused a request
    │   └── RunNotFoundError
    ├── ServerError           the embedded Temporal server would not start/stop
    ├── WorkerError           the worker daemon would not start/stop
    ├── BuildError            a build's snapshot cannot be written or read
    ├── PayloadStoreError     a payload stored outside history cannot be written or read
    ├── InboxError            INBOX.md could not be read or written
    └── HookError             Claude Code settings could not be changed safely
"""

from __future__ import annotations


class SagaflowError(Exception):
    """Root of every error sagaflow raises on purpose.

    Attributes:
        message: One line saying what is wrong and how to fix it.
        retryable: Whether Temporal should retry the activity that raised it.
        exit_code: The process exit code the CLI uses for it.
    """

    exit_code = 1
    retryable = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class UsageError(SagaflowError):
    """The command line asked for something invalid."""

    exit_code = 2


class UnknownSkillError(UsageError):
    """No skill by that name is discoverable."""


class SkillArgumentError(UsageError):
    """A skill argument is missing, unknown or malformed."""


class ConfigError(SagaflowError):
    """The config file or an environment setting is invalid."""


class HomeError(SagaflowError):
    """The sagaflow home directory cannot be created or written."""


class ConfinementError(HomeError):
    """A file a run writes (or a prompt it reads) resolves outside the run directory
    and every root the user allowed (``artifacts: allowed_roots`` in config.yaml)."""


class SkillLoadError(SagaflowError):
    """A skill failed to import or to register itself."""


class PromptError(SagaflowError):
    """A prompt file is missing or refers to an undefined variable."""


class TransportError(SagaflowError):
    """No model transport is usable."""


class ModelError(SagaflowError):
    """A model call failed.

    Attributes:
        status: The HTTP status code, when there was one.
        retry_after: Seconds the provider asked us to wait, when it said.
        paid_usd: USD already billed for this step's attempts whose replies could
            not be used (set by the model step; None when nothing was billed).
        stop_reason: Why the model stopped, when a reply arrived but could not be the
            step's result (``refusal``, ``max_tokens``...; "" otherwise): ``show`` names it.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.retry_after = retry_after
        self.paid_usd: float | None = None
        self.stop_reason = ""


class SchemaOutputError(ModelError):
    """A model step's reply does not satisfy its ``output_schema``, even after the
    repair turn (never retried: a fresh sample would be paid for the same mistake)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class TemporalError(SagaflowError):
    """Temporal could not be reached or refused a request."""

    retryable = True


class RunNotFoundError(TemporalError):
    """No run with that id exists."""

    retryable = False


class ServerError(SagaflowError):
    """The embedded Temporal dev server could not be managed."""


class WorkerError(SagaflowError):
    """The worker daemon could not be started or stopped."""


class BuildError(SagaflowError):
    """A build's snapshot of skill files could not be written, or is missing."""


class PayloadStoreError(SagaflowError):
    """A payload stored outside a run's history (``<home>/payloads``) is missing, damaged
    or cannot be written."""


class InboxError(SagaflowError):
    """INBOX.md could not be read or written."""


class HookError(SagaflowError):
    """Claude Code's settings could not be changed safely."""
