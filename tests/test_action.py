"""action.yml, run as the GitHub runner runs a composite action, on a workspace with 30,000 findings.

The runner is mimicked, not mocked: each ``run:`` step of action.yml is
written to a file and run with ``bash --noprofile --norc -eo pipefail FILE``
(what ``shell: bash`` means on a runner) in the workspace, with the variables
a runner sets (GITHUB_ACTION_PATH, GITHUB_WORKSPACE, RUNNER_TEMP,
GITHUB_OUTPUT, GITHUB_PATH, GITHUB_ENV, GITHUB_STEP_SUMMARY, GITHUB_API_URL,
GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, CI, GITHUB_ACTIONS); ``${{ }}``
expressions are evaluated for the forms action.yml uses (an unknown one fails
the test); outputs written to GITHUB_OUTPUT become ``steps.<id>.outputs``; a
step whose ``if:`` is false is skipped; the job fails at the first failing
step. The action installs lintimg from a copy of this checkout (its "ref")
with pip into a fresh venv, as on GitHub. The code-scanning API is a server
on 127.0.0.1 that records what it receives.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.clirun import REPO, copy_checkout
from tests.shared import SARIF_SCHEMA, need

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Job:
    """One job using the action: its inputs, the runner's files, what each step left."""

    action: Path
    workspace: Path
    temp: Path  # RUNNER_TEMP
    files: Path  # this job's command files and step scripts
    api_url: str
    inputs: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def value(self, expr: str) -> str:
        m = re.fullmatch(r"(.+?)\s*==\s*'([^']*)'", expr)
        if m:
            return "true" if self.value(m.group(1)) == m.group(2) else "false"
        parts = expr.split(".")
        if parts[0] == "inputs" and len(parts) == 2 and parts[1] in self.inputs:
            return self.inputs[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        if expr == "github.token":
            return "ghs_test-token"
        raise AssertionError(f"action.yml uses an expression this runner does not know: {expr!r}")

    def expand(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m.group(1)), text)

    def runner_env(self) -> dict[str, str]:
        files = {name: self.files / f"{name.lower()}.txt" for name in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.touch()
        path = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line][::-1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINTIMG_", "PYTHON"))}
        env.update({k: str(v) for k, v in files.items()})
        env.update(line.split("=", 1) for line in files["GITHUB_ENV"].read_text().splitlines() if "=" in line)
        env.update({
            "PATH": os.pathsep.join([*path, os.path.dirname(sys.executable), env.get("PATH", "")]),
            "GITHUB_ACTION_PATH": str(self.action), "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp),
            "GITHUB_API_URL": self.api_url, "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SHA": "a" * 40, "GITHUB_REF": "refs/heads/main",
            "CI": "true", "GITHUB_ACTIONS": "true", "HOME": str(self.files),
        })
        return env

    def run(self) -> int:
        """Every step in order, as the runner does; the exit code of the job."""
        spec = yaml.safe_load((self.action / "action.yml").read_text())
        assert spec["runs"]["using"] == "composite"
        for i, step in enumerate(spec["runs"]["steps"]):
            assert step.get("shell") == "bash" and "run" in step, f"step {i} is not a bash run step: a composite action that stays pure Python"
            if "if" in step and self.expand(step["if"]) != "true":
                self.log.append(f"skipped: {step['name']}")
                continue
            env = self.runner_env()
            env.update({k: self.expand(str(v)) for k, v in (step.get("env") or {}).items()})
            script = self.files / f"step{i}.sh"
            script.write_text(self.expand(step["run"]))
            out_file = Path(env["GITHUB_OUTPUT"])
            before = out_file.read_text()
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=self.workspace, env=env,
                                  capture_output=True, text=True, timeout=900)
            self.log.append(f"{step['name']}: exit {proc.returncode}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
            new = out_file.read_text()[len(before):]
            if step.get("id"):
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in new.splitlines() if "=" in line)
            if proc.returncode != 0:
                return proc.returncode
        return 0


