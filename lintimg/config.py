"""``.lintimg.yaml``: discovery, validation with near-key suggestions, and the loaded settings.

Example::

    failure-threshold: warning
    rules:
      LI301: off                  # by id
      apt-get-pin-versions: error # or by slug
    trusted-registries: [docker.io, "*.gcr.io"]
    label-schema: {maintainer: email, org.opencontainers.image.source: url}
    strict-labels: true
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import field
from pathlib import Path
from typing import Any

from lintimg import limits
from lintimg.errors import LintimgError
from lintimg.findings import Severity
from lintimg.records import record

CONFIG_NAMES = (".lintimg.yaml", ".lintimg.yml")
HADOLINT_NAMES = (".hadolint.yaml", ".hadolint.yml")
THRESHOLDS = ("error", "warning", "info", "style", "none")
LABEL_TYPES = ("text", "url", "rfc3339", "spdx", "hash", "semver", "email")
# How far base-image lookups may go (lintimg.image.basefacts): nowhere, the cache and local engine, or the registry too.
LOOKUP_MODES = ("off", "local", "registry")
LOOKUP_ENV = "LINTIMG_BASE_IMAGE_LOOKUP"  # overrides base-image-lookup for a run
MAX_EXTENDS = 8  # depth of extends: chains


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _size(v: Any) -> bool:
    try:
        parse_size(v)
        return True
    except ValueError:
        return False


def shown(value: Any) -> str:
    """A config value for an error message: bounded, however big or deep the value is."""
    import reprlib  # only for an error message

    r = reprlib.Repr()
    r.maxstring = r.maxother = 60
    return r.repr(value)


def _patterns(v: Any) -> bool:
    if not _str_list(v):
        return False
    try:
        for pattern in v:
            if not re.fullmatch(r"[0-9a-fA-F]{64}", pattern):
                re.compile(pattern)
    except re.error:
        return False
    return True


BASE_LAYER_POLICIES = ("report", "ignore", "error")

# The keys of the ``secrets:`` map -> (validator, what it expects); documented in docs/configuration.md.
SECRETS_SETTINGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "allowlist": (_patterns, "a list of fingerprints (64 hex digits, as reported) or regular expressions matched in the value"),
    "exclude-paths": (_str_list, "a list of path globs"),
    "max-file-size": (_size, "a size such as 2MiB"),
    "baseline": (lambda v: v is None or isinstance(v, str), "the path of a detect-secrets .secrets.baseline (empty: none)"),
    "detectors": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and (x in ("on", "off") or isinstance(x, bool)) for k, x in v.items()),
                  "a map of detector id to on or off"),
    "base-layers": (lambda v: v in BASE_LAYER_POLICIES, "report, ignore or error"),
}
BASELINE_NAME = ".secrets.baseline"


def load_baseline(path: str) -> dict[str, Any]:
    """A detect-secrets baseline as an allowlist: the sha1 of every value it lists (but those marked
    ``is_secret: true``: real secrets stay reported) and its path and value filters."""
    import json

    try:
        doc = json.loads(limits.read_file(path, limits.MAX_JSON))
    except FileNotFoundError:
        raise LintimgError(f"{path}: secrets baseline not found") from None
    except limits.NotRegularFile as e:
        raise LintimgError(f"{path}: not a regular file ({limits.why(e)}); a secrets baseline must be a file") from None
    except limits.TooLarge:
        raise LintimgError(f"{path}: secrets baseline is larger than {limits.MAX_JSON} bytes") from None
    except OSError as e:
        raise LintimgError(f"{path}: cannot read the secrets baseline: {limits.why(e)}") from None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past what the decoder takes
        raise LintimgError(f"{path}: not a detect-secrets baseline (invalid JSON)") from None
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, dict) or not all(isinstance(v, list) for v in results.values()):
        raise LintimgError(f"{path}: not a detect-secrets baseline (no 'results' map)")
    hashes = sorted({str(e["hashed_secret"]) for found in results.values() for e in found
                     if isinstance(e, dict) and isinstance(e.get("hashed_secret"), str) and e.get("is_secret") is not True})
    files: list[str] = []
    values: list[str] = []
    for f in doc.get("filters_used") or []:
        if isinstance(f, dict) and isinstance(f.get("pattern"), list):
            target = {"detect_secrets.filters.regex.should_exclude_file": files,
                      "detect_secrets.filters.regex.should_exclude_secret": values}.get(str(f.get("path")))
            if target is not None:
                target += [str(x) for x in f["pattern"]]
    old = doc.get("exclude")  # detect-secrets 0.x: {"files": regex, "lines": regex}
    if isinstance(old, dict) and isinstance(old.get("files"), str):
        files.append(old["files"])
    for pattern in files + values:
        try:
            re.compile(pattern)
        except re.error:
            raise LintimgError(f"{path}: the baseline's filter {shown(pattern)} is not a valid regular expression") from None
    return {"path": path, "hashes": hashes, "exclude-files": files, "exclude-secrets": values}


def _secrets(value: Any, where: str, base_dir: str) -> dict[str, Any]:
    """The ``secrets:`` map, checked key by key, with its baseline read (or found next to the config)."""
    if not isinstance(value, dict):
        raise LintimgError(f"{where}: 'secrets' must be a map with keys {', '.join(SECRETS_SETTINGS)}")
    out = dict(value)
    for key, v in value.items():
        if key not in SECRETS_SETTINGS:
            raise LintimgError(f"{where}: unknown key 'secrets.{str(key)[:60]}'{suggest(str(key)[:60], SECRETS_SETTINGS)}")
        check, expects = SECRETS_SETTINGS[key]
        if not check(v):
            raise LintimgError(f"{where}: 'secrets.{key}' must be {expects}, not {shown(v)}")
    if "baseline" in value:
        out.pop("baseline")
        if value["baseline"]:
            out["baseline"] = load_baseline(os.path.join(base_dir, value["baseline"]))
    else:
        found = os.path.join(base_dir, BASELINE_NAME)
        if os.path.isfile(found):
            out["baseline"] = load_baseline(found)
    return out


def _base_size(v: Any) -> bool:
    """``300MB``, or ``{size: 300MB, all-stages: true}``."""
    if isinstance(v, dict):
        return set(v) <= {"size", "all-stages"} and "size" in v and _size(v["size"]) and isinstance(v.get("all-stages", False), bool)
    return _size(v)


_UID_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _users(v: Any) -> bool:
    """User names and UIDs or UID ranges (``app``, ``10001``, ``10000-19999``)."""
    if not _str_list(v) and not (isinstance(v, list) and all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in v)):
        return False
    for x in v:
        m = _UID_RANGE.match(str(x).strip())
        if m and m.group(2) and int(m.group(2)) < int(m.group(1)):
            return False
        if not m and not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*\$?$", str(x).strip()):
            return False
    return True


def _denied(v: Any) -> bool:
    """``{pattern: reason}``."""
    return isinstance(v, dict) and all(isinstance(k, str) and k and isinstance(r, str) for k, r in v.items())


_SDK_KEYS = {"name", "images", "sdk-tags", "runtime-tags", "runtime"}


def _sdk_images(v: Any) -> bool:
    """A list of SDK image families: ``{images: [...], name:, sdk-tags:, runtime-tags:, runtime: [...]}``."""
    if not isinstance(v, list):
        return False
    for fam in v:
        if not isinstance(fam, dict) or not set(fam) <= _SDK_KEYS or not _str_list(fam.get("images")) or not fam["images"]:
            return False
        if not all(_str_list(fam.get(k, [])) for k in ("sdk-tags", "runtime-tags", "runtime")) or not isinstance(fam.get("name", ""), str):
            return False
    return True


@record(frozen=True)
class Key:
    """One key of ``.lintimg.yaml``: how it is checked, what the error says, its JSON Schema and meaning.

    :data:`KEYS` is the one table of keys: validation, ``lintimg schema config``
    (the JSON Schema editors use) and the docs test all read it, so a key added
    here appears everywhere. ``setting=True`` keys land in ``Config.settings``
    for rules (``Target.setting(key)``); the others are read by the loader.
    """

    check: Callable[[Any], bool]
    expects: str  # "must be <expects>" in the error message
    schema: dict[str, Any]  # JSON Schema of the value
    doc: str  # one line: what the key does
    setting: bool = True


def _threshold(v: Any) -> bool:
    return v in THRESHOLDS


_BOOL: dict[str, Any] = {"type": "boolean"}
_SIZE: dict[str, Any] = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\s*[0-9.]+\s*([KMG]i?B?|B)?\s*$"}]}
_STR_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_FRACTION: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
_RULE_SETTING: dict[str, Any] = {
    "anyOf": [
        {"enum": ["off", "on", "error", "warning", "info", "style", True, False]},
        {"type": "object", "properties": {"severity": {"enum": ["error", "warning", "info", "style"]}, "enabled": {"type": "boolean"}},
         "additionalProperties": False},
    ]
}


def _bool_key(doc: str) -> Key:
    return Key(lambda v: isinstance(v, bool), "true or false", _BOOL, doc)


def _size_key(doc: str, example: str) -> Key:
    return Key(_size, f"a size such as {example}", _SIZE, doc)


KEYS: dict[str, Key] = {
    "failure-threshold": Key(_threshold, f"one of {', '.join(THRESHOLDS)}", {"enum": list(THRESHOLDS)},
                             "the lowest severity that makes lintimg exit 1 (none: never)", setting=False),
    "rules": Key(lambda v: isinstance(v, dict), "a map of rule ids, slugs or peer ids to off, on or a severity",
                 {"type": "object", "additionalProperties": _RULE_SETTING}, "per-rule on/off and severity, by id, slug or peer id (DL3008)",
                 setting=False),
    "plugins": Key(_str_list, "a list of strings", _STR_LIST, "importable modules that provide rules or report formats", setting=False),
    "rules-dirs": Key(_str_list, "a list of strings", _STR_LIST, "folders whose *.py files are loaded as rule modules", setting=False),
    "ignore-paths": Key(_str_list, "a list of strings", _STR_LIST, "files not to check (patterns)", setting=False),
    "disable-ignore-pragma": Key(lambda v: isinstance(v, bool), "true or false", _BOOL, "ignore every inline suppression comment",
                                 setting=False),
    "baseline": Key(lambda v: isinstance(v, str) and bool(v), "a file name", {"type": "string", "minLength": 1},
                    "a baseline file (lintimg baseline): only findings not in it are reported", setting=False),
    "format": Key(lambda v: isinstance(v, str) and bool(v), "a report format name", {"type": "string", "minLength": 1},
                  "the report format when --format is not given", setting=False),
    "extends": Key(lambda v: isinstance(v, str) or _str_list(v), "a path, package:NAME[/FILE], or a list of them",
                   {"anyOf": [{"type": "string"}, _STR_LIST]}, "policy files this one builds on (paths, or package:NAME[/FILE])", setting=False),
    "trusted-registries": Key(lambda v: isinstance(v, str) or _str_list(v), "a registry name or a list of them",
                              {"anyOf": [{"type": "string"}, _STR_LIST]}, "registries base images may come from (* wildcards)"),
    "label-schema": Key(lambda v: isinstance(v, dict) and all(t in LABEL_TYPES for t in v.values()),
                        f"a map of label name to one of {', '.join(LABEL_TYPES)}",
                        {"type": "object", "additionalProperties": {"enum": list(LABEL_TYPES)}}, "labels every image must carry, with their value type"),
    "strict-labels": _bool_key("with label-schema, also flag labels the schema does not name"),
    "require-digest": _bool_key("require base images pinned by digest"),
    "allowed-base-images": Key(_str_list, "a list of image name patterns", _STR_LIST, "the base images a FROM may use"),
    "max-image-size": _size_key("the largest acceptable image", "500MB"),
    "max-layer-size": _size_key("the largest acceptable single layer", "200MB"),
    "min-efficiency": Key(lambda v: _number(v) and 0 <= v <= 1, "a number between 0 and 1", _FRACTION, "the lowest acceptable image efficiency"),
    "max-wasted-bytes": _size_key("the most bytes that may be added and later removed or overwritten", "20MB"),
    "max-wasted-percent": Key(lambda v: _number(v) and 0 <= v <= 1, "a number between 0 and 1", _FRACTION,
                              "wasted bytes over the bytes the Dockerfile's own layers add"),
    "max-copy-size": _size_key("the most bytes one COPY/ADD may send from the build context", "50MB"),
    "secrets": Key(lambda v: isinstance(v, dict), f"a map with keys {', '.join(SECRETS_SETTINGS)}",  # each checked by SECRETS_SETTINGS
                   {"type": "object", "additionalProperties": False,
                    "properties": {"allowlist": _STR_LIST, "exclude-paths": _STR_LIST, "max-file-size": _SIZE,
                                   "baseline": {"type": ["string", "null"]},
                                   "detectors": {"type": "object", "additionalProperties": {"enum": ["on", "off", True, False]}},
                                   "base-layers": {"enum": list(BASE_LAYER_POLICIES)}}},
                   "secret detection policy (docs/configuration.md)"),
    "git-history-depth": Key(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number",
                             {"type": "integer", "minimum": 0}, "how many commits of git history the context rules may read"),
    "base-image-lookup": Key(lambda v: v in LOOKUP_MODES, f"one of {', '.join(LOOKUP_MODES)}", {"enum": list(LOOKUP_MODES)},
                             "how far base-image lookups may go: off, local (cache and engine, the default) or registry"),
    "max-base-image-size": Key(_base_size, "a size such as 300MB, or {size: 300MB, all-stages: true}",
                               {"anyOf": [_SIZE, {"type": "object", "required": ["size"], "additionalProperties": False,
                                                  "properties": {"size": _SIZE, "all-stages": _BOOL}}]},
                               "the largest acceptable base image (the final stage's, or every stage's with all-stages)"),
    "sdk-images": Key(_sdk_images, "a list of families, each {images: [repositories], name: text, sdk-tags: [patterns], runtime-tags: [patterns], runtime: [images]}",
                      {"type": "array", "items": {"type": "object", "required": ["images"], "additionalProperties": False,
                                                  "properties": {"images": {**_STR_LIST, "minItems": 1}, "name": {"type": "string"},
                                                                 "sdk-tags": _STR_LIST, "runtime-tags": _STR_LIST, "runtime": _STR_LIST}}},
                      "more SDK image families and their runtime variants (for the SDK-base rule)"),
    "denied-base-images": Key(_denied, "a map of image pattern to the reason it is denied",
                              {"type": "object", "additionalProperties": {"type": "string"}}, "base images a FROM may not use, each with the reason shown"),
    "allowed-users": Key(_users, "a list of user names, UIDs and UID ranges such as 10000-19999",
                         {"type": "array", "items": {"anyOf": [{"type": "string", "pattern": r"^(\d+(-\d+)?|[A-Za-z_][A-Za-z0-9_.-]*\$?)$"},
                                                               {"type": "integer", "minimum": 0}]}},
                         "the users the final image may run as: names, UIDs, UID ranges"),
}
SETTINGS = {k: v for k, v in KEYS.items() if v.setting}
TOP_KEYS = set(KEYS)
# Keys that load Python code: obeyed only in a config the user trusts (see trust_notice).
CODE_KEYS = ("plugins", "rules-dirs")
# The user config ($XDG_CONFIG_HOME/lintimg/config.yaml) holds what is the user's own to decide.
USER_KEYS = {*CODE_KEYS, "trusted-configs"}
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def parse_size(v: Any) -> int:
    """``500MB``, ``1.5GiB``, ``1024`` -> bytes."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if not isinstance(v, str):
        raise ValueError(f"not a size: {shown(v)}")
    s = v.strip().upper().replace(" ", "")
    units = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "KIB": 2**10, "M": 10**6, "MB": 10**6, "MIB": 2**20, "G": 10**9, "GB": 10**9, "GIB": 2**30}
    num = s.rstrip("KMGIB")
    unit = s[len(num):]
    try:
        size = float(num) * units[unit]
        if not 0 <= size < 2**63:  # inf, nan, 1e400 and negative sizes are no sizes
            raise ValueError
        return int(size)
    except (KeyError, ValueError, OverflowError):
        raise ValueError(f"not a size: {shown(v)}") from None


