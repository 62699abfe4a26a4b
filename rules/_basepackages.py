"""The packages each stage's base image has installed, for unsafe version pins (LI300, LI310).

Read in the built-in plugin's ``lintimg_prepare`` hook, only in ``--fix --unsafe-fixes`` runs, from
base images the local engine holds (never pulled): the rules themselves stay pure and offline.
"""
from __future__ import annotations

from lintimg.engine.hookspecs import NOTES
from lintimg.engine.target import Target
from lintimg.errors import LintimgError
from lintimg.rules._common import external_bases

KEY = "base-packages"
_SEEN: dict[str, dict[str, dict[str, str]] | str] = {}  # per process: one read per base image


def prepare_base_packages(targets: list[Target]) -> None:
    from lintimg.image.installed import installed_packages

    for t in targets:
        if KEY in t.cache or t.dockerfile is None:
            continue
        found: dict[int, dict[str, dict[str, str]]] = {}
        for st, ref in external_bases(t.dockerfile):
            if "$" in ref.text:
                continue
            if ref.text not in _SEEN:
                try:
                    _SEEN[ref.text] = installed_packages(ref.text)
                except LintimgError as e:
                    _SEEN[ref.text] = str(e)
            got = _SEEN[ref.text]
            if isinstance(got, str):
                t.cache.setdefault(NOTES, []).append(f"package versions of {ref.text} unknown ({got}): apt/apk installs not pinned")
            else:
                found[st.index] = got
        t.cache[KEY] = found
