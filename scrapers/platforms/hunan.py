"""The Hunan platform (Yueyang, Xiangyin): ``/<n>/<n>/<n>/content_<id>.html`` articles.

Column pages list ``li`` links with a ``span`` date; further pages are taken to be
``index_2.html`` … with a "共N页" pager (modelled, not seen live). That is how the generic reader
reads any list page, so this module is the generic reader under the platform's name (so that
``scrapers.platforms.<platform>`` can be imported for every platform a source names).
"""

from __future__ import annotations

from .generic import parse_attachments, parse_listing

__all__ = ["parse_attachments", "parse_listing"]
