"""Static HTML result pages (training visuals, validation and test results), built with dominate.

dominate escapes text and attribute values (``"``, ``<``, ``>``, ``&``); image paths are additionally
URL-quoted, so a file named ``a"b<c>&#?.png`` is still found by the browser (``#`` and ``?`` would otherwise
start a fragment or query).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from urllib.parse import quote

import dominate
from dominate.tags import a, br, h3, img, meta, p, table, td, tr

from util.fileio import atomic_write_text


def url_path(path: str | PurePath) -> str:
    """A relative file path as a URL path: '/'-separated, each component percent-encoded."""
    return quote(PurePath(path).as_posix(), safe="/")


class HTMLPage:
    """One ``index.html`` in ``web_dir``; images live under ``web_dir/images``, referenced relatively."""

    def __init__(self, web_dir: str | Path, title: str, refresh: int = 0) -> None:
        self.web_dir = Path(web_dir)
        self.img_dir = self.web_dir / "images"
        self.title = title
        self.img_dir.mkdir(parents=True, exist_ok=True)
        self.doc = dominate.document(title=title)
        if refresh > 0:
            # Lets a browser left open on a training page follow the run.
            with self.doc.head:
                meta(http_equiv="refresh", content=str(refresh))

    def add_header(self, text: str) -> None:
        with self.doc:
            h3(text)

    def add_images(self, ims: list[str], txts: list[str], links: list[str], width: int = 256) -> None:
        """Add one table row: per image a link (to ``links[i]``) around the image, its caption below.

        ``ims`` and ``links`` are paths relative to ``web_dir``.
        """
        if not len(ims) == len(txts) == len(links):
            raise ValueError(f"ims, txts and links differ in length: {len(ims)}, {len(txts)}, {len(links)}")
        row_table = table(border=1, style="table-layout: fixed;")
        self.doc.add(row_table)
        with row_table, tr():
            for im, txt, link in zip(ims, txts, links, strict=True):
                with td(style="word-wrap: break-word;", halign="center", valign="top"), p():
                    with a(href=url_path(link)):
                        img(style=f"width:{int(width)}px", src=url_path(im))
                    br()
                    p(txt)

    def render(self) -> str:
        return self.doc.render()

    def save(self) -> Path:
        """Write ``web_dir/index.html`` atomically (a browser refreshing mid-write sees the old page)."""
        return atomic_write_text(self.web_dir / "index.html", self.render())
