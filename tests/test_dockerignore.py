""".dockerignore reading and matching, against Docker's documented and observed behaviour."""
from __future__ import annotations

from pathlib import Path

import pytest

from lintimg.context import BUILDKIT, CLASSIC, BuildContext, find_ignore_file
from lintimg.context.dockerignore import IgnoreFile, Matcher, clean_line, compile_pattern, go_clean, go_glob_regex
from lintimg.context.walk import Tree

# The 22-line ignore file of the research notes (§6.4), observed with a real build.
MATRIX_IGNORE = """\
# comment
*.md
!README.md
foo
build/
**/*.pyc
data
!data/**/*.keep
secrets
!secrets/id_rsa.pub
  # notcomment
.
../x.txt
*/temp*
*/*/temp*
temp?
a/**/b
node_modules
.env
[a-b].txt
star\\*.txt
Dockerfile
"""

# path -> reaches `COPY . /ctx` with the classic builder. The rows the notes list as
# disagreements carry Docker's observed result; the others follow the documented rules.
MATRIX = {
    "# notcomment": False,  # "  # x" is a pattern, not a comment
    "star*.txt": False,  # "\*" is a literal star
    "starX.txt": True,
    "x.txt": True,  # "../x.txt" keeps its ".." and matches nothing
    "README.md": True,
    "CHANGES.md": False,
    "docs/guide.md": True,  # patterns are anchored at the root
    "sub/docs/x.md": True,
    "foo": False,
    "sub/foo": True,
    "build/out.o": False,
    "sub/build/x": True,
    "a.pyc": False,
    "lib/deep/b.pyc": False,
    "data/top.keep": True,
    "data/other.txt": False,
    "data/a/b/keep.keep": False,  # the classic builder never enters data/a
    "secrets/id_rsa": False,
    "secrets/id_rsa.pub": True,
    "x/temp1": False,
    "x/y/temp2": False,
    "temp1": False,
    "temp12": True,
    "a/b": False,
    "a/x/y/b": False,
    "a/c": True,
    "node_modules/pkg/index.js": False,
    "sub/node_modules/m.js": True,
    ".env": False,
    "sub/.env": True,
    "a.txt": False,
    "b.txt": False,
    "c.txt": True,
    "Dockerfile": False,  # sent to the builder, but not visible to COPY
    ".dockerignore": True,
    "app.py": True,
}


def make_tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def sent(root: Path, builder: str = BUILDKIT, dockerfile: str | None = "Dockerfile") -> set[str]:
    ctx = BuildContext(str(root), str(root / dockerfile) if dockerfile else None, builder)
    return {e.rel for e in ctx.everything().files}


@pytest.fixture
def matrix(tmp_path: Path) -> Path:
    make_tree(tmp_path, {p: "x" for p in MATRIX if p != ".dockerignore"})
    (tmp_path / ".dockerignore").write_text(MATRIX_IGNORE)
    return tmp_path


def test_matrix_classic_builder(matrix: Path) -> None:
    got = sent(matrix, CLASSIC)
    wrong = {p: want for p, want in MATRIX.items() if (p in got) != want}
    assert not wrong, f"paths where lintimg disagrees with Docker (path: Docker's answer): {wrong}"


def test_matrix_buildkit_walks_into_excluded_dirs_for_wildcard_exceptions(matrix: Path) -> None:
    got = sent(matrix, BUILDKIT)
    assert "data/a/b/keep.keep" in got
    assert "data/other.txt" not in got
    assert {p for p in MATRIX if p != "data/a/b/keep.keep"} & got == {p for p, want in MATRIX.items() if want}


def test_matrix_excluded_directories_with_reincluded_children_are_present(matrix: Path) -> None:
    ctx = BuildContext(str(matrix), str(matrix / "Dockerfile"), CLASSIC)
    sent_dirs = set(ctx.everything().dirs)
    assert "data" not in sent_dirs and "secrets" not in sent_dirs  # excluded entries ...
    files = {e.rel for e in ctx.everything().files}
    assert "data/top.keep" in files and "secrets/id_rsa.pub" in files  # ... yet their children arrive


@pytest.mark.parametrize(
    "raw, want",
    [
        ("# comment", None),
        ("  # x", (False, "# x")),
        ("", None),
        ("   ", None),
        ("dir/", (False, "dir")),
        ("/foo", (False, "foo")),
        ("./a/./b", (False, "a/b")),
        ("a/../b", (False, "b")),
        ("../x.txt", (False, "../x.txt")),
        ("a//b", (False, "a/b")),
        ("!  keep.txt  ", (True, "keep.txt")),
        ("!/abs", (True, "abs")),
        (".", (False, ".")),
        ("/", (False, "/")),
    ],
)
def test_reading_lines(raw: str, want) -> None:
    assert clean_line(raw) == want


def test_bom_crlf_and_comment_in_column_one_only() -> None:
    f = IgnoreFile.parse(b"\xef\xbb\xbf*.log\r\n#c\r\n \t#d\r\n\r\n!keep.log\r\n")
    assert [str(p) for p in f.patterns] == ["*.log", "#d", "!keep.log"]
    assert [p.line for p in f.patterns] == [1, 3, 5]
    assert not f.problems


def test_bom_only_stripped_on_first_line() -> None:
    f = IgnoreFile.parse(b"a\n\xef\xbb\xbfb\n")
    assert [p.text for p in f.patterns] == ["a", "\ufeffb"]


@pytest.mark.parametrize("bad", ["[", "a[", "[]", "[a-]", "[-a]", "x\\", "[^]", "!"])
def test_invalid_patterns_are_problems_with_their_line(bad: str) -> None:
    f = IgnoreFile.parse(f"ok\n{bad}\n".encode())
    assert [p.text for p in f.patterns] == ["ok"]
    assert len(f.problems) == 1 and f.problems[0].line == 2


