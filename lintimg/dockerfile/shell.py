"""RUN scripts parsed with tree-sitter-bash, and the small query vocabulary rules use.

A :class:`Script` is the list of simple commands in a shell script (argv with
quoting removed), each knowing the operator that joins it to the next one,
whether it sits in a pipeline, and its line inside the script. Rules ask:

- ``cmd.subcommand`` / ``cmd.has_args("install")`` — the first non-flag word;
- ``cmd.has_flag("y", "yes", "assume-yes")`` — short flags cluster (``-qy``);
- ``cmd.args_no_flags(takes_value={"t"})`` — operands, flag values dropped;
- ``cmd.flag_value("o")`` — the value of a flag;
- ``cmd.is_call("apt-get", "install")`` — a command with one of some subcommands;
- ``cmd.without_flags("t", "target-release")`` — the command with those flags and their values dropped;
- ``cmd.flag_count("q")`` — how often a flag is given (``-qq`` is two);
- ``script.after(cmd)`` / ``script.before(cmd)`` — what runs later / earlier in the same RUN.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from lintimg import limits

_LANGUAGE = Language(tree_sitter_bash.language())
_PARSER = Parser(_LANGUAGE)

# Wrappers that run their operand as the real command.
_WRAPPERS = {"sudo", "env", "nice", "nohup", "time", "exec", "command", "xargs", "timeout", "stdbuf", "ionice", "chroot", "su-exec", "gosu", "tini"}


@dataclass
class Command:
    """One simple command: ``argv`` with quotes removed, variable references kept as written."""

    argv: list[str]
    row: int  # 0-based line inside the script
    offset: int = 0  # character offset of the command inside the script
    operator: str = ""  # what follows it: "&&", "||", ";", "|", "&" or "" (end / newline)
    in_pipeline: bool = False
    assignments: list[str] = field(default_factory=list)  # VAR=value prefixes
    wrapped_by: list[str] = field(default_factory=list)  # sudo, env, ... that ran it
    substituted: bool = False  # runs inside $(...), `...` or <(...): its output is a value, not the log

    @cached_property
    def name(self) -> str:  # cached: rules ask for it millions of times over a corpus
        return os.path.basename(self.argv[0]) if self.argv else ""

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @property
    def subcommand(self) -> str | None:
        """The first argument that is not a flag (``install`` in ``apt-get -y install x``)."""
        for a in self.args:
            if not a.startswith("-"):
                return a
        return None

    def has_args(self, *words: str) -> bool:
        """True when any of ``words`` is an argument."""
        return any(a in words for a in self.args)

    def has_flag(self, *names: str) -> bool:
        """True when any flag in ``names`` is present (``"y"`` matches ``-y`` and ``-qy``; ``"yes"`` matches ``--yes``/``--yes=…``)."""
        for a in self.args:
            if a == "--":
                return False
            if a.startswith("--"):
                if a[2:].split("=", 1)[0] in names:
                    return True
            elif a.startswith("-") and len(a) > 1:
                if any(ch in names for ch in a[1:]) or a[1:] in names:
                    return True
        return False

    def flag_value(self, *names: str) -> str | None:
        """The value given to a flag: ``--opt=v``, ``--opt v``, ``-o v`` or ``-ov``."""
        args = self.args
        for i, a in enumerate(args):
            if a.startswith("--"):
                key, eq, val = a[2:].partition("=")
                if key in names:
                    return val if eq else (args[i + 1] if i + 1 < len(args) else "")
            elif a.startswith("-") and len(a) > 1 and a[1] in names:
                return a[2:] if len(a) > 2 else (args[i + 1] if i + 1 < len(args) else "")
        return None

    def is_call(self, name: str | tuple[str, ...], *subs: str) -> bool:
        """True for a call of ``name`` (one name or a tuple) whose subcommand is one of ``subs`` (any when none given)."""
        names = (name,) if isinstance(name, str) else name
        return self.name in names and (not subs or self.subcommand in subs)

    def without_flags(self, *names: str) -> Command:
        """This command with the flags in ``names`` and their values dropped (``-t x``, ``--target=x``)."""
        argv = [self.argv[0]] if self.argv else []
        args = self.args
        i = 0
        while i < len(args):
            a = args[i]
            key = a[2:].partition("=")[0] if a.startswith("--") else (a[1:] if a.startswith("-") and len(a) == 2 else None)
            if key in names:
                i += 1 if "=" in a else 2
                continue
            argv.append(a)
            i += 1
        return Command(argv, self.row, self.offset, self.operator, self.in_pipeline, self.assignments, self.wrapped_by)

    def flag_count(self, *names: str) -> int:
        """How often flags in ``names`` are given (``-qq`` counts 2 for ``"q"``)."""
        n = 0
        for a in self.args:
            if a == "--":
                break
            if a.startswith("--"):
                n += a[2:].split("=", 1)[0] in names
            elif a.startswith("-") and len(a) > 1:
                n += sum(ch in names for ch in a[1:])
        return n

    def args_no_flags(self, takes_value: frozenset[str] | set[str] = frozenset()) -> list[str]:
        """Operands: arguments that are not flags, and not the values of flags in ``takes_value``."""
        out: list[str] = []
        skip = False
        after_dd = False
        for a in self.args:
            if skip:
                skip = False
                continue
            if after_dd:
                out.append(a)
            elif a == "--":
                after_dd = True
            elif a.startswith("--"):
                key, eq, _ = a[2:].partition("=")
                skip = not eq and key in takes_value
            elif a.startswith("-") and len(a) > 1:
                skip = len(a) == 2 and a[1] in takes_value
            else:
                out.append(a)
        return out


@dataclass
class Script:
    text: str
    commands: list[Command]
    has_error: bool
    pipelines: int  # number of pipelines with more than one command
    nesting: int = 0  # the deepest nesting of $(…), `…` and <(…)

    def after(self, cmd: Command) -> list[Command]:
        """The commands that run later in the script than ``cmd``."""
        i = next((k for k, c in enumerate(self.commands) if c is cmd), len(self.commands))
        return self.commands[i + 1 :]

    def before(self, cmd: Command) -> list[Command]:
        """The commands that run earlier in the script than ``cmd``."""
        i = next((k for k, c in enumerate(self.commands) if c is cmd), 0)
        return self.commands[:i]



def parse_script(text: str) -> Script:
    if len(text) > limits.MAX_SCRIPT:  # a longer script reads as unparsable (docs/limits.md)
        return Script(text, [], True, 0)
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Script:
    tree = _PARSER.parse(text.encode("utf-8", "surrogateescape"))
    src = tree.root_node
    cmds: list[Command] = []
    pipes, nesting = _walk(src, cmds)
    return Script(text, cmds, src.has_error, pipes, nesting)


_SKIPPED = frozenset({"heredoc_body", "comment", "heredoc_start", "heredoc_end"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})


def _walk(root: Node, out: list[Command]) -> tuple[int, int]:
    """Collect the commands under ``root`` in source order (a command, then those of its substitutions);
    return (the number of pipelines, the deepest nesting of substitutions).

    An explicit stack, not recursion: a script nests ``"$(`` as deep as its author likes.
    Tasks: ``walk`` a node (``in_pipe``), look for substitutions (``subst``) under a node, and
    ``mark`` the commands collected since a substitution began as substituted.
    """
    pipes = 0
    deepest = 0
    stack: list[tuple[str, Node | None, bool, int]] = [("walk", root, False, 0)]
    while stack:
        task, node, in_pipe, depth = stack.pop()
        if task == "mark":  # ``depth`` holds where the substitution's commands start
            for marked in out[depth:]:
                marked.substituted = True
            continue
        assert node is not None
        t = node.type
        if task == "subst":
            if t in _SUBSTITUTIONS:
                deepest = max(deepest, depth + 1)
                stack.append(("mark", None, False, len(out)))
                stack.extend(("walk", c, False, depth + 1) for c in reversed(node.children))
            else:
                stack.extend(("subst", c, False, depth) for c in reversed(node.children))
            continue
        if t == "command":
            cmd = _command(node)
            if cmd is not None:
                cmd.in_pipeline = in_pipe
                _set_operator(node, cmd)
                out.append(cmd)
            # command substitutions inside arguments hold commands too
            stack.extend(("subst", c, False, depth) for c in reversed(node.children) if c.type != "command_name")
        elif t == "declaration_command":
            words = [_word(c) for c in node.children if c.is_named or c.type in ("export", "local", "declare", "readonly", "typeset")]
            words = [w for w in words if w]
            if words:
                decl = Command(words, node.start_point[0], node.start_byte)
                _set_operator(node, decl)
                out.append(decl)
            stack.append(("subst", node, False, depth))
        elif t == "pipeline":
            if sum(1 for c in node.children if c.is_named) > 1:
                pipes += 1
            stack.extend(("walk", c, True, depth) for c in reversed(node.children))
        elif t not in _SKIPPED:
            stack.extend(("walk", c, in_pipe, depth) for c in reversed(node.children))
    return pipes, deepest


def _set_operator(node: Node, cmd: Command) -> None:
    """Record the operator after ``node``, looking through wrapping nodes."""
    cur = node
    while cur is not None:
        sib = cur.next_sibling
        if sib is not None and not sib.is_named:
            if sib.type in ("&&", "||", ";", "|", "&", "|&", ";;"):
                cmd.operator = sib.type
                return
        parent = cur.parent
        if parent is None or parent.type not in ("redirected_statement", "negated_command", "list", "pipeline"):
            return
        if sib is not None:
            return
        cur = parent


def _command(node: Node) -> Command | None:
    argv: list[str] = []
    assigns: list[str] = []
    for child in node.children:
        t = child.type
        if t == "variable_assignment":
            assigns.append(_text(child))
        elif t == "command_name":
            argv.append(_word(child.children[0] if child.children else child))
        elif child.is_named and t not in ("file_redirect", "heredoc_redirect", "herestring_redirect", "comment"):
            argv.append(_word(child))
    wrapped: list[str] = []
    while argv and os.path.basename(argv[0]) in _WRAPPERS:
        wrapped.append(os.path.basename(argv[0]))
        rest = argv[1:]
        # drop the wrapper's own flags and VAR=value words
        while rest and (rest[0].startswith("-") or ("=" in rest[0] and wrapped[-1] == "env")):
            rest = rest[1:]
        if wrapped[-1] == "timeout" and rest:
            rest = rest[1:]
        if not rest:
            break
        argv = rest
    if not argv:
        return None if not assigns else Command([], node.start_point[0], node.start_byte, assignments=assigns)
    return Command(argv, node.start_point[0], node.start_byte, assignments=assigns, wrapped_by=wrapped)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogateescape")


def _word(node: Node) -> str:
    t = node.type
    text = _text(node)
    if t == "raw_string":
        return text[1:-1]
    if t == "string":
        return "".join(_word(c) if c.is_named else "" for c in node.children) if node.named_child_count else text[1:-1]
    if t == "string_content":
        return text
    if t == "concatenation":
        return "".join(_word(c) for c in node.children)
    if t == "word":
        return _unescape(text)
    return text


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)
