"""What the review tests share: the workbook's sheet names in each language, and reading a
column of printed rich tables back."""

from __future__ import annotations

import re

SHEETS = {
    "zh": ["概要", "商品榜", "讲解片段", "分钟趋势", "流量来源", "直播事故", "告警"],
    "en": [
        "Summary",
        "Product ranking",
        "Explanation segments",
        "Per-minute trend",
        "Traffic sources",
        "Incident",
        "Alerts",
    ],
}


def squashed(text: str) -> str:
    """The text without borders and white space: what is left of a value wrapped in its cell."""
    return re.sub(r"[\s│┃┏┓┗┛┣┫┳┻╋━─┡┩╇┢┪┠┨┯┷┿┝┥┼├┤┬┴└┘┌┐]", "", text)


def column_text(text: str, index: int) -> str:
    """One column of the tables' rows, line after line, squashed: a value wrapped over lines
    in its cell reads whole again."""
    fields = [line.split("│") for line in text.splitlines() if line.startswith("│")]
    return squashed("".join(f[index + 1] for f in fields if len(f) > index + 1))
