"""Utilities: file I/O, images, HTML pages, logging."""
