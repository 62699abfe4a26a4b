"""Rule documentation generated from rule docstrings: CLI views and docs/rules.md."""
from __future__ import annotations

from typing import Any

from lintimg.engine.rule import SECTIONS, Rule, fix_summary

# How docs/rules.md is made (run from the repository root); tests print it when the file is stale.
REGENERATE = "lintimg rules --format markdown > docs/rules.md"


def rule_json(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "slug": r.slug,
        "severity": str(r.severity),
        "subject": r.subject.value,
        "tags": list(r.tags),
        "peers": list(r.peers),
        "security_severity": r.security_severity,
        "enabled_by_default": r.enabled_by_default,
        "fix": [str(k) for k in r.fixable],
        "summary": r.summary,
        "help_uri": r.help_uri,
    }


def rule_markdown(r: Rule, heading: str = "#") -> str:
    meta = [
        f"- **Severity:** {r.severity}" + ("" if r.enabled_by_default else " (off by default)"),
        f"- **Subject:** {r.subject.value}",
    ]
    meta.append(f"- **Autofix:** {autofix_text(r)}")
    if r.security_severity is not None:
        meta.append(f"- **Security severity:** {r.security_severity}")
    if r.tags:
        meta.append(f"- **Tags:** {', '.join(r.tags)}")
    if r.peers:
        meta.append(f"- **Peers:** {', '.join(r.peers)}")
    parts = [f"{heading} {r.id} `{r.slug}`", "", r.summary, "", *meta, ""]
    for name in SECTIONS:
        parts += [f"{heading}# {name}", "", r.section(name), ""]
    if r.divergences:
        parts += [f"{heading}# Differences from peers", ""]
        parts += [f"- **{peer}:** {why}" for peer, why in sorted(r.divergences.items())]
        parts.append("")
    return "\n".join(parts)


def autofix_text(r: Rule) -> str:
    """Whether ``--fix`` can fix the rule's findings, and with which switch."""
    if not r.fixable:
        return "none"
    how = {"safe": "`--fix`", "unsafe": "`--fix --unsafe-fixes`", "safe or unsafe": "`--fix`; some only with `--unsafe-fixes`"}
    return f"{fix_summary(r)} ({how[fix_summary(r)]})"


def rule_text(r: Rule) -> str:
    """Plain-text help (SARIF ``help.text``): the docstring with section titles as plain lines."""
    parts = [f"{r.id} {r.slug}: {r.summary}", "", f"Autofix: {autofix_text(r).replace('`', '')}", ""]
    for name in SECTIONS:
        parts += [f"{name}:", r.section(name).replace("```dockerfile", "").replace("```", "").strip("\n"), ""]
    return "\n".join(parts).strip() + "\n"


def table(rules: list[Rule]) -> str:
    wid = max((len(r.slug) for r in rules), default=4)
    lines = [f"{'ID':<6} {'SLUG':<{wid}} {'SEVERITY':<8} {'SUBJECT':<16} SUMMARY"]
    for r in rules:
        sev = str(r.severity) + ("" if r.enabled_by_default else "*")
        lines.append(f"{r.id:<6} {r.slug:<{wid}} {sev:<8} {r.subject.value:<16} {r.summary}")
    lines.append(f"\n{len(rules)} rules; * = off by default. `lintimg rules ID` shows a rule's documentation.")
    return "\n".join(lines) + "\n"


def index_markdown(rules: list[Rule]) -> str:
    """docs/rules.md: an index table, then every rule's full documentation."""
    out = [
        "# Rules",
        "",
        f"<!-- Generated from the rule docstrings by `{REGENERATE}`; do not edit. -->",
        "",
        "Autofix: *safe* fixes are applied by `lintimg --fix`, *unsafe* ones (they change what the build or",
        "the container does) also need `--unsafe-fixes`; `--diff` shows them without writing.",
        "",
        "| ID | Slug | Severity | Subject | Autofix | Peers | Summary |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rules:
        cells = [f"[{r.id}](#{r.id.lower()}-{r.slug})", f"`{r.slug}`", str(r.severity), r.subject.value, fix_summary(r) if r.fixable else "—",
                 ", ".join(r.peers) or "—", r.summary]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out.append("")
    for r in rules:
        out.append(rule_markdown(r, heading="##"))
    return "\n".join(out)
