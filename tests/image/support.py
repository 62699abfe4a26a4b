"""The sample image the image tests read through every source, and a comparable view of an Image."""
from __future__ import annotations

from pathlib import Path

from lintimg.image.model import Image

SAMPLE_TAG = "lintimg-test/image-sample:1"

# Layers (0 is the busybox base):
#  1 writes /pw, /d/sub/a, /keep (setuid) and a symlink /lnk -> /keep
#  2 deletes /pw, empties /d (opaque directory) and writes /d/new
#  3 COPY x /x          (then ENV: an empty layer in the history)
#  4 rewrites /keep
SAMPLE_DOCKERFILE = """\
FROM {base}
RUN echo secret > /pw && mkdir -p /d/sub && echo a > /d/sub/a && echo keep > /keep && chmod 4755 /keep && ln -s /keep /lnk
RUN rm /pw && rm -rf /d && mkdir -p /d && echo new > /d/new
COPY x /x
ENV FOO=bar
RUN echo again > /keep
"""


def build_sample(docker, workdir: Path, tag: str = SAMPLE_TAG) -> str:
    base = docker.base_image()
    ctx = workdir / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(SAMPLE_DOCKERFILE.format(base=base))
    (ctx / "x").write_text("hello")
    return docker.build(ctx, tag)


def snapshot(img: Image) -> dict:
    """Everything that must not depend on where the image was read from."""
    return {
        "config": img.config,
        "layers": [
            (la.diff_id, la.uncompressed_size, la.entries, sorted(la.whiteouts), sorted(la.opaque_dirs), la.created_by, la.history_index)
            for la in img.layers
        ],
        "files": {p: (f.layer, f.entry) for p, f in img.files.items()},
        "history_by_path": img.history_by_path,
        "platform": img.platform,
    }
