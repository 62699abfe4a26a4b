"""Progress reaches a terminal and stays silent when piped."""
from __future__ import annotations

import io

from lintimg.image import open_image
from lintimg.image.progress import terminal_progress
from tests.image.layouts import legacy_archive, tar_bytes


def test_progress_callback_sees_every_layer(tmp_path):
    path = legacy_archive([tar_bytes([("a", "file", b"x" * 5000)]), tar_bytes([("b", "file", b"y")])], str(tmp_path / "i.tar"))
    calls = []
    open_image(f"docker-archive:{path}", progress=lambda task, done, total: calls.append((task, done, total)))
    finals = {task: (done, total) for task, done, total in calls}
    assert len(finals) == 2 and all(done == total > 0 for done, total in finals.values())


def test_no_progress_when_piped():
    out = io.StringIO()
    with terminal_progress(out) as cb:
        assert cb is None
    assert out.getvalue() == ""


def test_progress_drawn_on_a_terminal(tmp_path):
    path = legacy_archive([tar_bytes([("a", "file", b"x" * 5000)])], str(tmp_path / "i.tar"))
    out = io.StringIO()
    with terminal_progress(out, force=True) as cb:
        assert cb is not None
        open_image(f"docker-archive:{path}", progress=cb)
    assert "layer 1" in out.getvalue()
