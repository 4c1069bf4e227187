"""Old binary Word documents (DOC, WPS, RTF): converted to DOCX by LibreOffice, then read.

:func:`read_doc` is pure from the caller's view (bytes in, :class:`ExtractedDocument` out)
but, unlike the other readers, it runs a converter: it writes the bytes to a private
temporary directory, runs ``soffice --headless --convert-to docx`` there and reads the
result with :func:`parsers.docx.read_docx`; the directory is removed before it returns.
Each conversion gets its own LibreOffice profile directory, because two conversions
sharing a profile silently produce nothing, so conversions may run concurrently. A
conversion that runs past ``timeout`` is killed with its whole process group.

When LibreOffice is missing or fails, ``antiword`` gives the text (tables as
``cell | cell |`` lines, no :class:`Table` objects, merged cells not resolved).
``meta["converter"]`` says which converter was used. A file that is a DOCX under a .doc
name is read directly as DOCX.

Only OLE compound files holding a ``WordDocument`` stream (Word 97-2003 and WPS) and RTF
are converted, each with its import filter named: LibreOffice left to guess imports what
its Word filter cannot read as plain text, so garbage would come back as a "document".
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .docx import read_docx
from .errors import ParseError
from .model import ExtractedDocument

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ZIP_SIGNATURE = b"PK\x03\x04"
_RTF_SIGNATURE = b"{\\rtf"
# LibreOffice filter names; "MS Word 97" reads Word 97-2003 and the WPS files saved like it.
_IMPORT_FILTERS = {"ole": "MS Word 97", "rtf": "Rich Text Format"}
_ANTIWORD_ROW = re.compile(r"^\|.*\|$")
_STDERR_TAIL = 300


def soffice_binary() -> str | None:
    """Path of LibreOffice's soffice (or libreoffice) command, None when not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _word_stream_entry(data: bytes) -> bytes | None:
    """The OLE directory entry of the ``WordDocument`` stream, None when there is none.

    Directory entries are 128 bytes, aligned to 128 in the file (sectors are 512 or 4096
    bytes): the name, its byte length (26) at offset 64 and the type "stream" (2) at 66.
    A mere occurrence of the name in garbage does not pass.
    """
    start = data.find(_WORD_STREAM)
    while start != -1:
        entry = data[start : start + 128]
        if start % 128 == 0 and len(entry) == 128 and entry[64:67] == b"\x1a\x00\x02":
            return entry
        start = data.find(_WORD_STREAM, start + 1)
    return None


def _is_encrypted_word(data: bytes, entry: bytes) -> bool:
    """Whether the Word FIB at the start of the WordDocument stream has fEncrypted set."""
    sector_size = 1 << int.from_bytes(data[30:32], "little")
    if sector_size not in (512, 4096):
        return False
    # The stream is at least 4 KB, so it lives in regular sectors (not the mini stream).
    first_sector = int.from_bytes(entry[116:120], "little")
    offset = (first_sector + 1) * sector_size
    fib = data[offset : offset + 12]
    if len(fib) < 12 or fib[:2] != b"\xec\xa5":  # wIdent 0xA5EC
        return False
    return bool(int.from_bytes(fib[10:12], "little") & 0x0100)


def _kind(data: bytes, name: str) -> str:
    """'ole', 'rtf' or 'zip'; ParseError for anything that is not a Word document."""
    if data.startswith(_ZIP_SIGNATURE):
        return "zip"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_RTF_SIGNATURE):
        return "rtf"
    if data.startswith(_OLE_SIGNATURE):
        if _ENCRYPTED_PACKAGE in data:
            raise ParseError(f"{name}: encrypted (password-protected) Word document")
        entry = _word_stream_entry(data)
        if entry is None:
            raise ParseError(f"{name}: an OLE file without a WordDocument stream (not Word)")
        if _is_encrypted_word(data, entry):
            raise ParseError(f"{name}: encrypted (password-protected) Word document")
        return "ole"
    raise ParseError(f"{name}: not a Word document (no DOC, RTF or DOCX signature)")


