"""Parsers: pure functions from a document's bytes to a :class:`parsers.model.Bulletin`."""

from .bulletin import DocumentInput, detect_format, parse_bulletin, parse_document
from .errors import ParseError, UnsupportedFormatError
from .model import Breakdown, Bulletin, Check, Metric, Period, Table, UnitRow

__all__ = [
    "Breakdown",
    "Bulletin",
    "Check",
    "DocumentInput",
    "Metric",
    "ParseError",
    "Period",
    "Table",
    "UnitRow",
    "UnsupportedFormatError",
    "detect_format",
    "parse_bulletin",
    "parse_document",
]
