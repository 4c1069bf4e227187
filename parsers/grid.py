"""Table grids with merged cells, shared by the readers that rebuild them (HTML, DOCX).

A grid holds, at every row and column, the cell object that covers it: a merged
cell is the same object at each position it spans.
"""

from __future__ import annotations

from typing import Protocol


class GridCell(Protocol):
    """What the grid functions need of a cell: its text and the row it starts in."""

    text: str
    row: int


def joined_header(grid: list[list[GridCell | None]], header_rows: int) -> list[str]:
    """Per column, the header cells from top to bottom joined with '/', a spanning cell once."""
    header = []
    for c in range(len(grid[0]) if grid else 0):
        parts: list[str] = []
        seen: set[int] = set()
        for r in range(header_rows):
            cell = grid[r][c]
            if cell is None or not cell.text or id(cell) in seen:
                continue
            seen.add(id(cell))
            # Some writers repeat the text in the continuation of a vertical merge.
            if parts and parts[-1] == cell.text:
                continue
            parts.append(cell.text)
        header.append("/".join(parts))
    return header


def printed_rows(grid: list[list[GridCell | None]]) -> list[list[str]]:
    """Each row's cells as printed: a merged cell once, in the row and column it starts."""
    printed = []
    for r, row in enumerate(grid):
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row:
            if cell is None or cell.row != r or id(cell) in seen:
                continue
            seen.add(id(cell))
            cells.append(cell.text)
        if any(cells):
            printed.append(cells)
    return printed
