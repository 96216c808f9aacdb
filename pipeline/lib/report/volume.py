"""The bilingual volume: the pages of the already written zh and en PDFs, joined at the PDF level (pypdf).

Each edition is laid out and written once, in its own process; the volume reuses their pages instead of laying
them out again. It keeps what PDF/A-3b asks of the first part (output intent, attached source tables with their
/AF entries, language) and gets its own title in both the document info and the XMP packet, which must agree.
Each part's bookmarks sit under one top-level bookmark per language ("中文版", "English"). Anchors are prefixed
with the language (`zh-sec-…`), so the two parts' links and named destinations cannot collide.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, DecodedStreamObject, NameObject

PRODUCER_SUFFIX = "; volume joined with pypdf"
# pypdf has no public way to add an indirect object (a PDF/A metadata stream must be one) or to set the file
# identifier, so two private members are used, for the pinned pypdf (pyproject.toml). Without them the volume is
# still written: names and XMP from WeasyPrint's first part are left as pypdf copies them, and pypdf picks the /ID
# (then the volume is not byte-identical between builds). tests/test_end_to_end.py covers both paths.
PRIVATE_API = hasattr(PdfWriter, "_add_object")
COPIED_FROM_FIRST = ("/OutputIntents", "/AF", "/Lang")


def _xmp_with(xmp: str, title: str, producer: str) -> bytes:
    """WeasyPrint's XMP packet with another title and producer (kept equal to the document info)."""
    xmp = re.sub(
        r"(<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">).*?(</rdf:li>)",
        lambda m: m.group(1) + escape(title) + m.group(2),
        xmp,
        count=1,
        flags=re.S,
    )
    return re.sub(r'pdf:Producer="[^"]*"', lambda _: f'pdf:Producer="{escape(producer)}"', xmp, count=1).encode()


def join_parts(parts: list[tuple[str, Path]], target: Path, title: str, identifier: bytes) -> int:
    """Write `target` from `parts` ([(bookmark label, PDF)], in order); return its page count."""
    writer = PdfWriter()
    first = PdfReader(parts[0][1])
    for label, path in parts:
        writer.append(PdfReader(path) if path != parts[0][1] else first, outline_item=label)
    source_root = first.trailer["/Root"]
    root = writer.root_object
    for key in COPIED_FROM_FIRST:
        if key in source_root:
            root[NameObject(key)] = source_root[key].clone(writer)
    embedded = source_root.get("/Names", {}).get("/EmbeddedFiles")
    if embedded is not None and PRIVATE_API:
        if "/Names" not in root:
            root[NameObject("/Names")] = writer._add_object(type(source_root["/Names"])())
        root["/Names"].get_object()[NameObject("/EmbeddedFiles")] = embedded.clone(writer)
    info = dict(first.metadata or {})
    producer = f"{info.get('/Producer', '')}{PRODUCER_SUFFIX}"
    writer.add_metadata({**info, "/Title": title, "/Producer": producer})
    if "/Metadata" in source_root and PRIVATE_API:
        stream = DecodedStreamObject()
        stream.set_data(_xmp_with(source_root["/Metadata"].get_object().get_data().decode("utf-8"), title, producer))
        stream.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
        root[NameObject("/Metadata")] = writer._add_object(stream)
    if PRIVATE_API:
        writer._ID = ArrayObject([ByteStringObject(identifier), ByteStringObject(identifier)])
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)
