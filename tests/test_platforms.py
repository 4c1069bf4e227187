"""Platform readers on small hand-written pages: pagination rules, dates, attachments, filter."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest

from parsers.errors import ParseError
from scrapers.base import ListingPage, Source
from scrapers.filters import is_bulletin_title
from scrapers.platforms import generic, get_platform, guangdong, hanweb, platform_for, trs
from scrapers.platforms.common import find_date


def make_source(platform: str = "generic", **quirks: object) -> Source:
    """A source for tests; only the platform and quirks matter to the readers."""
    return Source(
        slug="test",
        name="测试市",
        province="测试省",
        level="prefecture",
        division_code=None,
        homepage="http://www.example.gov.cn/",
        listing_urls=("http://www.example.gov.cn/col/index.html",),
        platform=platform,
        allowed_hosts=("www.example.gov.cn",),
        quirks=dict(quirks),
    )


def page(body: str, charset: str = "utf-8") -> bytes:
    """An HTML page around ``body``, encoded in ``charset`` and declaring it."""
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>列表</title></head><body>{body}</body></html>"
    ).encode(charset)


def triples(listing: ListingPage) -> list[tuple[str, str, date | None]]:
    """(url, title, date) of each item."""
    return [(item.url, item.title, item.published) for item in listing.items]


BASE = "http://www.example.gov.cn/col/"

# --- TRS ---------------------------------------------------------------------------------------


def test_trs_old_call_lists_pages_from_index_1() -> None:
    data = page('<div class="page"><script>createPageHTML(4, 0, "index", "html");</script></div>')
    listing = trs.parse_listing(data, BASE + "index.html", make_source("trs"))
    assert listing.next_pages == [
        BASE + "index_1.html",
        BASE + "index_2.html",
        BASE + "index_3.html",
    ]
    assert listing.total_pages == 4


def test_trs_new_call_with_element_id_and_record_count() -> None:
    data = page("<script>createPageHTML('page_div', 3, 0, 'index', 'shtml', 41);</script>")
    listing = trs.parse_listing(data, BASE, make_source("trs"))
    assert listing.next_pages == [BASE + "index_1.shtml", BASE + "index_2.shtml"]
    assert listing.total_pages == 3


def test_trs_later_page_lists_no_pages() -> None:
    data = page('<script>createPageHTML(4, 2, "index", "html");</script>')
    listing = trs.parse_listing(data, BASE + "index_2.html", make_source("trs"))
    assert listing.next_pages == []
    assert listing.total_pages == 4


def test_trs_single_page_and_missing_call() -> None:
    one = trs.parse_listing(
        page('<script>createPageHTML(1, 0, "index", "html");</script>'), BASE, make_source("trs")
    )
    assert (one.next_pages, one.total_pages) == ([], 1)
    none = trs.parse_listing(page("<p>无</p>"), BASE, make_source("trs"))
    assert (none.next_pages, none.total_pages) == ([], None)


def test_trs_items_take_the_date_beside_the_link_not_in_the_title() -> None:
    data = page(
        '<ul class="list">'
        '<li><a href="./202407/t20240715_1.html">2024年第28周(7月8日—7月14日)12345热线周报</a>'
        "<span>2024-07-15</span></li>"
        '<li><a href="./202407/t20240709_2.html">2024年7月8日12345热线运行情况</a>'
        "<span>2024-07-09</span></li>"
        "</ul>",
        "gbk",
    )
    listing = trs.parse_listing(data, BASE + "index.html", make_source("trs"), "text/html")
    assert triples(listing) == [
        (
            BASE + "202407/t20240715_1.html",
            "2024年第28周(7月8日—7月14日)12345热线周报",
            date(2024, 7, 15),
        ),
        (BASE + "202407/t20240709_2.html", "2024年7月8日12345热线运行情况", date(2024, 7, 9)),
    ]


def test_items_prefer_the_title_attribute_and_skip_undated_menus() -> None:
    data = page(
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul>'
        "</div><ul>"
        '<li><a href="a.html" title="2024年11月份12345热线运行情况">2024年11月份12345热...</a>'
        "<span>2024-12-12</span></li>"
        '<li><a href="javascript:void(0)">更多</a><span>2024-12-01</span></li>'
        "</ul>"
    )
    listing = generic.parse_listing(data, BASE + "index.html", make_source())
    assert triples(listing) == [
        (BASE + "a.html", "2024年11月份12345热线运行情况", date(2024, 12, 12))
    ]


def test_list_selector_takes_undated_items_inside_the_container_only() -> None:
    data = page(
        '<ul class="side"><li><a href="x.html">侧栏</a><span>2024-01-01</span></li></ul>'
        '<div class="bulletins"><ul><li><a href="b.html">12345热线月报</a></li></ul></div>'
    )
    source = make_source(list_selector="div.bulletins")
    listing = generic.parse_listing(data, BASE + "index.html", source)
    assert triples(listing) == [(BASE + "b.html", "12345热线月报", None)]


def test_list_selector_that_matches_nothing_is_an_error() -> None:
    with pytest.raises(ParseError, match="div.missing"):
        generic.parse_listing(page("<ul></ul>"), BASE, make_source(list_selector="div.missing"))


def test_table_rows_are_items() -> None:
    data = page(
        "<table><tr><th>标题</th><th>日期</th></tr>"
        '<tr><td><a href="/art/2024/7/15/art_31897_3283975.html">12345热线周报</a></td>'
        "<td>2024/07/15</td></tr></table>"
    )
    listing = generic.parse_listing(data, BASE, make_source())
    assert triples(listing) == [
        (
            "http://www.example.gov.cn/art/2024/7/15/art_31897_3283975.html",
            "12345热线周报",
            date(2024, 7, 15),
        )
    ]


def test_dates_in_the_usual_spellings() -> None:
    assert find_date("[2024.07.15]") == date(2024, 7, 15)
    assert find_date("发布时间：2024年7月5日") == date(2024, 7, 5)
    assert find_date("2024-13-45 2024-02-29") == date(2024, 2, 29)
    assert find_date("2024年7月") is None


def test_empty_and_binary_bodies_are_errors() -> None:
    with pytest.raises(ParseError):
        generic.parse_listing(b"   ", BASE, make_source())
    with pytest.raises(ParseError, match="PDF"):
        trs.parse_listing(b"%PDF-1.7 ...", BASE, make_source("trs"))


# --- numbered pagers (Guangdong, Hunan, generic) ---------------------------------------------


def test_pager_count_from_slash_form() -> None:
    data = page('<div class="pages">1/3页 <a href="index_2.html">下一页</a></div>')
    listing = guangdong.parse_listing(data, BASE + "index.html", make_source("guangdong"))
    assert listing.next_pages == [BASE + "index_2.html", BASE + "index_3.html"]
    assert listing.total_pages == 3


def test_pager_count_from_the_last_page_link() -> None:
    data = page(
        '<div class="pagination"><a href="index_2.html">2</a><a href="index_3.html">3</a>'
        '<a href="index_5.html">尾页</a></div>'
    )
    listing = guangdong.parse_listing(data, BASE + "index.html", make_source("guangdong"))
    assert listing.next_pages == [BASE + f"index_{n}.html" for n in (2, 3, 4, 5)]
    assert listing.total_pages == 5


def test_pager_without_count_lists_the_links_after_the_current_page() -> None:
    pager = (
        '<div class="page"><a href="index.html">1</a><a href="index_2.html">2</a>'
        '<a href="index_3.html">3</a><a href="index_4.html">4</a><a href="index_4.html">下一页</a>'
        "</div>"
    )
    first = generic.parse_listing(page(pager), BASE + "index.html", make_source())
    assert first.next_pages == [BASE + "index_2.html", BASE + "index_3.html", BASE + "index_4.html"]
    assert first.total_pages is None
    third = generic.parse_listing(page(pager), BASE + "index_3.html", make_source())
    assert third.next_pages == [BASE + "index_4.html"]


def test_pager_quirks_stem_first_number_and_selector() -> None:
    data = page('<div class="fenye">共3页</div><div id="pg">共4页</div>')
    source = make_source(pager_selector="#pg", page_stem="list", first_page_number=1)
    listing = generic.parse_listing(data, BASE + "list.shtml", source)
    assert listing.next_pages == [
        BASE + "list_1.shtml",
        BASE + "list_2.shtml",
        BASE + "list_3.shtml",
    ]
    assert listing.total_pages == 4


def test_no_pager_no_pages() -> None:
    listing = generic.parse_listing(page("<ul></ul>"), BASE, make_source())
    assert (listing.next_pages, listing.total_pages) == ([], None)


# --- Hanweb ------------------------------------------------------------------------------------

NEXTGROUP = (
    '<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=35'
    '&path=/&columnid=31897&unitid=3995919&permissiontype=0"></a>]]></nextgroup>'
)
PROXY = "http://www.example.gov.cn/module/web/jpage/dataproxy.jsp"
FIELDS = "col=1&appid=1&webid=35&path=%2F&columnid=31897&unitid=3995919&permissiontype=0"


def record(n: int) -> str:
    """The n-th datastore record: a dated link to a Hanweb article."""
    return (
        f'<record><![CDATA[<li><a href="/art/2024/7/{n % 28 + 1}/art_31897_{3283000 + n}.html" '
        f'title="第{n}条">第{n}条</a><span>2024-07-{n % 28 + 1:02d}</span></li>]]></record>'
    )


def column_page(records: int, script: str = "", nextgroup: str = NEXTGROUP) -> bytes:
    """A Hanweb column page inlining ``records`` records, with a pager script."""
    body = (
        f'<div id="3995919"><script type="text/xml"><datastore>{nextgroup}<recordset>'
        + "".join(record(n) for n in range(1, records + 1))
        + f"</recordset></datastore></script></div><script>{script}</script>"
    )
    return page(body)


def test_hanweb_first_page_lists_one_request_per_group() -> None:
    data = column_page(45, "$('#3995919').jpage({totalRecord: 100, perPage: 15, groupSize: 3});")
    listing = hanweb.parse_listing(data, BASE + "index.html", make_source("hanweb"))
    assert len(listing.items) == 45
    assert listing.items[0].url == "http://www.example.gov.cn/art/2024/7/2/art_31897_3283001.html"
    assert listing.items[0].published == date(2024, 7, 2)
    assert listing.next_pages == [
        f"{PROXY}?startrecord=46&endrecord=90&perpage=15&{FIELDS}",
        f"{PROXY}?startrecord=91&endrecord=135&perpage=15&{FIELDS}",
    ]
    assert listing.total_pages == 7


def test_hanweb_total_from_the_datastore_and_group_from_quirks() -> None:
    nextgroup = NEXTGROUP + "<totalrecord>12</totalrecord>"
    data = column_page(4, nextgroup=nextgroup)
    source = make_source("hanweb", perpage=2, group_size=2)
    listing = hanweb.parse_listing(data, BASE, source)
    assert listing.next_pages == [
        f"{PROXY}?startrecord=5&endrecord=8&perpage=2&{FIELDS}",
        f"{PROXY}?startrecord=9&endrecord=12&perpage=2&{FIELDS}",
    ]


def test_hanweb_unknown_total_asks_for_the_next_group_only() -> None:
    data = column_page(45)
    listing = hanweb.parse_listing(data, BASE, make_source("hanweb"))
    assert listing.next_pages == [f"{PROXY}?startrecord=46&endrecord=90&perpage=15&{FIELDS}"]
    assert listing.total_pages is None


def test_hanweb_short_column_has_no_more_requests() -> None:
    listing = hanweb.parse_listing(column_page(7), BASE, make_source("hanweb"))
    assert len(listing.items) == 7
    assert listing.next_pages == []


def test_hanweb_fields_from_quirks_without_nextgroup() -> None:
    data = column_page(45, nextgroup="")
    source = make_source("hanweb", webid=8, columnid=1201, unitid=556677)
    listing = hanweb.parse_listing(data, BASE, source)
    assert listing.next_pages == [
        f"{PROXY}?startrecord=46&endrecord=90&perpage=15"
        "&col=1&appid=1&webid=8&columnid=1201&unitid=556677&permissiontype=0"
    ]


def test_hanweb_without_nextgroup_or_columnid_is_an_error() -> None:
    with pytest.raises(ParseError, match="columnid"):
        hanweb.parse_listing(column_page(45, nextgroup=""), BASE, make_source("hanweb"))


def test_hanweb_older_proxy_path_is_kept() -> None:
    nextgroup = NEXTGROUP.replace("/module/web/jpage/", "/module/jpage/")
    data = column_page(45, "totalRecord:50", nextgroup=nextgroup)
    listing = hanweb.parse_listing(data, BASE, make_source("hanweb"))
    assert listing.next_pages == [
        f"http://www.example.gov.cn/module/jpage/dataproxy.jsp?startrecord=46&endrecord=90"
        f"&perpage=15&{FIELDS}"
    ]


def test_hanweb_answer_lists_the_requests_after_its_own() -> None:
    answer = (
        '<?xml version="1.0" encoding="GBK"?>\n<datastore><totalrecord>150</totalrecord>'
        "<totalpage>10</totalpage><recordset>"
        '<record>&lt;li&gt;&lt;a href="/art/2024/3/1/art_31897_1.html"&gt;热线周报&lt;/a&gt;'
        "&lt;span&gt;2024-03-01&lt;/span&gt;&lt;/li&gt;</record>"
        "</recordset></datastore>"
    ).encode("gbk")
    url = f"{PROXY}?startrecord=46&endrecord=90&perpage=15&{FIELDS}"
    listing = hanweb.parse_listing(answer, url, make_source("hanweb"), "text/xml")
    assert triples(listing) == [
        ("http://www.example.gov.cn/art/2024/3/1/art_31897_1.html", "热线周报", date(2024, 3, 1))
    ]
    assert listing.next_pages == [
        f"{PROXY}?startrecord=91&endrecord=135&perpage=15&{FIELDS}",
        f"{PROXY}?startrecord=136&endrecord=180&perpage=15&{FIELDS}",
    ]
    assert listing.total_pages == 10


def test_hanweb_unitid_quirk_picks_the_column_list() -> None:
    side = (
        '<div id="111"><script type="text/xml"><datastore><recordset>'
        '<record><![CDATA[<li><a href="/art/2024/1/1/art_9_1.html">要闻</a>'
        "<span>2024-01-01</span></li>]]></record></recordset></datastore></script></div>"
    )
    data = page(side) + column_page(2)
    listing = hanweb.parse_listing(data, BASE, make_source("hanweb", unitid=3995919))
    assert [item.title for item in listing.items] == ["第1条", "第2条"]


def test_hanweb_page_without_datastore_is_read_as_a_list() -> None:
    data = page('<ul><li><a href="/art/2024/1/2/art_1_2.html">热线月报</a> 2024-01-02</li></ul>')
    listing = hanweb.parse_listing(data, BASE, make_source("hanweb"))
    assert triples(listing) == [
        ("http://www.example.gov.cn/art/2024/1/2/art_1_2.html", "热线月报", date(2024, 1, 2))
    ]


# --- attachments -------------------------------------------------------------------------------

ARTICLE = "http://www.example.gov.cn/art/2024/7/15/art_31897_3283975.html"
DOWNFILE = "http://www.example.gov.cn/module/download/downfile.jsp"


def test_downfile_names_come_from_showname_in_utf8_or_gbk() -> None:
    gbk_name = quote("附表1.xls".encode("gbk"))
    body = (
        '<div id="zoom">'
        f'<a href="/module/download/downfile.jsp?classid=0&showname={gbk_name}'
        '&filename=0a1b2c3d4e5f60718293a4b5c6d7e8f9.xls">附表1.xls</a>'
        '<a href="/module/download/downfile.jsp?classid=0&showname=%E6%83%85%E5%86%B5%E8%A1%A8'
        '&filename=ffeeddccbbaa99887766554433221100.docx">下载</a>'
        '<a href="/module/download/downfile.jsp?classid=0'
        '&filename=00112233445566778899aabbccddeeff.pdf">下载</a>'
        "</div>"
    )
    found = hanweb.parse_attachments(page(body), ARTICLE, make_source("hanweb"))
    assert [(a.url, a.name) for a in found] == [
        (
            f"{DOWNFILE}?classid=0&showname={gbk_name}&filename=0a1b2c3d4e5f60718293a4b5c6d7e8f9.xls",
            "附表1.xls",
        ),
        (
            f"{DOWNFILE}?classid=0&showname=%E6%83%85%E5%86%B5%E8%A1%A8"
            "&filename=ffeeddccbbaa99887766554433221100.docx",
            "情况表.docx",
        ),
        (
            f"{DOWNFILE}?classid=0&filename=00112233445566778899aabbccddeeff.pdf",
            "00112233445566778899aabbccddeeff.pdf",
        ),
    ]


def test_only_table_pictures_in_the_body_are_attachments() -> None:
    body = (
        '<div class="head"><img src="/images/logo.png" alt="附表"></div>'
        '<div class="TRS_Editor">'
        '<p><img src="./W020240715111.png" alt="附表1 各区办理情况"></p>'
        '<p><img src="./W020240715222.jpg"></p><p>（图2 诉求类别）</p>'
        "<p>正文</p><p>正文</p>"
        '<p><img src="./W020240715333.jpg"></p>'
        "<p>正文</p>"
        '<p><img src="/images/icon_word.png" alt="附表"></p>'
        '<p><img src="./W020240715444.gif" alt="附表2"></p>'
        "</div>"
        '<div class="footer"><img src="/images/ga.png"></div>'
    )
    found = trs.parse_attachments(page(body), BASE + "202407/t20240715_1.html", make_source("trs"))
    assert [(a.url, a.name) for a in found] == [
        (BASE + "202407/W020240715111.png", "W020240715111.png"),
        (BASE + "202407/W020240715222.jpg", "W020240715222.jpg"),
    ]


def test_table_images_quirk_keeps_every_body_picture_but_icons() -> None:
    body = (
        '<div id="zoom"><p><img src="./W020240715333.jpg"></p>'
        '<p><img src="/images/share_wx.png"></p></div>'
    )
    source = make_source("trs", table_images=True)
    found = trs.parse_attachments(page(body), BASE + "202407/t20240715_1.html", source)
    assert [(a.url, a.name) for a in found] == [
        (BASE + "202407/W020240715333.jpg", "W020240715333.jpg")
    ]


def test_attachment_block_outside_the_body_counts_and_related_links_do_not() -> None:
    body = (
        '<div id="zoom"><p>正文（见附件）</p><p><a href="javascript:print()">打印.pdf</a></p></div>'
        '<div class="fjbox"><span>附件：</span><ul>'
        '<li><a href="/u/cms/www/202407/15093012abcd.pdf">1.统计表.pdf</a></li></ul></div>'
        '<div class="related"><a href="/files/annual_report.pdf">年报.pdf</a></div>'
    )
    found = generic.parse_attachments(page(body), ARTICLE, make_source())
    assert [(a.url, a.name) for a in found] == [
        ("http://www.example.gov.cn/u/cms/www/202407/15093012abcd.pdf", "1.统计表.pdf")
    ]


def test_link_without_text_is_named_by_its_file() -> None:
    body = '<div id="zoom"><a href="files/tongji.xlsx"><img src="/images/xls.gif"></a></div>'
    found = generic.parse_attachments(page(body), BASE + "a.html", make_source())
    assert [(a.url, a.name) for a in found] == [(BASE + "files/tongji.xlsx", "tongji.xlsx")]


# --- platform lookup ---------------------------------------------------------------------------


def test_platform_names() -> None:
    assert get_platform("trs") is trs
    assert get_platform("hunan").parse_listing is generic.parse_listing
    with pytest.raises(KeyError, match="unknown platform 'wordpress'; known: generic, guangdong"):
        get_platform("wordpress")


def test_platform_for_uses_the_hosts_own_platform() -> None:
    source = make_source("trs", host_platforms={"news.example.com": "generic"})
    assert platform_for(source, "http://news.example.com/a/index.html") is generic
    assert platform_for(source, "http://www.example.gov.cn/col/index.html") is trs


# --- the bulletin filter on real-looking titles ------------------------------------------------


@pytest.mark.parametrize(
    ("title", "verdict"),
    [
        ("2024年第28周(7月8日—7月14日)12345热线周报", (True, "hotline figures (12345)")),
        ("河北省12345政务服务便民热线2021年运行情况", (True, "hotline figures (12345)")),
        ("关于2024年11月份全市政务服务热线工单办理情况的通报", (True, "hotline figures (热线)")),
        ("市长信箱来信办理情况(2024年第三季度)", (True, "hotline figures (来信)")),
        ("12345熱線11月份運行情況通報", (True, "hotline figures (12345)")),
        ("１２３４５热线月报〔2020〕第9期", (True, "hotline figures (12345)")),
        ("全市群众诉求分析报告", (True, "hotline figures (诉求)")),
        ("关于举办12345热线业务培训班的通知", (False, "a notice, not figures (培训)")),
        ("12345热线平台运维服务采购项目中标公告", (False, "a notice, not figures (采购)")),
        ("关于12345热线知识库信息的公示", (False, "a notice, not figures (公示)")),
        ("市12345热线召开2024年工作推进会议", (False, "a notice, not figures (会议)")),
        ("市政府召开常务会议", (False, "no hotline word")),
        ("全市新增城镇就业4260人", (False, "no hotline word")),
    ],
)
def test_bulletin_title(title: str, verdict: tuple[bool, str]) -> None:
    assert is_bulletin_title(title) == verdict
