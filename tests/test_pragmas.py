"""Inline suppression pragmas, with real rules as subjects (LI230 workdir-relative, LI703 user-not-numeric)."""
from tests.rulespec import lint


def lines_of(rule: str, text: str, config: dict | None = None) -> list[int]:
    return sorted(f.location.line for f in lint(text, config) if f.rule_id == rule)


TWO = "FROM a:1\n{p}WORKDIR one\nFROM b:1\nWORKDIR two\n"  # the first WORKDIR of each stage


def test_lintimg_ignore_by_id_or_slug_covers_the_next_instruction_only():
    assert lines_of("LI230", TWO.format(p="")) == [2, 4]
    assert lines_of("LI230", TWO.format(p="# lintimg ignore=LI230\n")) == [5]
    assert lines_of("LI230", TWO.format(p="# lintimg ignore=workdir-relative because reasons\n")) == [5]
    # other rules on the same instruction are not suppressed
    text = "FROM a:1\n# lintimg ignore=LI230\nUSER app\n"
    assert lines_of("LI703", text) == [3]


def test_lintimg_ignore_several_ids():
    text = "FROM a:1\n# lintimg ignore=LI230,user-not-numeric\nUSER app\nWORKDIR x\n"
    assert lines_of("LI703", text) == []
    assert lines_of("LI230", text) == [4]


def test_global_and_stage_forms():
    text = "FROM a:1\nWORKDIR one\n# lintimg global ignore=LI230\nFROM b:1\nWORKDIR two\n"
    assert lines_of("LI230", text) == []
    staged = "FROM a:1\nWORKDIR one\n# lintimg stage ignore=LI230\nFROM b:1\nWORKDIR two\nFROM c:1\nWORKDIR three\n"
    assert lines_of("LI230", staged) == [2, 7]


def test_hadolint_pragma_maps_through_peer_ids():
    assert lines_of("LI230", TWO.format(p="# hadolint ignore=DL3000\n")) == [5]
    assert lines_of("LI230", "# hadolint global ignore=DL3000\n" + TWO.format(p="")) == []
    # a DL code the rule does not map suppresses nothing
    assert lines_of("LI230", TWO.format(p="# hadolint ignore=DL3008\n")) == [3, 5]


def test_buildkit_check_skip_directive_and_above_from():
    assert lines_of("LI230", "# check=skip=WorkdirRelativePath\n" + TWO.format(p="")) == []
    text = "FROM a:1\nWORKDIR one\n# check=skip=WorkdirRelativePath\nFROM b:1\nWORKDIR two\n"
    assert lines_of("LI230", text) == [2]
    # a BuildKit name that another rule maps leaves this one alone
    assert lines_of("LI230", "# check=skip=StageNameCasing\n" + TWO.format(p="")) == [3, 5]


def test_unknown_id_in_pragma_is_reported():
    findings = lint(TWO.format(p="# lintimg ignore=LI9999,workdir-relativ\n"))
    unknown = [f for f in findings if f.rule_id == "LI003"]
    assert sorted(f.message for f in unknown) == ["unknown rule 'LI9999' in ignore pragma", "unknown rule 'workdir-relativ' in ignore pragma"]
    assert {f.location.line for f in unknown} == {2}


def test_disable_ignore_pragma_turns_them_all_off():
    assert lines_of("LI230", TWO.format(p="# lintimg ignore=LI230\n"), {"disable-ignore-pragma": True}) == [3, 5]


def test_hadolint_pragma_grammar_as_hadolint_2_15_reads_it():
    """Checked against the hadolint 2.15.1 binary: a malformed id voids the whole pragma; an unknown
    well-formed id does not; spaces around commas and a trailing comment are fine."""
    from tests.rulespec import catches, passes

    body = "FROM debian:12\n# hadolint ignore={}\nRUN apt-get install -y --no-install-recommends curl\n"
    for ids in ("DL3008", "DL3008 , DL3015", "DL3008,DL9999", "DL3008,SC2086", "DL3008,DL3015 # reason", "DL3008#x"):
        passes("LI300", body.format(ids))
    for ids in ("DL3008,dl3015", "DL3008,DL3015x", "DL3008,foo", "DL3008 DL3015", "DL3008,,DL3015", "dl3008"):
        catches("LI300", body.format(ids))
    # the malformed ids are reported, like unknown ones in our own pragma
    catches("LI003", body.format("DL3008,foo"), message="foo")
