"""The raw store: every fetched body kept unedited, named by its sha256, never overwritten.

Layout: ``<root>/<first two hex digits>/<sha256>`` (no extension: a file's name on the
publisher's site never becomes a path). ``<root>`` is the ``raw/`` directory beside archive.db.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class RawStore:
    """Content-addressed files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def relative_path(self, sha256: str) -> str:
        """The path of a body relative to the archive directory, as stored in documents.path."""
        return f"{self.root.name}/{sha256[:2]}/{sha256}"

    def path_for(self, sha256: str) -> Path:
        """Where the body with this hash lives."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store ``content`` (if not already there) and return its sha256."""
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path_for(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file and rename: a crash never leaves half a body under its hash.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def sweep_temporary(self) -> int:
        """Remove the temporary files a killed writer left behind; call only under the refresh lock."""
        removed = 0
        for tmp in self.root.glob("*/.tmp-*"):
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    def read(self, sha256: str) -> bytes:
        """The stored body."""
        return self.path_for(sha256).read_bytes()

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()
