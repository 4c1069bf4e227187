"""One module per source, each exposing ``SOURCE``; :mod:`scrapers.registry` lists this folder."""
