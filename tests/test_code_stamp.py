"""The code stamp in the results cache's key (lintimg.engine.plugins.code_stamp) is the same whether lintimg's files
are listed afresh (an in-process run) or taken from the listings the resident server made at its start: a served run
and an in-process run find each other's results-cache entries."""
from __future__ import annotations

from lintimg.config import Config
from lintimg.engine import plugins
from lintimg.engine.core import Engine
from lintimg.resident import client


def test_the_servers_listings_give_the_stamp_a_fresh_listing_gives(monkeypatch) -> None:
    engine = Engine(Config())
    roots = plugins._source_roots(engine.pm)
    assert any(not r.endswith(("lintimg", "rules")) and r.endswith(".py") for r in roots)  # a plugin that is one file
    fresh = plugins.code_stamp(engine.pm)
    monkeypatch.setattr(plugins, "_listed", {})
    plugins.remember_files(client.code_listings())
    assert plugins.code_stamp(engine.pm) == fresh
