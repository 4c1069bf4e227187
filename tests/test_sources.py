"""Per-source tests on saved pages: listing items, further pages, the bulletin filter, attachments.

Each source has a mirror of its pages under ``tests/fixtures/<slug>/<host>/<path>`` (the layout of
``scrapers.mirror``). Expected values are read by hand from those pages. The four seed sources'
listing pages are the bundled samples with the pager changed to announce one more page; their
seed articles are byte copies of the samples, or the samples with their attachment names linked.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from scrapers.base import Attachment, ListingPage
from scrapers.filters import is_bulletin_title
from scrapers.mirror import mirror_path
from scrapers.platforms import platform_for, trs
from scrapers.registry import get_source

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = ROOT / "samples"
SAMPLE_SITES = SAMPLES / "sites"


def page_bytes(slug: str, url: str) -> bytes:
    """The saved body of ``url`` in the source's fixture mirror."""
    return mirror_path(FIXTURES / slug, url).read_bytes()


def listing(slug: str, url: str, content_type: str = "text/html") -> ListingPage:
    """The fixture page at ``url`` read by the source's platform reader."""
    source = get_source(slug)
    return platform_for(source, url).parse_listing(page_bytes(slug, url), url, source, content_type)


def triples(page: ListingPage) -> list[tuple[str, str, date | None]]:
    """(url, title, date) of each item."""
    return [(item.url, item.title, item.published) for item in page.items]


def attachments(slug: str, url: str) -> list[tuple[str, str]]:
    """(url, name) of each attachment of the fixture article at ``url``."""
    source = get_source(slug)
    found = platform_for(source, url).parse_attachments(
        page_bytes(slug, url), url, source, "text/html"
    )
    assert all(isinstance(attachment, Attachment) for attachment in found)
    return [(attachment.url, attachment.name) for attachment in found]


def verdicts(page: ListingPage) -> list[tuple[bool, str]]:
    """The bulletin filter's verdict on each item's title."""
    return [is_bulletin_title(item.title) for item in page.items]


KEEP_12345 = (True, "hotline figures (12345)")
NO_WORD = (False, "no hotline word")


def notice(word: str) -> tuple[bool, str]:
    """The verdict for a notice title."""
    return (False, f"a notice, not figures ({word})")


# --- liaocheng: TRS WCM column (gb2312 in <meta>, GBK bytes) and a news portal ---------------

LC = "http://www.liaocheng.gov.cn/zmhd/12345rxyb/"
LC_PORTAL = "http://www.zhongyuan-news.example/zhoubian/liaocheng/"


def test_liaocheng_page_1_items() -> None:
    assert triples(listing("liaocheng", LC + "index.html")) == [
        (
            LC + "201508/t20150806_586214.html",
            "关于12345热线承办单位联络员名单调整情况的公示",
            date(2015, 8, 6),
        ),
        (LC + "201507/t20150730_585377.html", "市民服务热线话务员招聘公告", date(2015, 7, 30)),
        (
            LC + "201507/t20150724_584702.html",
            "关于召开全市12345热线工作推进会议的通知",
            date(2015, 7, 24),
        ),
        (
            LC + "201507/t20150717_583869.html",
            "关于做好汛期12345热线值班工作的通知",
            date(2015, 7, 17),
        ),
    ]


def test_liaocheng_page_1_next_pages_from_create_page_html() -> None:
    page = listing("liaocheng", LC + "index.html")
    assert page.next_pages == [LC + "index_1.html", LC + "index_2.html"]
    assert page.total_pages == 3


def test_liaocheng_page_2_items() -> None:
    assert triples(listing("liaocheng", LC + "index_1.html")) == [
        (
            LC + "201507/t20150713_583247.html",
            "市民服务热线(12345)月报[2015]第6期",
            date(2015, 7, 13),
        ),
        (LC + "201507/t20150710_583105.html", "上半年全市新增城镇就业3.2万人", date(2015, 7, 10)),
        (
            LC + "201507/t20150708_582961.html",
            "关于开展2015年度12345热线承办单位业务培训的通知",
            date(2015, 7, 8),
        ),
        (LC + "201506/t20150629_581774.html", "关于调整城区12条公交线路的公告", date(2015, 6, 29)),
    ]


