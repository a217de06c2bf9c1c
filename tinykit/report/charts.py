"""The report's charts: matplotlib figures saved as SVG (text kept as ``<text>``,
``svg.fonttype = none``, so no font is embedded or fetched), cleaned for inlining
into one HTML page (:func:`inline_svg`). matplotlib draws every shape; nothing here
writes SVG geometry.

Each chart gets its own ``svg.hashsalt``, so the ids of two charts on one page
never collide and the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tinykit.output import human_bytes
from tinykit.report.quant import QuantSection
from tinykit.report.sections import BoardBudget, HilSection, MemorySection, PlanBox, RunSection, Summary

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "hatch.linewidth": 0.6,
}
OK, OVER, UNKNOWN, ACCENT, MUTED = "#2e8540", "#c62828", "#9e9e9e", "#1565c0", "#607d8b"

_STRIP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*", re.S),
    re.compile(r"<!--.*?-->\s*", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def inline_svg(svg: str) -> str:
    """matplotlib's SVG document as an element to inline in HTML: no XML declaration,
    DOCTYPE, comment or RDF metadata (they carry the only URLs), no namespace
    attributes (the HTML parser puts ``<svg>`` in the SVG namespace), ``href`` for
    ``xlink:href`` (SVG 2), and no ids on groups (they repeat across charts).

    >>> inline_svg('<?xml version="1.0"?>\\n<!DOCTYPE svg PUBLIC "x" "http://w3.org/x.dtd">\\n'
    ...            '<svg xmlns:xlink="http://www.w3.org/1999/xlink" xmlns="http://www.w3.org/2000/svg">'
    ...            '<metadata><dc:title>v, https://matplotlib.org/</dc:title></metadata>'
    ...            '<g id="axes_1"><use xlink:href="#m1"/></g></svg>')
    '<svg><g><use href="#m1"/></g></svg>'
    """
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = re.sub(r'<g id="[^"]*"', "<g", svg)
    if re.search(r'="[^"]*://', svg):  # an attribute with a URL (text that mentions one loads nothing)
        raise RuntimeError("a chart still holds a URL after cleaning (a bug in tinykit.report.charts)")
    return svg.strip()


@contextmanager
def _chart(name: str) -> Iterator[None]:
    import matplotlib

    params: dict[Any, Any] = {**STYLE, "svg.hashsalt": f"tinykit-{name}"}
    with matplotlib.rc_context(params):
        yield


def _figure(width: float, height: float, **subplots: Any) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(**subplots)


def _save(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return inline_svg(buf.getvalue())


def _bytes_axis(ax: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: human_bytes(v) if v >= 0 else "")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def ops_histogram(s: Summary) -> str:
    with _chart("ops"):
        kinds = [k for k, _ in s.ops][::-1]
        counts = [n for _, n in s.ops][::-1]
        fig, ax = _figure(5.0, 0.8 + 0.28 * len(kinds))
        ax.barh(kinds, counts, color=ACCENT)
        ax.bar_label(ax.containers[0], padding=3, fontsize=8)
        ax.set_xlabel("ops in the model")
        ax.set_title(f"{sum(counts)} ops, {len(kinds)} kinds", loc="left")
        ax.xaxis.get_major_locator().set_params(integer=True)
        return _save(fig)


def memory_plan(m: MemorySection) -> str:
    """Arena offset against op index: one rectangle per buffer over its lifetime."""
    import matplotlib
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory

    tab20 = matplotlib.colormaps["tab20"]
    palette = [tab20(i) for i in range(20)]
    with _chart("memory"):
        fig, ax = _figure(11.0, 5.8)
        top_bytes = max(m.arena_bytes, m.peak_bytes, 1) * 1.04
        op_in, byte_in = 10.0 / (m.n_ops + 2.2), 4.4 / top_bytes  # inches per op and per byte (about)
        drawn = sorted(m.boxes, key=lambda b: (b.offset, b.first))
        for i, b in enumerate(drawn):
            x0, x1 = b.first - 0.45, b.last + 0.45
            style: dict[str, Any] = {"color": palette[(2 * i + (b.kind != "tensor")) % 20]}
            if b.kind == "alias":
                style["hatch"] = "//"
            elif b.kind == "scratch":
                style = {"color": "#e0e0e0", "hatch": "xx"}
            ax.bar((x0 + x1) / 2, b.size, width=x1 - x0, bottom=b.offset, edgecolor="#37474f", linewidth=0.6,
                   alpha=0.9, **style)
            l0, l1 = own_span(b, drawn[i + 1:])
            size, rotation = fit_label((l1 - l0) * op_in, b.size * byte_in, len(b.label))
            ax.text((l0 + l1) / 2, b.offset + b.size / 2, b.label, ha="center", va="center", fontsize=size,
                    rotation=rotation, clip_on=True, color="#102027")
        ax.axhline(m.arena_bytes, color=OVER, linestyle="--", linewidth=1)
        ax.text(m.n_ops + 0.55, m.arena_bytes, f" arena {human_bytes(m.arena_bytes)}", va="bottom", ha="right",
                color=OVER, fontsize=8)
        ax.plot([m.peak_op], [m.peak_bytes], marker="v", markersize=9, color=OVER, clip_on=False, zorder=5)
        ax.annotate(f"peak {m.peak_bytes:,} B at {_op_label(m.peak_op, m.n_ops)}", (m.peak_op, m.peak_bytes),
                    xytext=(8, 6), textcoords="offset points", color=OVER, fontsize=8, fontweight="bold")
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for p in m.inplace:
            ax.plot([p.op], [1.0], transform=top, marker="v", color=MUTED if p.how == "no copy" else ACCENT,
                    markersize=7, clip_on=False)
            ax.text(p.op, 1.025, p.how, transform=top, rotation=90, ha="center", va="bottom", fontsize=6.5,
                    color=MUTED if p.how == "no copy" else ACCENT)
        ax.set_xlim(-1.6, m.n_ops + 0.6)
        ax.set_ylim(0, top_bytes)
        ticks = list(range(-1, m.n_ops + 1))
        step = max(1, len(ticks) // 40)
        ax.set_xticks(ticks[::step], [_op_label(t, m.n_ops, short=True) for t in ticks[::step]])
        ax.set_xlabel("op index (in: graph input, out: graph output)")
        ax.set_ylabel("arena offset")
        _bytes_axis(ax)
        ax.legend(handles=[Patch(facecolor=palette[0], edgecolor="#37474f", label="tensor (lifetime x bytes)"),
                           Patch(facecolor=palette[1], edgecolor="#37474f", hatch="//",
                                 label="shares its input's bytes (in place / no copy)"),
                           Patch(facecolor="#e0e0e0", edgecolor="#37474f", hatch="xx", label="op scratch")],
                  loc="upper left", bbox_to_anchor=(0, -0.12), ncols=3, fontsize=8, frameon=False)
        return _save(fig)


def own_span(b: PlanBox, above: Sequence[PlanBox]) -> tuple[float, float]:
    """The x range of ``b``'s rectangle left visible by the rectangles drawn over it
    (``above``): in an in-place chain a tensor and the next share their bytes during
    the op that reads one and writes the other, so their rectangles overlap there.

    >>> own_span(PlanBox(1, "a", 0, 1, 0, 8, "alias"), [PlanBox(2, "b", 1, 2, 0, 8, "alias")])
    (-0.45, 0.55)
    """
    x0, x1 = b.first - 0.45, b.last + 0.45
    for o in above:
        if not (o.offset < b.offset + b.size and b.offset < o.offset + o.size):
            continue
        o0, o1 = o.first - 0.45, o.last + 0.45
        if o0 <= x0 < o1:
            x0 = o1
        elif o0 < x1 <= o1:
            x1 = o0
    return (x0, x1) if x1 > x0 else (b.first - 0.45, b.last + 0.45)


def fit_label(width_in: float, height_in: float, chars: int, size: float = 6.5,
              smallest: float = 4.0) -> tuple[float, int]:
    """(font size, rotation) for a label of ``chars`` characters inside a box of
    ``width_in`` x ``height_in`` inches: across when it fits, else upright (along the
    box's height), else across or upright at the size that fits best (at least
    ``smallest``).

    >>> fit_label(2.0, 0.5, 10), fit_label(0.3, 2.0, 20), fit_label(0.5, 0.1, 20)
    ((6.5, 0), (6.5, 90), (4.0, 0))
    """
    def length(pts: float) -> float:
        return 0.6 * chars * pts / 72  # inches: an average glyph is ~0.6 em wide

    def line(pts: float) -> float:
        return 1.15 * pts / 72

    if length(size) <= 0.95 * width_in and line(size) <= height_in:
        return size, 0
    if length(size) <= 0.95 * height_in and line(size) <= width_in:
        return size, 90
    across = min(size, size * 0.95 * width_in / length(size), size * height_in / line(size))
    upright = min(size, size * 0.95 * height_in / length(size), size * width_in / line(size))
    best, rotation = (across, 0) if across >= upright else (upright, 90)
    return round(max(best, smallest), 1), rotation


def _op_label(t: int, n_ops: int, short: bool = False) -> str:
    """
    >>> _op_label(-1, 5), _op_label(5, 5), _op_label(2, 5), _op_label(2, 5, short=True)
    ('the graph input', 'the graph output', 'op 2', '2')
    """
    if t < 0:
        return "in" if short else "the graph input"
    if t >= n_ops:
        return "out" if short else "the graph output"
    return str(t) if short else f"op {t}"


def budgets(rows: Sequence[BoardBudget]) -> str:
    """RAM and flash used, in % of each board's budget; green fits, red over."""
    with _chart("budgets"):
        fig, axes = _figure(11.0, 1.0 + 0.42 * len(rows), ncols=2, sharey=True)
        names = [r.board for r in rows][::-1]
        for ax, kind in zip(axes, ("ram", "flash"), strict=True):
            budgets_ = [getattr(r, kind) for r in rows][::-1]
            pct = [100.0 * b.used / b.budget if b.known and b.budget else 0.0 for b in budgets_]
            colors = [UNKNOWN if not b.known else (OK if b.fits else OVER) for b in budgets_]
            ax.barh(names, pct, color=colors)
            limit = min(max([110.0, *pct]) * 1.35, 400.0)
            for y, (b, p) in enumerate(zip(budgets_, pct, strict=True)):
                if not b.known:
                    text = "unknown (the runtime cannot run it)"
                else:
                    verdict = "fits" if b.fits else "OVER"
                    text = f"{human_bytes(b.used)} of {human_bytes(b.budget)}, {verdict} ({b.headroom_pct:.1f}% free)"
                ax.text(min(p, limit * 0.98) + limit * 0.01, y, text, va="center", fontsize=7.5, clip_on=True)
            ax.axvline(100, color="#37474f", linewidth=0.8, linestyle=":")
            ax.set_xlim(0, limit)
            ax.set_xlabel(f"{'RAM' if kind == 'ram' else 'flash'} used, % of the board's budget")
            ax.set_title("RAM" if kind == "ram" else "Flash", loc="left")
        return _save(fig)


