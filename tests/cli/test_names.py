"""Every command that takes a run id, schedule or pool name refuses one that is not a
plain name (a trailing newline, a path separator, too long) with one line and exit 2."""

from __future__ import annotations

from sandbox import Sandbox

BAD = "ok-id\n"  # re.match(r"...$") accepts this; fullmatch does not


def test_every_command_refuses_unusable_names(sf: Sandbox) -> None:
    commands = [
        ("launch", "hello-world", "--name", "x", "--id", BAD),
        ("launch", "hello-world", "--name", "x", "--id", "a/b"),
        ("launch", "hello-world", "--name", "x", "--id", "x" * 201),
        ("launch", "hello-world", "--name", "x", "--pool", BAD),
        ("show", BAD), ("tail", BAD), ("logs", BAD), ("retry", BAD), ("dismiss", BAD),
        ("approve", BAD), ("reject", BAD, "--reason", "no"), ("pause", BAD), ("unpause", BAD),
        ("cancel", BAD), ("terminate", BAD, "--reason", "r"), ("signal", BAD, "go"),
        ("schedule", "add", BAD, "hello-world", "--cron", "0 9 * * *", "--arg", "name=x"),
        ("schedule", "show", BAD), ("schedule", "rm", BAD), ("schedule", "trigger", "../x"),
        ("worker", "run", "--pool", "p/q"),
    ]
    for args in commands:
        proc = sf.run(*args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        said = proc.stderr
        assert "is not usable" in said or "control character" in said, (args, said)
        assert "Traceback" not in said and said.count("\n") == 1, (args, said)
    assert not (sf.home / "runs").exists() or not any((sf.home / "runs").iterdir())
