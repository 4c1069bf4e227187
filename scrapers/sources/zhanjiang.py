"""湛江市 (Guangdong): the 分析研判 column of the city's 12345 section, Guangdong intensive platform."""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="zhanjiang",
    name="湛江市",
    province="广东省",
    level="prefecture",
    division_code="440800",
    homepage="http://www.zhanjiang.gov.cn/",
    listing_urls=("http://www.zhanjiang.gov.cn/zwgk/12345rx/fxyp/index.html",),
    platform="guangdong",
    allowed_hosts=("www.zhanjiang.gov.cn",),
    quirks={
        "notes": (
            "Column /zwgk/12345rx/fxyp/ (分析研判) as in the bundled samples, not verified live. "
            "Articles content/post_<id>.html with .docx attachments under /attachment/; some "
            "pages are served in Traditional script with converter artefacts."
        ),
    },
    verified_live=None,
)
