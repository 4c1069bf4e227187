"""Plain-text documents: decoding, page furniture, title and issuer.

Text conversions of web pages carry the page's furniture: navigation, the
"来源/发布时间/浏览量/字号" line, share buttons, "related links" lists whose
headlines hold other figures, and the site footer. The bulletin is what is left.
"""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

from .errors import ParseError

CJK = "\u4e00-\u9fff"

# Lines that are page furniture, whatever the site.
_FURNITURE_LINE = re.compile(
    r"版权所有|备案号|ICP备|ICP证|公网安备|网站标识码|主办单位|主办:|承办单位:|技术支持|网站地图|联系我们|"
    r"浏览量|浏览次数|阅读次数|访问量|访问次数|点击数|阅读:|字号|字体|【打印|打印本页|关闭窗口|【关闭|分享到|分享:|"
    r"^分享|当前位置|您当前的位置|您现在的位置|^首页|无障碍|长者模式|分辨率|责任编辑|^作者:"
)
# Headings that open a block of unrelated links: everything after them up to the footer goes.
_RELATED_BLOCK = re.compile(
    r"^(?:相关链接|相关文章|相关阅读|相关焦点|相关新闻|推荐阅读|热点推荐|上一篇|下一篇)"
)
_METADATA_LINE = re.compile(r"(?:发布时间|发布日期|信息来源|来源|日期|时间)[:：]")


def decode_text(data: bytes) -> str:
    """Bytes of a text file -> str: UTF-8 (with or without BOM), else GB18030, else detection."""
    if b"\x00" in data[:4096]:
        raise ParseError("binary data, not a text document")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ParseError("undecodable text document")
    return str(best)


def strip_furniture(text: str) -> str:
    """The text without page furniture lines and related-links blocks (metadata lines are kept)."""
    out: list[str] = []
    in_related = False
    for line in text.split("\n"):
        stripped = line.strip()
        if _RELATED_BLOCK.match(stripped):
            in_related = True
            continue
        if in_related:
            continue
        if _FURNITURE_LINE.search(stripped) and not _METADATA_LINE.search(stripped):
            continue
        if stripped in {"首页", "搜索"} or (len(stripped) <= 6 and "|" in stripped):
            continue
        out.append(line)
    return "\n".join(out)


def metadata_lines(text: str) -> list[str]:
    """Lines that carry 来源/发布时间: read for dates and sources, not for figures."""
    return [line for line in text.split("\n") if _METADATA_LINE.search(line) and len(line) < 160]


def body_without_metadata(text: str) -> str:
    """The text without short 来源/发布时间 lines, whose numbers are not the bulletin's."""
    return "\n".join(
        line
        for line in text.split("\n")
        if not (
            _METADATA_LINE.search(line) and len(line) < 160 and not re.search(r"诉求|受理", line)
        )
    )


_TITLE_WORDS = re.compile(r"12345|热线|通报|通告|月报|周报|季报|简报|运行情况|分析|报告|情况")


def guess_title(text: str) -> str | None:
    """The first short line that reads like a bulletin title."""
    for line in text.split("\n")[:25]:
        s = line.strip()
        if "|" in s or "\t" in s:
            continue  # a table line, not a title
        if 8 <= len(s) <= 80 and _TITLE_WORDS.search(s) and not s.startswith(("各", "现将")):
            if not re.search(r"[,。;]", s):
                return s
    return None


_ISSUER = re.compile(
    rf"(?P<name>(?:[{CJK}]{{2,7}}?(?:省|自治区|市|州|盟))?[{CJK}]{{1,6}}?(?:省|市|区|县|旗))"
    r"(?=[\"“「]?12345|政务服务|政府服务|市民服务|公众服务|便民服务|市民热线|热线|网络理政)"
)
_LEADING_WORDS = re.compile(r"^.*?(?:关于|现将|按照|根据|年|月份|月|季度|周|度|假期|期间|:)")
_NOT_ISSUER = re.compile(r"^(?:全|本|我|各|该|省|市|区|县)")


def guess_issuer(title: str | None, text: str) -> str | None:
    """The place whose hotline published the bulletin: the place named before "12345"/热线 in the title, else in the opening lines."""
    for source in [title or "", *text.split("\n")[:40]]:
        for m in _ISSUER.finditer(source):
            name = _LEADING_WORDS.sub("", m.group("name"))
            name = re.split(r"[到在的了是和与对向从为将]", name)[-1]
            if len(name) >= 2 and not _NOT_ISSUER.match(name):
                return name
    return None
