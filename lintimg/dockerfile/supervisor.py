"""Which files are supervisord configs: apart from :mod:`.shape`, so that the image reader's capture
request (:mod:`lintimg.image.shape`) asks it of every file without loading the shape classifier."""
from __future__ import annotations


def looks_like_supervisor_config(path: str, text: str | None = None) -> bool:
    """A supervisord config by place (``/etc/supervisor*``, ``supervisord.conf``) or, given its text, by a [program:] section."""
    p = path.lower()
    if "supervisor" in p and p.endswith((".conf", ".ini")):
        return True
    return text is not None and p.endswith((".conf", ".ini")) and "[program:" in text