def test_liaocheng_page_3_items() -> None:
    assert triples(listing("liaocheng", LC + "index_2.html")) == [
        (
            LC + "201506/t20150612_580934.html",
            "市民服务热线(12345)月报[2015]第5期",
            date(2015, 6, 12),
        ),
        (
            LC + "201505/t20150520_578406.html",
            "关于2015年端午节期间12345热线值班安排的公告",
            date(2015, 5, 20),
        ),
        (
            LC + "201505/t20150513_577812.html",
            "市民服务热线(12345)月报[2015]第4期",
            date(2015, 5, 13),
        ),
        (
            LC + "201504/t20150428_575390.html",
            "关于公开招聘12345热线话务员的公告",
            date(2015, 4, 28),
        ),
    ]


def test_liaocheng_later_pages_name_no_further_pages() -> None:
    for name in ("index_1.html", "index_2.html"):
        page = listing("liaocheng", LC + name)
        assert page.next_pages == []
        assert page.total_pages == 3


def test_liaocheng_portal_items() -> None:
    assert triples(listing("liaocheng", LC_PORTAL + "index.html")) == [
        (
            LC_PORTAL + "2020/0715/68532.html",
            "聊城:关于2020年第二季度群众来电办理情况的通告",
            date(2020, 7, 15),
        ),
        (LC_PORTAL + "2020/0714/68477.html", "聊城:上半年新增城镇就业2.1万人", date(2020, 7, 14)),
        (
            LC_PORTAL + "2020/0713/68402.html",
            "聊城开展夏季消防安全培训 覆盖企业300余家",
            date(2020, 7, 13),
        ),
        (LC_PORTAL + "2020/0710/68219.html", "聊城城区新增公共停车泊位1500个", date(2020, 7, 10)),
    ]


def test_liaocheng_portal_page_2_items() -> None:
    assert triples(listing("liaocheng", LC_PORTAL + "index_2.html")) == [
        (LC_PORTAL + "2020/0708/68094.html", "聊城:东昌湖水上游览航线恢复运营", date(2020, 7, 8)),
        (
            LC_PORTAL + "2020/0706/67931.html",
            "聊城高新区新签约项目12个 总投资86亿元",
            date(2020, 7, 6),
        ),
        (
            LC_PORTAL + "2020/0703/67756.html",
            "聊城:夏粮收购进度过半 累计收购小麦41万吨",
            date(2020, 7, 3),
        ),
        (LC_PORTAL + "2020/0630/67512.html", "聊城市区新建改建口袋公园18处", date(2020, 6, 30)),
    ]


def test_liaocheng_portal_reads_the_same_with_the_sources_own_platform() -> None:
    """A walker that ignores host_platforms and uses the TRS reader gets the same items."""
    url = LC_PORTAL + "index.html"
    source = get_source("liaocheng")
    by_trs = trs.parse_listing(page_bytes("liaocheng", url), url, source, "text/html")
    assert triples(by_trs) == triples(listing("liaocheng", url))
    assert by_trs.next_pages == []


def test_liaocheng_portal_has_two_pages() -> None:
    first = listing("liaocheng", LC_PORTAL + "index.html")
    assert first.next_pages == [LC_PORTAL + "index_2.html"]
    assert first.total_pages == 2
    assert listing("liaocheng", LC_PORTAL + "index_2.html").next_pages == []


def test_liaocheng_bulletin_filter() -> None:
    keep_hotline = (True, "hotline figures (热线)")
    assert verdicts(listing("liaocheng", LC + "index.html")) == [
        notice("公示"),
        notice("招聘"),
        notice("会议"),
        notice("值班"),
    ]
    assert verdicts(listing("liaocheng", LC + "index_1.html")) == [
        keep_hotline,
        NO_WORD,
        notice("培训"),
        NO_WORD,
    ]
    assert verdicts(listing("liaocheng", LC + "index_2.html")) == [
        keep_hotline,
        notice("值班"),
        keep_hotline,
        notice("招聘"),
    ]
    assert verdicts(listing("liaocheng", LC_PORTAL + "index.html")) == [
        (True, "hotline figures (来电)"),
        NO_WORD,
        NO_WORD,
        NO_WORD,
    ]
    assert verdicts(listing("liaocheng", LC_PORTAL + "index_2.html")) == [NO_WORD] * 4