@record
class RuleSetting:
    """A rule's entry under ``rules:``: on or off, and its severity."""

    enabled: bool | None = None  # None: the rule's default
    severity: Severity | None = None
    # From a hadolint config: a code lintimg has no rule for is a note, not an error (hadolint accepts it).
    lenient: bool = False


@record
class Config:
    """The settings of a run, as loaded from ``.lintimg.yaml`` (defaults without one)."""

    path: str | None = None
    failure_threshold: str = "info"
    rules: dict[str, RuleSetting] = field(default_factory=dict)  # keyed by id or slug as written
    settings: dict[str, Any] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    rules_dirs: list[str] = field(default_factory=list)
    ignore_paths: list[str] = field(default_factory=list)
    disable_ignore_pragma: bool = False
    base_dir: str | None = None  # the config file's folder: ignore-paths are relative to it
    baseline: str | None = None  # relative to base_dir
    format: str | None = None
    notes: list[str] = field(default_factory=list)  # remarks for the report (a hadolint key not carried over)
    # code-loading keys of an untrusted config, not obeyed ("plugins: os", "rules-dirs: rules")
    untrusted_code: list[str] = field(default_factory=list)


@record
class UserConfig:
    """The user's own config: code to load in every run, and project configs whose code to load."""

    path: str
    plugins: list[str] = field(default_factory=list)
    rules_dirs: list[str] = field(default_factory=list)
    trusted_configs: list[str] = field(default_factory=list)  # files, or folders holding them

    def trusts(self, config: Path | None) -> bool:
        if config is None:
            return False
        here = os.path.realpath(config)
        for t in self.trusted_configs:
            t = os.path.realpath(os.path.expanduser(t))
            if here == t or here.startswith(t.rstrip("/") + "/"):
                return True
        return False


