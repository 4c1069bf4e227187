"""Tests of parsers/html.py on the devset pages (copied to fixtures/html) and small made-up pages.

Expected values come from /work/shared/devset/labels.jsonl and from reading the pages.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import pytest

from parsers.errors import ParseError
from parsers.html import HtmlDocument, decode_html, extract_html

FIXTURES = Path(__file__).parent / "fixtures" / "html"
FILES = {
    "d001": "devset_d001.html",
    "d002": "devset_d002.html",
    "d011": "devset_d011.html",
    "d016": "devset_d016.html",
    "d019": "devset_d019_gbk.html",
    "d021": "devset_d021.html",
    "d028": "devset_d028.html",
    "d031": "devset_d031.html",
}


@cache
def devset(doc_id: str) -> HtmlDocument:
    return extract_html((FIXTURES / FILES[doc_id]).read_bytes(), document=FILES[doc_id])


def lines(doc: HtmlDocument) -> list[str]:
    return doc.text.split("\n")


# --- devset pages: one fact per test ------------------------------------------------------

TITLES = {
    "d001": "绍兴市12345政务服务热线2023年8月份运行情况通报",
    "d002": "2024年第35周苏州12345便民服务热线受理情况",
    "d011": "江北区12345热线2022年11月办理情况通报",
    "d016": "宝鸡市12345政务服务便民热线2022年第三季度工作通报",
    "d019": "河北省12345政务服务便民热线2021年运行情况",
    "d021": "“双节”假期海口12345热线受理群众诉求15827件",
    "d028": "天河区12345政务服务便民热线2024年第一季度运行情况",
    "d031": "遵义市12345政务服务便民热线2024年5月运行情况",
}
PUBDATES = {
    "d001": "2023-09-12 16:20",
    "d002": "2024-09-03 10:05",
    "d011": "2022-12-06 17:03",
    "d016": "2022-10-17 15:48",
    "d019": "2022-01-25 10:30",
    "d021": "2023-10-07 18:20",
    "d028": "2024-04-15 16:40:12",
    "d031": "2024-06-06 11:15",
}
CHARSETS = {doc_id: "utf-8" for doc_id in FILES} | {"d019": "gb18030"}

# From labels.jsonl: (title, header, rows, first_row, last_row) of each page's table.
TABLES = {
    "d001": (
        "表1 8月份各区、县（市）承办情况表",
        ["单位", "转派工单（件）", "已办结（件）", "办结率", "超期工单（件）/超期已办结",
         "超期工单（件）/超期未办理", "满意率"],
        8,
        ["越城区", "6,412", "6,305", "98.33%", "41", "3", "96.57%"],
        ["合计", "34,958", "34,334", "98.21%", "234", "25", "96.11%"],
    ),
    "d002": (
        "本周群众反映较多的前五项诉求",
        ["序号", "诉求内容", "件数", "较上周"],
        5,
        ["1", "高温停电", "2,318", "下降21.4%"],
        ["5", "公交出行", "1,037", "上升12.9%"],
    ),
    "d011": (
        "11月各街镇12345热线工单办理情况",
        ["街镇", "工单量", "办理情况/按期办结", "办理情况/超期办结", "办理情况/未办结",
         "回访情况/满意", "回访情况/基本满意", "回访情况/不满意"],
        9,
        ["观音桥街道", "312", "296", "12", "4", "241", "38", "14"],
        ["合计", "1326", "1277", "38", "11", "1041", "160", "58"],
    ),
    "d016": (
        "2022年第三季度各县区12345热线工单办理情况统计表",
        ["县区", "转办工单（件）", "办结情况/办结量（件）", "办结情况/办结率",
         "按时办结情况/按时办结量（件）", "按时办结情况/按时办结率", "满意率"],
        14,
        ["渭滨区", "9,862", "9,731", "98.67%", "9,522", "96.55%", "95.02%"],
        ["合计", "54,940", "54,153", "98.57%", "52,778", "96.06%", "95.47%"],
    ),
    "d019": (
        "2021年各设区市（含定州、辛集市和雄安新区）12345热线受理办理情况",
        ["地区", "受理情况/受理量（万件）", "受理情况/同比", "办理情况/办结率",
         "办理情况/按时办结率", "满意率"],
        15,
        ["石家庄市", "268.41", "16.72%", "98.61%", "96.84%", "95.37%"],
        ["全省合计", "1286.37", "18.64%", "98.58%", "96.31%", "95.84%"],
    ),
    "d021": ("假期每日受理量", ["日期", "受理量（件）"], 9, ["9月29日", "1,652"], ["合计", "15,827"]),
    "d028": (
        "工单量前十位街道办理情况",
        ["街道", "工单量（件）", "办结情况/办结量（件）", "办结情况/办结率", "满意情况/满意率",
         "满意情况/排名"],
        11,
        ["石牌街道", "3,816", "3,742", "98.06%", "96.82%", "3"],
        ["合计", "24,290", "23,801", "97.99%", "95.69%", "—"],
    ),
    "d031": (
        "满意率排名后五位的县（市、区）",
        ["县（市、区）", "转派量（件）", "办结率", "满意率"],
        5,
        ["桐梓县", "2,318", "96.12%", "90.47%"],
        ["习水县", "1,812", "96.91%", "92.04%"],
    ),
}  # fmt: skip

# Sentences of each bulletin that the body text must contain (read from the pages).
KEY_SENTENCES = {
    "d001": ["8月份，热线共受理群众诉求96,482件，同比增长5.86%，环比下降2.41%。",
             "〔2023〕第8期", "四、下步工作"],
    "d002": ["苏州12345便民服务热线共受理群众诉求41,286件，较上周下降3.18%，日均5,898件。",
             "咨询18,244件，求助9,871件，投诉9,502件"],
    "d011": ["2022年11月，全区应办理12345热线工单1,947件", "表扬两件。"],
    "d016": ["三季度，市12345热线共受理群众诉求203,715件", "三、存在问题"],
    "d019": ["共受理群众诉求1286.37万件，同比增长18.64%，日均3.52万件。", "四、热点诉求"],
    "d021": ["海口市12345智慧热线共受理群众诉求15,827件", "离岛免税购物咨询623件。"],
    "d028": ["一季度，天河区共受理群众诉求47,318件，同比增长9.86%。",
             "注：排名为上述10个街道按满意率排序。"],
    "d031": ["受理量、转派量、回访量环比分别增长4.83%、下降1.26%、增长9.40%。",
             "热线呼入电话68,904个，接通67,213个，接通率97.55%。"],
}  # fmt: skip

# Page furniture that must not reach the body text: counters, related links, footers, nav.
NOISE = {
    "d001": ["1826", "浏览次数", "版权所有", "浙ICP备", "公网安备", "网站标识码", "分享到",
             "打印本页", "当前位置", "主办单位", "分辨率"],
    "d002": ["19.6万件", "3200个", "11.2万人次", "第34周", "相关链接", "2,417", "苏ICP备",
             "网站地图", "您当前的位置", "信息来源"],
    "d011": ["索引号", "00391", "成文日期", "字号", "渝ICP备", "版权所有"],
    "d016": ["2031", "访问量", "陕ICP备", "网站标识码", "当前位置"],
    "d019": ["冀ICP备", "版权所有", "【打印】", "来源："],
    "d021": ["973", "浏览量", "琼ICP备", "分享到"],
    "d028": ["1389", "浏览次数", "粤ICP备", "分享到", "发布日期"],
    "d031": ["99.2%", "2100个", "23.6%", "2024年4月运行情况", "864", "相关信息", "黔ICP备",
             "关闭窗口"],
}  # fmt: skip


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_title(doc_id: str) -> None:
    assert devset(doc_id).title == TITLES[doc_id]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_meta_pubdate(doc_id: str) -> None:
    doc = devset(doc_id)
    assert doc.meta["PubDate"] == PUBDATES[doc_id]
    assert doc.published == PUBDATES[doc_id]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_charset(doc_id: str) -> None:
    assert devset(doc_id).charset == CHARSETS[doc_id]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_one_table(doc_id: str) -> None:
    assert len(devset(doc_id).tables) == 1


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_title(doc_id: str) -> None:
    assert devset(doc_id).tables[0].title == TABLES[doc_id][0]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_header(doc_id: str) -> None:
    assert devset(doc_id).tables[0].header == TABLES[doc_id][1]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_row_count(doc_id: str) -> None:
    assert len(devset(doc_id).tables[0].rows) == TABLES[doc_id][2]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_first_row(doc_id: str) -> None:
    assert devset(doc_id).tables[0].rows[0] == TABLES[doc_id][3]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_last_row(doc_id: str) -> None:
    assert devset(doc_id).tables[0].rows[-1] == TABLES[doc_id][4]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_document_name(doc_id: str) -> None:
    assert devset(doc_id).tables[0].document == FILES[doc_id]


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_key_sentences_in_text(doc_id: str) -> None:
    text = devset(doc_id).text
    for sentence in KEY_SENTENCES[doc_id]:
        assert sentence in text


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_noise_absent(doc_id: str) -> None:
    text = devset(doc_id).text
    for noise in NOISE[doc_id]:
        assert noise not in text, noise


@pytest.mark.parametrize("doc_id", FILES)
def test_devset_table_last_row_rendered_in_text(doc_id: str) -> None:
    expected = " ".join(f"{cell} |" for cell in TABLES[doc_id][4])
    assert expected in lines(devset(doc_id))


def test_devset_table_rendered_after_its_title_line() -> None:
    text_lines = lines(devset("d001"))
    title_at = text_lines.index("表1 8月份各区、县（市）承办情况表")
    assert text_lines[title_at + 1].startswith("单位 | 转派工单（件） |")
    assert text_lines[title_at + 2] == "超期已办结 | 超期未办理 |"


def test_devset_bulletin_ends_with_dateline() -> None:
    assert lines(devset("d031"))[-1] == "2024年6月5日"


def test_devset_meta_has_site_and_column() -> None:
    meta = devset("d016").meta
    assert meta["SiteName"] == "宝鸡市人民政府"
    assert meta["ColumnName"] == "热线通报"
    assert meta["ContentSource"] == "市政务服务中心"


# --- decoding ----------------------------------------------------------------------------

PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    "<title>热线</title></head><body><p>{body}</p></body></html>"
)


def test_gb2312_declared_bytes_decode_as_gb18030() -> None:
    # 喆 is outside GB2312 (GBK only): the page still decodes, as browsers do.
    body = "张喆反映小区噪声扰民，热线已转办。"
    data = PAGE.format(charset="gb2312", body=body).encode("gb18030")
    text, charset = decode_html(data)
    assert charset == "gb18030"
    assert body in text


def test_gb2312_declared_page_extracts_text() -> None:
    body = "全市12345热线共受理群众诉求8,765件。"
    data = PAGE.format(charset="gb2312", body=body).encode("gb18030")
    assert extract_html(data).text == body


BIG5_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    "<title>熱線</title></head><body><p>熱線共受理群眾訴求一萬件</p></body></html>"
)


def test_http_charset_wins_over_meta() -> None:
    body = "熱線共受理群眾訴求一萬件"
    data = BIG5_PAGE.encode("big5")
    text, charset = decode_html(data, http_charset="Big5")
    assert charset == "big5hkscs"
    assert body in text


def test_meta_charset_used_without_http_charset() -> None:
    # The same Big5 bytes read under their (wrong) gb2312 label give other characters.
    body = "熱線共受理群眾訴求一萬件"
    data = BIG5_PAGE.encode("big5")
    text, charset = decode_html(data)
    assert charset == "gb18030"
    assert body not in text


def test_http_charset_that_does_not_fit_falls_back_to_meta() -> None:
    body = "全市热线工单办结率98.1%"
    data = PAGE.format(charset="gbk", body=body).encode("gb18030")
    text, charset = decode_html(data, http_charset="utf-8")
    assert charset == "gb18030"
    assert body in text


def test_http_latin1_default_does_not_override_page_charset() -> None:
    body = "全市热线工单办结率98.1%"
    data = PAGE.format(charset="utf-8", body=body).encode("utf-8")
    text, charset = decode_html(data, http_charset="ISO-8859-1")
    assert charset == "utf-8"
    assert body in text


def test_undeclared_gbk_page_is_detected() -> None:
    raw = (FIXTURES / FILES["d019"]).read_bytes()
    undeclared = raw.replace(b"charset=gb2312", b"")
    text, charset = decode_html(undeclared)
    assert charset == "gb18030"
    assert "共受理群众诉求1286.37万件" in text


def test_utf8_bom_is_honoured() -> None:
    data = b"\xef\xbb\xbf" + "<p>热线周报</p>".encode()
    assert decode_html(data) == ("<p>热线周报</p>", "utf-8")


def test_binary_garbage_raises() -> None:
    garbage = random.Random(12345).randbytes(4096)
    with pytest.raises(ParseError):
        decode_html(garbage)


def test_high_byte_garbage_raises() -> None:
    rng = random.Random(7)
    garbage = bytes(rng.randrange(0x80, 0x100) for _ in range(4096))
    with pytest.raises(ParseError):
        decode_html(garbage)


def test_pdf_bytes_raise() -> None:
    with pytest.raises(ParseError):
        extract_html(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


def test_empty_bytes_raise() -> None:
    with pytest.raises(ParseError):
        decode_html(b"  \n")


# --- ruby, scripts, hidden elements ---------------------------------------------------------


def test_ruby_pinyin_is_dropped() -> None:
    html = "<html><body><div id='zoom'><p>江北<ruby>區<rp>(</rp><rt>qū</rt><rp>)</rp></ruby>熱線</p></div></body></html>"
    assert extract_html(html.encode()).text == "江北區熱線"


def test_scripts_styles_and_hidden_elements_are_dropped() -> None:
    html = (
        "<html><body><div class='TRS_Editor'><style>p{color:red}</style>"
        "<script>var hits = 4711;</script><p>本月共受理诉求1,234件。</p>"
        "<div style='display: none'>隐藏内容5678</div></div></body></html>"
    )
    assert extract_html(html.encode()).text == "本月共受理诉求1,234件。"


# --- body finding and noise ------------------------------------------------------------------

# A page with no CMS container: the body is found by text density inside a layout table.
DENSITY_PAGE = """<html><head><meta charset="utf-8">
<title>某市12345热线2024年3月运行情况_通知公告_某市人民政府</title></head>
<body><div class="top"><a href="/">首页</a><a href="/a">政务公开</a><a href="/b">互动交流</a></div>
<table width="980"><tr>
<td class="left"><ul><li><a href="/1">工作动态</a></li><li><a href="/2">通知公告</a></li></ul></td>
<td class="right"><h1>某市12345热线2024年3月运行情况</h1>
<p>来源：市热线办 2024-04-08 10:07 浏览量：</p>
<p>3月，全市12345热线共受理群众诉求12,345件，同比增长5.1%，环比下降2.3%。</p>
<p>其中，电话受理10,111件，网络渠道受理2,234件，群众满意率97.6%。</p>
<p>各区办理情况如下表：</p>
<table border="1">
<tr><td>区</td><td>受理量<br>（件）</td><td>满意率</td></tr>
<tr><td>东昌府区</td><td>6,001</td><td>97.2%</td></tr>
<tr><td>合计</td><td>12,345</td><td>97.6%</td></tr>
</table>
<p>请各承办单位认真办理群众诉求，切实提高办理质量。</p>
<div>相关链接</div>
<ul><li><a href="/x">某区热线一季度受理诉求19.6万件</a> 2024-04-01</li>
<li><a href="/y">全市新建5G基站2100个</a> 2024-03-28</li></ul>
<p>上一篇：<a href="/p">某市12345热线2024年2月运行情况</a></p>
<p>【打印本页】【关闭窗口】</p>
</td></tr></table>
<div class="bottom"><p>版权所有：某市人民政府　网站标识码：1234567890</p><p>鲁ICP备12345号</p></div>
</body></html>"""


@cache
def density_doc() -> HtmlDocument:
    return extract_html(DENSITY_PAGE.encode())


def test_density_fallback_keeps_bulletin_paragraphs() -> None:
    text = density_doc().text
    assert "3月，全市12345热线共受理群众诉求12,345件，同比增长5.1%，环比下降2.3%。" in text
    assert "请各承办单位认真办理群众诉求，切实提高办理质量。" in text


def test_density_fallback_keeps_title_line() -> None:
    assert lines(density_doc())[0] == "某市12345热线2024年3月运行情况"


def test_density_fallback_drops_navigation() -> None:
    text = density_doc().text
    assert "首页" not in text
    assert "工作动态" not in text


def test_related_links_are_dropped() -> None:
    text = density_doc().text
    assert "19.6万件" not in text
    assert "2100个" not in text
    assert "相关链接" not in text


def test_previous_article_link_is_dropped() -> None:
    assert "2024年2月运行情况" not in density_doc().text


def test_info_line_and_buttons_are_dropped() -> None:
    text = density_doc().text
    assert "来源" not in text
    assert "打印本页" not in text


def test_footer_is_dropped() -> None:
    text = density_doc().text
    assert "版权所有" not in text
    assert "鲁ICP备" not in text


def test_title_from_head_title_without_site_name() -> None:
    assert density_doc().title == "某市12345热线2024年3月运行情况"


def test_published_from_source_line_without_meta() -> None:
    assert density_doc().published == "2024-04-08 10:07"


def test_lead_in_sentence_gives_table_title() -> None:
    assert density_doc().tables[0].title == "各区办理情况"


def test_line_break_in_header_cell_is_closed() -> None:
    assert density_doc().tables[0].header == ["区", "受理量（件）", "满意率"]


def test_published_from_labelled_line_without_meta() -> None:
    html = (
        "<html><body><div class='info'>发布时间：2024-07-15　来源：市热线办</div>"
        "<div id='zoom'><p>上半年全市受理诉求9,876件。</p></div></body></html>"
    )
    doc = extract_html(html.encode())
    assert doc.published == "2024-07-15"
    assert doc.text == "上半年全市受理诉求9,876件。"


def test_title_from_h1_without_meta() -> None:
    html = (
        "<html><head><title>热线通报</title></head><body><h1>某县12345热线2023年运行情况</h1>"
        "<div id='zoom'><p>全年受理诉求3,456件。</p></div></body></html>"
    )
    assert extract_html(html.encode()).title == "某县12345热线2023年运行情况"


def test_hanweb_content_markers_delimit_body() -> None:
    html = (
        "<html><body><div class='main'><h2>热线月报</h2>"
        "<p>发布日期：2024-07-15</p>"
        '<meta name="ContentStart"><p>6月全市受理群众诉求5,432件，办结率99.1%。</p>'
        "<p>群众满意率96.3%。</p>"
        '<meta name="ContentEnd"><p>附近热点：本月新开通公交线路12条，客流3.4万人次。</p>'
        "</div></body></html>"
    )
    doc = extract_html(html.encode())
    assert doc.text == "6月全市受理群众诉求5,432件，办结率99.1%。\n群众满意率96.3%。"
    assert doc.published == "2024-07-15"


def test_trs_autoadd_div_is_body() -> None:
    html = (
        "<html><body><div class='side'><p>专题专栏：优化营商环境，持续深化放管服改革，"
        "推动政务服务提质增效，让群众办事更便捷更舒心。</p></div>"
        "<div id='TRS_AUTOADD_1690000000000'><p>本周共受理诉求2,345件，办结率98.7%。</p></div>"
        "</body></html>"
    )
    assert extract_html(html.encode()).text == "本周共受理诉求2,345件，办结率98.7%。"


def test_outer_zoom_with_more_text_than_editor_div_is_body() -> None:
    html = (
        "<html><body><div id='zoom'><div class='TRS_Editor'><p>一、受理情况</p>"
        "<p>本月共受理诉求2,345件。</p></div>"
        "<p>二、办理情况</p><p>转办工单1,234件，已办结1,200件，办结率97.24%，按时办结率96.10%，"
        "群众满意率95.02%，较上月提高0.5个百分点。</p></div></body></html>"
    )
    text = extract_html(html.encode()).text
    assert "本月共受理诉求2,345件。" in text
    assert "办结率97.24%" in text


def test_page_without_text_raises() -> None:
    with pytest.raises(ParseError):
        extract_html(b"<html><body><div id='zoom'></div></body></html>")


# --- tables -------------------------------------------------------------------------------------


def table_page(table_html: str, before: str = "") -> bytes:
    return f"<html><body><div id='zoom'>{before}{table_html}</div></body></html>".encode()


SPANNED_TABLE = """<table border="1">
<tr><td colspan="4">表2 各区县工单办理情况统计表</td></tr>
<tr><td rowspan="2">区县</td><td colspan="2">超期工单</td><td rowspan="2">满意率</td></tr>
<tr><td>超期已办结</td><td>超期未办理</td></tr>
<tr><td>江北水城
   旅游度假区</td><td>12</td><td>3</td><td>96.5%</td></tr>
