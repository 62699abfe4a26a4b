"""The Dockerfile model: exact positions, heredocs, directives, stages and ARG scoping."""
from hypothesis import given
from hypothesis import strategies as st

from lintimg.dockerfile import parse_dockerfile
from lintimg.dockerfile.queries import command_line, run_commands

SAMPLE = """\
# syntax=docker/dockerfile:1
# escape=\\
ARG BASE=debian:12
FROM $BASE AS Build
RUN --mount=type=cache,target=/root/.cache apt-get update && \\
    # a comment inside the continuation

    apt-get install -y "curl" wget=1.2 | tee /x
COPY --from=build --chown=1:1 a b /dst/
RUN <<EOF
set -e
apk add --no-cache curl
EOF
RUN python3 <<-PY > out
\tprint(1)
\tPY
FROM build
ONBUILD RUN sudo make install
CMD ["a", "b c"]
"""


def test_positions_flags_and_continuations():
    df = parse_dockerfile(SAMPLE)
    kw = [i.keyword for i in df.instructions]
    assert kw == ["ARG", "FROM", "RUN", "COPY", "RUN", "RUN", "FROM", "ONBUILD", "CMD"]
    run = df.instructions[2]
    assert (run.pos.line, run.pos.end_line) == (5, 8)
    assert run.flag("mount").value == "type=cache,target=/root/.cache"
    assert run.flag("mount").token.pos.column == 5
    assert run.empty_continuation_lines == [7]
    assert [c.line for c in run.comments_inside] == [6]
    install = [c for i, c in run_commands(df) if c.subcommand == "install"][0]
    assert install.argv == ["apt-get", "install", "-y", "curl", "wget=1.2"]
    assert install.in_pipeline and install.operator == "|"
    assert command_line(run, install) == 8
    copy = df.instructions[3]
    assert copy.flag_values("from") == ["build"] and [a.value for a in copy.args] == ["a", "b", "/dst/"]
    assert copy.args[2].pos.column == 35


def test_heredocs():
    df = parse_dockerfile(SAMPLE)
    r1, r2 = df.instructions[4], df.instructions[5]
    assert r1.heredocs[0].content == "set -e\napk add --no-cache curl\n"
    assert (r1.heredocs[0].line, r1.heredocs[0].end_line, r1.pos.end_line) == (11, 13, 13)
    assert [c.argv[0] for c in r1.script.commands] == ["set", "apk"]
    assert command_line(r1, r1.script.commands[1]) == 12
    assert r2.heredocs[0].strip_tabs and r2.heredocs[0].content == "print(1)\n"
    assert df.instructions[6].keyword == "FROM"  # body lines are not instructions


def test_directives_stages_and_args():
    df = parse_dockerfile(SAMPLE)
    assert df.directives["syntax"][0] == "docker/dockerfile:1"
    assert df.global_args == {"BASE": "debian:12"}
    assert [(s.name, s.name_raw, s.base_resolved, s.base_stage) for s in df.stages] == [
        ("build", "Build", "debian:12", None),
        (None, None, "build", 0),
    ]
    onb = df.instructions[7].onbuild
    assert onb.keyword == "RUN" and onb.script.commands[0].wrapped_by == ["sudo"]
    assert df.instructions[8].json_args == ["a", "b c"]


def test_escape_directive_backtick():
    df = parse_dockerfile("# escape=`\nFROM windows\nRUN dir `\n  c:\\\\\n")
    assert df.escape == "`"
    assert df.instructions[1].pos.end_line == 4


def test_arg_scoping_and_env():
    df = parse_dockerfile("ARG V=1\nFROM a\nARG V\nENV P=/x/$V\nRUN echo\nFROM a\nRUN echo\n")
    run1, run2 = df.instructions[4], df.instructions[6]
    assert df.env_at(run1) == {"V": "1", "P": "/x/1"}
    assert df.env_at(run2) == {}  # a global ARG is not visible unless redeclared


def test_parse_errors_are_recorded_not_raised():
    df = parse_dockerfile("FROM a\nRUNN x\nRUN <<EOF\necho\n")
    msgs = [(e.line, str(e)) for e in df.errors]
    assert (2, "unknown instruction: RUNN (did you mean 'RUN'?)") in msgs
    assert any("never closed" in m for _, m in msgs)


