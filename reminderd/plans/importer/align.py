"""A flattened table row's cells put back in their columns.

A gazette copy gives a row's cells one after another in the header's column order, and an
empty cell leaves no line, so which cell is which column is not written. It is read here
as the best order-keeping assignment: each cell goes to a column after the previous cell's
(or continues the previous cell's column, a cell broken before a capital), scored by what
the cell holds (an agency's name fits "chủ trì"/"phối hợp", a time fits "thời gian", and
neither fits a product or a note). A page break inside the row starts the order again:
the part after the break continues the columns from the first one.
"""

from __future__ import annotations

from collections.abc import Callable

Score = Callable[[str, str], float]  # (cell, column role) -> how well the cell fits there

_CONTINUE = {"content": 0.0, "lead": -0.6, "support": -0.4, "time": -1.5, "rest": -0.1}


def align(
    segments: list[list[str]], columns: list[str], fits: Score,
) -> dict[int, list[str]] | None:
    """The cells of each column (by column index); None when the row does not start with
    the content column."""
    if not columns or columns[0] != "content" or not segments or not segments[0]:
        return None
    placed: dict[int, list[str]] = {}
    for n, cells in enumerate(segments):
        if not cells:
            continue
        for cell, j in zip(cells, _best(cells, columns, fits, first=n == 0), strict=True):
            placed.setdefault(j, []).append(cell)
    return placed


def _best(cells: list[str], columns: list[str], fits: Score, first: bool) -> list[int]:
    """Column indexes of the cells, non-decreasing, with the highest total score."""
    m = len(columns)
    neg = float("-inf")
    score = [[neg] * m for _ in cells]
    back = [[-1] * m for _ in cells]
    for j in range(m):
        if first:
            score[0][j] = 0.0 if j == 0 else neg
        else:
            score[0][j] = fits(cells[0], columns[j]) + _CONTINUE.get(columns[j], -0.6) / 2
    for k in range(1, len(cells)):
        for j in range(m):
            new_fit = fits(cells[k], columns[j])
            stay_fit = _CONTINUE.get(columns[j], -0.6) + min(0.0, new_fit)
            for i in range(j + 1):
                if score[k - 1][i] == neg:
                    continue
                total = score[k - 1][i] + (stay_fit if i == j else new_fit)
                if total > score[k][j]:
                    score[k][j], back[k][j] = total, i
    j = max(range(m), key=lambda c: (score[-1][c], -c))
    path = [j]
    for k in range(len(cells) - 1, 0, -1):
        j = back[k][j]
        path.append(j)
    return path[::-1]
