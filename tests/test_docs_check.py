"""The static part of ``make docs-check`` (docs/_check_site.py) finds what it must.

Tiny sites in tmp_path; no Sphinx build and no browser.
"""

import importlib.util
import struct
import sys
import zlib
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "docs" / "_check_site.py"
_spec = importlib.util.spec_from_file_location("_check_site", _PATH)
check_site = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("_check_site", check_site)  # dataclasses look their module up
_spec.loader.exec_module(check_site)


def _png(width=2, height=3) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(
        b"IEND", b""
    )


def _html(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


@pytest.fixture
def site(tmp_path):
    """A good site: two pages linking to each other's anchors, an image, a stylesheet."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "style.css").write_text("body {}")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(_png())
    (tmp_path / "index.html").write_text(
        _html(
            '<link rel="stylesheet" href="_static/style.css">'
            '<h1 id="top">Top</h1><a href="#top">self</a>'
            '<a href="sub/page.html#part-two">page</a><a href="sub/">folder</a>'
            '<a href="https://example.org/x#y">external</a><a href="mailto:a@b.c">mail</a>'
            '<img src="images/a.png" alt="a"><img src="data:image/png;base64,AAAA">'
        )
    )
    page = '<section id="part-two"><a name="old"></a><a href="../index.html">up</a></section>'
    (tmp_path / "sub" / "page.html").write_text(_html(page))
    (tmp_path / "sub" / "index.html").write_text(_html('<a href="page.html#old">old</a>'))
    return tmp_path


def _problems(root):
    return check_site.SiteChecker(root).check().problems


def test_a_good_site_has_no_problems(site):
    report = check_site.SiteChecker(site).check()
    assert report.problems == []
    assert report.pages == 3
    assert report.images == 2
    # index: #top, sub/page.html#part-two, sub/ and the stylesheet; page: ../index.html;
    # sub/index: page.html#old (external links and mailto: are not counted)
    assert report.links == 6


def test_a_link_to_a_missing_page_is_reported(site):
    (site / "sub" / "other.html").write_text(_html('<a href="gone.html">gone</a>'))
    (problem,) = _problems(site)
    assert "sub/other.html" in problem and "broken link" in problem and "gone.html" in problem


def test_a_link_to_a_missing_anchor_is_reported(site):
    (site / "sub" / "index.html").write_text(_html('<a href="page.html#nowhere">x</a>'))
    (problem,) = _problems(site)
    assert "no id 'nowhere'" in problem and "sub/page.html" in problem


def test_a_missing_anchor_on_the_same_page_is_reported(site):
    (site / "sub" / "index.html").write_text(_html('<a href="#nowhere">x</a>'))
    (problem,) = _problems(site)
    assert "no id 'nowhere'" in problem and "sub/index.html" in problem


def test_a_missing_image_is_reported(site):
    (site / "images" / "a.png").unlink()
    (problem,) = _problems(site)
    assert "index.html" in problem and "missing image" in problem and "images/a.png" in problem


def test_external_resources_are_reported_but_external_links_are_not(site):
    (site / "sub" / "index.html").write_text(
        _html(
            '<a href="https://example.org/">fine</a>'
            '<script src="https://cdn.example.org/lib.js"></script>'
            '<link rel="stylesheet" href="//fonts.example.org/font.css">'
            '<img src="http://example.org/logo.png">'
        )
    )
    problems = _problems(site)
    assert len(problems) == 3
    assert all("external" in p for p in problems)
    assert any("lib.js" in p for p in problems) and any("font.css" in p for p in problems)
    assert any("logo.png" in p for p in problems)


def test_a_missing_script_and_a_link_out_of_the_site_are_reported(site):
    (site / "sub" / "index.html").write_text(
        _html('<script src="../_static/gone.js"></script><a href="../../elsewhere.html">x</a>')
    )
    problems = _problems(site)
    assert len(problems) == 2
    assert any("missing resource" in p and "gone.js" in p for p in problems)
    assert any("outside the site" in p for p in problems)


def test_no_site_is_a_problem(tmp_path):
    (problem,) = _problems(tmp_path / "nothing-here")
    assert "make docs" in problem


def test_main_exits_non_zero_on_problems_and_prints_the_summary(site, capsys):
    assert check_site.main(["--site", str(site), "--no-browser"]) == 0
    assert "docs-check: 3 pages, 6 links, 2 images checked, 0 problems" in capsys.readouterr().out
    (site / "images" / "a.png").unlink()
    assert check_site.main(["--site", str(site), "--no-browser"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM" in out and "1 problems" in out


def test_png_size_reads_the_header(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(_png(5, 7))
    assert check_site.png_size(path) == (5, 7)