def test_liaocheng_article_attachments_fj_block_and_table_pictures() -> None:
    folder = LC + "201506/"
    assert attachments("liaocheng", folder + "t20150612_580934.html") == [
        (folder + "W020150612380523456789.jpg", "W020150612380523456789.jpg"),
        (folder + "W020150612380534567890.png", "W020150612380534567890.png"),
        (folder + "P020150612380512345678.docx", "1.5月份办理情况统计表.docx"),
        (folder + "P020150612380598765432.xls", "2.5月份承办单位办结情况.xls"),
    ]


def test_liaocheng_2015_article_links_its_tables_from_the_fj_block() -> None:
    assert attachments("liaocheng", LC + "201507/t20150713_583247.html") == [
        (LC + "201507/P020150713392614058732.xlsx", "6月份各承办单位办理来电情况.xlsx")
    ]


def test_liaocheng_portal_article_has_no_attachments() -> None:
    assert attachments("liaocheng", LC_PORTAL + "2020/0715/68532.html") == []


# --- zhanjiang: Guangdong intensive platform (Traditional script pages) -----------------------

ZJ = "http://www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/"


def test_zhanjiang_page_1_items() -> None:
    assert triples(listing("zhanjiang", ZJ + "index.html")) == [
        (
            ZJ + "content/post_1398215.html",
            "關于2021年1月份群眾訴求分析研判情況的通報",
            date(2021, 2, 8),
        ),
        (
            ZJ + "content/post_1397740.html",
            "關於開展2021年12345熱線話務人員崗位培訓的通知",
            date(2021, 2, 3),
        ),
        (ZJ + "content/post_1396112.html", "2020年全市城鎮新增就業5.6萬人", date(2021, 1, 29)),
        (ZJ + "content/post_1394528.html", "春運期間全市增開客運班車1260班次", date(2021, 1, 27)),
    ]


def test_zhanjiang_page_1_next_pages() -> None:
    page = listing("zhanjiang", ZJ + "index.html")
    assert page.next_pages == [ZJ + "index_2.html"]
    assert page.total_pages == 2


def test_zhanjiang_page_2_items() -> None:
    assert triples(listing("zhanjiang", ZJ + "index_2.html")) == [
        (
            ZJ + "content/post_1389467.html",
            "關于2020年12月份群眾訴求分析研判情況的通報",
            date(2021, 1, 8),
        ),
        (
            ZJ + "content/post_1385102.html",
            "湛江市12345熱線2021年元旦假期值班安排",
            date(2020, 12, 29),
        ),
        (
            ZJ + "content/post_1372655.html",
            "關于2020年11月份群眾訴求分析研判情況的通報",
            date(2020, 12, 9),
        ),
        (ZJ + "content/post_1370318.html", "全市新建5G基站1200個", date(2020, 12, 2)),
    ]


def test_zhanjiang_page_2_names_no_further_pages() -> None:
    assert listing("zhanjiang", ZJ + "index_2.html").next_pages == []


def test_zhanjiang_bulletin_filter() -> None:
    assert verdicts(listing("zhanjiang", ZJ + "index.html")) == [
        (True, "hotline figures (诉求)"),
        notice("培训"),
        NO_WORD,
        NO_WORD,
    ]
    assert verdicts(listing("zhanjiang", ZJ + "index_2.html")) == [
        (True, "hotline figures (诉求)"),
        notice("值班"),
        (True, "hotline figures (诉求)"),
        NO_WORD,
    ]


