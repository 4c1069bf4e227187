"""聊城市 (Shandong): the city portal's TRS WCM column of 12345 monthly reports, and a news portal.

The portal's 12345 column is modelled on the bundled samples (column path ``/zmhd/12345rxyb/``,
not verified live). One seed bulletin (2020 Q2) is known only as republished on a news portal
whose real host is unknown: ``www.zhongyuan-news.example`` stands for it, so that listing never
answers live; it is read with the generic reader (``host_platforms``).
"""

from __future__ import annotations

from ..base import Source

SOURCE = Source(
    slug="liaocheng",
    name="聊城市",
    province="山东省",
    level="prefecture",
    division_code="371500",
    homepage="http://www.liaocheng.gov.cn/",
    listing_urls=(
        "http://www.liaocheng.gov.cn/zmhd/12345rxyb/index.html",
        "http://www.zhongyuan-news.example/zhoubian/liaocheng/index.html",
    ),
    platform="trs",
    allowed_hosts=("www.liaocheng.gov.cn", "www.zhongyuan-news.example"),
    quirks={
        "host_platforms": {"www.zhongyuan-news.example": "generic"},
        "notes": (
            "Column path /zmhd/12345rxyb/ as in the bundled samples: a plausible TRS column, "
            "not verified live. www.zhongyuan-news.example is a stand-in for the news portal "
            "that republished the 2020 Q2 通告 (its real host is unknown)."
        ),
    },
    verified_live=None,
)
