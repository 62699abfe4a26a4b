"""Secret detection: the engine and its detectors, the policy, and what reports may show.

- :mod:`.triggers` — each detector's trigger literals, and a pure-Python check that a text holds none;
- :mod:`.values`, :mod:`.formats` — judging values and key names; the detectors (published token formats);
- :mod:`.engine` — one RE2 set pass, then the detectors it points at (loaded only when there is something to scan);
- :mod:`.hit` — ``SecretHit``: what was found, redacted, with a fingerprint, never the value;
- :mod:`.scanner` — ``SecretScanner``: the ``secrets:`` policy and a per-content memo;
- :mod:`.spans` — ``secret_spans(text)``: where the secrets are in text that outputs echo (for redaction);
- :mod:`.redact` — secret-looking names, ``redact``, ``fingerprint``, ``scrub``;
- :mod:`.cache` — the detector version and results remembered on disk.
"""
