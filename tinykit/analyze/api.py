"""``analyze``: per-layer cost, runtime support, RAM and flash against a board.

RAM: ``tflm_arena_bytes`` is measured exactly by TFLM's recording allocator
(one isolated subprocess); ``aot_ram_bytes`` is the greedy planner's arena over
the graph's activation lifetimes. Flash: model data plus an *estimate* of the
runtime's code (see :mod:`tinykit.ops`). Never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinykit.boards import Board
from tinykit.boards import resolve as resolve_board
from tinykit.errors import ModelError, ReferenceError_, UnsupportedError
from tinykit.graph import Graph, Op, load_tflite, parse_tflite
from tinykit.ops import RUNTIME_OPS, RUNTIMES, code_bytes_estimate, cost, unsupported_reason
from tinykit.plan import ALIGNMENT, GreedyPlanner, MemoryPlan, lifetimes, plan_arena
from tinykit.plan import scratch as planned_scratch
from tinykit.reference import ArenaReport, measure_arena


@dataclass(frozen=True)
class AnalyzeConfig:
    board_id: str | Board  # a board id/alias, a profile path (.toml), or a Board
    runtime: str = "aot"  # "aot" | "tflm"


@dataclass(frozen=True)
class LayerInfo:
    index: int
    name: str
    op: str
    version: int
    input_shapes: tuple[tuple[int, ...], ...]  # activation inputs only
    output_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int  # bytes of the op's own activation inputs + outputs
    supported: bool


@dataclass(frozen=True)
class Unsupported:
    layer: str
    op: str
    version: int
    reason: str

    def __str__(self) -> str:
        return f"layer {self.layer!r}: {self.op} v{self.version} ({self.reason})"


@dataclass(frozen=True)
class Totals:
    params: int
    macs: int


@dataclass(frozen=True)
class MemoryFigures:
    tflm_arena_bytes: int | None  # None only when TFLM cannot run the model
    aot_ram_bytes: int
    ram_bytes: int  # the figure that counts for the chosen runtime
    model_bytes: int  # the .tflite file
    weight_bytes: int  # constant tensors (what the AOT runtime stores)
    code_bytes_estimate: int  # runtime code: an estimate, see tinykit.ops
    flash_bytes: int  # data stored by the runtime + code estimate


@dataclass(frozen=True)
class Budget:
    budget: int
    used: int
    headroom: int
    headroom_pct: float
    fits: bool
    known: bool = True  # False: the runtime cannot run the model, so its RAM is unknown

    @classmethod
    def of(cls, used: int, budget: int) -> Budget:
        """
        >>> Budget.of(750, 1000)
        Budget(budget=1000, used=750, headroom=250, headroom_pct=25.0, fits=True, known=True)
        >>> Budget.of(1200, 1000).fits
        False
        """
        headroom = budget - used
        return cls(budget, used, headroom, round(100.0 * headroom / budget, 2), headroom >= 0)

    @classmethod
    def unknown(cls, budget: int) -> Budget:
        """A figure that cannot be measured (never "fits")."""
        return cls(budget, 0, 0, 0.0, False, known=False)


@dataclass(frozen=True)
class Analysis:
    model: str
    board: str
    runtime: str
    layers: tuple[LayerInfo, ...]
    totals: Totals
    memory: MemoryFigures
    ram: Budget
    flash: Budget
    unsupported: tuple[Unsupported, ...]

    @property
    def supported(self) -> bool:
        return not self.unsupported

    @property
    def ok(self) -> bool:
        return self.supported and self.ram.fits and self.flash.fits

    @property
    def tflm_arena_bytes(self) -> int | None:
        return self.memory.tflm_arena_bytes

    @property
    def verdict(self) -> str:
        """One line: what fails, or that everything fits."""
        problems = []
        if self.unsupported:
            problems.append(f"{len(self.unsupported)} op(s) not supported by the {self.runtime} "
                            f"runtime: " + "; ".join(str(u) for u in self.unsupported))
        for kind, b in (("RAM", self.ram), ("flash", self.flash)):
            if not b.known:
                problems.append(f"{kind} unknown on {self.board}: the {self.runtime} runtime cannot "
                                f"run the model")
            elif not b.fits:
                problems.append(f"{kind} over budget on {self.board}: needs {b.used} B, "
                                f"budget {b.budget} B ({-b.headroom} B over)")
        return "; ".join(problems) if problems else f"fits on {self.board} ({self.runtime})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "board": self.board,
            "runtime": self.runtime,
            "ok": self.ok,
            "verdict": self.verdict,
            "layers": [asdict(layer) for layer in self.layers],
            "totals": asdict(self.totals),
            "memory": asdict(self.memory),
            "budget": {"ram": asdict(self.ram), "flash": asdict(self.flash)},
            "supported": self.supported,
            "unsupported": [asdict(u) for u in self.unsupported],
        }


# --- helpers ------------------------------------------------------------------------


def check_int8(graph: Graph) -> None:
    """Refuse float or mixed models. Float I/O around an int8 model (QUANTIZE at
    the inputs, DEQUANTIZE at the outputs) is fine."""
    consumers: dict[int, list[Op]] = {}
    for op in graph.ops:
        for i in op.inputs:
            consumers.setdefault(i, []).append(op)
    for t in graph.activations:
        if t.dtype not in ("float32", "float16", "float64"):
            continue
        users = consumers.get(t.index, [])
        producer = graph.producers.get(t.index)
        io_in = t.index in graph.inputs and bool(users) and all(op.kind == "QUANTIZE" for op in users)
        io_out = (t.index in graph.outputs and producer is not None
                  and producer.kind == "DEQUANTIZE" and not users)
        if not (io_in or io_out):
            raise ModelError(f"{graph.name}: model is not int8-quantized (tensor {t.name!r} is "
                             f"{t.dtype})", hint="quantize first: tinykit quantize MODEL "
                             "--data CALIB.npy -o model.tflite")


def aot_memory_plan(graph: Graph, inplace: Callable[[Graph, Op], bool] | None = None,
                    alignment: int = ALIGNMENT) -> MemoryPlan:
    """The AOT runtime's arena. By default it is exactly the plan the code
    generator emits (:func:`tinykit.plan.plan_arena`: its in-place choices and
    scratch); pass ``inplace`` to plan with other in-place rules."""
    if inplace is None:
        plan = plan_arena(graph)[1]
    else:
        plan = GreedyPlanner().plan(lifetimes(graph, inplace=inplace, scratch=planned_scratch),
                                    alignment)
    plan.check()
    return plan


def _layer(graph: Graph, op: Op, supported: bool) -> LayerInfo:
    acts = [t for t in graph.op_inputs(op) if t is not None and not t.is_const]
    outs = graph.op_outputs(op)
    c = cost(graph, op)
    seen = {t.index: t.nbytes for t in (*acts, *outs)}
    return LayerInfo(
        index=op.index, name=graph.layer_name(op), op=op.kind, version=op.version,
        input_shapes=tuple(t.shape for t in acts),
        output_shape=outs[0].shape if outs else (),
        params=c.params, macs=c.macs, activation_bytes=sum(seen.values()), supported=supported,
    )


def _tflm_arena(pending: Future[ArenaReport], graph: Graph) -> int | None:
    try:
        return pending.result().total
    except ReferenceError_:
        if any(unsupported_reason("tflm", op) for op in graph.ops):
            return None  # TFLM refuses an op it lacks: reported as unsupported
        raise


def _load(model: str | Path | bytes, name: str | None) -> tuple[bytes, Graph]:
    if isinstance(model, bytes):
        return model, parse_tflite(model, name or "model")
    graph = load_tflite(model)  # checks suffix, readability, format
    data = Path(model).read_bytes()
    return data, (graph if name is None else parse_tflite(data, name))


def analyze(model: str | Path | bytes, config: AnalyzeConfig, *, name: str | None = None) -> Analysis:
    """Analyze an int8 .tflite (a path or its bytes) for a board and a runtime."""
    if config.runtime not in RUNTIME_OPS:
        raise UnsupportedError(f"unknown runtime {config.runtime!r}",
                               hint=f"expected one of {', '.join(RUNTIMES)}")
    board = resolve_board(config.board_id)
    data, graph = _load(model, name)
    if not graph.ops:
        raise ModelError(f"{graph.name}: the model has no ops")
    check_int8(graph)
    # TFLM measures its arena in a subprocess while this process does the rest
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(measure_arena, data)
        return _analysis(graph, data, board, config.runtime, pending)


def _analysis(graph: Graph, data: bytes, board: Board, runtime: str,
              pending: Future[ArenaReport]) -> Analysis:
    unsupported = []
    layers = []
    for op in graph.ops:
        reason = unsupported_reason(runtime, op, graph)
        if reason:
            unsupported.append(Unsupported(graph.layer_name(op), op.kind, op.version, reason))
        layers.append(_layer(graph, op, reason is None))

    aot_ram = aot_memory_plan(graph).arena_bytes
    weight_bytes = sum(t.nbytes for t in graph.tensors if t.is_const)
    kinds = {op.kind for op in graph.ops}
    code = code_bytes_estimate(runtime, kinds)
    tflm_arena = _tflm_arena(pending, graph)
    if runtime == "tflm":
        ram, stored = (tflm_arena if tflm_arena is not None else 0), len(data)
    else:
        ram, stored = aot_ram, weight_bytes
    memory = MemoryFigures(tflm_arena, aot_ram, ram, len(data), weight_bytes, code, stored + code)
    return Analysis(
        model=graph.name, board=board.id, runtime=runtime, layers=tuple(layers),
        totals=Totals(sum(x.params for x in layers), sum(x.macs for x in layers)),
        memory=memory,
        ram=(Budget.of(memory.ram_bytes, board.memory.ram_budget)
             if runtime == "aot" or tflm_arena is not None else Budget.unknown(board.memory.ram_budget)),
        flash=Budget.of(memory.flash_bytes, board.memory.flash_budget),
        unsupported=tuple(unsupported),
    )