def _run(command: list[str], timeout: float, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` in its own process group; kill the whole group on timeout."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # soffice is a launcher script: soffice.bin is its child, so the group is killed.
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _tail(output: bytes, source: Path, name: str) -> str:
    """The end of a converter's messages, the temporary path replaced by the file's name."""
    lines = output.decode("utf-8", "replace").replace(str(source), name).splitlines()
    # LibreOffice always warns about Java, which it does not need for a conversion.
    lines = [line.strip() for line in lines if line.strip() and "javaldx" not in line]
    return " ".join(lines)[-_STDERR_TAIL:]


def _convert_with_libreoffice(
    soffice: str, source: Path, import_filter: str, workdir: Path, timeout: float, name: str
) -> bytes:
    """The DOCX bytes LibreOffice makes of ``source``; ParseError when it makes none.

    The import filter is named because LibreOffice, left to detect the type, imports a
    file its Word filter cannot read as plain text and "converts" the garbage.
    """
    profile = workdir / "profile"
    outdir = workdir / "out"
    outdir.mkdir()
    command = [
        soffice,
        "--headless",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        f"-env:UserInstallation={profile.as_uri()}",
        f"--infilter={import_filter}",
        "--convert-to",
        "docx:MS Word 2007 XML",
        "--outdir",
        str(outdir),
        str(source),
    ]
    try:
        result = _run(command, timeout, workdir)
    except subprocess.TimeoutExpired:
        raise ParseError(f"{name}: LibreOffice conversion timed out after {timeout:g} s") from None
    except OSError as error:
        raise ParseError(f"{name}: LibreOffice could not be started: {error}") from None
    converted = outdir / (source.stem + ".docx")
    if result.returncode != 0 or not converted.is_file() or converted.stat().st_size == 0:
        raise ParseError(
            f"{name}: LibreOffice conversion produced nothing (exit {result.returncode}: "
            f"{_tail(result.stderr + result.stdout, source, name)})"
        )
    return converted.read_bytes()


def _antiword_text(source: Path, workdir: Path, timeout: float, name: str) -> str:
    """The text antiword reads from ``source``, tables as ``cell | cell |`` lines."""
    antiword = shutil.which("antiword")
    if antiword is None:
        raise ParseError(f"{name}: antiword is not installed")
    # Without -m antiword maps characters by the locale: Chinese comes out as '?' under C.
    command = [antiword, "-w", "0", "-m", "UTF-8.txt", str(source)]
    try:
        result = _run(command, timeout, workdir)
    except subprocess.TimeoutExpired:
        raise ParseError(f"{name}: antiword timed out after {timeout:g} s") from None
    except OSError as error:
        raise ParseError(f"{name}: antiword could not be started: {error}") from None
    text = result.stdout.decode("utf-8", "replace")
    if result.returncode != 0 or not text.strip():
        messages = _tail(result.stderr, source, name)
        raise ParseError(f"{name}: antiword read nothing (exit {result.returncode}: {messages})")
    return _antiword_lines(text)


def _antiword_lines(text: str) -> str:
    """antiword's output with table rows ("|a   |b   |") rewritten as "a | b |" lines."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if _ANTIWORD_ROW.match(line) and len(line) > 1:
            cells = [cell.strip() for cell in line[1:-1].split("|")]
            lines.append(" ".join(f"{cell} |" for cell in cells))
        elif line:
            lines.append(line)
    return "\n".join(lines)


def read_doc(
    data: bytes,
    document: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = MAX_FILE_BYTES,
) -> ExtractedDocument:
    """A DOC/WPS/RTF file's text and tables, by LibreOffice (antiword as fallback)."""
    name = document or "DOC document"
    if len(data) > max_bytes:
        raise ParseError(f"{name}: file too large ({len(data)} bytes, limit {max_bytes})")
    kind = _kind(data, name)
    if kind == "zip":
        # A DOCX served under a .doc name: no conversion needed.
        extracted = read_docx(data, document, max_bytes=max_bytes)
        extracted.meta["converter"] = "none"
        return extracted
    try:
        return _convert(data, kind, name, document, timeout, max_bytes)
    except OSError as error:  # the temporary directory: disk full, no /tmp
        raise ParseError(f"{name}: temporary files for the conversion failed: {error}") from None


def _convert(
    data: bytes, kind: str, name: str, document: str | None, timeout: float, max_bytes: int
) -> ExtractedDocument:
    """Convert in a private temporary directory: LibreOffice first, then antiword for DOC."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hotline-doc-") as tmp:
        workdir = Path(tmp)
        source = workdir / ("input.rtf" if kind == "rtf" else "input.doc")
        source.write_bytes(data)
        soffice = soffice_binary()
        if soffice is None:
            failures.append("LibreOffice (soffice) is not installed")
        else:
            try:
                converted = _convert_with_libreoffice(
                    soffice, source, _IMPORT_FILTERS[kind], workdir, timeout, name
                )
                # The converted file may exceed the input cap (images are re-encoded).
                limit = max(max_bytes, len(converted))
                extracted = read_docx(converted, document, max_bytes=limit)
                extracted.meta["converter"] = "libreoffice"
                return extracted
            except ParseError as error:
                logger.warning("%s", error)
                failures.append(str(error).removeprefix(f"{name}: "))
        if kind == "ole":
            try:
                text = _antiword_text(source, workdir, timeout, name)
                logger.info("%s: read by antiword (text only, no tables)", name)
                return ExtractedDocument(text=text, meta={"converter": "antiword"})
            except ParseError as error:
                failures.append(str(error).removeprefix(f"{name}: "))
    raise ParseError(f"{name}: could not be converted: " + "; ".join(failures))
