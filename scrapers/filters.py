"""Which listing items are hotline bulletins: a listing column also carries notices and news.

A title is kept when it names hotline figures (12345, 热线, 月报, 通报, 运行情况, 工单, 诉求 …)
and does not announce something else (招聘, 培训, 会议, 采购, 公示, 招标 …). Titles are compared
in Simplified script with half-width digits, so Traditional listings read the same.
"""

from __future__ import annotations

from parsers.normalize import fullwidth_to_halfwidth, to_simplified

# Words that say a title reports hotline figures.
HOTLINE_WORDS = (
    "12345",
    "热线",
    "月报",
    "周报",
    "季报",
    "通报",
    "运行情况",
    "运行概况",
    "运行分析",
    "工单",
    "诉求",
    "受理情况",
    "办理情况",
    "来电",
    "来信",
)
# Words that say a title announces something other than figures, even on a hotline column.
NOTICE_WORDS = (
    "招聘",
    "招录",
    "招募",
    "培训",
    "会议",
    "座谈",
    "采购",
    "公示",
    "招标",
    "中标",
    "成交",
    "比选",
    "询价",
    "遴选",
    "竞赛",
    "演练",
    "值班",
    "征集",
    "征求意见",
    "启事",
    "暂停服务",
    "系统升级",
)


def _first_word(text: str, words: tuple[str, ...]) -> str | None:
    """The word of ``words`` that comes first in ``text``, or None."""
    found = [(text.index(word), word) for word in words if word in text]
    return min(found)[1] if found else None


def is_bulletin_title(title: str) -> tuple[bool, str]:
    """(True, why) for a title of hotline figures, (False, why not) for anything else.

    The reason names the first word of the title that decided.
    """
    text = to_simplified(fullwidth_to_halfwidth(title))
    hotline = _first_word(text, HOTLINE_WORDS)
    if hotline is None:
        return False, "no hotline word"
    notice = _first_word(text, NOTICE_WORDS)
    if notice is not None:
        return False, f"a notice, not figures ({notice})"
    return True, f"hotline figures ({hotline})"
