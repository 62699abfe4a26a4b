"""What each detector needs to see before it can match: a short literal (or tiny pattern) per detector.

Plain data plus two cheap checks, so that a short text (a Dockerfile, an ENV
value, a history line, a small file) is judged without loading the engine:
files that are never scanned, whatever they hold (:func:`skipped_path`), and,
when no trigger occurs in a text, no detector can match it (:func:`may_match`);
the rule table and RE2 stay unloaded — a Dockerfile-only run pays nothing for them. The
engine (:mod:`lintimg.secrets.engine`) puts every trigger in one RE2 set and
runs a detector's own pattern only where one of its triggers occurred.

A trigger is ``(kind, text)``: ``"s"`` a case-sensitive literal, ``"i"`` a
case-insensitive literal (written in lower case), ``"r"`` a pattern in the
common subset of RE2 and Python's ``re`` (flags only as scoped groups,
``(?i:…)``). Every match of a detector contains
one of its triggers; ``tests/test_secret_engine.py`` checks that scanning with
and without the trigger pass gives the same hits.
"""
from __future__ import annotations

import re
from collections.abc import Callable

Trigger = tuple[str, bytes]


def _s(*words: str) -> tuple[Trigger, ...]:
    return tuple(("s", w.encode()) for w in words)


def _i(*words: str) -> tuple[Trigger, ...]:
    return tuple(("i", w.lower().encode()) for w in words)


def _r(*patterns: bytes) -> tuple[Trigger, ...]:
    return tuple(("r", p) for p in patterns)


# Words of a name that says it holds a secret (the generic detectors' key words). "auth" and
# "pass" only as whole words or the start of a secret word: "author", "bypass_cache" are not keys.
_NAME_WORDS = (
    *_i("secret", "token", "pwd", "credential", "passphrase", "oauth"),
    *_r(rb"(?i:auth(?:[^a-z]|$|token|key))", rb"(?i:pass(?:[^a-z]|$|w))"),
    *_i(*(f"{a}{sep}key" for a in ("api", "access", "auth", "private", "signing", "encryption", "license", "master", "app")
          for sep in ("", "_", "-", "."))),
)

