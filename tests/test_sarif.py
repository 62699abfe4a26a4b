"""SARIF: schema-valid, acceptable to GitHub code scanning, stable fingerprints."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import attr
import jsonschema
import pytest

from lintimg.findings import Finding, ImageLocation, Location, Severity
from lintimg.reports import RunInfo, sarif
from tests.clirun import EXAMPLE_RULES, EXAMPLES, REPO, lintimg
from tests.shared import SARIF_SCHEMA, need

# GitHub's limits (docs "SARIF support for code scanning").
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20
MAX_DESCRIPTION = 1024


def _array(node: dict, key: str, limit: int, where: str, bad: list[str]) -> list:
    """``node[key]``, noting in ``bad`` when it is missing or longer than GitHub allows."""
    items = node.get(key)
    if items is None:
        bad.append(f"{where}: {key} is missing")
        return []
    if len(items) > limit:
        bad.append(f"{where}: {len(items)} {key}, over GitHub's {limit}")
    return items


def github_problems(log: dict) -> list[str]:
    """What GitHub's upload-sarif and ingestion would reject or mis-display in ``log``."""
    bad: list[str] = []
    if log.get("version") != "2.1.0":
        bad.append("version is not 2.1.0")
    runs = log.get("runs", [])
    categories = [r.get("automationDetails", {}).get("id", "").rpartition("/")[0] for r in runs]
    if len(set(categories)) != len(categories):
        bad.append("several runs share a category")
    for r, run in enumerate(runs):
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            bad.append(f"run {r}: tool.driver.name is empty")
        rules = _array(driver, "rules", MAX_RULES, f"run {r}", bad)
        for d in rules:
            rid = d.get("id") or "?"
            for fld in ("shortDescription", "fullDescription", "help"):
                text = d.get(fld, {}).get("text", "")
                if not text.strip():
                    bad.append(f"rule {rid}: {fld}.text is empty")
                if fld != "help" and len(text) > MAX_DESCRIPTION:
                    bad.append(f"rule {rid}: {fld}.text is {len(text)} chars")
            props = d.get("properties", {})
            if len(props.get("tags", [])) > MAX_TAGS:
                bad.append(f"rule {rid}: too many tags")
            if "security-severity" in props:
                ss = props["security-severity"]
                if not isinstance(ss, str) or not re.fullmatch(r"\d+(\.\d+)?", ss) or not 0 < float(ss) <= 10:
                    bad.append(f"rule {rid}: security-severity {ss!r} is not a number in (0, 10] as a string")
        results = _array(run, "results", MAX_RESULTS, f"run {r}", bad)
        for i, res in enumerate(results):
            where = f"run {r} result {i}"
            if not res.get("message", {}).get("text", "").strip():
                bad.append(f"{where}: empty message")
            idx = res.get("ruleIndex")
            if idx is not None and not (0 <= idx < len(rules) and rules[idx].get("id") == res.get("ruleId")):
                bad.append(f"{where}: ruleIndex {idx} does not point at {res.get('ruleId')}")
            if res.get("level") not in ("error", "warning", "note", "none"):
                bad.append(f"{where}: level {res.get('level')!r}")
            locs = res.get("locations") or []
            if not locs:
                bad.append(f"{where}: no location")
                continue
            phys = locs[0].get("physicalLocation", {})
            uri = phys.get("artifactLocation", {}).get("uri", "")
            if not uri:
                bad.append(f"{where}: no artifactLocation.uri")
            elif uri.startswith("./") or re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", uri) and not uri.startswith("file://"):
                bad.append(f"{where}: uri {uri!r} is not repo-relative")
            if " " in uri:
                bad.append(f"{where}: uri {uri!r} has a space")
            region = phys.get("region", {})
            if region.get("startLine", 0) < 1:
                bad.append(f"{where}: startLine < 1")
            if "primaryLocationLineHash" not in res.get("partialFingerprints", {}):
                bad.append(f"{where}: no primaryLocationLineHash")

    def negative_indexes(node, path="$"):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("ruleIndex", "index", "rank", "byteOffset", "charOffset") and isinstance(v, (int, float)) and v < 0:
                    bad.append(f"{path}.{k} = {v}")
                negative_indexes(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                negative_indexes(v, f"{path}[{i}]")

    negative_indexes(log)
    return bad


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    need(SARIF_SCHEMA, "the SARIF 2.1.0 schema")
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


def sarif_of(*args: str, cwd: Path | None = None, select: str | None = "EX100,EX101") -> dict:
    """SARIF from the CLI with the example rules; ``select`` keeps other rules' results out."""
    chosen = ("--select", select) if select else ()
    proc = lintimg("--format", "sarif", "--rules-dir", str(EXAMPLE_RULES), *chosen, *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def results(log: dict) -> list[dict]:
    """Every result of every run (one run per Dockerfile checked)."""
    return [res for run in log["runs"] for res in run["results"]]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "Dockerfile").is_file()))
