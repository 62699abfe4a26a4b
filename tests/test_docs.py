"""Documentation that is generated or promised: rules.md, the JSON format, configuration keys, rule metadata."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from lintimg import config as config_module
from lintimg.config import Config
from lintimg.engine import Engine
from lintimg.engine.rule import SECTIONS, rule
from lintimg.findings import Finding, ImageLocation, Location, Severity
from lintimg.reports import RunInfo
from lintimg.reports import json as json_report
from lintimg.reports.ruledocs import REGENERATE, index_markdown
from tests.clirun import REPO

DOCS = REPO / "docs"


@pytest.fixture(scope="module")
def rules():
    return Engine(Config()).rules


def test_rules_md_is_current(rules) -> None:
    fresh = index_markdown(rules)
    current = (DOCS / "rules.md").read_text(encoding="utf-8") if (DOCS / "rules.md").is_file() else ""
    assert current == fresh, f"docs/rules.md is stale: run `{REGENERATE}` from the repository root"


def test_every_rule_is_documented_and_well_formed(rules) -> None:
    assert rules, "no rules loaded"
    ids = [r.id for r in rules]
    slugs = [r.slug for r in rules]
    assert len(set(ids)) == len(ids) and len(set(slugs)) == len(slugs)
    for r in rules:
        assert re.fullmatch(r"LI\d{3}", r.id), r.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.slug), r.slug
        assert isinstance(r.severity, Severity)
        assert r.summary and not r.summary.startswith("#"), f"{r.id}: no one-line summary"
        for name in SECTIONS:
            assert r.section(name).strip(), f"{r.id} {r.slug}: empty or missing section '## {name}'"
        if "security" in r.tags:
            assert r.security_severity is not None, f"{r.id}: tagged security but has no security_severity"
        if r.security_severity is not None:
            assert 0 < r.security_severity <= 10, r.id
        for peer, why in r.divergences.items():
            assert why.strip(), f"{r.id}: divergence from {peer} without a reason"


def test_a_plugin_rule_without_its_sections_is_refused_where_it_is_defined() -> None:
    """The built-in rules are held to their docs by the test above; a plugin's rule, when @rule makes it."""
    def check(t):
        """Flags nothing.

        ## What it does
        Nothing.
        """
        return []

    check.__module__ = "someplugin.rules"
    with pytest.raises(ValueError, match=r"ZZ100 zz-check: docstring lacks a summary or sections \['Why it matters', 'Example', 'Fix'\]"):
        rule("ZZ100", "zz-check", Severity.WARNING)(check)


def doc_tables(path: Path) -> dict[str, dict[str, str]]:
    """``{section heading: {field name: type cell}}`` for every field table of a Markdown doc."""
    out: dict[str, dict[str, str]] = {}
    heading = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            continue
        m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*([^|]*)\|", line)
        if m:
            out.setdefault(heading, {})[m.group(1)] = m.group(2).strip()
    return out


def _documented(table: dict[str, str]) -> tuple[set[str], set[str]]:
    """(every documented field, the fields not marked optional)."""
    return set(table), {k for k, v in table.items() if "optional" not in v}


def test_json_output_matches_docs_json_format() -> None:
    tables = doc_tables(DOCS / "json-format.md")
    top_all, top_required = _documented(tables["Top level"])
    item_all, item_required = _documented(tables["A finding"])
    image_all, _ = _documented(tables["`image` of a finding"])
    findings = [
        Finding("LI001", "parse-error", Severity.ERROR, "bad", Location("Dockerfile", 2, 1)),
        Finding("LI560", "secret-in-layer", Severity.ERROR, "key in layer", Location("Dockerfile", 1, 1),
                image=ImageLocation("docker://x/y:1", 2, "sha256:" + "a" * 64, "/app/.env", "COPY . /app"),
                properties={"detector": "AWS"}),
    ]
    doc = json.loads(json_report.render(findings, RunInfo(rules=[], files=["Dockerfile"], tool_version="0")))
    assert set(doc) == top_required
    with_baseline = RunInfo(rules=[], files=["Dockerfile"], tool_version="0", baseline={"file": "b.json", "baselined": 2, "stale": 1})
    assert set(json.loads(json_report.render(findings, with_baseline))) == top_all  # the one optional top-level field
    assert doc["schema_version"] == json_report.SCHEMA_VERSION
    assert set(doc["summary"]) == {"error", "warning", "info", "style"}
    for f in doc["findings"]:
        assert item_required <= set(f) <= item_all, set(f) ^ item_all
    assert set(doc["findings"][1]) == item_all  # the image finding has every optional field
    assert set(doc["findings"][1]["image"]) == image_all


def test_configuration_doc_lists_every_key() -> None:
    keys = set(doc_tables(DOCS / "configuration.md")["Keys"])
    assert keys == set(config_module.TOP_KEYS), f"undocumented: {set(config_module.TOP_KEYS) - keys}, stale: {keys - set(config_module.TOP_KEYS)}"
    text = (DOCS / "configuration.md").read_text()
    for word in (".lintimg.yaml", "--config", "LINTIMG_CONFIG", "# lintimg ignore=", "# hadolint ignore=", "repository root"):
        assert word in text, word


def test_configuration_doc_example_is_valid(tmp_path: Path) -> None:
    """The example block in docs/configuration.md loads (rule names aside, which depend on the rule set)."""
    text = (DOCS / "configuration.md").read_text()
    block = re.search(r"## Example\s+```yaml\n(.*?)```", text, re.S).group(1)
    data = yaml.safe_load(block)
    data.pop("rules")
    config_module.config_from_dict(data, "docs/configuration.md")


def test_sarif_doc_workflow_is_a_valid_upload() -> None:
    text = (DOCS / "sarif.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    workflows = [yaml.safe_load(b) for b in blocks]
    wf = next(w for w in workflows if isinstance(w, dict) and "jobs" in w)
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if "/lintimg@" in s.get("uses", "")]
    assert len(ours) == 1, "the workflow uses this repository's action"
    declared = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    assert set(ours[0].get("with", {})) <= set(declared) and ours[0]["with"].get("upload") is True
    perms = next(iter(wf["jobs"].values())).get("permissions", wf.get("permissions", {}))
    assert perms.get("security-events") == "write"
    # the inputs table lists exactly the action's inputs
    table = doc_tables(DOCS / "sarif.md")["A workflow"]
    assert set(table) == set(declared)


def test_architecture_says_how_to_regenerate_rules_md() -> None:
    assert REGENERATE in (DOCS / "architecture.md").read_text()


def test_readme_formats_and_config_example() -> None:
    from lintimg.reports import FORMATS

    text = (REPO / "README.md").read_text()
    section = text.split("### Output formats", 1)[1].split("###", 1)[0]
    assert set(re.findall(r"^\| `(\w+)` \|", section, re.M)) == set(FORMATS)
    block = re.search(r"### Configuration.*?```yaml\n(.*?)```", text, re.S).group(1)
    data = yaml.safe_load(block)
    data.pop("rules")  # rule names belong to the rule authors; the rest must load
    config_module.config_from_dict(data, "README.md")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for block in re.findall(r"```sh\n(.*?)```", quick, re.S) for line in block.strip().splitlines()]
    assert len(commands) == 2, commands
    for path in re.findall(r"fixtures/\S+", " ".join(commands)):
        assert (REPO / path).exists(), path
