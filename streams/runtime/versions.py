"""The versions of the libraries whose private attributes streams.runtime relies on.

streams.runtime was verified against exactly these (requirements.lock pins them; the contract
tests, tests/unit/test_runtime_contract.py, check every private attribute it uses). Another
version may have moved or reshaped them, and what breaks then is silent (a lost offset, a
stalled partition), so the app refuses to start with one line instead. To upgrade one: change
its pin (tools/lock.sh --upgrade-package NAME), run the contract tests and the suite, and
update `VERIFIED`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

VERIFIED: dict[str, str] = {
    "faust-streaming": "0.15.3",
    "aiokafka": "0.14.0",
    "rocksdict": "0.3.29",
    "asyncpraw": "8.0.3",
    "asyncprawcore": "4.0.0",
}


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def mismatches(installed: Callable[[str], str | None] = _installed) -> list[str]:
    """One phrase per library whose installed version is not the verified one."""
    out = []
    for name, verified in VERIFIED.items():
        version = installed(name)
        if version != verified:
            out.append(
                f"{name} {version or '(not installed)'} is installed, streams.runtime is verified with {verified} only"
            )
    return out


def require_verified(installed: Callable[[str], str | None] = _installed) -> None:
    """Exit with status 2 and one line when a library is not at its verified version."""
    problems = mismatches(installed)
    if problems:
        import sys

        print(f"redditstream: {'; '.join(problems)} (install requirements.lock: make install)", file=sys.stderr)
        raise SystemExit(2)
