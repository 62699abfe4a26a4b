"""LI75x: the image config and history without a Dockerfile (rules/image_config.py), on images built in Python."""
from __future__ import annotations

from lintimg.run.image import rebuild_dockerfile
from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, catches, passes


def test_config_rules_fire_only_without_a_dockerfile() -> None:
    img = make_image([BASE], config={"User": "", "Volumes": {"/proc/x": {}, "/data": {}}})
    catches("LI750", img, message="no User is set")
    catches("LI751", img)
    catches("LI752", img, count=1, message="/proc/x")
    df = "FROM busybox\nVOLUME /proc/x\n"
    for rid in ("LI750", "LI751", "LI752"):
        passes(rid, img, df)


def test_config_rules_pass_on_a_well_shaped_image() -> None:
    img = make_image([BASE], config={"User": "1000:1000", "Healthcheck": {"Test": ["CMD", "/kuard", "-ping"]}, "Volumes": {"/data": {}}})
    for rid in ("LI750", "LI751", "LI752"):
        passes(rid, img)
    catches("LI750", make_image([BASE], config={"User": "0:0"}))
    catches("LI751", make_image([BASE], config={"User": "1", "Healthcheck": {"Test": ["NONE"]}}))


def test_latest_reference() -> None:
    for ref in ("docker://registry.example.com/team/app", "docker-daemon:team/app:latest", "team/app"):
        catches("LI753", make_image([BASE], reference=ref), message="latest")
    for ref in ("docker://registry.example.com/team/app:1.2", "docker-archive:app.tar", "docker-daemon:sha256:" + "a" * 64,
                "docker://team/app@sha256:" + "b" * 64):
        passes("LI753", make_image([BASE], reference=ref))


def test_add_in_history_is_reported_except_the_base_rootfs() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) ADD file:c0ffee in /app/config.json ", files={"app/config.json": 10})],
                     config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}})
    text, at = rebuild_dockerfile(img)
    assert text.splitlines()[at[1] - 1] == "ADD file:c0ffee /app/config.json"
    (f,) = catches("LI754", img)  # the base rootfs ADD of layer 0 is not reported
    assert f.image.layer_index == 1 and "/app/config.json" in f.message
    passes("LI754", img, "FROM busybox\nADD config.json /app/config.json\n")  # the Dockerfile rules report it at its line
    passes("LI754", make_image([BASE, layer("COPY config.json /app/ # buildkit", files={"app/config.json": 1})]))
