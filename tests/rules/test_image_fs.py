"""LI8xx: image file system hygiene (rules/image_fs.py), on images built in Python."""
from __future__ import annotations

from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, catches, passes


def test_setuid_and_world_writable() -> None:
    img = make_image([BASE, layer("/bin/sh -c chmod", files={"usr/bin/passwd": (60_000, 0o4755), "usr/bin/wall": (20_000, 0o2755),
                                                               "app/run.sh": (100, 0o777), "app/ok.sh": (100, 0o755)},
                                  dirs={"tmp": 0o1777, "app/shared": 0o777})])
    got = catches("LI800", img, count=2)
    assert {f.image.path for f in got} == {"/usr/bin/passwd", "/usr/bin/wall"}
    got = catches("LI801", img, count=2)
    assert {f.image.path for f in got} == {"/app/run.sh", "/app/shared"}
    clean = make_image([BASE, layer("/bin/sh -c true", files={"app/ok": (1, 0o755)}, dirs={"tmp": 0o1777})])
    passes("LI800", clean)
    passes("LI801", clean)


def test_accounts_empty_password_and_duplicate_ids() -> None:
    passwd = b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"
    group = b"root:x:0:\napp:x:1000:\nstaff:x:1000:\n"
    shadow = b"root:*:19000:0:99999:7:::\napp::19000:0:99999:7:::\n"
    img = make_image([BASE, layer("/bin/sh -c useradd", content={"etc/passwd": passwd, "etc/group": group, "etc/shadow": shadow})])
    (f,) = catches("LI802", img)
    assert "'app'" in f.message and f.image.path == "/etc/shadow"
    got = sorted(f.message for f in catches("LI803", img, count=2))
    assert got == ["GID 1000 is shared by app, staff in /etc/group", "UID 0 is shared by root, toor in /etc/passwd"]
    ok = make_image([BASE, layer("/bin/sh -c useradd", content={"etc/passwd": b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
                                                                "etc/group": b"root:x:0:\napp:x:1000:\n",
                                                                "etc/shadow": b"root:!:1::::::\napp:*:1::::::\n"})])
    passes("LI802", ok)
    passes("LI803", ok)


def test_credential_files_in_any_layer() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY dir:x in /root ", files={"root/.ssh/id_rsa": 1700, "app/vpn.ovpn": 500,
                                                                                  "usr/lib/python3/site-packages/x/settings.py": 10,
                                                                                  "opt/Backup.JKS": 10}),  # an extension in any case
                      layer("/bin/sh -c rm /root/.ssh/id_rsa", delete=["root/.ssh/id_rsa"])])
    got = catches("LI804", img, count=3)
    rsa = next(f for f in got if "id_rsa" in f.message)
    assert "deleted in layer 2" in rsa.message and rsa.image.layer_index == 1
    passes("LI804", make_image([BASE, layer("/bin/sh -c x", files={"app/main.py": 10})]))


def test_unneeded_files_one_finding_per_directory() -> None:
    img = make_image([BASE, layer("/bin/sh -c #(nop) COPY dir:x in /app ", files={
        "app/.git/HEAD": 20, "app/.git/objects/ab/cd": 5000, "app/Dockerfile": 100, "app/node_modules/x/.git/HEAD": 20,
        "root/.cache/pip/http/a": 5000, "app/main.go": 100})])
    got = catches("LI805", img, count=2)
    assert {f.image.path for f in got} == {"/app/.git", "/app/Dockerfile"}
    assert any("2 files" in f.message for f in got)
    passes("LI805", make_image([BASE, layer("/bin/sh -c x", files={"app/main.go": 1})]))
