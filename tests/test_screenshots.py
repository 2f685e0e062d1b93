"""The README's pictures are made by ``scripts/screenshots`` from the sample history
and stay referenced; the script runs (headless Chromium) and writes both files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".." / "shared" / "samples" / "claude"
PICTURES = ["docs/report-daily.svg", "docs/report-html.png"]


def test_the_readme_shows_the_pictures_and_names_the_script() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "scripts/screenshots" in readme
    for picture in PICTURES:
        assert f"]({picture})" in readme
        assert (ROOT / picture).is_file()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs ../shared/samples/claude")
def test_the_script_renders_both_pictures(tmp_path: Path) -> None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("NETSKY_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is required (NETSKY_REQUIRE_CHROMIUM=1)")
        pytest.skip("chromium not installed")
    checkout = tmp_path / "netsky"
    checkout.mkdir()
    for name in ("scripts", ".venv"):
        (checkout / name).symlink_to(ROOT / name)
    subprocess.run(
        ["bash", str(checkout / "scripts" / "screenshots"), str(SAMPLES)],
        cwd=checkout,
        check=True,
        capture_output=True,
        timeout=300,
    )
    svg = (checkout / PICTURES[0]).read_text()
    assert svg.startswith("<svg") and "total" in svg
    png = (checkout / PICTURES[1]).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
