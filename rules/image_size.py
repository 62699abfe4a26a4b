"""LI6xx on images: wasted layer space, efficiency policy, caches left in layers, toolchains, size limits."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from lintimg.config import parse_size
from lintimg.engine.rule import rule
from lintimg.engine.target import ImageTarget, Subject
from lintimg.findings import Hit, Severity
from lintimg.image.mapping import describe_layer, image_hit
from lintimg.image.stats import (
    CACHES,
    WastedFile,
    cache_bytes,
    human,
    layer_sizes,
    toolchains,
    waste,
)

ID_RANGE = "LI600-LI629"

# Waste below this, per pair of layers, is listed only in the totals (apt's
# status files and the like churn a few kB in every install).
LISTED_WASTE_MIN = 1 << 20
# Caches below this are noise (an empty index file, a lock).
CACHE_MIN = 10_000
_POLICY_FIX = "remove what wastes the space (see wasted-layer-space findings), or relax the limit in .lintimg.yaml"
# dive's defaults for the two limits it enables out of the box.
DEFAULT_MIN_EFFICIENCY = 0.9
DEFAULT_MAX_WASTED_PERCENT = 0.1


def _base_layers(t: ImageTarget) -> set[int]:
    return {i for i, o in t.layer_map.items() if getattr(o, "base", False)}


def _where(f: WastedFile, base: set[int]) -> int:
    """The layer a fix belongs to: the one that added the bytes, unless the base image did."""
    if f.added_layer in base and f.removed_layer is not None:
        return f.removed_layer
    return f.added_layer


@rule("LI600", "wasted-layer-space", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "size", "layers"))
def wasted_layer_space(t: ImageTarget) -> Iterator[Hit]:
    """Files added in one layer and deleted or overwritten in a later one still cost their bytes.

    ## What it does
    Finds file versions that some layer stores but the final image does not
    show, because a later layer deleted them (a whiteout or a deleted parent
    directory) or wrote a new version. It reports each pair of layers that
    wastes at least 1 MiB this way, with the total, the biggest files and
    their sizes, the layer (and Dockerfile line) that added them and the one
    that removed them. When the Dockerfile is known, waste that the base
    image made and removed by itself is left out (nothing in your file can
    fix it); a base file your layers delete is reported at the deleting line.

    ## Why it matters
    Layers are immutable: `RUN rm BigFile` in a later layer hides the file
    but every pull still downloads it and every node still stores it, and
    anyone can read it back by extracting the earlier layer. Unlike dive,
    only removable bytes count as waste: the version that survives is not
    waste, and an overwrite wastes the old version's size, not both.

    ## Example
    ```dockerfile
    FROM debian:12
    COPY BigFile /BigFile
    RUN rm /BigFile
    ```

    ## Fix
    Create and delete temporary files in the same RUN, or do the work in a
    build stage and copy only the result into the final stage.
    """
    w = waste(t.image)
    base = _base_layers(t)
    groups: dict[tuple[int, int | None], list[WastedFile]] = defaultdict(list)
    for f in w.files:
        groups[(f.added_layer, f.removed_layer)].append(f)
    for (added, removed), files in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] if kv[0][1] is not None else -1)):
        total = sum(f.size for f in files)
        if total < LISTED_WASTE_MIN or (added in base and (removed is None or removed in base)):
            continue
        top = ", ".join(f"/{f.path} ({human(f.size)})" for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        how = "overwritten" if all(f.overwritten for f in files) else "deleted"
        by = describe_layer(t, removed) if removed is not None else "a later layer"
        yield image_hit(
            t,
            f"{human(total)} in {len(files)} file{'s' if len(files) != 1 else ''} added by {describe_layer(t, added)} "
            f"and {how} by {by} is still shipped: {top}",
            layer=_where(files[0], base),
            path=files[0].path,
            fix="create and remove temporary files in the same RUN, or build in a separate stage and copy only the result",
            key=f"{files[0].path}@{added}",
            wasted_bytes=total,
            added_layer=added,
            removed_layer=removed,
            files=[{"path": "/" + f.path, "size": f.size} for f in files[:20]],
        )


@rule(
    "LI601",
    "image-efficiency",
    Severity.WARNING,
    subject=Subject.IMAGE,
    tags=("image", "size", "layers", "policy"),
    peers=("lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"),  # dive --ci rules
)
def image_efficiency(t: ImageTarget) -> Iterator[Hit]:
    """The image wastes more space than the efficiency policy allows.

    ## What it does
    Applies three limits, like dive's CI mode: `min-efficiency` (share of
    stored file bytes the final image shows, over every layer including the
    base image's, as dive does; default 0.9),
    `max-wasted-percent` (bytes wasted by the Dockerfile's own layers over
    the bytes those layers hold; default 0.1) and `max-wasted-bytes` (off
    unless set). Each broken limit is one finding with the measured value.

    ## Why it matters
    Wasted bytes are pulled, stored and scanned on every node for nothing.
    The numbers differ from dive's on purpose: a surviving file is never
    counted as waste, and the base image is the layers the FROM image
    brought (known from the layer mapping when the Dockerfile is given; with
    no Dockerfile every layer counts as your own).

    ## Example
    ```yaml
    # .lintimg.yaml
    min-efficiency: 0.95
    max-wasted-bytes: 20MB
    max-wasted-percent: 0.05
    ```

    ## Fix
    Remove what wastes the space (see `wasted-layer-space`), or relax the
    limits in `.lintimg.yaml`.
    """
    w = waste(t.image)
    if not w.files:
        return
    base = _base_layers(t)
    worst = max(w.files, key=lambda f: f.size)
    layer = _where(worst, base)
    min_eff = t.setting("min-efficiency", DEFAULT_MIN_EFFICIENCY)
    if w.efficiency < min_eff:
        yield image_hit(t, f"efficiency {w.efficiency:.2%} is below min-efficiency {min_eff:.2%}: {human(w.wasted_bytes)} of {human(w.total_bytes)} stored file bytes are not in the final image",
                        layer=layer, fix=_POLICY_FIX, key="min-efficiency", efficiency=w.efficiency, wasted_bytes=w.wasted_bytes)
    limit = t.setting("max-wasted-bytes")
    if limit is not None and w.wasted_bytes > parse_size(limit):
        yield image_hit(t, f"{human(w.wasted_bytes)} wasted, over max-wasted-bytes {human(parse_size(limit))}",
                        layer=layer, fix=_POLICY_FIX, key="max-wasted-bytes", wasted_bytes=w.wasted_bytes)
    own_wasted, own_bytes = w.user_wasted(base)
    max_pct = t.setting("max-wasted-percent", DEFAULT_MAX_WASTED_PERCENT)
    if own_bytes and own_wasted / own_bytes > max_pct:
        yield image_hit(t, f"{own_wasted / own_bytes:.1%} of the bytes your layers add are wasted ({human(own_wasted)} of {human(own_bytes)}), over max-wasted-percent {max_pct:.0%}",
                        layer=layer, fix=_POLICY_FIX, key="max-wasted-percent", wasted_bytes=own_wasted, layer_bytes=own_bytes)


@rule("LI602", "package-cache-in-layer", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "size", "cache"),
      peers=("DKL-DI-0005", "DKL-DI-0004"))
def package_cache_in_layer(t: ImageTarget) -> Iterator[Hit]:
    """A layer keeps a package manager's cache (apt, apk, yum/dnf, pip, npm/yarn, Go).

    ## What it does
    Measures, in every layer your build made, the bytes under the cache
    directories of package managers: apt lists and archives, apk, yum, dnf,
    zypper, pip, npm, yarn, the Go build cache and Go's module download
    cache. Each layer and cache with at least 10 kB is one finding with the
    size. Base-image layers are left out when the Dockerfile is known (the
    fix is not in your file).

    ## Why it matters
    Peers guess this from the commands (dockle reads history for apt and
    apk); the layer itself says how many bytes were really left behind,
    whatever tool or script put them there. A cache removed in a later
    layer is still shipped.

    ## Example
    ```dockerfile
    FROM python:3.12
    RUN pip install -r requirements.txt   # leaves /root/.cache/pip
    ```

    ## Fix
    Clean the cache in the same RUN that fills it (the finding says how), use
    the package manager's no-cache switch, or mount a build cache
    (`RUN --mount=type=cache,...`).
    """
    fixes = {c.name: c.fix for c in CACHES}
    base = _base_layers(t)
    for (layer, name), size in sorted(cache_bytes(t.image).items()):
        if size < CACHE_MIN or layer in base:
            continue
        yield image_hit(t, f"{describe_layer(t, layer)} keeps {human(size)} of {name}", layer=layer, fix=fixes[name], key=f"{name}@{layer}", cache=name, bytes=size)


@rule("LI603", "toolchain-in-image", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "size", "multi-stage"))
def toolchain_in_image(t: ImageTarget) -> Iterator[Hit]:
    """A build toolchain (compiler, SDK, JS build tools) ships in the final image.

    ## What it does
    Looks in the final filesystem for compilers and SDKs: the Go toolchain
    (`/usr/local/go`, `/usr/lib/go*`), gcc's `cc1`, `rustc`, a JDK's
    `javac`, Node.js when the image's command does not run it, and JS build
    tools in `node_modules` (typescript, webpack, babel, eslint, jest, vite,
    esbuild, …). Each is reported with the bytes it occupies, the layer that
    brought it, and the multi-stage split that removes it.

    ## Why it matters
    A compiler is needed to build, not to run. Shipping it makes the image
    several times larger and hands an attacker who gets in a ready tool
    chain; it is the classic sign of a single-stage build.

    ## Example
    ```dockerfile
    FROM golang:1.22
    WORKDIR /src
    COPY . .
    RUN go build -o /app .
    ENTRYPOINT ["/app"]
    ```

    ## Fix
    Build in one stage and copy only the result into a small runtime stage:
    ```dockerfile
    FROM golang:1.22 AS build
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /app .
    FROM gcr.io/distroless/static
    COPY --from=build /app /app
    ENTRYPOINT ["/app"]
    ```
    """
    total = sum(layer_sizes(t.image))
    for tc in toolchains(t.image):
        share = f" ({tc.size / total:.0%} of the image's {human(total)})" if total else ""
        where = ", ".join("/" + r.rstrip("/") for r in tc.roots)
        yield image_hit(
            t,
            f"{tc.kind.name} in the final image: {where}, {human(tc.size)}{share}, from {describe_layer(t, tc.layer)}",
            layer=tc.layer,
            path=tc.marker,
            fix=tc.kind.split,
            key=f"{tc.kind.name}:{tc.marker}",
            toolchain=tc.kind.name,
            bytes=tc.size,
            image_bytes=total,
        )


def _biggest(t: ImageTarget, sizes: list[int], n: int = 3) -> str:
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])[:n]
    return "; ".join(f"{describe_layer(t, i)} {human(sizes[i])}" for i in order)


@rule("LI604", "image-too-large", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "size", "policy"))
def image_too_large(t: ImageTarget) -> Iterator[Hit]:
    """The image is larger than the `max-image-size` policy.

    ## What it does
    Adds up the uncompressed size of every layer and compares it with
    `max-image-size` (off unless set). The finding names the three biggest
    layers and the instructions that made them.

    ## Why it matters
    Size is pull time, start-up time on new nodes, storage and attack
    surface; a limit in CI keeps it from creeping up.

    ## Example
    ```yaml
    # .lintimg.yaml
    max-image-size: 200MB
    ```

    ## Fix
    Start from a smaller base, use a multi-stage build, and remove caches in
    the layer that makes them; then look at the biggest layers listed.
    """
    limit = t.setting("max-image-size")
    if limit is None:
        return
    sizes = layer_sizes(t.image)
    total = sum(sizes)
    if sizes and total > parse_size(limit):
        top = max(range(len(sizes)), key=lambda i: sizes[i])
        yield image_hit(t, f"image is {human(total)}, over max-image-size {human(parse_size(limit))}; biggest layers: {_biggest(t, sizes)}",
                        layer=top, key="max-image-size", bytes=total)


@rule("LI605", "layer-too-large", Severity.WARNING, subject=Subject.IMAGE, tags=("image", "size", "policy"))
def layer_too_large(t: ImageTarget) -> Iterator[Hit]:
    """A layer is larger than the `max-layer-size` policy.

    ## What it does
    Compares each layer's uncompressed size with `max-layer-size` (off
    unless set) and reports each layer over it at the instruction that made
    it.

    ## Why it matters
    One huge layer is downloaded and unpacked in one piece and is invalidated
    as a whole by any change to the instruction that makes it.

    ## Example
    ```yaml
    # .lintimg.yaml
    max-layer-size: 100MB
    ```

    ## Fix
    Split the work, remove caches in the same RUN, or move build-only steps
    to an earlier stage.
    """
    limit = t.setting("max-layer-size")
    if limit is None:
        return
    cap = parse_size(limit)
    for i, size in enumerate(layer_sizes(t.image)):
        if size > cap:
            yield image_hit(t, f"{describe_layer(t, i)} is {human(size)}, over max-layer-size {human(cap)}", layer=i, key=f"layer-{i}", bytes=size)
