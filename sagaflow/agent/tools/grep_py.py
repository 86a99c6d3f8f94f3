"""Grep's Python fallback, and the query both implementations read.

Used when no ``rg`` binary is found. It mirrors the ripgrep invocation of
:func:`sagaflow.agent.tools.grep.rg_args` (hidden files searched, VCS directories and
symlinks skipped, no ignore files, binary files skipped, files in path order) and prints
ripgrep's ``--no-heading`` line format, so the model sees the same output either way; the
regex dialect is Python's :mod:`re`. Globs are matched with ``pathspec`` (gitignore
rules, as rg's ``--glob``), after expanding ``{a,b}`` braces, which pathspec lacks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagaflow.agent.tools.base import ToolRefused

if TYPE_CHECKING:
    import pathspec

VCS_DIRS = (".git", ".hg", ".svn")
#: ``type`` values the fallback knows (ripgrep knows many more)
TYPES: dict[str, tuple[str, ...]] = {
    "py": ("*.py", "*.pyi"), "js": ("*.js", "*.jsx", "*.mjs", "*.cjs"), "ts": ("*.ts", "*.tsx"),
    "rust": ("*.rs",), "go": ("*.go",), "java": ("*.java",), "c": ("*.c", "*.h"),
    "cpp": ("*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh", "*.h"), "rb": ("*.rb",),
    "md": ("*.md", "*.markdown"), "markdown": ("*.md", "*.markdown"), "json": ("*.json",),
    "yaml": ("*.yaml", "*.yml"), "toml": ("*.toml",), "sh": ("*.sh", "*.bash"),
    "html": ("*.html", "*.htm"), "css": ("*.css",), "txt": ("*.txt",), "sql": ("*.sql",),
}
_BRACES = re.compile(r"\{([^{}]*)\}")


def expand_braces(pattern: str) -> list[str]:
    """``*.{ts,tsx}`` -> ``["*.ts", "*.tsx"]`` (nested and repeated braces too)."""
    match = _BRACES.search(pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end():]
    return [x for alt in match.group(1).split(",") for x in expand_braces(head + alt + tail)]


@dataclass(frozen=True)
class Query:
    """One Grep call, as both implementations read it."""

    pattern: str
    root: Path
    mode: str = "files_with_matches"
    ignore_case: bool = False
    line_numbers: bool = True
    before: int = 0
    after: int = 0
    multiline: bool = False
    globs: tuple[str, ...] = ()
    file_type: str | None = None
    #: files to leave out (a Read permission rule denies or asks for them); only the
    #: fallback applies it, so Grep uses the fallback whenever it is set
    hidden: Callable[[str], bool] | None = field(default=None, compare=False)

    @classmethod
    def from_input(cls, data: dict[str, Any], root: Path,
                   hidden: Callable[[str], bool] | None = None) -> Query:
        """Read the tool input (already schema-checked); ``-A``/``-B`` override ``-C``."""
        context = int(data.get("-C") or 0)
        glob = str(data.get("glob") or "").strip()
        return cls(
            pattern=str(data["pattern"]), root=root,
            mode=str(data.get("output_mode") or "files_with_matches"),
            ignore_case=bool(data.get("-i", False)),
            line_numbers=bool(data.get("-n", True)),
            before=int(data["-B"]) if data.get("-B") is not None else context,
            after=int(data["-A"]) if data.get("-A") is not None else context,
            multiline=bool(data.get("multiline", False)),
            globs=tuple(glob.split()) if glob else (),
            file_type=str(data["type"]) if data.get("type") else None,
            hidden=hidden,
        )

    @cached_property
    def regex(self) -> re.Pattern[str]:
        flags = (re.IGNORECASE if self.ignore_case else 0) | (
            re.MULTILINE | re.DOTALL if self.multiline else 0)
        try:
            return re.compile(self.pattern, flags)
        except re.error as exc:
            raise ToolRefused(f"Grep: the pattern {self.pattern!r} is not a valid regular "
                              f"expression ({exc}).") from None

    @cached_property
    def filters(self) -> tuple[pathspec.GitIgnoreSpec | None, pathspec.GitIgnoreSpec | None]:
        """(include, exclude) specs from ``glob`` (``!x`` excludes) and ``type``."""
        include: list[str] = []
        exclude: list[str] = []
        for glob in self.globs:
            target = exclude if glob.startswith("!") else include
            target += expand_braces(glob.lstrip("!"))
        if self.file_type:
            if self.file_type not in TYPES:
                raise ToolRefused(f"Grep: unknown type {self.file_type!r}; use one of "
                                  f"{', '.join(sorted(TYPES))}, or a glob.")
            include += TYPES[self.file_type]
        import pathspec  # only when filtering: see sagaflow.agent.permissions._spec_for

        spec = pathspec.GitIgnoreSpec.from_lines
        return (spec(include) if include else None, spec(exclude) if exclude else None)


def files(query: Query) -> Iterator[Path]:
    """The files searched, in path order (components compared), as rg --sort=path walks."""
    root = query.root
    if root.is_file():
        if not (query.hidden and query.hidden(str(root))):
            yield root
        return
    include, exclude = query.filters
    found: list[tuple[tuple[str, ...], Path]] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d not in VCS_DIRS]
        for name in names:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if include is not None and not include.match_file(rel):
                continue
            if exclude is not None and exclude.match_file(rel):
                continue
            if query.hidden is not None and query.hidden(str(path)):
                continue
            found.append((path.relative_to(root).parts, path))
    yield from (path for _, path in sorted(found))


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None  # unreadable files are skipped, as rg --no-messages does
    return None if b"\0" in data else data.decode("utf-8", "replace")


def _content(path: Path, lines: list[str], hits: list[int], query: Query) -> list[list[str]]:
    """Groups of output lines (match and context), one group per contiguous range."""
    marks = set(hits)
    shown: list[int] = []
    for hit in hits:
        shown.extend(range(max(0, hit - query.before), min(len(lines), hit + query.after + 1)))
    groups: list[list[str]] = []
    last = -2
    for index in sorted(set(shown)):
        sep = ":" if index in marks else "-"
        number = f"{index + 1}{sep}" if query.line_numbers else ""
        line = f"{path}{sep}{number}{lines[index]}"
        if index != last + 1:
            groups.append([])
        groups[-1].append(line)
        last = index
    return groups


def search(query: Query) -> list[str]:
    """The output lines rg would print for ``query`` (before offset/head_limit)."""
    regex = query.regex
    out: list[str] = []
    groups: list[list[str]] = []
    for path in files(query):
        text = _text(path)
        if text is None:
            continue
        lines = text.splitlines()
        if query.multiline:
            starts = [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n")]
            hits = sorted({line for m in regex.finditer(text)
                           for line in _span(starts, m.start(), max(m.start(), m.end() - 1))})
        else:
            hits = [i for i, line in enumerate(lines) if regex.search(line)]
        if not hits:
            continue
        if query.mode == "files_with_matches":
            out.append(str(path))
        elif query.mode == "count":
            out.append(f"{path}:{len(hits)}")
        else:
            groups += _content(path, lines, hits, query)
    if query.mode != "content":
        return out
    context = query.before or query.after
    for number, group in enumerate(groups):
        if context and number:
            out.append("--")
        out += group
    return out


def _span(starts: list[int], first: int, last: int) -> range:
    import bisect

    return range(bisect.bisect_right(starts, first) - 1, bisect.bisect_right(starts, last))


def newest_first(paths: list[str]) -> list[str]:
    """Paths by modification time, newest first (then by path)."""

    def mtime(path: str) -> float:
        try:
            return os.stat(path).st_mtime
        except OSError:
            return 0.0

    return sorted(paths, key=lambda p: (-mtime(p), p))
