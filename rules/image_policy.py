"""LI980–LI999: organisation policy checked on an image's config (without its Dockerfile)."""
from __future__ import annotations

from collections.abc import Iterator

from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import image_hit
from lintimg.rules._common import user_allowed

ID_RANGE = "LI980-LI999"


@rule("LI980", "image-user-not-allowed", Severity.ERROR, subject=Subject.IMAGE, tags=("image", "policy", "user", "security"), security_severity=6.0)
def image_user_not_allowed(t: ImageTarget) -> Iterator[Hit]:
    """The image's config runs as a user the policy does not allow.

    ## What it does
    With `allowed-users` (user names, UIDs, UID ranges such as
    `10000-65535`), reads `config.User` of an image checked without its
    Dockerfile (with it, LI905 reports at the USER line) and reports a user
    outside the list; root (empty, `root`, `0`) only passes when listed.
    A name checked against UID ranges alone is reported as uncheckable.

    ## Why it matters
    The platform that runs the image enforces who it runs as; an image
    outside the organisation's range is refused at deploy time or runs with
    more rights than intended.

    ## Example
    ```yaml
    allowed-users: ["10000-65535"]
    ```
    An image whose `docker inspect` shows `"User": "1000"`.

    ## Fix
    Rebuild with `USER <an allowed UID>` at the end of the final stage.
    """
    allowed = t.setting("allowed-users")
    if not allowed or t.dockerfile is not None:
        return
    user = str(t.image.container_config.get("User") or "")
    verdict = user_allowed(user, allowed)
    if verdict is None:
        yield image_hit(t, f"the image config's User {user!r} is a name, and allowed-users lists only UIDs: the policy cannot check it",
                        fix="use a numeric UID", key="user")
    elif not verdict:
        yield image_hit(t, f"the image runs as {user or 'root'!r}, which allowed-users ({', '.join(map(str, allowed))}) does not list",
                        fix="rebuild with USER <an allowed UID> in the final stage", key="user", user=user)
