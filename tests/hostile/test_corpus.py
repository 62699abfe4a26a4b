"""Every hostile input of issue 9 ends in its expected one-line error, finding or anomaly, under the caps.

The corpus (tests/hostile/corpus.py) is built once; every case runs the real CLI in a
process of its own (tests/hostile/runner.py) with a memory cap (RLIMIT_AS), a wall-clock
cap (``Case.timeout``: past it the run counts as a hang) and its own HOME, caches and
TMPDIR. A case fails on a wrong exit code or message, a crash, a rule crash (LI002), a
planted secret in any output, report, cache or request to another host, code from a
checkout that ran, a file left in ``$TMPDIR``, or a peak RSS over the case's bound (200 MB
for the rows of the issue's table). Measured times are the runner's report, not asserted here.
"""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hostile import corpus as hc
from tests.hostile.runner import Runner, Verdict

GROUPS = ("security", "table", "hang", "crash")


@pytest.fixture(scope="session")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Verdict]]:
    root = tmp_path_factory.mktemp("hostile")
    cases = hc.build(root / "corpus")
    runner = Runner(sys.executable, root / "corpus", root / "run")
    with ThreadPoolExecutor(max_workers=2) as pool:  # each case is a process of its own
        done = list(pool.map(runner.run, cases))
    return {g: [v for v in done if v.case.group == g] for g in GROUPS}


@pytest.mark.parametrize("group", GROUPS)
def test_every_case_of_the_group(verdicts: dict[str, list[Verdict]], group: str) -> None:
    ran = [v for v in verdicts[group] if v.run is not None or not v.case.skip]
    assert ran, f"no {group} case ran"
    failures = [f"{v.case.name}: {'; '.join(v.failures())}" + (f" (at {v.where})" if v.where else "") for v in ran if v.failures()]
    assert not failures, "\n".join(failures)


def test_the_corpus_covers_the_issue(verdicts: dict[str, list[Verdict]]) -> None:
    """Each input the issue lists has its case (named after the issue's rows and lines)."""
    names = [v.case.name for group in verdicts.values() for v in group]
    for needle in ("secret-add-userinfo", "secret-add-query-token", "secret-history", "secret-curl-u", "secret-ref-userinfo",
                   "cred-realm-307-basic", "cred-realm-307-refresh", "evasion-symlink-parent", "inject-filenames", "config-rules-dirs",
                   "config-plugins", "table-heredoc", "table-path-100k", "table-pax-1gib", "table-gzip-archive-4g", "table-stdin-3g",
                   "table-yaml-anchor-bomb", "table-100k-layers", "table-300k-entries", "hang-fifo", "hang-context-cache",
                   "hang-secrets-cache", "hang-registry-drip", "crash-continuation", "crash-nested-subst", "crash-max-image-size",
                   "crash-plugins-empty", "crash-non-utf8-name", "crash-stdout", "crash-manifest-nested", "crash-config-",
                   "crash-history-not-objects", "crash-created-by", "crash-retry-after", "crash-location-port", "crash-token-crlf",
                   "crash-auths-auth-number", "crash-context-cache-shape", "crash-gnu-tar-sparse", "extra-pax-sparse-realsize",
                   "extra-gzip-multimember-layer", "extra-config-cmd-type"):
        assert any(n.startswith(needle) for n in names), needle
