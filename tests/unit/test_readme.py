"""README.md is read at a glance: under 150 lines, its two commands, what you will see, how to
stop, the picture, and links that lead somewhere. The reference is in docs/ (the settings table
of docs/configuration.md is checked against the code by tests/unit/test_settings.py)."""

from __future__ import annotations

import re

from tests.harness import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text()


def test_the_readme_is_under_150_lines():
    lines = README.count("\n") + (not README.endswith("\n"))
    assert lines < 150, f"README.md has {lines} lines; the reference belongs in docs/"


def test_the_two_commands_and_how_to_stop_are_make_targets():
    for target in ("demo", "test", "down", "wheel", "clean"):
        assert f"make {target}" in README, target
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE), f"the Makefile has no `{target}` target"
    block = re.search(r"## The two commands\n.*?```sh\n(.*?)```", README, re.DOTALL)
    assert block and [line.split()[:2] for line in block.group(1).splitlines()] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    assert "Ctrl-C" in README.split("## How to stop", 1)[1]


def test_what_you_will_see_is_what_the_demo_prints():
    demo = (ROOT / "tools/demo.sh").read_text()
    said = re.search(r'^echo "(\[demo\] dashboard on .*)"$', demo, re.MULTILINE)
    assert said, "tools/demo.sh no longer prints where the dashboard is"
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", said.group(1))  # the defaults
    assert f"\n{line}\n" in README, f"README.md does not show what `make demo` prints: {line}"


def test_the_picture_is_there():
    assert "![" in README and "(docs/dashboard.png)" in README
    assert (ROOT / "docs/dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_relative_link_of_the_readme_and_docs_leads_to_a_file():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{doc.relative_to(ROOT)} links to {target}, which does not exist"


def test_the_readme_points_to_the_reference_in_docs():
    for doc in ("configuration", "api", "backfill", "pipeline", "deploy", "operations", "development"):
        assert f"(docs/{doc}.md)" in README, doc
    config = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    assert "| variable | default | meaning |" in config, "the generated settings table lives in docs/configuration.md"
