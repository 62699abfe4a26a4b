"""The detector's plugin table: which detect-secrets plugins run, the RE2 prefilter token that finds
every line each could report on, and the gate that decides whether it runs on a line.

Plain data, so that naming a cached result (:func:`detector_version`) loads no detector.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

# Byte-level pieces for the RE2 tokens, which run in Latin-1 mode on raw bytes:
# a non-ASCII UTF-8 character is 2-4 bytes >= 0x80, so Python's Unicode \w and \s
# are covered by adding \x80-\xff. Bounded repeats ({0,20}) are widened to "*":
# counters multiply RE2's DFA states, and a wider token is still a superset.
_W = r"[0-9A-Za-z_\x80-\xff]*"
_SP = r"[\t-\r\x1c-\x1f \x80-\xff]*"
_STEMS = r"(?:api|auth|service|account|db|database|priv|private|client)_?key|pass|pwd|secret|contrase"
# What KeywordDetector's regexes need after "<stem>\w*": a closing quote/bracket and
# an operator (: := = == != => and, for C/C++, "[n] =" and "(" / ".assign("), a quoted
# value followed by ";" — or, in the comparison form, "== <name>" with the stem after.
KEYWORD = (
    rf"(?i:(?:{_STEMS}){_W}(?:[\]'\"]*{_SP}[:=!]|\[[0-9]*\]{_SP}[!=]|[^\n]*assign\(|\("
    rf"|[^\t-\r ]*{_SP}['\"`][^\n]*;)|[!=][!=]{_SP}{_W}(?:{_STEMS}))"
)

# (detect-secrets module, class, RE2 token, gate). The RE2 token must match on
# every line where the plugin could report something: the plugin's own pattern
# where that is plain ASCII classes and literals, else a literal or shape the
# pattern requires. The gate (Python re on the decoded candidate line; "i:" on the
# lower-cased line, a cheaper superset of (?i)) decides whether the plugin runs
# on it; a gate with a count also needs a quoted run with
# that many distinct characters (Shannon entropy <= log2 of the distinct count,
# so > 4.5 needs 23 and > 3.0 needs 9).
_B64_RUN = r"""(?<=['"])[A-Za-z0-9+/\\_=-]{23,}(?=['"])"""
_HEX_RUN = r"""(?<=['"])[0-9a-fA-F]{9,}(?=['"])"""
# Runs that could pass either count: base64 runs of 23+, or hex runs of 9+ that are
# the whole run. No closing quote is consumed: it may open the next run.
QUOTED_RUN = rb"""['"](?:[A-Za-z0-9+/\\_=-]{23,}|[0-9a-fA-F]{9,}(?![A-Za-z0-9+/\\_=-]))"""
HEX_BYTES = frozenset(b"0123456789abcdefABCDEF")
PLUGINS: tuple[tuple[str, str, str, str | tuple[str, int]], ...] = (
    ("aws", "AWSKeyDetector",
     r"A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA|(?i:aws[^\n]*(?:key|pwd|pw|pass|token)[^\n]*['\"][0-9a-z/+]{40}['\"])",
     "i:a3t[a-z0-9]|abia|acca|akia|asia|aws"),
    ("azure_storage_key", "AzureStorageKeyDetector", r"AccountKey=", r"AccountKey="),
    ("basic_auth", "BasicAuthDetector", r"://[^:/?#\[\]@!$&'()*+,;=\s]+:[^:/?#\[\]@!$&'()*+,;=\s]+@", r"://"),
    ("github_token", "GitHubTokenDetector", r"gh[pousr]_", r"gh[pousr]_"),
    ("gitlab_token", "GitLabTokenDetector", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941", r"gl[a-z]+-|GR1348941"),
    ("jwt", "JwtTokenDetector", r"eyJ", r"eyJ"),
    ("mailchimp", "MailchimpDetector", r"-us[0-9]", r"-us[0-9]"),
    ("npm", "NpmDetector", r":_authToken=", r":_authToken="),
    ("openai", "OpenAIDetector", r"T3BlbkFJ", r"T3BlbkFJ"),
    ("private_key", "PrivateKeyDetector", r"PRIVATE KEY|PuTTY-User-Key-File-2", r"PRIVATE KEY|PuTTY-User-Key-File-2"),
    ("pypi_token", "PypiTokenDetector", r"pypi-AgE", r"pypi-AgE"),
    ("sendgrid", "SendGridDetector", r"SG\.", r"SG\."),
    ("slack", "SlackDetector", r"(?i:xox[abposr]-|hooks\.slack\.com)", r"i:xox[abposr]-|hooks\.slack\.com"),
    ("square_oauth", "SquareOAuthDetector", r"sq0csp-", r"sq0csp-"),
    ("stripe", "StripeDetector", r"[rs]k_live_", r"[rs]k_live_"),
    ("twilio", "TwilioKeyDetector", r"(?:AC|SK)[a-z0-9]{32}", r"AC|SK"),
    # generic detectors last: a specific detector's report of the same value wins
    ("keyword", "KeywordDetector", KEYWORD, f"i:{_STEMS}"),
    # both take their lines from a second pass over quoted runs (QUOTED_RUN), checked for the counts
    ("high_entropy_strings", "Base64HighEntropyString", "", (_B64_RUN, 23)),
    ("high_entropy_strings", "HexHighEntropyString", "", (_HEX_RUN, 9)),
)
SPECIFIC = len(PLUGINS) - 3  # the vendor plugins, checked together first


@lru_cache(maxsize=1)
def detector_version() -> str:
    """Names what a cached result depends on: detect-secrets' version and our plugin table."""
    from lintimg.distributions import version

    return hashlib.sha256(json.dumps([version("detect-secrets"), PLUGINS]).encode()).hexdigest()[:16]
