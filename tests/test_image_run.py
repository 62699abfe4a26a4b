"""One run over an image (lintimg.run.image): history rebuilt as a Dockerfile, rules run once, mapping notes."""
from __future__ import annotations

import pytest

from lintimg.dockerfile import parse_dockerfile
from lintimg.run.image import check_image, rebuild_dockerfile
from tests import rulespec
from tests.imagebuild import layer, make_image
from tests.imagespec import BASE, MB, bigfile, catches, lint_image


def test_history_is_rebuilt_as_a_dockerfile() -> None:
    img = make_image([BASE, layer("/bin/sh -c sudo apt-get update", files={"x": 1}), layer("COPY . /src # buildkit", files={"src/a": 1})],
                     empty_history=[(3, "EXPOSE map[8080/tcp:{}]")])
    text, at = rebuild_dockerfile(img)
    lines = text.splitlines()
    assert lines[0] == "FROM scratch" and lines[at[0] - 1].startswith("# ")  # the base rootfs ADD is no finding
    assert lines[at[1] - 1] == "RUN sudo apt-get update"
    assert lines[at[2] - 1] == "COPY . /src"
    assert lines[at[3] - 1] == "EXPOSE 8080/tcp"


def _rule_with_peer(peer: str) -> str:
    return next(r.id for r in rulespec.engine().rules if peer in r.peers and r.subject.value == "dockerfile")


def test_history_checks_run_without_a_dockerfile_and_not_twice_with_one() -> None:
    img = make_image([BASE, layer("/bin/sh -c sudo chown -R app /srv", files={"srv/x": 1}),
                      layer("/bin/sh -c apt-get update && apt-get install -y curl", files={"var/lib/apt/lists/x_Packages": 5 * MB})],
                     config={"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}})
    sudo = _rule_with_peer("DKL-DI-0001")
    (f,) = catches(sudo, img, line=3)
    assert f.location.path == "app/history.Dockerfile"
    assert f.image.layer_index == 1 and f.image.created_by == "/bin/sh -c sudo chown -R app /srv"
    # apt lists: measured by package-cache-in-layer, not guessed a second time from history
    found = lint_image(img)
    apt_lists = [f for f in found if "DKL-DI-0005" in rulespec.engine().rule(f.rule_id).peers]
    assert [f.rule_id for f in apt_lists] == ["LI602"]
    with_df = lint_image(img, "FROM base\nRUN sudo chown -R app /srv\nRUN apt-get update && apt-get install -y curl\n")
    assert not [f for f in with_df if f.location.path.endswith("history.Dockerfile")]
    assert [f.location.line for f in with_df if f.rule_id == sudo] == [2]


def test_a_dockerfile_that_did_not_build_the_image_gives_a_note_not_wrong_lines() -> None:

    run = check_image(rulespec.engine(), bigfile(), parse_dockerfile("FROM busybox\nRUN make\nRUN make install\nRUN make test\n", "Dockerfile"))
    assert any("does not match image" in n for n in run.notes), run.notes
    (waste,) = [f for f in run.findings if f.rule_id == "LI600"]
    assert waste.location.path == "app/BigFile"


def test_with_no_history_rule_on_the_rebuilt_dockerfile_is_listed_as_checked_but_never_parsed(monkeypatch) -> None:
    """Only image rules on (the secret rules of a rescan): nothing the rebuilt Dockerfile yields is kept, so it is not
    parsed or checked, and the report lists it with the same lines as when history rules run."""
    import lintimg.run.image as run_image
    from lintimg.config import Config
    from lintimg.engine import Engine

    img = make_image([BASE, layer("/bin/sh -c sudo chown -R app /srv", files={"srv/x": 1})])
    every = check_image(rulespec.engine(), img)
    assert any(f.location.path == "app/history.Dockerfile" for f in every.findings)  # history rules did run there
    image_only = Engine(Config())
    image_only.registry.select(image_only.registry.resolve(["LI550,LI551,LI552,LI553"], ""))
    monkeypatch.setattr(run_image, "parse_dockerfile", lambda *a: pytest.fail("the rebuilt Dockerfile was parsed"), raising=False)
    monkeypatch.setattr("lintimg.dockerfile.parse_dockerfile", lambda *a: pytest.fail("the rebuilt Dockerfile was parsed"), raising=False)
    run = check_image(image_only, img)
    assert not [f for f in run.findings if f.location.path.endswith("history.Dockerfile")]
    assert run.files == every.files[:1] == ["app/history.Dockerfile"]
    assert run.sources["app/history.Dockerfile"] == every.sources["app/history.Dockerfile"]
