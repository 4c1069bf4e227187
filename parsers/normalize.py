"""Text normalisation and number reading, applied before any extraction.

Every later step (period, metrics, tables) reads the normalised text: Simplified
script, half-width digits and punctuation, no spaces inside figures, no
thousands separators, no pinyin left by converters.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from .errors import ParseError

CJK = "\u4e00-\u9fff\u3400-\u4dbf"

# Pinyin with tone marks that some converters put after each character: 區(qū), 辦結(jié).
# A tone mark is required so that ordinary bracketed latin text, e.g. 手机(app), stays;
# a latin letter or '?' may precede it where a byte-misaligned character was garbled.
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PINYIN_SYLLABLE = rf"[(（][a-z{_TONE_VOWELS}]*[{_TONE_VOWELS}][a-z{_TONE_VOWELS}]*[)）]"
# A run of them is removed at once: removing one must not leave another behind a character.
_PINYIN_ARTEFACT = re.compile(rf"(?<=[{CJK}A-Za-z?])(?:{_PINYIN_SYLLABLE})+")
# One space only: tabs and runs of spaces separate table columns and must stay.
_SPACE = "[ \u00a0\u3000\u2002\u2003\u2009]"
_UNIT_AFTER_NUMBER = f"[{CJK}%‰]"


def fullwidth_to_halfwidth(text: str) -> str:
    """Map full-width ASCII forms (０-９, ％, ，, （) to ASCII and the ideographic space to a space."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified with OpenCC ``t2s``, repeated until nothing changes."""
    # OpenCC takes UTF-8, which has no lone surrogates (left by a lenient decoder).
    text = _LONE_SURROGATE.sub("\ufffd", text)
    # t2s is not idempotent for a few characters (薴 -> 苧 -> 苎); three rounds reach them all.
    for _ in range(3):
        converted = _t2s().convert(text)
        if converted == text:
            break
        text = converted
    return text


# Characters common in Traditional text and absent from Simplified text.
_TRADITIONAL_MARKERS = set("這個們來時國會對說電與區縣應辦結處務熱線數據運行滿意訴求態類總體單")


def detect_script(text: str) -> str:
    """'traditional' when the text has clearly more Traditional-only characters than chance."""
    hits = sum(1 for ch in text if ch in _TRADITIONAL_MARKERS)
    return "traditional" if hits >= 5 and hits * 200 >= len(text) else "simplified"


def remove_pinyin_artefacts(text: str) -> str:
    """Drop bracketed tone-marked pinyin after characters (區(qū) -> 區)."""
    return _PINYIN_ARTEFACT.sub("", text)


def close_figure_spaces(text: str) -> str:
    """Remove spaces inside figures: '43853 个', '15.67 %', '150.25 万件', '2015 年 7 月'."""
    text = re.sub(rf"(?<=\d){_SPACE}(?={_UNIT_AFTER_NUMBER})", "", text)
    text = re.sub(rf"(?<=[{CJK}]){_SPACE}(?=\d)", "", text)
    text = re.sub(rf"(?<=\d){_SPACE}*\.{_SPACE}*(?=\d)", ".", text)
    return text


_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d,]*\d)(?!,\d)")


def remove_thousands_separators(text: str) -> str:
    """'96,482' -> '96482' where the commas group digits by three."""
    return _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text)


# A figure broken over lines ("共计\n\n8400 件"): join when the next line starts with a figure+unit.
_WRAPPED_FIGURE = re.compile(
    rf"(?<=[{CJK}])[ \t]*\n(?:[ \t]*\n)*[ \t]*(?=\d+(?:\.\d+)?[ \t]*[件个宗次%])"
)


def normalize_text(text: str) -> str:
    """The normalised form of a document's text (see module docstring)."""
    # The order makes the result a fixed point: each step sees what the earlier ones produce
    # (full-width pinyin letters, a no-break space before a line break, "1,234" on a new line).
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = fullwidth_to_halfwidth(text)
    text = remove_pinyin_artefacts(text)
    text = to_simplified(text)
    text = text.replace("\u00a0", " ")
    text = close_figure_spaces(text)
    text = remove_thousands_separators(text)
    text = _WRAPPED_FIGURE.sub("", text)
    return text


# --- numbers -----------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_MULTIPLIERS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_NUMERAL = "[零〇一二两兩三四五六七八九十百千]"


def chinese_numeral_to_int(text: str) -> int:
    """'两' -> 2, '十二' -> 12, '二十' -> 20, '一百零五' -> 105, '二〇二二' -> 2022 (digit by digit)."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        raise ParseError(f"not a Chinese numeral: {text!r}")
    if all(ch in _CN_DIGITS for ch in text) and len(text) > 1:
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*([万萬亿億]?)$")
# Counts are stored as SQLite REAL: beyond 2**53 a float no longer holds every whole number.
MAX_COUNT = 2**53


def _whole(number: str, multiplier: int) -> int:
    """A printed decimal times its multiplier, rounded to a whole number without float error."""
    return int((Decimal(number) * multiplier).to_integral_value(rounding=ROUND_HALF_EVEN))


def parse_count(text: str) -> int:
    """A count as printed -> int: '43853', '1,234', '150.25万' -> 1502500, '两' -> 2."""
    raw = remove_thousands_separators(fullwidth_to_halfwidth(text.strip()))
    raw = re.sub(r"[件个宗次起人条通]+$", "", raw).strip()
    m = _NUMBER.match(raw)
    if m:
        if m.group(2) == "" and "." in m.group(1):
            raise ParseError(f"a count with decimals: {text!r}")
        value = _whole(m.group(1), _MULTIPLIERS.get(m.group(2), 1))
    elif raw and all(ch in _CN_DIGITS or ch in _CN_UNITS for ch in raw):
        value = chinese_numeral_to_int(raw)
    else:
        raise ParseError(f"not a count: {text!r}")
    if abs(value) > MAX_COUNT:
        raise ParseError(f"a count too large to store: {text!r}")
    return value


def parse_percent(text: str) -> float:
    """A percentage as printed -> number of percent: '97.71%' -> 97.71, '1.3倍' -> 130.0."""
    raw = fullwidth_to_halfwidth(text.strip()).replace(" ", "")
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(%|‰|倍)?", raw)
    if not m:
        raise ParseError(f"not a percentage: {text!r}")
    value = float(m.group(1))
    if not math.isfinite(value):
        raise ParseError(f"a percentage too large to store: {text!r}")
    if m.group(2) == "‰":
        value /= 10
    elif m.group(2) == "倍":
        value *= 100
    return round(value, 6)


def parse_cell_number(text: str) -> float | int | None:
    """A table cell's figure: int for counts, float for percentages; None when it holds none."""
    raw = remove_thousands_separators(fullwidth_to_halfwidth(text.strip())).replace(" ", "")
    if not raw or raw in {"-", "—", "/", "--", "——"}:
        return None
    if raw.endswith("%"):
        try:
            return parse_percent(raw)
        except ParseError:
            return None
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)([万萬亿億]?)[件个宗次]?", raw)
    if not m:
        return None
    if "." in m.group(1) and not m.group(2):
        value = float(m.group(1))
        return value if math.isfinite(value) else None
    count = _whole(m.group(1), _MULTIPLIERS.get(m.group(2), 1))
    # A figure no table holds (hundreds of digits) is not a number to store.
    return count if abs(count) <= MAX_COUNT else None
