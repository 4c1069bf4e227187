"""The sources: one module per source in ``scrapers/sources/``, found by listing that folder.

Each module exposes ``SOURCE = Source(...)``; its slug is the module name with "_" -> "-".
Modules whose names start with "_" are not sources.
"""

from __future__ import annotations

import importlib
import pkgutil

from . import sources as sources_package
from .base import Source


def _module_slug(module_name: str) -> str:
    """The slug a source module must declare: its name with "_" -> "-"."""
    return module_name.replace("_", "-")


def all_sources() -> list[Source]:
    """Every source module's ``SOURCE``, sorted by slug."""
    found: list[Source] = []
    for module_info in pkgutil.iter_modules(sources_package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{sources_package.__name__}.{module_info.name}")
        source = getattr(module, "SOURCE", None)
        if not isinstance(source, Source):
            raise TypeError(f"scrapers/sources/{module_info.name}.py has no SOURCE = Source(...)")
        if source.slug != _module_slug(module_info.name):
            raise ValueError(
                f"scrapers/sources/{module_info.name}.py declares slug {source.slug!r}, "
                f"expected {_module_slug(module_info.name)!r}"
            )
        found.append(source)
    return sorted(found, key=lambda source: source.slug)


def get_source(slug: str) -> Source:
    """The source with this slug; KeyError naming the known slugs."""
    sources = {source.slug: source for source in all_sources()}
    try:
        return sources[slug]
    except KeyError:
        raise KeyError(f"unknown source {slug!r}; known: {', '.join(sorted(sources))}") from None
