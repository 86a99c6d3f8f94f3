"""Builds: content-addressed, immutable snapshots of the skills a launch resolved.

A *build* is the exact code a launch found from its working directory (every
active skill on the search path: project, user, ``SAGAFLOW_SKILLS_PATH``,
bundled) plus sagaflow's own version, identified by a hash of that content.
Each build is kept under the home so its worker can serve it again after the
files were edited, moved or the machine rebooted::

    <home>/builds/
      blobs/ab/cdef...          one read-only file per distinct content (sha256)
      <build>/manifest.json     what the build holds: skill dirs, files -> blob hash
      <build>/skills/<dir>/...  the skill trees, hard links to the blobs
      statcache.json            path -> (size, mtime, inode, hash): see hashing.py
      current                   the build made current last (see _engine/versioning.py)

Unchanged files are stored once whatever the number of builds. A build
directory appears by one ``rename`` of a finished temporary tree (see
:func:`snapshot`), so a crash never leaves a half-written build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sagaflow
from sagaflow.errors import BuildError
from sagaflow.paths import Home
from sagaflow.agent import KIND
from sagaflow.skills.discovery import SkillSource
from sagaflow.skills.hashing import StatCache, skill_files
from sagaflow.timestamps import now_iso

MANIFEST = "manifest.json"
#: a temporary tree older than this is a crashed writer's leftover
STALE_TMP_SECONDS = 600


def builds_dir(home: Home) -> Path:
    return home.root / "builds"


@dataclass(frozen=True)
class BuildSkill:
    """One skill directory inside a build.

    Attributes:
        dirname: The directory name (``hello-world``); the module is ``skills.<dirname, _>``.
        origin: Where it was found first: ``project``, ``user``, ``path`` or ``bundled``.
        source: The directory it was copied from (informational: it may be gone).
        files: Path relative to the skill directory -> sha256 of the content.
    """

    dirname: str
    origin: str
    source: str
    files: dict[str, str]


@dataclass(frozen=True)
class Build:
    """A build on disk: its id (16 hex digits), directory and skills."""

    id: str
    root: Path
    skills: tuple[BuildSkill, ...]

    def skill_dir(self, dirname: str) -> Path:
        """The snapshot of one skill directory (``<root>/skills/<dirname>``)."""
        return self.root / "skills" / dirname

    def sources(self) -> list[SkillSource]:
        """The build's skills as search-path sources pointing into the snapshot."""
        return [SkillSource(self.skill_dir(s.dirname), s.origin, _kind(self.skill_dir(s.dirname)))
                for s in self.skills]


def _kind(directory: Path) -> str:
    """``python`` for a package with ``register()``, ``skillmd`` for a SKILL.md directory."""
    return "python" if (directory / "__init__.py").is_file() else KIND


def _skills_of(sources: Sequence[SkillSource], cache: StatCache) -> list[BuildSkill]:
    found = []
    for source in sorted(sources, key=lambda s: s.module):
        files = {rel: cache.digest(path) for rel, path in skill_files(source.dir)}
        found.append(BuildSkill(source.dir.name, source.origin, str(source.dir), files))
    return found


def build_id(skills: Sequence[BuildSkill]) -> str:
    """The content hash of a build: sagaflow's version and each skill's files (16 hex digits).

    Where a skill was found does not count: the same code found from two
    projects is one build.
    """
    digest = hashlib.sha256(f"sagaflow {sagaflow.__version__}\n".encode())
    for skill in sorted(skills, key=lambda s: s.dirname):
        digest.update(f"skill {skill.dirname}\n".encode())
        for rel in sorted(skill.files):
            digest.update(f"{rel}\0{skill.files[rel]}\n".encode())
    return digest.hexdigest()[:16]


def identify(home: Home, sources: Sequence[SkillSource]) -> str:
    """The id :func:`make` would give these sources, without writing a snapshot.

    Raises:
        BuildError: A skill file cannot be read.
    """
    cache = StatCache(builds_dir(home) / "statcache.json")
    skills = _skills_of(sources, cache)
    cache.save()
    return build_id(skills)


def make(home: Home, sources: Sequence[SkillSource]) -> Build:
    """The build of these skill sources, snapshotted under the home if it is new.

    Files are hashed through the stat cache, so an unchanged tree costs one
    ``stat`` per file.

    Raises:
        BuildError: A skill file cannot be read, or the snapshot cannot be written.
    """
    root = builds_dir(home)
    cache = StatCache(root / "statcache.json")
    skills = _skills_of(sources, cache)
    cache.save()
    bid = build_id(skills)
    target = root / bid
    if not (target / MANIFEST).is_file() or _set_aside_damaged(root, target, skills):
        snapshot(home, bid, skills, sources)
    return Build(bid, target, tuple(skills))


def _set_aside_damaged(root: Path, target: Path, skills: Sequence[BuildSkill]) -> bool:
    """Move a snapshot missing one of its skill directories (deleted by hand) out of the way.

    The sources at hand hash to this build, so writing it again restores the same
    content; the damaged tree is renamed first (atomic), then removed.
    """
    if all((target / "skills" / s.dirname).is_dir() for s in skills):
        return False
    import shutil  # imported where used: shutil (with bz2, lzma) costs about 2 ms per launch

    aside = root / f".tmp-damaged-{target.name}-{os.getpid()}"
    with contextlib.suppress(OSError):
        os.rename(target, aside)
        shutil.rmtree(aside, ignore_errors=True)
    return not (target / MANIFEST).is_file()


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / digest[:2] / digest[2:]


