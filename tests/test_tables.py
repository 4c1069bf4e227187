"""Tables found in plain text, unit rows and table checks (parsers/tables.py).

Expected values are read by hand from the documents: the Hengdong September 2020 bulletin
(seed 004, excerpt in fixtures/tables/) and the devset labels (labels.jsonl ``tables``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from parsers.model import Table
from parsers.normalize import normalize_text
from parsers.tables import (
    column_key,
    find_text_tables,
    is_total_label,
    table_checks,
    unit_key,
    unit_rows,
)

FIXTURES = Path(__file__).parent / "fixtures" / "tables"
_DEFAULT_DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devset"
DEVSET_DIR = Path(os.environ.get("HOTLINE_DEVSET", _DEFAULT_DEVSET))
if not (DEVSET_DIR / "labels.jsonl").exists():
    DEVSET_DIR = Path("/work/shared/devset")

needs_devset = pytest.mark.skipif(
    not (DEVSET_DIR / "labels.jsonl").exists(), reason=f"devset not found at {DEVSET_DIR}"
)


def _labels() -> dict[str, dict[str, Any]]:
    path = DEVSET_DIR / "labels.jsonl"
    if not path.exists():
        return {}
    records = (
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )
    return {r["id"]: r for r in records}


LABELS = _labels()
TABLE_DOCS = sorted(i for i, r in LABELS.items() if r.get("tables")) or ["d001"]
NO_TABLE_DOCS = sorted(i for i, r in LABELS.items() if not r.get("tables")) or ["d003"]


def _devset_tables(doc_id: str) -> list[Table]:
    text = normalize_text((DEVSET_DIR / f"{doc_id}.txt").read_text(encoding="utf-8"))
    return find_text_tables(text, document=f"{doc_id}.txt")


def _norm(cells: list[str]) -> list[str]:
    """Label cells as the parser sees them: the labels hold the original print ("6,412", "（件）")."""
    return [normalize_text(c) for c in cells]


# --- seed 004: Hengdong county, September 2020 ------------------------------------------


@pytest.fixture(scope="module")
def hengdong() -> list[Table]:
    text = normalize_text((FIXTURES / "hengdong_2020-09_tables.txt").read_text(encoding="utf-8"))
    return find_text_tables(text, document="hengdong.txt")


def test_hengdong_finds_both_tables_and_nothing_else(hengdong: list[Table]) -> None:
    # The excerpt also has prose lines and a heading after the tables: only the two tables count.
    assert [t.title for t in hengdong] == ["9月份群众诉求问题分类统计", "9月份成员单位工单办理情况"]
    assert all(t.document == "hengdong.txt" for t in hengdong)


def test_hengdong_category_table(hengdong: list[Table]) -> None:
    table = hengdong[0]
    assert table.header == ["问题分类", "受理件数", "综合结案数", "超期结案数", "超期结案率"]
    assert len(table.rows) == 18  # 17 categories and 合计
    assert table.rows[0] == ["交通运输管理", "56", "55", "0", "0.00%"]
    assert table.rows[-1] == ["合计", "3338", "3285", "18", "0.55%"]


def test_hengdong_merged_header(hengdong: list[Table]) -> None:
    table = hengdong[1]
    assert table.header == [
        "单位名称",
        "受理案件数",
        "待办理数",
        "未及时签收数",
        "超期工单/超期已办结",
        "超期工单/超期未办理",
    ]
    assert len(table.rows) == 50  # 49 units and 合 计
    assert table.rows[0] == ["县教育局", "25", "2", "0", "0", "0"]
    assert table.rows[-2] == ["中国联通衡东分公司", "1", "0", "0", "1", "0"]
    assert table.rows[-1] == ["合 计", "456", "46", "0", "18", "3"]


def test_hengdong_unit_rows(hengdong: list[Table]) -> None:
    rows = unit_rows(hengdong)
    by_cell = {(r.table_index, r.unit_name, r.column_header): r for r in rows}
    chengguan = by_cell[(1, "县城管执法局", "受理案件数")]
    assert (chengguan.value, chengguan.text, chengguan.column_key) == (132, "132", "assigned")
    assert chengguan.unit_key == "县城管执法局"
    assert chengguan.row_index == 15
    assert chengguan.table_title == "9月份成员单位工单办理情况"
    caoshi = by_cell[(1, "草市镇人民政府", "超期工单/超期已办结")]
    assert (caoshi.value, caoshi.column_key) == (3, "overdue_completed")
    assert by_cell[(1, "草市镇人民政府", "超期工单/超期未办理")].column_key == "overdue_open"
    assert by_cell[(1, "县教育局", "待办理数")].column_key == "pending"
    # The totals row keeps its label without the line-wrap space and is flagged.
    total = by_cell[(1, "合计", "受理案件数")]
    assert total.is_total and total.value == 456
    assert not chengguan.is_total
    rate = by_cell[(0, "合计", "超期结案率")]
    assert rate.value == pytest.approx(0.55) and rate.is_total
    # 5 value columns x 49 units + 5 on the totals row, 4 x 18 in the first table.
    assert len([r for r in rows if r.table_index == 1]) == 50 * 5
    assert len([r for r in rows if r.table_index == 0]) == 18 * 4


def test_hengdong_totals_add_up(hengdong: list[Table]) -> None:
    checks = {c.check: c for c in table_checks(hengdong, unit_rows(hengdong))}
    # 受理件数 by hand: 56+17+188+78+296+163+158+28+32+3+243+189+26+101+8+204+1548 = 3338.
    received = checks["table_total:9月份群众诉求问题分类统计:受理件数"]
    assert (received.status, received.severity) == ("pass", "info")
    assert (received.expected, received.actual) == (3338, 3338)
    # 综合结案数: 55+17+187+73+282+153+150+28+32+3+243+187+26+98+8+195+1548 = 3285.
    assert checks["table_total:9月份群众诉求问题分类统计:综合结案数"].expected == 3285
    # 超期结案数: 7 (农林) + 1 (城乡建设) + 3 (城市管理) + 5 (生活公用) + 2 (社会保障) = 18.
    assert checks["table_total:9月份群众诉求问题分类统计:超期结案数"].expected == 18
    # A rate column does not sum: no check for 超期结案率.
    assert not any(name.endswith(":超期结案率") for name in checks)
    # Member units: 超期已办结 1 (民政) + 3 (新塘) + 1 (三樟) + 1 (荣桓) + 1 (石滩) + 3 (草市)
    # + 3 (杨林) + 4 (电力) + 1 (联通) = 18; 超期未办理 1 (石滩) + 2 (草市) = 3, as the prose says.
    overdue = checks["table_total:9月份成员单位工单办理情况:超期工单/超期已办结"]
    assert (overdue.status, overdue.expected, overdue.actual) == ("pass", 18, 18)
    assert checks["table_total:9月份成员单位工单办理情况:超期工单/超期未办理"].expected == 3
    # 受理案件数 of the 49 units, added by hand line by line, is 456; 待办理数 is 46.
    assert checks["table_total:9月份成员单位工单办理情况:受理案件数"].expected == 456
    assert checks["table_total:9月份成员单位工单办理情况:待办理数"].expected == 46
    assert all(c.status == "pass" for c in checks.values())
    assert len(checks) == 3 + 5


# --- devset ------------------------------------------------------------------------------


@needs_devset
@pytest.mark.parametrize("doc_id", TABLE_DOCS)
def test_devset_tables_match_labels(doc_id: str) -> None:
    expected = LABELS[doc_id]["tables"]
    found = _devset_tables(doc_id)
    assert len(found) == len(expected)
    for want, got in zip(expected, found, strict=True):
        assert got.title == normalize_text(want["title"])
        assert got.header == _norm(want["header"])
        assert len(got.rows) == want["rows"]
        assert got.rows[0] == _norm(want["first_row"])
        assert got.rows[-1] == _norm(want["last_row"])
        assert is_total_label(got.rows[-1][0]) == want["has_totals_row"]


@needs_devset
@pytest.mark.parametrize("doc_id", NO_TABLE_DOCS)
def test_devset_documents_without_tables(doc_id: str) -> None:
    # Navigation bars ("首页 | 政务公开 | …"), headings and prose are not tables.
    assert _devset_tables(doc_id) == []


@needs_devset
def test_devset_d019_counts_in_wan_are_multiplied_out() -> None:
    tables = _devset_tables("d019")
    rows = unit_rows(tables)
    shijiazhuang = next(r for r in rows if r.unit_name == "石家庄市" and r.column_key == "assigned")
    assert shijiazhuang.column_header == "受理情况/受理量(万件)"
    assert (shijiazhuang.text, shijiazhuang.value) == ("268.41", 2684100)
    yoy = next(r for r in rows if r.unit_name == "石家庄市" and r.column_header == "受理情况/同比")
    assert yoy.value == pytest.approx(16.72) and yoy.column_key == "change_yoy_pct"
    province = next(r for r in rows if r.unit_name == "全省合计" and r.column_key == "assigned")
    assert province.is_total and province.value == 12863700


@needs_devset
def test_devset_d025_table_adds_up() -> None:
    # The 600-short error of d025 is in the nature breakdown, not in the table:
    # 4318+5927+2106+2473+3852+4017+2691+2738+3105+3326+2254+1987+1462+2815 = 43071.
    tables = _devset_tables("d025")
    checks = table_checks(tables, unit_rows(tables))
    total = next(c for c in checks if c.check.endswith(":承办量(件)"))
    assert (total.status, total.expected, total.actual) == ("pass", 43071, 43071)
    # Only the count column is summed: 办结率/按时办结率/满意率 are rates.
    assert [c.check for c in checks] == ["table_total:表1 7月份各县(市、区)办理情况:承办量(件)"]


@needs_devset
def test_devset_d035_space_aligned_shares() -> None:
    tables = _devset_tables("d035")
    checks = {c.check: c for c in table_checks(tables, unit_rows(tables))}
    # 13208+14592+16417+14709 = 58926; 13208/58926 = 22.41%, 14592/58926 = 24.76%, ...
    assert checks["table_total:分季度受理情况:受理量(件)"].status == "pass"
    share = checks["table_share:分季度受理情况:占全年比重"]
    assert share.status == "pass" and share.message.startswith("4 rows agree")


@needs_devset
def test_devset_d001_rates_and_keys() -> None:
    tables = _devset_tables("d001")
    rows = unit_rows(tables)
    yuecheng = {r.column_header: r for r in rows if r.unit_name == "越城区"}
    assert yuecheng["转派工单(件)"].column_key == "assigned"
    assert yuecheng["已办结(件)"].column_key == "completed"
    assert yuecheng["办结率"].column_key == "completion_rate"
    assert yuecheng["超期工单(件)/超期已办结"].value == 41
    checks = {c.check: c for c in table_checks(tables, rows)}
    # 6305 / 6412 = 98.33%, 34334 / 34958 = 98.21%: the stated 办结率 agree with the counts.
    rate = checks["table_rate:表1 8月份各区、县(市)承办情况表:办结率"]
    assert rate.status == "pass"


# --- layouts -----------------------------------------------------------------------------

ONE_CELL_PER_LINE = """各街道承办情况如下:
||||
街道 |
承办量(件) |
办结率 |
东街 |
120 |
98.00% |
西街 |
80 |
96.25% |
合计 |
200 |
97.10% |
下一步工作"""


def test_one_cell_per_line() -> None:
    [table] = find_text_tables(ONE_CELL_PER_LINE)
    assert table.title == "各街道承办情况"
    assert table.header == ["街道", "承办量(件)", "办结率"]
    assert table.rows == [
        ["东街", "120", "98.00%"],
        ["西街", "80", "96.25%"],
        ["合计", "200", "97.10%"],
    ]


def test_one_cell_per_line_after_a_stray_cell_line() -> None:
    # A navigation item written as "打印 |" just before the header is not part of the table.
    text = ONE_CELL_PER_LINE.replace("||||\n", "打印 |\n")
    [table] = find_text_tables(text)
    assert table.header == ["街道", "承办量(件)", "办结率"]
    assert len(table.rows) == 3 and table.rows[-1] == ["合计", "200", "97.10%"]


def test_tab_separated_rows_glued_by_normalisation() -> None:
    # normalize_text closes "区\t312" into "区312": the label and the first figure are split again.
    text = normalize_text(
        "表2 各区办理情况\n区\t工单量\t督办量\t满意率\n"
        "东区\t312\t\t96.1%\n西区\t10\t1\t95.0%\n合计\t322\t1\t95.5%\n"
    )
    [table] = find_text_tables(text)
    assert table.title == "表2各区办理情况"  # normalize_text also closes "2 各"
    assert table.header == ["区", "工单量", "督办量", "满意率"]
    assert table.rows == [
        ["东区", "312", "", "96.1%"],  # the empty cell keeps its place
        ["西区", "10", "1", "95.0%"],
        ["合计", "322", "1", "95.5%"],
    ]


def test_space_aligned_columns() -> None:
    text = normalize_text(
        "一、分月情况\n月份      受理量(件)     占比\n1月       300        30.00%\n2月       700        70.00%\n"
    )
    [table] = find_text_tables(text)
    assert table.title == "分月情况"
    assert table.rows == [["1月", "300", "30.00%"], ["2月", "700", "70.00%"]]


def test_two_groups_in_a_tab_header() -> None:
    # Same shape as d011: two group cells (办理情况, 回访情况) over three sub-headers each.
    text = normalize_text(
        "街镇\t工单量\t办理情况\t回访情况\n"
        "按期办结\t超期办结\t未办结\t满意\t基本满意\t不满意\n"
        "甲街道\t10\t8\t1\t1\t7\t2\t1\n"
    )
    [table] = find_text_tables(text)
    assert table.header == [
        "街镇",
        "工单量",
        "办理情况/按期办结",
        "办理情况/超期办结",
        "办理情况/未办结",
        "回访情况/满意",
        "回访情况/基本满意",
        "回访情况/不满意",
    ]
    assert table.rows == [["甲街道", "10", "8", "1", "1", "7", "2", "1"]]


def test_not_tables() -> None:
    text = "\n".join(
        [
            "首页 | 政务公开 | 政务服务 | 互动交流",
            "三、办理情况",
            "本月共受理诉求1234件 | 环比增长5%。",
            "网站地图|联系我们|隐私声明",
            "发布时间:2023-04-14来源:区网络理政中心  浏览次数:417",
        ]
    )
    assert find_text_tables(text) == []


# --- keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("超期工单/超期已办结", "overdue_completed"),
        ("超期工单(件)/超期未办理", "overdue_open"),
        ("超期工单", "overdue"),
        ("办结率", "completion_rate"),
        ("按时办结率", "on_time_completion_rate"),
        ("办结情况/办结量(件)", "completed"),
        ("按时办结情况/按时办结量(件)", "on_time_completed"),
        ("转派工单(件)", "assigned"),
        ("受理情况/受理量(万件)", "assigned"),
        ("满意情况/满意率", "satisfaction_rate"),
        ("超期结案率", "overdue_rate"),
        ("督办量", "supervised"),
        ("综合得分", "score"),
        ("占比", "share_pct"),
        ("受理情况/同比", "change_yoy_pct"),
        ("回访情况/满意", None),
        ("督办比", None),
        ("单位名称", None),
    ],
)
def test_column_key(header: str, key: str | None) -> None:
    assert column_key(header) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("县城管执法局", "县城管执法局"),
        ("县 城管执法局", "县城管执法局"),
        ("县教育局", "县教育局"),
        ("草市镇人民政府", "草市镇人民政府"),
        ("县(市、区)", "县(市、区)"),
        ("县（市、区）", "县(市、区)"),
        ("县〔市、区〕", "县(市、区)"),
        ("文昌街道办事处", "文昌街道"),
        ("河西管理委员会", "河西管委会"),
        ("湖南移动衡东有限公司", "湖南移动衡东公司"),
        ("縣教育局", "县教育局"),
    ],
)
def test_unit_key(name: str, key: str) -> None:
    assert unit_key(name) == key


@pytest.mark.parametrize(
    ("label", "total"),
    [("合计", True), ("合 计", True), ("总计", True), ("全省合计", True), ("全市合计", True),
     ("小计", False), ("合肥市", False), ("县教育局", False)],
)  # fmt: skip
def test_is_total_label(label: str, total: bool) -> None:
    assert is_total_label(label) is total


# --- checks on made-up tables --------------------------------------------------------------


def test_total_off_by_600_is_reported() -> None:
    # Made up: 1000 + 1400 + 1000 = 3400, but the totals row says 4000.
    table = Table(
        title="表9 虚构",
        header=["单位", "受理量(件)", "占比", "满意率"],
        rows=[
            ["甲区", "1000", "25.00%", "95.00%"],
            ["乙区", "1400", "35.00%", "96.00%"],
            ["丙区", "1000", "25.00%", "97.00%"],
            ["合计", "4000", "100%", "96.00%"],
        ],
    )
    checks = {c.check: c for c in table_checks([table], unit_rows([table]))}
    total = checks["table_total:表9 虚构:受理量(件)"]
    assert (total.status, total.severity) == ("fail", "warning")
    assert (total.expected, total.actual) == (3400, 4000)
    assert "600" in total.message
    # The shares are stated against the printed 4000 (1000/4000 = 25%): they agree with it.
    assert checks["table_share:表9 虚构:占比"].status == "pass"
    # Rates are never summed.
    assert set(checks) == {"table_total:表9 虚构:受理量(件)", "table_share:表9 虚构:占比"}
    # The table itself is not "fixed".
    assert table.rows[-1][1] == "4000"


def test_wrong_share_is_reported() -> None:
    # Made up: 300/1000 = 30%, but 乙 says 60.00% instead of 70.00%.
    table = Table(
        title=None,
        header=["类型", "件数", "占比"],
        rows=[["甲", "300", "30.00%"], ["乙", "700", "60.00%"], ["合计", "1000", "100%"]],
    )
    [total, share] = table_checks([table], unit_rows([table]))
    assert total.check == "table_total:0:件数" and total.status == "pass"
    assert share.check == "table_share:0:占比"
    assert (share.status, share.expected, share.actual) == ("fail", 70.0, 60.0)
    assert "1 of 2 rows" in share.message and "乙" in share.message


def test_wrong_rate_is_reported() -> None:
    # Made up: 90 of 100 completed is 90.00%, the table says 95.00%.
    table = Table(
        title="办理情况",
        header=["单位", "承办量", "办结量", "办结率"],
        rows=[["甲局", "100", "90", "95.00%"], ["乙局", "50", "50", "100.00%"]],
    )
    [rate] = table_checks([table], unit_rows([table]))
    assert rate.check == "table_rate:办理情况:办结率"
    assert (rate.status, rate.expected, rate.actual) == ("fail", 90.0, 95.0)


def test_rounded_wan_figures_within_rounding() -> None:
    # Made up: 1.24 + 2.37 = 3.61 万; a total printed 3.62 is within the rounding of three figures.
    table = Table(
        title="t",
        header=["市", "受理量(万件)"],
        rows=[["甲市", "1.24"], ["乙市", "2.37"], ["全省合计", "3.62"]],
    )
    [total] = table_checks([table], unit_rows([table]))
    assert total.status == "pass"
    assert (total.expected, total.actual) == (36100, 36200)


def test_serial_column_is_not_the_unit() -> None:
    table = Table(title="t", header=["序号", "单位", "件数"], rows=[["1", "市住建局", "24"]])
    [row] = unit_rows([table])
    assert (row.unit_name, row.column_header, row.value) == ("市住建局", "件数", 24)
