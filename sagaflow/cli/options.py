"""The one declaration of ``launch``'s options and the root options, and the fast parser.

:data:`LAUNCH_OPTIONS` and :data:`GLOBAL_OPTIONS` are read twice: by
:func:`sagaflow.cli.declare.typer_parameters`, which builds the Typer command (and
so its ``--help``), and by :func:`parse_launch`, which parses ``sagaflow [root
options] launch ...`` without importing Typer, Click, rich or temporalio (about
65 ms saved on the command users wait on most).

:func:`parse_launch` follows Click's own parsing rules (the ``typer._click.parser``
algorithm with ``ignore_unknown_options`` and interspersed arguments for ``launch``;
no unknown options and no interspersed arguments for the root) and gives up
(returns ``None``) whenever Click would print help, the version or a usage error:
Typer then parses the same argv and reports it, so both paths accept and refuse
exactly the same argument lists. ``tests/unit/test_launch_fast_path.py`` checks that.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["flag", "value", "multi"]
#: a parsed option value: a flag's True, a value option's text, a repeatable option's values
Value = bool | str | tuple[str, ...]
HELP_FLAGS = ("-h", "--help")


@dataclass(frozen=True)
class Opt:
    """One command-line option.

    Attributes:
        dest: The parameter (and :class:`LaunchCall` field) it fills.
        flags: Its spellings, e.g. ``("--arg", "-a")``.
        kind: ``flag`` (no value, True when given), ``value`` (one text value, the
            last one wins) or ``multi`` (repeatable, all values kept in order).
        help: The ``--help`` line.
        metavar: How ``--help`` names its value.
    """

    dest: str
    flags: tuple[str, ...]
    kind: Kind
    help: str
    metavar: str | None = None


GLOBAL_OPTIONS: tuple[Opt, ...] = (
    Opt("verbose", ("--verbose", "-v"), "flag", "Show tracebacks on errors."),
    Opt("address", ("--address",), "value", "Temporal address host:port (env TEMPORAL_ADDRESS).",
        "HOST:PORT"),
    Opt("namespace", ("--namespace",), "value", "Temporal namespace (env TEMPORAL_NAMESPACE).",
        "NAME"),
    Opt("profile", ("--profile",), "value",
        "Temporal envconfig profile (TLS, API key) (env TEMPORAL_PROFILE).", "NAME"),
)
#: the root's eager ``--version`` (handled by Typer only: the fast path gives way to it)
VERSION_FLAG = "--version"

LAUNCH_HELP = """Launch a skill durably: sagaflow launch SKILL [WORDS ...] [--key value ...].

