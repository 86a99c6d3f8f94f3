"""Static determinism checks on workflow code: clocks, randomness, I/O, threads, imports.

Temporal replays a workflow's code to rebuild its state, so workflow code must
make the same decisions every time: no clock, no randomness, no I/O, no threads
(Temporal's documentation, "Workflow logic constraints"; the Python SDK's sandbox
refuses most of these at run time, which fails the workflow task over and over
hours into a run). Each finding names the Temporal-safe alternative.

Only workflow code is checked (:func:`sagaflow.skills.lint.pyscan.workflow_code`):
activities, ``build_input`` and ``register`` may do all of this.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable

from sagaflow.skills.lint.findings import Finding, error, warning
from sagaflow.skills.lint.pyscan import LOCAL, Module, qualname, workflow_code, workflow_modules

_NOW = "workflow.now()"
#: qualified call -> Temporal-safe alternative
CLOCK = {
    "datetime.datetime.now": _NOW, "datetime.datetime.utcnow": _NOW,
    "datetime.datetime.today": _NOW, "datetime.date.today": "workflow.now().date()",
    "time.time": "workflow.time()", "time.time_ns": "workflow.time_ns()",
    "time.monotonic": "workflow.time()", "time.monotonic_ns": "workflow.time_ns()",
    "time.perf_counter": "workflow.time()", "time.perf_counter_ns": "workflow.time_ns()",
    "time.process_time": "workflow.time()",
    "time.sleep": "await workflow.sleep(seconds) or sagaflow.workflow.sleep(seconds) "
                  "(a durable timer)",
}
#: these read the clock only without a time argument (``time.localtime()``)
CLOCK_WITHOUT_ARGS = {"time.localtime": 0, "time.gmtime": 0, "time.ctime": 0,
                      "time.asctime": 0, "time.strftime": 1}
_RANDOM = "workflow.random() (a random.Random seeded per run)"
RANDOM = {"uuid.uuid1": "workflow.uuid4()", "uuid.uuid4": "workflow.uuid4()",
          "os.urandom": "workflow.random().randbytes(n)"}
RANDOM_PREFIXES = ("random.", "secrets.", "numpy.random.")
_ACTIVITY = "an activity (workflow code gets the result)"
IO_CALLS = frozenset({
    "open", "input", "io.open", "os.open", "os.getenv", "os.putenv", "os.listdir",
    "os.scandir", "os.walk", "os.remove", "os.unlink", "os.rename", "os.replace",
    "os.makedirs", "os.mkdir", "os.rmdir", "os.system", "os.popen", "os.getcwd", "os.chdir",
    "os.stat", "os.path.exists", "os.path.isfile", "os.path.isdir", "os.path.islink",
    "os.path.getsize", "os.path.getmtime", "os.path.realpath", "os.path.abspath",
    "os.path.expanduser", "glob.glob", "glob.iglob", "sqlite3.connect",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    "asyncio.open_connection", "asyncio.start_server",
    "pathlib.Path.cwd", "pathlib.Path.home",
})
IO_PREFIXES = ("shutil.", "tempfile.", "subprocess.", "socket.", "requests.", "httpx.",
               "aiohttp.", "urllib.request.", "urllib3.", "http.client.", "ftplib.", "smtplib.")
#: methods that touch the file system whatever they are called on (``p.read_text()``)
IO_METHODS = frozenset({"read_text", "write_text", "read_bytes", "write_bytes", "iterdir",
                        "rglob", "mkdir", "unlink", "touch", "rmdir"})
#: methods that touch the file system when called on a ``Path(...)``
PATH_METHODS = frozenset({"open", "exists", "is_file", "is_dir", "stat", "glob", "resolve",
                          "expanduser", "rename", "replace", "samefile", "owner"})
THREAD_PREFIXES = ("threading.", "concurrent.futures.", "multiprocessing.", "_thread.")
THREAD_CALLS = frozenset({"asyncio.to_thread"})
_THREADS = ("asyncio tasks (asyncio.gather, sagaflow.workflow.parallel) or an activity")
WHY = {
    "clock": "reads the machine's clock, so a replay sees another value (the sandbox "
             "refuses it at run time)",
    "randomness": "is random, so a replay draws another value",
    "io": "does I/O, which the sandbox refuses at run time and a replay would see "
          "differently",
    "threads": "runs code on another thread, outside the workflow's deterministic "
               "event loop",
    "sandbox": "is refused by Temporal's workflow sandbox at run time (it refuses every "
               "os function, os.path's included)",
}
#: pure path text without ``os``: what the sandbox lets workflow code use
_PURE_PATHS = "posixpath or pathlib.PurePosixPath for path text, or an activity"


#: calls whose reason differs from their rule's
WHY_CALL = {"time.sleep": "blocks the workflow's event loop and is no durable timer (the "
                          "sandbox refuses it at run time)"}


def classify(call: ast.Call, aliases: dict[str, str]) -> tuple[str, str] | None:
    """``(rule, alternative)`` when ``call`` is non-deterministic in workflow code."""
    name = qualname(call.func, aliases)
    if name is None:
        return None
    method = name.rpartition(".")[2]
    chained = "()" in name  # a method of a call's result: only the call itself is judged
    if name in CLOCK:
        return "clock", CLOCK[name]
    if name in CLOCK_WITHOUT_ARGS and len(call.args) <= CLOCK_WITHOUT_ARGS[name]:
        return "clock", _NOW
    if name in RANDOM:
        return "randomness", RANDOM[name]
    if name.startswith(RANDOM_PREFIXES) and not chained:
        if name == "random.Random" and call.args:  # an explicit seed is deterministic
            return None
        return "randomness", _RANDOM
    if name in IO_CALLS or (name.startswith(IO_PREFIXES) and not chained):
        return "io", _ACTIVITY
    if "." in name and method in IO_METHODS:
        return "io", _ACTIVITY
    if name.startswith("pathlib.Path().") and method in PATH_METHODS:
        return "io", _ACTIVITY
    if (name in THREAD_CALLS or (name.startswith(THREAD_PREFIXES) and not chained)
            or method == "run_in_executor"):
        return "threads", _THREADS
    if name.startswith("os.") and not chained:  # os.path.join(), os.getpid(), os.cpu_count()
        return "sandbox", _PURE_PATHS
    return None


def _environ(node: ast.AST, aliases: dict[str, str]) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
            and qualname(node, aliases) == "os.environ")


def _third_party(module: str, passthrough: frozenset[str], local: set[str]) -> bool:
    """Whether an imported module is neither the standard library, passed through by the
    sandbox, nor the skill's own code (which the sandbox reloads by design)."""
    if not module or module.startswith(LOCAL) or module.split(".")[0] in local:
        return False
    root = module.split(".")[0]
    if root in sys.stdlib_module_names or root in {"skills", "__future__"}:
        return False
    parts = module.split(".")
    return not any(".".join(parts[:i]) in passthrough for i in range(1, len(parts) + 1))