def _store_blob(root: Path, digest: str, path: Path) -> Path:
    """Copy ``path`` into the blob store under ``digest`` (atomic; kept read-only)."""
    import shutil

    blob = _blob(root, digest)
    if blob.exists():
        return blob
    blob.parent.mkdir(parents=True, exist_ok=True)
    tmp = blob.with_name(f".{blob.name}.{os.getpid()}.tmp")
    shutil.copyfile(path, tmp)
    if hashlib.sha256(tmp.read_bytes()).hexdigest() != digest:
        tmp.unlink()  # edited between hashing and copying: the next launch hashes again
        raise BuildError(
            f"{path} changed while sagaflow was snapshotting it; launch again."
        )
    os.chmod(tmp, 0o400)
    os.replace(tmp, blob)
    return blob


def snapshot(home: Home, bid: str, skills: Sequence[BuildSkill],
             sources: Sequence[SkillSource]) -> Path:
    """Write build ``bid``: blobs first, then a temporary tree renamed into place.

    Concurrent writers of one build race harmlessly: the first rename wins and
    the others discard their tree.

    Raises:
        BuildError: A file could not be read or written.
    """
    import shutil

    root = builds_dir(home)
    target = root / bid
    by_dir = {s.dir.name: s.dir for s in sources}
    tmp = root / f".tmp-{bid}-{os.getpid()}"
    _clean_stale(root)
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        for skill in skills:
            for rel, digest in skill.files.items():
                blob = _store_blob(root, digest, by_dir[skill.dirname] / rel)
                dest = tmp / "skills" / skill.dirname / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(blob, dest)
                except OSError:  # a filesystem without hard links: a read-only copy
                    shutil.copyfile(blob, dest)
                    os.chmod(dest, 0o400)
        manifest = {
            "build": bid, "sagaflow": sagaflow.__version__, "created": now_iso(),
            "skills": [s.__dict__ for s in skills],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.chmod(tmp / MANIFEST, 0o400)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / MANIFEST).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another launch wrote it first
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(
            f"Could not snapshot build {bid} under {root} ({exc.strerror or exc}); "
            "check that the home is writable and has free space."
        ) from None
    return target


def _clean_stale(root: Path) -> None:
    """Remove temporary trees left by writers that crashed."""
    import shutil

    with contextlib.suppress(OSError):
        for entry in root.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if time.time() - entry.stat().st_mtime > STALE_TMP_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)


def open_build(home: Home, bid: str) -> Build:
    """The build ``bid`` as recorded in its manifest.

    Raises:
        BuildError: Its snapshot is missing or damaged (deleted by hand): the message
            says how to recover.
    """
    target = builds_dir(home) / bid
    try:
        data = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        skills = tuple(BuildSkill(**s) for s in data["skills"])
    except (OSError, ValueError, KeyError, TypeError):
        raise BuildError(
            f"Build {bid}'s snapshot at {target} is missing or damaged (deleted by hand?), "
            "so no worker can serve its runs with their own code; restore that directory "
            "from a backup, move its runs to this directory's build ('sagaflow upgrade RUN' "
            "checks that they replay on it), or cancel them ('sagaflow cancel RUN')."
        ) from None
    build = Build(bid, target, skills)
    missing = [s.dirname for s in skills if not build.skill_dir(s.dirname).is_dir()]
    if missing:
        raise BuildError(
            f"Build {bid}'s snapshot at {target} lacks skill {missing[0]} (deleted by hand?); "
            "restore that directory from a backup, move its runs to this directory's build "
            "('sagaflow upgrade RUN'), or cancel them ('sagaflow cancel RUN')."
        )
    return build


def known(home: Home) -> list[str]:
    """Ids of the builds snapshotted in this home (sorted)."""
    with contextlib.suppress(OSError):
        return sorted(p.name for p in builds_dir(home).iterdir()
                      if (p / MANIFEST).is_file())
    return []


def current_marker(home: Home, scope: str | None = None) -> str | None:
    """The build last made current from this home (None: none yet).

    Args:
        scope: Where it was made current (:func:`sagaflow._engine.versioning.marker_scope`:
            server, namespace, deployment). Given, a marker written for another scope, or
            by a sagaflow that recorded none, is None: the build current *there* is unknown.
    """
    try:
        text = (builds_dir(home) / "current").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):  # a bare build id: written before markers had a scope
        return None if scope is not None else text or None
    build = data.get("build")
    if not isinstance(build, str) or not build or (scope is not None and data.get("scope") != scope):
        return None
    return build


def set_current_marker(home: Home, bid: str, scope: str = "") -> None:
    """Record that ``bid`` was made current in ``scope`` (see :func:`current_marker`)."""
    root = builds_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".current.{os.getpid()}"
    tmp.write_text(json.dumps({"build": bid, "scope": scope}), encoding="utf-8")
    os.replace(tmp, root / "current")
