"""Refuse, before anything starts, a run whose input Temporal would refuse.

Temporal rejects a start request whose workflow input or memo is over its blob
size limit (2 MB by default; "Blob data size exceeds limit"), and keeps every
byte of the input in the run's history. The input and the memo (which repeats
the launch arguments) are converted here with the client's payload converter and
measured as they would reach history: a payload the converter's external storage
keeps outside history (:mod:`sagaflow._engine.converter`) counts as its reference
only, and nothing is stored by the check. The error names the largest argument and
says to pass it by path.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sagaflow.errors import UsageError

#: Temporal's default blob size limit (``limit.blobSize.error``), bytes
BLOB_LIMIT_BYTES = 2 * 1024 * 1024


def _largest(value: Any) -> tuple[str, int] | None:
    """The biggest field of a dataclass, pydantic model or mapping and its JSON size, if any."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        value = dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if not isinstance(value, Mapping) or not value:
        return None
    sizes = {str(k): len(json.dumps(v, default=str).encode("utf-8")) for k, v in value.items()}
    name = max(sizes, key=lambda k: sizes[k])
    return name, sizes[name]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


async def check_start_size(
    converter: Any, run_id: str, workflow_input: Any, memo: Mapping[str, Any],
    args: Mapping[str, str], limit: int = BLOB_LIMIT_BYTES,
) -> None:
    """Raise when the encoded input or memo of a run would exceed ``limit`` bytes.

    Args:
        converter: The client's :class:`temporalio.converter.DataConverter`.
        workflow_input: What the skill's ``build_input`` made (one workflow argument).
        memo: The run's memo (skill, arguments, options).
        args: The launch arguments (to name the one that is too big).

    Raises:
        UsageError: one line: what is too big and how to pass it by path instead.
    """
    from sagaflow._engine.converter import inline_size

    for what, value in (("input", [workflow_input]), ("memo", list(memo.values()))):
        payloads = converter.payload_converter.to_payloads(value)
        size = inline_size(converter, payloads)
        if size <= limit:
            continue
        biggest = _largest(args) if what == "memo" else (_largest(workflow_input) or _largest(args))
        culprit = (f"; its largest part is {biggest[0]!r} ({_mb(biggest[1])})"
                   if biggest else "")
        raise UsageError(
            f"Run {run_id} cannot start: its {what} is {_mb(size)}, over the "
            f"{_mb(limit)} Temporal accepts{culprit}. Pass large content by path: write it "
            "to a file and give the skill the file's path instead of its content."
        )
