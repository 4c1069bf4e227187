"""Write the bundled sample sites (samples/sites/) from the seeds and the manifest.

Each page carries a real bulletin's text (samples/seeds/) inside page furniture
modelled on its publisher's site; URLs, paths, titles, listing pages and items
come from samples/manifest.yml. Attachments are byte copies of the document
fixtures named in the manifest (tests/fixtures/documents/, made from the same
bulletins' real tables). The output is deterministic: running the script again
rewrites the same bytes.

Usage: python samples/make_pages.py [--out DIR]   (DIR defaults to samples/)
"""

from __future__ import annotations

import argparse
import html
import logging
import posixpath
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

logger = logging.getLogger(__name__)

SAMPLES_DIR = Path(__file__).resolve().parent
REPO_ROOT = SAMPLES_DIR.parent
MANIFEST_PATH = SAMPLES_DIR / "manifest.yml"
SEEDS_DIR = SAMPLES_DIR / "seeds"

# Sites that declare gb2312 actually serve GBK (a superset), as browsers assume.
CODECS = {"utf-8": "utf-8", "gb2312": "gbk"}

Entry = dict[str, Any]


def esc(text: str) -> str:
    """Escape text for an HTML text node."""
    return html.escape(text, quote=False)


def esc_attr(text: str) -> str:
    """Escape text for a double-quoted HTML attribute."""
    return html.escape(text, quote=True)


def url_path(url: str) -> str:
    """Return the path part of a URL."""
    return urlsplit(url).path


def relative_href(from_url: str, to_url: str) -> str:
    """Return a TRS-style relative link ("./x.html", "../y/z.html") between two URLs."""
    rel = posixpath.relpath(url_path(to_url), posixpath.dirname(url_path(from_url)))
    return rel if rel.startswith("..") else "./" + rel


def seed_lines(seed: str) -> list[str]:
    """Return the lines of a seed file, exactly as stored."""
    return (SEEDS_DIR / seed).read_text(encoding="utf-8").split("\n")


def expect(condition: bool, message: str) -> None:
    """Stop with a clear message when a seed no longer has the expected shape."""
    if not condition:
        raise ValueError(message)


def non_blank(lines: list[str]) -> list[str]:
    """Drop empty and whitespace-only lines (including lone no-break spaces)."""
    return [line for line in lines if line.strip()]


def pipe_cells(line: str) -> list[str]:
    """Split a pipe-formatted table line into cells, dropping the one after the last pipe."""
    cells = [cell.strip() for cell in line.split("|")]
    return cells[:-1] if line.rstrip().endswith("|") else cells


def render_body(
    lines: list[str],
    paragraph: Callable[[str], str],
    is_table_line: Callable[[str], bool],
    table: Callable[[list[str]], str],
) -> str:
    """Render body lines: one paragraph per line, runs of table lines as one table."""
    parts: list[str] = []
    run: list[str] = []
    for line in non_blank(lines):
        if is_table_line(line):
            run.append(line)
            continue
        if run:
            parts.append(table(run))
            run = []
        parts.append(paragraph(line))
    if run:
        parts.append(table(run))
    return "\n".join(parts)


def related_items(page: Entry) -> list[Entry]:
    """Return a listing page's unrelated (non-bulletin) items, used as related links."""
    return [item for item in page["items"] if not item["bulletin"]]


def no_attachments(doc: Entry) -> None:
    """Stop when the manifest gives attachments to a page whose builder does not link any."""
    expect(not doc["attachments"], f"{doc['seed']}: this page links no attachments")


def listing_pages(listing: Entry) -> list[Entry]:
    """Return a listing's pages in order; further pages take the first page's other fields."""
    first = {key: value for key, value in listing.items() if key != "more_pages"}
    return [first] + [{**first, **page} for page in listing.get("more_pages", [])]


# --- 中原新闻网站 (news portal republishing the Liaocheng quarterly notice) ---------


