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