def _errors(text: str) -> list[tuple[int, str]]:
    return [(e.line, str(e)) for e in parse_dockerfile(text).errors]


def test_line_continuation_follows_docker():
    # One trailing escape (then spaces/tabs) continues; a doubled one or one
    # followed by a no-break space does not (checked against dockerd's parser).
    assert [i.keyword for i in parse_dockerfile("FROM a\nENV x=1 \\ \t\n  y=2\n").instructions] == ["FROM", "ENV"]
    assert _errors("FROM a\nRUN echo \\\\\n  && ls\n") == [(3, "unknown instruction: &&")]
    assert _errors("FROM a\nRUN wget x \\\u00a0\nmv y z\n") == [(3, "unknown instruction: mv")]


def test_invalid_escape_directive_is_an_error():
    assert _errors("# escape=` (backtick)\nFROM a\n") == [(1, "invalid escape directive '` (backtick)': use \\ or `")]


def test_keyword_ends_at_ascii_space_only():
    assert _errors("FROM\u00a0debian\n") == [(1, "unknown instruction: FROM\u00a0debian")]


def test_argument_counts_docker_rejects():
    assert _errors("FROM a\nCOPY onlyone\n")[0][0] == 2
    assert _errors("FROM a\nADD [\"x\"]\n")[0][0] == 2
    assert _errors("FROM a AS\n")[0] == (1, "FROM requires either one or three arguments")
    assert _errors("FROM a b c\n")[0][0] == 1
    assert _errors("FROM a\nENV lonely\n")[0][0] == 2
    assert _errors("FROM a\nLABEL a=b c\n")[0][0] == 2
    # accepted by Docker: legacy multi-word values, a flag before the image, heredoc sources
    for ok in ("FROM a\nENV a b c\nLABEL x y\n", "FROM --platform=linux/amd64 a AS b\n", "FROM a\nCOPY <<EOF /x\nhi\nEOF\n"):
        assert _errors(ok) == [], ok


def test_lone_carriage_return_is_not_a_line_break():
    df = parse_dockerfile('FROM a\r\nRUN sed -i "s/\r//" f \\\r\n  && ls\r\nCMD x\r\n')
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "CMD"] and not df.errors


@given(st.text(alphabet=st.sampled_from(list("ab=$ \t\u00a0\u2003\x1c-/")), max_size=40))
def test_plain_word_split_matches_the_quote_aware_split(s):
    from lintimg.dockerfile.words import _split_quoted, split_words

    assert split_words(s) == _split_quoted(s, "\\")


@given(st.lists(st.integers(1, 9), min_size=1, max_size=6), st.integers(0, 60))
def test_locate_picks_the_segment_holding_the_offset(lengths, offset):
    from lintimg.dockerfile.model import _locate

    segments, start = [], 0
    for n, length in enumerate(lengths):
        segments.append((start, n + 1, 5))
        start += length
    holder = max((s for s in segments if s[0] <= offset), key=lambda s: s[0])
    assert _locate(segments, offset) == (holder[1], 5 + offset - holder[0])


def test_arg_scope_does_not_pass_through_from_stage():
    # Dockerfile reference: an ARG is in scope in its stage only; a stage built FROM another inherits its ENV
    from lintimg.dockerfile import parse_dockerfile

    df = parse_dockerfile("FROM a:1 AS base\nARG A=1\nENV E=2\nFROM base\nRUN x\n")
    env = df.env_at(df.instructions[-1])
    assert env.get("E") == "2" and "A" not in env


def test_env_without_a_value_sets_nothing():
    # `ENV name` (no value) is a syntax error for Docker; templated files (ERB, Jinja) produce it
    df = parse_dockerfile('FROM a:1\nENV <%= @m["env"].join(" ") %>\nENV A=1\nRUN echo $A\nFROM a:1 AS b\nFROM b\nRUN true\n')
    env = df.env_at(df.instructions[3])
    assert env["A"] == "1" and "%>" not in env  # `%>` is a name without a value
    assert "A" not in df.env_at(df.instructions[-1])  # stage `b` never set it
