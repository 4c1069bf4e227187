"""宜春市 (Jiangxi): the 12345 hotline site's 热线月报 column, read as a Hanweb jcms column.

Why Hanweb: the Jiangxi provincial government site cluster runs on Hanweb jcms, so a city
hotline site there most likely pages its columns through ``dataproxy.jsp`` and serves
attachments through ``downfile.jsp?…&showname=``. Only the article scheme
``/yxtb/rxyb/YYYY/MM/<id>.html`` is known (sites.md); the host, the column page and the jcms ids
below are modelled. If the live column turns out to be a static list, the Hanweb reader still
reads it as a plain list (no ``<datastore>``), and ``platform`` can be switched to "generic".
"""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="yichun",
    name="宜春市",
    province="江西省",
    level="prefecture",
    division_code="360900",
    homepage="http://12345.yichun.gov.cn/",
    listing_urls=("http://12345.yichun.gov.cn/yxtb/rxyb/index.html",),
    platform="hanweb",
    allowed_hosts=("12345.yichun.gov.cn",),
    quirks={
        # Used only when the column page has no <nextgroup> and no pager script settings.
        "webid": 12,
        "columnid": 7365,
        "unitid": 4571234,
        "perpage": 15,
        "group_size": 3,
        "proxy_path": "/module/web/jpage/dataproxy.jsp",
        "notes": (
            "Host 12345.yichun.gov.cn is a guess for 'the hotline site' (unknown); the column "
            "page /yxtb/rxyb/index.html follows the known article paths; webid/columnid/unitid "
            "are invented placeholders; not verified live."
        ),
    },
    verified_live=None,
)
