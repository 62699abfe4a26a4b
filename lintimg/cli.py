"""The ``lintimg`` command line.

Exit codes: 0 clean at the threshold, 1 findings at or above it, 2 usage or
input error (one line on stderr); ``lintimg fleet`` adds 3: some images could not
be scanned (its summary says which and why).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from lintimg import __version__, cachefiles, limits, replay
from lintimg.config import LABEL_TYPES, THRESHOLDS, Config, discover_config, load_config, load_user_config, trust_notice
from lintimg.dockerfile.sources import decode, discover, ignored, read_source
from lintimg.engine import Engine
from lintimg.engine.hookspecs import Reporter, RunInfo
from lintimg.errors import MAX_MESSAGE, LintimgError, internal_error
from lintimg.findings import Finding, Severity
from lintimg.redaction import display
from lintimg.replay import emit
from lintimg.run import RunResult, afterwards
from lintimg.run.check import Jobs, checked_config, lint_paths

if TYPE_CHECKING:
    from lintimg.context import ContextAttacher
    from lintimg.run.cache import ResultCache

DEFAULT_BASELINE = ".lintimg-baseline.json"

SUBCOMMANDS = ("check", "image", "build", "fleet", "pin", "rules", "baseline", "config", "schema", "daemon")
SEVERITY_FLAGS = ("error", "warning", "info", "style")


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, sized to the terminal without ``shutil`` (whose import loads bz2 and lzma:
    argparse makes a formatter for every argument added, so every run would pay for it)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width if width is not None else _columns() - 2)


def _columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:  # one line, exit 2
        raise LintimgError(f"usage: {message} (see lintimg --help)")


def _threshold(value: str) -> str:
    """A failure threshold (hadolint's ``ignore`` is below style, so it means style)."""
    from lintimg.config import hadolint_threshold

    value = hadolint_threshold(value)
    if value not in THRESHOLDS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a failure threshold (error, warning, info, style, none); "
                                         "-t is --failure-threshold in every lintimg command: the image tag of `lintimg build` is --tag")
    return value


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more (got {value!r})")
    return int(value)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="FILE", help="config file (default: .lintimg.yaml found from here up to the repository root, else hadolint's)")
    p.add_argument("--rules-dir", action="append", default=[], metavar="DIR", help="load rule modules from DIR (repeatable)")
    p.add_argument("--trust-config", action="store_true",
                   help="load the plugins and rules-dirs the config names (a config is not trusted to run code otherwise)")
    p.add_argument("--no-color", action="store_true", help="never colour the output (also NO_COLOR; FORCE_COLOR forces it)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write lintimg's caches (as LINTIMG_NO_CACHE=1)")
    p.add_argument("--verbose", "-V", action="store_true", help="say on stderr which config file and how many rules the run uses")


def _rule_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules (ids, slugs or peer ids such as DL3008, comma-separated, repeatable)")
    g.add_argument("--select", action="append", default=[], metavar="IDS", help="run only these rules (LI001 and LI002 stay on)")
    g.add_argument("--ignore", action="append", default=[], metavar="IDS", help="turn these rules off")
    for level in SEVERITY_FLAGS:
        g.add_argument(f"--{level}", dest=f"set_{level}", action="append", default=[], metavar="IDS", help=f"report these rules as {level} (and turn them on)")
    g = p.add_argument_group("policy (as hadolint's flags; added to the config file's)")
    g.add_argument("--trusted-registry", action="append", default=[], metavar="REGISTRY", help="a registry base images may come from (repeatable)")
    g.add_argument("--require-label", action="append", default=[], metavar="LABEL:TYPE", help="a label the image must carry, with its value type (repeatable)")
    g.add_argument("--strict-labels", action="store_true", help="with required labels, flag labels not required")
    g.add_argument("--disable-ignore-pragma", action="store_true", help="ignore every inline suppression comment")