def test_bundled_examples_are_valid_sarif_for_github(example: str, validator) -> None:
    log = sarif_of(f"fixtures/examples/{example}/Dockerfile")
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    assert github_problems(log) == []
    for res in results(log):
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == f"fixtures/examples/{example}/Dockerfile"


def test_every_rule_on_every_example_gives_valid_sarif(validator) -> None:
    """All loaded rules (built-in ones included), so every rule's metadata goes through the checks."""
    log = sarif_of("fixtures/examples", select=None)
    assert not list(validator.iter_errors(log))
    assert github_problems(log) == []


def test_every_example_together_is_valid_and_has_results(validator) -> None:
    log = sarif_of("fixtures/examples")
    assert not list(validator.iter_errors(log))
    assert github_problems(log) == []
    ids = {r["ruleId"] for r in results(log)}
    # broken/ has a typo'd instruction; webapp/ uses python:latest (example rule EX100).
    assert {"LI001", "EX100"} <= ids
    # one run per Dockerfile, the clean one too (its upload closes old alerts), each its own category
    by_id = {run["automationDetails"]["id"]: run for run in log["runs"]}
    assert set(by_id) == {f"lintimg/dockerfile/fixtures/examples/{name}/Dockerfile/" for name in ("broken", "good", "webapp")}
    assert by_id["lintimg/dockerfile/fixtures/examples/good/Dockerfile/"]["results"] == []
    for rid, run in by_id.items():
        assert run["tool"]["driver"]["name"] == "lintimg" and run["tool"]["driver"]["version"]
        assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] + "/" for r in run["results"]} <= {rid.removeprefix("lintimg/dockerfile/")}


def test_the_checker_rejects_a_naive_dump() -> None:
    """A plain attrs dump keeps sarif-om's defaults (ruleIndex -1 …): the checker must see that."""
    f = Finding("LI001", "parse-error", Severity.ERROR, "bad", Location("Dockerfile", 2, 1))
    info = RunInfo(rules=[], files=["Dockerfile"])
    naive = attr.asdict(sarif.build_log([f], info), filter=lambda a, v: v is not None)
    assert any("= -1" in p for p in github_problems(naive))
    assert any("no location" in p or "artifactLocation" in p for p in github_problems(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": []}}, "results": [{"message": {"text": "m"}, "level": "note", "locations": []}]}]}
    ))