def _imported(node: ast.Import | ast.ImportFrom, aliases: dict[str, str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        return []
    return [node.module or ""]


def _passed_through(node: ast.With, aliases: dict[str, str]) -> bool:
    for item in node.items:
        expr = item.context_expr
        name = qualname(expr.func if isinstance(expr, ast.Call) else expr, aliases) or ""
        if name.endswith("imports_passed_through"):
            return True
    return False


def _module_level_imports(module: Module) -> Iterable[ast.Import | ast.ImportFrom]:
    """Imports at module level (inside ``if``/``try`` too), not inside a pass-through block."""
    todo: list[ast.stmt] = list(module.tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.With) and not _passed_through(node, module.aliases):
            todo.extend(node.body)
        elif isinstance(node, ast.If | ast.Try):
            todo.extend([*node.body, *node.orelse,
                         *(s for h in getattr(node, "handlers", []) for s in h.body)])


def _import_finding(module: Module, node: ast.Import | ast.ImportFrom, name: str,
                    where: str) -> Finding:
    return warning(module.rel, node.lineno,
                   f"import of {name!r} {where}: the workflow sandbox re-imports it on every "
                   "run (slow, and its import-time side effects repeat); import it inside "
                   "'with workflow.unsafe.imports_passed_through():'", "sandbox-import")


def check(modules: list[Module], passthrough: frozenset[str]) -> list[Finding]:
    """Determinism findings over the skill's workflow code.

    Args:
        modules: The skill's parsed files (:func:`sagaflow.skills.lint.pyscan.parse_skill`).
        passthrough: Modules the workflow sandbox passes through (imported once, shared).
    """
    local = {m.dotted.split(".")[0] for m in modules if m.dotted}
    found: dict[tuple[str, int, str], Finding] = {}

    def add(finding: Finding, module: Module) -> None:
        found.setdefault((finding.file, finding.line, finding.message), finding)

    for module in workflow_modules(modules):
        for statement in _module_level_imports(module):
            for name in _imported(statement, module.aliases):
                if _third_party(name, passthrough, local):
                    add(_import_finding(module, statement, name, "outside the sandbox's "
                                        "pass-through block of a workflow module"), module)
    for module, code in workflow_code(modules):
        for node in ast.walk(code):
            if isinstance(node, ast.Call):
                verdict = classify(node, module.aliases)
                if verdict is not None:
                    rule, alternative = verdict
                    shown = ast.unparse(node.func)
                    why = WHY_CALL.get(qualname(node.func, module.aliases) or "", WHY[rule])
                    add(error(module.rel, node.lineno,
                              f"{shown}() in workflow code {why}; use {alternative}",
                              rule), module)
            elif _environ(node, module.aliases):
                add(error(module.rel, getattr(node, "lineno", 1),
                          f"os.environ in workflow code {WHY['io']}; read it in build_input "
                          "(at launch) and pass the value in the workflow's input", "io"),
                    module)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for name in _imported(node, module.aliases):
                    if _third_party(name, passthrough, local):
                        add(_import_finding(module, node, name, "inside workflow code"), module)
    return list(found.values())