def test_zhanjiang_article_attachments() -> None:
    files = "http://www.zhanjiang.gov.cn/attachment/0/417/"
    assert attachments("zhanjiang", ZJ + "content/post_1398215.html") == [
        (
            files + "417362/1398216.docx",
            "1.湛江市12345市民服務熱線縣(市、區(qū))辦理情況統(tǒng)計表(2021年1月) .docx",
        ),
        (
            files + "417363/1398217.docx",
            "2.湛江市12345市民服務熱線市直屬單位辦理情況統(tǒng)計表(2021年1月) .docx",
        ),
        (
            files + "417364/1398218.docx",
            "3.湛江市12345市民服務熱線工單分類統(tǒng)計表(2021年1月).docx",
        ),
        (
            files + "417365/1398219.docx",
            "4.湛江市12345市民服務熱線單位工單量前十統(tǒng)計表(2021年1月).docx",
        ),
    ]


# --- yueyang-yunxi: Hunan platform (Traditional script, titles cut short in the link text) ----

YX = "http://www.yunxi.gov.cn/27310/27316/27345/"


def test_yueyang_yunxi_page_1_items() -> None:
    assert triples(listing("yueyang-yunxi", YX + "index.html")) == [
        (
            YX + "content_1754829.html",
            "2020年第二季度「12345」公眾服務熱線和「市長信箱」「區長信箱」辦理情況通報",
            date(2020, 12, 13),
        ),
        (
            YX + "content_1754512.html",
            "關於開展政務服務「好差評」業務培訓的通知",
            date(2020, 12, 10),
        ),
        (YX + "content_1753906.html", "全區新增城鎮就業1260人", date(2020, 12, 4)),
        (YX + "content_1752277.html", "路口鎮完成農村危房改造42戶", date(2020, 11, 27)),
    ]


def test_yueyang_yunxi_page_1_next_pages() -> None:
    page = listing("yueyang-yunxi", YX + "index.html")
    assert page.next_pages == [YX + "index_2.html"]
    assert page.total_pages == 2


def test_yueyang_yunxi_page_2_items() -> None:
    assert triples(listing("yueyang-yunxi", YX + "index_2.html")) == [
        (
            YX + "content_1712406.html",
            "2020年第一季度「12345」公眾服務熱線和「市長信箱」「區長信箱」辦理情況通報",
            date(2020, 6, 18),
        ),
        (YX + "content_1709833.html", "雲溪區開展12345熱線承辦單位業務培訓", date(2020, 6, 5)),
        (
            YX + "content_1688214.html",
            "2019年第四季度「12345」公眾服務熱線辦理情況通報",
            date(2020, 3, 20),
        ),
        (YX + "content_1680452.html", "區政務服務中心春節假期服務安排", date(2020, 1, 19)),
    ]


def test_yueyang_yunxi_page_2_names_no_further_pages() -> None:
    assert listing("yueyang-yunxi", YX + "index_2.html").next_pages == []


def test_yueyang_yunxi_bulletin_filter() -> None:
    assert verdicts(listing("yueyang-yunxi", YX + "index.html")) == [
        KEEP_12345,
        NO_WORD,
        NO_WORD,
        NO_WORD,
    ]
    assert verdicts(listing("yueyang-yunxi", YX + "index_2.html")) == [
        KEEP_12345,
        notice("培训"),
        KEEP_12345,
        NO_WORD,
    ]


def test_yueyang_yunxi_article_attachments() -> None:
    files = "http://www.yunxi.gov.cn/uploadfiles/202012/"
    assert attachments("yueyang-yunxi", YX + "content_1754829.html") == [
        (files + "20201213101532471.doc", "1.2020年第二季度12345熱線辦理情況.doc"),
        (files + "20201213101533086.doc", "2.2020年第二季度「市長信箱」「區長信箱」辦理情況.doc"),
    ]


# --- hengdong: generic reader, Hengyang-family URLs (/YYYYMMDD/i<id>.html) ---------------------

HD = "http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/"


def test_hengdong_page_1_items() -> None:
    assert triples(listing("hengdong", HD + "index.html")) == [
        (HD + "20201015/i2175342.html", '"12345"政府服务热线9月份运行概况', date(2020, 10, 15)),
        (
            HD + "20200928/i2171186.html",
            "关于开展12345热线承办人员业务培训的通知",
            date(2020, 9, 28),
        ),
        (HD + "20200911/i2168450.html", "全县新增城镇就业4260人", date(2020, 9, 11)),
        (HD + "20200820/i2163307.html", "县城区新增公共停车泊位320个", date(2020, 8, 20)),
    ]