def layer_times(run: RunSection) -> str:
    """Device µs per layer; on an emulated board also instructions per MAC."""
    with _chart("speed"):
        rows = 2 if run.emulated else 1
        fig, axes = _figure(11.0, 3.2 * rows + 0.6, nrows=rows, sharex=True, squeeze=False)
        xs = [x.index for x in run.layers]
        ax = axes[0][0]
        ax.bar(xs, [x.us for x in run.layers], color=ACCENT)
        ax.set_ylabel("device time (µs)")
        ax.set_title(f"per-layer device time on {run.board or 'the device'} "
                     f"(sum {run.layers_us:,} µs, inference {run.device_us:,} µs)", loc="left")
        if run.emulated:
            ax2 = axes[1][0]
            ipm = [x.instructions_per_mac for x in run.layers]
            ax2.bar(xs, [float("nan") if v is None else v for v in ipm], color=MUTED)
            known = [v for v in ipm if v]
            if known and max(known) > 50 * min(known):
                ax2.set_yscale("log")
            ax2.set_ylabel("instructions / MAC")
            ax2.set_title("instructions per MAC (QEMU -icount shift=0: 1 instruction = 1 ns; layers "
                          "without MACs left empty)", loc="left")
        bottom = axes[-1][0]
        bottom.set_xticks(xs, [f"{x.index} {x.op}" for x in run.layers], rotation=90, fontsize=7)
        bottom.set_xlabel("layer")
        return _save(fig)