class CodeScanning(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        answer = json.dumps({"id": f"upload-{len(self.received)}", "url": "http://127.0.0.1/x"}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def api():
    CodeScanning.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CodeScanning)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the action's checkout at its ref: this repository's files, tracked and new, without build leftovers; RUNNER_TEMP)."""
    return copy_checkout(tmp_path_factory.mktemp("action")), tmp_path_factory.mktemp("runner-temp")


def new_job(runner: tuple[Path, Path], tmp_path: Path, api: str, **inputs: str) -> Job:
    defaults = {"paths": ".", "image": "", "dockerfile": "", "args": "", "failure-threshold": "", "sarif-file": "lintimg.sarif",
                "upload": "false", "token": "ghs_test-token"}
    (tmp_path / "job").mkdir()
    return Job(runner[0], tmp_path / "workspace", runner[1], tmp_path / "job", api, {**defaults, **inputs})


def test_action_lints_writes_sarif_within_limits_and_uploads_one_category_per_dockerfile(runner, tmp_path: Path, api: str) -> None:
    validator = jsonschema.Draft4Validator(json.loads(need(SARIF_SCHEMA, "the SARIF 2.1.0 schema").read_text()))
    ws = tmp_path / "workspace"
    (ws / "big").mkdir(parents=True)
    # 10,000 unpinned installs: three findings each (LI300, LI303, LI214) -- 30,000 findings in one Dockerfile
    (ws / "big" / "Dockerfile").write_text("FROM debian:12\n" + "".join(f"RUN apt-get install -y pkg{i}\n" for i in range(10_000)))
    for i in range(24):  # and 24 small services: 25 Dockerfiles, more runs than one upload may carry
        (ws / f"svc{i:02d}").mkdir()
        (ws / f"svc{i:02d}" / "Dockerfile").write_text("FROM alpine:3.19\nRUN apk add --no-cache curl\n" if i % 2 else "FROM alpine:3.19\n")
    job = new_job(runner, tmp_path, api, args="--ignore LI390", upload="true", **{"sarif-file": "out/lintimg.sarif"})
    (ws / "out").mkdir()
    code = job.run()
    log = "\n".join(job.log)
    assert code == 1, log  # the last step fails the job: there are findings at the default threshold
    assert job.outputs["lint"] == {"sarif-file": "out/lintimg.sarif", "exit-code": "1"}, log
    assert "Fail on findings: exit 1" in log and "installed lintimg" in log

    text = (ws / "out" / "lintimg.sarif").read_text()
    sarif = json.loads(text)
    # Every run, each with its first and last 100 results (they come in three shapes), against the schema:
    # all 25,000 with their fixes take the pure-Python validator minutes.
    assert not list(validator.iter_errors({**sarif, "runs": [{**r, "results": r["results"][:100] + r["results"][-100:]} for r in sarif["runs"]]}))
    assert len(gzip.compress(text.encode())) <= 10_000_000
    runs = {r["automationDetails"]["id"]: r for r in sarif["runs"]}
    assert set(runs) == {"lintimg/dockerfile/big/Dockerfile/", *(f"lintimg/dockerfile/svc{i:02d}/Dockerfile/" for i in range(24))}
    big = runs["lintimg/dockerfile/big/Dockerfile/"]
    assert len(big["results"]) == 25_000 and big["properties"]["droppedResults"] == 5_000
    assert all(len(r["results"]) <= 25_000 for r in sarif["runs"])
    summary = (job.files / "github_step_summary.txt").read_text()
    assert "`lintimg/dockerfile/big/Dockerfile/`" in summary and "5000 more left out" in summary

    uploads = CodeScanning.received
    assert [u["path"] for u in uploads] == ["/repos/acme/shop/code-scanning/sarifs"] * 2
    delivered: list[str] = []
    for u in uploads:
        assert u["auth"] == "Bearer ghs_test-token"
        body = u["body"]
        assert body["commit_sha"] == "a" * 40 and body["ref"] == "refs/heads/main" and body["tool_name"] == "lintimg"
        raw = base64.b64decode(body["sarif"])
        assert len(raw) <= 10_000_000
        part = json.loads(gzip.decompress(raw))
        assert 1 <= len(part["runs"]) <= 20
        assert not list(validator.iter_errors({**part, "runs": [{**r, "results": r["results"][:20]} for r in part["runs"]]}))
        delivered += [r["automationDetails"]["id"] for r in part["runs"]]
    assert sorted(delivered) == sorted(runs), "every Dockerfile's category is uploaded exactly once"


def test_action_without_upload_and_with_a_threshold(runner, tmp_path: Path, api: str) -> None:
    ws = tmp_path / "workspace"
    ws.mkdir()
    (ws / "Dockerfile").write_text("FROM alpine:3.19\nRUN apk add curl\n")  # warnings and infos, no error
    job = new_job(runner, tmp_path, api, paths="Dockerfile", **{"failure-threshold": "error"})
    assert job.run() == 0, "\n".join(job.log)
    assert any(line.startswith("skipped: Upload SARIF") for line in job.log)
    assert CodeScanning.received == []
    assert json.loads((ws / "lintimg.sarif").read_text())["runs"][0]["results"]


def test_the_documented_example_workflow_runs(runner, tmp_path: Path, api: str) -> None:
    """docs/examples/lintimg-workflow.yml: its lintimg step's inputs, run through the action as its job would."""
    workflow = yaml.safe_load((REPO / "docs" / "examples" / "lintimg-workflow.yml").read_text())
    job_spec = next(iter(workflow["jobs"].values()))
    assert job_spec["permissions"]["security-events"] == "write"
    step = next(s for s in job_spec["steps"] if "lintimg@" in s.get("uses", ""))
    declared = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    assert set(step["with"]) <= set(declared), "the example uses only inputs the action declares"
    ws = tmp_path / "workspace"
    (ws / "api").mkdir(parents=True)
    (ws / "api" / "Dockerfile").write_text("FROM python:3.12-slim\nRUN pip install flask\nCMD [\"flask\", \"run\"]\n")
    job = new_job(runner, tmp_path, api, **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in step["with"].items()})
    code = job.run()
    assert code == 1, "\n".join(job.log)  # unpinned pip install: a warning at the default threshold
    assert [json.loads(gzip.decompress(base64.b64decode(u["body"]["sarif"])))["runs"][0]["automationDetails"]["id"]
            for u in CodeScanning.received] == ["lintimg/dockerfile/api/Dockerfile/"]
