"""One self-contained HTML file per report: inline CSS, inline SVG charts, no script, no fetch.

The page carries a Content-Security-Policy that forbids every network fetch and every script,
so it works offline and cannot phone home even when opened from a mail attachment. Charts are
drawn here as plain SVG (no JS library): bars, grouped histogram bars, a heatmap and 100%
share bars. A print stylesheet puts each section on the page without breaking it apart.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from html import escape
from typing import Any

import pandas as pd

from riskcli.services.reports.labels import label as human_label
from riskcli.services.reports.model import Report, Section

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#64748b")
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --accent:#2563eb; --bg:#ffffff; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       "Microsoft YaHei", "PingFang SC", "WenQuanYi Zen Hei", sans-serif;
       color: var(--ink); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
nav ol { columns: 3; margin: 0 0 16px; padding-left: 20px; }
nav a { color: var(--accent); text-decoration: none; }
section.report-section { margin: 0 0 28px; }
section.missing h2 { color: var(--muted); }
p.note { color: var(--muted); font-style: italic; margin: 4px 0; }
dl.facts { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 4px 0 10px; }
dl.facts div { min-width: 120px; }
dl.facts dt { color: var(--muted); font-size: 12px; }
dl.facts dd { margin: 0; font-weight: 600; font-size: 16px; }
figure.chart { margin: 8px 0 12px; }
figure.chart svg { width: 100%; height: auto; max-height: 420px; display: block; }
figure.chart figcaption { color: var(--muted); font-size: 12px; }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; margin-top: 24px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  nav { display: none; }
  section.report-section { break-inside: avoid; page-break-inside: avoid; }
  figure.chart, table { break-inside: avoid; }
  figure.chart svg { max-height: 300px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

W, H = 720, 280  # chart canvas in SVG user units
M_LEFT, M_RIGHT, M_TOP, M_BOTTOM = 64, 16, 16, 44


# --------------------------------------------------------------------------------------------
# cell formatting
# --------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_cell(column: str, value: Any) -> tuple[str, bool]:
    """Text for one table cell and whether it is numeric (right-aligned)."""
    if _is_missing(value):
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, Decimal):
        return f"{value:,.2f}", True
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return f"{int(value):,}", True
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        v = float(value)
        if column.endswith("share") or column.endswith("_rate") or column == "utilisation":
            return f"{v * 100:.1f}%", True
        if column == "pd" or column.endswith("_pd"):
            return f"{v * 100:.2f}%", True
        if column == "psi":
            return f"{v:.4f}", True
        if v == round(v) and abs(v) < 1e15:
            return f"{v:,.0f}", True
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4g}", True
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds"), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    return str(value), False


def _fmt_axis(v: float, percent: bool = False) -> str:
    if percent:
        pct = round(v * 100, 6)
        return f"{pct:.0f}%" if pct == round(pct) else f"{pct:.1f}%"
    a = abs(v)
    if a >= 1_000_000:
        return f"{v / 1_000_000:.3g}M"
    if a >= 10_000:
        return f"{v / 1000:.3g}k"
    return f"{v:.3g}" if a < 1000 else f"{v:,.0f}"


def _num(value: Any) -> float:
    if _is_missing(value):
        return 0.0
    return float(value)


def _ticks(vmax: float, n: int = 4) -> list[float]:
    if vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    top = math.ceil(vmax / step) * step
    return [i * step for i in range(round(top / step) + 1)]


# --------------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------------


def _svg_open(kind: str, title: str, height: int = H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" role="img" '
        f'class="chart-{kind}" data-chart="{kind}" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def svg_bars(
    labels: list[str],
    series: list[tuple[str, list[float]]],
    title: str,
    kind: str = "bars",
    percent: bool = False,
    colors: dict[str, str] | None = None,
) -> str:
    """Vertical bars; several series are drawn side by side in each category."""
    plot_w = W - M_LEFT - M_RIGHT
    plot_h = H - M_TOP - M_BOTTOM
    vmax = max([v for _, vals in series for v in vals] + [0.0])
    ticks = _ticks(vmax)
    top = ticks[-1] or 1.0
    parts = [_svg_open(kind, title)]
    for t in ticks:
        y = M_TOP + plot_h - plot_h * t / top
        parts.append(
            f'<line x1="{M_LEFT}" y1="{y:.1f}" x2="{W - M_RIGHT}" y2="{y:.1f}" '
            f'stroke="#e5e7eb" stroke-width="1"/>'
            f'<text x="{M_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#6b7280">{escape(_fmt_axis(t, percent))}</text>'
        )
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = group_w * 0.8 / max(len(series), 1)
    for i, label in enumerate(labels):
        gx = M_LEFT + i * group_w + group_w * 0.1
        for j, (name, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else 0.0
            h = plot_h * v / top
            x = gx + j * bar_w
            y = M_TOP + plot_h - h
            fill = (colors or {}).get(label) if len(series) == 1 else None
            fill = fill or PALETTE[j % len(PALETTE)]
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{fill}">'
                f"<title>{escape(f'{name} {label}: {_fmt_axis(v, percent)}')}</title></rect>"
            )
        step = max(1, math.ceil(n / 14))  # avoid overlapping category labels
        if i % step == 0:
            cx = M_LEFT + (i + 0.5) * group_w
            parts.append(
                f'<text x="{cx:.1f}" y="{H - M_BOTTOM + 16}" font-size="11" '
                f'text-anchor="middle" fill="#374151">{escape(label)}</text>'
            )
    parts.append(
        f'<line x1="{M_LEFT}" y1="{M_TOP + plot_h}" x2="{W - M_RIGHT}" y2="{M_TOP + plot_h}" '
        f'stroke="#9ca3af"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def svg_heatmap(
    rows: list[str],
    cols: list[str],
    values: list[list[float]],
    title: str,
    diagonal: bool = False,
) -> str:
    """A matrix of coloured cells with the count in each; *diagonal*: outline row == column."""
    cell_h = 30
    left, top_m = 110, 40
    height = top_m + cell_h * max(len(rows), 1) + 10
    cell_w = (W - left - M_RIGHT) / max(len(cols), 1)
    vmax = max([v for r in values for v in r] + [0.0]) or 1.0
    parts = [_svg_open("heatmap", title, height)]
    for j, c in enumerate(cols):
        parts.append(
            f'<text x="{left + (j + 0.5) * cell_w:.1f}" y="{top_m - 10}" font-size="11" '
            f'text-anchor="middle" fill="#374151">{escape(c)}</text>'
        )
    for i, r in enumerate(rows):
        y = top_m + i * cell_h
        parts.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#374151">{escape(r)}</text>'
        )
        for j, c in enumerate(cols):
            v = values[i][j] if j < len(values[i]) else 0.0
            t = math.sqrt(v / vmax)  # square root: small counts stay visible beside a big one
            # white -> accent blue
            red, green, blue = (int(255 + (a - 255) * t) for a in (37, 99, 235))
            ink = "#ffffff" if t > 0.6 else "#1f2937"
            diag = (
                ' stroke="#111827" stroke-width="2"' if diagonal and r == c else ' stroke="#e5e7eb"'
            )
            x = left + j * cell_w
            parts.append(
                f'<rect class="cell" x="{x:.1f}" y="{y}" width="{cell_w:.1f}" height="{cell_h}" '
                f'fill="rgb({red},{green},{blue})"{diag}>'
                f"<title>{escape(f'{r} -> {c}: {_fmt_axis(v)}')}</title></rect>"
                f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4:.1f}" font-size="12" '
                f'text-anchor="middle" fill="{ink}">{escape(_fmt_axis(v))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_shares(labels: list[str], series: list[tuple[str, list[float]]], title: str) -> str:
    """One 100% stacked horizontal bar per series (e.g. share of customers, share of value)."""
    bar_h, gap, left = 34, 18, 150
    height = 20 + len(series) * (bar_h + gap) + 24
    plot_w = W - left - M_RIGHT
    parts = [_svg_open("shares", title, height)]
    for i, (name, vals) in enumerate(series):
        y = 16 + i * (bar_h + gap)
        total = sum(max(v, 0.0) for v in vals) or 1.0
        parts.append(
            f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.1f}" font-size="12" '
            f'text-anchor="end" fill="#374151">{escape(name)}</text>'
        )
        x = float(left)
        for j, label in enumerate(labels):
            v = max(vals[j] if j < len(vals) else 0.0, 0.0) / total
            w = plot_w * v
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(f'{name} {label}: {v * 100:.1f}%')}</title></rect>"
            )
            text = f"{label} {v * 100:.0f}%"
            if w > len(text) * 7 + 6:  # only when the text fits inside its bar
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar_h / 2 + 4:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="#ffffff">{escape(text)}</text>'
                )
            x += w
    parts.append("</svg>")
    return "".join(parts)


def _axes(parts: list[str], ticks: list[float], top: float, percent: bool = False) -> None:
    plot_h = H - M_TOP - M_BOTTOM
    for t in ticks:
        y = M_TOP + plot_h - plot_h * t / top
        parts.append(
            f'<line x1="{M_LEFT}" y1="{y:.1f}" x2="{W - M_RIGHT}" y2="{y:.1f}" '
            f'stroke="#e5e7eb" stroke-width="1"/>'
            f'<text x="{M_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#6b7280">{escape(_fmt_axis(t, percent))}</text>'
        )


def _category_labels(parts: list[str], labels: list[str]) -> None:
    n = max(len(labels), 1)
    group_w = (W - M_LEFT - M_RIGHT) / n
    step = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % step == 0:
            cx = M_LEFT + (i + 0.5) * group_w
            parts.append(
                f'<text x="{cx:.1f}" y="{H - M_BOTTOM + 16}" font-size="11" '
                f'text-anchor="middle" fill="#374151">{escape(label)}</text>'
            )


def svg_stacked(labels: list[str], series: list[tuple[str, list[float]]], title: str) -> str:
    """Vertical bars, one per category, each series stacked on the one before."""
    plot_w, plot_h = W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM
    totals = [sum(max(vals[i], 0.0) for _, vals in series) for i in range(len(labels))]
    ticks = _ticks(max([*totals, 0.0]))
    top = ticks[-1] or 1.0
    parts = [_svg_open("stacked", title)]
    _axes(parts, ticks, top)
    group_w = plot_w / max(len(labels), 1)
    for i, label in enumerate(labels):
        base = 0.0
        for j, (name, vals) in enumerate(series):
            v = max(vals[i], 0.0)
            h = plot_h * v / top
            y = M_TOP + plot_h - plot_h * base / top - h
            parts.append(
                f'<rect class="bar" x="{M_LEFT + i * group_w + group_w * 0.1:.1f}" y="{y:.1f}" '
                f'width="{group_w * 0.8:.1f}" height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(f'{label} {name}: {_fmt_axis(v)}')}</title></rect>"
            )
            base += v
    _category_labels(parts, labels)
    parts.append("</svg>")
    return "".join(parts)


def svg_lines(labels: list[str], series: list[tuple[str, list[float]]], title: str) -> str:
    """One line per series over the categories (a trend)."""
    plot_w, plot_h = W - M_LEFT - M_RIGHT, H - M_TOP - M_BOTTOM
    ticks = _ticks(max([v for _, vals in series for v in vals] + [0.0]))
    top = ticks[-1] or 1.0
    parts = [_svg_open("lines", title)]
    _axes(parts, ticks, top)
    group_w = plot_w / max(len(labels), 1)
    for j, (name, vals) in enumerate(series):
        points = " ".join(
            f"{M_LEFT + (i + 0.5) * group_w:.1f},{M_TOP + plot_h - plot_h * max(v, 0.0) / top:.1f}"
            for i, v in enumerate(vals)
        )
        parts.append(
            f'<polyline class="line" fill="none" stroke="{PALETTE[j % len(PALETTE)]}" '
            f'stroke-width="2" points="{points}"><title>{escape(name)}</title></polyline>'
        )
    _category_labels(parts, labels)
    parts.append("</svg>")
    return "".join(parts)


def render_chart(section: Section) -> str:
    chart = section.chart
    if chart is None or section.table.empty:
        return ""
    table = section.table
    title = chart.title or section.title
    if chart.kind == "heatmap":
        rows = [str(x) for x in table[chart.label]]
        cols = [c for c in chart.values if c in table.columns]
        values = [[_num(v) for v in table.loc[i, cols]] for i in table.index]
        svg = svg_heatmap(rows, cols, values, title, diagonal=chart.diagonal)
        legend = ""
    else:
        labels = [str(x) for x in table[chart.label]]
        series = [(c, [_num(v) for v in table[c]]) for c in chart.values if c in table.columns]
        if chart.kind == "shares":
            svg = svg_shares(labels, series, title)
            legend = _legend(labels)
        elif chart.kind in ("stacked", "lines"):
            draw = svg_stacked if chart.kind == "stacked" else svg_lines
            svg = draw(labels, series, title)
            legend = _legend([name for name, _ in series])
        else:
            percent = all(c.endswith("share") for c in chart.values)
            svg = svg_bars(
                labels, series, title, kind=chart.kind, percent=percent, colors=chart.colors
            )
            legend = _legend([name for name, _ in series]) if len(series) > 1 else ""
    caption = escape(title + (f" ({chart.unit})" if chart.unit else ""))
    return (
        f'<figure class="chart" data-chart-kind="{chart.kind}">{svg}{legend}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<span><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(n)}</span>'
        for i, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


# --------------------------------------------------------------------------------------------
# page
# --------------------------------------------------------------------------------------------


def render_table(
    frame: pd.DataFrame, max_rows: int = 500, language: str = "en", currency: str = ""
) -> str:
    if frame.empty:
        return '<p class="note">No rows.</p>'
    cols = [str(c) for c in frame.columns]
    body: list[str] = []
    numeric = [False] * len(cols)
    for row in frame.head(max_rows).itertuples(index=False, name=None):
        cells = []
        for k, (col, value) in enumerate(zip(cols, row, strict=True)):
            # a metric/value table formats each value by its metric's name
            name = str(row[0]) if cols == ["metric", "value"] and col == "value" else col
            text, is_num = format_cell(name, value)
            if cols == ["metric", "value"] and col == "metric":
                text = human_label(str(value), language, currency)
            numeric[k] = numeric[k] or is_num
            cells.append(
                f'<td class="num">{escape(text)}</td>' if is_num else f"<td>{escape(text)}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if numeric[k] else f"<th>{escape(h)}</th>"
        for k, h in enumerate(human_label(c, language, currency) for c in cols)
    )
    more = (
        f'<p class="note">First {max_rows} of {len(frame)} rows.</p>'
        if len(frame) > max_rows
        else ""
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def _facts(facts: dict[str, Any], language: str = "en", currency: str = "") -> str:
    if not facts:
        return ""
    items = []
    for k, v in facts.items():
        text, _ = format_cell(k, v)
        name = human_label(k, language, currency)
        items.append(f"<div><dt>{escape(name)}</dt><dd>{escape(text or '-')}</dd></div>")
    return f'<dl class="facts">{"".join(items)}</dl>'


def render_section(section: Section, language: str = "en", currency: str = "") -> str:
    sid = f"sec-{escape(section.key)}"
    key = escape(section.key)
    if not section.available:
        return (
            f'<section id="{sid}" class="report-section missing" data-section="{key}">'
            f"<h2>{escape(section.title)}</h2>"
            f'<p class="note">{escape(section.note or "No data.")}</p></section>'
        )
    note = f'<p class="note">{escape(section.note)}</p>' if section.note else ""
    table = (
        ""
        if section.table.empty and section.note
        else render_table(section.table, language=language, currency=currency)
    )
    return (
        f'<section id="{sid}" class="report-section" data-section="{key}">'
        f"<h2>{escape(section.title)}</h2>{note}{_facts(section.facts, language, currency)}"
        f"{render_chart(section)}{table}</section>"
    )


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML document (a str)."""
    lang, cur = report.language, report.currency
    params = " · ".join(
        f"{escape(human_label(str(k), lang))}: {escape(format_cell(str(k), v)[0] or '-')}"
        for k, v in report.params.items()
    )
    toc = "".join(
        f'<li><a href="#sec-{escape(s.key)}">{escape(s.title)}</a>'
        f"{'' if s.available else ' <small>(no data)</small>'}</li>"
        for s in report.sections
    )
    body = "".join(render_section(s, lang, cur) for s in report.sections)
    generated = report.generated_at.isoformat(sep=" ", timespec="seconds")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="riskcli">'
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head>"
        f'<body data-report="{escape(report.kind)}"><header><h1>{escape(report.title)}</h1>'
        f'<p class="meta">Generated {escape(generated)}{" · " + params if params else ""}</p>'
        f"</header><nav><ol>{toc}</ol></nav><main>{body}</main>"
        "<footer>Generated by riskcli. Self-contained: works offline, fetches nothing.</footer>"
        "</body></html>\n"
    )
