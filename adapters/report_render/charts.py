"""The report's charts, drawn with matplotlib (Agg, no pyplot: safe in a server) as SVG for the
HTML report and PNG for the PDF. Each returns None when there is nothing to draw."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Literal

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.reports.model import CustomerReport

Format = Literal["svg", "png"]
MET = "#2e7d32"
MISSED = "#c62828"
INK = "#263238"
GRID = "#cfd8dc"
SERIES = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f")

matplotlib.rcParams.update({
    "svg.fonttype": "none",  # text stays text in the SVG: crisp, searchable, small
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "frontdoor",  # the same report draws the same SVG
})


def _figure(width: float, height: float, left: float = 1.1, bottom: float = 0.5,
            top: float = 0.3) -> Figure:
    """A figure with fixed margins in inches (a layout engine costs more than the drawing)."""
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(left=left / width, right=1 - 0.15 / width, bottom=bottom / height,
                        top=1 - top / height, hspace=0.9)
    return fig


def _legend_and_grid(ax: Axes, axis: Literal["x", "y"]) -> None:
    """The legend above the plot, right-aligned, and a light grid behind the data."""
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False, fontsize=8)
    ax.grid(axis=axis, color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)


def _out(fig: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=150 if fmt == "png" else 100,
                metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()


def attainment(report: CustomerReport, fmt: Format) -> bytes | None:
    """Met and breached per clock kind, as stacked horizontal bars with the share met."""
    rows = [(report.clock_labels.get(c, c), t[""]) for c, t in report.attainment.items()
            if "" in t and t[""].total]
    if not rows:
        return None
    fig = _figure(7.0, 0.55 * len(rows) + 1.0, left=1.1)
    ax = fig.add_subplot()
    labels = [r[0] for r in rows][::-1]
    met = [r[1].met for r in rows][::-1]
    missed = [r[1].breached for r in rows][::-1]
    ax.barh(labels, met, color=MET, label="met", height=0.55)
    ax.barh(labels, missed, left=met, color=MISSED, label="breached", height=0.55)
    top = max(m + b for m, b in zip(met, missed, strict=True))
    for y, (m, b) in enumerate(zip(met, missed, strict=True)):
        ax.text(m + b + top * 0.01, y, f"{100 * m / (m + b):.1f} % met ({m}/{m + b})",
                va="center", fontsize=8, color=INK)
    ax.set_xlim(0, top * 1.35)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("clocks decided in the period")
    _legend_and_grid(ax, "x")
    return _out(fig, fmt)


def times(report: CustomerReport, fmt: Format) -> bytes | None:
    """The distribution of response and resolution times (business hours), with medians."""
    series = [(report.clock_labels.get(n, n), s) for n, s in report.times.items() if s.count]
    if not series:
        return None
    fig = _figure(7.0, 2.4 * len(series), left=0.6, bottom=0.5, top=0.35)
    axes = fig.subplots(len(series), 1, squeeze=False)
    for (label, stats), color, row in zip(series, SERIES, axes, strict=False):
        ax = row[0]
        hours = [v / 60 for v in stats.values_minutes]
        top = max(hours) or 1.0
        step = next((s for s in (0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 96) if top / s <= 30), 168)
        edges = [i * step for i in range(int(top // step) + 2)]
        counts = [0] * (len(edges) - 1)
        for h in hours:
            counts[min(int(h // step), len(counts) - 1)] += 1
        # one filled outline (stairs) draws far faster than a rectangle per bin
        ax.stairs(counts, edges, fill=True, color=color, alpha=0.85)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if stats.median is not None:
            ax.axvline(stats.median.total_seconds() / 3600, color=INK, linestyle="--",
                       linewidth=1, label=f"median {_hours(stats.median.total_seconds())}")
        if stats.p90 is not None:
            ax.axvline(stats.p90.total_seconds() / 3600, color=MISSED, linestyle=":",
                       linewidth=1.2, label=f"p90 {_hours(stats.p90.total_seconds())}")
        ax.set_title(f"{label} time ({stats.count} cases)", loc="left", fontsize=9)
        ax.set_xlabel("business hours")
        ax.set_ylabel("cases")
        _legend_and_grid(ax, "y")
    return _out(fig, fmt)


def trend(report: CustomerReport, fmt: Format) -> bytes | None:
    """Share met per clock kind over the last months (none until two months have figures:
    one point is no trend)."""
    months = [p for p, _ in report.trend]
    clocks = [c for c in report.clock_labels if any(c in t for _, t in report.trend)]
    if not clocks or sum(1 for _, t in report.trend if t) < 2:
        return None
    fig = _figure(7.0, 2.6, left=0.6)
    ax = fig.add_subplot()
    xs = list(range(len(months)))
    for clock, color in zip(clocks, SERIES, strict=False):
        ys = [t[clock].percent if clock in t else None for _, t in report.trend]
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=color,
                label=report.clock_labels.get(clock, clock), linewidth=1.6, markersize=4)
    ax.set_xticks(xs, [f"{p.start:%b %Y}" for p in months])
    ax.set_ylim(0, 105)
    ax.set_ylabel("% met")
    ax.legend(frameon=False, fontsize=8, ncols=4, loc="lower left")
    ax.grid(axis="y", color=GRID, linewidth=0.5)
    return _out(fig, fmt)


def scores(report: CustomerReport, fmt: Format) -> bytes | None:
    """How many answers gave each score, 1 to 5."""
    if not report.scores:
        return None
    counts = report.score_counts()
    fig = _figure(3.6, 2.2, left=0.6)
    ax = fig.add_subplot()
    colors = [MISSED, "#ef6c00", "#9e9d24", "#558b2f", MET]
    ax.bar([str(k) for k in counts], list(counts.values()), color=colors)
    ax.set_xlabel("score")
    ax.set_ylabel("answers")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)
    return _out(fig, fmt)


def availability(percents: Sequence[tuple[str, float, float | None]], fmt: Format,
                 ) -> bytes | None:
    """Each deployment's availability against its target (name, percent, target)."""
    if not percents:
        return None
    longest = max(len(p[0]) for p in percents)
    fig = _figure(7.0, 0.5 * len(percents) + 1.0, left=0.2 + 0.075 * longest, top=0.35)
    ax = fig.add_subplot()
    names = [p[0] for p in percents]
    values = [p[1] for p in percents]
    floor = min([*values, *(p[2] for p in percents if p[2] is not None)]) - 0.5
    floor = max(0.0, min(floor, 99.0))
    colors = [MET if p[2] is None or p[1] >= p[2] else MISSED for p in percents]
    ax.barh(names, [v - floor for v in values], left=floor, color=colors, height=0.5)
    for y, p in enumerate(percents):
        ax.text(p[1], y, f"  {p[1]:.3f} %", va="center", fontsize=8, color=INK)
        if p[2] is not None:
            ax.plot([p[2], p[2]], [y - 0.35, y + 0.35], color=INK, linewidth=1.5)
            ax.text(p[2], y + 0.38, f"target {p[2]:g} %", ha="center", fontsize=7, color=INK)
    ax.set_xlim(floor, 100.0 + (100.0 - floor) * 0.25)
    ax.set_xticks([t for t in ax.get_xticks() if floor <= t <= 100.0])
    ax.set_xlabel("% available")
    return _out(fig, fmt)


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"
