"""衡东县 (Hunan, Hengyang): the 12345 工作简报 monthly column, Hengyang-family URL scheme."""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="hengdong",
    name="衡东县",
    province="湖南省",
    level="county",
    division_code="430424",
    homepage="http://www.hengdong.gov.cn/",
    listing_urls=("http://www.hengdong.gov.cn/zmhd/12345rx/gzjb/mytj/index.html",),
    platform="generic",
    allowed_hosts=("www.hengdong.gov.cn",),
    quirks={
        "page_stem": "index",
        "first_page_number": 2,
        "notes": (
            "Articles /zmhd/12345rx/gzjb/{jdtj|mytj}/YYYYMMDD/i<id>.html (jdtj quarterly, "
            "mytj monthly). Only the monthly column is listed, as in the bundled samples; the "
            "quarterly one, /zmhd/12345rx/gzjb/jdtj/index.html, could be added. Further pages "
            "taken as index_2.html ... (modelled, not verified live)."
        ),
    },
    verified_live=None,
)
