"""``output_schema`` on ``spawn_subagent``: JSON replies validated with ``jsonschema``.

The step asks for JSON (the schema is appended to the system prompt), finds the JSON
value in the reply (:func:`extract_json`: the whole text, else the last fenced code
block, else the outermost ``{...}``), and validates it against the schema with the
``jsonschema`` library (the validator class the schema's ``$schema`` names, Draft 2020-12
by default). On a violation it spends exactly one repair turn: the same model is shown
its reply and the violation and asked for the corrected JSON. A second violation raises
:class:`~sagaflow.errors.SchemaOutputError` (not retryable) naming it.

The skill receives the object's top-level fields as ``dict[str, str]`` (values that are
not strings as JSON text), the shape sagaflow 0.10 skills read (``int(out["COUNT"])``,
``json.loads(out["ITEMS"])``); a schema whose top level is not an object is delivered as
``{"JSON": <the value as JSON text>}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sagaflow.errors import SchemaOutputError
from sagaflow.models import ModelReply

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# jsonschema is imported on first use (100+ ms): a worker whose runs never pass an
# output_schema does not pay for it at start

_FENCE = re.compile(r"```(?:json)?[ \t]*\n(.*?)\n?```", re.DOTALL)
_MAX_SHOWN = 4000  # characters of the bad reply quoted back in the repair turn


def check_schema(schema: dict[str, Any]) -> None:
    """Refuse a schema that is not one (before any model call is paid for).

    Raises:
        SchemaOutputError: naming where the schema is invalid.
    """
    import jsonschema
    from jsonschema.exceptions import SchemaError

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top level)"
        raise SchemaOutputError(
            f"The step's output_schema is not a valid JSON schema at {where}: {exc.message}; "
            "fix the schema in the skill."
        ) from None


def instruction(schema: dict[str, Any]) -> str:
    """What the system prompt gains: the schema and the answer format."""
    return (
        "\n\n--- OUTPUT FORMAT ---\nAnswer with one JSON value that satisfies this JSON "
        "schema, and nothing else (no prose, no markdown fences):\n"
        + json.dumps(schema, indent=2)
    )


def extract_json(text: str) -> tuple[Any, str | None]:
    """The JSON value in a reply, and None; or None and why none was found."""
    stripped = text.strip()
    candidates = [stripped]
    fences = _FENCE.findall(stripped)
    if fences:
        candidates.append(fences[-1].strip())
    first, last = stripped.find("{"), stripped.rfind("}")
    if 0 <= first < last:
        candidates.append(stripped[first : last + 1])
    error = "the reply is empty"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return json.loads(candidate), None
        except json.JSONDecodeError as exc:
            error = f"the reply is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    return None, error


def violation(value: Any, schema: dict[str, Any]) -> str | None:
    """The first (most relevant) schema violation of ``value``, as one phrase, or None."""
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    best = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if best is None:
        return None
    return _describe(best)


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    return f"at {where}: {error.message}" if where else error.message


def problem_of(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """``(value, None)`` for a reply whose JSON satisfies ``schema``, else ``(None, why)``."""
    value, error = extract_json(text)
    if error is not None:
        return None, error
    wrong = violation(value, schema)
    return (None, f"the JSON does not match the schema ({wrong})") if wrong else (value, None)


def repair_prompt(user: str, reply: str, why: str) -> str:
    """The repair turn's user message: the task, the bad reply, what is wrong."""
    shown = reply if len(reply) <= _MAX_SHOWN else reply[:_MAX_SHOWN] + "\n[…cut]"
    return (
        f"{user}\n\n--- YOUR PREVIOUS REPLY ---\n{shown}\n\n--- REPAIR ---\n"
        f"Your previous reply was rejected: {why}. Reply again with only the corrected JSON "
        "value that satisfies the schema in the instructions."
    )


def as_output(value: Any) -> dict[str, str]:
    """What the skill receives (see the module docstring)."""
    if not isinstance(value, dict):
        return {"JSON": json.dumps(value)}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def final_error(role: str, why: str, response: str) -> SchemaOutputError:
    """The step's failure after the repair turn also missed the schema."""
    return SchemaOutputError(
        f"The model's reply for role {role or '?'} broke its output_schema twice (the repair "
        f"turn too): {why}; loosen the schema or make the prompt state it (the replies are in "
        f"{response})."
    )


async def ask_with_schema(
    ask: Callable[[str], Awaitable[ModelReply]], user: str, schema: dict[str, Any],
    first: ModelReply, keep_rejected: Callable[[str], Awaitable[None]],
) -> tuple[ModelReply, dict[str, str] | None, str | None]:
    """Validate ``first``; on a violation spend the one repair turn.

    Args:
        ask: One more model call with the given user message (same model and system).
        user: The step's user message.
        schema: The (checked) output schema.
        first: The step's first reply (already judged usable as a reply).
        keep_rejected: Saves a rejected reply's text in the run directory.

    Returns:
        ``(reply, output, None)`` when valid, else ``(reply, None, why)``; ``reply`` is
        the last reply with the usage of both calls added up.
    """
    value, why = problem_of(first.text, schema)
    if why is None:
        return first, as_output(value), None
    await keep_rejected(first.text)
    second = await ask(repair_prompt(user, first.text, why))
    usage = {k: int(first.usage.get(k) or 0) + int(second.usage.get(k) or 0)
             for k in {*first.usage, *second.usage}}
    merged = replace(second, usage=usage)
    value, why = problem_of(second.text, schema)
    return merged, (as_output(value) if why is None else None), why