def test_serialiser_leaves_out_sarif_om_defaults() -> None:
    f = Finding("LI001", "parse-error", Severity.WARNING, "bad", Location("Dockerfile", 2, 1))
    text = sarif.render([f], RunInfo(rules=[], files=["Dockerfile"], sources={"Dockerfile": ["FROM x", "RUNN y"]}))
    log = json.loads(text)
    res = results(log)[0]
    assert "kind" not in res and "rank" not in res
    assert res["ruleIndex"] == 0
    assert res["level"] == "warning"  # the one default kept on purpose
    assert "language" not in log["runs"][0] and "language" not in log["runs"][0]["tool"]["driver"]
    assert '"index"' not in text and "byteOffset" not in text and "charOffset" not in text
    assert log["$schema"].endswith("sarif-2.1.0.json")
    # region: the whole rest of the line, endColumn exclusive
    assert res["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 7}


def test_rules_array_has_docs_tags_and_security_severity() -> None:
    log = sarif_of("fixtures/examples")
    rules = {d["id"]: d for run in log["runs"] for d in run["tool"]["driver"]["rules"]}
    # only rules with results are listed, and every result's rule is listed, in each run
    for run in log["runs"]:
        assert {d["id"] for d in run["tool"]["driver"]["rules"]} == {r["ruleId"] for r in run["results"]}
    lat = rules["EX100"]
    assert lat["name"] == "example-latest-tag"
    assert lat["shortDescription"]["text"] == "A FROM uses the `latest` tag or no tag at all."
    assert "## Why it matters" in lat["help"]["markdown"] and "Why it matters" in lat["help"]["text"]
    assert lat["helpUri"].startswith("https://") and "EX100" in lat["helpUri"]
    assert lat["properties"]["problem.severity"] == "warning"
    assert lat["properties"]["precision"] in ("very-high", "high", "medium", "low")
    assert "security" not in lat["properties"]["tags"]
    assert "security-severity" not in lat["properties"]


def test_security_rule_is_tagged_and_scored(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nENV DB_PASSWORD=correcthorsebatterystaple\n")
    log = sarif_of("Dockerfile", cwd=tmp_path)
    rule = next(d for d in log["runs"][0]["tool"]["driver"]["rules"] if d["id"] == "EX101")
    assert rule["properties"]["security-severity"] == "7.5"
    assert rule["properties"]["tags"][0] == "security"
    res = next(r for r in results(log) if r["ruleId"] == "EX101")
    assert res["level"] == "error"
    assert "correcthorsebatterystaple" not in json.dumps(log)


def _long_doc_rule(folder: Path) -> None:
    body = "A very long explanation. " * 80
    (folder / "long_rule.py").write_text(f'''
import sys
from lintimg.findings import Hit, Severity
from lintimg.engine.hookspecs import hookimpl
from lintimg.engine.rule import rule, rules_in


@rule("ZZ900", "long-doc", Severity.INFO, tags=tuple(f"t{{i}}" for i in range(14)))
def long_doc(t):
    """Long documentation.

    ## What it does
    {body}

    ## Why it matters
    Limits.

    ## Example
    Any file.

    ## Fix
    None.
    """
    for ins in t.dockerfile.instructions:
        yield Hit("instruction seen", line=ins.line)


@hookimpl
def lintimg_rules():
    return rules_in(sys.modules[__name__])
''')


def test_long_descriptions_and_many_tags_are_clipped(tmp_path: Path, validator) -> None:
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    _long_doc_rule(rules_dir)
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.19\nRUN true\nRUN true\n")
    proc = lintimg("--format", "sarif", "--rules-dir", str(rules_dir), "--select", "ZZ900", "Dockerfile", cwd=tmp_path)
    log = json.loads(proc.stdout)
    assert not list(validator.iter_errors(log))
    assert github_problems(log) == []
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert len(rule["fullDescription"]["text"]) <= 1024
    assert len(rule["properties"]["tags"]) <= 10
    assert [(r["ruleId"], r["level"]) for r in results(log)] == [("ZZ900", "note")] * 3


def _hashes(log: dict, rule_id: str) -> list[str]:
    return [r["partialFingerprints"]["primaryLocationLineHash"] for r in results(log) if r["ruleId"] == rule_id]


def test_fingerprints_survive_an_unrelated_line_inserted_above(tmp_path: Path) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM alpine\nENV DB_PASSWORD=one-two-three-four\nFROM busybox AS tools\n")
    before = sarif_of("Dockerfile", cwd=tmp_path)
    df.write_text("# a new comment\nFROM alpine\nLABEL team=web\n\nENV DB_PASSWORD=one-two-three-four\nFROM busybox AS tools\n")
    after = sarif_of("Dockerfile", cwd=tmp_path)
    for rid in ("EX100", "EX101"):
        assert _hashes(before, rid) and _hashes(before, rid) == _hashes(after, rid), rid
    lines_before = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results(before)]
    lines_after = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results(after)]
    assert lines_before != lines_after  # the findings did move
    # an edit of the flagged line itself is a different finding
    df.write_text("FROM alpine\nENV DB_PASSWORD=another-value-here\nFROM busybox AS tools\n")
    changed = sarif_of("Dockerfile", cwd=tmp_path)
    assert _hashes(changed, "EX101") != _hashes(before, "EX101")
    assert _hashes(changed, "EX100") == _hashes(before, "EX100")


def test_identical_lines_get_occurrence_counters(tmp_path: Path) -> None:
    # two identical RUN instructions of one stage, each installing the same unpinned package
    (tmp_path / "Dockerfile").write_text("FROM alpine:3\nRUN apk add curl\nRUN apk add curl\nFROM alpine:3\nRUN apk add curl\n")
    hashes = _hashes(sarif_of("Dockerfile", cwd=tmp_path, select="LI310"), "LI310")
    assert len(hashes) == 3
    assert hashes[0].split(":")[0] == hashes[1].split(":")[0]
    assert [h.split(":")[1] for h in hashes[:2]] == ["1", "2"]
    # the same instruction in another stage is another finding
    assert hashes[2].split(":")[0] != hashes[0].split(":")[0]


def test_uris_are_repo_relative(tmp_path: Path) -> None:
    sub = tmp_path / "docker dir" / "app"
    sub.mkdir(parents=True)
    shutil.copy(EXAMPLES / "webapp" / "Dockerfile", sub / "Dockerfile")
    for arg in ("./docker dir/app/Dockerfile", str(sub / "Dockerfile"), "docker dir"):
        log = sarif_of(arg, cwd=tmp_path)
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(log)}
        assert uris == {"docker%20dir/app/Dockerfile"}, (arg, uris)