<tr><td rowspan="2">东昌府区</td><td>7</td><td>1</td><td>95.1%</td></tr>
<tr><td>2</td><td>0</td><td>97.0%</td></tr>
<tr><td>合 计</td><td>21</td><td>4</td><td>96.2%</td></tr>
<tr><td colspan="4">注：满意率为回访满意率。</td></tr>
</table>"""


@cache
def spanned_table():
    return extract_html(table_page(SPANNED_TABLE)).tables[0]


def test_title_row_inside_table_gives_title() -> None:
    assert spanned_table().title == "表2 各区县工单办理情况统计表"


def test_two_row_header_joined_and_rowspan_header_not_doubled() -> None:
    assert spanned_table().header == [
        "区县",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
        "满意率",
    ]


def test_wrap_space_inside_chinese_name_removed() -> None:
    assert spanned_table().rows[0][0] == "江北水城旅游度假区"


def test_space_inside_total_label_removed() -> None:
    assert spanned_table().rows[-1] == ["合计", "21", "4", "96.2%"]


def test_body_rowspan_is_filled_down() -> None:
    assert spanned_table().rows[2] == ["东昌府区", "2", "0", "97.0%"]


def test_note_row_is_not_a_body_row() -> None:
    assert len(spanned_table().rows) == 4


def test_th_row_is_header_even_with_figure_like_text() -> None:
    html = (
        "<table><tr><th>区县</th><th>2023</th><th>2024</th></tr>"
        "<tr><td>甲区</td><td>10</td><td>12</td></tr></table>"
    )
    table = extract_html(table_page(html)).tables[0]
    assert table.header == ["区县", "2023", "2024"]
    assert table.rows == [["甲区", "10", "12"]]


def test_text_only_table_has_one_header_row() -> None:
    html = (
        "<table><tr><td>单位</td><td>问题</td></tr>"
        "<tr><td>市住建局</td><td>回复内容简单</td></tr>"
        "<tr><td>市交通局</td><td>超时签收</td></tr></table>"
    )
    table = extract_html(table_page(html)).tables[0]
    assert table.header == ["单位", "问题"]
    assert len(table.rows) == 2


def test_caption_gives_title() -> None:
    html = (
        "<table><caption>附表1 热线受理渠道</caption><tr><td>渠道</td><td>件数</td></tr>"
        "<tr><td>电话</td><td>1,000</td></tr></table>"
    )
    assert extract_html(table_page(html)).tables[0].title == "附表1 热线受理渠道"


def test_title_line_after_unit_line_is_found() -> None:
    html = "<table><tr><td>渠道</td><td>件数</td></tr><tr><td>电话</td><td>1,000</td></tr></table>"
    before = "<p>表3 受理渠道情况表</p><p>单位：件</p>"
    assert extract_html(table_page(html, before)).tables[0].title == "表3 受理渠道情况表"


def test_long_paragraph_before_table_is_not_a_title() -> None:
    html = "<table><tr><td>渠道</td><td>件数</td></tr><tr><td>电话</td><td>1,000</td></tr></table>"
    before = "<p>本月受理诉求1,000件，同比增长3.2%，群众满意率97.1%。</p>"
    assert extract_html(table_page(html, before)).tables[0].title is None


def test_layout_table_is_not_a_data_table() -> None:
    html = (
        "<table><tr><td><p>本月共受理诉求1,000件。</p>"
        "<table><tr><td>渠道</td><td>件数</td></tr><tr><td>电话</td><td>1,000</td></tr></table>"
        "</td></tr></table>"
    )
    doc = extract_html(table_page(html))
    assert len(doc.tables) == 1
    assert doc.tables[0].rows == [["电话", "1,000"]]
    assert "本月共受理诉求1,000件。" in lines(doc)


def test_empty_rows_and_columns_are_dropped() -> None:
    html = (
        "<table><tr><td></td><td></td><td></td></tr>"
        "<tr><td>渠道</td><td>件数</td><td></td></tr>"
        "<tr><td>电话</td><td>1,000</td><td>&nbsp;</td></tr></table>"
    )
    table = extract_html(table_page(html)).tables[0]
    assert table.header == ["渠道", "件数"]
    assert table.rows == [["电话", "1,000"]]


def test_info_block_with_counter_in_its_own_block_is_dropped() -> None:
    html = (
        "<html><body><div class='wrap'><h1>某区12345热线2024年5月运行情况</h1>"
        "<div class='meta'><div>来源：区政务服务中心</div><div>浏览次数：</div><div>4321</div>"
        "<div>发布时间：2024-06-03</div></div>"
        "<p>5月，全区共受理群众诉求3,210件，同比增长2.2%，办结率98.3%，群众满意率96.4%。</p>"
        "<p>其中热线电话受理2,900件，网络渠道受理310件，按时办结率97.5%。</p>"
        "</div></body></html>"
    )
    doc = extract_html(html.encode())
    assert "4321" not in doc.text
    assert "来源" not in doc.text
    assert doc.published == "2024-06-03"
    assert lines(doc)[0] == "某区12345热线2024年5月运行情况"


def test_disclosure_metadata_table_is_not_a_data_table() -> None:
    html = (
        "<html><body><div class='wrap'><table><tr><td>索引号：</td><td>1150/2022-00391</td>"
        "<td>发布机构：</td><td>区政府办公室</td></tr><tr><td>成文日期：</td><td>2022-12-05</td>"
        "<td>发布日期：</td><td>2022-12-06</td></tr></table>"
        "<p>11月，全区应办理12345热线工单1,947件，已办结1,903件，办结率97.74%。</p>"
        "<p>群众满意率93.6%，按期办结率95.12%，与10月相比工单量减少126件。</p>"
        "</div></body></html>"
    )
    doc = extract_html(html.encode())
    assert doc.tables == []
    assert "00391" not in doc.text
    assert doc.published == "2022-12-06"


# --- the same pages without CMS markup: body by text density, noise by rules -----------------


def strip_cms_markup(doc_id: str) -> bytes:
    """The devset page without ids, classes, Hanweb markers and PubDate meta."""
    from bs4 import BeautifulSoup

    raw = (FIXTURES / FILES[doc_id]).read_bytes()
    soup = BeautifulSoup(raw.decode(CHARSETS[doc_id]), "lxml")
    for element in soup.select("#zoom, .TRS_Editor"):
        element.unwrap()
    for element in soup.select(
        "meta[name=ContentStart], meta[name=ContentEnd], meta[name=PubDate]"
    ):
        element.decompose()
    for element in soup.find_all(True):
        for attribute in ("class", "id"):
            if element.has_attr(attribute):
                del element[attribute]
    return str(soup).encode()


@cache
def stripped(doc_id: str) -> HtmlDocument:
    return extract_html(strip_cms_markup(doc_id))


# Publication dates as printed on each page's info line (no meta PubDate).
INFO_LINE_DATES = {
    "d001": "2023-09-12 16:20",
    "d002": "2024-09-03",
    "d011": "2022-12-06",
    "d016": "2022-10-17 15:48",
    "d019": "2022-01-25",
    "d021": "2023-10-07 18:20",
    "d028": "2024-04-15 16:40:12",
    "d031": "2024-06-06 11:15",
}


@pytest.mark.parametrize("doc_id", FILES)
def test_stripped_page_keeps_key_sentences(doc_id: str) -> None:
    text = stripped(doc_id).text
    for sentence in KEY_SENTENCES[doc_id]:
        assert sentence in text


@pytest.mark.parametrize("doc_id", FILES)
def test_stripped_page_drops_noise(doc_id: str) -> None:
    text = stripped(doc_id).text
    for noise in NOISE[doc_id]:
        assert noise not in text, noise


@pytest.mark.parametrize("doc_id", FILES)
def test_stripped_page_table_header_and_rows(doc_id: str) -> None:
    (table,) = stripped(doc_id).tables
    assert table.header == TABLES[doc_id][1]
    assert len(table.rows) == TABLES[doc_id][2]


@pytest.mark.parametrize("doc_id", FILES)
def test_stripped_page_published_from_info_line(doc_id: str) -> None:
    assert stripped(doc_id).published == INFO_LINE_DATES[doc_id]


def test_title_from_head_title_drops_column_and_site() -> None:
    html = (
        "<html><head><title>某市12345热线2024年3月运行情况_通知公告_某市人民政府</title></head>"
        "<body><div id='zoom'><p>本月受理诉求1,234件。</p></div></body></html>"
    )
    assert extract_html(html.encode()).title == "某市12345热线2024年3月运行情况"


def test_http_charset_may_be_a_content_type_value() -> None:
    data = "<p>热线周报</p>".encode("gb18030")
    assert decode_html(data, http_charset="text/html; charset=GBK") == (
        "<p>热线周报</p>",
        "gb18030",
    )


def test_two_tables_get_their_own_titles() -> None:
    html = (
        "<p>表1 受理渠道统计表</p>"
        "<table><tr><td>渠道</td><td>件数</td></tr><tr><td>电话</td><td>1,000</td></tr></table>"
        "<p>表2 诉求类型统计表</p>"
        "<table><tr><td>类型</td><td>件数</td></tr><tr><td>咨询</td><td>600</td></tr></table>"
    )
    doc = extract_html(table_page(html))
    assert [table.title for table in doc.tables] == ["表1 受理渠道统计表", "表2 诉求类型统计表"]


def test_table_number_line_joins_the_title_line_below_it() -> None:
    html = "<table><tr><td>渠道</td><td>件数</td></tr><tr><td>电话</td><td>1,000</td></tr></table>"
    before = "<p>附表1</p><p>各渠道受理情况</p>"
    assert extract_html(table_page(html, before)).tables[0].title == "附表1 各渠道受理情况"


def test_word_markup_table_cells() -> None:
    html = (
        "<table class='MsoNormalTable'><tr>"
        "<td><p class='MsoNormal' align='center'><span style='font-family:宋体'>单位</span>"
        "<o:p></o:p></p></td><td><p class='MsoNormal'><span>办结率</span></p></td></tr>"
        "<tr><td><p class='MsoNormal'><span>市住建局</span></p></td>"
        "<td><p class='MsoNormal'><span>98.</span><span>12%</span></p></td></tr></table>"
    )
    table = extract_html(table_page(html)).tables[0]
    assert table.header == ["单位", "办结率"]
    assert table.rows == [["市住建局", "98.12%"]]


def test_merged_total_cell_spans_its_columns() -> None:
    html = (
        "<table><tr><td>序号</td><td>单位</td><td>件数</td></tr>"
        "<tr><td>1</td><td>甲街道</td><td>300</td></tr>"
        "<tr><td colspan='2'>合计</td><td>300</td></tr></table>"
    )
    table = extract_html(table_page(html)).tables[0]
    assert table.header == ["序号", "单位", "件数"]
    assert table.rows[-1] == ["合计", "合计", "300"]


def test_bulletin_lines_resembling_furniture_are_kept() -> None:
    kept = [
        "统计时间：2024年3月1日至3月31日",
        "诉求来源：电话8,000件 网络渠道2,000件",
        "数据来源：12345热线平台 2024年4月2日",
        "（一）办理质量",
    ]
    html = (
        "<html><body><div id='zoom'>"
        + "".join(f"<p>{t}</p>" for t in kept)
        + "</div></body></html>"
    )
    assert lines(extract_html(html.encode())) == kept
