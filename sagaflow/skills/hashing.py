"""Hashing skill files fast: which files belong to a skill, and a stat cache of their hashes.

The launch fast path hashes every active skill's files to name its build. Reading
every file on every launch is what a stat cache avoids: a file whose size, mtime,
ctime and inode are unchanged keeps its recorded sha256 (the rule git's index
uses). A file modified less than :data:`RACY_SECONDS` ago is hashed but not
cached, because a second edit within the filesystem's timestamp granularity
could leave every stat field unchanged ("racy git").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sagaflow.errors import BuildError

#: directories never part of a build (bytecode, VCS, dependency caches)
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", ".git", ".venv", "venv"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
RACY_SECONDS = 2.0


def skill_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, path)`` of every file of a skill directory, sorted.

    Hidden directories and :data:`SKIPPED_DIRS` are left out, as are bytecode files.
    Symlinked files count by their content; symlinked directories are not followed.
    """
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(dirpath, name)
            yield path.relative_to(directory).as_posix(), path


class StatCache:
    """``path -> [size, mtime_ns, ctime_ns, inode, sha256]`` kept in one JSON file.

    Losing or corrupting the file only costs a re-hash; concurrent writers each
    replace it whole (the last one wins), which is fine for a cache.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[object]] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                self.entries = data

    def digest(self, path: Path) -> str:
        """The sha256 (hex) of ``path``'s content.

        Raises:
            BuildError: The file cannot be read.
        """
        try:
            st = path.stat()
            key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
            entry = self.entries.get(str(path))
            if entry is not None and entry[:4] == key:
                return str(entry[4])
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise BuildError(
                f"Cannot read skill file {path} ({exc.strerror or exc}); fix its permissions "
                "or remove it from the skill directory."
            ) from None
        if time.time() - st.st_mtime > RACY_SECONDS:
            self.entries[str(path)] = [*key, digest]
            self.dirty = True
        return digest

    def save(self) -> None:
        """Write the cache if it changed (atomically; errors ignored: it is only a cache)."""
        if not self.dirty:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(tmp, self.path)
        self.dirty = False
