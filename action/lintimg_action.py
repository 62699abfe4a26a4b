"""The steps of the lintimg GitHub Action (action.yml), in plain Python: the runner's python3 is all they need.

    python3 action/lintimg_action.py install   # lintimg from the action's checkout into a venv under RUNNER_TEMP
    python3 action/lintimg_action.py run       # lint; write SARIF; outputs sarif-file and exit-code
    python3 action/lintimg_action.py upload    # the SARIF to code scanning, one category per Dockerfile or image

Inputs arrive as LINTIMG_ACTION_* variables (action.yml maps them); the
runner's own variables are read as GitHub documents them: GITHUB_ACTION_PATH,
GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY,
GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF.

The upload goes to the code-scanning REST API (``POST
/repos/{owner}/{repo}/code-scanning/sarifs``) rather than through another
action: lintimg writes one run per Dockerfile (or image), each with its own
``automationDetails.id``, and GitHub accepts at most 20 runs per upload, so
the log is sent in deliveries of at most 20 runs (and 10 MB gzipped) each.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from typing import Any

MAX_RUNS = 20  # GitHub: runs per uploaded SARIF file
MAX_GZIP_BYTES = 10_000_000  # GitHub: gzipped size of one upload


def venv_dir() -> str:
    return os.path.join(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir(), "lintimg-action-venv")


def lintimg_exe() -> str:
    return os.path.join(venv_dir(), "bin", "lintimg")


def _append(variable: str, line: str) -> None:
    """A line for one of the runner's command files (GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY)."""
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def fail(message: str, code: int = 1) -> None:
    print(f"::error title=lintimg::{message}", flush=True)
    sys.exit(code)


def install() -> None:
    """lintimg (with ShellCheck) from the action's checkout, i.e. at the ref the workflow uses, into a fresh venv."""
    action = os.environ.get("GITHUB_ACTION_PATH") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv = venv_dir()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    if subprocess.run([*pip, f"{action}[shellcheck]"]).returncode != 0:
        fail(f"could not install lintimg from {action}")
    _append("GITHUB_PATH", os.path.join(venv, "bin"))  # later steps of the job can call lintimg too
    version = subprocess.run([lintimg_exe(), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"installed {version} from {action}", flush=True)


def command() -> list[str]:
    """The lintimg command line the inputs ask for."""
    env = os.environ
    image = env.get("LINTIMG_ACTION_IMAGE", "").strip()
    if image:
        cmd = [lintimg_exe(), "image", image]
        if env.get("LINTIMG_ACTION_DOCKERFILE", "").strip():
            cmd += ["--dockerfile", env["LINTIMG_ACTION_DOCKERFILE"].strip()]
    else:
        cmd = [lintimg_exe(), "check", *shlex.split(env.get("LINTIMG_ACTION_PATHS") or ".")]
    cmd += ["--format", "sarif", "--output", env.get("LINTIMG_ACTION_SARIF") or "lintimg.sarif"]
    if env.get("LINTIMG_ACTION_THRESHOLD", "").strip():
        cmd += ["--failure-threshold", env["LINTIMG_ACTION_THRESHOLD"].strip()]
    return cmd + shlex.split(env.get("LINTIMG_ACTION_ARGS", ""))


def _counts(run: dict[str, Any]) -> str:
    levels = [r.get("level", "warning") for r in run.get("results", [])]
    parts = [f"{levels.count(k)} {k}" for k in ("error", "warning", "note") if levels.count(k)]
    dropped = (run.get("properties") or {}).get("droppedResults")
    return (", ".join(parts) or "clean") + (f" ({dropped} more left out: GitHub's limits)" if dropped else "")


def run() -> None:
    """Lint and write SARIF; the exit code goes to an output, so the upload still runs when there are findings."""
    sarif = os.environ.get("LINTIMG_ACTION_SARIF") or "lintimg.sarif"
    cmd = command()
    print("$ " + shlex.join(cmd[1:]), flush=True)
    code = subprocess.run(cmd).returncode
    _append("GITHUB_OUTPUT", f"sarif-file={sarif}")
    _append("GITHUB_OUTPUT", f"exit-code={code}")
    if code not in (0, 1):
        fail(f"lintimg could not complete (exit {code}); see the line above", code)
    with open(sarif, encoding="utf-8") as fh:
        log = json.load(fh)
    _append("GITHUB_STEP_SUMMARY", "| lintimg category | results |\n|---|---|")
    for r in log.get("runs", []):
        category = r.get("automationDetails", {}).get("id", "")
        print(f"{category}: {_counts(r)}", flush=True)
        _append("GITHUB_STEP_SUMMARY", f"| `{category}` | {_counts(r)} |")


def deliveries(log: dict[str, Any]) -> list[dict[str, Any]]:
    """The log as SARIF files GitHub accepts: at most MAX_RUNS runs and MAX_GZIP_BYTES gzipped each."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for run in log.get("runs", []):
        one = len(gzip.compress(json.dumps(run).encode("utf-8")))
        if out[-1] and (len(out[-1]) >= MAX_RUNS or size + one > MAX_GZIP_BYTES):
            out.append([])
            size = 0
        out[-1].append(run)
        size += one
    return [{**log, "runs": runs} for runs in out if runs]


def upload() -> None:
    """POST each delivery to the code-scanning API of this repository, for this commit and ref."""
    env = os.environ
    with open(env.get("LINTIMG_ACTION_SARIF") or "lintimg.sarif", encoding="utf-8") as fh:
        log = json.load(fh)
    missing = [v for v in ("GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF") if not env.get(v)]
    if missing:
        fail(f"cannot upload: {', '.join(missing)} not set (is this a GitHub Actions run?)")
    url = f"{env.get('GITHUB_API_URL', 'https://api.github.com').rstrip('/')}/repos/{env['GITHUB_REPOSITORY']}/code-scanning/sarifs"
    for i, part in enumerate(deliveries(log), 1):
        body = {
            "commit_sha": env["GITHUB_SHA"],
            "ref": env["GITHUB_REF"],
            "sarif": base64.b64encode(gzip.compress(json.dumps(part).encode("utf-8"))).decode("ascii"),
            "tool_name": "lintimg",
        }
        if env.get("GITHUB_WORKSPACE"):
            body["checkout_uri"] = "file://" + env["GITHUB_WORKSPACE"]
        req = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST", headers={
            "Authorization": f"Bearer {env.get('LINTIMG_ACTION_TOKEN', '')}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
        })
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                answer = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            fail(f"upload {i} was refused: HTTP {e.code} {e.read()[:300].decode('utf-8', 'replace')}")
        except (urllib.error.URLError, OSError) as e:
            fail(f"upload {i} failed: {e}")
        categories = ", ".join(r.get("automationDetails", {}).get("id", "?") for r in part["runs"])
        print(f"uploaded {len(part['runs'])} run(s) ({categories}) as {answer.get('id', '?')}", flush=True)


def main(argv: list[str]) -> None:
    steps = {"install": install, "run": run, "upload": upload}
    if len(argv) != 2 or argv[1] not in steps:
        fail(f"usage: {argv[0]} {'|'.join(steps)}", 2)
    steps[argv[1]]()


if __name__ == "__main__":
    main(sys.argv)