def latency_histogram(h: HilSection) -> str:
    with _chart("latency"):
        fig, ax = _figure(7.0, 3.0)
        lat = list(h.latencies_us)
        bins = max(1, min(30, len(set(lat))))
        ax.hist(lat, bins=bins, color=ACCENT, edgecolor="white")
        marks = h.latency_us or {}
        for key, color, style in (("min", OK, ":"), ("median", "#37474f", "-"), ("p95", OVER, "--")):
            if key in marks:
                ax.axvline(marks[key], color=color, linestyle=style, linewidth=1.2,
                           label=f"{key} {marks[key]:,.0f} µs")
        ax.set_xlabel("device latency per inference (µs)")
        ax.set_ylabel("samples")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{h.samples} samples", loc="left")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return _save(fig)


def quant_errors(q: QuantSection) -> str:
    """Cosine similarity and RMSE (in steps of the int8 scale) per layer."""
    with _chart("quant"):
        fig, (a1, a2) = _figure(11.0, 5.4, nrows=2, sharex=True)
        xs = [e.index for e in q.layers]
        worst = {e.index for e in q.worst()}
        colors = [OVER if e.index in worst else ACCENT for e in q.layers]
        cos = [e.cosine for e in q.layers]
        a1.plot(xs, cos, color="#37474f", linewidth=0.8, zorder=1)
        a1.scatter(xs, cos, c=colors, zorder=2, s=22)
        span = max(1.0 - min(cos), 1e-4)
        a1.set_ylim(min(cos) - span * 0.6, 1 + span * 0.1)
        a1.set_ylabel("cosine similarity")
        a1.set_title("float vs int8 per layer, accumulated (higher is better)", loc="left")
        for k, e in enumerate(sorted(q.worst(), key=lambda e: e.index)):  # one row each, below the line
            a1.annotate(e.label, (e.index, e.cosine), xytext=(e.index + 0.15, 0.06 + 0.13 * k),
                        textcoords=("data", "axes fraction"), fontsize=7.5, color=OVER,
                        arrowprops={"arrowstyle": "-", "color": OVER, "lw": 0.5})
        a2.bar(xs, [e.rmse_steps for e in q.layers], color=colors)
        a2.set_ylabel("RMSE (int8 steps)")
        a2.set_title("RMSE in steps of each tensor's scale (lower is better)", loc="left")
        a2.set_xticks(xs, [f"{e.index} {e.op}" for e in q.layers], rotation=90, fontsize=7)
        a2.set_xlabel("layer")
        return _save(fig)