def portal_article(doc: Entry, listing: Entry, page: Entry, lines: list[str]) -> str:
    """Build the portal article page for seed 000 (a republication)."""
    no_attachments(doc)
    contact, crumb, title, info, footer = lines[0], lines[1], lines[3], lines[5], lines[-1]
    expect(contact == "0310-3111082 3047798688@qq.com", "seed 000: contact line changed")
    expect(crumb == "首页 > 周边 > 聊城 > 正文", "seed 000: breadcrumb changed")
    expect(title == doc["title"], "seed 000: title differs from the manifest")
    expect(footer.startswith("©"), "seed 000: footer line changed")
    info_match = re.fullmatch(r"来源:(.+)编辑:(.+)发布时间:(.+)", info)
    if info_match is None:
        raise ValueError("seed 000: info line changed")
    source, editor, published = info_match.groups()
    tel, mail = contact.split(" ")
    body = render_body(
        lines[6:-1],
        paragraph=lambda line: f"<p>{esc(line)}</p>",
        is_table_line=lambda line: False,
        table=lambda run: "",
    )
    related = "\n".join(
        f'<li><a href="{esc_attr(url_path(item["url"]))}" target="_blank">{esc(item["title"])}'
        f"</a><span>{item['date']}</span></li>"
        for item in related_items(page)
    )
    listing_href = url_path(listing["url"])
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{esc(title)}_聊城_周边_中原新闻网站</title>
<meta name="keywords" content="聊城,12345,市民热线,群众来电">
<meta name="description" content="{esc_attr(title)}">
<link rel="stylesheet" href="/static/css/article.css">
</head>
<body>
<div class="topbar"><div class="w1200"><span class="tel">{esc(tel)}</span> <span class="mail">{esc(mail)}</span><span class="toplinks"><a href="/">设为首页</a> | <a href="/">加入收藏</a></span></div></div>
<div class="header"><div class="w1200"><a class="logo" href="/"><img src="/static/images/logo.png" alt="中原新闻网站"></a></div></div>
<div class="nav"><div class="w1200"><a href="/">首页</a><a href="/news/">新闻</a><a href="/zhoubian/">周边</a><a href="/caijing/">财经</a><a href="/jiaoyu/">教育</a><a href="/jiankang/">健康</a><a href="/tupian/">图片</a></div></div>
<div class="w1200 main">
<div class="crumb"><a href="/">首页</a> &gt; <a href="/zhoubian/">周边</a> &gt; <a href="{listing_href}">聊城</a> &gt; 正文</div>
<div class="article">
<h1>{esc(title)}</h1>
<div class="info"><span class="source">来源:{esc(source)}</span><span class="editor">编辑:{esc(editor)}</span><span class="time">发布时间:{esc(published)}</span></div>
<div class="artibody" id="artibody">
<p>&nbsp;</p>
{body}
</div>
<div class="share">分享到：<a href="javascript:void(0);" class="share-wx">微信</a> <a href="javascript:void(0);" class="share-wb">微博</a> <a href="javascript:void(0);" class="share-qz">QQ空间</a></div>
<div class="related"><h3>相关新闻</h3>
<ul>
{related}
</ul>
</div>
</div>
</div>
<div class="footer"><div class="w1200">
<p><a href="/about/">关于我们</a> | <a href="/contact/">联系我们</a> | <a href="/ad/">广告服务</a></p>
<p>{esc(footer)}</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">冀ICP备18004732号-1</a></p>
</div></div>
</body>
</html>
"""


def portal_page_name(number: int) -> str:
    """Return the file name of the portal column's page ``number`` (0-based): index_2.html …"""
    return "index.html" if number == 0 else f"index_{number + 1}.html"


def portal_pager(number: int, count: int) -> str:
    """Render the portal's numbered pager for page ``number`` (0-based) of ``count``."""
    if count == 1:
        return '<span class="current">1</span>'
    parts = []
    if number > 0:
        parts.append(f'<a href="{portal_page_name(0)}">首页</a>')
        parts.append(f'<a href="{portal_page_name(number - 1)}">上一页</a>')
    for other in range(count):
        if other == number:
            parts.append(f'<span class="current">{other + 1}</span>')
        else:
            parts.append(f'<a href="{portal_page_name(other)}">{other + 1}</a>')
    if number < count - 1:
        parts.append(f'<a href="{portal_page_name(number + 1)}">下一页</a>')
        parts.append(f'<a href="{portal_page_name(count - 1)}">尾页</a>')
    return "".join(parts)


