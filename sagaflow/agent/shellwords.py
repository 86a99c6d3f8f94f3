"""Splitting a shell command line into its simple commands, for Bash permission rules.

Written with :mod:`shlex` (the platform's POSIX shell lexer): the rules need only where
one command ends and the next begins, not a full shell grammar. When in doubt the split
is conservative: a line it cannot read safely gives None, and the caller then allows it
only through a bare ``Bash`` rule.
"""

from __future__ import annotations

import re
import shlex

#: shlex punctuation: sub-command separators and redirections
_PUNCTUATION = ";&|()<>\n"
_SEPARATOR_CHARS = frozenset(";|()\n")
_UNSAFE = ("$(", "`", "<(", ">(")
#: words that open or close a compound command: "do rm x" is judged as "rm x"
_KEYWORDS = frozenset({"{", "}", "!", "if", "then", "else", "elif", "fi", "do", "done", "while",
                       "until", "time", "case", "esac"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def bash_subcommands(command: str, *, assignments: bool = False) -> list[str] | None:
    """The simple commands of a shell command line, each re-quoted, or None when the line
    cannot be split safely (unbalanced quotes, ``$(...)``, backticks, process substitution).

    Written with :mod:`shlex` (the platform's POSIX shell lexer): sagaflow needs only where
    one command ends and the next begins, not a full shell grammar. Leading keywords are
    dropped, and leading ``NAME=value`` assignments too unless ``assignments`` is true.
    """
    if any(mark in command for mark in _UNSAFE):
        return None
    lexer = shlex.shlex(command, posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    # no comments: shlex would end the line at "a#b", where bash reads on ("echo a#b; rm x")
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # "No closing quotation" and the like
        return None
    commands: list[list[str]] = [[]]
    for token in tokens:
        is_punct = token and all(ch in _PUNCTUATION for ch in token)
        if is_punct and (token in ("&", "&&") or _SEPARATOR_CHARS & set(token)):
            commands.append([])
        elif commands[-1] or not (
            token in _KEYWORDS or (not assignments and _ASSIGNMENT.match(token))
        ):
            commands[-1].append(token)  # leading keywords (and FOO=bar assignments) dropped
    return [shlex.join(words) for words in commands if words]
