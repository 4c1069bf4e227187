"""Where the project's files are: the repository root, metadata.yml, the bundled samples."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
METADATA = REPO_ROOT / "metadata.yml"
SAMPLES_DIR = REPO_ROOT / "samples"
