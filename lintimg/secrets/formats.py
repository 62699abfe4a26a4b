"""The detectors: token formats published by their providers, plus a few generic shapes.

Each :class:`Detector` is a pattern (RE2 syntax, run on raw bytes in Latin-1
mode; the secret is group ``s``, else the whole match) and the checks its
value must pass (:mod:`lintimg.secrets.values`): entropy, the placeholder
filter, key names, and format checks (a JWT's header is JSON, a docker
``auth`` decodes to ``user:password``, a private key block has a body). The
formats are facts from the providers' documentation (prefix, length,
alphabet); no other scanner's rule text is used. Each detector's triggers
are in :mod:`lintimg.secrets.triggers`.

Generic detectors (a name that says secret, assigned a random-looking value;
bearer tokens) yield to a vendor detector that matched the same span, and a
name that names a provider with a known format (``MERAKI_API_KEY``) is judged
by that format instead: a value that does not fit it is something else.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lintimg.secrets.values import (
    entropy,
    is_placeholder,
    key_is_reference,
    key_says_secret,
    key_words,
    percent_decode,
    random_looking,
    wordy,
)

# check(value, match, data) -> bool; ``match`` is an RE2 match object on ``data``.
Check = Callable[[bytes, Any, bytes], bool]


@dataclass(frozen=True)
class Detector:
    id: str
    title: str
    pattern: bytes
    min_entropy: float = 0.0
    checks: tuple[Check, ...] = ()
    placeholder: bool = True  # run the placeholder filter on the value
    generic: bool = False  # a name/shape detector: yields to a vendor detector on the same span
    strip_prefix: int = 0  # bytes of fixed prefix left out of the placeholder and entropy checks
    # A match whose value is shorter can never pass the checks: it is dropped before any of them
    # runs (most generic matches are short values: "token = x", "password: null").
    min_len: int = 0


def _d(id: str, title: str, pattern: bytes, **kw: Any) -> Detector:
    return Detector(id, title, pattern, **kw)


def group(m: Any, name: bytes) -> bytes | None:
    """A named group of an RE2 bytes match (its group names are bytes); None when absent or unset."""
    idx = m.re.groupindex.get(name)
    return m.group(idx) if idx else None


def _tail_entropy(n: int, minimum: float) -> Check:
    def check(value: bytes, m: Any, data: bytes) -> bool:
        return entropy(value[n:]) >= minimum
    return check


def _jwt_ok(value: bytes, m: Any, data: bytes) -> bool:
    parts = value.split(b".")
    for seg in parts[:2]:
        try:
            obj = json.loads(base64.urlsafe_b64decode(seg + b"=" * (-len(seg) % 4)))
        except (ValueError, binascii.Error):
            # hand-made test tokens are random base64url after "eyJ": kept when long and varied
            return len(seg) >= 16 and entropy(seg) >= 3.5
        if not isinstance(obj, dict):
            return False
    return len(parts) >= 2


def _pem_body(value: bytes, m: Any, data: bytes) -> bool:
    """A BEGIN line followed by a real key body (>= 64 base64 characters before END or 8 KiB)."""
    end = data.find(b"-----END", m.end())
    body = data[m.end(): end if end != -1 else m.end() + 8192]
    b64 = sum(1 for c in body if 65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57 or c in b"+/=")
    if b64 < 64:
        return False
    return not any(w in body.lower() for w in (b"...", b"<", b"example", b"xxxx"))


def _docker_auth(value: bytes, m: Any, data: bytes) -> bool:
    """Base64 of ``user:password`` with a real-looking password."""
    try:
        raw = base64.b64decode(value + b"=" * (-len(value) % 4), validate=False)
    except (ValueError, binascii.Error):
        return False
    user, sep, pw = raw.partition(b":")
    return bool(sep and user and len(pw) >= 4 and not is_placeholder(pw))


# Passwords in documentation URLs and command lines: stand-ins, not credentials.
WEAK_PASSWORDS = frozenset(
    b"password passwd pass pwd secret token pw p x none null user username login admin root guest test anonymous "
    b"foo bar baz changeme letmein".split()
)
# RFC 2606 / RFC 6761 names reserved for documentation and tests.
_DOC_HOSTS = (b"example.com", b"example.org", b"example.net", b".example", b".invalid", b".test")


def _url_password(value: bytes, m: Any, data: bytes) -> bool:
    plain = percent_decode(value)
    if plain.isalpha() or wordy(plain):  # "tiger", "masterkey", "foo@bar": documentation, not a credential
        return False
    user = group(m, b"u") or b""
    low = value.lower()
    if low in WEAK_PASSWORDS or value == user or low.startswith((b"$", b"%", b"{", b"[", b"*")):
        return False
    if is_placeholder(value, run_limit=4):
        return False
    host = (group(m, b"h") or b"").lower()
    if host.endswith(_DOC_HOSTS):
        return False
    return len(value) >= 6 and entropy(value) >= 2.3 and not wordy(value)


def _curl_password(value: bytes, m: Any, data: bytes) -> bool:
    return (value[:1] not in (b"$", b"%", b"{", b"<") and not is_placeholder(value, run_limit=4)
            and value.lower() not in WEAK_PASSWORDS and entropy(value) >= 2.0)


def _slack_secret_part(value: bytes, m: Any, data: bytes) -> bool:
    last = value.rsplit(b"-", 1)[-1]
    return not is_placeholder(last) and entropy(last) >= 2.8 and not last.isalpha()


# Fixed prefixes of vendor formats: the generic detectors judge a value's length and
# randomness on what follows them ("sm_aat_" + 10 characters is too short).
VENDOR_PREFIXES = (
    b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_", b"glpat-", b"gldt-", b"glrt-", b"glcbt-", b"glptt-",
    b"glft-", b"glimt-", b"glagent-", b"glsoat-", b"gloas-", b"glffct-", b"xoxb-", b"xoxp-", b"xoxa-", b"xoxe", b"xoxs-",
    b"xoxr-", b"xoxo-", b"xapp-", b"sk_live_", b"sk_test_", b"rk_live_", b"rk_test_", b"pk_live_", b"AKIA", b"ASIA", b"AIza",
    b"sm_aat_", b"sm_pat_", b"sm_sat_", b"pscale_", b"dop_v1_", b"doo_v1_", b"dor_v1_", b"npm_", b"pypi-", b"hf_", b"api_org_",
    b"sk-ant-", b"sk-proj-", b"shpat_", b"shpca_", b"shppa_", b"shpss_", b"dapi", b"dt0c01.", b"SG.", b"xkeysib-", b"PMAK-",
    b"lin_api_", b"glsa_", b"glc_", b"NRAK-", b"NRII-", b"NRJS-", b"hvs.", b"hvb.", b"dckr_pat_", b"sntrys_", b"sntryu_",
    b"rubygems_", b"pul-", b"ops_", b"AGE-SECRET-KEY-", b"EZAK", b"EZTK", b"shippo_", b"duffel_", b"FLWSECK", b"FLWPUBK",
)

# Providers whose every secret has one published format, so that their name in a key says
# what its value looks like.
# Under such a name, the generic detectors report only a value of that format: anything
# else there is an id, a hash or a truncated example, not that provider's secret.
PROVIDER_FORMATS: dict[str, re.Pattern[bytes]] = {
    "meraki": re.compile(rb"[0-9a-f]{40}"),
    "mailchimp": re.compile(rb"[0-9a-f]{32}(?:-us[0-9]{1,2})?"),
    "sendgrid": re.compile(rb"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    "digitalocean": re.compile(rb"do[opr]_v1_[0-9a-f]{64}|[0-9a-f]{64}"),
    "shopify": re.compile(rb"shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}|[0-9a-f]{32}"),
    "stripe": re.compile(rb"(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{24,}"),
}


def _provider_mismatch(key: bytes, value: bytes) -> bool:
    """The key names a provider with a known format and the value does not have it."""
    for word in key_words(key):
        fmt = PROVIDER_FORMATS.get(word)
        if fmt is not None and not fmt.fullmatch(value):
            return True
    return False


# Generic values of 16 characters or fewer are as often ids, truncated hashes and
# fixtures as credentials; generated credentials are longer.
GENERIC_MIN_LEN = 17


def _generic_value(value: bytes, m: Any, data: bytes) -> bool:
    tail = value
    for prefix in VENDOR_PREFIXES:
        if value.startswith(prefix):  # the prefix carries no secret: judge what follows it
            tail = value[len(prefix):]
            break
    if len(tail) < GENERIC_MIN_LEN:  # the cheapest test first (random_looking repeats it)
        return False
    if data[m.end():m.end() + 1] in (b"(", b"["):  # a call or an index: code, not a literal
        return False
    key = group(m, b"k") or b""
    if key_is_reference(key) or not key_says_secret(key) or _provider_mismatch(key, value):
        return False
    if group(m, b"op") == b"," and not group(m, b"q"):  # f(token, other): an argument list, not a pair
        return False
    return random_looking(tail, min_len=GENERIC_MIN_LEN)


def _bearer_value(value: bytes, m: Any, data: bytes) -> bool:
    return random_looking(value, min_len=16)


def _line_has(*words: bytes, before: int = 120) -> Check:
    """A keyword (case-insensitive) on the same line, before the match."""
    lows = tuple(w.lower() for w in words)

    def check(value: bytes, m: Any, data: bytes) -> bool:
        start = max(data.rfind(b"\n", 0, m.start()) + 1, m.start() - before)
        seg = data[start:m.end()].lower()
        return any(w in seg for w in lows)
    return check


_SECRET_KIND = re.compile(rb"(?im)^kind:[ \t]*[\"']?secret[\"']?[ \t]*$")


def _is_k8s_secret(value: bytes, m: Any, data: bytes) -> bool:
    return _SECRET_KIND.search(data, 0, 65536) is not None


def _k8s_value(value: bytes, m: Any, data: bytes) -> bool:
    """Only under a ``data:``/``stringData:`` block of a document that is a Secret."""
    head = data[:m.start()]
    block = max(head.rfind(b"\ndata:"), head.rfind(b"\nstringData:"), -1 if not head.startswith(b"data:") else 0)
    if block == -1:
        return False
    if re.search(rb"\n[A-Za-z]", data[block + 1:m.start()]):  # a top-level key closed the block
        return False
    if key_is_reference(group(m, b"k") or b""):
        return False
    return entropy(value) >= 3.0 and not is_placeholder(value, run_limit=0)


# Character classes used in patterns.
B64U = rb"A-Za-z0-9_\-"
LB = rb"(?:^|[^A-Za-z0-9_./])"  # left boundary for short prefixes (not inside a file name or URL path)
RB = rb"(?:[^A-Za-z0-9_\-]|$)"  # right boundary
# Words in a name that say it holds a secret.
SECRET_KEY_WORDS = (
    rb"secret|token|passw(?:or)?d|passwd|passphrase|pass|pwd|api[_.\-]?key|apikey|access[_.\-]?key|auth[_.\-]?key|"
    rb"private[_.\-]?key|credentials?|signing[_.\-]?key|encryption[_.\-]?key|license[_.\-]?key|master[_.\-]?key|"
    rb"app[_.\-]?key|auth"
)
KEYCHARS = rb"[A-Za-z0-9_.\-]"
# An optional string type between a name and its value: Go ``var t string = ``, TS/Kotlin ``t: string = ``.
STRTYPE = rb"(?:[ \t]*:?[ \t]*(?:string|String|str|&str|\[\]byte|char\s*\*|const char\s*\*|CharSequence))?"
VALUE = rb"[^\s\"'`<>;,(){}\[\]\\|]"


DETECTORS: tuple[Detector, ...] = (
    # --- cloud providers
    # Real key ids are base32 ([A-Z2-7]); any upper-case alphanumeric is accepted because
    # hand-made fixtures (and some docs) use 0, 1, 8, 9 and nothing else shares the prefix.
    _d("aws-access-key-id", "AWS access key id",
       LB + rb"(?P<s>(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16})" + RB),
    _d("aws-secret-access-key", "AWS secret access key",
       rb"(?i)aws.{0,24}?(?:secret|sec|private).{0,24}?[\"']?\s*(?:[:=]|=>)?\s*[\"']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
       checks=(lambda v, m, d: entropy(v) >= 3.8 and not wordy(v),), placeholder=True),
    _d("aws-bedrock-api-key", "Amazon Bedrock API key",
       LB + rb"(?P<s>ABSK[A-Za-z0-9+/]{100,}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{20,}={0,2})"),
    # Google API keys are often public by design (browser and Firebase keys, restricted by
    # referrer): reported when the line names them as a key or credential.
    _d("gcp-api-key", "Google API key", LB + rb"(?P<s>AIza[" + B64U + rb"]{35})" + RB, strip_prefix=4,
       checks=(_tail_entropy(4, 3.5), _line_has(b"key", b"token", b"secret", b"credential", b"auth"))),
    _d("gcp-service-account", "Google service account key (JSON)",
       rb"\"type\"\s*:\s*\"service_account\"", placeholder=False,
       checks=(lambda v, m, d: b"\"private_key\"" in d and b"PRIVATE KEY" in d,)),
    _d("azure-storage-key", "Azure storage account key",
       rb"(?i)(?:AccountKey|SharedAccessKey)\s*=\s*(?P<s>[A-Za-z0-9+/]{40,90}={0,2})", min_entropy=3.5),
    _d("azure-sas-signature", "Azure SAS token signature",
       rb"(?:^|[?&\s\"'])sv=20\d\d-\d\d-\d\d&[^\s\"']{0,300}?sig=(?P<s>[A-Za-z0-9%+/]{30,}(?:=|%3[Dd]){0,2})", min_entropy=3.5),
    _d("azure-ad-client-secret", "Azure AD / Entra client secret",
       LB + rb"(?P<s>[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})" + rb"(?:[^A-Za-z0-9_~.\-]|$)", min_entropy=3.5),
    _d("azure-app-config", "Azure App Configuration connection string",
       rb"Endpoint=https://[a-z0-9\-]+\.azconfig\.io;Id=[^;\s]{2,};Secret=(?P<s>[A-Za-z0-9+/=]{20,})"),
    _d("azure-ai-services-key", "Azure AI services key", LB + rb"(?P<s>[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{3}AC[A-Za-z0-9]{20,30})" + RB),
    _d("alibaba-access-key-id", "Alibaba Cloud AccessKey id", LB + rb"(?P<s>LTAI[A-Za-z0-9]{12,20})" + RB, min_entropy=3.2),
    _d("digitalocean-token", "DigitalOcean token", LB + rb"(?P<s>do[opr]_v1_[a-f0-9]{64})" + RB),
    _d("heroku-api-key-v2", "Heroku API key", LB + rb"(?P<s>HRKU-AA[0-9A-Za-z_\-]{58})" + RB),
    _d("flyio-token", "Fly.io token",
       LB + rb"(?P<s>(?:FlyV1 )?fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}|fo1_[A-Za-z0-9_\-]{43})"),
    _d("vault-token", "HashiCorp Vault token",
       LB + rb"(?P<s>hv[sbr]\.[A-Za-z0-9_\-]{24,})" + RB, min_entropy=3.5, strip_prefix=4),
    _d("terraform-cloud-token", "Terraform Cloud / HCP token", LB + rb"(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})" + RB),
    _d("doppler-token", "Doppler token", LB + rb"(?P<s>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})" + RB),
    _d("databricks-token", "Databricks token", LB + rb"(?P<s>dapi[a-f0-9]{32}(?:-\d)?)" + RB),
    _d("dynatrace-token", "Dynatrace token", LB + rb"(?P<s>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + RB),
    _d("pulumi-token", "Pulumi access token", LB + rb"(?P<s>pul-[a-f0-9]{40})" + RB),
    _d("planetscale-token", "PlanetScale token/password",
       LB + rb"(?P<s>pscale_(?:tkn|oauth|pw)_[A-Za-z0-9=._\-]{32,64})" + RB, strip_prefix=10, checks=(_tail_entropy(11, 3.2),)),
    _d("scalingo-token", "Scalingo API token", LB + rb"(?P<s>tk-us-[A-Za-z0-9_\-]{48})" + RB),
    _d("clickhouse-cloud-key", "ClickHouse Cloud secret key", LB + rb"(?P<s>4b1d[A-Za-z0-9]{38})" + RB),
    _d("defined-networking-token", "Defined Networking API token", LB + rb"(?P<s>dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52})" + RB),
    _d("harness-token", "Harness API key", LB + rb"(?P<s>(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[a-z0-9]{24}\.[A-Za-z0-9]{20})" + RB),
    _d("settlemint-token", "SettleMint token", LB + rb"(?P<s>sm_(?:aat|pat|sat)_[A-Za-z0-9]{16})" + RB, checks=(_tail_entropy(7, 3.0),)),
    _d("onepassword-service-account", "1Password service account token", LB + rb"(?P<s>ops_eyJ[A-Za-z0-9+/=_\-]{100,})"),
    _d("age-secret-key", "age secret key", rb"(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"),
    # --- source hosting and package registries
    _d("github-token", "GitHub token", rb"(?P<s>gh[pousr]_[A-Za-z0-9]{36,255})" + RB, strip_prefix=4,
       checks=(_tail_entropy(4, 3.3),)),
    _d("github-fine-grained-pat", "GitHub fine-grained PAT", rb"(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})", strip_prefix=11),
    _d("gitlab-token", "GitLab token",
       rb"(?P<s>(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat|gloas|glffct|glwt)-[A-Za-z0-9_\-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,9})?)" + RB,
       checks=(lambda v, m, d: entropy(v.split(b"-", 1)[1]) >= 3.0,)),
    _d("gitlab-runner-registration", "GitLab runner registration token", LB + rb"(?P<s>GR1348941[A-Za-z0-9_\-]{20})" + RB),
    _d("gitlab-session-cookie", "GitLab session cookie", rb"_gitlab_session=(?P<s>[0-9a-z]{32})"),
    _d("atlassian-api-token", "Atlassian API token", LB + rb"(?P<s>ATATT3[A-Za-z0-9_\-=]{180,})"),
    _d("npm-token", "npm access token", LB + rb"(?P<s>npm_[A-Za-z0-9]{36})" + RB, strip_prefix=4, checks=(_tail_entropy(4, 3.3),)),
    _d("npmrc-auth", "npm registry auth in .npmrc", rb":_(?:authToken|auth|password)\s*=\s*(?P<s>[^\s$\"'{][^\s\"']{7,})",
       checks=(lambda v, m, d: random_looking(v, min_len=8),)),
    _d("pypi-token", "PyPI upload token", LB + rb"(?P<s>pypi-AgE[A-Za-z0-9_\-]{50,})"),
    _d("rubygems-token", "RubyGems API key", LB + rb"(?P<s>rubygems_[a-f0-9]{48})" + RB),
    _d("clojars-token", "Clojars deploy token", rb"(?i)(?P<s>CLOJARS_[a-z0-9]{60})" + RB),
    _d("nuget-config-password", "password in a NuGet config",
       rb"(?i)<add\s+key=\"ClearTextPassword\"\s+value=\"(?P<s>[^\"]{4,})\"", checks=(lambda v, m, d: not v.startswith((b"%", b"$")),)),
    _d("docker-hub-token", "Docker Hub access token", LB + rb"(?P<s>dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,})" + RB),
    _d("docker-config-auth", "registry credentials in a docker config",
       rb"\"auth\"\s*:\s*\"(?P<s>[A-Za-z0-9+/]{8,}={0,2})\"", checks=(_docker_auth,), placeholder=False),
    _d("sonar-token", "SonarQube token", LB + rb"(?P<s>sq[pua]_[a-f0-9]{40})" + RB),
    _d("sourcegraph-token", "Sourcegraph access token", LB + rb"(?P<s>sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})" + RB),
    _d("jfrog-token", "JFrog token", LB + rb"(?P<s>AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{40,})" + RB),
    _d("prefect-token", "Prefect API key", LB + rb"(?P<s>pnu_[A-Za-z0-9]{36})" + RB),
    _d("readme-token", "ReadMe API key", LB + rb"(?P<s>rdme_[a-z0-9]{70})" + RB),
    _d("postman-token", "Postman API key", LB + rb"(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})" + RB),
    _d("linear-api-key", "Linear API key", LB + rb"(?P<s>lin_api_[A-Za-z0-9]{40})" + RB),
    _d("typeform-token", "Typeform token", LB + rb"(?P<s>tfp_[A-Za-z0-9_\-.=]{59})" + RB),
    _d("frameio-token", "Frame.io token", LB + rb"(?P<s>fio-u-[A-Za-z0-9_\-=]{64})" + RB),
    _d("infracost-token", "Infracost API key", LB + rb"(?P<s>ico-[A-Za-z0-9]{32})" + RB),
    _d("sentry-token", "Sentry token",
       LB + rb"(?P<s>sntryu_[a-f0-9]{64}|sntrys_eyJpYXQiO[A-Za-z0-9+/=_\-]{60,})"),
    _d("codecov-token", "Codecov token (named)",
       rb"(?i)codecov" + KEYCHARS + rb"*[\"']?\s*(?:[:=]|=>)\s*[\"']?(?P<s>[a-f0-9\-]{32,36})(?:[^a-f0-9\-]|$)",
       checks=(lambda v, m, d: entropy(v) >= 3.0,)),
    # --- chat, mail, payment
    _d("slack-token", "Slack token",
       rb"(?P<s>xox[abposrc]-(?:\d+-){1,4}[A-Za-z0-9]{8,}|xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,}|xoxe-\d-[A-Za-z0-9]{100,}|xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,})" + RB,
       checks=(_slack_secret_part,), placeholder=False),
    _d("slack-webhook", "Slack webhook URL",
       rb"(?P<s>hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,})"),
    _d("discord-bot-token", "Discord bot token",
       LB + rb"(?P<s>[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})" + RB, min_entropy=4.0),
    _d("discord-webhook", "Discord webhook URL", rb"(?P<s>discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{60,})"),
    _d("telegram-bot-token", "Telegram bot token", rb"(?:^|[^0-9])(?P<s>\d{8,10}:A[A-Za-z0-9_\-]{34})" + RB,
       checks=(lambda v, m, d: random_looking(v.split(b":", 1)[1], min_len=20),)),
    _d("stripe-key", "Stripe key", LB + rb"(?P<s>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247})" + RB, strip_prefix=8,
       checks=(_tail_entropy(8, 3.0),)),
    _d("stripe-publishable-key", "Stripe publishable key", LB + rb"(?P<s>pk_live_[A-Za-z0-9]{24,247})" + RB),
    _d("square-token", "Square token", LB + rb"(?P<s>(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}|sq0csp-[A-Za-z0-9_\-^]{43})" + RB,
       checks=(_tail_entropy(6, 3.5),)),
    _d("shopify-token", "Shopify token", LB + rb"(?P<s>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + RB),
    _d("sendgrid-key", "SendGrid API key", LB + rb"(?P<s>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + RB),
    _d("brevo-key", "Brevo (Sendinblue) API key", LB + rb"(?P<s>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})" + RB),
    _d("mailgun-key", "Mailgun key", LB + rb"(?P<s>(?:key|pubkey)-[a-f0-9]{32})" + RB, checks=(lambda v, m, d: entropy(v) >= 3.2,)),
    _d("mailchimp-key", "Mailchimp API key", LB + rb"(?P<s>[a-f0-9]{32}-us\d{1,2})" + RB, min_entropy=3.2),
    _d("twilio-api-key", "Twilio API key SID", LB + rb"(?P<s>SK[a-f0-9]{32})" + RB, min_entropy=3.2),
    _d("messagebird-key", "MessageBird key (named)",
       rb"(?i)(?:messagebird|message[_\-]bird)" + KEYCHARS + rb"*[\"']?\s*(?:[:=]|=>|,)\s*[\"']?(?P<s>[A-Za-z0-9]{25})(?:[^A-Za-z0-9]|$)",
       checks=(lambda v, m, d: random_looking(v),)),
    _d("flutterwave-key", "Flutterwave key", LB + rb"(?P<s>FLW(?:PUBK|SECK)_TEST-?[a-hA-H0-9]{12,32}(?:-X)?)" + RB),
    _d("easypost-key", "EasyPost API key", LB + rb"(?P<s>EZ[AT]K[A-Za-z0-9]{54})" + RB),
    _d("duffel-token", "Duffel API token", LB + rb"(?P<s>duffel_(?:test|live)_[A-Za-z0-9_\-=]{43})" + RB),
    _d("shippo-token", "Shippo API token", LB + rb"(?P<s>shippo_(?:live|test)_[a-fA-F0-9]{40})" + RB),
    _d("gocardless-token", "GoCardless token", LB + rb"(?P<s>live_[A-Za-z0-9_\-=]{40})" + RB,
       checks=(_line_has(b"gocardless"),)),
    _d("lob-key", "Lob API key", LB + rb"(?P<s>(?:live|test)_(?:pub_)?[a-f0-9]{31,35})" + RB,
       checks=(_line_has(b"lob"),)),
    _d("plaid-token", "Plaid access token",
       LB + rb"(?P<s>access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})" + RB),
    # --- AI and SaaS APIs
    _d("openai-key", "OpenAI API key",
       LB + rb"(?P<s>sk-(?:(?:proj|svcacct|admin|service-[A-Za-z0-9_\-]+)-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,})" + RB),
    _d("openai-realtime-secret", "OpenAI realtime client secret", LB + rb"(?P<s>ek_[a-f0-9]{32})" + RB),
    _d("anthropic-key", "Anthropic API key", LB + rb"(?P<s>sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,})" + RB),
    _d("huggingface-token", "Hugging Face token", LB + rb"(?P<s>(?:hf|api_org)_[A-Za-z]{34})" + RB, strip_prefix=3,
       checks=(_tail_entropy(3, 3.5),)),
    _d("grafana-token", "Grafana token",
       LB + rb"(?P<s>eyJrIjoi[A-Za-z0-9+/=]{60,}|glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})" + RB),
    _d("new-relic-key", "New Relic key", LB + rb"(?P<s>NR(?:AK|II|AA|JS|RA)-[A-Za-z0-9]{19,32})" + RB,
       checks=(lambda v, m, d: entropy(v[5:]) >= 3.0,)),
    _d("mapbox-token", "Mapbox token", LB + rb"(?P<s>[ps]k\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,})" + RB),
    _d("twitter-bearer", "Twitter bearer token", rb"(?:^|[^A-Za-z0-9+/])(?P<s>A{22}[A-Za-z0-9%]{80,})", strip_prefix=22,
       checks=(_tail_entropy(22, 3.5),)),
    _d("facebook-token", "Facebook access token", LB + rb"(?P<s>EAA[A-Za-z0-9]{100,})" + RB, checks=(_tail_entropy(3, 4.0),)),
    _d("okta-token", "Okta API token (named)",
       rb"(?i)okta" + KEYCHARS + rb"*[\"']?\s*(?:[:=]|=>|,)\s*[\"']?(?P<s>00[A-Za-z0-9_\-=]{40})",
       checks=(lambda v, m, d: entropy(v) >= 3.5,)),
    _d("airtable-token", "Airtable token", LB + rb"(?P<s>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})" + RB),
    _d("adafruit-key", "Adafruit IO key", LB + rb"(?P<s>aio_[A-Za-z0-9]{28})" + RB, checks=(_tail_entropy(4, 3.3),)),
    _d("maxmind-key", "MaxMind license key", LB + rb"(?P<s>[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)" + RB),
    _d("authress-key", "Authress service client key",
       LB + rb"(?P<s>(?:sc|ext|scauth|authress)_[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_\-][a-z0-9\-]{10,32}\.[A-Za-z0-9+/_=\-]{30,120})" + RB),
    _d("beamer-token", "Beamer API key", LB + rb"(?P<s>b_[A-Za-z0-9=_\-]{44})" + RB, checks=(lambda v, m, d: random_looking(v[2:]),)),
    _d("sidekiq-credentials", "Sidekiq Pro/Enterprise credentials",
       rb"(?i)BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM\s*[\"']?\s*(?:[:=]|=>)?\s*[\"']?(?P<s>[a-f0-9]{8}:[a-f0-9]{8})"),
    _d("facebook-app-token", "Facebook app access token", LB + rb"(?P<s>\d{15,16}\|[A-Za-z0-9_\-]{27})" + RB,
       checks=(lambda v, m, d: random_looking(v.split(b"|", 1)[1]),)),
    _d("intra42-secret", "42 intra client secret", LB + rb"(?P<s>s-s4t2(?:ud|af)-[a-f0-9]{64})" + RB),
    _d("sidekiq-url", "Sidekiq gem server credentials in a URL",
       rb"(?i)https?://(?P<s>[a-f0-9]{8}:[a-f0-9]{8})@(?:gems|enterprise)\.contribsys\.com"),
    _d("symfony-default-secret", "Symfony's published default secret", rb"(?P<s>ThisTokenIsNotSoSecretChangeIt)",
       placeholder=False),
    # --- keys and structured credentials
    _d("private-key", "private key",
       rb"(?P<s>-----BEGIN[ A-Z0-9]{0,30} PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d: )",
       checks=(_pem_body,), placeholder=False),
    _d("jwt", "JSON Web Token",
       LB + rb"(?P<s>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})" + rb"(?:[^A-Za-z0-9_\-.]|$)",
       checks=(_jwt_ok,), placeholder=False),
    _d("url-credentials", "password in a URL",
       rb"(?i)\b[a-z][a-z0-9+.\-]{1,15}://(?P<u>[^\s:/@\"'<>()\[\]{}]{1,64}):(?P<s>[^\s:/@\"'<>()\[\]{}]{1,128})@(?P<h>[a-z0-9.\-_]+)",
       checks=(_url_password,), placeholder=False),
    _d("curl-user", "credentials on a curl command line",
       rb"(?i)\bcurl\b[^\n]{0,200}?\s(?:-u|--user)(?:\s+|=)?[\"']?(?P<u>[^\s:\"'$]{0,64}):[\"']?(?P<s>[^\s\"']{3,128})",
       checks=(_curl_password,), placeholder=False),
    _d("basic-auth-header", "HTTP Basic credentials",
       rb"(?i)authorization[\"']?\s*[:=,]\s*[\"']?basic\s+(?P<s>[A-Za-z0-9+/]{8,}={0,2})", checks=(_docker_auth,), placeholder=False),
    _d("bearer-token", "HTTP bearer token",
       rb"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/\-]{16,}=*)", checks=(_bearer_value,), generic=True),
    _d("maven-password", "password in Maven settings",
       rb"<(?P<k>password|passphrase)>\s*(?P<s>[^<\s$][^<]{2,}?)\s*</(?:password|passphrase)>",
       checks=(lambda v, m, d: b"<settings" in d[:65536] and not v.startswith((b"{", b"${")),), placeholder=True),
    _d("k8s-secret-data", "Kubernetes Secret data value",
       rb"(?m)^[ \t]{1,8}(?P<k>[A-Za-z0-9_.\-]{1,80}):(?:[ \t]+[|>][-+]?[ \t]*\n[ \t]+|[ \t]+)[\"']?(?P<s>[A-Za-z0-9+/]{12,}={0,2})[\"']?[ \t]*$",
       checks=(_is_k8s_secret, _k8s_value), placeholder=False),
    _d("env-instruction", "secret in an ENV/ARG line",
       rb"(?i)\b(?:ENV|ARG)\s+(?P<k>" + KEYCHARS + rb"*(?:" + SECRET_KEY_WORDS + rb")" + KEYCHARS + rb"*)\s+[\"']?(?P<s>"
       + VALUE + rb"+)",
       checks=(_generic_value,), generic=True, min_len=GENERIC_MIN_LEN),
    # --- generic: a name that says secret, assigned a random-looking value
    _d("generic-assignment", "secret-named value",
       rb"(?i)(?P<k>" + KEYCHARS + rb"*(?:" + SECRET_KEY_WORDS + rb")" + KEYCHARS + rb"*)"
       rb"[\"'`]?\]?" + STRTYPE + rb"[ \t]{0,4}(?P<op>[:?.|+]{0,3}=|=>|:|,|->|<-)[ \t]{0,4}(?P<q>[\"'`]|[a-z]{0,8}\(\"?|)"
       rb"(?P<s>" + VALUE + rb"+)",
       checks=(_generic_value,), generic=True, min_len=GENERIC_MIN_LEN),
    _d("generic-xml", "secret-named XML element",
       rb"(?i)<(?P<k>" + KEYCHARS + rb"*(?:" + SECRET_KEY_WORDS + rb")" + KEYCHARS + rb"*)>\s*(?P<s>[^<\s]{8,256})\s*</",
       checks=(_generic_value,), generic=True, min_len=GENERIC_MIN_LEN),
    _d("generic-cli-flag", "secret passed as a command-line flag",
       rb"(?i)\s--?(?P<k>(?:api-?)?(?:token|password|passwd|secret|api-?key|auth-?token|access-?key))(?:=|\s+)[\"']?(?P<s>" + VALUE + rb"+)",
       checks=(_generic_value,), generic=True, min_len=GENERIC_MIN_LEN),
)

GENERIC_IDS = frozenset(d.id for d in DETECTORS if d.generic)
BY_ID = {d.id: d for d in DETECTORS}
