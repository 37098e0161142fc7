"""A small server-side SVG bar chart: objects added per day per feed (no JavaScript).

Only numbers and escaped feed names go into the markup; the template embeds the result with
``|safe`` because every text piece is escaped here.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7b83", "#57606a")


def objects_per_day_svg(
    data: dict[str, dict[str, int]], *, end: date, days: int = 14, title: str = ""
) -> str:
    """Stacked bars, one per day (``end`` and the ``days - 1`` before), one colour per feed.

    :param data: feed name → ``YYYY-MM-DD`` → objects added.
    """
    width, height, left, bottom, top = 640, 200, 40, 30, 10
    day_list = [end - timedelta(days=days - 1 - i) for i in range(days)]
    feeds = sorted(data)
    totals = [sum(data[f].get(d.isoformat(), 0) for f in feeds) for d in day_list]
    peak = max(totals + [1])
    plot_h = height - bottom - top
    bar_w = (width - left - 10) / days
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 20 * len(feeds)}"'
        f' role="img" aria-label="{escape(title)}" class="feed-chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#57606a" stroke-width="1"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="10">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, day in enumerate(day_list):
        x = left + i * bar_w + 2
        y: float = top + plot_h
        for j, feed in enumerate(feeds):
            value = data[feed].get(day.isoformat(), 0)
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(feed)} {day.isoformat()}: '
                f"{value}</title></rect>"
            )
        if i % 2 == 0 or days <= 7:
            parts.append(
                f'<text x="{x + (bar_w - 4) / 2:.1f}" y="{height - 14}" text-anchor="middle" '
                f'font-size="9">{day.strftime("%d-%m")}</text>'
            )
    for j, feed in enumerate(feeds):
        y = height + 20 * j
        parts.append(
            f'<rect x="{left}" y="{y - 9}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{left + 16}" y="{y}" font-size="11">{escape(feed)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
