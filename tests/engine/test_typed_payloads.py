"""Typed payloads and large payloads out of history, through a real worker in process.

The ``typed-review`` test skill (tests/skills/typed-review) takes a pydantic model as its
input, hands it to its activity, gets a list of models back and returns a model. With
``--file`` its input (and its result, which echoes the file) is as big as the file: at
200 KB both leave history for ``<home>/payloads`` and history holds references.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import Engine
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from sagaflow._engine.converter import is_stored_reference, rebind
from sagaflow._engine.payload_store import run_payload_dir
from sagaflow.errors import PayloadStoreError
from sagaflow.runs.historyfold import HistoryFold

DOCUMENT = ("durable execution keeps long agent workflows alive " * 4000)[:200_000]


async def _fold(e: Engine, run_id: str) -> HistoryFold:
    """What ``show`` computes from the run's history (with the client's converter)."""
    fold = HistoryFold(e.client.data_converter, run_id)
    for event in (await e.client.get_workflow_handle(run_id).fetch_history()).events:
        await fold.feed(event)
    return fold


def _started_input(events: list[Any]) -> Any:
    return events[0].workflow_execution_started_event_attributes.input.payloads[0]


def test_a_pydantic_skill_runs_with_models_in_and_out(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        handle = await e.launch("typed-review", {"topic": "durable"})
        result = await handle.result()
        assert result["topic"] == "durable" and result["words"] == 0
        assert result["scores"] == [{"name": "clarity", "value": 7.0},
                                    {"name": "depth", "value": 3.5}]
        from skills.typed_review.models import ReviewResult  # the skill's own model

        typed = await e.client.get_workflow_handle(handle.id, result_type=ReviewResult).result()
        assert isinstance(typed, ReviewResult) and typed.finished_at.tzinfo is not None
        assert typed.model_dump(mode="json") == result
        events = await e.events(handle)
        assert not is_stored_reference(_started_input(events))  # small: stays in history
        [scheduled] = await e.scheduled(handle, "score_review")
        assert b'"topic":"durable"' in scheduled.input.payloads[0].data
        entry = await e.entry(handle.id, "DONE")  # the inbox gets the model as JSON
        assert '"topic": "durable"' in entry.summary and "ReviewResult(" not in entry.summary
        fold = await _fold(e, handle.id)
        assert fold.run["status"] == "completed" and fold.run["result"] == result
        replayed = await e.replayer().replay_workflow(await handle.fetch_history(),
                                                      raise_on_replay_failure=False)
        assert replayed.replay_failure is None

    engine.run(scenario)


def test_a_200_kb_input_and_result_are_stored_outside_history(engine: Engine) -> None:
    async def scenario(e: Engine) -> None:
        doc = e.root / "doc.txt"
        doc.write_text(DOCUMENT, encoding="utf-8")
        handle = await e.launch("typed-review", {"topic": "big", "file": str(doc)})
        result = await handle.result()
        assert result["echo"] == DOCUMENT and result["words"] == len(DOCUMENT.split())
        events = await e.events(handle)
        started = _started_input(events)
        assert is_stored_reference(started) and started.ByteSize() < 1024
        assert b"durable execution" not in started.data  # a reference, not the text
        assert started.external_payloads[0].size_bytes > 200_000
        [scheduled] = await e.scheduled(handle, "score_review")  # the activity's input too
        assert is_stored_reference(scheduled.input.payloads[0])
        [done] = await e.events(handle, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
        assert is_stored_reference(done.workflow_execution_completed_event_attributes.result.payloads[0])
        history = await handle.fetch_history()
        assert sum(ev.ByteSize() for ev in history.events) < 20_000  # vs > 600 KB inline
        folder = run_payload_dir(e.home.payloads, e.client.namespace, handle.id)
        blobs = sorted(folder.iterdir())
        assert len(blobs) == 2  # input (= the activity's input: same content) and result
        fold = await _fold(e, handle.id)  # show decodes the references
        assert fold.run["result"]["echo"] == DOCUMENT
        replayed = await e.replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert replayed.replay_failure is None

        for blob in blobs:  # the files are gone: show still works and says why
            blob.unlink()
        fold = await _fold(e, handle.id)
        note = fold.run["result"]
        assert note.startswith("(stored outside history: 195.") and str(folder) in note
        assert f"run {handle.id}" in note and "is missing" in note
        with pytest.raises(PayloadStoreError, match=f"Payload file {folder}/.* of run {handle.id}"):
            await handle.result()  # anything else that decodes it: the one error

    engine.run(scenario)


def test_a_worker_on_a_client_with_another_converter_uses_sagaflows(engine: Engine) -> None:
    """The plugin gives the worker a copy of its client with sagaflow's converter, so a
    pydantic run decodes even when the caller connected with Temporal's default."""
    async def scenario(e: Engine) -> None:
        config = e.client.config()
        config["data_converter"] = DataConverter.default
        raw = Client(**config)
        worker = Worker(raw, task_queue="elsewhere", workflows=[], activities=[],
                        plugins=[e.plugin()])
        assert worker.client.data_converter is e.client.data_converter
        assert worker.client.service_client is raw.service_client
        assert rebind(e.client, e.client.data_converter) is e.client  # already sagaflow's

    engine.run(scenario)


def test_a_schedule_firing_runs_a_pydantic_skill_with_a_stored_input(engine: Engine) -> None:
    """A firing prepares the input in an activity (the model as JSON data) and starts the
    run as a child: the child validates it back into its model, and the 200 KB input is
    stored under the child's own run."""
    import uuid

    from sagaflow._engine import scheduled

    async def scenario(e: Engine) -> None:
        doc = e.root / "doc.txt"
        doc.write_text(DOCUMENT, encoding="utf-8")
        parent = await e.client.start_workflow(
            scheduled.WORKFLOW_NAME,
            scheduled.ScheduledRunInput(schedule="nightly", skill="typed-review",
                                        base_queue=e.task_queue,
                                        args={"topic": "nightly", "file": str(doc)}),
            id=f"sched-{uuid.uuid4().hex[:8]}", task_queue=e.task_queue,
        )
        result = await parent.result()
        assert result["topic"] == "nightly" and result["echo"] == DOCUMENT
        run_id = (await (await parent.describe()).memo())[scheduled.MEMO_KEY]["run_id"]
        child = e.client.get_workflow_handle(run_id)
        assert is_stored_reference(_started_input(await e.events(child)))
        assert any(run_payload_dir(e.home.payloads, e.client.namespace, run_id).iterdir())
        assert (await child.result())["scores"][0] == {"name": "clarity", "value": 7.0}

    engine.run(scenario)
