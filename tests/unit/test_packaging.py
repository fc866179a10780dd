"""What the wheel is built from and installed with: exact pins where the start-up guard demands
them, the test lock agreeing with the runtime lock, the vendored uPlot being the one npm installs,
and `redditstream migrate` finding the migrations that alembic.ini names.

tests/integration/test_wheel.py builds the wheel and runs a worker from it."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from streams.runtime.versions import VERIFIED
from tests.harness import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def lock_pins(name: str) -> dict[str, str]:
    """{package: version} of a pip-compile lock; every pin carries hashes."""
    text = (ROOT / name).read_text()
    assert "pip-compile" in text and "--generate-hashes" in text, name
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{name}: {m.group(1)} has no hash"
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_the_guarded_libraries_are_pinned_exactly_at_the_verified_versions():
    reqs = {canonicalize_name(r.name): r for r in map(Requirement, PYPROJECT["project"]["dependencies"])}
    for name, version in VERIFIED.items():
        req = reqs.get(canonicalize_name(name))
        assert req is not None, f"{name} is guarded (streams/runtime/versions.py) but not a direct dependency"
        assert str(req.specifier) == f"=={version}", (
            f"{name}: pyproject allows {req.specifier}, the guard only {version}"
        )


def test_the_test_lock_is_the_runtime_lock_plus_the_test_extra():
    runtime, test = lock_pins("requirements.lock"), lock_pins("requirements-test.lock")
    assert "--extra=test" in (ROOT / "requirements-test.lock").read_text()
    differ = {n: (v, test.get(n)) for n, v in runtime.items() if test.get(n) != v}
    assert not differ, f"requirements-test.lock moves runtime pins (tools/lock.sh): {differ}"
    for spec in PYPROJECT["project"]["optional-dependencies"]["test"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in test, f"{req.name} (test extra) is not in requirements-test.lock: run tools/lock.sh"
        assert req.specifier.contains(test[name], prereleases=True), f"{name}=={test[name]} does not satisfy {spec}"


def test_make_install_installs_the_test_lock_with_hashes():
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and "requirements-test.lock" in recipe.group(0).splitlines()[0]
    lines = recipe.group(1).splitlines()
    assert any("--require-hashes -r requirements-test.lock" in line for line in lines), lines
    assert any("--no-deps" in line and "-e ." in line for line in lines), "the project alone, its deps from the lock"


def test_the_vendored_uplot_is_the_locked_npm_package():
    """web/vendor/ is what `npm ci` installs from tools/dashboard/package-lock.json (which checks
    the package's integrity hash): same version, same bytes (`make vendor` copies it)."""
    import json

    lock = json.loads((ROOT / "tools/dashboard/package-lock.json").read_text())
    version = lock["packages"]["node_modules/uplot"]["version"]
    vendor = ROOT / "web/vendor"
    script = (vendor / "uPlot.iife.min.js").read_text()
    assert script.startswith(f"/*! https://github.com/leeoniya/uPlot (v{version}) */"), script[:80]
    installed = ROOT / "tools/dashboard/node_modules/uplot"
    assert json.loads((installed / "package.json").read_text())["version"] == version, "run `make install`"
    for name in ("uPlot.iife.min.js", "uPlot.min.css"):
        assert (vendor / name).read_bytes() == (installed / "dist" / name).read_bytes(), f"{name}: run `make vendor`"
    assert (vendor / "uPlot.LICENSE").read_bytes() == (installed / "LICENSE").read_bytes()


def test_the_wheel_carries_the_dashboard_files_and_the_migrations():
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert "migrations*" in setuptools["packages"]["find"]["include"]
    data = setuptools["package-data"]
    assert {"static/*", "vendor/*"} <= set(data["web"]) and "script.py.mako" in data["migrations"]
    assert PYPROJECT["project"]["scripts"]["redditstream"] == "streams.__main__:main"


def test_migrate_uses_the_folder_alembic_ini_names():
    from streams.migrate import script_location

    ini = (ROOT / "alembic.ini").read_text()
    assert re.search(r"^script_location = %\(here\)s/migrations$", ini, re.MULTILINE)
    assert script_location() == (ROOT / "migrations").resolve()
    assert (script_location() / "env.py").is_file() and list((script_location() / "versions").glob("0001_*.py"))
