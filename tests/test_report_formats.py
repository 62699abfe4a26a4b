"""Report formats come through the plugin hook, built-in ones included; a plugin's format of the same name wins."""
from __future__ import annotations

from lintimg.config import Config
from lintimg.engine import Engine, RunInfo
from lintimg.reports import FORMATS


def test_built_in_formats_come_through_the_hook():
    formats = Engine(Config()).report_formats()
    assert set(FORMATS) <= set(formats)


def test_a_plugin_format_of_the_same_name_replaces_the_built_in_one(tmp_path):
    (tmp_path / "fmt.py").write_text(
        "from lintimg.engine import hookimpl\n\n"
        "@hookimpl\n"
        "def lintimg_report_formats():\n"
        "    return {'json': lambda findings, info: 'mine', 'csv': lambda findings, info: 'a,b'}\n"
    )
    formats = Engine(Config(), [str(tmp_path)]).report_formats()
    info = RunInfo(rules=[], files=[])
    assert formats["json"]([], info) == "mine" and formats["csv"]([], info) == "a,b"
    assert set(FORMATS) <= set(formats)
