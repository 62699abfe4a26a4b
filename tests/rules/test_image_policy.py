"""LI98x: organisation policy on an image's config (rules/image_policy.py), on images built in Python."""
from __future__ import annotations

from tests.imagebuild import make_image
from tests.imagespec import BASE, catches, passes

ALLOWED = {"allowed-users": ["10000-65535", "nobody"]}


def test_image_user_outside_the_allowed_users() -> None:
    (f,) = catches("LI980", make_image([BASE], config={"User": "1000"}), config=ALLOWED)
    assert "'1000'" in f.message and f.location.path == "app"
    catches("LI980", make_image([BASE], config={}), config=ALLOWED, message="'root'")
    catches("LI980", make_image([BASE], config={"User": "app"}), config={"allowed-users": ["10000-65535"]}, message="cannot check it")
    passes("LI980", make_image([BASE], config={"User": "10001:10001"}), config=ALLOWED)
    passes("LI980", make_image([BASE], config={"User": "nobody"}), config=ALLOWED)
    passes("LI980", make_image([BASE], config={"User": "1000"}))  # no policy


def test_with_the_dockerfile_the_user_line_is_judged_instead() -> None:
    passes("LI980", make_image([BASE], config={"User": "1000"}), "FROM base\nUSER 1000\n", config=ALLOWED)