def test_line_over_64k_stops_reading() -> None:
    f = IgnoreFile.parse(b"a\n" + b"b" * 70000 + b"\nc\n")
    assert [p.text for p in f.patterns] == ["a"]
    assert f.problems and f.problems[0].line == 2


@pytest.mark.parametrize(
    "pattern, path, want",
    [
        ("*.md", "a.md", True),
        ("*.md", "d/a.md", False),
        ("**/*.md", "a.md", True),
        ("**/*.md", "d/e/a.md", True),
        ("**", "anything/at/all", True),
        ("**/foo", "foo", True),
        ("**/foo", "a/b/foo", True),
        ("**/foo", "afoo", False),
        ("a/**", "a/x/y", True),
        ("a/**", "ab", False),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/xb", False),
        ("?.txt", "a.txt", True),
        ("?.txt", "ab.txt", False),
        ("?", "/", False),
        ("[^a].txt", "b.txt", True),
        ("[^a].txt", "a.txt", False),
        ("[a-c]x", "bx", True),
        ("\\[x\\]", "[x]", True),
        ("a.b", "axb", False),  # regexp metacharacters are literal
        ("a+b", "a+b", True),
        ("(x)", "(x)", True),
        ("*", "a/b", False),
    ],
)
def test_pattern_match(pattern: str, path: str, want: bool) -> None:
    assert compile_pattern(pattern).match(path) is want


def test_parent_directories_match_and_last_match_wins() -> None:
    m = Matcher([compile_pattern("logs"), compile_pattern("logs/keep", exclusion=True), compile_pattern("logs/keep/tmp")])
    assert m.matches_or_parent_matches("logs/a.txt")
    assert not m.matches_or_parent_matches("logs/keep/a.txt")
    assert m.matches_or_parent_matches("logs/keep/tmp/x")
    assert not m.matches_or_parent_matches("other")


def test_exception_before_exclusion_has_no_effect() -> None:
    m = Matcher([compile_pattern("x.txt", exclusion=True), compile_pattern("*.txt")])
    assert m.matches_or_parent_matches("x.txt")


@pytest.mark.parametrize(
    "path, want",
    [("a/b", "a/b"), ("a/../../b", "../b"), ("/../a", "/a"), ("", "."), ("a/", "a"), ("//a//", "/a"), ("./", ".")],
)
def test_go_clean(path: str, want: str) -> None:
    assert go_clean(path) == want


def test_copy_glob_stays_in_one_segment() -> None:
    r = go_glob_regex("src/*.py")
    assert r.match("src/a.py") and not r.match("src/x/a.py")
    assert go_glob_regex("[^a]?").match("bc") and not go_glob_regex("[^a]?").match("ac")
    assert go_glob_regex("a\\*").match("a*") and not go_glob_regex("a\\*").match("ab")


def test_dockerfile_specific_ignore_wins_for_buildkit_only(tmp_path: Path) -> None:
    make_tree(tmp_path, {"x.txt": "1", "y.txt": "2", "docker/app.Dockerfile": "FROM scratch\n"})
    (tmp_path / ".dockerignore").write_text("y.txt\n")
    (tmp_path / "docker/app.Dockerfile.dockerignore").write_text("x.txt\n")
    df = str(tmp_path / "docker/app.Dockerfile")
    bk = find_ignore_file(str(tmp_path), df, BUILDKIT)
    assert bk.dockerfile_specific and [p.text for p in bk.ignore.patterns] == ["x.txt"]
    classic = find_ignore_file(str(tmp_path), df, CLASSIC)
    assert not classic.dockerfile_specific and [p.text for p in classic.ignore.patterns] == ["y.txt"]
    assert "x.txt" not in sent(tmp_path, BUILDKIT, "docker/app.Dockerfile")
    assert "x.txt" in sent(tmp_path, CLASSIC, "docker/app.Dockerfile")


def test_excluded_dockerfile_and_ignore_file_are_not_copied(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM scratch\n", "a": "1"})
    (tmp_path / ".dockerignore").write_text("Dockerfile\n.dockerignore\n")
    for builder in (BUILDKIT, CLASSIC):
        assert sent(tmp_path, builder) == {"a"}


def test_classic_exception_for_excluded_dockerfile_opens_its_directory(tmp_path: Path) -> None:
    # The CLI adds "!docker/Dockerfile", so the classic walk enters docker/ and finds top.keep.
    make_tree(tmp_path, {"docker/Dockerfile": "FROM scratch\n", "docker/top.keep": "1", "docker/sub/deep.keep": "2"})
    (tmp_path / ".dockerignore").write_text("docker\n!docker/**/*.keep\n")
    assert sent(tmp_path, CLASSIC, "docker/Dockerfile") == {".dockerignore", "docker/top.keep"}
    assert sent(tmp_path, BUILDKIT, "docker/Dockerfile") == {".dockerignore", "docker/top.keep", "docker/sub/deep.keep"}


def test_symlinks_are_listed_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"d/a": "1"})
    (tmp_path / "d" / "loop").symlink_to("..")
    (tmp_path / "self").symlink_to("self")
    tree = Tree(str(tmp_path))
    files = {e.rel: e.kind for e in tree.subtree("").files}
    assert files == {"d/a": "file", "d/loop": "link", "self": "link"}
    assert tree.resolve("self") == (None, "too many levels of symbolic links (a symlink loop)")
    assert tree.resolve("d/loop/d/a") == ("d/a", None)
