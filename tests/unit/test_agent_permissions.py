"""Claude Code's permission rules, table-driven: every syntax, deny before ask before allow,
the defaults, compound Bash commands per sub-command, and where rules come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagaflow.agent.permission_sources import load_rules, split_tool_list
from sagaflow.agent.permissions import PermissionRules, decide, explain, parse_rule
from sagaflow.agent.shellwords import bash_subcommands
from sagaflow.errors import ConfigError

WS = "/work/ws"


def rules(allow: tuple[str, ...] = (), ask: tuple[str, ...] = (),
          deny: tuple[str, ...] = ()) -> PermissionRules:
    return PermissionRules(allow=allow, ask=ask, deny=deny)


CASES = [
    # (id, rules, tool, input, expected)
    ("default read runs", rules(), "Read", {"file_path": f"{WS}/a"}, "allow"),
    ("default glob runs", rules(), "Glob", {"pattern": "*"}, "allow"),
    ("default grep runs", rules(), "Grep", {"pattern": "x"}, "allow"),
    ("default bash asks", rules(), "Bash", {"command": "ls"}, "ask"),
    ("default write asks", rules(), "Write", {"file_path": f"{WS}/a", "content": ""}, "ask"),
    ("default edit asks", rules(), "Edit", {"file_path": f"{WS}/a"}, "ask"),
    ("default webfetch asks", rules(), "WebFetch", {"url": "https://x.org"}, "ask"),
    ("bare tool", rules(allow=("Bash",)), "Bash", {"command": "rm -rf x"}, "allow"),
    ("Bash(*) is bare", rules(allow=("Bash(*)",)), "Bash", {"command": "anything"}, "allow"),
    ("prefix", rules(allow=("Bash(npm run test:*)",)), "Bash",
     {"command": "npm run test -- --watch"}, "allow"),
    ("prefix exact", rules(allow=("Bash(npm run test:*)",)), "Bash",
     {"command": "npm run test"}, "allow"),
    ("prefix word boundary", rules(allow=("Bash(npm run test:*)",)), "Bash",
     {"command": "npm run testing"}, "ask"),
    ("exact command", rules(allow=("Bash(npm test)",)), "Bash", {"command": "npm test"}, "allow"),
    ("exact is not prefix", rules(allow=("Bash(npm test)",)), "Bash",
     {"command": "npm test x"}, "ask"),
    ("wildcard", rules(allow=("Bash(git * main)",)), "Bash",
     {"command": "git checkout main"}, "allow"),
    ("wildcard miss", rules(allow=("Bash(git * main)",)), "Bash",
     {"command": "git checkout dev"}, "ask"),
    ("space star covers bare", rules(allow=("Bash(ls *)",)), "Bash", {"command": "ls"}, "allow"),
    ("space star boundary", rules(allow=("Bash(ls *)",)), "Bash", {"command": "lsof"}, "ask"),
    ("compound &&", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls && rm -rf /"}, "ask"),
    ("compound ;", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls; rm -rf /"}, "ask"),
    ("compound |", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls | sh"}, "ask"),
    ("compound newline", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls\nrm x"}, "ask"),
    ("compound &", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls & rm x"}, "ask"),
    ("subshell", rules(allow=("Bash(ls:*)",)), "Bash", {"command": "ls && (rm x)"}, "ask"),
    ("compound all allowed", rules(allow=("Bash(ls:*)", "Bash(wc:*)")), "Bash",
     {"command": "ls -la | wc -l"}, "allow"),
    ("quoted separator is data", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo 'a; rm -rf /'"}, "allow"),
    ("redirection stays in the command", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo hi 2>&1"}, "allow"),
    ("hash inside a word is no comment", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo a#b; rm -rf /"}, "ask"),
    ("comment is checked too", rules(allow=("Bash(ls:*)",)), "Bash",
     {"command": "ls #; rm x"}, "ask"),
    ("command substitution never allowed by a prefix", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo $(rm -rf /)"}, "ask"),
    ("backticks never allowed by a prefix", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo `rm x`"}, "ask"),
    ("unbalanced quote asks", rules(allow=("Bash(echo:*)",)), "Bash",
     {"command": "echo 'oops"}, "ask"),
    ("deny beats allow", rules(allow=("Bash",), deny=("Bash(rm:*)",)), "Bash",
     {"command": "rm -rf build"}, "deny"),
    ("deny sees through braces", rules(allow=("Bash",), deny=("Bash(rm:*)",)), "Bash",
     {"command": "echo hi; { rm -rf /; }"}, "deny"),
    ("deny sees through loops", rules(allow=("Bash",), deny=("Bash(rm:*)",)), "Bash",
     {"command": "for f in a b; do rm $f; done"}, "deny"),
    ("deny sees through assignments", rules(allow=("Bash",), deny=("Bash(rm:*)",)), "Bash",
     {"command": "FOO=1 rm x"}, "deny"),
    ("allow does not skip assignments", rules(allow=("Bash(make:*)",)), "Bash",
     {"command": "LD_PRELOAD=x.so make"}, "ask"),
    ("allow sees through keywords", rules(allow=("Bash(make:*)",)), "Bash",
     {"command": "{ make; }"}, "allow"),
    ("deny one sub-command denies all", rules(allow=("Bash",), deny=("Bash(rm:*)",)), "Bash",
     {"command": "ls && rm -rf /"}, "deny"),
    ("deny beats ask", rules(ask=("Bash(git push:*)",), deny=("Bash(git push:*)",)), "Bash",
     {"command": "git push"}, "deny"),
    ("ask beats allow", rules(allow=("Bash(git:*)",), ask=("Bash(git push:*)",)), "Bash",
     {"command": "git push origin"}, "ask"),
    ("ask sub-command", rules(allow=("Bash",), ask=("Bash(git push:*)",)), "Bash",
     {"command": "git add . && git push"}, "ask"),
    ("read path rule", rules(deny=("Read(./secrets/**)",)), "Read",
     {"file_path": f"{WS}/secrets/key.pem"}, "deny"),
    ("read path rule misses", rules(deny=("Read(./secrets/**)",)), "Read",
     {"file_path": f"{WS}/docs/a.md"}, "allow"),
    ("read rule governs grep", rules(deny=("Read(./secrets/**)",)), "Grep",
     {"pattern": "x", "path": f"{WS}/secrets/a"}, "deny"),
    ("read rule governs glob", rules(deny=("Read(./secrets/**)",)), "Glob",
     {"pattern": "*", "path": f"{WS}/secrets"}, "deny"),
    ("edit rule governs write", rules(allow=("Edit(src/**)",)), "Write",
     {"file_path": f"{WS}/src/m.py", "content": ""}, "allow"),
    ("edit rule outside", rules(allow=("Edit(src/**)",)), "Edit",
     {"file_path": f"{WS}/docs/m.md"}, "ask"),
    ("gitignore any depth", rules(deny=("Read(*.env)",)), "Read",
     {"file_path": f"{WS}/a/b/.env"}, "deny"),
    ("relative file path", rules(allow=("Edit(src/**)",)), "Edit",
     {"file_path": "src/m.py"}, "allow"),
    ("absolute path rule", rules(deny=("Read(//etc/**)",)), "Read",
     {"file_path": "/etc/passwd"}, "deny"),
    ("dotdot does not dodge", rules(deny=("Read(./secrets/**)",)), "Read",
     {"file_path": f"{WS}/docs/../secrets/k"}, "deny"),
    ("domain", rules(allow=("WebFetch(domain:example.com)",)), "WebFetch",
     {"url": "https://example.com/a", "prompt": ""}, "allow"),
    ("domain other host", rules(allow=("WebFetch(domain:example.com)",)), "WebFetch",
     {"url": "https://evil.example.org/", "prompt": ""}, "ask"),
    ("domain lookalike", rules(allow=("WebFetch(domain:example.com)",)), "WebFetch",
     {"url": "https://example.com.evil.org/", "prompt": ""}, "ask"),
    ("domain wildcard", rules(allow=("WebFetch(domain:*.example.com)",)), "WebFetch",
     {"url": "https://docs.example.com/", "prompt": ""}, "allow"),
    ("bare webfetch", rules(allow=("WebFetch",)), "WebFetch", {"url": "https://a.b/"}, "allow"),
    ("mcp server", rules(allow=("mcp__github",)), "mcp__github__create_issue", {}, "allow"),
    ("mcp server star", rules(allow=("mcp__github__*",)), "mcp__github__list", {}, "allow"),
    ("mcp exact", rules(allow=("mcp__github__list",)), "mcp__github__create", {}, "ask"),
    ("mcp other server", rules(allow=("mcp__github",)), "mcp__gitlab__list", {}, "ask"),
    ("bash rule does not cover read", rules(deny=("Bash",)), "Read",
     {"file_path": f"{WS}/a"}, "allow"),
    ("unknown tool asks", rules(), "NotebookEdit", {}, "ask"),
]


@pytest.mark.parametrize(("rules_", "tool", "input_", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide(rules_: PermissionRules, tool: str, input_: dict[str, object],
                expected: str) -> None:
    assert decide(rules_, tool, dict(input_), WS) == expected


def test_explain_names_the_rule() -> None:
    r = rules(allow=("Bash",), deny=("Bash(rm:*)",))
    assert explain(r, "Bash", {"command": "rm -f x"}, WS) == ("deny", "Bash(rm:*)")
    assert explain(rules(), "Bash", {"command": "ls"}, WS) == ("ask", None)


def test_symlinked_path_is_judged_where_it_leads(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "k").write_text("x")
    (tmp_path / "innocent").symlink_to(tmp_path / "secrets" / "k")
    r = rules(deny=("Read(./secrets/**)",))
    assert decide(r, "Read", {"file_path": str(tmp_path / "innocent")}, str(tmp_path)) == "deny"


@pytest.mark.parametrize(("command", "parts"), [
    ("ls && rm -rf /", ["ls", "rm -rf /"]),
    ("a; b || c | d & e", ["a", "b", "c", "d", "e"]),
    ("git commit -m 'a; b'", ["git commit -m 'a; b'"]),
    ("a\nb", ["a", "b"]),
    ("echo a#b; rm x", ["echo 'a#b'", "rm x"]),
    ("if true; then rm x; fi", ["true", "rm x"]),
    ("A=1 B=2 make test", ["make test"]),
    ("echo $(x)", None),
    ("echo 'unterminated", None),
])
def test_bash_subcommands(command: str, parts: list[str] | None) -> None:
    assert bash_subcommands(command) == parts


@pytest.mark.parametrize("bad", ["", "Bash(", "Ba sh", "(x)", "Bash(x"])
def test_malformed_rule_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="malformed"):
        parse_rule(bad, source="settings.json")


def test_split_allowed_tools() -> None:
    assert split_tool_list("Read, Grep Bash(git log:*), Bash(npm run test:*)") == [
        "Read", "Grep", "Bash(git log:*)", "Bash(npm run test:*)"]
    assert split_tool_list(["Read", " Write "]) == ["Read", "Write"]
    assert split_tool_list(None) == []


def _settings(path: Path, **lists: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hooks": {}, "permissions": lists}))


def test_load_rules_merges_every_source(tmp_path: Path) -> None:
    user, ws = tmp_path / "claude", tmp_path / "ws"
    _settings(user / "settings.json", allow=["Bash(git:*)"], deny=["Bash(rm:*)"])
    _settings(ws / ".claude" / "settings.json", ask=["Bash(git push:*)"])
    _settings(ws / ".claude" / "settings.local.json", allow=["Bash(git:*)", "Edit(src/**)"])
    managed = tmp_path / "managed.json"
    _settings(managed, deny=["WebFetch"])
    got = load_rules(ws, "Read, Bash(npm test)", ["Write"],
                     config_permissions={"deny": ["Bash(sudo:*)"]}, user_dir=user,
                     managed=managed)
    assert got == PermissionRules(
        allow=("Bash(git:*)", "Edit(src/**)", "Read", "Bash(npm test)", "Write"),
        ask=("Bash(git push:*)",),
        deny=("WebFetch", "Bash(rm:*)", "Bash(sudo:*)"),
    )
    # the user's deny beats the skill's allow whatever the order of sources
    assert decide(got, "Bash", {"command": "rm x"}, str(ws)) == "deny"
    assert decide(got, "Bash", {"command": "git push"}, str(ws)) == "ask"


def test_load_rules_from_claude_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
    _settings(tmp_path / "cc" / "settings.json", deny=["Bash(curl:*)"])
    got = load_rules(tmp_path / "ws", None, (), managed=tmp_path / "none.json")
    assert got.deny == ("Bash(curl:*)",)


def test_invalid_settings_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "ws" / ".claude" / "settings.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"permissions": {"allow": [}')
    with pytest.raises(ConfigError, match=r"settings.json is not valid JSON \(line 1"):
        load_rules(tmp_path / "ws", user_dir=tmp_path / "u", managed=tmp_path / "none.json")


def test_malformed_skill_rule_names_the_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allowed-tools"):
        load_rules(tmp_path, ["Bash(npm"], user_dir=tmp_path / "u", managed=tmp_path / "n.json")


def test_config_yaml_permissions(tmp_path: Path) -> None:
    from sagaflow.config import load_settings
    from sagaflow.paths import Home

    home = Home(tmp_path / "home")
    home.ensure(home.root)
    home.config_file.write_text("permissions:\n  deny: ['Bash(rm:*)']\n  allow: [Read]\n")
    assert load_settings(home).permissions == {"deny": ("Bash(rm:*)",), "allow": ("Read",)}
    home.config_file.write_text("permissions:\n  always: [Read]\n")
    with pytest.raises(ConfigError, match=r"'permissions\.always'"):
        load_settings(home)


def test_home_relative_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    r = rules(deny=("Read(~/.ssh/**)",))
    assert decide(r, "Read", {"file_path": str(tmp_path / ".ssh" / "id_ed25519")}, WS) == "deny"
    assert decide(r, "Read", {"file_path": str(tmp_path / "notes.txt")}, WS) == "allow"
