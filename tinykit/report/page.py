"""The HTML page: the charts drawn, then ``templates/report.html.j2`` rendered with
the report's data (the template holds layout and loops; the filters here format)."""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from tinykit import __version__
from tinykit.graph import short_layer_name
from tinykit.output import human_bytes
from tinykit.report import charts
from tinykit.report.api import Report
from tinykit.resources import templates_dir

TEMPLATE = "report.html.j2"


def shape(dims: tuple[int, ...]) -> str:
    """
    >>> shape((1, 49, 10, 1)), shape(())
    ('1x49x10x1', 'scalar')
    """
    return "x".join(str(d) for d in dims) or "scalar"


def num(value: float | int | None, digits: int = 0) -> str:
    """
    >>> num(1234567), num(0.98765, 4), num(None)
    ('1,234,567', '0.9877', '–')
    """
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if digits or isinstance(value, float) else f"{value:,}"


def scales(values: tuple[float, ...]) -> str:
    """
    >>> scales((0.00390625,)), scales(()), scales((0.1, 0.2, 0.3))
    ('0.00390625', '–', '0.1, 0.2, … (3 channels)')
    """
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.8g}"
    return f"{values[0]:.8g}, {values[1]:.8g}, … ({len(values)} channels)"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(bytes=human_bytes, shape=shape, num=num, scales=scales,
                       short=lambda name, width=28: short_layer_name(name, width))
    return env


def draw(report: Report) -> dict[str, Markup]:
    """Every chart of the report, as inline SVG."""
    drawn = {"ops": charts.ops_histogram(report.summary), "memory": charts.memory_plan(report.memory)}
    if report.budgets is not None:
        drawn["budgets"] = charts.budgets(report.budgets)
    if report.run is not None:
        drawn["speed"] = charts.layer_times(report.run)
    if report.hil is not None and report.hil.latencies_us:
        drawn["latency"] = charts.latency_histogram(report.hil)
    if report.quant is not None and report.quant.layers:
        drawn["quant"] = charts.quant_errors(report.quant)
    return {k: Markup(v) for k, v in drawn.items()}  # noqa: S704 - matplotlib's SVG, cleaned


def render_html(report: Report) -> str:
    return _env().get_template(TEMPLATE).render(r=report, charts=draw(report), version=__version__)
