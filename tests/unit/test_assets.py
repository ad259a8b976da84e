"""One asset step: `make assets` and the Dockerfile run the same script, and what it builds is
exactly what the pages load (no page asks for a file the image lacks, no font slice a stylesheet
names is missing)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "assets.sh"
TEMPLATES = ROOT / "service" / "pages" / "templates"


def declared_assets() -> set[str]:
    found = re.search(r'^ASSETS="([^"]+)"', SCRIPT.read_text(), re.M)
    assert found is not None
    return set(found.group(1).split())


def assets_the_pages_load() -> set[str]:
    loaded: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        loaded |= set(re.findall(r"filename='vendor/([^']+)'", template.read_text()))
    return loaded


def test_the_script_builds_what_the_pages_load() -> None:
    assert declared_assets() == assets_the_pages_load() != set()


def test_make_and_the_image_run_the_same_asset_step() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "bash scripts/assets.sh node_modules $(VENDOR)" in makefile
    assert (
        "COPY scripts/assets.sh" in dockerfile
        and "bash assets.sh node_modules vendor" in dockerfile
    )
    # and neither copies vendor files by a way of its own
    assert "echarts.min.js" not in makefile and "echarts.min.js" not in dockerfile
    assert "COPY --from=assets /build/vendor service/pages/static/vendor" in dockerfile


def test_the_built_assets_hold_every_file_their_stylesheets_name(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    subprocess.run(["bash", str(SCRIPT), str(ROOT / "node_modules"), str(vendor)], check=True)
    built = {str(p.relative_to(vendor)) for p in vendor.rglob("*") if p.is_file()}
    assert declared_assets() <= built
    named: set[str] = set()
    for css in ("noto-sans-sc/400.css", "noto-sans-sc/700.css"):
        text = (vendor / css).read_text()
        assert ".woff)" not in text  # the woff fallback cut: woff2 slices only
        named |= {
            f"noto-sans-sc/{url.removeprefix('./')}" for url in re.findall(r"url\(([^)]+)\)", text)
        }
    assert named and named <= built
    assert built == declared_assets() | named  # nothing the pages never ask for
