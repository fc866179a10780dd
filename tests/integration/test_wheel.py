"""The wheel, installed anywhere: built from the source files alone, installed into a fresh
virtualenv in a temporary folder (the runtime lock, then the wheel, with no index: the wheel's
requirements must be met by requirements.lock), it migrates a new database with
`redditstream migrate` and runs a worker (`redditstream worker`) that serves the dashboard page,
its script and uPlot, all from the installed package, the working directory outside the repo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import harness

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "streams", "agents", "tables", "web", "migrations")


def run(*args: str | Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False, **kw)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """{"wheel": the built wheel, "venv": a fresh virtualenv with it installed}."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:  # what the Dockerfile's build stage has: no build/, node_modules or caches
        path = harness.ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    t0 = time.monotonic()
    # the locked setuptools (requirements-test.lock) builds it: no build isolation, no index
    run(harness.BIN / "python", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", tmp / "dist", src)  # fmt: skip
    (wheel,) = (tmp / "dist").glob("redditstream-*.whl")
    built = time.monotonic()
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip = (venv / "bin/python", "-m", "pip", "--disable-pip-version-check", "install", "-q")
    run(*pip, "--require-hashes", "--no-deps", "-r", harness.ROOT / "requirements.lock")
    run(*pip, "--no-index", wheel)
    print(f"wheel {wheel.name}: {wheel.stat().st_size} bytes, built in {built - t0:.1f} s, "
          f"installed in {time.monotonic() - built:.1f} s")  # fmt: skip
    return {"wheel": wheel, "venv": venv}


def test_the_installed_project_runs_from_site_packages(installed, tmp_path):
    venv = installed["venv"]
    proc = run(venv / "bin/python", "-c", "import streams, web, migrations; print(web.__file__, migrations.__file__)",
               cwd=tmp_path)  # fmt: skip
    for path in proc.stdout.split():
        assert Path(path).is_relative_to(venv), f"imported from {path}, not the venv"
    for argv in ((venv / "bin/redditstream", "--help"), (venv / "bin/python", "-m", "streams", "--help")):
        listing = run(*argv, cwd=tmp_path).stdout.split("Commands:", 1)[1]
        for command in ("worker", "migrate", "ingest", "simulate", "backfill"):
            assert f"\n  {command} " in listing, (argv, listing)


@pytest.mark.parametrize("entry", [("bin/redditstream",), ("bin/python", "-m", "streams")], ids=["script", "module"])
def test_a_worker_from_the_wheel_migrates_and_serves_the_dashboard(entry, installed, worker_env, stack, tmp_path):
    venv = installed["venv"]
    command = (str(venv / entry[0]), *entry[1:])  # `redditstream …` or `python -m streams …`
    database = harness.create_database(stack["DATABASE_URL"], harness.unique("t_wheel_"), migrate=False)
    run_dir = tmp_path / "run"  # no .env here: the settings are the environment's
    run_dir.mkdir()
    env = {**worker_env, "DATABASE_URL": database}
    try:
        run(*command, "migrate", env=env, cwd=run_dir, timeout=120)
        heads = sorted(p.name.split("_", 1)[0] for p in (harness.ROOT / "migrations/versions").glob("0*.py"))
        assert harness.query(database, "SELECT version_num FROM alembic_version") == [(heads[-1],)]

        w = harness.Worker(env=env, name="wheel", workdir=run_dir, argv=(*command, "worker", "-l", "info"))
        try:
            w.start(wait_ready=True, timeout=120)
            status, headers, page = w.request("/")
            assert status == 200 and headers["Content-Type"].startswith("text/html"), (status, headers)
            for asset, source in (
                ("/static/dashboard.js", "web/static/dashboard.js"),
                ("/vendor/uPlot.iife.min.js", "web/vendor/uPlot.iife.min.js"),
                ("/vendor/uPlot.min.css", "web/vendor/uPlot.min.css"),
            ):
                assert f'"{asset}"'.encode() in page, f"the page does not load {asset}"
                status, headers, body = w.request(asset)
                assert status == 200, (asset, status, body[:200])
                assert body == (harness.ROOT / source).read_bytes(), asset
            assert w.stop(), f"the worker did not stop by itself:\n{w.tail()}"
        finally:
            w.kill()
    finally:
        harness.drop_database(database)
