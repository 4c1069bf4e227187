"""The raw store keeps bodies unedited, named by hash, never overwritten."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scrapers.store import RawStore


def test_put_is_content_addressed_and_unedited(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    body = "衡东县“12345”热线".encode("gb18030") + b"\r\n\x00binary"
    sha = store.put(body)
    assert sha == hashlib.sha256(body).hexdigest()
    assert store.path_for(sha) == tmp_path / "raw" / sha[:2] / sha
    assert store.read(sha) == body
    assert store.relative_path(sha) == f"raw/{sha[:2]}/{sha}"


def test_a_changed_body_is_a_new_file_beside_the_old(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    old, new = store.put(b"version 1"), store.put(b"version 2")
    assert old != new
    assert store.read(old) == b"version 1" and store.read(new) == b"version 2"


def test_putting_the_same_body_twice_changes_nothing(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    sha = store.put(b"same")
    mtime = store.path_for(sha).stat().st_mtime_ns
    assert store.put(b"same") == sha
    assert store.path_for(sha).stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / "raw").rglob("*") if p.is_file()] == [
        sha
    ]  # no temporary files left


@pytest.mark.parametrize("name", ["../etc/passwd", "附件.docx", "g" * 64])
def test_names_never_become_paths(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        RawStore(tmp_path).path_for(name)


def test_sweep_removes_only_the_temporary_files_a_killed_writer_left(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    sha = store.put(b"kept")
    leftover = store.path_for(sha).parent / ".tmp-abc123"
    leftover.write_bytes(b"half a bo")
    assert store.sweep_temporary() == 1
    assert not leftover.exists()
    assert store.read(sha) == b"kept"
