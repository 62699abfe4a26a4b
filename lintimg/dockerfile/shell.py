"""RUN scripts parsed with tree-sitter-bash, the one argv parser, and the small query vocabulary rules use.

A :class:`Script` is the list of simple commands in a shell script (argv with
quoting removed), each knowing the operator that joins it to the next one,
whether it sits in a pipeline, and its line inside the script. Every command,
of a shell-form RUN or an exec-form one, is made by :func:`command_from_argv`,
which looks through wrappers (``sudo -u app``, ``nice -n 10``, ``timeout -s KILL 60``,
``env -u X``, ``gosu app``...) with their option tables. Arguments are read by
:func:`parse_argv` with the program's option table (:mod:`lintimg.dockerfile.clis`),
so an option's value is never an operand. Rules ask:

- ``cmd.subcommand`` / ``cmd.has_args("install")`` — the first operand;
- ``cmd.has_flag("y", "yes", "assume-yes")`` — short flags cluster (``-qy``);
- ``cmd.operands`` / ``cmd.args_no_flags()`` — operands, option values dropped;
- ``cmd.flag_value("o")`` — the value of an option;
- ``cmd.is_call("apt-get", "install")`` — a command with one of some subcommands;
- ``cmd.flag_count("q")`` — how often a flag is given (``-qq`` is two);
- ``cmd.parsed`` — options and operands with their index in ``argv`` (for edits);
- ``script.after(cmd)`` / ``script.before(cmd)`` — what runs later / earlier in the same RUN.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import field
from functools import cached_property, lru_cache

from tree_sitter import Language, Node, Parser

from lintimg import limits
from lintimg.dockerfile.clis import GENERIC, WRAPPERS, Cli, cli_of
from lintimg.records import record


def _bash_language() -> object:
    """tree-sitter-bash's grammar, from the extension module that holds it.

    The package's ``__init__`` imports :mod:`importlib.resources` for query files lintimg never reads, which
    brings tempfile, shutil, bz2, lzma and random: ~10 ms of a run over edited files. The import system's own
    steps load the grammar's module without that ``__init__``; a package laid out otherwise is imported whole.
    """
    package = importlib.util.find_spec("tree_sitter_bash")
    where = package.submodule_search_locations if package is not None else None
    spec = importlib.machinery.PathFinder.find_spec("tree_sitter_bash._binding", where) if where else None
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        language = getattr(module, "language", None)
        if callable(language):
            return language()
    import tree_sitter_bash

    return tree_sitter_bash.language()


_LANGUAGE = Language(_bash_language())
_PARSER = Parser(_LANGUAGE)

_WRAPPER_NAMES = frozenset(n for w in WRAPPERS for n in w.names)


@record(frozen=True)
class Option:
    """One option as given: its name without dashes, its value (``None`` for a switch), the argv index of its word."""

    name: str
    value: str | None
    index: int
    word: str


@record(frozen=True)
class ParsedArgs:
    """argv read with a program's option table."""

    options: tuple[Option, ...]
    operands: tuple[tuple[str, int], ...]  # (word, argv index), the subcommand included
    subcommand: str | None
    command_at: int | None = None  # wrappers: argv index where the command they run starts
    lookup: bool = False  # ``command -v x``: x is looked up, not run


def parse_argv(argv: Sequence[str], cli: Cli) -> ParsedArgs:
    """Read ``argv`` (program name first) as ``cli`` documents it: options, their values, operands.

    GNU style: ``-abc`` clusters, ``-tX``/``-t X``, ``--opt=X``/``--opt X`` for options
    that take a value, ``--`` ends the options, a lone ``-`` is an operand. Go style: one
    dash, no clusters, flags end at the first operand after the subcommand. npm style:
    multi-letter shorthands (``-dd``, ``-ws``) and ``--no-x``. Wrappers stop at their
    first operand and report where the command they run starts.
    """
    opts: list[Option] = []
    ops: list[tuple[str, int]] = []
    sub: str | None = None
    wrapper = cli.runs is not None
    options_done = False
    n = len(argv)
    i = 1
    while i < n:
        a = argv[i]
        if a == "--" and not options_done:
            if not cli.dashdash_ends:
                ops.extend((w, k) for k, w in enumerate(argv[i + 1:], i + 1))
            break
        if options_done or len(a) < 2 or not a.startswith("-"):
            ops.append((a, i))
            if wrapper or (cli.style == "go" and sub is not None):
                options_done = True  # a wrapper's options end at its first operand; go's flags at the first package
            elif sub is None and cli.subcommands and len(ops) == 1:
                sub = a
            i += 1
            continue
        i += _read_option(argv, i, cli, sub, opts)
        if wrapper and opts and opts[-1].name in cli.lookups:
            return ParsedArgs(tuple(opts), (), None, None, True)
    command_at = None
    if wrapper:
        rest = ops[cli.runs or 0:] if cli.runs is not None else []
        while rest and cli.assignments and "=" in rest[0][0] and not rest[0][0].startswith("="):
            rest = rest[1:]
        command_at = rest[0][1] if rest else None
    return ParsedArgs(tuple(opts), tuple(ops), sub, command_at)


