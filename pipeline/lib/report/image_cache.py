"""Reuse WeasyPrint's re-encoding of the chart PNGs from one build to the next.

WeasyPrint (70) embeds a PNG by decoding it and compressing its pixels again (`RasterImage._get_png_data`, whose
result is the image's PDF stream): ~20 ms per chart, about 40 % of writing an edition. The result depends only on
the PNG's bytes (and the WeasyPrint, Pillow and zlib versions), so it is kept in a folder under that hash: a
one-table refresh redraws two charts and re-encodes only those. No public option does this (WeasyPrint's `cache`
lives for one document), hence a wrapper around that one private static method, installed only inside
`reusing_encoded_images`; if a WeasyPrint upgrade renames it, the wrapper is simply not installed and every image
is encoded as before (`tests/test_render_workers.py` then fails, naming this module).
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SUFFIX = ".stream"


def _versions() -> bytes:
    """Part of every key: a new WeasyPrint, Pillow or zlib may encode the same pixels differently."""
    import PIL
    import weasyprint

    return f"{weasyprint.__version__}|{PIL.__version__}|{zlib.ZLIB_RUNTIME_VERSION}|".encode()


def _cached(encode: Callable[[Any], bytes], folder: Path, used: set[str]) -> Callable[[Any], bytes]:
    """`encode`, looked up in `folder` by the hash of the PNG file it decodes (other images: encoded as before)."""
    from pipeline.lib.report.render import atomic_path

    prefix = _versions()

    def encode_or_reuse(pillow_image: Any) -> bytes:
        source = getattr(pillow_image, "fp", None)
        if getattr(pillow_image, "format", None) != "PNG" or not isinstance(source, io.BytesIO):
            return encode(pillow_image)
        key = hashlib.sha256(prefix + source.getvalue()).hexdigest()
        used.add(key)
        path = folder / f"{key}{SUFFIX}"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = encode(pillow_image)
        with atomic_path(path) as tmp:  # the other edition's worker may write the same key
            tmp.write_bytes(data)
        return data

    return encode_or_reuse


@contextmanager
def reusing_encoded_images(folder: Path) -> Iterator[set[str]]:
    """Inside the block, WeasyPrint takes each PNG's encoded stream from `folder` when it is there and stores it
    otherwise; yields the set of keys used (for `prune`)."""
    from weasyprint.images import RasterImage

    used: set[str] = set()
    original = RasterImage.__dict__.get("_get_png_data")
    if not isinstance(original, staticmethod):
        yield used
        return
    folder.mkdir(parents=True, exist_ok=True)
    RasterImage._get_png_data = staticmethod(_cached(original.__func__, folder, used))
    try:
        yield used
    finally:
        RasterImage._get_png_data = original


def prune(folder: Path, keep: set[str]) -> int:
    """Delete the streams not in `keep` (images no edition of this build used); return how many."""
    removed = 0
    for path in folder.glob(f"*{SUFFIX}") if folder.is_dir() else []:
        if path.stem not in keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
