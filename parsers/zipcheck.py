"""Zip members that inflate past the size their directory states (a bomb under a lying size).

The DOCX and XLSX readers check each member's stated size and compression ratio before
anything is inflated. Those figures come from the zip's directory, which the file's author
writes: a member may claim 4 KB and inflate to gigabytes. Python's ``ZipFile.read()``
stops at the stated size but inflates in one call with no output limit first, so the
whole bomb lands in memory before it is cut (python-docx and openpyxl read parts that
way). :func:`check_stated_sizes` inflates every member in bounded steps and refuses one
that goes past its stated size, before any library reads it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib

from .errors import ParseError

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length
_LOCAL_SIGNATURE = b"PK\x03\x04"
_STEP_BYTES = 1 << 20


def _inflated_size(data: bytes, info: zipfile.ZipInfo, limit: int) -> int:
    """Bytes the member's deflate stream inflates to, counting stopped once past ``limit``."""
    header = data[info.header_offset : info.header_offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        return 0  # no local header: zipfile reports the member as corrupt when it is read
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if signature != _LOCAL_SIGNATURE:
        return 0
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    pending = data[start : start + info.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    try:
        while not inflater.eof and produced <= limit:
            chunk = inflater.decompress(pending, _STEP_BYTES)
            produced += len(chunk)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break  # a truncated stream: zipfile reports it when the member is read
    except zlib.error:
        return 0  # corrupt data: likewise reported by zipfile
    return produced


def check_stated_sizes(data: bytes, archive: zipfile.ZipFile, label: str) -> None:
    """Raise ParseError when a member inflates past its stated size or is compressed
    with a method other than deflate (Office writes only deflate and stored members)."""
    for info in archive.infolist():
        if info.compress_type == zipfile.ZIP_STORED:
            continue  # stored bytes are read as they are: nothing to inflate
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise ParseError(
                f"{label}: zip member {info.filename!r} uses compression method "
                f"{info.compress_type}, which Office files do not: refused"
            )
        if _inflated_size(data, info, info.file_size) > info.file_size:
            raise ParseError(
                f"{label}: zip member {info.filename!r} inflates past the {info.file_size} "
                "bytes its directory states: refused as a zip bomb"
            )