def test_hengdong_page_1_next_pages() -> None:
    page = listing("hengdong", HD + "index.html")
    assert page.next_pages == [HD + "index_2.html"]
    assert page.total_pages == 2


def test_hengdong_page_2_items() -> None:
    assert triples(listing("hengdong", HD + "index_2.html")) == [
        (HD + "20200814/i2161735.html", '"12345"政府服务热线7月份运行概况', date(2020, 8, 14)),
        (HD + "20200803/i2158826.html", "衡东县12345热线招聘话务员公告", date(2020, 8, 3)),
        (HD + "20200715/i2152208.html", '"12345"政府服务热线6月份运行概况', date(2020, 7, 15)),
        (HD + "20200706/i2149937.html", "县政务服务中心窗口服务时间调整", date(2020, 7, 6)),
    ]


def test_hengdong_page_2_names_no_further_pages() -> None:
    assert listing("hengdong", HD + "index_2.html").next_pages == []


def test_hengdong_bulletin_filter() -> None:
    assert verdicts(listing("hengdong", HD + "index.html")) == [
        KEEP_12345,
        notice("培训"),
        NO_WORD,
        NO_WORD,
    ]
    assert verdicts(listing("hengdong", HD + "index_2.html")) == [
        KEEP_12345,
        notice("招聘"),
        KEEP_12345,
        NO_WORD,
    ]


def test_hengdong_article_links_its_tables_from_a_fujian_paragraph() -> None:
    assert attachments("hengdong", HD + "20201015/i2175342.html") == [
        (HD + "20201015/2175343.docx", "9月份群众诉求问题分类统计及成员单位工单办理情况.docx")
    ]


# --- tangshan: generic reader, /zhuzhan/12345zwfwbmrxtjsj/ (modelled pages, no figures) -------

TS = "http://www.tangshan.gov.cn/zhuzhan/12345zwfwbmrxtjsj/"


def test_tangshan_listing_url_is_the_column_folder() -> None:
    assert get_source("tangshan").listing_urls == (TS,)


def test_tangshan_page_1_items() -> None:
    assert triples(listing("tangshan", TS)) == [
        (
            TS + "20220805/1093622.html",
            "唐山市12345政务服务便民热线2022年7月份运行情况",
            date(2022, 8, 5),
        ),
        (
            TS + "20220706/1089154.html",
            "唐山市12345政务服务便民热线2022年6月份运行情况",
            date(2022, 7, 6),
        ),
        (
            TS + "20220624/1087731.html",
            "关于12345热线系统升级期间暂停服务的公告",
            date(2022, 6, 24),
        ),
        (
            TS + "20220607/1084370.html",
            "唐山市12345政务服务便民热线2022年5月份运行情况",
            date(2022, 6, 7),
        ),
    ]


def test_tangshan_page_1_next_pages() -> None:
    page = listing("tangshan", TS)
    assert page.next_pages == [TS + "index_2.html"]
    assert page.total_pages == 2


def test_tangshan_page_2_items() -> None:
    assert triples(listing("tangshan", TS + "index_2.html")) == [
        (
            TS + "20220509/1079925.html",
            "唐山市12345政务服务便民热线2022年4月份运行情况",
            date(2022, 5, 9),
        ),
        (TS + "20220420/1077148.html", "2022年全市政务服务工作要点", date(2022, 4, 20)),
        (
            TS + "20220408/1075306.html",
            "唐山市12345政务服务便民热线2022年3月份运行情况",
            date(2022, 4, 8),
        ),
    ]


def test_tangshan_page_2_names_no_further_pages() -> None:
    assert listing("tangshan", TS + "index_2.html").next_pages == []


def test_tangshan_bulletin_filter() -> None:
    assert verdicts(listing("tangshan", TS)) == [
        KEEP_12345,
        KEEP_12345,
        notice("系统升级"),
        KEEP_12345,
    ]
    assert verdicts(listing("tangshan", TS + "index_2.html")) == [KEEP_12345, NO_WORD, KEEP_12345]


