"""``lintimg fleet`` usage and fatal errors: one line on stderr, exit 2, nothing half-written to stdout."""
from __future__ import annotations

import pytest

from tests.clirun import lintimg, one_line_error
from tests.registry import free_port


@pytest.mark.parametrize(("args", "needles"), [
    (["a b"], ["expected REGISTRY[/NAMESPACE]"]),
    (["registry.example.com/team:1"], ["a namespace has no tag"]),
    (["r.example.com", "--latest", "0"], ["--latest"]),
    (["r.example.com", "--workers", "0"], ["--workers"]),
    (["r.example.com", "--rate", "-1"], ["--rate"]),
    (["r.example.com", "--memory-limit", "lots"], ["--memory-limit 'lots'"]),
    (["r.example.com", "--platform", "linux"], ["--platform 'linux'"]),
    (["r.example.com", "--ca-file", "/nonexistent.pem"], ["/nonexistent.pem: CA file not found"]),
    (["r.example.com", "--repos", "/nonexistent.txt"], ["/nonexistent.txt: repository list not found"]),
    (["r.example.com", "--select", "LI9999"], ["LI9999"]),
])
def test_usage_errors(args, needles, tmp_path):
    one_line_error(lintimg("fleet", *args, "-o", str(tmp_path / "out"), "--layer-cache", str(tmp_path / "cache")), *needles)


def test_an_unreachable_registry_is_fatal_and_names_the_way_around(tmp_path):
    host = f"127.0.0.1:{free_port()}"
    line = one_line_error(lintimg("fleet", f"{host}/team", "-o", str(tmp_path / "out"), "--layer-cache", str(tmp_path / "cache")),
                          host, "unreachable", "--repos FILE")
    assert "catalog" not in line or "hides its catalog" in line


def test_an_unwritable_output_folder_is_fatal(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    one_line_error(lintimg("fleet", "r.example.com/t", "-o", str(blocked), "--layer-cache", str(tmp_path / "cache")),
                   str(blocked), "cannot write results")


def test_help_names_the_exit_codes():
    out = lintimg("fleet", "--help").stdout
    assert "3 some images could not be scanned" in " ".join(out.split())
