"""Named exceptions of the parsing side."""


class ParseError(Exception):
    """A document could not be parsed; the message says which and why."""


class UnsupportedFormatError(ParseError):
    """The document's format is not one the parsers read (yet)."""
