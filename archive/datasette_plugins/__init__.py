"""Datasette plugins of the hotline archive site, loaded by ``hotline serve`` with --plugins-dir.

Datasette imports every ``*.py`` file of this folder as a module of its own (not as part of
this package), so each plugin file is self-contained: it imports Datasette and the standard
library only, and also works where only this folder is copied (datasette publish --plugins-dir).
"""

from __future__ import annotations

from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parent
