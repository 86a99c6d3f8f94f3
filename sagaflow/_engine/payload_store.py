"""Large payloads outside history: a local-directory ``StorageDriver`` under the home.

temporalio 1.35's :class:`temporalio.converter.ExternalStorage` (experimental) hands every
encoded payload at or above a size threshold to a driver and writes only the driver's
claim into history (a ``json/protobuf`` ``ExternalStorageReference`` payload of about 200
bytes). :class:`LocalPayloadStore` is that driver for one sagaflow home::

    <home>/payloads/<namespace>/<run id>/<sha256 of the payload>

* content-addressed: the file name is the SHA-256 of the serialized ``Payload``, so the
  same payload stored twice (a retried activity, a replayed workflow task) is one file,
  and a file that does not hash to its name is refused on read;
* grouped by run (the workflow the payload belongs to, as the SDK's store context names
  it: a workflow's own activities and its result store under the workflow; a child's
  input under the child), so ``purge`` deletes a run's payloads with it
  (:func:`run_payload_dir`);
* written atomically: a temporary file in the same directory, ``fsync``, then
  ``os.replace``; a reader never sees a half-written file, a crash leaves at most a
  ``.tmp-*`` file, never a truncated blob; files are ``0600``, directories ``0700``.

The claim (``claim_data``, written into history) holds the path relative to the store
root, the digest and the run, never an absolute path, so a home can move. Retrieval
refuses a claim whose path leaves the store. A missing or damaged file raises
:class:`~sagaflow.errors.PayloadStoreError` naming the file and the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
)

from sagaflow.errors import PayloadStoreError

#: the driver's name, written into every reference in history: never change it
DRIVER_NAME = "sagaflow-local"
#: directory for payloads whose store context names no workflow (a client's own encode)
UNTARGETED = "_none"
#: a path segment used as is; anything else (or longer than 200) is hashed. Patterns, not
#: compiled objects: ``re`` compiles (and caches) them on first use, which ``launch``,
#: importing this module through every client, seldom reaches
_SAFE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"
_DIGEST = r"[0-9a-f]{64}"


def _segment(value: str | None) -> str:
    """``value`` as one safe path segment: itself when it is a plain name, else a hash."""
    if not value:
        return UNTARGETED
    if re.fullmatch(_SAFE, value):
        return value
    return "id-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def run_payload_dir(root: Path, namespace: str, run_id: str) -> Path:
    """Where the payloads of run ``run_id`` in ``namespace`` live under store ``root``."""
    return root / _segment(namespace) / _segment(run_id)


def forget_run(root: Path, namespace: str, run_id: str) -> bool:
    """Delete the run's stored payloads (``purge``); False when it had none.

    Raises:
        OSError: The directory exists but cannot be removed.
    """
    import shutil

    folder = run_payload_dir(root, namespace, run_id)
    if not folder.is_dir() or folder.is_symlink():
        return False
    shutil.rmtree(folder)
    return True


def _write_atomically(folder: Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``folder/name`` so that no reader ever sees a partial file."""
    target = folder / name
    if target.exists():  # content-addressed: the same name is the same bytes
        return
    import tempfile  # here: ``launch`` imports this module and rarely stores a payload

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class LocalPayloadStore(StorageDriver):
    """A :class:`temporalio.converter.StorageDriver` over a directory of files.

    Args:
        root: The store's directory (``<home>/payloads``); created on first store.

    Claims: ``{"path": "<ns>/<run>/<sha256>", "sha256": hex digest, "run": workflow id,
    "size": bytes}``; every value a string (Temporal's ``claim_data`` is ``map<string,
    string>``).

    Raises (from :meth:`retrieve`):
        PayloadStoreError: The claim is malformed or points outside the store, or the file
            is missing, unreadable or does not hash to its name (non-retryable).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def name(self) -> str:
        return DRIVER_NAME

    def type(self) -> str:
        return "sagaflow.LocalPayloadStore"

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        """Write each payload (once per content) and return its claim."""
        target = context.target
        namespace = target.namespace if target is not None else ""
        run = (target.id or "") if target is not None else ""
        folder = run_payload_dir(self.root, namespace, run)
        claims: list[StorageDriverClaim] = []
        writes: list[tuple[str, bytes]] = []
        for payload in payloads:
            data = payload.SerializeToString(deterministic=True)
            digest = hashlib.sha256(data).hexdigest()
            writes.append((digest, data))
            claims.append(StorageDriverClaim({
                "path": str(folder.relative_to(self.root) / digest), "sha256": digest,
                "run": run, "size": str(len(data)),
            }))
        await asyncio.to_thread(self._write_all, folder, writes)
        return claims

    def _write_all(self, folder: Path, writes: Sequence[tuple[str, bytes]]) -> None:
        for digest, data in writes:
            try:
                _write_atomically(folder, digest, data)
            except OSError as exc:
                raise PayloadStoreError(
                    f"Cannot store a payload in {folder / digest}: {exc.strerror or exc}; "
                    "free disk space or fix the permissions of the sagaflow home.",
                    retryable=True,
                ) from exc

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        """Read back the payload of each claim (see the class docstring for errors)."""
        return await asyncio.to_thread(lambda: [self._read(c) for c in claims])

    def path_of(self, claim: StorageDriverClaim) -> Path:
        """The file a claim names (checked to stay inside the store).

        Raises:
            PayloadStoreError: The claim has no usable path or digest.
        """
        data = claim.claim_data
        rel, digest = data.get("path", ""), data.get("sha256", "")
        parts = Path(rel).parts
        if (not re.fullmatch(_DIGEST, digest) or len(parts) != 3 or parts[2] != digest
                or not all(re.fullmatch(_SAFE, p) or p == UNTARGETED for p in parts[:2])):
            raise PayloadStoreError(
                f"A payload reference of run {data.get('run') or '(unknown)'} is malformed "
                f"({dict(data)!r}); it was not written by this sagaflow version's payload store."
            )
        return self.root / rel

    def _read(self, claim: StorageDriverClaim) -> Payload:
        path = self.path_of(claim)
        run = claim.claim_data.get("run") or "(unknown)"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise PayloadStoreError(
                f"Payload file {path} of run {run} is missing (it was stored outside the "
                "run's history and has been deleted, or this is not the sagaflow home the "
                "run was started from); set SAGAFLOW_HOME to that home, or purge the run."
            ) from None
        except OSError as exc:
            raise PayloadStoreError(
                f"Cannot read payload file {path} of run {run}: {exc.strerror or exc}; "
                "fix the permissions of the sagaflow home.", retryable=True,
            ) from exc
        if hashlib.sha256(data).hexdigest() != claim.claim_data["sha256"]:
            raise PayloadStoreError(
                f"Payload file {path} of run {run} is damaged (its content does not match "
                "its name); restore it from a backup or purge the run."
            )
        return Payload.FromString(data)