def test_tangshan_article_attachments() -> None:
    folder = TS + "20220805/"
    assert attachments("tangshan", folder + "1093622.html") == [
        (
            folder + "P020220805512874306158.xlsx",
            "2022年7月份各县（市、区）诉求办理情况统计表.xlsx",
        ),
        (folder + "P020220805512874306291.pdf", "2022年7月份市直部门诉求办理情况统计表.pdf"),
    ]


# --- yichun: Hanweb jcms column (inline datastore, dataproxy.jsp, downfile.jsp) --------------

YC = "http://12345.yichun.gov.cn/"
YC_PROXY = (
    YC + "module/web/jpage/dataproxy.jsp?startrecord=6&endrecord=10&perpage=5"
    "&col=1&appid=1&webid=12&path=%2F&columnid=7365&unitid=4571234&permissiontype=0"
)


def test_yichun_page_1_items_from_the_inline_datastore() -> None:
    assert triples(listing("yichun", YC + "yxtb/rxyb/index.html")) == [
        (
            YC + "yxtb/rxyb/2023/04/21837.html",
            "宜春市12345热线2023年3月运行情况月报",
            date(2023, 4, 10),
        ),
        (
            YC + "yxtb/rxyb/2023/03/21702.html",
            "关于举办2023年12345热线业务知识竞赛的通知",
            date(2023, 3, 28),
        ),
        (
            YC + "yxtb/rxyb/2023/03/21655.html",
            "宜春市12345热线2023年2月运行情况月报",
            date(2023, 3, 9),
        ),
        (
            YC + "yxtb/rxyb/2023/02/21493.html",
            "宜春市12345热线2023年1月运行情况月报",
            date(2023, 2, 8),
        ),
        (YC + "yxtb/rxyb/2023/01/21380.html", "春节期间市政务服务中心办事指南", date(2023, 1, 18)),
    ]


def test_yichun_page_1_next_pages_are_dataproxy_requests() -> None:
    page = listing("yichun", YC + "yxtb/rxyb/index.html")
    assert page.next_pages == [YC_PROXY]
    assert page.total_pages == 2


def test_yichun_dataproxy_answer_items() -> None:
    assert triples(listing("yichun", YC_PROXY, "text/xml")) == [
        (
            YC + "yxtb/rxyb/2023/01/21342.html",
            "宜春市12345热线2022年12月运行情况月报",
            date(2023, 1, 9),
        ),
        (YC + "yxtb/rxyb/2022/12/21268.html", "宜春市12345热线话务员招聘公告", date(2022, 12, 20)),
        (
            YC + "yxtb/rxyb/2022/12/21197.html",
            "宜春市12345热线2022年11月运行情况月报",
            date(2022, 12, 8),
        ),
    ]


def test_yichun_dataproxy_answer_is_the_last_one() -> None:
    page = listing("yichun", YC_PROXY, "text/xml")
    assert page.next_pages == []
    assert page.total_pages == 2


def test_yichun_bulletin_filter() -> None:
    assert verdicts(listing("yichun", YC + "yxtb/rxyb/index.html")) == [
        KEEP_12345,
        notice("竞赛"),
        KEEP_12345,
        KEEP_12345,
        NO_WORD,
    ]
    assert verdicts(listing("yichun", YC_PROXY, "text/xml")) == [
        KEEP_12345,
        notice("招聘"),
        KEEP_12345,
    ]


def test_yichun_article_attachments_named_by_showname() -> None:
    download = YC + "module/download/downfile.jsp?classid=0&showname="
    assert attachments("yichun", YC + "yxtb/rxyb/2023/04/21837.html") == [
        (
            download + "%E5%AE%9C%E6%98%A5%E5%B8%8212345%E7%83%AD%E7%BA%BF2023%E5%B9%B43%E6%9C%88"
            "%E5%90%84%E5%8E%BF%E5%B8%82%E5%8C%BA%E5%8A%9E%E7%90%86%E6%83%85%E5%86%B5.xlsx"
            "&filename=8f3c2a6d1e0b4c7f9a5d3e2b1c0f4a6e.xlsx",
            "宜春市12345热线2023年3月各县市区办理情况.xlsx",
        ),
        (
            download + "%E5%90%84%E6%89%BF%E5%8A%9E%E5%8D%95%E4%BD%8D%E6%BB%A1%E6%84%8F%E5%BA%A6"
            "%E6%8E%92%E5%90%8D.pdf&filename=d41c7e09b2a34f58a61e2c3b5f7d9e10.pdf",
            "各承办单位满意度排名.pdf",
        ),
    ]