Skill arguments are free --key value options (or --arg key=value); free words are
the text a SKILL.md skill gets as $ARGUMENTS (its options: --max-turns N,
--allow-tools RULES, --question-timeout DURATION, --tier, --max-tokens). The run id
is printed on stdout; with --await, progress goes to stderr and the result to
stdout. Ctrl-C while awaiting detaches and leaves the run going."""
SKILL_HELP = "Skill name (see 'sagaflow skills')."

LAUNCH_OPTIONS: tuple[Opt, ...] = (
    Opt("arg", ("--arg", "-a"), "multi", "Skill argument key=value (repeatable).", "KEY=VALUE"),
    Opt("wait", ("--await",), "flag", "Wait for the result."),
    Opt("run_id", ("--id",), "value", "Run id (reuse to attach/resume).", "ID"),
    Opt("transport", ("--transport",), "value", "auto, anthropic, claude or scripted.",
        "NAME"),
    Opt("pool", ("--pool",), "value",
        "Run on this worker pool (see 'sagaflow worker run --pool').", "NAME"),
    Opt("budget_usd", ("--budget-usd",), "value",
        "Park for approval before spending more than this (USD).", "USD"),
    Opt("timeout", ("--timeout",), "value",
        "Fail the whole run after this long, e.g. 2h or 30m.", "DURATION"),
    Opt("if_exists", ("--if-exists",), "value",
        "With --id: attach, fail or replace an existing run.", "MODE"),
    Opt("no_lint", ("--no-lint",), "flag",
        "Launch even when lint finds errors in a new build's skill."),
    Opt("as_json", ("--json",), "flag", "Print JSON."),
)


@dataclass(frozen=True)
class GlobalValues:
    """The root options (before the command): tracebacks and Temporal overrides."""

    verbose: bool = False
    address: str | None = None
    namespace: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class LaunchCall:
    """One parsed ``sagaflow launch``: what both parsers produce and ``run_launch`` takes.

    ``arg`` holds the ``--arg key=value`` texts and ``extra`` the free skill options
    (``--key value`` ...), both unparsed; the other fields are the options of
    :data:`LAUNCH_OPTIONS` (raw text, validated later by ``runs.launch.launch_options``)
    and the root's :class:`GlobalValues`.
    """

    skill: str
    arg: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    wait: bool = False
    as_json: bool = False
    run_id: str | None = None
    transport: str | None = None
    pool: str | None = None
    budget_usd: str | None = None
    timeout: str | None = None
    if_exists: str | None = None
    no_lint: bool = False
    root: GlobalValues = field(default_factory=GlobalValues)


def launch_call(
    skill: str, extra: Sequence[str], values: dict[str, Any], root: GlobalValues
) -> LaunchCall:
    """A :class:`LaunchCall` from parsed option values keyed by :attr:`Opt.dest`."""
    given: dict[str, Any] = {o.dest: _normal(o, values.get(o.dest)) for o in LAUNCH_OPTIONS}
    return LaunchCall(skill=skill, extra=tuple(extra), root=root, **given)


def _normal(opt: Opt, value: Any) -> Value | None:
    if opt.kind == "flag":
        return bool(value)
    if opt.kind == "multi":
        return tuple(value or ())
    return None if value is None else str(value)


class Defer(Exception):
    """Click would print help, the version or a usage error here: let Typer answer."""


def _is_short(flag: str) -> bool:
    return len(flag) == 2 and flag[0] == "-" and flag[1] != "-"


class _Scan:
    """Click's option parsing (``typer._click.parser._OptionParser``) for one table."""

    def __init__(self, table: Sequence[Opt], *, ignore_unknown: bool, interspersed: bool):
        self.short = {f: o for o in table for f in o.flags if _is_short(f)}
        self.long = {f: o for o in table for f in o.flags if not _is_short(f)}
        self.ignore_unknown, self.interspersed = ignore_unknown, interspersed
        self.values: dict[str, Value] = {}
        self.largs: list[str] = []
        self.rargs: list[str] = []

    def run(self, tokens: Sequence[str]) -> list[str]:
        """Options into :attr:`values`; returns the positional arguments (and the rest)."""
        self.rargs = list(tokens)
        while self.rargs:
            arg = self.rargs.pop(0)
            if arg == "--":
                break
            if arg[:1] == "-" and len(arg) > 1:
                self._option(arg)
            elif self.interspersed:
                self.largs.append(arg)
            else:
                self.rargs.insert(0, arg)
                break
        return self.largs + self.rargs

    def _option(self, arg: str) -> None:
        name, eq, explicit = arg.partition("=")
        if name in HELP_FLAGS:
            raise Defer
        opt = self.long.get(name)
        if opt is None:
            if arg[:2] != "--":
                self._short_cluster(arg)
            elif self.ignore_unknown:
                self.largs.append(arg)
            else:
                raise Defer  # Click: "No such option"
        elif opt.kind == "flag":
            if eq:
                raise Defer  # Click: "Option '--x' does not take a value."
            self.values[opt.dest] = True
        else:
            if eq:
                self.rargs.insert(0, explicit)
            self._store(opt)

    def _short_cluster(self, arg: str) -> None:
        unknown: list[str] = []
        for i, ch in enumerate(arg[1:], start=2):
            if f"-{ch}" in HELP_FLAGS:
                raise Defer
            opt = self.short.get(f"-{ch}")
            if opt is None:
                if not self.ignore_unknown:
                    raise Defer
                unknown.append(ch)
            elif opt.kind == "flag":
                self.values[opt.dest] = True
            else:
                rest = i < len(arg)
                if rest:
                    self.rargs.insert(0, arg[i:])
                self._store(opt)
                if rest:
                    break
        if unknown:
            self.largs.append("-" + "".join(unknown))

    def _store(self, opt: Opt) -> None:
        if not self.rargs:
            raise Defer  # Click: "Option '--x' requires an argument."
        value = self.rargs.pop(0)
        if opt.kind == "multi":
            before = self.values.get(opt.dest, ())
            self.values[opt.dest] = (*before, value) if isinstance(before, tuple) else (value,)
        else:
            self.values[opt.dest] = value


def split_root(argv: Sequence[str]) -> tuple[GlobalValues, list[str]]:
    """The root options and what follows them (the command and its arguments).

    Raises:
        Defer: When Click would answer with help, the version or a usage error.
    """
    scan = _Scan(GLOBAL_OPTIONS, ignore_unknown=False, interspersed=False)
    rest = scan.run(argv)
    v = scan.values
    return GlobalValues(
        verbose=bool(v.get("verbose")),
        address=_text(v.get("address")), namespace=_text(v.get("namespace")),
        profile=_text(v.get("profile")),
    ), rest


def _text(value: Value | None) -> str | None:
    return value if isinstance(value, str) else None


def parse_launch(argv: Sequence[str]) -> LaunchCall | None:
    """``sagaflow [root options] launch SKILL ...`` parsed as Typer would, or None.

    None means "not a launch, or Click would answer differently (help, version,
    a usage error)": run the Typer CLI on the same argv.
    """
    try:
        root, rest = split_root(argv)
        if not rest or rest[0] != "launch":
            return None
        scan = _Scan(LAUNCH_OPTIONS, ignore_unknown=True, interspersed=True)
        positional = scan.run(rest[1:])
    except Defer:
        return None
    if not positional:
        return None  # Click: "Missing argument 'skill'."
    return launch_call(positional[0], positional[1:], dict(scan.values), root)


def verbose_requested(argv: Sequence[str]) -> bool:
    """``-v``/``--verbose`` among the root options, or ``SAGAFLOW_VERBOSE`` set."""
    if os.environ.get("SAGAFLOW_VERBOSE"):
        return True
    try:
        return split_root(argv)[0].verbose
    except Defer:
        return False
