"""What a fleet run scans: REGISTRY[/NAMESPACE], catalog and tag pages, --repos, --include/--exclude, --latest."""
from __future__ import annotations

import pytest

from lintimg.dockerfile.reference import DockerRef
from lintimg.errors import LintimgError
from lintimg.fleet.plan import FleetTarget, Selection, make_plan, parse_target, read_repos_file
from lintimg.image.registry import Registry
from tests.fleet.support import NS


@pytest.mark.parametrize(("text", "want"), [
    ("registry.example.com", FleetTarget("registry.example.com")),
    ("docker://Registry.Example.com:5000/team/sub/", FleetTarget("registry.example.com:5000", "team/sub")),
    ("localhost/team", FleetTarget("localhost", "team")),
    ("acme", FleetTarget("docker.io", "acme")),  # a bare name is a Docker Hub namespace, as docker pull reads it
])
def test_targets(text, want):
    assert parse_target(text) == want


@pytest.mark.parametrize("text", ["", "reg.example.com/team:1", "reg.example.com/a b", "reg.example.com/app@sha256:00"])
def test_bad_targets(text):
    with pytest.raises(LintimgError, match="REGISTRY\\[/NAMESPACE\\]|no tag"):
        parse_target(text)


def test_namespace_holds_its_repositories_only():
    t = FleetTarget("r.example.com", "team")
    assert t.holds("team/app") and t.holds("team/a/b") and t.holds("team")
    assert not t.holds("teamwork/app") and not t.holds("other/team")


def test_repos_file(tmp_path):
    f = tmp_path / "repos.txt"
    f.write_text("# platform images\nteam/api\nteam/web:1.4   # pinned\n\n127.0.0.1:5000-style/x:y\n")
    assert read_repos_file(str(f)) == [("team/api", None), ("team/web", "1.4"), ("127.0.0.1:5000-style/x", "y")]
    f.write_text("team/api\nteam/web:\n")
    with pytest.raises(LintimgError, match=r"repos\.txt:2: expected REPOSITORY or REPOSITORY:TAG"):
        read_repos_file(str(f))
    with pytest.raises(LintimgError, match="repository list not found"):
        read_repos_file(str(tmp_path / "missing.txt"))


def test_selection_globs_match_repository_and_tag():
    s = Selection(include=("team/*",), exclude=("*:*-rc*", "team/legacy:*"))
    assert s.wants("team/api", "1.4") and not s.wants("team/api", "1.5-rc1") and not s.wants("team/legacy", "1")
    assert not s.wants("other/api", "1")




@pytest.mark.engine
@pytest.mark.registry
def test_catalog_and_tags_follow_link_pages(fleet):
    everything = Registry(DockerRef(fleet.host, "", None, None)).catalog()
    paged = Registry(DockerRef(fleet.host, "", None, None)).catalog(page=3)  # 18 repositories: 6 pages
    assert paged == everything and len(everything) == len({r.split(":")[0] for r in fleet.images}) + 1  # + fleet/broken
    assert set(everything) == {r.split(":")[0] for r in fleet.images} | {f"{NS}/broken"}
    tags = Registry(DockerRef(fleet.host, f"{NS}/app01", None, None)).tags(page=1)  # 3 pages
    assert sorted(tags) == ["1", "latest", "old"] == sorted(Registry(DockerRef(fleet.host, f"{NS}/app01", None, None)).tags())
    assert Registry(DockerRef(fleet.host, "", None, None)).catalog(max_repos=4, page=3) == everything[:4]


@pytest.mark.engine
@pytest.mark.registry
def test_plan_dedupes_digests_and_keeps_going_past_a_bad_tag(fleet):
    plan = make_plan(parse_target(fleet.target))
    assert set(plan.images) == fleet.digests
    app01 = plan.images[fleet.images[f"{NS}/app01:1"]]
    assert app01.tags == ["1", "latest"] and app01.reference == f"docker://{fleet.host}/{NS}/app01@{app01.digest}"
    assert [(f.stage, f.what) for f in plan.failures] == [("resolve", f"{fleet.host}/{fleet.broken}")]
    # fleet/broken also holds app02's manifest under another tag: the same image, scanned once, its other name kept
    assert plan.tags_listed == len(fleet.images) + 2 and plan.tags_selected == len(fleet.images) + 1
    assert plan.images[fleet.images[f"{NS}/app02:1"]].elsewhere == [f"{NS}/broken:amd64"]
    # every distinct layer once: three apps on the three bases share the busybox layer, and no other
    three = {la.diff_id for n in (2, 6, 10) for la in plan.images[fleet.images[f"{NS}/app{n:02d}:1"]].layers}
    assert len(three) == 1 + 1 + 3 + 3 * 2  # busybox, base-app's own, base-wasteful's own three, two per app
    assert len(plan.layers) < sum(len(j.layers) for j in plan.images.values())


@pytest.mark.engine
@pytest.mark.registry
def test_include_exclude_latest_and_repos_file(fleet, tmp_path):
    target = parse_target(fleet.target)
    some = make_plan(target, selection=Selection(include=(f"{NS}/app0[12]:*",)))
    assert {j.label for j in some.images.values()} == {f"{NS}/app01:1", f"{NS}/app01:old", f"{NS}/app02:1"}
    no_old = make_plan(target, selection=Selection(include=(f"{NS}/app0[12]:*",), exclude=("*:old",)))
    assert {j.label for j in no_old.images.values()} == {f"{NS}/app01:1", f"{NS}/app02:1"}
    newest = make_plan(target, selection=Selection(include=(f"{NS}/app01:*",), latest=1))
    assert [(j.label, j.tags) for j in newest.images.values()] == [(f"{NS}/app01:1", ["1", "latest"])]
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{NS}/app03:1\n{NS}/app01\n{NS}/nothing-here\nother/app\n")
    listed = make_plan(target, repos_file=str(repos))
    assert listed.repositories == [f"{NS}/app03", f"{NS}/app01", f"{NS}/nothing-here"]  # other/ is not in the namespace
    assert {j.label for j in listed.images.values()} == {f"{NS}/app03:1", f"{NS}/app01:1", f"{NS}/app01:old"}
    assert [(f.stage, f.what) for f in listed.failures] == [("tags", f"{fleet.host}/{NS}/nothing-here")]
    assert "not found (404)" in listed.failures[0].reason