def _read_option(argv: Sequence[str], i: int, cli: Cli, sub: str | None, out: list[Option]) -> int:
    """Append the option(s) of ``argv[i]`` to ``out``; return how many words they used."""
    a = argv[i]
    nxt = argv[i + 1] if i + 1 < len(argv) else None
    long_form = a.startswith("--") or cli.style == "go"
    if cli.style == "npm" and not a.startswith("--") and a[1:] in cli.value | _NPM_MULTI:
        long_form = True
    if long_form:
        name, eq, val = a.lstrip("-").partition("=")
        if eq:
            out.append(Option(name, val, i, a))
            return 1
        if cli.takes_value(name, sub) and nxt is not None:
            out.append(Option(name, nxt, i, a))
            return 2
        out.append(Option(name, None, i, a))
        return 1
    body = a[1:]
    for j, ch in enumerate(body):
        rest = body[j + 1:]
        if cli.takes_value(ch, sub):
            if rest:
                out.append(Option(ch, rest[1:] if rest.startswith("=") else rest, i, a))
                return 1
            out.append(Option(ch, nxt, i, a))
            return 2 if nxt is not None else 1
        if ch in cli.optional and rest.startswith("="):
            out.append(Option(ch, rest[1:], i, a))
            return 1
        out.append(Option(ch, None, i, a))
    return 1


# npm's multi-letter shorthands that are switches (-dd, -ws, ...): read whole, not as clusters.
_NPM_MULTI = frozenset({"dd", "ddd", "ws", "iwr", "desc", "porcelain", "readonly", "quiet", "silent", "verbose", "local", "no", "help"})


def unwrap(argv: Sequence[str]) -> tuple[int, list[str]]:
    """``(index of the command the wrappers run, wrapper names)``: ``sudo -u app nice -n 5 pip ...`` -> (5, [sudo, nice])."""
    first = 0
    wrapped: list[str] = []
    while first < len(argv):
        name = os.path.basename(argv[first])
        if name not in _WRAPPER_NAMES:
            break
        p = parse_argv(argv[first:], cli_of(name))
        if p.lookup or p.command_at is None:
            break
        wrapped.append(name)
        first += p.command_at
    return first, wrapped


def command_from_argv(argv: Sequence[str], row: int = 0, offset: int = 0, assignments: Sequence[str] = (),
                      spans: Sequence[tuple[int, int]] = (), end: int = 0) -> Command | None:
    """The one constructor of commands: ``argv`` as the shell or an exec-form RUN gives it, wrappers looked
    through; ``spans`` (where each word is written) and ``end`` as :class:`Command` keeps them."""
    first, wrapped = unwrap(argv)
    if first >= len(argv):
        return None if not assignments else Command([], row, offset, assignments=list(assignments), end=end)
    return Command(list(argv[first:]), row, offset, assignments=list(assignments), wrapped_by=wrapped,
                   spans=tuple(spans[first:]), end=end)


@record
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
    # Where each word of ``argv`` is written in the script (UTF-8 byte ranges), and where the command
    # ends: what fixes edit. Empty for commands made up by rules (``without_flags``, ``as_pip``).
    spans: tuple[tuple[int, int], ...] = ()
    end: int = 0

    @cached_property
    def name(self) -> str:  # cached: rules ask for it millions of times over a corpus
        return os.path.basename(self.argv[0]) if self.argv else ""

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @cached_property
    def cli(self) -> Cli:
        return cli_of(self.name)

    @cached_property
    def parsed(self) -> ParsedArgs:
        """argv read with this program's option table."""
        return parse_argv(self.argv, self.cli)

    @property
    def subcommand(self) -> str | None:
        """The first operand (``install`` in ``apt-get -o X=1 install x``)."""
        return self.parsed.subcommand if self.cli.subcommands else (self.parsed.operands[0][0] if self.parsed.operands else None)

    @property
    def operands(self) -> list[str]:
        """Arguments that are neither options nor option values (the subcommand first)."""
        return [w for w, _ in self.parsed.operands]

    def has_args(self, *words: str) -> bool:
        """True when any of ``words`` is an argument."""
        return any(a in words for a in self.args)

    def has_flag(self, *names: str) -> bool:
        """True when any option in ``names`` is given (``"y"`` matches ``-y`` and ``-qy``; ``"yes"`` matches ``--yes``/``--yes=…``)."""
        return any(o.name in names or o.word.lstrip("-").partition("=")[0] in names for o in self.parsed.options)

    def flag_value(self, *names: str) -> str | None:
        """The value given to an option: ``--opt=v``, ``--opt v``, ``-o v`` or ``-ov``.

        For a program without an option table, a lone ``-o``/``--opt`` takes the next word.
        """
        for o in self.parsed.options:
            if o.name in names:
                if o.value is not None:
                    return o.value
                if self.cli is GENERIC and (o.word == "-" + o.name or o.word == "--" + o.name):
                    return self.argv[o.index + 1] if o.index + 1 < len(self.argv) else ""
                return ""
        return None

    def is_call(self, name: str | tuple[str, ...], *subs: str) -> bool:
        """True for a call of ``name`` (one name or a tuple) whose subcommand is one of ``subs`` (any when none given)."""
        names = (name,) if isinstance(name, str) else name
        return self.name in names and (not subs or self.subcommand in subs)

    def flag_count(self, *names: str) -> int:
        """How often flags in ``names`` are given (``-qq`` counts 2 for ``"q"``)."""
        return sum(o.name in names for o in self.parsed.options)

    def args_no_flags(self) -> list[str]:
        """Operands: arguments that are not options nor their values."""
        return self.operands


@record
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
    spans: list[tuple[int, int]] = []
    assigns: list[str] = []
    for child in node.children:
        t = child.type
        if t == "variable_assignment":
            assigns.append(_text(child))
        elif t == "command_name":
            word = child.children[0] if child.children else child
            argv.append(_word(word))
            spans.append((word.start_byte, word.end_byte))
        elif child.is_named and t not in ("file_redirect", "heredoc_redirect", "herestring_redirect", "comment"):
            argv.append(_word(child))
            spans.append((child.start_byte, child.end_byte))
    if not argv:
        return None if not assigns else Command([], node.start_point[0], node.start_byte, assignments=assigns, end=node.end_byte)
    return command_from_argv(argv, node.start_point[0], node.start_byte, assigns, spans, node.end_byte)


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
