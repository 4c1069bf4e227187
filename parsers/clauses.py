"""Sentences, clauses and the figures in them: the units the metric rules read.

A sentence ends at 。!?; or a line break (outside brackets). A clause is a run
between commas, enumeration commas and colons. Text inside brackets becomes
its own clauses, marked ``in_paren``: a bracket holds a part, a base figure or
an aside ("其中群众来电60311宗", "2021年为454921件"), never the headline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .normalize import CN_NUMERAL

_OPEN = "(["
_CLOSE = ")]"
_SENTENCE_END = set("。!?;\n")
_CLAUSE_END = set(",:")

COUNT_UNITS = "件次|人次|件|宗|个|次|起|通|条|单|人"
FIGURE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?|{CN_NUMERAL}+)(?P<mult>[万亿])?"
    rf"(?P<unit>\(次\)|个百分点|%|‰|倍|{COUNT_UNITS})"
)


@dataclass
class Figure:
    """A number with its unit as it stands in a clause."""

    number: str
    multiplier: str | None
    unit: str
    start: int  # offset in the clause text
    end: int

    @property
    def is_percent(self) -> bool:
        return self.unit in {"%", "‰"}

    @property
    def is_points(self) -> bool:
        return self.unit == "个百分点"

    @property
    def is_times(self) -> bool:
        return self.unit == "倍"

    @property
    def is_count(self) -> bool:
        return not (self.is_percent or self.is_points or self.is_times)


@dataclass
class Clause:
    """A clause of a sentence and the figures it holds."""

    text: str
    sentence: int  # index of the sentence in the document
    position: int  # index of the clause in its sentence
    in_paren: bool
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Sentence:
    """A sentence: its full text and its clauses."""

    text: str
    index: int
    line: str = ""  # the whole line (paragraph) the sentence stands in
    line_index: int = 0
    clauses: list[Clause] = field(default_factory=list)


def find_figures(text: str) -> list[Figure]:
    """Every figure in a clause; Chinese numerals only as counts (两件), digits glued to digits skipped."""
    figures = []
    for m in FIGURE.finditer(text):
        num = m.group("num")
        if not num[0].isdigit() and (m.group("unit") not in {"件", "起", "个", "宗"}):
            continue
        if m.start() > 0 and (text[m.start() - 1].isdigit() or text[m.start() - 1] == "."):
            continue
        if not num[0].isdigit() and len(num) == 1 and num == "一":
            continue  # 一件 is mostly prose ("一件事"), never a figure we want
        figures.append(Figure(num, m.group("mult"), m.group("unit"), m.start(), m.end()))
    return figures


def _is_plain_aside(text: str, pos: int) -> bool:
    close = ")" if text[pos] == "(" else "]"
    end = text.find(close, pos, pos + 16)
    return end > pos and not re.search(r"[\d,;:\n(\[]", text[pos + 1 : end])


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their clauses, brackets tracked so that a bracket never splits a sentence."""
    sentences: list[Sentence] = []
    lines = text.split("\n")
    line_no = 0
    depth = 0
    buf: list[str] = []
    spans: list[tuple[str, bool]] = []  # (clause text, in_paren) of the current sentence
    current: list[str] = []

    def close_clause(in_paren: bool) -> None:
        chunk = "".join(current).strip()
        current.clear()
        if chunk:
            spans.append((chunk, in_paren))

    def close_sentence() -> None:
        close_clause(depth > 0)
        sentence_text = "".join(buf).strip()
        buf.clear()
        if sentence_text:
            sentence = Sentence(
                sentence_text, len(sentences), lines[min(line_no, len(lines) - 1)], line_no
            )
            for pos, (chunk, in_paren) in enumerate(spans):
                sentence.clauses.append(
                    Clause(chunk, sentence.index, pos, in_paren, find_figures(chunk))
                )
            sentences.append(sentence)
        spans.clear()

    skip_until = -1
    for pos, ch in enumerate(text):
        if pos < skip_until:
            buf.append(ch)
            current.append(ch)
            continue
        if ch in _OPEN and _is_plain_aside(text, pos):
            # a short bracket without figures, e.g. 镇(街道), stays inside its clause
            skip_until = text.index(")" if ch == "(" else "]", pos) + 1
            buf.append(ch)
            current.append(ch)
            continue
        if ch in _OPEN:
            close_clause(depth > 0)
            depth += 1
            buf.append(ch)
            continue
        if ch in _CLOSE:
            close_clause(depth > 0)
            depth = max(0, depth - 1)
            buf.append(ch)
            continue
        if ch == "\n":
            depth = 0  # an unclosed bracket must not swallow the rest of the document
            close_sentence()
            line_no += 1
            continue
        if ch in _SENTENCE_END and (depth == 0 or ch == ";"):
            if ch == ";" and depth > 0:
                close_clause(True)
                buf.append(ch)
                continue
            close_sentence()
            depth = 0
            continue
        if ch in _CLAUSE_END:
            close_clause(depth > 0)
            buf.append(ch)
            continue
        buf.append(ch)
        current.append(ch)
    close_sentence()
    return sentences