def find_config(start: Path, names: tuple[str, ...] = CONFIG_NAMES) -> Path | None:
    """The first config from ``start`` upwards, stopping at the repository root."""
    cur = start.resolve()
    while True:
        for name in names:
            cand = cur / name
            if cand.is_file():
                return cand
        if (cur / ".git").exists() or cur.parent == cur:
            return None
        cur = cur.parent


def discover_config(start: Path) -> Path | None:
    """The config a run uses: ``LINTIMG_CONFIG``, else ``.lintimg.yaml`` upwards, else hadolint's.

    hadolint's file is found where hadolint looks for it (``.hadolint.yaml`` in
    the working directory, then its user-level places), and also upwards to
    the repository root like ours, so a run from a subfolder finds the
    repository's file.
    """
    env = env_config_path()
    if env is not None:
        return env
    found = find_config(start) or find_config(start, HADOLINT_NAMES)
    if found is not None:
        return found
    home = Path(os.path.expanduser("~"))
    xdg = os.environ.get("XDG_CONFIG_HOME")
    user = ([Path(xdg) / "hadolint.yaml"] if xdg else []) + [
        home / ".config" / "hadolint.yaml", home / ".hadolint" / "hadolint.yaml", home / "hadolint" / "config.yaml", home / ".hadolint.yaml"]
    return next((p for p in user if p.is_file()), None)


