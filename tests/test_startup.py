"""What a Dockerfile-only run loads: no image, registry or context-secrets code, and only the rule
modules whose rules can run (measured on the real CLI in a fresh interpreter)."""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys

from tests.clirun import EXAMPLES, REPO

WATCHED = """
import json, sys
def watched():
    return sorted(m for m in sys.modules if m.startswith("lintimg") or m.split(".")[0] in ("detect_secrets", "re2", "rich", "sarif_om", "yaml", "zstandard", "importlib", "dockerfile_parse", "tree_sitter", "tree_sitter_bash", "shutil", "bz2", "lzma", "_hashlib", "tempfile", "datetime"))
"""
PROBE = WATCHED + """
from lintimg.cli import main
code = main(sys.argv[1:])
print(json.dumps(watched()))
"""
# What the interpreter loads before lintimg runs: a site .pth file may import shutil (and so bz2, lzma) at startup.
BARE = WATCHED + "print(json.dumps(watched()))"


ENGINE = ("lintimg.secrets.engine", "lintimg.secrets.formats", "lintimg.secrets.values", "re2")


def probe(code: str, *args: str, cwd=REPO, cache: str | None = None) -> set[str]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    env.update({"XDG_CACHE_HOME": cache} if cache else {"LINTIMG_NO_CACHE": "1"})
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


@functools.cache
def bare() -> frozenset[str]:
    return frozenset(probe(BARE))


def loaded(*args: str, cwd=REPO, cache: str | None = None) -> set[str]:
    """The modules a run adds to what the bare interpreter loaded; with no ``cache`` folder given, a cold run
    (nothing cached, nothing kept)."""
    return probe(PROBE, *args, cwd=cwd, cache=cache) - bare()


def test_a_dockerfile_only_run_loads_no_image_registry_or_context_secrets_code():
    mods = loaded("--no-context", "--no-color", str(EXAMPLES / "webapp" / "Dockerfile"))
    assert "lintimg.rules.base_image" in mods  # it did lint
    assert not {m for m in mods if m.startswith(("lintimg.image", "lintimg.context.secretscan", "lintimg.run.image", "lintimg.run.build"))}
    assert not {m for m in mods if m.split(".")[0] in ("zstandard", "rich", "sarif_om", "yaml")}
    assert "importlib.metadata" not in mods  # entry points are read without it


def test_only_rule_modules_whose_rules_can_run_are_imported():
    from lintimg.rules._index import RULES

    by_module: dict[str, set[str]] = {}
    for _, _, _, subject, module, *_ in RULES:
        by_module.setdefault(f"lintimg.rules.{module}", set()).add(subject)
    mods = loaded("--no-context", "--no-color", str(EXAMPLES / "webapp" / "Dockerfile"))
    rule_modules = {m for m in mods if m in by_module}
    assert rule_modules == {m for m, subjects in by_module.items() if "dockerfile" in subjects}
    selected = loaded("--no-context", "--select", "LI301", str(EXAMPLES / "webapp" / "Dockerfile"))
    assert {m for m in selected if m in by_module} == {"lintimg.rules.packages.apt", "lintimg.rules.meta"}  # LI001 stays on


def test_the_secret_engine_loads_only_when_a_text_holds_a_trigger(tmp_path):
    """The pre-commit path: a Dockerfile with nothing secret-like never imports the engine or RE2;
    one with a token does, and reports it."""
    # By a relative path: a checkout under a folder named like a secret ("wt-secrets") would put a trigger word in
    # every finding's path, which the redaction layer scans.
    mods = loaded("--no-context", "--no-color", "Dockerfile", cwd=EXAMPLES / "webapp")
    assert "lintimg.rules.secrets" in mods  # LI503 ran
    assert not mods & set(ENGINE) and not {m for m in mods if m.startswith("detect_secrets")}
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nENV GITHUB_TOKEN=ghp_" + "k3Jx9Qm2Lp7Rv4Tz8Wb1Yc6Nd0Fh5Gs2Ae7Uw" + "\n")
    # A fresh cache: a remembered result for this text would (rightly) spare the engine.
    assert set(ENGINE) <= loaded("--no-context", "--no-color", str(tmp_path / "Dockerfile"), cwd=tmp_path, cache=str(tmp_path / "cache"))


