"""Baselines: accept today's findings on real Dockerfiles, then see only new ones (docs/baseline.md)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lintimg.findings import Finding, ImageLocation, Location, Severity
from lintimg.reports import RunInfo
from lintimg.reports.places import fingerprints
from tests.clirun import json_findings, lintimg, one_line_error
from tests.shared import GOLD

BASELINE = ".lintimg-baseline.json"


def _gold_folder(tmp_path: Path, n: int = 6) -> list[Path]:
    """``n`` binnacle gold-set Dockerfiles, each in a folder of its own (its build context)."""
    files = sorted(GOLD.glob("*.Dockerfile"))[:n]
    out = []
    for i, src in enumerate(files):
        d = tmp_path / f"svc{i}"
        d.mkdir()
        shutil.copy(src, d / "Dockerfile")
        out.append(d / "Dockerfile")
    return out


def _insert_after_first_from(path: Path, lines: list[str]) -> None:
    text = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(text) if line.upper().startswith("FROM ")) + 1
    path.write_text("".join(text[:at] + [x + "\n" for x in lines] + text[at:]))


@pytest.mark.shared(GOLD, "the binnacle gold set")
def test_baseline_reports_only_the_new_problem_after_edits(tmp_path: Path) -> None:
    files = _gold_folder(tmp_path)
    files[0].write_text(files[0].read_text() + "MAINTAINER someone@example.com\n")  # accepted today, removed below
    before = json_findings(lintimg("--format", "json", ".", cwd=tmp_path))
    assert len(before) > 20, "the gold files have findings to baseline"

    wrote = lintimg("baseline", ".", cwd=tmp_path)
    assert wrote.returncode == 0, wrote.stderr
    entries = json.loads((tmp_path / BASELINE).read_text())["findings"]
    assert len(entries) == len(before)
    assert f"wrote {len(before)} findings to {BASELINE}" in wrote.stderr

    for f in files:  # every finding after the first FROM moves down
        _insert_after_first_from(f, ["# reviewed by the platform team", "", "# see the runbook"])
    files[0].write_text(files[0].read_text().replace("MAINTAINER someone@example.com\n", ""))
    files[1].write_text(files[1].read_text() + "MAINTAINER ops@example.com\n")  # the one new problem

    moved = json_findings(lintimg("--format", "json", ".", cwd=tmp_path))
    assert {(f["file"], f["line"]) for f in moved} != {(f["file"], f["line"]) for f in before}, "the edits moved the findings"

    proc = lintimg("--format", "json", "--baseline", BASELINE, ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(f["rule"], f["file"]) for f in doc["findings"]] == [("LI205", "svc1/Dockerfile")]
    assert doc["baseline"] == {"file": BASELINE, "baselined": len(before) - 1, "stale": 1}

    text = lintimg("--baseline", BASELINE, ".", cwd=tmp_path).stdout
    assert f"{len(before) - 1} findings baselined; 1 baseline entry no longer found" in text
    assert text.count("LI205") == 1


def test_baseline_matches_from_another_folder_and_through_config(tmp_path: Path) -> None:
    app = tmp_path / "services" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n")
    (tmp_path / ".git").mkdir()  # the repository root: config discovery stops here
    assert lintimg("baseline", "--no-context", "services", cwd=tmp_path).returncode == 0
    # from the service's own folder, naming the baseline by a relative path: the paths in it are the baseline's own
    proc = lintimg("--no-context", "--baseline", "../../" + BASELINE, "Dockerfile", cwd=app)
    assert proc.returncode == 0 and "0 findings in 1 file" in proc.stdout, proc.stdout
    # the same through .lintimg.yaml (relative to the config file)
    (tmp_path / ".lintimg.yaml").write_text(f"baseline: {BASELINE}\n")
    proc = lintimg("--no-context", "-f", "json", "Dockerfile", cwd=app)
    assert proc.returncode == 0 and json.loads(proc.stdout)["baseline"]["baselined"] >= 3


def test_write_baseline_flag_and_bad_baselines(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    proc = lintimg("--no-context", "--baseline", "accepted.json", "--write-baseline", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads((tmp_path / "accepted.json").read_text())["version"] == 1
    assert lintimg("--no-context", "--baseline", "accepted.json", "Dockerfile", cwd=tmp_path).returncode == 0
    one_line_error(lintimg("--baseline", "missing.json", "Dockerfile", cwd=tmp_path), "missing.json", "baseline file not found")
    (tmp_path / "torn.json").write_text('{"version": 1, "findings": [')
    one_line_error(lintimg("--baseline", "torn.json", "Dockerfile", cwd=tmp_path), "torn.json", "not valid JSON")
    (tmp_path / "other.json").write_text('{"runs": []}')
    one_line_error(lintimg("--baseline", "other.json", "Dockerfile", cwd=tmp_path), "other.json", "not a lintimg baseline")


def _layer_finding(image: str, digest: str, path: str = "/app/.env", created_by: str = "COPY . /app # buildkit") -> Finding:
    return Finding("LI550", "secret-in-image", Severity.ERROR, "AWS key in " + path, Location(f"app{path}"), key=path,
                   image=ImageLocation(image, layer_index=2, layer_digest=digest, path=path, created_by=created_by))


def test_image_fingerprints_ignore_registry_and_digest_not_path_or_layer() -> None:
    def fp(*findings: Finding) -> list[str]:
        return fingerprints(list(findings), RunInfo(rules=[], files=[], kind="image", image=findings[0].image.image))

    one = fp(_layer_finding("docker://ghcr.io/acme/app:1.4", "sha256:" + "1" * 64))
    assert fp(_layer_finding("docker://registry.example.com:5000/mirror/acme/app:1.4", "sha256:" + "2" * 64)) == one
    assert fp(_layer_finding("docker-archive:/tmp/app.tar", "sha256:" + "1" * 64)) == one
    assert fp(_layer_finding("docker://ghcr.io/acme/app:1.4", "sha256:" + "1" * 64, path="/app/other.env")) != one
    assert fp(_layer_finding("docker://ghcr.io/acme/app:1.4", "sha256:" + "1" * 64, created_by="COPY secrets/ /app")) != one


def test_dockerfile_fingerprints_follow_the_instruction_and_its_stage() -> None:
    def fp(anchor: str, line: int) -> str:
        f = Finding("LI300", "apt-get-pin-versions", Severity.WARNING, "curl", Location("Dockerfile", line), key="curl", anchor=anchor)
        return fingerprints([f], RunInfo(rules=[], files=["Dockerfile"]))[0]

    base = fp("build\x1fRUN apt-get install -y curl", 3)
    assert fp("build\x1fRUN apt-get install -y curl", 30) == base  # moved: same finding
    assert fp("final\x1fRUN apt-get install -y curl", 3) != base  # another stage: another finding
    assert fp("build\x1fRUN apt-get install -y curl wget", 3) != base  # the instruction changed
