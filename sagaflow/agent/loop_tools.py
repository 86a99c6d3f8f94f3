"""Workflow-side tool dispatch of the agent loop (deterministic code, no I/O).

* file / shell / web tools -> the ``sagaflow_agent_tool`` activity, which runs the tools
  contract's ``run_tool`` and keeps long output in the run dir;
* ``TodoWrite`` -> the run's todo list (workflow state; ``show`` lists it);
* ``AskUserQuestion`` -> the run parks; a QUESTION inbox entry carries the exact
  ``sagaflow answer`` command; the ``sagaflow_answer`` update (validated: a run that
  asks nothing refuses it) resumes it, or the question times out;
* ``Task`` -> a sub-agent: a child run of the loop with its own transcript;
* ``mcp__server__tool`` -> refused with one line naming the server;
* anything else (unknown or unsupported) -> a tool error back to the model.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sagaflow.agent import AGENT_TOOL_ACTIVITY, AGENT_WORKFLOW, NOTICE_ACTIVITY
    from sagaflow.agent.permissions import PermissionRules
    from sagaflow.agent.schemas import LOOP_SCHEMAS, check_input
    from sagaflow.agent.skillmd import ALIASES, UNSUPPORTED_TOOLS
    from sagaflow.agent.tools import ToolCall
    from sagaflow.agent.types import (
        AgentInput,
        AnswerRequest,
        Carry,
        NoticeInput,
        Question,
        Todo,
        ToolRef,
        ToolResult,
        ToolUse,
    )

#: a tool call may run this long (Bash caps its own command at 10 minutes)
TOOL_TIMEOUT = timedelta(minutes=15)


class LoopTools:
    """Todo list, pending question and tool dispatch of one loop run."""

    def __init__(self) -> None:
        self.todos: list[Todo] = []
        self.question: Question | None = None
        self.answer: str | None = None

    # -- AskUserQuestion's update -----------------------------------------------------------

    def validate_answer(self, req: AnswerRequest) -> None:
        question = self.question
        if question is None or self.answer is not None:
            raise ValueError("the run asks nothing: there is no question waiting for an answer")
        if req.choice and not 1 <= req.choice <= len(question.choices):
            count = len(question.choices)
            raise ValueError(
                f"--choice {req.choice} is not one of the question's {count} options"
                if count else "the question has no options; answer with text"
            )
        if not req.choice and not req.text.strip():
            raise ValueError("the answer is empty; give text or --choice N")

    def take_answer(self, req: AnswerRequest) -> str:
        assert self.question is not None
        text = self.question.choices[req.choice - 1] if req.choice else req.text
        self.answer = text
        return text

    # -- dispatch ---------------------------------------------------------------------------

    async def call(self, inp: AgentInput, carry: Carry, use: ToolUse) -> ToolResult:
        name = ALIASES.get(use.name, use.name)
        if name.startswith("mcp__"):
            server = name.split("__")[1] if name.count("__") >= 2 else name
            return self._error(use, f"MCP tools are not available in sagaflow runs: server "
                                    f"{server!r} is not connected ({name} refused).")
        if name in LOOP_SCHEMAS:
            problem = check_input(name, use.input)
            if problem:
                return self._error(use, problem)
            if name == "TodoWrite":
                return self._todos(use, carry)
            if name == "AskUserQuestion":
                return await self._ask(inp, carry, use)
            return await self._task(inp, use)
        if name in UNSUPPORTED_TOOLS or name not in carry.tools:
            return self._error(use, f"Tool {name!r} is not available in sagaflow runs; "
                                    f"available: {', '.join(carry.tools)}.")
        rules = PermissionRules(tuple(carry.rules.allow), tuple(carry.rules.ask),
                                tuple(carry.rules.deny))
        call = ToolCall(run_id=workflow.info().workflow_id, tool_use_id=use.id, name=name,
                        input=use.input, workspace=inp.workspace, skill_dir=inp.skill_dir,
                        rules=rules)
        outcome = await workflow.execute_activity(
            AGENT_TOOL_ACTIVITY, args=[call, f"{inp.run_dir}/agent/results"],
            result_type=ToolRef, start_to_close_timeout=TOOL_TIMEOUT,
        )
        if outcome.needs_approval:  # only a sub-agent sees this: its parent's run has the gate
            return self._error(use, f"{name} needs a human's approval ({outcome.needs_approval}), "
                                    "which a sub-agent cannot ask for; leave it to the main agent.")
        return ToolResult(use.id, outcome.content, outcome.is_error, outcome.path)

    @staticmethod
    def _error(use: ToolUse, text: str) -> ToolResult:
        return ToolResult(use.id, text, True)


    def _todos(self, use: ToolUse, carry: Carry) -> ToolResult:
        todos = []
        for item in use.input["todos"]:
            if not isinstance(item, dict) or not isinstance(item.get("content"), str):
                return self._error(use, "each todo needs content (text) and status.")
            todos.append(Todo(item["content"], str(item.get("status", "pending")),
                              str(item.get("activeForm", ""))))
        self.todos = carry.todos = todos
        done = sum(t.status == "completed" for t in todos)
        return ToolResult(use.id, f"Todos updated: {len(todos)} items, {done} completed.")

    async def _ask(self, inp: AgentInput, carry: Carry, use: ToolUse) -> ToolResult:
        info = workflow.info()
        options = [str(o) for o in use.input.get("options") or []]
        self.question = Question(use.id, str(use.input["question"]), options,
                                 workflow.now().isoformat(timespec="seconds"))
        self.answer = None
        carry.questions += 1
        key = f"q{carry.questions}"
        await self._notice(info.workflow_id, inp.skill, key, True)
        timeout = inp.question_timeout_seconds
        try:
            await workflow.wait_condition(
                lambda: self.answer is not None,
                timeout=timedelta(seconds=timeout) if timeout else None,
            )
        except TimeoutError:
            self.answer = None
        finally:  # answered, timed out or cancelled: the QUESTION entry is retired
            answer, self.question, self.answer = self.answer, None, None
            await self._notice(info.workflow_id, inp.skill, key, False)
        if answer is None:
            return self._error(use, f"No answer came within {timeout:g} s; go on without it "
                                    "or finish with what you have.")
        return ToolResult(use.id, f"The user answered: {answer}")

    async def _notice(self, run_id: str, skill: str, key: str, opened: bool) -> None:
        question = self.question
        await workflow.execute_activity(
            NOTICE_ACTIVITY,
            NoticeInput(run_id=run_id, skill=skill, key=key, opened=opened,
                        question=question.text if question else "",
                        choices=list(question.choices) if question else [],
                        timestamp_iso=workflow.now().isoformat(timespec="seconds")),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=10),
        )

    async def _task(self, inp: AgentInput, use: ToolUse) -> ToolResult:
        child = AgentInput(
            skill=inp.skill, skill_dir=inp.skill_dir, workspace=inp.workspace,
            run_dir=inp.run_dir, max_turns=inp.max_turns, turns_per_run=inp.turns_per_run,
            tier=inp.tier, max_tokens=inp.max_tokens, allow_tools=list(inp.allow_tools),
            question_timeout_seconds=inp.question_timeout_seconds,
            parent_tool_use_id=use.id, prompt=str(use.input["prompt"]),
        )
        try:
            answer: str = await workflow.execute_child_workflow(
                AGENT_WORKFLOW, child, id=f"{workflow.info().workflow_id}--task-{use.id}",
                result_type=str, memo=dict(workflow.memo()),  # the run's config and skill
            )
        except Exception as exc:  # the sub-agent failed: the model is told, the run goes on
            cause = getattr(exc, "cause", None) or exc
            return self._error(use, f"The sub-agent failed: {cause}")
        return ToolResult(use.id, answer)
