"""JSON Schemas: the report's validates real reports, the config's is derived from the key table and agrees with the loader."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from lintimg import config as config_module
from lintimg.errors import LintimgError
from tests.clirun import EXAMPLES, REPO, lintimg


def schema(which: str) -> dict:
    proc = lintimg("schema", which)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft7Validator.check_schema(doc)
    return doc


@pytest.fixture(scope="module")
def report_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema("report"))


@pytest.fixture(scope="module")
def config_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema("config"))


def test_real_reports_validate(report_validator, tmp_path: Path) -> None:
    doc = json.loads(lintimg("-f", "json", str(EXAMPLES)).stdout)
    assert doc["findings"] and not list(report_validator.iter_errors(doc))
    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUN apt-get install -y curl\n")
    assert lintimg("baseline", "Dockerfile", cwd=tmp_path).returncode == 0
    (tmp_path / "Dockerfile").write_text("FROM alpine\nRUN apt-get install -y curl\nMAINTAINER x\n")
    doc = json.loads(lintimg("-f", "json", "--baseline", ".lintimg-baseline.json", "Dockerfile", cwd=tmp_path).stdout)
    assert doc["baseline"]["baselined"] > 0 and not list(report_validator.iter_errors(doc))
    doc["findings"][0]["colour"] = "red"  # the schema notices a field it does not describe
    assert list(report_validator.iter_errors(doc))


def test_config_schema_has_every_key_with_its_meaning() -> None:
    props = schema("config")["properties"]
    assert set(props) == set(config_module.KEYS)
    assert all(p.get("description") for p in props.values())


def test_a_key_added_to_the_table_appears_in_the_schema(monkeypatch) -> None:
    from lintimg.reports.schemas import config_schema

    monkeypatch.setitem(config_module.KEYS, "max-layers", config_module.Key(lambda v: isinstance(v, int), "a whole number",
                                                                             {"type": "integer"}, "the most layers an image may have"))
    assert config_schema()["properties"]["max-layers"] == {"type": "integer", "description": "the most layers an image may have"}


def _yaml_blocks(path: Path) -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S) if "repos:" not in b and "jobs:" not in b
            and "uses:" not in b and "- run:" not in b]


def test_documented_configs_validate(config_validator) -> None:
    examples = _yaml_blocks(REPO / "docs" / "configuration.md") + _yaml_blocks(REPO / "README.md")
    examples = [e for e in examples if isinstance(e, dict)]
    assert examples
    for ex in examples:
        assert not list(config_validator.iter_errors(ex)), ex


@pytest.mark.parametrize("data", [
    {"failure-threshold": "fatal"},
    {"failure-treshold": "error"},
    {"rules": {"LI300": "loud"}},
    {"rules": {"LI300": {"severity": "error", "colour": "red"}}},
    {"strict-labels": "yes please"},
    {"label-schema": {"maintainer": "phone"}},
    {"max-image-size": "big"},
    {"min-efficiency": 2},
    {"secrets": {"allowlist": "x"}},
    {"ignore-paths": "vendor"},
    {"git-history-depth": -1},
])
def test_schema_and_loader_reject_the_same_bad_configs(config_validator, data: dict) -> None:
    assert list(config_validator.iter_errors(data)), data
    with pytest.raises(LintimgError):
        config_module.config_from_dict(data)


@pytest.mark.parametrize("data", [
    {"failure-threshold": "none", "rules": {"DL3008": "off", "LI702": {"severity": "info"}, "SC2086": False}},
    {"trusted-registries": "docker.io", "max-image-size": "1.5GiB", "max-layer-size": 1000},
    {"secrets": {"allowlist": ["^EXAMPLE"], "exclude-paths": ["/usr/share/*"], "max-file-size": "1MB"}, "baseline": "b.json"},
])
def test_schema_and_loader_accept_the_same_good_configs(config_validator, data: dict) -> None:
    assert not list(config_validator.iter_errors(data))
    config_module.config_from_dict(data)
