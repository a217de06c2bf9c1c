"""``tinykit report``: one self-contained HTML page for a model.

Sections, each shown only when its input is given:

- **Summary**, **Layers**, **Memory plan** (always): :func:`tinykit.analyze.api.analyze`
  and the AOT arena plan (:func:`tinykit.plan.plan_arena`), the plan the code generator emits;
- **Budgets** (``board``: an id, a profile ``.toml``, or ``"all"``): analyze per board;
- **Device speed**: per-layer device time from ``tinykit run --layers --json``
  (``layers``), latency and mismatches from ``tinykit test --json-file`` (``hil``);
- **Quantization** (``keras`` and ``data``): float vs int8 error per layer, tinykit's own
  comparison (:mod:`tinykit.report.quant`; the only part that imports TensorFlow).

The page is made of a Jinja template (``templates/report.html.j2``) and matplotlib SVG
charts, inline: it makes no network request. Same inputs give the same bytes.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinykit.analyze.api import Analysis, AnalyzeConfig, LayerInfo, analyze
from tinykit.boards import Board, all_boards, resolve
from tinykit.errors import DataError
from tinykit.graph import Graph, load_tflite, model_hash, parse_tflite
from tinykit.plan import plan_arena
from tinykit.report.quant import QuantSection
from tinykit.report.sections import (
    BoardBudget,
    HilSection,
    MemorySection,
    RunSection,
    Summary,
    budgets_of,
    hil_of,
    memory_of,
    read_hil,
    read_run,
    run_of,
    summary_of,
)

ALL = "all"
FILENAME = "report.html"


@dataclass(frozen=True)
class ReportConfig:
    board: str | Path | Board | None = None  # id, alias, profile .toml, "all"; None: no Budgets section
    runtime: str = "aot"  # "aot" | "tflm": the runtime of the support column and the budgets
    keras: Path | None = None  # the float model MODEL was quantized from (needs data)
    data: Path | None = None  # float samples for the quantization section
    samples: int = 8  # how many of them are compared
    layers: Path | None = None  # JSON of `tinykit run --layers --json`
    hil: Path | None = None  # JSON of `tinykit test --json-file PATH` (the same as `--json`)


@dataclass(frozen=True)
class Report:
    summary: Summary
    layers: tuple[LayerInfo, ...]
    memory: MemorySection
    budgets: tuple[BoardBudget, ...] | None = None
    run: RunSection | None = None
    hil: HilSection | None = None
    quant: QuantSection | None = None

    @property
    def sections(self) -> tuple[str, ...]:
        shown = ["summary", "layers", "memory"]
        shown += ["budgets"] if self.budgets is not None else []
        shown += ["speed"] if self.run is not None or self.hil is not None else []
        shown += ["quantization"] if self.quant is not None else []
        return tuple(shown)

    def to_dict(self) -> dict[str, Any]:
        return {"sections": list(self.sections), **asdict(self)}


@dataclass(frozen=True)
class ReportResult:
    path: Path
    bytes: int
    seconds: float
    report: Report

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        return {"model": r.summary.model, "model_hash": r.summary.hash, "ok": True, "exit_code": 0,
                "name": r.summary.model, "path": str(self.path), "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "sections": list(r.sections),
                "boards": [b.board for b in r.budgets or ()]}


def boards_for(board: str | Path | Board | None) -> list[Board]:
    """The boards of ``--board``: none, one (id, alias, ``.toml``), or every shipped one.

    >>> len(boards_for("all")) == len(all_boards()), boards_for(None)
    (True, [])
    """
    if board is None:
        return []
    if isinstance(board, str) and board.strip().lower() == ALL:
        return all_boards()
    return [resolve(board)]


def _load(model: str | Path | bytes, name: str | None) -> tuple[bytes, Graph]:
    if isinstance(model, bytes):
        return model, parse_tflite(model, name or "model")
    graph = load_tflite(model)
    data = Path(model).read_bytes()
    return data, (graph if name is None else parse_tflite(data, name))


def _analyses(data: bytes, graph: Graph, boards: list[Board], runtime: str,
              given: Analysis | None) -> list[Analysis]:
    def one(board: Board) -> Analysis:
        if given is not None and given.board == board.id and given.runtime == runtime:
            return given
        return analyze(data, AnalyzeConfig(board, runtime), name=graph.name)

    with ThreadPoolExecutor(max_workers=2) as pool:  # each measures TFLM's arena in a subprocess
        return list(pool.map(one, boards))


def make_report(model: str | Path | bytes, config: ReportConfig, *, name: str | None = None,
                analysis: Analysis | None = None) -> Report:
    """Gather every section's data (no drawing). ``analysis``: one already made for
    this model (by ``tinykit build``), reused when its board and runtime match."""
    if (config.keras is None) != (config.data is None):
        raise DataError("--keras and --data go together: the quantization section runs the float model "
                        "on the data", hint="give both, or neither")
    data, graph = _load(model, name)
    digest = model_hash(data)
    run_doc = read_run(config.layers, graph, digest) if config.layers else None  # bad input fails first
    hil_doc = read_hil(config.hil, graph, digest) if config.hil else None
    boards = boards_for(config.board)
    analyses = _analyses(data, graph, boards or [resolve(analysis.board) if analysis else all_boards()[0]],
                         config.runtime, analysis)
    main = analyses[0]
    buffers, plan = plan_arena(graph)
    if plan.arena_bytes != main.memory.aot_ram_bytes:  # analyze plans the same arena
        raise RuntimeError(f"{graph.name}: the arena plan ({plan.arena_bytes} B) differs from analyze's "
                           f"({main.memory.aot_ram_bytes} B): a bug in tinykit")
    quant = None
    if config.keras is not None and config.data is not None:
        from tinykit.report.quant import quantization_errors

        quant = quantization_errors(data, graph, config.keras, config.data, config.samples)
    return Report(
        summary=summary_of(graph, digest, main),
        layers=main.layers,
        memory=memory_of(graph, buffers, plan, main),
        budgets=budgets_of(analyses, boards) if boards else None,
        run=run_of(config.layers, run_doc, main) if config.layers and run_doc else None,
        hil=hil_of(config.hil, hil_doc) if config.hil and hil_doc else None,
        quant=quant,
    )


def write_report(model: str | Path | bytes, config: ReportConfig, out: Path, *, name: str | None = None,
                 analysis: Analysis | None = None) -> ReportResult:
    """Make the report, draw it and write ``out`` (one HTML file)."""
    from tinykit.report.page import render_html

    t0 = time.perf_counter()
    report = make_report(model, config, name=name, analysis=analysis)
    html = render_html(report).encode("utf-8")
    out = Path(out)
    try:
        if out.parent != Path():
            out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(html)
        tmp.replace(out)
    except OSError as exc:
        raise DataError(f"{out}: cannot write the report: {exc.strerror}") from None
    return ReportResult(out, len(html), time.perf_counter() - t0, report)
