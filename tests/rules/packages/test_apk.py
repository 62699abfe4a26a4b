"""Package-manager rules of rules/packages/apk.py, written from what each rule means."""
from __future__ import annotations

import pytest

from tests.rulespec import catches, passes, signature_switch, stage_scope


def test_apk_pin_versions():
    catches("LI310", "FROM alpine:3.19\nRUN apk add --no-cache curl git=2.43.0-r0\n", message="curl")
    passes("LI310", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0 git~2.43 ./local.apk\n")
    # the name given to --virtual is not a package
    passes("LI310", "FROM alpine:3.19\nRUN apk add --no-cache --virtual .build gcc=13.2.1-r0\n")


def test_apk_add_cache():
    catches("LI311", "FROM alpine:3.19\nRUN apk add curl=8.5.0-r0\n")
    passes("LI311", "FROM alpine:3.19\nRUN apk add --no-cache curl=8.5.0-r0\n")
    passes("LI311", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/apk apk add curl=8.5.0-r0\n")
    catches("LI311", "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/other apk add curl=8.5.0-r0\n")
    # apk(8): the indexes apk fetches without --no-cache are kept under /var/cache/apk; the same RUN removing them
    # afterwards leaves no cache in the layer, a removal before the add or in a later RUN does not
    passes("LI311", "FROM alpine:3.19\nRUN apk add -U curl=8.5.0-r0 && rm -rf /var/cache/apk/*\n")
    passes("LI311", "FROM alpine:3.19\nRUN apk add curl=8.5.0-r0; rm -rf /var/cache/apk\n")
    catches("LI311", "FROM alpine:3.19\nRUN rm -rf /var/cache/apk/* && apk add curl=8.5.0-r0\n")
    catches("LI311", "FROM alpine:3.19\nRUN apk add curl=8.5.0-r0\nRUN rm -rf /var/cache/apk/*\n", line=2)
    catches("LI311", "FROM alpine:3.19\nRUN apk add curl=8.5.0-r0 && rm -rf /var/cache/other\n")


@pytest.mark.parametrize("rule_id,tool,flag", [
    ("LI312", "apk", "--allow-untrusted"),
])
def test_signature_switches(rule_id, tool, flag):
    signature_switch(rule_id, tool, flag)


def test_stage_scope():
    stage_scope("LI311", "RUN apk add curl=8.5.0-r0", shipped_only=True, base="alpine:3.20")
    stage_scope("LI310", "RUN apk add --no-cache curl", shipped_only=False, base="alpine:3.20")
