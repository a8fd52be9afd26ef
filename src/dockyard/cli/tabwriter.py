"""Aligned columns from tab-separated lines: Go's text/tabwriter (elastic tabstops) as Docker uses it.

Docker calls `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`: every column block is as wide as its
widest cell plus 3, at least 10; the last cell of a line is not part of any column. Widths count
East Asian wide characters as 2, as Docker's fork (go-runewidth) does.
"""


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(text: str, minwidth: int = 10, padding: int = 3, padchar: str = " ") -> str:
    """Lay out `text` (lines of tab-terminated cells) the way Go's tabwriter would."""
    lines = text.split("\n")
    # Each line is its cells; a cell followed by a tab is "terminated" and takes part in columns.
    cells = [line.split("\t") for line in lines]
    out: list[str] = []
    _format(cells, 0, len(cells), [], out, minwidth, padding, padchar)
    return "\n".join(out)


def _format(cells, line0, line1, widths, out, minwidth, padding, padchar) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(cells[this]) - 1:
            this += 1
            continue
        # A column block starts here: emit the lines before it with the widths known so far.
        _write_lines(cells, line0, this, widths, out, padchar)
        line0 = this
        width = minwidth
        while this < line1 and column < len(cells[this]) - 1:
            width = max(width, _width(cells[this][column]) + padding)
            this += 1
        widths.append(width)
        _format(cells, line0, this, widths, out, minwidth, padding, padchar)
        widths.pop()
        line0 = this
    _write_lines(cells, line0, line1, widths, out, padchar)


def _write_lines(cells, line0, line1, widths, out, padchar) -> None:
    for i in range(line0, line1):
        parts = []
        line = cells[i]
        for j, cell in enumerate(line):
            parts.append(cell)
            if j < len(widths) and j < len(line) - 1:
                parts.append(padchar * (widths[j] - _width(cell)))
        out.append("".join(parts))