IMAGE = "docker://ghcr.io/acme/web:1.4@sha256:" + "ab" * 32


def _image_findings(digest: str) -> list[Finding]:
    return [
        Finding("LI560", "secret-in-layer", Severity.ERROR, "AWS key in /app/.env (deleted in layer 3): AKIA…(20 chars)",
                Location(f"{IMAGE}/app/.env"), key="f00d",
                image=ImageLocation(IMAGE, layer_index=2, layer_digest=digest, path="/app/.env", created_by="COPY . /app")),
        Finding("LI801", "world-writable", Severity.WARNING, "/tmp/x is world-writable", Location("deploy/Dockerfile", 4, 1, 4, 12),
                image=ImageLocation(IMAGE, layer_index=1, layer_digest=digest, path="/tmp/x")),
    ]


def test_image_run_category_locations_and_properties(validator) -> None:
    info = RunInfo(rules=[], files=[], kind="image", image=IMAGE, sources={"deploy/Dockerfile": ["FROM a", "", "", "COPY . /app"]})
    log = json.loads(sarif.render(_image_findings("sha256:" + "11" * 32), info))
    assert not list(validator.iter_errors(log))
    assert github_problems(log) == []
    run = log["runs"][0]
    assert run["automationDetails"]["id"] == "lintimg/image/ghcr.io/acme/web/"
    first, second = results(log)
    uri = first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "ghcr.io/acme/web/app/.env"
    assert second["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deploy/Dockerfile"
    assert first["properties"]["imagePath"] == "/app/.env"
    assert first["properties"]["layerIndex"] == 2
    assert first["properties"]["layerDigest"] == "sha256:" + "11" * 32


def test_image_fingerprints_ignore_the_layer_digest() -> None:
    info = RunInfo(rules=[], files=[], kind="image", image=IMAGE)
    a = json.loads(sarif.render(_image_findings("sha256:" + "11" * 32), info))
    b = json.loads(sarif.render(_image_findings("sha256:" + "22" * 32), info))
    assert _hashes(a, "LI560") == _hashes(b, "LI560")
    assert _hashes(a, "LI560") != _hashes(a, "LI801")


@pytest.mark.parametrize("ref, name", [
    ("docker://ghcr.io/acme/web:1.4", "ghcr.io/acme/web"),
    ("alpine:3.19", "alpine"),
    ("localhost:5000/team/app@sha256:" + "0" * 64, "localhost-5000/team/app"),
    ("docker-archive:/tmp/build/app image.tar", "app-image"),
    ("oci:/var/lib/layouts/web:v2", "web"),
])
def test_image_names_have_no_scheme_tag_or_digest(ref: str, name: str) -> None:
    from lintimg.reports.places import image_name

    assert image_name(ref) == name


def test_dockerfile_run_written_to_output_file(tmp_path: Path, validator) -> None:
    out = tmp_path / "lintimg.sarif"
    proc = lintimg("--format", "sarif", "--output", str(out), "--select", "LI001", "fixtures/examples/broken/Dockerfile")
    assert proc.returncode == 1 and proc.stdout == ""
    log = json.loads(out.read_text())
    assert not list(validator.iter_errors(log))
    assert [r["ruleId"] for r in results(log)] == ["LI001"]
    assert results(log)[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert str(REPO) not in out.read_text()  # no absolute paths leak into the uri


SECRET_TOKEN = "ghp_" + "Zq8wLmN3vB5xC7kJ2hG4fD6sA9pR1tY0uE3i"  # GitHub token shape, made up


@pytest.mark.engine
def test_real_image_runs_are_valid_for_github(docker, tmp_path: Path, validator) -> None:
    """An image built by the engine, checked alone and with its Dockerfile: SARIF GitHub accepts, no secret whole."""
    (tmp_path / "Dockerfile").write_text(
        f"FROM {docker.base_image()}\nRUN echo hi > /greeting && echo {SECRET_TOKEN} > /token\nRUN rm /token\n"
        f"ENV API_TOKEN={SECRET_TOKEN}\nCMD [\"sh\"]\n"
    )
    tag = docker.build(tmp_path, "lintimg-test/sarif:1")
    docker.run("save", tag, "-o", str(tmp_path / "image.tar"))
    for extra in ((), ("--dockerfile", "Dockerfile")):
        proc = lintimg("image", "docker-archive:image.tar", "--format", "sarif", *extra, cwd=tmp_path)
        assert proc.returncode in (0, 1), proc.stderr
        assert SECRET_TOKEN not in proc.stdout
        log = json.loads(proc.stdout)
        assert not list(validator.iter_errors(log))
        assert github_problems(log) == []
        run = log["runs"][0]
        assert run["automationDetails"]["id"] == "lintimg/image/image/"
        hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results(log)]
        assert len(hashes) == len(set(hashes))
        for res in results(log):
            if "layerIndex" in res["properties"]:
                assert res["properties"]["layerDigest"].startswith("sha256:")
        if extra:
            assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile" for r in results(log))
        for fmt in ("json", "text", "github", "gitlab", "junit"):
            out = lintimg("image", "docker-archive:image.tar", "--format", fmt, *extra, cwd=tmp_path)
            assert out.returncode in (0, 1) and "Traceback" not in out.stderr, out.stderr
            assert SECRET_TOKEN not in out.stdout, f"{fmt} printed the token whole"


def test_results_over_githubs_limit_keep_the_most_severe_and_say_so(validator) -> None:
    n = sarif.MAX_RESULTS + 3
    findings = [Finding("LI001", "parse-error", Severity.ERROR if i % 1000 == 0 else Severity.STYLE, f"finding {i}", Location("Dockerfile", i + 1, 1, i + 1, 2))
                for i in range(n)]
    log = json.loads(sarif.render(findings, RunInfo(rules=[], files=["Dockerfile"])))
    got = results(log)
    assert len(got) == sarif.MAX_RESULTS
    assert sum(r["level"] == "error" for r in got) == sum(f.severity == Severity.ERROR for f in findings)
    note = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "warning" and note["message"]["text"].startswith("3 of 25003 results were left out")
    assert github_problems(log) == []
    assert not list(validator.iter_errors({**log, "runs": [{**log["runs"][0], "results": got[:50]}]}))


def _many(n: int, path: str, rule: str = "LI300") -> list[Finding]:
    sev = (Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.STYLE)
    return [Finding(rule, "apt-get-pin-versions", sev[i % 4], f"apt-get install without a version: pkg{i}", Location(path, i + 2, 1, i + 2, 30),
                    key=f"pkg{i}", target=path, anchor=f"0\x1fRUN apt-get install -y pkg{i}") for i in range(n)]


def test_30000_findings_stay_within_githubs_limits_per_dockerfile_run(validator) -> None:
    import gzip

    findings = _many(27_000, "api/Dockerfile") + _many(3_000, "web/Dockerfile")
    info = RunInfo(rules=[], files=["api/Dockerfile", "web/Dockerfile", "clean/Dockerfile"])
    text = sarif.render(findings, info)
    log = json.loads(text)
    assert len(gzip.compress(text.encode())) <= sarif.MAX_GZIP_BYTES
    runs = {r["automationDetails"]["id"]: r for r in log["runs"]}
    assert set(runs) == {"lintimg/dockerfile/api/Dockerfile/", "lintimg/dockerfile/web/Dockerfile/", "lintimg/dockerfile/clean/Dockerfile/"}
    api, web = runs["lintimg/dockerfile/api/Dockerfile/"], runs["lintimg/dockerfile/web/Dockerfile/"]
    assert len(api["results"]) == sarif.MAX_RESULTS and api["properties"]["droppedResults"] == 2_000
    assert "least severe first" in api["properties"]["droppedReason"]
    assert {r["level"] for r in api["results"]} == {"error", "warning", "note"}
    assert sum(r["level"] == "error" for r in api["results"]) == 27_000 // 4  # every error kept
    assert len(web["results"]) == 3_000 and "droppedResults" not in web.get("properties", {})
    assert runs["lintimg/dockerfile/clean/Dockerfile/"]["results"] == []
    assert github_problems(log) == []
    assert not list(validator.iter_errors(log))


def test_a_log_over_the_size_limit_is_cut_least_severe_first_and_says_so(validator) -> None:
    import gzip

    findings = _many(4_000, "Dockerfile")
    log = sarif.build_log(findings, RunInfo(rules=[], files=["Dockerfile"]), max_bytes=60_000)
    text = json.dumps(sarif.to_json(log))
    assert len(gzip.compress(text.encode())) <= 60_000
    doc = json.loads(text)
    run = doc["runs"][0]
    kept = run["results"]
    assert 0 < len(kept) < 4_000 and run["properties"]["droppedResults"] == 4_000 - len(kept)
    levels = [r["level"] for r in kept]
    assert levels.count("error") == min(1_000, len(kept))  # errors go last
    assert not list(validator.iter_errors(doc))
