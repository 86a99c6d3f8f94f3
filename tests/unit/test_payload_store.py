"""The local payload store (sagaflow._engine.payload_store): what ExternalStorage hands it
is written once per content, atomically, owner-only, and read back or refused clearly."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)

from sagaflow._engine import payload_store
from sagaflow._engine.payload_store import LocalPayloadStore, run_payload_dir
from sagaflow.errors import PayloadStoreError


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def _context(run: str | None = "run-1", namespace: str = "default") -> StorageDriverStoreContext:
    return StorageDriverStoreContext(target=StorageDriverWorkflowInfo(namespace=namespace, id=run))


def _store(store: LocalPayloadStore, *payloads: Payload, run: str | None = "run-1"
           ) -> list[StorageDriverClaim]:
    return asyncio.run(store.store(_context(run), list(payloads)))


def _retrieve(store: LocalPayloadStore, *claims: StorageDriverClaim) -> list[Payload]:
    return asyncio.run(store.retrieve(StorageDriverRetrieveContext(), list(claims)))


def test_store_then_retrieve_round_trips_each_payload_under_its_run(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path / "payloads")
    first, second = _payload('"a"' * 1000), _payload('"b"')
    claims = _store(store, first, second)
    assert _retrieve(store, *claims) == [first, second]
    folder = run_payload_dir(store.root, "default", "run-1")
    assert sorted(p.name for p in folder.iterdir()) == sorted(c.claim_data["sha256"] for c in claims)
    claim = claims[0].claim_data
    assert claim["run"] == "run-1" and claim["size"] == str(first.ByteSize())
    assert claim["path"] == f"default/run-1/{claim['sha256']}"  # relative: the home may move


def test_files_are_owner_only_and_named_by_their_content(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path / "payloads")
    same = [_store(store, _payload("x" * 500))[0] for _ in range(2)]
    assert same[0] == same[1]  # one file, whatever the number of stores
    path = store.path_of(same[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(list(path.parent.iterdir())) == 1


def test_a_missing_file_is_one_error_naming_the_file_and_the_run(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path / "payloads")
    claim = _store(store, _payload("gone"), run="report-42")[0]
    path = store.path_of(claim)
    path.unlink()
    with pytest.raises(PayloadStoreError) as info:
        _retrieve(store, claim)
    message = str(info.value)
    assert str(path) in message and "run report-42" in message and "SAGAFLOW_HOME" in message
    assert "\n" not in message and not info.value.retryable


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path / "payloads")
    claim = _store(store, _payload("intact"))[0]
    store.path_of(claim).write_bytes(b"tampered")
    with pytest.raises(PayloadStoreError, match="is damaged"):
        _retrieve(store, claim)


@pytest.mark.parametrize("claim", [
    {"path": "../../etc/passwd", "sha256": "0" * 64},
    {"path": f"default/run/{'0' * 64}", "sha256": "1" * 64},
    {"path": f"/abs/run/{'0' * 64}", "sha256": "0" * 64},
    {"path": f"default/../{'0' * 64}", "sha256": "0" * 64},
    {},
])
def test_a_claim_that_leaves_the_store_is_malformed(tmp_path: Path, claim: dict[str, str]) -> None:
    with pytest.raises(PayloadStoreError, match="malformed"):
        LocalPayloadStore(tmp_path).path_of(StorageDriverClaim(claim))


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalPayloadStore(tmp_path / "payloads")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(payload_store.os, "fsync", broken_fsync)
    with pytest.raises(PayloadStoreError, match="No space left") as info:
        _store(store, _payload("half"))
    assert info.value.retryable
    folder = run_payload_dir(store.root, "default", "run-1")
    assert list(folder.iterdir()) == []  # neither the blob nor its temporary file


def test_a_reader_never_sees_a_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blob's name appears only once its bytes are complete (written under a
    temporary name, then renamed)."""
    store = LocalPayloadStore(tmp_path / "payloads")
    seen: list[list[str]] = []
    real_replace = os.replace

    def watching_replace(src: str, dst: str) -> None:
        seen.append(sorted(p.name for p in Path(dst).parent.iterdir()))
        real_replace(src, dst)

    monkeypatch.setattr(payload_store.os, "replace", watching_replace)
    claim = _store(store, _payload("y" * 4096))[0]
    assert len(seen) == 1 and all(name.startswith(".tmp-") for name in seen[0])
    assert _retrieve(store, claim)[0].data == b"y" * 4096


def test_unusual_ids_become_safe_single_segments(tmp_path: Path) -> None:
    odd = run_payload_dir(tmp_path, "ns/with/slash", "../../x")
    assert odd.parent.parent == tmp_path and odd.name.startswith("id-")
    assert run_payload_dir(tmp_path, "", "") == tmp_path / "_none" / "_none"
    store = LocalPayloadStore(tmp_path)
    claims = asyncio.run(store.store(StorageDriverStoreContext(target=None), [_payload("z")]))
    assert _retrieve(store, *claims)[0].data == b"z"


def test_forget_run_removes_only_that_runs_payloads(tmp_path: Path) -> None:
    store = LocalPayloadStore(tmp_path)
    kept, gone = _store(store, _payload("k"), run="keep")[0], _store(store, _payload("g"), run="go")[0]
    assert payload_store.forget_run(tmp_path, "default", "go")
    assert not payload_store.forget_run(tmp_path, "default", "go")  # nothing left: False
    assert not store.path_of(gone).exists() and store.path_of(kept).exists()
    assert not payload_store.forget_run(tmp_path, "default", "../..")  # hashed: never escapes
    assert tmp_path.is_dir()
