"""Report formats come through the plugin hook, built-in ones included; a plugin's format of the same name wins."""
from __future__ import annotations

from lintimg.config import Config
from lintimg.engine import Engine, RunInfo
from lintimg.reports import FORMATS


def test_built_in_formats_come_through_the_hook():
    formats = Engine(Config()).report_formats()
    assert set(FORMATS) <= set(formats)


def test_a_plugin_format_of_the_same_name_replaces_the_built_in_one(tmp_path):
    (tmp_path / "fmt.py").write_text(
        "from lintimg.engine import hookimpl\n\n"
        "@hookimpl\n"
        "def lintimg_report_formats():\n"
        "    return {'json': lambda findings, info: 'mine', 'csv': lambda findings, info: 'a,b'}\n"
    )
    formats = Engine(Config(), [str(tmp_path)]).report_formats()
    info = RunInfo(rules=[], files=[])
    assert formats["json"]([], info) == "mine" and formats["csv"]([], info) == "a,b"
    assert set(FORMATS) <= set(formats)


def _report(tmp_path, fmt: str) -> str:
    from tests.clirun import example_run

    (tmp_path / "Dockerfile").write_text("FROM alpine\nENV DB_PASSWORD=abcdefghijkl\n")
    (tmp_path / "clean.Dockerfile").write_text("FROM alpine:3.19\n")
    proc = example_run(tmp_path, "--no-context", "-f", fmt, "Dockerfile", "clean.Dockerfile")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def test_checkstyle_lists_every_file_and_finding(tmp_path):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_report(tmp_path, "checkstyle"))
    assert root.tag == "checkstyle"
    files = {f.get("name"): f for f in root.findall("file")}
    assert set(files) == {"Dockerfile", "clean.Dockerfile"} and not list(files["clean.Dockerfile"])
    errors = [(e.get("line"), e.get("severity"), e.get("source")) for e in files["Dockerfile"]]
    assert errors == [("1", "warning", "lintimg.EX100"), ("2", "error", "lintimg.EX101")]
    assert "abcdefghijkl" not in ET.tostring(root, encoding="unicode")


def test_rdjsonl_is_one_reviewdog_diagnostic_per_line(tmp_path):
    import json

    lines = _report(tmp_path, "rdjsonl").splitlines()
    diags = [json.loads(line) for line in lines]
    assert [(d["code"]["value"], d["severity"], d["location"]["path"]) for d in diags] == [
        ("EX100", "WARNING", "Dockerfile"), ("EX101", "ERROR", "Dockerfile")]
    for d in diags:
        start, end = d["location"]["range"]["start"], d["location"]["range"]["end"]
        assert start["line"] >= 1 and start["column"] >= 1 and (end["line"], end["column"]) > (start["line"], start["column"])
        assert d["source"]["name"] == "lintimg" and d["message"]
    assert "abcdefghijkl" not in "".join(lines)


def _apply_bytes(data: bytes, suggestions: list[dict]) -> bytes:
    """reviewdog's suggestions applied to a file's bytes: lines and UTF-8 byte columns, end exclusive."""
    lines = data.split(b"\n")
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]

    def at(p: dict) -> int:
        return offsets[p["line"] - 1] + p["column"] - 1

    for s in sorted(suggestions, key=lambda s: at(s["range"]["start"]), reverse=True):
        data = data[:at(s["range"]["start"])] + s["text"].encode() + data[at(s["range"]["end"]):]
    return data


def test_rdjsonl_suggestions_are_the_fix_in_utf8_byte_columns(tmp_path):
    """A safe fix after multi-byte characters: reviewdog's suggestion, applied by byte columns, gives the
    file that `lintimg --fix` writes; an unsafe fix's suggestion says it is unsafe."""
    import json

    from tests.clirun import lintimg

    text = "FROM debian:12\nRUN echo 'café ☕' && apt-get install curl\n"
    (tmp_path / "Dockerfile").write_text(text, encoding="utf-8")
    proc = lintimg("--no-context", "-f", "rdjsonl", "--select", "LI302,LI303", "Dockerfile", cwd=tmp_path)
    diags = {d["code"]["value"]: d for d in map(json.loads, proc.stdout.splitlines())}
    safe, unsafe = diags["LI302"], diags["LI303"]
    assert "unsafe fix" in unsafe["message"] and "unsafe fix" not in safe["message"]
    start = safe["suggestions"][0]["range"]["start"]
    assert start["column"] == len("RUN echo 'café ☕' && apt-get install".encode()) + 1  # 3 more than in code points
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "Dockerfile").write_text(text, encoding="utf-8")
    lintimg("--no-context", "--fix", "--select", "LI302", "Dockerfile", cwd=fixed)
    assert _apply_bytes(text.encode(), safe["suggestions"]) == (fixed / "Dockerfile").read_bytes() != text.encode()


def test_rdjsonl_offers_no_suggestion_on_a_line_holding_a_secret(tmp_path):
    import json

    from tests.clirun import lintimg

    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nENV API_TOKEN s3cr3t-Pa55w0rd-value\n")
    proc = lintimg("--no-context", "-f", "rdjsonl", "--select", "LI203,LI500", "Dockerfile", cwd=tmp_path)
    diags = {d["code"]["value"]: d for d in map(json.loads, proc.stdout.splitlines())}
    assert "LI203" in diags and "suggestions" not in diags["LI203"]  # its fix would repeat the value
    assert "s3cr3t-Pa55w0rd-value" not in proc.stdout