TRIGGERS: dict[str, tuple[Trigger, ...]] = {
    "aws-access-key-id": _s("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA"),
    "aws-secret-access-key": _i("aws"),
    "aws-bedrock-api-key": _s("ABSK", "bedrock-api-key-"),
    "gcp-api-key": _s("AIza"),
    "gcp-service-account": _s("service_account"),
    "azure-storage-key": _i("accountkey", "sharedaccesskey"),
    "azure-sas-signature": _s("sig="),
    "azure-ad-client-secret": _s("Q~"),
    "azure-app-config": _s("azconfig.io"),
    "azure-ai-services-key": _s("JQQJ99"),
    "alibaba-access-key-id": _s("LTAI"),
    "digitalocean-token": _s("_v1_"),
    "heroku-api-key-v2": _s("HRKU-AA"),
    "flyio-token": _s("fm1", "fm2", "fo1_"),
    "vault-token": _s("hvs.", "hvb.", "hvr."),
    "terraform-cloud-token": _s(".atlasv1."),
    "doppler-token": _s("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
    "databricks-token": _s("dapi"),
    "dynatrace-token": _s("dt0c01."),
    "pulumi-token": _s("pul-"),
    "planetscale-token": _s("pscale_"),
    "scalingo-token": _s("tk-us-"),
    "clickhouse-cloud-key": _s("4b1d"),
    "defined-networking-token": _s("dnkey-"),
    "harness-token": _s("pat.", "sat."),
    "settlemint-token": _s("sm_aat_", "sm_pat_", "sm_sat_"),
    "onepassword-service-account": _s("ops_eyJ"),
    "age-secret-key": _s("AGE-SECRET-KEY-1"),
    "github-token": _s("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "github-fine-grained-pat": _s("github_pat_"),
    "gitlab-token": _s("glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "glsoat-", "gloas-",
                       "glffct-", "glwt-"),
    "gitlab-runner-registration": _s("GR1348941"),
    "gitlab-session-cookie": _s("_gitlab_session="),
    "atlassian-api-token": _s("ATATT3"),
    "npm-token": _s("npm_"),
    "npmrc-auth": _s(":_auth", ":_password"),
    "pypi-token": _s("pypi-AgE"),
    "rubygems-token": _s("rubygems_"),
    "clojars-token": _i("clojars_"),
    "nuget-config-password": _i("cleartextpassword"),
    "docker-hub-token": _s("dckr_pat_", "dckr_oat_"),
    "docker-config-auth": _s('"auth"'),
    "sonar-token": _s("sqp_", "squ_", "sqa_"),
    "sourcegraph-token": _s("sgp_"),
    "jfrog-token": _s("AKCp", "cmVmdGtuOjAxOj"),
    "prefect-token": _s("pnu_"),
    "readme-token": _s("rdme_"),
    "postman-token": _s("PMAK-"),
    "linear-api-key": _s("lin_api_"),
    "typeform-token": _s("tfp_"),
    "frameio-token": _s("fio-u-"),
    "infracost-token": _s("ico-"),
    "sentry-token": _s("sntryu_", "sntrys_"),
    "codecov-token": _i("codecov"),
    "slack-token": _s("xox", "xapp-"),
    "slack-webhook": _s("hooks.slack.com"),
    "discord-bot-token": _i("discord"),  # no distinctive prefix: only where the text names Discord
    "discord-webhook": _i("discord"),
    "telegram-bot-token": _r(rb"[0-9]:A"),
    "stripe-key": _s("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"),
    "stripe-publishable-key": _s("pk_live_"),
    "square-token": _s("EAAA", "sq0atp-", "sq0csp-"),
    "shopify-token": _s("shpat_", "shpca_", "shppa_", "shpss_"),
    "sendgrid-key": _s("SG."),
    "brevo-key": _s("xkeysib-"),
    "mailgun-key": _s("key-"),
    "mailchimp-key": _r(rb"-us[0-9]"),
    "twilio-api-key": _r(rb"SK[0-9a-f]{8}"),
    "messagebird-key": _i("messagebird", "message_bird", "message-bird"),
    "flutterwave-key": _s("FLWPUBK_TEST", "FLWSECK_TEST"),
    "easypost-key": _s("EZAK", "EZTK"),
    "duffel-token": _s("duffel_"),
    "shippo-token": _s("shippo_"),
    "gocardless-token": _i("gocardless"),
    "lob-key": _r(rb"(?:live|test)_(?:pub_)?[a-f0-9]{8}"),
    "plaid-token": _s("access-sandbox-", "access-development-", "access-production-"),
    "openai-key": _s("T3BlbkFJ"),
    "openai-realtime-secret": _s("ek_"),
    "anthropic-key": _s("sk-ant-"),
    "huggingface-token": _s("hf_", "api_org_"),
    "grafana-token": _s("eyJrIjoi", "glc_", "glsa_"),
    "new-relic-key": _s("NRAK-", "NRII-", "NRAA-", "NRJS-", "NRRA-"),
    "mapbox-token": _s("pk.eyJ", "sk.eyJ"),
    "twitter-bearer": _r(rb"A{22}"),
    "facebook-token": _s("EAA"),
    "okta-token": _i("okta"),
    "airtable-token": _r(rb"pat[A-Za-z0-9]{14}\."),
    "adafruit-key": _s("aio_"),
    "maxmind-key": _s("_mmk"),
    "authress-key": _s(".acc_", ".acc-"),
    "beamer-token": _r(rb"b_[A-Za-z0-9=_\-]{20}"),
    "sidekiq-credentials": _i("contribsys"),
    "sidekiq-url": _i("contribsys"),
    "facebook-app-token": _r(rb"[0-9]{15}\|"),
    "intra42-secret": _s("s-s4t2"),
    "symfony-default-secret": _s("ThisTokenIsNotSoSecretChangeIt"),
    "private-key": _s("PRIVATE KEY", "PuTTY-User-Key-File-"),
    "jwt": _s("eyJ"),
    "url-credentials": _r(rb"://[^\s/@:]+:[^\s/@]+@"),
    "curl-user": _i("curl"),
    "basic-auth-header": _r(rb"(?i:basic)\s+[A-Za-z0-9+/]{8}"),
    "bearer-token": _i("bearer"),
    "maven-password": _s("<password>", "<passphrase>"),
    "k8s-secret-data": _r(rb"(?i:kind:\s*[\"']?secret)"),
    "env-instruction": _r(rb"(?i:\b(?:env|arg)\s+[a-z0-9_.\-]*(?:secret|token|pass|pwd|key|auth|credential))"),
    "generic-assignment": _NAME_WORDS,
    "generic-xml": _NAME_WORDS,
    "generic-cli-flag": _r(rb"\s(?i:--?(?:api-?)?(?:token|passw|secret|api-?key|auth-?token|access-?key))"),
}


def as_re2(trigger: Trigger) -> bytes:
    """A trigger as an RE2 pattern."""
    kind, text = trigger
    if kind == "r":
        return text
    escaped = re.escape(text)
    return b"(?i)" + escaped if kind == "i" else escaped


_EXAMPLE_NAME = r"(?i)(?:^|[._\-])(?:example|examples|sample|samples|template|dist)(?:$|[._\-])"
# Files that list checksums of other files: hashes, never secrets.
_HASH_LISTS = r"(?i)(?:\.(?:sha1|sha224|sha256|sha384|sha512|md5|sums?)|(?:^|/)[A-Z0-9]*SUMS|\.dist-info/RECORD)$"


def skipped_path(path: str) -> bool:
    """Files not scanned, whatever they hold: templates written to be copied and filled in
    (``.env.example``, ``config.sample.yml``, ``settings.py.dist``) and checksum lists
    (``SHA256SUMS``, ``*.sha256``, a wheel's ``RECORD``)."""
    # the patterns compile on first use (re's cache): a run that scans no file's contents never asks
    return bool(re.search(_EXAMPLE_NAME, path.rsplit("/", 1)[-1]) or re.search(_HASH_LISTS, path))


_check: Callable[[bytes], bool] | None = None


def _build() -> Callable[[bytes], bool]:
    every = {t for ts in TRIGGERS.values() for t in ts}
    exact = tuple(sorted(text for kind, text in every if kind == "s"))
    folded = tuple(sorted(text for kind, text in every if kind == "i"))
    shapes = re.compile(b"|".join(b"(?:" + text + b")" for kind, text in sorted(every) if kind == "r")).search

    def check(data: bytes) -> bool:
        if any(w in data for w in exact):
            return True
        low = data.lower()
        return any(w in low for w in folded) or shapes(data) is not None

    return check


def may_match(data: bytes) -> bool:
    """False when no detector can match anything in ``data``: no trigger occurs in it.

    Pure Python (substring tests and one small regular expression): cheap for
    the short texts it is meant for; the engine itself uses an RE2 set instead.
    """
    global _check
    if _check is None:
        _check = _build()
    return _check(data)
