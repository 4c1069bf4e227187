"""岳阳市云溪区 (Hunan): the district portal's hotline column, Hunan platform (content_<id>.html)."""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="yueyang-yunxi",
    name="岳阳市云溪区",
    province="湖南省",
    level="district",
    division_code="430603",
    homepage="http://www.yunxi.gov.cn/",
    listing_urls=("http://www.yunxi.gov.cn/27310/27316/27345/index.html",),
    platform="hunan",
    allowed_hosts=("www.yunxi.gov.cn",),
    quirks={
        "notes": (
            "Column /27310/27316/27345/ (熱線通報) as in the bundled samples: the numeric ids "
            "are modelled, not verified live. Further pages taken as index_2.html ... "
            "(modelled). Listing links are cut short with '...'; the title attribute is full."
        ),
    },
    verified_live=None,
)
