"""hadolint-style rule specs: ``catches`` / ``passes`` on Dockerfile text.

    def test_pins():
        catches("LI300", "FROM debian:12\\nRUN apt-get install -y curl\\n", line=2)
        passes("LI300", "FROM debian:12\\nRUN apt-get install -y curl=7.88\\n")
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from lintimg.config import Config, config_from_dict
from lintimg.context import ContextAttacher
from lintimg.dockerfile.sources import decode
from lintimg.engine import Engine
from lintimg.findings import Finding
from lintimg.run.check import lint_source


@functools.lru_cache(maxsize=64)
def _engine(config_json: str) -> Engine:
    data = json.loads(config_json)
    return Engine(config_from_dict(data, "test-config") if data else Config())


def engine(config: dict[str, Any] | None = None) -> Engine:
    return _engine(json.dumps(config or {}, sort_keys=True))


def lint(text: str, config: dict[str, Any] | None = None, path: str = "Dockerfile", attach=None) -> list[Finding]:
    findings, _ = lint_source(engine(config), decode(path, text.encode()), attach)
    return findings


def ctx_lint(root: Path, dockerfile: str, files: dict[str, str | bytes] | None = None, config: dict[str, Any] | None = None, rule: str | None = None) -> list[Finding]:
    """Write ``files`` and the Dockerfile into ``root`` and lint with ``root`` as the context."""
    for rel, content in (files or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "Dockerfile").write_text(dockerfile)
    findings = lint(dockerfile, config, path=str(root / "Dockerfile"), attach=ContextAttacher())
    assert not [f for f in findings if f.rule_id == "LI002"], [f.message for f in findings if f.rule_id == "LI002"]
    return [f for f in findings if rule is None or f.rule_id == rule]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [(f.location.line, f.message) for f in findings]
    return findings[0]


def _of(rule: str, findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if rule in (f.rule_id, f.slug)]


def catches(rule: str, text: str, *, line: int | None = None, count: int | None = None, config: dict[str, Any] | None = None, message: str | None = None) -> list[Finding]:
    """Assert ``rule`` reports on ``text`` (at ``line``, ``count`` times, with ``message`` in the text)."""
    all_findings = lint(text, config)
    got = _of(rule, all_findings)
    assert got, f"{rule} did not catch:\n{text}\nfindings: {[(f.rule_id, f.location.line, f.message) for f in all_findings]}"
    if line is not None:
        assert any(f.location.line == line for f in got), f"{rule} reported lines {[f.location.line for f in got]}, expected {line}"
    if count is not None:
        assert len(got) == count, f"{rule} reported {len(got)} times, expected {count}: {[f.message for f in got]}"
    if message is not None:
        assert any(message in f.message for f in got), f"{rule} messages {[f.message for f in got]} lack {message!r}"
    crashed = _of("LI002", all_findings)
    assert not crashed, crashed[0].message
    return got


def passes(rule: str, text: str, *, config: dict[str, Any] | None = None) -> None:
    """Assert ``rule`` reports nothing on ``text`` (and no rule crashed)."""
    all_findings = lint(text, config)
    got = _of(rule, all_findings)
    assert not got, f"{rule} wrongly reported {[(f.location.line, f.message) for f in got]} on:\n{text}"
    crashed = _of("LI002", all_findings)
    assert not crashed, crashed[0].message


def signature_switch(rule_id: str, tool: str, flag: str) -> None:
    """A package manager's switch that turns signature checks off: caught in either position, not as data."""
    f = "FROM debian:12\n"
    sub = "add" if tool == "apk" else "install"
    catches(rule_id, f + f"RUN {tool} {sub} -y {flag} python3\n", message=flag.lstrip("-"))
    catches(rule_id, f + f"RUN {tool} {flag} {sub} -y python3\n")
    passes(rule_id, f + f"RUN {tool} {sub} -y python3\n")
    # the text of the switch as data is not the switch
    passes(rule_id, f + f"RUN {tool} {sub} -y python3 && echo '{flag}'\n")


def stage_scope(rule_id: str, body: str, *, shipped_only: bool, base: str = "debian:12", onbuild: bool = True,
                runs_only: bool = False) -> None:
    """``rule_id`` on ``body`` (instruction lines) in each kind of stage (lintimg.dockerfile.stages).

    A builder stage that the last stage only copies from or mounts is not shipped: a rule about the image
    (``shipped_only``) passes it, a rule about the build catches it. A stage nothing uses (a ``--target`` of
    its own), a stage the last one is built FROM, and ONBUILD triggers in a builder stage are caught by both.
    An unnamed stage nothing uses that is not the last is built by the classic builder only, as an image no
    build tags: a rule about how a container runs (``runs_only``) passes it, every other rule catches it.
    """
    onbuild_body = "\n".join("ONBUILD " + line for line in body.splitlines())
    builders = (f"FROM {base} AS build\n{body}\nFROM scratch\nCOPY --from=build /out /out\n",
                f"FROM {base} AS build\n{body}\nFROM busybox:1.36\nRUN --mount=from=build,target=/b cp /b/out /out\n")
    for text in builders:
        (passes if shipped_only else catches)(rule_id, text)
    catches(rule_id, f"FROM {base} AS test\n{body}\nFROM scratch\nCOPY out /out\n")
    (passes if runs_only else catches)(rule_id, f"FROM {base}\n{body}\nFROM scratch\nCOPY out /out\n")
    catches(rule_id, f"FROM {base} AS base\n{body}\nFROM base\n")
    if onbuild:
        catches(rule_id, f"FROM {base} AS build\n{onbuild_body}\nFROM scratch\nCOPY --from=build /out /out\n")