def _output(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report")
    g.add_argument("--format", "-f", metavar="FORMAT", help="text (default), json, sarif, github, junit, gitlab, checkstyle, rdjsonl")
    g.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    g.add_argument("--failure-threshold", "--fail-on", "-t", dest="fail_on", type=_threshold, metavar="LEVEL",
                   help="lowest severity that fails the run: error, warning, info (default), style, none")
    g.add_argument("--no-fail", action="store_true", help="exit 0 whatever is found (errors in the run itself still exit 2)")
    g.add_argument("--quiet", "-q", action="store_true", help="text: only the finding lines (no source excerpts, summary or notes)")
    g.add_argument("--statistics", action="store_true", help="text: a count of findings by rule instead of the findings")
    g.add_argument("--file-path-in-report", metavar="PATH", help="the path to report for the one Dockerfile checked (as hadolint's flag)")
    g = p.add_argument_group("baseline")
    g.add_argument("--baseline", metavar="FILE", help="report only findings not in this baseline file (also the config key baseline)")
    g.add_argument("--write-baseline", action="store_true", help=f"write every finding of this run to the baseline file (--baseline, else {DEFAULT_BASELINE}) and exit 0")
    _rule_options(p)


def _sources(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="Dockerfiles, directories to search, or - for stdin")
    p.add_argument("--stdin-filename", default="-", metavar="NAME", help="name to report for - (stdin)")
    p.add_argument("--context", metavar="DIR", help="build context directory for every Dockerfile (default: each Dockerfile's folder; none for stdin)")
    p.add_argument("--no-context", action="store_true", help="check the Dockerfiles only, not their build contexts")
    p.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                   help="split the files to lint between at most N processes (default: LINTIMG_JOBS, else one per idle CPU; 1: one process)")


def _check_arguments(check: argparse.ArgumentParser) -> None:
    _sources(check)
    check.add_argument("--fix", action="store_true", help="apply safe fixes to the files in place, then report what is left")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff instead of writing them (exit 1 when there is one)")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that change behaviour")
    check.add_argument("--daemon", action="store_true", help="run through the resident server, started when none runs (as LINTIMG_DAEMON=1; docs/daemon.md)")
    _output(check)
    _common(check)


def _image_arguments(image: argparse.ArgumentParser) -> None:
    image.add_argument("ref", metavar="REF", help="docker://REF, docker-archive:PATH, oci:DIR, oci-archive:PATH, docker-daemon:REF, or a bare REF (engine, then registry)")
    image.add_argument("--dockerfile", metavar="PATH", help="the Dockerfile the image was built from: findings point at its lines")
    image.add_argument("--platform", metavar="OS/ARCH", help="platform to pick from a multi-platform image (default: this host's)")
    image.add_argument("--ca-file", metavar="PEM", help="extra CA certificate(s) to trust for the registry's TLS (SSL_CERT_FILE works too)")
    image.add_argument("--insecure", action="store_true", help="allow plain HTTP to a registry that is not on this machine")
    _output(image)
    _common(image)


def _build_arguments(build: argparse.ArgumentParser) -> None:
    build.add_argument("context", metavar="CONTEXT", help="the build context directory")
    # docker build's -f/-t are lintimg's format/threshold everywhere else: here they are long options only.
    build.add_argument("--file", dest="dockerfile", metavar="PATH", help="the Dockerfile (docker build's -f; default: CONTEXT/Dockerfile)")
    build.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE", help="a build argument (repeatable)")
    build.add_argument("--tag", metavar="TAG", help="tag the built image (docker build's -t)")
    build.add_argument("--platform", metavar="OS/ARCH", help="target platform of the build")
    _output(build)
    _common(build)


def _fleet_arguments(fleet: argparse.ArgumentParser) -> None:
    fleet.description = ("Check every image of a registry namespace. Exit codes: 0 clean, 1 an image has findings at or above the "
                         "threshold, 2 the run could not start (usage, registry unreachable), 3 some images could not be scanned "
                         "(the summary says which and why).")
    fleet.add_argument("target", metavar="REGISTRY[/NAMESPACE]", help="e.g. registry.example.com/team (a bare name is a Docker Hub namespace)")
    fleet.add_argument("--output", "-o", default="lintimg-fleet", metavar="DIR",
                       help="results per image digest, summary and fleet.sarif (default: lintimg-fleet); a rerun with the same DIR resumes")
    fleet.add_argument("--repos", metavar="FILE", help="repositories (or repository:tag) to scan, one per line, for registries that hide /v2/_catalog")
    fleet.add_argument("--include", action="append", default=[], metavar="GLOB", help="scan only REPOSITORY:TAG matching GLOB (repeatable), e.g. 'team/*:v*'")
    fleet.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip REPOSITORY:TAG matching GLOB (repeatable)")
    fleet.add_argument("--latest", type=int, metavar="N", help="per repository, only the N most recently created images")
    fleet.add_argument("--platform", metavar="OS/ARCH", help="platform to pick from multi-platform images (default: this host's)")
    fleet.add_argument("--ca-file", metavar="PEM", help="extra CA certificate(s) for the registry's TLS (the same path on every worker)")
    fleet.add_argument("--insecure", action="store_true", help="allow plain HTTP to a registry that is not on this machine")
    fleet.add_argument("--scheduler", metavar="ADDRESS", help="run the tasks on this Dask scheduler, e.g. tcp://dask-scheduler:8786 (pip install 'lintimg[fleet]')")
    fleet.add_argument("--workers", type=int, metavar="N", help="processes of the embedded pool (default: one per CPU)")
    fleet.add_argument("--memory-limit", metavar="SIZE", help="address-space cap per embedded worker, e.g. 2GiB (Dask: the workers' own --memory-limit)")
    fleet.add_argument("--layer-cache", metavar="DIR", help="the layer cache every worker sees (default: $LINTIMG_LAYER_CACHE, else $XDG_CACHE_HOME/lintimg/layers)")
    fleet.add_argument("--rate", type=float, default=20.0, metavar="N", help="requests per second per registry host, over all workers (default 20; 0: no budget)")
    fleet.add_argument("--format", "-f", choices=("text", "json"), default="text", help="the summary on stdout (both are written to DIR)")
    fleet.add_argument("--fail-on", "-t", choices=THRESHOLDS, metavar="LEVEL", help="lowest severity that makes an image fail: error, warning, info (default), style, none")
    fleet.add_argument("--select", action="append", default=[], metavar="IDS", help="run only these rules (ids or slugs, comma-separated)")
    fleet.add_argument("--ignore", action="append", default=[], metavar="IDS", help="turn these rules off (ids or slugs, comma-separated)")
    _common(fleet)


