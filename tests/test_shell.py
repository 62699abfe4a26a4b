"""The shell query vocabulary RUN rules stand on (lintimg.dockerfile.shell)."""
from __future__ import annotations

from lintimg.dockerfile.shell import parse_script


def test_flag_count_counts_clustered_flags():
    cmd = parse_script("apt-get -qq install -q curl").commands[0]
    assert cmd.flag_count("q") == 3


def test_after_and_before_split_a_script_at_a_command():
    s = parse_script("a && b; c | d")
    b = s.commands[1]
    assert [c.name for c in s.before(b)] == ["a"]
    assert [c.name for c in s.after(b)] == ["c", "d"]


def test_the_grammar_loaded_past_the_package_init_is_tree_sitter_bashs_own():
    """shell.py loads tree-sitter-bash's extension module without the package's __init__ (which imports
    importlib.resources): the language must be the one ``tree_sitter_bash.language()`` gives."""
    import tree_sitter_bash
    from tree_sitter import Language

    from lintimg.dockerfile import shell

    assert shell._LANGUAGE == Language(tree_sitter_bash.language())
    assert parse_script("apt-get install -y curl && rm -rf /var/lib/apt/lists/*").commands[1].name == "rm"
