"""A bad setting stops start-up with one line naming it (no traceback)."""

from __future__ import annotations

import os

import pytest

from tests import harness


@pytest.mark.parametrize(
    "name,value",
    [
        ("TOPIC_PARTITIONS", "abc"),
        ("KAFKA_BROKER_URL", "nonsense"),
        ("VELOCITY_TTL_HOURS", "-3"),
        ("DATABASE_URL", "mysql://x/y"),
        ("TRENDING_WEIGHT_VELOCITY", "0.9"),  # a group's check across its fields
        ("SIMULATOR_SPEED", "fast"),  # a group's field
    ],
)
def test_bad_setting_exits_with_one_line(name, value, tmp_path):
    env = {**os.environ, name: value}
    proc = harness.faust("worker", env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert name in lines[0] and "Traceback" not in proc.stderr
