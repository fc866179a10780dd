"""The fault-injection suite (`make faults` runs all of it; `make test` the scenarios that fit CI).

Every test here carries the `faults` marker. The long scenarios also carry `long_fault`: they
are deselected (not skipped) unless the run selects the suite by marker (`-m faults`, as
`make faults` does), so `make test` stays within CI's time.
"""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    if "faults" in (config.option.markexpr or ""):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("long_fault") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
