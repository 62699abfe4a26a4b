"""LI70x: runtime shape read from the Dockerfile."""
from tests.rulespec import catches, passes, stage_scope


def test_final_user_root():
    catches("LI701", "FROM a:1\nUSER root\n", line=2)
    catches("LI701", "FROM a:1\nUSER app\nUSER 0:0\n", line=3)
    catches("LI701", "FROM a:1 AS base\nUSER root\nFROM base\nRUN x\n", line=2)  # inherited by the final stage
    passes("LI701", "FROM a:1\nUSER root\nRUN apt-get update\nUSER 10001\n")
    passes("LI701", "FROM a:1 AS build\nUSER root\nFROM b:1\nUSER app\n")  # builder stage is discarded
    passes("LI701", "FROM a:1\nUSER rooter\n")


def test_missing_user():
    catches("LI702", "FROM a:1\nCOPY . /app\n", line=1)
    catches("LI702", "FROM a:1 AS build\nUSER app\nFROM b:1\n", line=3)
    passes("LI702", "FROM a:1 AS base\nUSER app\nFROM base\n")
    passes("LI702", "not a dockerfile\n")  # nothing missing without a stage


def test_user_not_numeric():
    catches("LI703", "FROM a:1\nUSER app\n", line=2)
    catches("LI703", "FROM a:1\nUSER 1000:staff\n")
    passes("LI703", "FROM a:1\nUSER 1000:1000\nUSER $APP_UID\n")


def test_copy_chown_flag():
    catches("LI704", "FROM a:1\nCOPY --chown=app:app . /app\n", line=2)
    catches("LI704", "FROM a:1\nADD --chown=1000 x.tar /app/\n")
    passes("LI704", "FROM a:1\nCOPY --chmod=0644 . /app\n")


def test_missing_healthcheck_is_on_and_looks_at_the_shipped_image():
    catches("LI705", "FROM a:1\nCMD [\"x\"]\n", line=1)
    catches("LI705", "FROM a:1 AS build\nHEALTHCHECK CMD [\"x\"]\nFROM b:1\n", line=3)
    passes("LI705", "FROM a:1 AS base\nHEALTHCHECK CMD [\"x\"]\nFROM base\n")
    passes("LI705", "FROM a:1\nHEALTHCHECK NONE\n")
    passes("LI705", "FROM a:1\n", config={"rules": {"missing-healthcheck": "off"}})


def test_expose_ssh_port():
    catches("LI706", "FROM a:1\nEXPOSE 8080 22/tcp\n", count=1, message="22/tcp")
    passes("LI706", "FROM a:1\nEXPOSE 2222 220\n")


def test_volume_sensitive_dir():
    catches("LI707", "FROM a:1\nVOLUME /dev\n")
    catches("LI707", 'FROM a:1\nVOLUME ["/data", "/proc/sys"]\n', count=1)
    passes("LI707", "FROM a:1\nVOLUME /data /devices\n")


def test_stage_scope():
    # a stage that is not shipped never runs as a container
    for rule_id, body in (("LI703", "USER app"), ("LI704", "COPY --chown=app:app . /app"), ("LI706", "EXPOSE 22"), ("LI707", "VOLUME /dev")):
        stage_scope(rule_id, body, shipped_only=True, onbuild=False)