# --- the fixtures and the bundled samples ------------------------------------------------------

# The one edit made to each copied listing page: its pager announces the hand-written next page.
PAGER_EDITS = {
    ("liaocheng", "www.liaocheng.gov.cn/zmhd/12345rxyb/index.html"): (
        'createPageHTML(2, 0, "index", "html");',
        'createPageHTML(3, 0, "index", "html");',
        "gb18030",
    ),
    ("liaocheng", "www.liaocheng.gov.cn/zmhd/12345rxyb/index_1.html"): (
        'createPageHTML(2, 1, "index", "html");',
        'createPageHTML(3, 1, "index", "html");',
        "gb18030",
    ),
    ("zhanjiang", "www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/index.html"): (
        '<div class="page"><span>共1頁</span> <span class="current">1</span></div>',
        '<div class="page"><span>共2頁</span> <span class="current">1</span> '
        '<a href="index_2.html">2</a> <a class="next" href="index_2.html">下一頁</a> '
        '<a class="last" href="index_2.html">尾頁</a></div>',
        "utf-8",
    ),
    ("yueyang-yunxi", "www.yunxi.gov.cn/27310/27316/27345/index.html"): (
        '<div class="page">共1頁　<span class="cur">1</span></div>',
        '<div class="page">共2頁　<span class="cur">1</span>　<a href="index_2.html">2</a>　'
        '<a href="index_2.html">下一頁</a></div>',
        "utf-8",
    ),
    ("hengdong", "www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/index.html"): (
        '<div class="page">共1页　首页　上一页　<span class="cur">1</span>　下一页　尾页</div>',
        '<div class="page">共2页　首页　上一页　<span class="cur">1</span>　<a href="index_2.html">2'
        '</a>　<a href="index_2.html">下一页</a>　<a href="index_2.html">尾页</a></div>',
        "utf-8",
    ),
}

SEED_COPIES = [
    ("liaocheng", "www.liaocheng.gov.cn/zmhd/12345rxyb/201507/t20150713_583247.html"),
    ("liaocheng", "www.zhongyuan-news.example/zhoubian/liaocheng/index.html"),
    ("liaocheng", "www.zhongyuan-news.example/zhoubian/liaocheng/index_2.html"),
    ("liaocheng", "www.zhongyuan-news.example/zhoubian/liaocheng/2020/0715/68532.html"),
    ("hengdong", "www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/20201015/i2175342.html"),
]

# The bundled samples print these attachment names without links (their files' content is not
# known); the fixtures link them as the real sites do, to test the attachment readers.
ZJ_FILES = "http://www.zhanjiang.gov.cn/attachment/0/417/"
ZJ_NAMES = [
    "1.湛江市12345市民服務熱線縣(市、區(qū))辦理情況統(tǒng)計表(2021年1月) .docx",
    "2.湛江市12345市民服務熱線市直屬單位辦理情況統(tǒng)計表(2021年1月) .docx",
    "3.湛江市12345市民服務熱線工單分類統(tǒng)計表(2021年1月).docx",
    "4.湛江市12345市民服務熱線單位工單量前十統(tǒng)計表(2021年1月).docx",
]
ZJ_HREFS = [
    "417362/1398216.docx",
    "417363/1398217.docx",
    "417364/1398218.docx",
    "417365/1398219.docx",
]
YX_FILES = "/uploadfiles/202012/"
YX_NAMES = [
    "1.2020年第二季度12345熱線辦理情況.doc",
    "2.2020年第二季度「市長信箱」「區長信箱」辦理情況.doc",
]
YX_HREFS = ["20201213101532471.doc", "20201213101533086.doc"]
LINK_EDITS = {
    ("zhanjiang", "www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/content/post_1398215.html"): [
        (
            f"<p>{prefix}{name}</p>",
            f'<p>{prefix}<a href="{ZJ_FILES}{href}" target="_blank">{name}</a></p>',
        )
        for prefix, name, href in zip(["附件:", "", "", ""], ZJ_NAMES, ZJ_HREFS, strict=True)
    ],
    ("yueyang-yunxi", "www.yunxi.gov.cn/27310/27316/27345/content_1754829.html"): [
        (f"<p>{name}</p>", f'<p><a href="{YX_FILES}{href}" target="_blank">{name}</a></p>')
        for name, href in zip(YX_NAMES, YX_HREFS, strict=True)
    ],
}


