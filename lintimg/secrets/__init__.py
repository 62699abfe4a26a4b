"""Secret detection: names and redaction, detect-secrets behind a prefilter, the scanner and its cache.

- :mod:`.redact` — secret-looking names, ``redact``, ``fingerprint``, ``scrub``;
- :mod:`.detect` — the detector: an RE2 prefilter in front of detect-secrets' plugins;
- :mod:`.scanner` — ``SecretScanner``: the ``secrets:`` policy and a per-content cache;
- :mod:`.cache` — the scanner's disk cache.
"""