def _pin_arguments(pin: argparse.ArgumentParser) -> None:
    pin.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="Dockerfiles or directories to search (default: .)")
    pin.add_argument("--diff", action="store_true", help="print the change as a unified diff instead of writing it (exit 1 when there is one)")
    pin.add_argument("--update", action="store_true", help="also re-resolve tags already pinned and replace digests that moved")
    pin.add_argument("--ca-file", metavar="PEM", help="extra CA certificate(s) to trust for the registry's TLS")
    pin.add_argument("--insecure", action="store_true", help="allow plain HTTP to a registry that is not on this machine")
    pin.add_argument("--config", "-c", metavar="FILE", help="config file (for ignore-paths)")
    pin.add_argument("--no-cache", action="store_true", help="neither read nor write lintimg's caches (as LINTIMG_NO_CACHE=1)")


def _rules_arguments(rules: argparse.ArgumentParser) -> None:
    rules.add_argument("rule", nargs="?", metavar="ID|SLUG|PEER-ID")
    rules.add_argument("--format", "-f", choices=("text", "json", "markdown"), default="text")
    _common(rules)


def _baseline_arguments(base: argparse.ArgumentParser) -> None:
    _sources(base)
    base.add_argument("--output", "-o", default=DEFAULT_BASELINE, metavar="FILE", help=f"the baseline file to write (default: {DEFAULT_BASELINE})")
    _rule_options(base)
    _common(base)


def _config_arguments(config: argparse.ArgumentParser) -> None:
    config.add_argument("--from-hadolint", nargs="?", const="", metavar="FILE", help="print FILE (default: the .hadolint.yaml found) as a .lintimg.yaml")
    config.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    _common(config)


def _schema_arguments(schema: argparse.ArgumentParser) -> None:
    schema.add_argument("which", choices=("report", "config"), metavar="report|config")
    schema.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")


def _daemon_arguments(daemon: argparse.ArgumentParser) -> None:
    daemon.description = ("The resident server that --daemon and LINTIMG_DAEMON=1 run checks through (docs/daemon.md). "
                          "Exit codes: 0 done (status: running), 1 status: not running, 2 error.")
    daemon.add_argument("action", choices=("start", "stop", "status"), metavar="start|stop|status")