@pytest.mark.parametrize(("slug", "path"), sorted(PAGER_EDITS))
def test_listing_pages_are_the_samples_with_only_the_pager_changed(slug: str, path: str) -> None:
    before, after, charset = PAGER_EDITS[slug, path]
    fixture = (FIXTURES / slug / path).read_bytes()
    sample = (SAMPLE_SITES / path).read_bytes()
    assert fixture.replace(after.encode(charset), before.encode(charset)) == sample


@pytest.mark.parametrize(("slug", "path"), SEED_COPIES)
def test_seed_pages_are_byte_copies_of_the_samples(slug: str, path: str) -> None:
    assert (FIXTURES / slug / path).read_bytes() == (SAMPLE_SITES / path).read_bytes()


@pytest.mark.parametrize(("slug", "path"), sorted(LINK_EDITS))
def test_seed_pages_are_the_samples_with_their_attachment_names_linked(
    slug: str, path: str
) -> None:
    fixture = (FIXTURES / slug / path).read_text("utf-8")
    sample = (SAMPLE_SITES / path).read_text("utf-8")
    for unlinked, linked in LINK_EDITS[slug, path]:
        assert fixture.count(linked) == 1
        fixture = fixture.replace(linked, unlinked)
    assert fixture == sample


MANIFEST = yaml.safe_load((SAMPLES / "manifest.yml").read_text("utf-8"))


def sample_listing_pages(entry: dict) -> list[dict]:
    """A manifest listing's pages: the first (the entry) and its ``more_pages``."""
    return [entry] + entry.get("more_pages", [])


@pytest.mark.parametrize("entry", MANIFEST["listings"], ids=lambda entry: entry["url"])
def test_bundled_sample_listings_read_as_the_manifest_says(entry: dict) -> None:
    """The demo's listing pages give exactly the manifest's items (url, title, date) and pages."""
    source = get_source(entry["source"])
    assert entry["url"] in source.listing_urls
    pages = sample_listing_pages(entry)
    for number, sample_page in enumerate(pages):
        data = (SAMPLES / sample_page["path"]).read_bytes()
        page = platform_for(source, sample_page["url"]).parse_listing(
            data, sample_page["url"], source, entry["content_type"]
        )
        expected = [
            (item["url"], item["title"], date.fromisoformat(item["date"]))
            for item in sample_page["items"]
        ]
        assert triples(page) == expected
        further = [later["url"] for later in pages[1:]] if number == 0 else []
        assert page.next_pages == further


@pytest.mark.parametrize("entry", MANIFEST["listings"], ids=lambda entry: entry["url"])
def test_bundled_sample_listings_filter_keeps_exactly_the_bulletins(entry: dict) -> None:
    items = [item for page in sample_listing_pages(entry) for item in page["items"]]
    kept = [is_bulletin_title(item["title"])[0] for item in items]
    assert kept == [item["bulletin"] for item in items]


@pytest.mark.parametrize("document", MANIFEST["documents"], ids=lambda doc: doc["url"])
def test_bundled_sample_articles_list_their_linked_files(document: dict) -> None:
    """The sample articles link exactly the manifest's attachments (url, name)."""
    source = get_source(document["source"])
    data = (SAMPLES / document["path"]).read_bytes()
    found = platform_for(source, document["url"]).parse_attachments(
        data, document["url"], source, document["content_type"]
    )
    assert [(attachment.url, attachment.name) for attachment in found] == [
        (attachment["url"], attachment["name"]) for attachment in document["attachments"]
    ]