def is_hadolint_config(path: Path) -> bool:
    return "hadolint" in path.name


def nearest(key: str, options: Iterable[str]) -> str | None:
    """The option most like ``key`` (for "did you mean"), if any is close."""
    import difflib  # only for an error message

    near = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.6)
    return near[0] if near else None


def suggest(key: str, options: Iterable[str]) -> str:
    near = nearest(key, options)
    return f" (did you mean {near!r}?)" if near else ""


class _Loader:
    """PyYAML's safe loader without aliases (``*name``): a few hundred bytes of them expand to gigabytes."""

    @staticmethod
    def load(text: str) -> Any:
        import yaml

        class Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type information
            nodes = 0

            def compose_node(self, parent: Any, index: Any) -> Any:
                if self.check_event(yaml.AliasEvent):
                    mark = self.peek_event().start_mark
                    raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a lintimg config", mark)
                Loader.nodes += 1
                if Loader.nodes > limits.MAX_CONFIG_NODES:
                    raise yaml.composer.ComposerError(None, None, f"more than {limits.MAX_CONFIG_NODES} values", self.peek_event().start_mark)
                return super().compose_node(parent, index)

        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> dict[str, Any]:
    """A config file's top-level mapping, read within bounds (a regular file, no aliases)."""
    import yaml  # here, not at the top: most runs have no config file and skip its import

    where = str(path)
    try:
        data = _Loader.load(limits.read_file(path, limits.MAX_CONFIG).decode("utf-8"))
    except FileNotFoundError:
        raise LintimgError(f"{where}: config file not found") from None
    except limits.NotRegularFile as e:
        raise LintimgError(f"{where}: not a regular file ({limits.why(e)}); a config must be a file") from None
    except limits.TooLarge:
        raise LintimgError(f"{where}: config file is larger than {limits.MAX_CONFIG} bytes") from None
    except (OSError, UnicodeDecodeError) as e:
        raise LintimgError(f"{where}: cannot read config: {e}") from None
    except RecursionError:
        raise LintimgError(f"{where}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None)
        raise LintimgError(f"{where}: invalid YAML{at}" + (f": {problem}" if problem else "")) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LintimgError(f"{where}: expected a mapping of settings at the top level")
    return data


def policy_path(spec: str, base: Path, where: str) -> Path:
    """The file an ``extends:`` entry names: a path relative to ``base`` (the extending file's folder), or
    ``package:NAME[/FILE]``, a file inside an installed package (default ``lintimg-policy.yaml``), found without importing it."""
    if not spec.startswith("package:"):
        return Path(os.path.normpath(base / spec)) if not os.path.isabs(spec) else Path(spec)
    import importlib.util

    name, _, rel = spec[len("package:"):].partition("/")
    if not name.isidentifier():
        raise LintimgError(f"{where}: extends {shown(spec)}: {shown(name)} is not a package name")
    try:
        found = importlib.util.find_spec(name)  # a top-level name: located, not imported (nothing runs)
    except (ImportError, ValueError):
        found = None
    folders = list(found.submodule_search_locations or []) if found is not None else []
    if not folders:
        raise LintimgError(f"{where}: extends {shown(spec)}: no installed package {name!r}")
    if ".." in Path(rel).parts or os.path.isabs(rel):
        raise LintimgError(f"{where}: extends {shown(spec)}: the file must lie inside the package")
    return Path(folders[0]) / (rel or "lintimg-policy.yaml")


def _merged(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """``path``'s settings over those of every file it extends (later entries of a list win; ``rules`` merge per rule)."""
    real = path.resolve()
    where = str(path)
    if real in chain:
        raise LintimgError(f"{where}: extends forms a cycle ({' -> '.join(str(p) for p in (*chain, real))})")
    if len(chain) >= MAX_EXTENDS:
        raise LintimgError(f"{where}: extends is nested more than {MAX_EXTENDS} deep")
    data = read_yaml(path)
    if "trusted-configs" in data:
        raise LintimgError(f"{where}: 'trusted-configs' is read only from the user config ({user_config_path()})")
    config_from_dict(data, where, str(path.parent))  # each file is checked on its own, so an error names the file that has it
    # Folders named in a config file are relative to that file, not to wherever lintimg runs.
    if "rules-dirs" in data:
        data["rules-dirs"] = [os.path.normpath(path.parent / d) if not os.path.isabs(d) else d for d in data["rules-dirs"]]
    baseline = data.get("secrets", {}).get("baseline")
    if baseline and not os.path.isabs(baseline):
        data["secrets"] = {**data["secrets"], "baseline": os.path.normpath(path.parent / baseline)}
    specs = data.pop("extends", None)
    out: dict[str, Any] = {}
    for spec in [specs] if isinstance(specs, str) else (specs or []):
        parent = policy_path(spec, path.parent, where)
        if not parent.is_file():
            raise LintimgError(f"{where}: extends {shown(spec)}, which is not a file ({parent})")
        _merge_into(out, _merged(parent, (*chain, real)))
    _merge_into(out, data)
    return out


def _merge_into(out: dict[str, Any], over: dict[str, Any]) -> None:
    for key, value in over.items():
        if key == "rules" and isinstance(out.get("rules"), dict):
            out["rules"] = {**out["rules"], **value}
        else:
            out[key] = value


def load_config(path: Path | None, *, trusted: bool = False) -> Config:
    """Read and validate a config file (and the policies it ``extends``); ours or hadolint's by its
    name; ``None`` gives the defaults.

    Unless ``trusted``, the code-loading keys (``plugins``, ``rules-dirs``) of the file and of what it
    extends are not obeyed: they move to ``untrusted_code`` for the caller to mention.
    """
    if path is None:
        cfg = Config()
        if os.path.isfile(BASELINE_NAME):
            cfg.settings["secrets"] = _secrets({}, BASELINE_NAME, os.getcwd())
        return cfg
    where = str(path)
    if is_hadolint_config(path):  # hadolint's keys name no code to load
        converted, notes = from_hadolint(read_yaml(path), where)
        cfg = config_from_dict(converted, where, str(path.parent))
        for setting in cfg.rules.values():
            setting.lenient = True
        cfg.notes += notes
    else:
        cfg = config_from_dict(_merged(path), where, str(path.parent))
    _check_folders(cfg.rules_dirs, where)
    if not trusted:
        named = {"plugins": cfg.plugins, "rules-dirs": [_as_written(d, path.parent) for d in cfg.rules_dirs]}
        cfg.untrusted_code = [f"{key}: {', '.join(named[key])}" for key in CODE_KEYS if named[key]]
        cfg.plugins, cfg.rules_dirs = [], []
    cfg.base_dir = str(path.parent)
    return cfg


def _as_written(folder: str, base: Path) -> str:
    """A folder as the config (most likely) wrote it: relative to the config's own folder when inside it."""
    inside = os.path.relpath(folder, base)
    return folder if inside == ".." or inside.startswith("../") else inside


def _check_folders(dirs: list[str], where: str) -> None:
    for d in dirs:
        if not os.path.isdir(d):
            raise LintimgError(f"{where}: 'rules-dirs' names {shown(d)}, which is not a folder")


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/lintimg/config.yaml`` (``~/.config`` when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "lintimg" / "config.yaml"


def load_user_config(path: Path | None = None) -> UserConfig | None:
    """The user config, when there is one: ``plugins``, ``rules-dirs`` and ``trusted-configs`` only."""
    path = path or user_config_path()
    if not path.exists():
        return None
    where = str(path)
    data = read_yaml(path)
    for key, value in data.items():
        if key not in USER_KEYS:
            raise LintimgError(f"{where}: the user config holds only {', '.join(sorted(USER_KEYS))}, not {shown(key)}{suggest(str(key), USER_KEYS)}")
        if not _str_list(value):
            raise LintimgError(f"{where}: {key!r} must be a list of strings")
    user = UserConfig(where, list(data.get("plugins", [])), [], list(data.get("trusted-configs", [])))
    _check_modules(user.plugins, where)
    user.rules_dirs = [os.path.normpath(path.parent / os.path.expanduser(d)) for d in data.get("rules-dirs", [])]
    _check_folders(user.rules_dirs, where)
    return user


def trust_notice(cfg: Config) -> str | None:
    """The one-line notice for a config whose code-loading keys were not obeyed."""
    if not cfg.untrusted_code:
        return None
    return (f"{cfg.path}: not loading code it names ({'; '.join(cfg.untrusted_code)}): pass --trust-config, "
            f"or list it under trusted-configs in {user_config_path()}")


def _check_modules(names: list[str], where: str) -> None:
    for name in names:
        if not _MODULE_NAME.fullmatch(name):
            raise LintimgError(f"{where}: 'plugins' must list importable module names, not {shown(name)}")


def config_from_dict(data: dict[str, Any], where: str = "config", base_dir: str | None = None) -> Config:
    """Settings from a parsed config; paths in it (a secrets baseline) are relative to ``base_dir`` (default: here)."""
    cfg = Config(path=where)
    base = base_dir if base_dir is not None else os.getcwd()
    for key, value in data.items():
        spec = KEYS.get(key) if isinstance(key, str) else None
        if spec is None:
            raise LintimgError(f"{where}: unknown key {shown(key)}{suggest(str(key), TOP_KEYS)}")
        if key == "failure-threshold":
            if value not in THRESHOLDS:
                raise LintimgError(f"{where}: failure-threshold must be one of {', '.join(THRESHOLDS)}, not {shown(value)}{suggest(str(value)[:60], THRESHOLDS)}")
            cfg.failure_threshold = value
            continue
        if key == "rules" and not isinstance(value, dict):
            raise LintimgError(f"{where}: 'rules' must map rule ids or slugs to a severity or off")
        if not spec.check(value):
            raise LintimgError(f"{where}: {key!r} must be {spec.expects}, not {shown(value)}")
        if key == "rules":
            for rid, setting in value.items():
                cfg.rules[str(rid)] = _rule_setting(where, str(rid), setting)
        elif key == "plugins":
            _check_modules(value, where)
            cfg.plugins = list(value)
        elif key == "extends":
            continue  # followed by the loader (_merged), which reads each file it names
        elif not spec.setting:
            setattr(cfg, key.replace("-", "_"), list(value) if isinstance(value, list) else value)
        else:
            if key == "trusted-registries" and isinstance(value, str):
                value = [value]
            elif key == "secrets":
                value = _secrets(value, where, base)
            cfg.settings[key] = value
    if "secrets" not in cfg.settings and base_dir is not None and os.path.isfile(os.path.join(base_dir, BASELINE_NAME)):
        cfg.settings["secrets"] = _secrets({}, where, base_dir)
    return cfg


def _rule_setting(where: str, rid: str, setting: Any) -> RuleSetting:
    if setting is False or setting == "off":
        return RuleSetting(enabled=False)
    if setting is True or setting == "on":
        return RuleSetting(enabled=True)
    if isinstance(setting, str):
        try:
            return RuleSetting(enabled=True, severity=Severity.parse(setting))
        except ValueError:
            pass
    if isinstance(setting, dict) and set(setting) <= {"severity", "enabled"}:
        sev = setting.get("severity")
        try:
            return RuleSetting(enabled=setting.get("enabled", True), severity=Severity.parse(sev) if sev else None)
        except (ValueError, AttributeError):
            pass
    raise LintimgError(f"{where}: rules.{rid[:60]} must be off, on, error, warning, info or style, not {shown(setting)}")


def env_config_path() -> Path | None:
    p = os.environ.get("LINTIMG_CONFIG")
    return Path(p) if p else None


# --- hadolint's config ------------------------------------------------------

# hadolint's report formats that have a lintimg format of the same purpose.
HADOLINT_FORMATS = {"tty": "text", "json": "json", "sarif": "sarif", "checkstyle": "checkstyle", "junit": "junit", "gitlab_codeclimate": "gitlab"}
HADOLINT_LEVELS = ("error", "warning", "info", "style")


def hadolint_threshold(value: str) -> str:
    """hadolint's ``failure-threshold`` as ours: its ``ignore`` level is below style, so style is the nearest."""
    return "style" if value == "ignore" else value


def from_hadolint(data: dict[str, Any], where: str = ".hadolint.yaml") -> tuple[dict[str, Any], list[str]]:
    """A hadolint config as lintimg config keys, and notes on what does not carry over.

    Rule codes stay as hadolint writes them (``DL3008``, ``SC2086``): lintimg
    accepts peer ids wherever a rule id goes. Later entries win, as in
    hadolint: ``override`` after ``ignored``.
    """
    out: dict[str, Any] = {}
    notes: list[str] = []
    rules: dict[str, str] = {}

    def codes(key: str, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not _str_list(value):
            raise LintimgError(f"{where}: {key!r} must be a list of rule codes, not {value!r}")
        return list(value)

    for key, value in data.items():
        if key == "ignored":
            rules.update({code: "off" for code in codes(key, value)})
        elif key == "override":
            if not isinstance(value, dict) or not set(value) <= set(HADOLINT_LEVELS):
                raise LintimgError(f"{where}: 'override' must map {', '.join(HADOLINT_LEVELS)} to lists of rule codes, not {value!r}")
            for level in HADOLINT_LEVELS:  # hadolint applies them in this order
                rules.update({code: level for code in codes(f"override.{level}", value.get(level) or [])})
        elif key == "trustedRegistries":
            out["trusted-registries"] = value
        elif key in ("label-schema", "strict-labels", "disable-ignore-pragma"):
            out[key] = value
        elif key == "failure-threshold":
            out["failure-threshold"] = hadolint_threshold(str(value))
        elif key == "no-fail":
            if value is True:
                out["failure-threshold"] = "none"
        elif key in ("format", "formats"):
            names = value if isinstance(value, list) else [value]
            ours = [HADOLINT_FORMATS[n] for n in names if n in HADOLINT_FORMATS]
            if ours:
                out["format"] = ours[0]
            if len(names) != 1 or not ours:
                notes.append(f"{where}: {key} {value!r}: lintimg writes one report; "
                             f"formats it has for hadolint's: {', '.join(f'{k} -> {v}' for k, v in HADOLINT_FORMATS.items())}")
        elif key in ("no-color", "verbose"):
            notes.append(f"{where}: {key!r} is not a config key in lintimg (use --{'no-color or NO_COLOR' if key == 'no-color' else 'verbose'})")
        else:
            notes.append(f"{where}: unknown hadolint key {key!r} left out")
    if "failure-threshold" in data and data.get("no-fail") is True:
        out["failure-threshold"] = "none"  # no-fail wins over any threshold, as in hadolint
    if rules:
        out["rules"] = rules
    return out, notes
