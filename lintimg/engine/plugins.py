"""Finding and loading plugins: entry points (read by :mod:`lintimg.distributions`, without
``importlib.metadata``), ``--rules-dir`` folders, ``plugins:`` modules."""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pluggy

from lintimg import cachefiles, limits
from lintimg.config import Config
from lintimg.distributions import distributions, entry_points
from lintimg.engine import hookspecs
from lintimg.errors import LintimgError

# Loaded when no installed metadata names them (running from a source tree): same modules, same path.
BUILTIN = {"builtin": "lintimg.rules", "reports": "lintimg.reports", "secrets": "lintimg.secrets.spans"}


def _load_entry_point(value: str) -> object:
    module, _, attr = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _load_file_module(path: Path) -> ModuleType:
    """A rules-folder file as a module; its bytes are read once, as a regular file (never a FIFO)."""
    try:
        source = limits.read_file(path, limits.MAX_RULE_MODULE)
    except limits.NotRegularFile as e:
        raise LintimgError(f"{path}: cannot load rule module: not a regular file ({limits.why(e)})") from None
    except OSError as e:
        raise LintimgError(f"{path}: cannot load rule module: {limits.why(e)}") from None
    name = f"lintimg_local_rules.{path.stem}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    assert spec is not None  # spec_from_loader always makes one when given no loader
    mod = importlib.util.module_from_spec(spec)
    mod.__file__ = str(path)
    sys.modules[name] = mod
    try:
        exec(compile(source, str(path), "exec"), mod.__dict__)  # noqa: S102 - the user named this folder
    except Exception as e:  # a broken plugin file is bad input, not a crash
        raise LintimgError(f"{path}: cannot load rule module: {type(e).__name__}: {e}") from None
    return mod


def base_manager(extra: Iterable[tuple[str, object]] = ()) -> pluggy.PluginManager:
    """A plugin manager with the plugins every run has whatever its config: ``extra`` (the engine's own),
    the installed entry points, the built-in plugins. A function of installed code alone."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, plugin in extra:
        pm.register(plugin, name=name)
    for name, value in entry_points(hookspecs.PROJECT):
        if pm.get_plugin(name) is not None:
            continue  # the first distribution that names it wins, as importlib.metadata has it
        try:
            plugin = _load_entry_point(value)
            if not pm.is_registered(plugin):  # two distributions of one project (an old egg-info)
                pm.register(plugin, name=name)
        except Exception as e:  # a broken third-party plugin is a setup error, not a crash
            raise LintimgError(f"cannot load a plugin of entry-point group 'lintimg': {type(e).__name__}: {e}") from None
    for name, module in BUILTIN.items():
        if pm.get_plugin(name) is None:
            pm.register(importlib.import_module(module), name=name)
    return pm


def add_configured(pm: pluggy.PluginManager, config: Config, rules_dirs: Iterable[str] = ()) -> bool:
    """Register on ``pm`` the config's ``plugins:`` modules and the files of its and the command line's rules
    folders, after every plugin :func:`base_manager` registers; whether there was any."""
    added = False
    for modname in config.plugins:
        try:
            plugin_module = importlib.import_module(modname)
        except (ImportError, ValueError) as e:
            raise LintimgError(f"{config.path}: cannot import plugin {modname!r}: {e}") from None
        if not any(pm.parse_hookimpl_opts(plugin_module, attr) for attr in dir(plugin_module)):
            raise LintimgError(f"{config.path}: plugin {modname!r} provides no lintimg hooks (a module with @hookimpl functions)")
        pm.register(plugin_module, name=modname)
        added = True
    for d in [*config.rules_dirs, *rules_dirs]:
        folder = Path(d)
        if not folder.is_dir():
            raise LintimgError(f"{d}: rules directory not found")
        for f in sorted(folder.glob("*.py")):
            pm.register(_load_file_module(f), name=f"rules-dir:{f}")
            added = True
    return added


def _source_roots(pm: pluggy.PluginManager) -> set[str]:
    """The folders (or single files) the code of every registered plugin comes from: its module's
    and its top-level package's (``lintimg.rules`` brings ``rules/`` and ``lintimg/``)."""
    roots: set[str] = set()
    for plugin in pm.get_plugins():
        module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
        if module is None:
            continue
        for m in (module, sys.modules.get(module.__name__.partition(".")[0])):
            if m is None:
                continue
            folders = getattr(m, "__path__", None)
            file: str | None = getattr(m, "__file__", None)
            if folders:
                roots.update(os.path.abspath(f) for f in folders)
            elif file:
                roots.add(os.path.abspath(file))
    return roots


# Trees whose files the resident server listed at its start (lintimg.resident.server): lintimg's own code. Every
# request it runs is proven to see the same files, because the request's server key is a digest of exactly these
# listings taken by the client (lintimg.resident.client.server_key), so its children need not list them again.
_listed: dict[str, list[tuple[str, int, int]]] = {}


def remember_files(listings: dict[str, list[tuple[str, int, int]]]) -> None:
    """Keep these ``cachefiles.tree_files`` listings (by root) for :func:`code_stamp` (the resident server only)."""
    _listed.update(listings)


def _files(root: str) -> list[tuple[str, int, int]]:
    for known, rows in _listed.items():
        if root == known:
            return rows
        if root.startswith(known + os.sep):  # lintimg/reports, lintimg/engine/core.py: a tree or a file inside lintimg/
            return [row for row in rows if row[0] == root or row[0].startswith(root + os.sep)]
    return list(cachefiles.tree_files(root))


def code_stamp(pm: pluggy.PluginManager) -> str:
    """What the code of a run is, as a digest: every file of lintimg and of each registered plugin's
    package (path, size, mtime) and every installed distribution's name and version. Editing a rule,
    a helper or a data file, adding or removing a plugin, or upgrading a dependency changes it."""
    files = sorted(f for root in _source_roots(pm) for f in _files(root))
    dists = sorted((name, version) for name, version, _ in distributions())
    return cachefiles.digest(repr([files, dists]).encode("utf-8", "surrogateescape"))