SUBPARSERS = {
    "check": ("lint Dockerfiles (the default command)", _check_arguments),
    "image": ("check a container image, alone or mapped to its Dockerfile", _image_arguments),
    "build": ("build with the local engine, then check the Dockerfile, context and image together", _build_arguments),
    "fleet": ("check every image of a registry namespace, each shared layer analysed once (docs/fleet.md)", _fleet_arguments),
    "pin": ("pin FROM images by the digest their tag resolves to (FROM img:tag@sha256:...)", _pin_arguments),
    "rules": ("list rules, or show one rule's documentation (by id, slug or peer id)", _rules_arguments),
    "baseline": ("record today's findings, so that later runs report only new ones", _baseline_arguments),
    "config": ("show the config a run would use, or convert hadolint's", _config_arguments),
    "schema": ("print a JSON Schema: of the JSON report, or of .lintimg.yaml (for editors)", _schema_arguments),
    "daemon": ("start, stop or ask about the resident server of --daemon (docs/daemon.md)", _daemon_arguments),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand (for ``lintimg --help``), or with ``command`` of that one only: a run
    parses one command's line, and every parser and argument made costs start-up time."""
    p = _Parser(prog="lintimg", description="Lint Dockerfiles, build contexts and container images.",
                epilog="Short flags mean the same in every command: -f format, -o output, -t failure threshold, -c config, -q quiet, "
                       "-V verbose. `lintimg build` takes docker's file and tag as --file and --tag.")
    p.add_argument("--version", "-v", action="version", version=f"lintimg {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    for name, (help_text, add_arguments) in SUBPARSERS.items():
        if command in (None, name):
            add_arguments(sub.add_parser(name, help=help_text))
    return p


# Parsers the resident server built before any request (lintimg.resident.server): each of its children takes one
# once, as the run would have built it (a parser depends on nothing of the run: the help's width is taken when shown).
_prebuilt: dict[str | None, argparse.ArgumentParser] = {}


def prebuild(command: str) -> None:
    _prebuilt[command] = build_parser(command)


def _config(args: argparse.Namespace) -> Config:
    """The run's config (``--config``, else discovered) with this run's policy flags applied over it; its code
    (plugins, rules-dirs) loads only on --trust-config or the user config's say-so."""
    user = load_user_config()
    if args.config:
        path: Path | None = Path(args.config)
        if not os.path.lexists(args.config):
            raise LintimgError(f"{args.config}: config file not found")
    else:
        path = discover_config(Path.cwd())
    # `pin` reads ignore-paths only and has no --trust-config
    trusted = getattr(args, "trust_config", False) or (user is not None and user.trusts(path))
    config = load_config(path, trusted=trusted)
    notice = trust_notice(config)
    if notice:
        say(notice)
    if user is not None:  # the user's own code, in every run
        config.plugins += [p for p in user.plugins if p not in config.plugins]
        config.rules_dirs += [d for d in user.rules_dirs if d not in config.rules_dirs]
    config = checked_config(config)
    settings = config.settings
    if getattr(args, "trusted_registry", None):
        settings["trusted-registries"] = [*settings.get("trusted-registries", []), *args.trusted_registry]
    for spec in getattr(args, "require_label", None) or ():
        label, sep, kind = spec.rpartition(":")
        if not sep or not label or kind not in LABEL_TYPES:
            raise LintimgError(f"--require-label {spec!r}: expected LABEL:TYPE with TYPE one of {', '.join(LABEL_TYPES)}")
        settings["label-schema"] = {**settings.get("label-schema", {}), label: kind}
    if getattr(args, "strict_labels", False):
        settings["strict-labels"] = True
    if getattr(args, "disable_ignore_pragma", False):
        config.disable_ignore_pragma = True
    if getattr(args, "verbose", False):
        kind = " (hadolint's, converted)" if path is not None and "hadolint" in path.name else ""
        say(f"config: {path or 'none (defaults)'}{kind}")
    return config


def _color(args: argparse.Namespace, stream: TextIO | None) -> bool:
    """--no-color and NO_COLOR turn colour off; FORCE_COLOR turns it on where there is no terminal; reports to files never have it."""
    if args.no_color or os.environ.get("NO_COLOR") or getattr(args, "output", None) or stream is None:
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):  # a closed stdout (the run memo wraps even a missing one)
        return False


def exit_code(findings: list[Finding], threshold: str) -> int:
    if threshold == "none":
        return 0
    floor = Severity.parse(threshold)
    return 1 if any(f.severity >= floor for f in findings) else 0


def formatter(engine: Engine, fmt: str) -> Reporter:
    from lintimg.config import HADOLINT_FORMATS

    formats = engine.report_formats()
    if fmt not in formats and HADOLINT_FORMATS.get(fmt) in formats:
        fmt = HADOLINT_FORMATS[fmt]  # hadolint's name for the same format (tty is text)
    if fmt not in formats:
        hint = "; -f is --format in every lintimg command: `lintimg build` takes the Dockerfile as --file" if os.path.exists(fmt) else ""
        raise LintimgError(f"unknown format {fmt!r} (choose from {', '.join(sorted(formats))}){hint}")
    return formats[fmt]


def _format(args: argparse.Namespace, config: Config) -> str:
    return str(getattr(args, "format", None) or config.format or "text")


def make_engine(args: argparse.Namespace, config: Config) -> Engine:
    """The engine for a command, with ``--select``/``--ignore``/``--error``… applied over the config."""
    engine = Engine(config, args.rules_dir)
    registry = engine.registry
    registry.select(registry.resolve(getattr(args, "select", []), " in --select"))
    registry.ignore(registry.resolve(getattr(args, "ignore", []), " in --ignore"))
    for level in SEVERITY_FLAGS:
        registry.set_severity(registry.resolve(getattr(args, f"set_{level}", []), f" in --{level}"), Severity.parse(level))
    if hasattr(args, "format"):
        formatter(engine, _format(args, config))  # an unknown format fails before any slow work (pulls, builds)
    if getattr(args, "verbose", False):
        print(f"lintimg: {len(registry.enabled_ids)} of {len(registry.rules)} rules enabled", file=sys.stderr)
    return engine


def _run_info(args: argparse.Namespace, engine: Engine, result: RunResult, kind: str, image: str | None, stream: TextIO) -> RunInfo:
    info = result.run_info(engine, kind, image, color=_color(args, stream))
    info.quiet, info.statistics = getattr(args, "quiet", False), getattr(args, "statistics", False)
    return info


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def report(args: argparse.Namespace, engine: Engine, config: Config, result: RunResult, kind: str = "dockerfile", image: str | None = None,
           stream: TextIO | None = None) -> int:
    """Apply or write the baseline, render ``result`` in the chosen format, write it (to ``--output``, else
    ``stream``, else stdout), and return the exit code."""
    if args.file_path_in_report:
        result.rename(args.file_path_in_report)
    result.notes = [*config.notes, *result.notes]
    info = _run_info(args, engine, result, kind, image, stream or sys.stdout)
    base = args.baseline or (os.path.join(config.base_dir or ".", config.baseline) if config.baseline else None)
    # The baseline code loads only for a run that has one.
    if args.write_baseline:
        from lintimg.reports import baseline

        path = base or DEFAULT_BASELINE
        n = baseline.write(result.findings, info, path, engine.redactor.masked)
        if not args.quiet:
            say(f"wrote {_plural(n, 'finding')} to {path}")
        return 0
    findings = result.findings
    if base:
        from lintimg.reports import baseline

        applied = baseline.apply(findings, info, base)
        findings = applied.kept
        info.baseline = {"file": base, "baselined": applied.baselined, "stale": applied.stale}
        stale = f"; {_plural(applied.stale, 'baseline entry', 'baseline entries')} no longer found (stale: `lintimg baseline` rewrites it)" if applied.stale else ""
        info.notes = [*info.notes, f"{base}: {_plural(applied.baselined, 'finding')} baselined{stale}"]
    text = formatter(engine, _format(args, config))(findings, info)
    if stream is not None and not args.output:
        stream.write(text)
        stream.flush()
    else:
        emit(text, args.output)
    threshold = "none" if args.no_fail else (args.fail_on or config.failure_threshold)
    return exit_code(findings, threshold)


def _context_attachers(args: argparse.Namespace) -> tuple[ContextAttacher | None, ContextAttacher | None]:
    """(for files, for stdin): each Dockerfile's folder by default; stdin only with --context."""
    if args.no_context:
        if args.context:
            raise LintimgError("--context and --no-context cannot be used together")
        return None, None
    from lintimg.context import ContextAttacher  # not for --no-context: the context code stays unloaded

    if args.context and not os.path.isdir(args.context):
        raise LintimgError(f"{args.context}: build context is not a directory")
    attach = ContextAttacher(args.context)
    return attach, (attach if args.context else None)


def _paths(args: argparse.Namespace, config: Config) -> list[str]:
    """The Dockerfiles a check names or finds, less the config's ignore-paths."""
    paths = [p for p in discover(args.paths) if not ignored(p, config.ignore_paths, config.base_dir)]
    if args.paths.count("-") > 1:
        raise LintimgError("stdin (-) can be given only once")
    return paths


def _lint(args: argparse.Namespace, config: Config, engine: Engine) -> RunResult:
    paths = _paths(args, config)
    if getattr(args, "file_path_in_report", None) and len(paths) != 1:
        raise LintimgError(f"--file-path-in-report names the path of one Dockerfile, but {len(paths)} were found")
    attachers, cache = _context_attachers(args), _results_cache(engine)
    replay.pause()  # what the lint reads, its results-cache entries hold
    try:
        result = lint_paths(engine, paths, args.stdin_filename, *attachers, cache=cache, jobs=_split(args))
    finally:
        replay.resume()
    afterwards.later(lambda: _recorded(cache))
    return result


def _recorded(cache: ResultCache | None) -> None:
    """Hand the run memo the results-cache entries, once they are written (a split check's workers write theirs
    after handing their findings back)."""
    from lintimg.run import parallel

    parallel.reap()
    replay.results(cache)


def _split(args: argparse.Namespace) -> Jobs:
    """How the files to lint may be split between processes (``--jobs``), with the run memo's recording carried
    back from each (lintimg.run.parallel)."""
    from lintimg.run.parallel import Carrier, requested

    return Jobs(requested(args.jobs), Carrier(replay.carried, replay.absorb))


def cmd_check(args: argparse.Namespace) -> int:
    config = _config(args)
    engine = make_engine(args, config)
    if args.fix or args.diff:
        return _fix(args, engine, config)
    if args.unsafe_fixes:
        raise LintimgError("--unsafe-fixes goes with --fix or --diff")
    return report(args, engine, config, _lint(args, config, engine))


def cmd_baseline(args: argparse.Namespace) -> int:
    """``lintimg baseline``: ``check`` with every finding written to the baseline file."""
    args.write_baseline, args.baseline, args.file_path_in_report, args.quiet = True, args.output, None, False
    config = _config(args)
    engine = make_engine(args, config)
    return report(args, engine, config, _lint(args, config, engine))


def _fix(args: argparse.Namespace, engine: Engine, config: Config) -> int:
    """``--fix`` (write, then report what is left) and ``--diff`` (print what would change)."""
    from lintimg.run import fix as fixer
    from lintimg.run.check import lint_sources

    if args.fix and args.diff:
        raise LintimgError("--fix and --diff cannot be used together (--diff only shows the fixes)")
    if args.write_baseline or args.file_path_in_report:
        raise LintimgError(f"{'--write-baseline' if args.write_baseline else '--file-path-in-report'} goes with a check, not with --fix or --diff")
    paths = _paths(args, config)
    attach, stdin_attach = _context_attachers(args)
    if args.fix:
        for p in paths:
            if p != "-":
                fixer.check_writable(p)  # refuse before anything is written
    stdin_data = sys.stdin.buffer.read(limits.MAX_DOCKERFILE + 1) if "-" in paths else None  # stdin may be endless
    fixed: dict[str, fixer.FileFix] = {}
    for p in paths:
        src = fixer.read_for_fix(p, stdin_data, args.stdin_filename)
        if src is not None:
            fixed[p] = fixer.fix_source(engine, src, unsafe=args.unsafe_fixes, context=stdin_attach if p == "-" else attach)
    notes = fixer.summary(list(fixed.values()), args.unsafe_fixes, applied=args.fix)
    if args.diff:
        emit("".join(f.diff() for f in fixed.values() if f.changed), args.output)
        for n in notes:
            say(n)
        return 1 if any(f.changed for f in fixed.values()) else 0
    for p, f in fixed.items():
        if f.changed and p != "-":
            notes += fixer.write_fixed(f)
    sources = []
    for p in paths:
        if p != "-":
            sources.append((read_source(p), attach))
            continue
        text = fixed[p].fixed if p in fixed else (stdin_data or b"").decode("utf-8", "replace")
        sys.stdout.write(text)  # like ruff: the fixed text on stdout, the report on stderr
        sources.append((decode(args.stdin_filename, text.encode("utf-8", "surrogateescape")), stdin_attach))
    result = lint_sources(engine, sources, _results_cache(engine), _split(args))
    result.notes[:0] = notes
    # stdin's fixed text went to stdout, so the report goes to stderr
    return report(args, engine, config, result, stream=sys.stderr if "-" in paths and not args.output else None)


def _results_cache(engine: Engine) -> ResultCache | None:
    if not cachefiles.enabled():
        return None
    from lintimg.run.cache import ResultCache

    return ResultCache(engine, deferred=True)  # written once the report is out (lintimg.run.afterwards)


def cmd_image(args: argparse.Namespace) -> int:
    from lintimg.run import image as imagecheck

    config = _config(args)
    engine = make_engine(args, config)
    df = imagecheck.read_dockerfile(args.dockerfile) if args.dockerfile else None
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise LintimgError(f"{args.ca_file}: CA file not found")
    run = imagecheck.check_ref(engine, args.ref, dockerfile=df, platform=args.platform, insecure=args.insecure, ca_file=args.ca_file)
    return report(args, engine, config, run, "image", args.ref)


def cmd_build(args: argparse.Namespace) -> int:
    from lintimg.context import BUILDKIT, CLASSIC, CLASSIC_PRE23, ContextAttacher
    from lintimg.run import build as builder
    from lintimg.run import image as imagecheck

    config = _config(args)
    engine = make_engine(args, config)
    dockerfile = args.dockerfile or os.path.join(args.context, "Dockerfile")
    df = imagecheck.read_dockerfile(dockerfile)
    built = builder.build(args.context, dockerfile, args.build_arg, args.tag, args.platform)
    kind = BUILDKIT if built.builder == "buildkit" else (CLASSIC if built.client_major >= 23 else CLASSIC_PRE23)
    run = imagecheck.check_ref(engine, f"docker-daemon:{built.image_id}", dockerfile=df, platform=args.platform,
                               context=ContextAttacher(args.context, kind))
    return report(args, engine, config, run, "image", args.tag or built.image_id)


def cmd_fleet(args: argparse.Namespace) -> int:
    from lintimg.config import parse_size
    from lintimg.fleet.plan import Selection, parse_target
    from lintimg.fleet.progress import fleet_progress
    from lintimg.fleet.run import FleetOptions, run_fleet

    config = _config(args)
    engine = make_engine(args, config)
    if args.latest is not None and args.latest < 1:
        raise LintimgError("--latest: expected a number of images of at least 1")
    if args.workers is not None and args.workers < 1:
        raise LintimgError("--workers: expected at least 1")
    if args.rate < 0:
        raise LintimgError("--rate: expected requests per second, 0 or more")
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise LintimgError(f"{args.ca_file}: CA file not found")
    try:
        memory = parse_size(args.memory_limit) if args.memory_limit else None
    except ValueError:
        raise LintimgError(f"--memory-limit {args.memory_limit!r}: expected a size such as 2GiB or 1500MB") from None
    opts = FleetOptions(parse_target(args.target), args.output, repos_file=args.repos,
                        selection=Selection(tuple(args.include), tuple(args.exclude), args.latest), platform=args.platform,
                        insecure=args.insecure, ca_file=args.ca_file, scheduler=args.scheduler, workers=args.workers, memory_limit=memory,
                        cache_root=args.layer_cache, rate=args.rate, threshold=args.fail_on or config.failure_threshold,
                        rules_dirs=tuple(args.rules_dir))
    with fleet_progress() as progress:
        result = run_fleet(engine, opts, progress)
    emit(json.dumps(result.summary, indent=2) + "\n" if args.format == "json" else result.text, None)
    return result.exit_code


def cmd_rules(args: argparse.Namespace) -> int:
    from lintimg.reports import ruledocs

    engine = Engine(_config(args), args.rules_dir)
    if args.rule:
        found, _ = engine.registry.match(args.rule)  # an id, a slug or a peer id (DL3008 is LI300)
        if not found:
            raise engine.registry.unknown(args.rule)
        if args.format == "json":
            sys.stdout.write(json.dumps([ruledocs.rule_json(r) for r in found] if len(found) > 1 else ruledocs.rule_json(found[0]), indent=2) + "\n")
        else:
            sys.stdout.write("\n".join(ruledocs.rule_markdown(r) for r in found))
        return 0
    if args.format == "json":
        sys.stdout.write(json.dumps([ruledocs.rule_json(r) for r in engine.rules], indent=2) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(ruledocs.index_markdown(engine.rules))
    else:
        sys.stdout.write(ruledocs.table(engine.rules))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """``lintimg config --from-hadolint [FILE]``: hadolint's config as a .lintimg.yaml; without it, the config in use."""
    from lintimg.config import HADOLINT_NAMES, find_config, read_yaml
    from lintimg.reports import hadolint

    if args.from_hadolint is None:
        path = Path(args.config) if args.config else discover_config(Path.cwd())
        emit(f"# {path or 'no config file: the defaults'}\n" + (path.read_text(encoding="utf-8") if path else ""), args.output, "config")
        return 0
    source = Path(args.from_hadolint) if args.from_hadolint else find_config(Path.cwd(), HADOLINT_NAMES)
    if source is None or not source.is_file():
        raise LintimgError(f"{args.from_hadolint or '.hadolint.yaml'}: hadolint config file not found")
    engine = Engine(load_config(None), args.rules_dir)
    emit(hadolint.as_lintimg_yaml(read_yaml(source), str(source), engine.registry), args.output, "config")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from lintimg.reports import schemas

    doc = schemas.report_schema() if args.which == "report" else schemas.config_schema()
    emit(json.dumps(doc, indent=2) + "\n", args.output, "schema")
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    from lintimg.run import fix as fixer
    from lintimg.run import pin

    config = _config(args)
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise LintimgError(f"{args.ca_file}: CA file not found")
    if "-" in args.paths:
        raise LintimgError("lintimg pin edits files; stdin (-) is not supported (use --diff to see the change)")
    paths = [p for p in discover(args.paths) if not ignored(p, config.ignore_paths, config.base_dir)]
    if not args.diff:
        for p in paths:
            fixer.check_writable(p)
    sources = [s for s in (fixer.read_for_fix(p) for p in paths) if s is not None]
    result = pin.pin_sources(sources, pin.registry_resolver(args.insecure, args.ca_file), args.update)
    changed = [f for f in result.fixes if f.changed]
    if result.failures:  # all or nothing: a half-pinned set of Dockerfiles is worse than none
        nothing = f"nothing {'shown' if args.diff else 'written'}"
        if len(result.failures) == 1:  # one line, as any other error
            say(f"{nothing}: {result.failures[0]}")
            return 2
        for line in result.failures:
            say(line)
        say(f"{nothing}: {len(result.failures)} FROM images could not be resolved")
        return 2
    if args.diff:
        emit("".join(f.diff() for f in changed), None)
    else:
        for f in changed:
            result.notes += fixer.write_fixed(f)
    verb = "would pin" if args.diff else "pinned"
    for line in [f"{verb} {result.pinned} FROM image{'s' if result.pinned != 1 else ''} in {len(changed)} file{'s' if len(changed) != 1 else ''}",
                 *result.notes]:
        say(line)
    return 1 if args.diff and changed else 0


def cmd_daemon(args: argparse.Namespace) -> int:
    from lintimg.resident import client

    try:
        code, line = client.control(args.action)
    except client.Unavailable as e:
        raise LintimgError(f"daemon: {e}") from None
    except OSError as e:
        raise LintimgError(f"daemon: {e.strerror or e}") from None
    emit(line + "\n", None, "status")
    return code


COMMANDS = {"check": cmd_check, "image": cmd_image, "build": cmd_build, "fleet": cmd_fleet, "pin": cmd_pin, "rules": cmd_rules,
            "baseline": cmd_baseline, "config": cmd_config, "schema": cmd_schema, "daemon": cmd_daemon}


def _arguments(given: list[str]) -> argparse.Namespace:
    """The command line parsed (``check`` when it names no command)."""
    argv = list(given)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version", "-v")):
        argv.insert(0, "check")
    command = argv[0] if argv[0] in COMMANDS else None
    args = (_prebuilt.pop(command, None) or build_parser(command)).parse_args(argv)
    if getattr(args, "no_cache", False):  # schema has no caches to skip
        os.environ["LINTIMG_NO_CACHE"] = "1"  # the one switch every cache reads (lintimg.cachefiles)
    return args


def helper(argv: list[str], channel: Any) -> int:
    """In the resident server's helper process (docs/daemon.md): set up what a ``check`` with this command line
    sets up — configuration, engine, build contexts, results cache — and check the share of its files the run hands
    over through ``channel`` (lintimg.run.parallel). Nothing is reported, fixed or recorded here."""
    from lintimg.run.check import help_check

    limits.start_run()
    try:
        args = _arguments(argv)
        if args.command != "check":
            return 0
        config = _config(args)
        engine = make_engine(args, config)
        help_check(engine, _context_attachers(args)[0], _results_cache(engine), channel)
    except (LintimgError, SystemExit):
        return 2  # the run meets the same error and says it; unanswered, the share is the run's own again
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    limits.start_run()
    _stop_on_signals()
    try:
        args = _arguments(given)
        rec = replay.recording(given) if args.command == "check" and "-" not in args.paths else None
        if rec is None:
            return afterwards.finish(COMMANDS[args.command](args))
        with rec:  # the next run of this command line may be answered from its memo (lintimg.replay)
            code = COMMANDS[args.command](args)
            replay.pause()  # the work after the report (lintimg.run.afterwards) writes caches, and reads nothing of the run's
            code = afterwards.finish(code)
        rec.finish(code)
        return code
    except LintimgError as e:
        say(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - a bug must not look like "findings" (exit 1) or spill a traceback
        if os.environ.get("LINTIMG_DEBUG"):
            raise
        say(internal_error(e))
        return 2
    finally:
        afterwards.discard()  # what a run that failed before its report had queued (an embedding caller runs again)


def _stop_on_signals() -> None:
    """SIGTERM and SIGINT end the run as an exception (exit 143/130): temp folders and ShellCheck's files
    are removed on the way out, and worker threads stop at their next check of the run clock."""

    def stop(signum: int, frame: object) -> None:
        message = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        limits.request_stop(message, 128 + signum)
        if not limits.holding():  # else raised when the hold ends (native code that must not see an exception)
            raise limits.Stopped(message, 128 + signum)

    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
    except ValueError:  # not the main thread (an embedding application): its own handlers stay
        pass


def say(message: str) -> None:
    """One line on stderr, through the redaction layer: secrets masked, control characters visible.

    It cannot fail: a message that cannot be redacted (the detectors broke) is
    shown with control characters made visible and every word that could be a
    secret withheld.
    """
    try:
        from lintimg.engine.redaction import builtin_redactor

        line = builtin_redactor().line(message[:MAX_MESSAGE])
    except Exception:  # noqa: BLE001 - reporting a failure must not fail
        line = display(" ".join(w if len(w) < 8 else "…" for w in message[:MAX_MESSAGE].split(" ")))
    try:
        print(f"lintimg: {line}", file=sys.stderr)
    except (OSError, ValueError, AttributeError):  # stderr closed or full: nothing left to tell
        pass
