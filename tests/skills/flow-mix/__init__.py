"""Test skill: the flow helpers in one run (sagaflow.workflow).

``sagaflow launch flow-mix --topic T [--mode root|leaf]``: three critics in ``parallel``
(at most two at once), a ``loop_until`` refine loop, a ``route`` on the first critic's
verdict, a short durable ``sleep``, and itself as a ``child`` run in ``leaf`` mode (one
``ask_model``). Every model call is an ``ask_model`` (no write_artifact). ``replies.yaml``
answers them for ``--transport scripted``; the CLI tests' fake model answers the same.
"""

from sagaflow.registry import SkillRegistry, SkillSpec

from skills.flow_mix.workflow import FlowMixInput, FlowMixWorkflow


def _build_input(*, run_id, run_dir, inbox_path, cli_args):
    return FlowMixInput(topic=cli_args["topic"], mode=cli_args.get("mode", "root"))


def register(registry: SkillRegistry) -> None:
    registry.register(SkillSpec(
        name="flow-mix", workflow_cls=FlowMixWorkflow, activities=[],
        build_input=_build_input, arguments=["topic!", "mode"],
        description="parallel + loop_until + route + sleep + child in one run (tests).",
    ))