def portal_listing(listing: Entry, page: Entry, number: int, count: int) -> str:
    """Build page ``number`` (0-based) of the portal's 周边 > 聊城 column."""
    expect(
        url_path(page["url"]).endswith("/" + portal_page_name(number)),
        f"{page['url']}: the portal names page {number + 1} {portal_page_name(number)}",
    )
    items = "\n".join(
        f'<li><a href="{esc_attr(url_path(item["url"]))}" target="_blank">{esc(item["title"])}'
        f'</a><span class="date">{item["date"]}</span></li>'
        for item in page["items"]
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>聊城_周边_中原新闻网站</title>
<meta name="keywords" content="聊城,周边">
<link rel="stylesheet" href="/static/css/list.css">
</head>
<body>
<div class="topbar"><div class="w1200"><span class="tel">0310-3111082</span> <span class="mail">3047798688@qq.com</span><span class="toplinks"><a href="/">设为首页</a> | <a href="/">加入收藏</a></span></div></div>
<div class="header"><div class="w1200"><a class="logo" href="/"><img src="/static/images/logo.png" alt="中原新闻网站"></a></div></div>
<div class="nav"><div class="w1200"><a href="/">首页</a><a href="/news/">新闻</a><a href="/zhoubian/">周边</a><a href="/caijing/">财经</a><a href="/jiaoyu/">教育</a><a href="/jiankang/">健康</a><a href="/tupian/">图片</a></div></div>
<div class="w1200 main">
<div class="crumb"><a href="/">首页</a> &gt; <a href="/zhoubian/">周边</a> &gt; 聊城</div>
<div class="list">
<ul>
{items}
</ul>
</div>
<div class="pages">{portal_pager(number, count)}</div>
</div>
<div class="footer"><div class="w1200">
<p><a href="/about/">关于我们</a> | <a href="/contact/">联系我们</a> | <a href="/ad/">广告服务</a></p>
<p>&copy;2018中原新闻网站版权所有</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">冀ICP备18004732号-1</a></p>
</div></div>
</body>
</html>
"""


# --- 聊城市人民政府: TRS WCM, gb2312 ------------------------------------------------

TRS_BODY_P = '<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt">'
TRS_FONTS = {"heading": "黑体", "subheading": "楷体_GB2312", "text": "仿宋_GB2312"}


def trs_paragraph(line: str) -> str:
    """Render one body line as a Word-pasted TRS_Editor paragraph."""
    if line == "市民服务热线(12345)月报":
        return (
            '<p class="MsoNormal" align="center" style="text-align:center;line-height:40.0pt">'
            '<b><span style="font-size:26.0pt;font-family:方正小标宋简体;color:red">'
            f"{esc(line)}</span></b></p>"
        )
    if re.fullmatch(r"\[\d{4}\] 第 \d+ 期", line):
        return (
            '<p class="MsoNormal" align="center" style="text-align:center">'
            f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{esc(line)}</span></p>'
        )
    if line == "市长公开电话受理中心":
        return (
            '<p class="MsoNormal">'
            f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{esc(line)}</span></p>'
        )
    if re.fullmatch(r"\d{4} 年 \d+ 月 \d+ 日", line):
        return (
            '<p class="MsoNormal" align="right" style="text-align:right">'
            f'<span style="font-size:16.0pt;font-family:仿宋_GB2312">{esc(line)}</span></p>'
        )
    if line.endswith("情况表"):
        return (
            '<p class="MsoNormal" align="center" style="text-align:center">'
            f'<b><span style="font-size:14.0pt;font-family:黑体">{esc(line)}</span></b></p>'
        )
    if re.match(r"[一二三四五六七八九十]+、", line):
        font = TRS_FONTS["heading"]
    elif re.match(r"（[一二三四五六七八九十]+）", line):
        font = TRS_FONTS["subheading"]
    else:
        font = TRS_FONTS["text"]
    return f'{TRS_BODY_P}<span style="font-size:16.0pt;font-family:{font}">{esc(line)}</span></p>'


def trs_table(run: list[str]) -> str:
    """Render tab-separated lines as a Word-pasted table (first line is the header)."""
    rows = []
    for index, line in enumerate(run):
        cells = []
        for position, cell in enumerate(line.split("\t")):
            text = esc(cell) if cell.strip() else "&nbsp;"
            if index == 0:
                text = f"<b>{text}</b>"
            width = 110 if position == 0 else 62
            cells.append(
                f'<td width="{width}" valign="center" style="border:solid windowtext 1.0pt">'
                '<p class="MsoNormal" align="center" style="text-align:center">'
                f'<span style="font-size:10.5pt;font-family:宋体">{text}</span></p></td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
        'style="border-collapse:collapse;border:none">\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


TRS_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />
<meta name="SiteName" content="聊城市人民政府" />
<meta name="SiteDomain" content="www.liaocheng.gov.cn" />
<meta name="SiteIDCode" content="3715000001" />
<meta name="ColumnName" content="12345热线月报" />
<meta name="ColumnDescription" content="市民服务热线(12345)月报" />
<meta name="ColumnKeywords" content="12345,市民服务热线,月报" />
<meta name="ColumnType" content="政民互动" />
"""

TRS_TOP = """<div class="top"><div class="w1000"><span class="welcome">欢迎访问聊城市人民政府门户网站</span><span class="tool"><a href="javascript:void(0);" id="StranLink">繁體</a> | <a href="{root}">网站首页</a> | <a href="{root}wza/">无障碍</a></span></div></div>
<div class="head"><div class="w1000"><a href="{root}"><img src="{root}images/logo.png" alt="聊城市人民政府" /></a></div></div>
<div class="nav"><ul><li><a href="{root}">首页</a></li><li><a href="{root}zwgk/">政务公开</a></li><li><a href="{root}bsfw/">办事服务</a></li><li><a href="{root}zmhd/">政民互动</a></li><li><a href="{root}zjlc/">走进聊城</a></li></ul></div>
"""

TRS_FOOTER = """<div class="footer"><div class="w1000">
<p>主办：聊城市人民政府办公室　　承办：聊城市电子政务中心</p>
<p>版权所有：聊城市人民政府　　<a href="http://www.miitbeian.gov.cn/" target="_blank">鲁ICP备05004398号</a>　　<img src="{root}images/ga.png" />鲁公网安备 37150202000102号</p>
<p>网站标识码：3715000001</p>
</div></div>
</body>
</html>
"""


def trs_attachments(doc: Entry) -> str:
    """Render a TRS "附件：" block (div.fj) linking the article's files by relative URL."""
    if not doc["attachments"]:
        return ""
    links = "<br />".join(
        f'<a href="{esc_attr(relative_href(doc["url"], attachment["url"]))}" target="_blank">'
        f"{esc(attachment['name'])}</a>"
        for attachment in doc["attachments"]
    )
    return f'<div class="fj">附件：{links}</div>\n'


def trs_article(doc: Entry, listing: Entry, page: Entry, lines: list[str]) -> str:
    """Build the TRS WCM article page for seed 002 (body entirely from the seed)."""
    expect(lines[2] == "市民服务热线(12345)月报", "seed 002: letterhead changed")
    expect(any("\t" in line for line in lines), "seed 002: tables are gone")
    root = "../../../"
    body = render_body(
        lines,
        paragraph=trs_paragraph,
        is_table_line=lambda line: "\t" in line,
        table=trs_table,
    )
    related = "\n".join(
        f'<li><a href="{esc_attr(relative_href(doc["url"], item["url"]))}" target="_blank">'
        f"{esc(item['title'])}</a></li>"
        for item in related_items(page)
    )
    title = doc["title"]
    return (
        TRS_HEAD
        + f"""<meta name="ArticleTitle" content="{esc_attr(title)}" />
<meta name="PubDate" content="{doc["published_date"]}" />
<meta name="ContentSource" content="市长公开电话受理中心" />
<meta name="Keywords" content="12345,市民服务热线,月报" />
<title>{esc(title)}</title>
<link href="{root}images/lc_style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="{root}images/common.js"></script>
</head>
<body>
"""
        + TRS_TOP.format(root=root)
        + f"""<div class="w1000 main">
<div class="position">当前位置：<a href="{root}">首页</a> &gt; <a href="../../">政民互动</a> &gt; <a href="../index.html">12345热线月报</a></div>
<div class="article">
<h1>{esc(title)}</h1>
<div class="info">发布时间：{doc["published_date"]}　　来源：市长公开电话受理中心　　浏览次数：<span id="visitcount">1386</span>　　字号：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>]</div>
<div id="zoom"><div class="TRS_Editor">
{body}
</div></div>
{trs_attachments(doc)}<div class="share">分享到：<a href="javascript:void(0);" class="bds_weixin">微信</a> <a href="javascript:void(0);" class="bds_tsina">新浪微博</a> <a href="javascript:void(0);" class="bds_qzone">QQ空间</a></div>
<div class="xglj"><h4>相关链接</h4>
<ul>
{related}
</ul>
</div>
<div class="btn"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
</div>
"""
        + TRS_FOOTER.format(root=root)
    )


def trs_listing(listing: Entry, page: Entry, number: int, count: int) -> str:
    """Build page ``number`` (0-based) of a TRS WCM column: createPageHTML(count, number, ...)."""
    name = "index.html" if number == 0 else f"index_{number}.html"
    expect(url_path(page["url"]).endswith("/" + name), f"{page['url']}: TRS names it {name}")
    root = "../../"
    items = "\n".join(
        f' <li><a href="{esc_attr(relative_href(page["url"], item["url"]))}" '
        f'title="{esc_attr(item["title"])}" target="_blank">{esc(item["title"])}</a>'
        f"<span>{item['date']}</span></li>"
        for item in page["items"]
    )
    return (
        TRS_HEAD
        + f"""<title>12345热线月报</title>
<link href="{root}images/lc_style.css" rel="stylesheet" type="text/css" />
<script type="text/javascript" src="{root}images/common.js"></script>
</head>
<body>
"""
        + TRS_TOP.format(root=root)
        + f"""<div class="w1000 main">
<div class="position">当前位置：<a href="{root}">首页</a> &gt; <a href="../">政民互动</a> &gt; 12345热线月报</div>
<div class="side"><h3>政民互动</h3><ul><li><a href="../szxx/">市长信箱</a></li><li class="on"><a href="./index.html">12345热线月报</a></li><li><a href="../zxft/">在线访谈</a></li><li><a href="../zjdc/">征集调查</a></li></ul></div>
<div class="right"><div class="lm_title">12345热线月报</div>
<ul class="list">
{items}
</ul>
<div class="page"><script language="javascript">createPageHTML({count}, {number}, "index", "html");</script></div>
</div>
</div>
"""
        + TRS_FOOTER.format(root=root)
    )


# --- 湛江市人民政府门户网站: Guangdong intensive platform, Traditional view ----------

GD_HOME = "http://www.zhanjiang.gov.cn/"

GD_TOP = """<div class="header"><div class="w1200"><div class="logo"><a href="http://www.zhanjiang.gov.cn/"><img src="/images/logo.png" alt="湛江市人民政府門戶網站"></a></div>
<div class="tools"><a href="javascript:;" id="jft">简体版</a> | <a href="/wza/">無障礙瀏覽</a> | <a href="/yhzx/">用戶中心</a></div></div></div>
<div class="nav"><div class="w1200"><a href="http://www.zhanjiang.gov.cn/">首頁</a><a href="/zwgk/">政務公開</a><a href="/zwfw/">政務服務</a><a href="/zmhd/">政民互動</a><a href="/sjkf/">數據開放</a><a href="/zjzj/">走進湛江</a></div></div>
"""

GD_FOOTER = """<div class="footer"><div class="w1200">
<p><a href="/wzdt/">網站地圖</a> | <a href="/lxwm/">聯繫我們</a> | <a href="/bqsm/">版權聲明</a></p>
<p>主辦：湛江市人民政府辦公室　承辦：湛江市政務服務數據管理局</p>
<p>版權所有：湛江市人民政府　網站標識碼：4408000001</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">粵ICP備05008716號</a>　<img src="/images/ga.png">粵公網安備 44080202000112號</p>
</div></div>
</body>
</html>
"""

GD_META = """<meta name="SiteName" content="湛江市人民政府門戶網站">
<meta name="SiteDomain" content="www.zhanjiang.gov.cn">
<meta name="SiteIDCode" content="4408000001">
<meta name="ColumnName" content="分析研判">
<meta name="ColumnDescription" content="12345熱線訴求分析研判">
<meta name="ColumnKeywords" content="12345,熱線,分析研判">
<meta name="ColumnType" content="政務公開">
"""

# The seed names its attachments ("附件:1.…docx"): their content is not known, so the
# names stay text, without links (the mirror has no such files).
GD_ATTACHMENT = re.compile(r"(附件:)?\d+\..+\.docx")


def gd_article(doc: Entry, listing: Entry, page: Entry, lines: list[str]) -> str:
    """Build the Guangdong-platform article page for seed 001 (no publication date)."""
    no_attachments(doc)
    title = lines[0]
    expect(title == doc["title"], "seed 001: title differs from the manifest")
    body_lines = non_blank(lines[1:])
    expect(
        sum(bool(GD_ATTACHMENT.fullmatch(line)) for line in body_lines) == 4,
        "seed 001: it no longer names four attachments",
    )
    signature_lines = set(body_lines[-2:])

    def paragraph(line: str) -> str:
        if line in body_lines[:2]:
            return f'<p style="text-align:center;"><strong>{esc(line)}</strong></p>'
        if line in signature_lines:
            return f'<p style="text-align:right;">{esc(line)}</p>'
        if line.endswith("分布"):
            return f'<p style="text-align:center;">{esc(line)}</p>'
        if GD_ATTACHMENT.fullmatch(line):
            return f"<p>{esc(line)}</p>"
        return f'<p style="text-indent:2em;">{esc(line)}</p>'

    body = render_body(body_lines, paragraph, lambda line: False, lambda run: "")
    related = "\n".join(
        f'<li><a href="{esc_attr(item["url"])}" target="_blank">{esc(item["title"])}</a>'
        f'<span class="time">{item["date"]}</span></li>'
        for item in related_items(page)
    )
    source = "湛江市12345市民服務熱線領導小組辦公室"
    expect(source in body_lines[-2], "seed 001: signing office changed")
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="renderer" content="webkit">
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
{GD_META}<meta name="ArticleTitle" content="{esc_attr(title)}">
<meta name="ContentSource" content="{source}">
<meta name="Keywords" content="12345,訴求,分析研判">
<meta name="Description" content="{esc_attr(title)}">
<title>{esc(title)}-湛江市人民政府門戶網站</title>
<link rel="stylesheet" href="/css/common.css">
<link rel="stylesheet" href="/css/article.css">
</head>
<body>
{GD_TOP}<div class="w1200 main">
<div class="position">當前位置：<a href="{GD_HOME}">首頁</a> &gt; <a href="{GD_HOME}zwgk/">政務公開</a> &gt; <a href="{GD_HOME}zwgk/12345rx/">12345熱線</a> &gt; <a href="{esc_attr(listing["url"])}">分析研判</a></div>
<div class="article">
<h1 class="title">{esc(title)}</h1>
<div class="classify"><span class="source">來源：{source}</span>　<span class="count">瀏覽次數：<em id="pageView">2057</em></span>　<span class="font">字號：<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a></span></div>
<div class="article-content zw" id="zoomcon">
{body}
</div>
<div class="share">分享：<a href="javascript:;" class="wx">微信</a> <a href="javascript:;" class="wb">微博</a> <a href="javascript:;" class="qq">QQ空間</a></div>
<div class="related"><div class="hd">相關文章</div>
<ul>
{related}
</ul>
</div>
</div>
</div>
{GD_FOOTER}"""


def gd_listing(listing: Entry, page: Entry, number: int, count: int) -> str:
    """Build the Guangdong-platform column page (ul li a + span date; one page, 共1頁)."""
    expect(count == 1, f"{listing['url']}: the Guangdong column is modelled as one page")
    items = "\n".join(
        f'<li><a href="{esc_attr(item["url"])}" target="_blank" title="{esc_attr(item["title"])}">'
        f'{esc(item["title"])}</a><span class="time">{item["date"]}</span></li>'
        for item in page["items"]
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="renderer" content="webkit">
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
{GD_META}<title>分析研判-湛江市人民政府門戶網站</title>
<link rel="stylesheet" href="/css/common.css">
<link rel="stylesheet" href="/css/list.css">
</head>
<body>
{GD_TOP}<div class="w1200 main">
<div class="position">當前位置：<a href="{GD_HOME}">首頁</a> &gt; <a href="{GD_HOME}zwgk/">政務公開</a> &gt; <a href="{GD_HOME}zwgk/12345rx/">12345熱線</a> &gt; 分析研判</div>
<div class="list-title">分析研判</div>
<div class="viewList">
<ul>
{items}
</ul>
</div>
<div class="page"><span>共1頁</span> <span class="current">1</span></div>
</div>
{GD_FOOTER}"""


# --- 岳阳市云溪区人民政府: Hunan platform, Traditional view -----------------------------

HN_META = """<meta name="SiteName" content="嶽陽市雲溪區人民政府">
<meta name="SiteDomain" content="www.yunxi.gov.cn">
<meta name="SiteIDCode" content="4306030001">
<meta name="ColumnName" content="熱線通報">
<meta name="ColumnType" content="政民互動">
"""

HN_TOP = """<div class="top"><div class="w1200"><span>今天是：<span id="today"></span></span><span class="tools"><a href="javascript:;" id="StranLink">简体</a> | <a href="/wza/">無障礙</a> | <a href="/">返回首頁</a></span></div></div>
<div class="banner"><div class="w1200"><a href="/"><img src="/images/logo.png" alt="嶽陽市雲溪區人民政府"></a></div></div>
<div class="nav"><div class="w1200"><a href="/">首頁</a><a href="/27310/27311/">政務公開</a><a href="/27318/">政務服務</a><a href="/27310/27316/">政民互動</a><a href="/27330/">走進雲溪</a></div></div>
"""

HN_FOOTER = """<div class="footer"><div class="w1200">
<p>主辦：嶽陽市雲溪區人民政府辦公室　承辦：雲溪區融媒體中心</p>
<p>版權所有：嶽陽市雲溪區人民政府　網站標識碼：4306030001</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">湘ICP備13004521號</a>　<img src="/images/ga.png">湘公網安備 43060302000118號</p>
</div></div>
</body>
</html>
"""

# The seed names its attachments ("1.…doc"): their content is not known, so the names
# stay text, without links (the mirror has no such files).
HN_ATTACHMENT = re.compile(r"\d+\..+\.doc")


def hunan_article(doc: Entry, listing: Entry, page: Entry, lines: list[str]) -> str:
    """Build the Hunan-platform article page for seed 003, with its 相關焦點 block."""
    no_attachments(doc)
    listing_text = next(item["link_text"] for item in page["items"] if item["bulletin"])
    expect(lines[0] == listing_text, "seed 003: truncated title differs from the listing")
    date, source = lines[2].split(" ")
    expect(date == doc["published_date"], "seed 003: date differs from the manifest")
    focus_at = lines.index("相關焦點")
    expect(
        sum(bool(HN_ATTACHMENT.fullmatch(line)) for line in lines[3:focus_at]) == 2,
        "seed 003: it no longer names two attachments",
    )

    def paragraph(line: str) -> str:
        if HN_ATTACHMENT.fullmatch(line):
            return f"<p>{esc(line)}</p>"
        return f'<p style="text-indent:2em;">{esc(line)}</p>'

    body = render_body(lines[3:focus_at], paragraph, lambda line: False, lambda run: "")
    focus_items: list[str] = []
    for line in non_blank(lines[focus_at + 1 :]):
        if line.lstrip().startswith("•"):
            focus_title = line.lstrip()[1:].strip()
            focus_items.append(f'<li><p class="tit">{esc(focus_title)}</p>')
        else:
            focus_items[-1] += f'<p class="zy">{esc(line.strip())}</p></li>'
    title = doc["title"]
    listing_href = posixpath.basename(url_path(listing["url"]))
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
{HN_META}<meta name="ArticleTitle" content="{esc_attr(title)}">
<meta name="PubDate" content="{date}">
<meta name="ContentSource" content="{esc_attr(source)}">
<title>{esc(title)}</title>
<link rel="stylesheet" href="/css/style.css">
</head>
<body>
{HN_TOP}<div class="w1200 main">
<div class="position">當前位置：<a href="/">首頁</a> &gt; <a href="/27310/27316/">政民互動</a> &gt; <a href="{listing_href}">熱線通報</a></div>
<div class="main_content">
<h1 id="title">{esc(title)}</h1>
<div class="info"><span>來源:{esc(source)}</span> <span>{date}</span> <span>瀏覽量:<em id="visit">967</em></span> <span class="zh">字號:[<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>]</span></div>
<div class="content" id="zoom">
{body}
</div>
<div class="share">分享到：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> <a href="javascript:;">QQ空間</a></div>
<div class="print"><a href="javascript:window.print();">【打印】</a> <a href="javascript:window.close();">【關閉】</a></div>
<div class="xgjd"><h3>相關焦點</h3>
<ul>
{chr(10).join(focus_items)}
</ul>
</div>
</div>
</div>
{HN_FOOTER}"""


def hunan_listing(listing: Entry, page: Entry, number: int, count: int) -> str:
    """Build the Hunan-platform column page (one page, 共1頁); link text may be cut short."""
    expect(count == 1, f"{listing['url']}: the Hunan column is modelled as one page")
    items = "\n".join(
        f'<li><a href="{esc_attr(posixpath.basename(url_path(item["url"])))}" '
        f'title="{esc_attr(item["title"])}" target="_blank">'
        f"{esc(item.get('link_text', item['title']))}</a><span>{item['date']}</span></li>"
        for item in page["items"]
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
{HN_META}<title>熱線通報</title>
<link rel="stylesheet" href="/css/style.css">
</head>
<body>
{HN_TOP}<div class="w1200 main">
<div class="position">當前位置：<a href="/">首頁</a> &gt; <a href="/27310/27316/">政民互動</a> &gt; 熱線通報</div>
<div class="list_title">熱線通報</div>
<ul class="list_ul">
{items}
</ul>
<div class="page">共1頁　<span class="cur">1</span></div>
</div>
{HN_FOOTER}"""


# --- 衡东县人民政府: /zmhd/12345rx/gzjb/mytj/YYYYMMDD/i<id>.html -----------------------

HD_META = """<meta name="SiteName" content="衡东县人民政府">
<meta name="SiteDomain" content="www.hengdong.gov.cn">
<meta name="SiteIDCode" content="4304240001">
<meta name="ColumnName" content="月度统计">
<meta name="ColumnType" content="政民互动">
"""

HD_TOP = """<div class="top"><div class="w1200"><span>欢迎访问衡东县人民政府门户网站</span><span class="tools"><a href="javascript:;" id="StranLink">繁体</a> | <a href="/wza/">无障碍</a> | <a href="/">网站首页</a></span></div></div>
<div class="header"><div class="w1200"><a href="/"><img src="/images/logo.png" alt="衡东县人民政府"></a></div></div>
<div class="nav"><div class="w1200"><a href="/">首页</a><a href="/zwgk/">政务公开</a><a href="/zwfw/">政务服务</a><a href="/zmhd/">政民互动</a><a href="/zjhd/">走进衡东</a></div></div>
"""

HD_POSITION = '当前位置：<a href="/">首页</a> &gt; <a href="/zmhd/">政民互动</a> &gt; <a href="/zmhd/12345rx/">12345热线</a> &gt; <a href="/zmhd/12345rx/gzjb/">工作简报</a> &gt; '

HD_FOOTER = """<div class="footer"><div class="w1200">
<p>主办：衡东县人民政府办公室　承办：衡东县融媒体中心</p>
<p>版权所有：衡东县人民政府　网站标识码：4304240001</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">湘ICP备05008327号</a>　<img src="/images/ga.png">湘公网安备 43042402000105号</p>
</div></div>
</body>
</html>
"""


def hd_table(run: list[str]) -> str:
    """Render pipe lines as a table; a header with blank cells becomes a two-row header."""
    rows = [pipe_cells(line) for line in run]
    first = rows[0]
    header_rows: list[str] = []
    if len(rows) > 1 and "" in first:
        # Blank cells after a header cell are its colspan; the next line holds the
        # sub-headers and every other header cell spans both rows.
        second = [cell for cell in rows[1] if cell]
        cells = []
        for index, cell in enumerate(first):
            if not cell:
                continue
            span = 1
            while index + span < len(first) and not first[index + span]:
                span += 1
            if span > 1:
                expect(span == len(second), "table header: colspan does not match sub-headers")
                cells.append(f'<td colspan="{span}"><strong>{esc(cell)}</strong></td>')
            else:
                cells.append(f'<td rowspan="2"><strong>{esc(cell)}</strong></td>')
        header_rows.append("<tr>" + "".join(cells) + "</tr>")
        header_rows.append(
            "<tr>" + "".join(f"<td><strong>{esc(cell)}</strong></td>" for cell in second) + "</tr>"
        )
        data = rows[2:]
    else:
        header_rows.append(
            "<tr>" + "".join(f"<td><strong>{esc(cell)}</strong></td>" for cell in first) + "</tr>"
        )
        data = rows[1:]
    data_rows = [
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in data
    ]
    return (
        '<table border="1" cellspacing="0" cellpadding="0" align="center" '
        'style="border-collapse:collapse;width:100%;text-align:center;">\n<tbody>\n'
        + "\n".join(header_rows + data_rows)
        + "\n</tbody>\n</table>"
    )


def hengdong_attachments(doc: Entry) -> str:
    """Render a "附件：" paragraph after the body linking the article's files by path."""
    if not doc["attachments"]:
        return ""
    links = "<br>".join(
        f'<a href="{esc_attr(url_path(attachment["url"]))}" target="_blank">'
        f"{esc(attachment['name'])}</a>"
        for attachment in doc["attachments"]
    )
    return f'<div class="attach"><p>附件：{links}</p></div>\n'


def hengdong_article(doc: Entry, listing: Entry, page: Entry, lines: list[str]) -> str:
    """Build the Hengdong article page for seed 004 (tables as real <table>s)."""
    info = lines[0]
    info_match = re.fullmatch(r"来源:(.+) 发布时间:(\d{4}-\d\d-\d\d)", info)
    if info_match is None:
        raise ValueError("seed 004: info line changed")
    source, date = info_match.groups()
    expect(date == doc["published_date"], "seed 004: date differs from the manifest")

    def paragraph(line: str) -> str:
        if re.fullmatch(r"〔\d{4}〕第\d+期", line):
            return f'<p style="text-align:center;">{esc(line)}</p>'
        if len(line) > 40:
            return f'<p style="text-indent:2em;">{esc(line)}</p>'
        return f"<p>{esc(line)}</p>"

    body = render_body(lines[1:], paragraph, lambda line: "|" in line, hd_table)
    related = "\n".join(
        f'<li><a href="{esc_attr(url_path(item["url"]))}" target="_blank">{esc(item["title"])}'
        f"</a><span>{item['date']}</span></li>"
        for item in related_items(page)
    )
    title = doc["title"]
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
{HD_META}<meta name="ArticleTitle" content="{esc_attr(title)}">
<meta name="PubDate" content="{date}">
<meta name="ContentSource" content="{esc_attr(source)}">
<title>{esc(title)}-衡东县人民政府</title>
<link rel="stylesheet" href="/css/style.css">
</head>
<body>
{HD_TOP}<div class="w1200 main">
<div class="position">{HD_POSITION}<a href="{url_path(listing["url"])}">月度统计</a></div>
<div class="article">
<h1>{esc(title)}</h1>
<div class="info"><span>来源:{esc(source)}</span> <span>发布时间:{date}</span> <span>浏览次数:<em id="hits">2418</em></span> <span>字号:[<a href="javascript:;">大</a> <a href="javascript:;">中</a> <a href="javascript:;">小</a>]</span></div>
<div class="content" id="zoom">
{body}
</div>
{hengdong_attachments(doc)}<div class="share">分享到：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> <a href="javascript:;">QQ空间</a></div>
<div class="related"><h3>相关链接</h3>
<ul>
{related}
</ul>
</div>
</div>
</div>
{HD_FOOTER}"""


def hengdong_listing(listing: Entry, page: Entry, number: int, count: int) -> str:
    """Build the Hengdong monthly-statistics column page (one page, 共1页)."""
    expect(count == 1, f"{listing['url']}: the Hengdong column is modelled as one page")
    items = "\n".join(
        f'<li><span class="date">{item["date"]}</span><a href="{esc_attr(url_path(item["url"]))}" '
        f'title="{esc_attr(item["title"])}" target="_blank">{esc(item["title"])}</a></li>'
        for item in page["items"]
    )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
{HD_META}<title>月度统计-衡东县人民政府</title>
<link rel="stylesheet" href="/css/style.css">
</head>
<body>
{HD_TOP}<div class="w1200 main">
<div class="position">{HD_POSITION}月度统计</div>
<div class="side"><h3>工作简报</h3><ul><li><a href="/zmhd/12345rx/gzjb/jdtj/index.html">季度统计</a></li><li class="on"><a href="/zmhd/12345rx/gzjb/mytj/index.html">月度统计</a></li></ul></div>
<div class="list">
<ul>
{items}
</ul>
<div class="page">共1页　首页　上一页　<span class="cur">1</span>　下一页　尾页</div>
</div>
</div>
{HD_FOOTER}"""


# (document, its listing, the listing page that links it, seed lines) -> page text
ArticleBuilder = Callable[[Entry, Entry, Entry, list[str]], str]
# (listing, one of its pages, the page's 0-based number, the page count) -> page text
ListingBuilder = Callable[[Entry, Entry, int, int], str]

ARTICLE_BUILDERS: dict[str, ArticleBuilder] = {
    "000_5af7f0b63c462ffc.txt": portal_article,
    "001_6042179daa519de6.txt": gd_article,
    "002_4021d749a9c88b68.txt": trs_article,
    "003_f506935e597fb905.txt": hunan_article,
    "004_4a1945551eb7f6d2.txt": hengdong_article,
}

LISTING_BUILDERS: dict[str, ListingBuilder] = {
    "www.zhongyuan-news.example": portal_listing,
    "www.zhanjiang.gov.cn": gd_listing,
    "www.liaocheng.gov.cn": trs_listing,
    "www.yunxi.gov.cn": hunan_listing,
    "www.hengdong.gov.cn": hengdong_listing,
}


def load_manifest(path: Path = MANIFEST_PATH) -> Entry:
    """Read samples/manifest.yml."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def listing_for(document: Entry, listings: list[Entry]) -> tuple[Entry, Entry]:
    """Return the listing, and the page of it, that links to a document."""
    for listing in listings:
        for page in listing_pages(listing):
            if any(item["url"] == document["url"] for item in page["items"]):
                return listing, page
    raise ValueError(f"no listing links to {document['url']}")


def attachment_bytes(attachment: Entry) -> bytes:
    """Return the bytes of an attachment: its document fixture, copied unedited."""
    source = REPO_ROOT / attachment["copied_from"]
    expect(
        PurePosixPath(url_path(attachment["url"])).suffix == source.suffix,
        f"{attachment['url']}: extension differs from {attachment['copied_from']}",
    )
    return source.read_bytes()


def render_pages(manifest: Entry) -> dict[str, bytes]:
    """Return every file of the mirror as {path relative to samples/: bytes}."""
    pages: dict[str, bytes] = {}
    listings = manifest["listings"]
    for document in manifest["documents"]:
        build = ARTICLE_BUILDERS[document["seed"]]
        listing, page = listing_for(document, listings)
        text = build(document, listing, page, seed_lines(document["seed"]))
        pages[document["path"]] = text.encode(CODECS[document["charset"]])
        for attachment in document["attachments"]:
            pages[attachment["path"]] = attachment_bytes(attachment)
    for listing in listings:
        build_listing = LISTING_BUILDERS[urlsplit(listing["url"]).hostname or ""]
        column_pages = listing_pages(listing)
        for number, page in enumerate(column_pages):
            text = build_listing(listing, page, number, len(column_pages))
            pages[page["path"]] = text.encode(CODECS[page["charset"]])
    return pages


def write_pages(out_dir: Path, manifest: Entry) -> list[Path]:
    """Write the mirror under out_dir and return the written files."""
    written = []
    for relative, data in sorted(render_pages(manifest).items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: write the pages under --out (default samples/)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="output directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in write_pages(args.out, load_manifest()):
        logger.info("wrote %s", path)


if __name__ == "__main__":
    main()