def test_a_run_whose_findings_are_kept_loads_no_rules_model_or_walk(tmp_path):
    args = ("--no-color", str(EXAMPLES / "webapp" / "Dockerfile"))  # with its build context, as pre-commit runs it
    cold = loaded(*args, cache=str(tmp_path))
    assert {"lintimg.rules.base_image", "lintimg.context.walk", "dockerfile_parse", "tree_sitter"} <= cold
    warm = loaded(*args, cache=str(tmp_path))
    assert not {m for m in warm if m.startswith("lintimg.rules.") and m != "lintimg.rules._index"}  # the index: rules by metadata
    assert not {m for m in warm if m.split(".")[0] in ("dockerfile_parse", "tree_sitter", "tree_sitter_bash", "yaml")}
    assert not {"lintimg.dockerfile.model", "lintimg.dockerfile.parser", "lintimg.context.build", "lintimg.context.walk",
                "lintimg.shellcheck.batch", "lintimg.engine.pragmas"} & warm
    # argparse's terminal width, the ShellCheck lookup and the cache keys go without shutil (bz2, lzma) and OpenSSL
    assert not {"shutil", "bz2", "lzma", "_hashlib"} & warm


def test_a_run_over_edited_files_loads_no_openssl_archive_or_date_modules(tmp_path):
    """The pre-commit path after an edit (its findings not kept, ShellCheck's answers kept): cache keys are BLAKE2
    (hashlib loads OpenSSL), the bash grammar loads without tree-sitter-bash's __init__ (importlib.resources brings
    tempfile, shutil, bz2, lzma), and label values import datetime only for a label schema."""
    args = ("--no-color", str(EXAMPLES / "webapp" / "Dockerfile"))
    loaded(*args, cache=str(tmp_path))
    shutil.rmtree(tmp_path / "lintimg" / "results")
    edited = loaded(*args, cache=str(tmp_path))
    assert {"lintimg.rules.base_image", "lintimg.dockerfile.shell", "tree_sitter"} <= edited  # it linted
    assert not {"importlib.resources", "tree_sitter_bash", "tempfile", "shutil", "bz2", "lzma", "_hashlib", "datetime"} & edited


# The console script's path: every module the run loaded, listed before json is imported to print them.
MAIN = "import sys\nfrom lintimg.__main__ import main\nmain()\nmods = sorted(sys.modules)\nimport json\nprint(json.dumps(mods))\n"
ALL = "import sys\nmods = sorted(sys.modules)\nimport json\nprint(json.dumps(mods))\n"


def test_a_replayed_run_loads_neither_the_command_line_nor_the_engine(tmp_path):
    """A run that repeats the one before is answered from its memo (lintimg.replay) with os calls only."""
    args = ("--no-color", "--no-context", str(EXAMPLES / "webapp" / "Dockerfile"))
    first = probe(MAIN, *args, cache=str(tmp_path)) - probe(ALL)
    assert {"lintimg.cli", "argparse", "pluggy"} <= first  # it ran, and kept its memo
    again = probe(MAIN, *args, cache=str(tmp_path)) - probe(ALL)
    assert "lintimg.replay" in again
    assert not {"lintimg.cli", "lintimg.engine", "lintimg.config", "lintimg.findings", "lintimg.run", "argparse", "pluggy", "json",
                "re", "typing", "pathlib", "dataclasses", "threading", "tempfile", "shutil", "_hashlib"} & again


def test_a_run_leaves_what_it_built_to_the_exit_without_collecting_it():
    """The console script collects at a high threshold while it runs and freezes what the run built when it
    returns, so the interpreter's exit does not walk every module, rule and model once more."""
    code = ("import gc, json\nfrom lintimg.__main__ import main\nbefore = gc.get_freeze_count()\nmain()\n"
            "print(json.dumps([gc.get_threshold()[0], before, gc.get_freeze_count()]))\n")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LINTIMG_NO_CACHE": "1"}
    args = ("--no-color", "--no-context", str(EXAMPLES / "webapp" / "Dockerfile"))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=120, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    threshold, before, after = json.loads(proc.stdout.strip().splitlines()[-1])
    assert threshold >= 10_000
    assert before == 0 and after > 10_000  # the modules and the model of the run, at least
