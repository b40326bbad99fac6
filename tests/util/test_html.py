"""HTML pages: structure, escaping of captions and URL-quoting of nasty file names."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from util.html import HTMLPage, url_path
from util.images import save_image

NASTY = 'a"b<c>&#?.png'


class _Collector(HTMLParser):
    """Records img src, a href, h3 texts and p texts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []
        self.hrefs: list[str] = []
        self.texts: list[tuple[str, str]] = []
        self.meta: list[dict[str, str | None]] = []
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.srcs.append(attrs["src"])
        elif tag == "a":
            self.hrefs.append(attrs["href"])
        elif tag == "meta":
            self.meta.append(attrs)
        self._tag = tag

    def handle_data(self, data):
        if self._tag in ("h3", "p", "title") and data.strip():
            self.texts.append((self._tag, data.strip()))


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_page_links_point_to_real_files_and_captions_are_escaped(tmp_path):
    page = HTMLPage(tmp_path / "web", "title <x>", refresh=0)
    assert page.img_dir == tmp_path / "web" / "images" and page.img_dir.is_dir()
    rel = f"images/dir with space/{NASTY}"
    save_image(np.zeros((2, 2, 3), np.uint8), page.web_dir / rel)
    page.add_header('header <c> & "q"')
    page.add_images([rel, "images/plain.png"], [NASTY, "plain"], [rel, "images/plain.png"], width=64)
    index = page.save()
    assert index == tmp_path / "web" / "index.html"

    raw = index.read_text(encoding="utf-8")
    assert "<c>" not in raw and "<x>" not in raw
    parsed = _parse(index)
    assert len(parsed.srcs) == 2 and len(parsed.hrefs) == 2
    for url in parsed.srcs[:1] + parsed.hrefs[:1]:
        assert "#" not in url and "?" not in url and " " not in url
        assert (page.web_dir / unquote(url)).is_file()
    assert unquote(parsed.srcs[1]) == "images/plain.png"
    assert ("h3", 'header <c> & "q"') in parsed.texts
    assert ("p", NASTY) in parsed.texts
    assert ("title", "title <x>") in parsed.texts
    assert 'style="width:64px"' in raw


def test_refresh_meta_and_length_mismatch(tmp_path):
    page = HTMLPage(tmp_path, "t", refresh=5)
    page.save()
    parsed = _parse(tmp_path / "index.html")
    assert {"http-equiv": "refresh", "content": "5"} in parsed.meta
    with pytest.raises(ValueError):
        page.add_images(["a.png"], [], ["a.png"])


def test_url_path_quotes_components_but_keeps_separators():
    assert url_path("images/a b/c#d?.png") == "images/a%20b/c%23d%3F.png"
    assert unquote(url_path(Path("x") / NASTY)) == f"x/{NASTY}"
