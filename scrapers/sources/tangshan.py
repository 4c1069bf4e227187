"""唐山市 (Hebei): the portal's 12345 政务服务便民热线统计数据 column, read as a generic list page.

sites.md gives only the article scheme ``/zhuzhan/12345zwfwbmrxtjsj/YYYYMMDD/<id>.html``, which is
none of the TRS, Hanweb or Guangdong schemes, so the generic reader (dated ``li`` links, numbered
pager) is used.
"""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="tangshan",
    name="唐山市",
    province="河北省",
    level="prefecture",
    division_code="130200",
    homepage="http://www.tangshan.gov.cn/",
    listing_urls=("http://www.tangshan.gov.cn/zhuzhan/12345zwfwbmrxtjsj/",),
    platform="generic",
    allowed_hosts=("www.tangshan.gov.cn",),
    quirks={
        "page_stem": "index",
        "first_page_number": 2,
        "notes": (
            "Column path /zhuzhan/12345zwfwbmrxtjsj/ from the article URLs in sites.md; the "
            "column page itself and its pager (index_2.html ...) are modelled, not verified live."
        ),
    },
    verified_live=None,
)
