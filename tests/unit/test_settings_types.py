"""mypy checks the settings' types: a read as the wrong type is an error, as `make lint` reports it.

The probe is written where mypy sees it as project code (`make lint`'s configuration, pyproject.toml),
and checked with the settings both as a fresh model and as the app's `streams.app.settings`."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.harness import ROOT

PROBE = """
from streams.app import settings
from streams.settings import Settings

ok_int: int = settings.topic_partitions
ok_float: float = Settings().trending.threshold
ok_url: str = settings.database_url.get_secret_value()
ok_tiers: tuple[tuple[float, float], ...] = settings.refresh_tiers

bad_int: str = settings.topic_partitions  # line 10
bad_secret: str = settings.admin_token  # line 11
bad_group: int = Settings().trending.threshold  # line 12
bad_name = settings.topic_partitionz  # line 13
"""


def test_a_setting_read_as_the_wrong_type_fails_mypy(tmp_path):
    probe = tmp_path / "settings_probe.py"
    probe.write_text(PROBE)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(probe)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = {int(n): msg for n, msg in re.findall(r"settings_probe\.py:(\d+): error: (.*)", proc.stdout)}
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert sorted(errors) == [10, 11, 12, 13], proc.stdout
    assert 'expression has type "int", variable has type "str"' in errors[10]
    assert 'expression has type "SecretStr", variable has type "str"' in errors[11]
    assert 'expression has type "float", variable has type "int"' in errors[12]
    assert 'has no attribute "topic_partitionz"' in errors[13]
