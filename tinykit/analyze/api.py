"""``analyze``: per-layer cost, runtime support, RAM and flash against a board.

RAM: ``tflm_arena_bytes`` is measured exactly by TFLM's recording allocator
(one isolated subprocess); ``aot_ram_bytes`` is the greedy planner's arena over
the graph's activation lifetimes; the AOT RAM figure is that arena + the kernels'
stack (``stack_bytes``, :mod:`tinykit.analyze.stack`: the compiled call graph when
arm-none-eabi-gcc is installed, else an upper-bound estimate). Flash (AOT): the generated model and the kernels
it uses, linked with arm-none-eabi-gcc -Os for the board's Cortex-M (Cortex-M4 for
other cores) when the compiler is installed (``flash_method`` "measured", in parallel
with the TFLM run); else the generated constants plus an upper-bound estimate of the
code (:func:`aot_flash_estimate`, "estimated"). TFLM: the .tflite plus an estimate
of TFLM's code. Never imports TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinykit.analyze.stack import STACK_ESTIMATE_BYTES, StackFigure, kernel_stack
from tinykit.boards import Board
from tinykit.boards import resolve as resolve_board
from tinykit.errors import ModelError, ReferenceError_, UnsupportedError
from tinykit.graph import Graph, Op, Tensor, load_tflite, parse_tflite
from tinykit.graph.islands import fold_islands
from tinykit.ops import (
    RUNTIME_OPS,
    RUNTIMES,
    Unsupported,
    code_bytes_estimate,
    cost,
    unsupported_hint,
    unsupported_message,
    unsupported_reason,
)
from tinykit.plan import ALIGNMENT, GreedyPlanner, MemoryPlan, lifetimes, plan_arena
from tinykit.plan import scratch as planned_scratch
from tinykit.reference import ArenaReport, measure_arena

if TYPE_CHECKING:
    from tinykit.codegen.api import GeneratedModel


@dataclass(frozen=True)
class AnalyzeConfig:
    board_id: str | Board  # a board id/alias, a profile path (.toml), or a Board
    runtime: str = "aot"  # "aot" | "tflm"
    measure_flash: bool = True  # AOT: link with arm-none-eabi-gcc when installed (env TINYKIT_FLASH=estimate: never)


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
    # FLOAT_ISLAND: the .tflite ops folded into its table, "KIND index" (tinykit.graph.islands)
    folded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Totals:
    params: int
    macs: int


@dataclass(frozen=True)
class MemoryFigures:
    tflm_arena_bytes: int | None  # None only when TFLM cannot run the model
    aot_ram_bytes: int  # the AOT arena (activations + scratch)
    ram_bytes: int  # the figure that counts: AOT arena + stack_bytes (+ protocol_bytes), or TFLM's arena
    model_bytes: int  # the .tflite file
    weight_bytes: int  # constant tensors (what the AOT runtime stores)
    code_bytes_estimate: int  # runtime code: an estimate, see tinykit.ops
    flash_bytes: int  # linked size (measured) or data stored by the runtime + code estimate
    flash_method: str = "estimated"  # "measured" (linked) | "estimated"
    flash_detail: str = ""  # how the flash figure was obtained
    stack_bytes: int = 0  # AOT: the deepest stack below tk_model_invoke (tinykit.analyze.stack)
    stack_method: str = "estimated"  # "static" (call graph of the compiled kernels) | "estimated"
    stack_detail: str = ""
    protocol_bytes: int = 0  # `build`: the serial protocol's buffers in the firmware (0 in analyze)


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
    def hint(self) -> str:
        """What to do about unsupported ops ("" when every op is supported): the same
        hint as build and verify give (:func:`tinykit.ops.unsupported_hint`)."""
        if not self.unsupported:
            return ""
        return unsupported_hint(self.runtime, [Op(x.index, x.op, x.version, (), ())
                                               for x in self.layers])

    @property
    def tflm_arena_bytes(self) -> int | None:
        return self.memory.tflm_arena_bytes

    @property
    def verdict(self) -> str:
        """One line: what fails, or that everything fits."""
        problems = []
        if self.unsupported:
            problems.append(unsupported_message(self.runtime, self.unsupported))
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


def float_tensors(graph: Graph) -> list[Tensor]:
    """Float activations inside the graph. Float I/O around an int8 model (QUANTIZE
    at the inputs, DEQUANTIZE at the outputs) is fine and not listed."""
    consumers: dict[int, list[Op]] = {}
    for op in graph.ops:
        for i in op.inputs:
            consumers.setdefault(i, []).append(op)
    found = []
    for t in graph.activations:
        if t.dtype not in ("float32", "float16", "float64"):
            continue
        users = consumers.get(t.index, [])
        producer = graph.producers.get(t.index)
        io_in = t.index in graph.inputs and bool(users) and all(op.kind == "QUANTIZE" for op in users)
        io_out = (t.index in graph.outputs and producer is not None
                  and producer.kind == "DEQUANTIZE" and not users)
        if not (io_in or io_out):
            found.append(t)
    return found


def float_ops(graph: Graph) -> list[Op]:
    """The ops TF left computing in float (the islands between a DEQUANTIZE and a
    QUANTIZE, e.g. around RSQRT or NEG); only the DEQUANTIZE/QUANTIZE ops themselves
    when nothing else touches a float tensor."""
    bad = {t.index for t in float_tensors(graph)}
    touching = [op for op in graph.ops if bad & {*op.inputs, *op.outputs}]
    inner = [op for op in touching if op.kind not in ("QUANTIZE", "DEQUANTIZE")]
    return inner or touching


def float_message(graph: Graph) -> str | None:
    """One line naming the ops left in float, or None for a full-integer model."""
    ops = float_ops(graph)
    if not ops:
        return None
    if not any(t.dtype == "int8" for t in graph.activations):
        return f"{graph.name}: model is not int8-quantized (a float model: {len(ops)} float ops)"
    shown = 6
    named = "; ".join(f"layer {op.index} {graph.layer_name(op)!r}: {op.kind} v{op.version}"
                      for op in ops[:shown])
    more = f" and {len(ops) - shown} more" if len(ops) > shown else ""
    return (f"{graph.name}: model is not int8-quantized: TensorFlow left {len(ops)} op(s) in "
            f"float between DEQUANTIZE and QUANTIZE: {named}{more}")


# How to rewrite a layer that TF leaves in float in a full-int8 conversion (TF 2.21).
FLOAT_OP_ADVICE = {
    "NEG": ("-x / keras.ops.negative stays a float NEG (TFLM's NEG is float-only): write "
            "0.0 - x (int8 SUB) or x * -1.0 (folded into the layer before, or MUL)"),
}


def float_op_advice(ops: list[Op]) -> str | None:
    """How to rewrite the layers behind these float ops, when known.

    >>> print(float_op_advice([Op(2, "NEG", 1, (), ())]).split(":")[0])
    -x / keras.ops.negative stays a float NEG (TFLM's NEG is float-only)
    >>> float_op_advice([Op(2, "RSQRT", 1, (), ())]) is None
    True
    """
    advice = sorted({FLOAT_OP_ADVICE[op.kind] for op in ops if op.kind in FLOAT_OP_ADVICE})
    return "; ".join(advice) or None


def check_int8(graph: Graph) -> None:
    """Refuse float or mixed models, naming the ops left in float."""
    problem = float_message(graph)
    if problem:
        advice = float_op_advice(float_ops(graph))
        raise ModelError(problem, hint="quantize first: tinykit quantize MODEL --data CALIB.npy "
                         "-o model.tflite; a model that is already quantized needs those layers "
                         "replaced" + (f"; {advice}" if advice else ""))


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
        folded=tuple(f"{k} {i}" for k, i in zip(op.options.get("chain", ()),
                                                 op.options.get("folded", ()), strict=True)),
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
    folded = fold_islands(graph)  # exact float islands: one int8 table each (TFLM runs the ops)
    check_int8(folded)
    graph = folded if config.runtime == "aot" else graph
    # TFLM measures its arena in a subprocess while this process does the rest; the AOT C is
    # generated once, then linked (flash) and compiled for its call graph (stack) side by side
    cpu, portable = flash_cpu(board), not board.arch.startswith("cortex-m")
    measure = config.measure_flash and os.environ.get("TINYKIT_FLASH") != "estimate"
    with ThreadPoolExecutor(max_workers=4) as pool:
        pending = pool.submit(measure_arena, data)
        flash = stack = None
        if config.runtime == "aot":
            generated = pool.submit(generate_aot, graph, data)
            flash = pool.submit(lambda: aot_flash(generated.result(), cpu, measure))
            stack = pool.submit(lambda: aot_stack(_or_none(generated), cpu, measure, portable))
        return _analysis(graph, data, board, config.runtime, pending, flash, stack)


def generate_aot(graph: Graph, data: bytes) -> GeneratedModel:
    """The AOT C that flash and stack are measured on (the codegen's TinykitError for a
    model it cannot generate)."""
    from tinykit.codegen.api import generate

    return generate(graph, data, model_file=f"{graph.name}.tflite")


def _or_none(generated: Future[GeneratedModel]) -> GeneratedModel | None:
    from tinykit.errors import TinykitError

    try:
        return generated.result()
    except TinykitError:  # an op the codegen refuses: reported as unsupported
        return None


def aot_stack(gen: GeneratedModel | None, cpu: str, measure: bool = True,
              portable: bool = False) -> StackFigure:
    """The AOT runtime's stack below tk_model_invoke (:mod:`tinykit.analyze.stack`):
    static from the compiled call graph, or the upper-bound estimate when there is no
    compiler or no generated C (``gen`` None)."""
    if not measure:  # no compiler run
        return kernel_stack({}, cpu, measure=False)
    if gen is None:
        return StackFigure(STACK_ESTIMATE_BYTES, "estimated", "upper-bound estimate (no generated C)")
    return kernel_stack(gen.files, cpu, measure, portable)


# per op of model.c: the call, its params struct and per-layer tables beyond the constants
AOT_CODE_BYTES_PER_OP = 256


def flash_cpu(board: Board) -> str:
    """The -mcpu the flash figure is linked for: the board's Cortex-M, else cortex-m4."""
    return board.arch if board.arch.startswith("cortex-m") else "cortex-m4"


def aot_flash_estimate(const_bytes: int, code_estimate: int, ops: int) -> int:
    """An upper bound of the linked AOT flash: the generated constants (weights,
    biases, per-channel multipliers and shifts, LUTs) + the kernels' code estimate
    + a per-op allowance for model.c. tests/test_analyze_flash.py checks it is never
    under the linked size.

    >>> aot_flash_estimate(1000, 5632, 3)
    7400
    """
    return const_bytes + code_estimate + AOT_CODE_BYTES_PER_OP * ops


def aot_flash(gen: GeneratedModel, cpu: str, measure: bool = True) -> tuple[int, int | None, str]:
    """(constant bytes of the generated C, linked flash or None, how) for the AOT runtime."""
    import shutil
    import tempfile

    from tinykit.codegen.api import write_files

    if not measure or shutil.which("arm-none-eabi-gcc") is None or shutil.which("arm-none-eabi-size") is None:
        return gen.const_bytes, None, "arm-none-eabi-gcc not installed"
    from tinykit.toolchain import arm_flash_bytes

    with tempfile.TemporaryDirectory(prefix="tinykit-flash-") as tmp:
        write_files(gen, Path(tmp) / "generated")
        linked = arm_flash_bytes(Path(tmp) / "generated", Path(tmp) / "arm", cpu)
    return gen.const_bytes, linked, (f"generated C + kernels linked with arm-none-eabi-gcc -Os "
                                     f"-mcpu={cpu} --gc-sections (text+rodata+data)")


def _aot_flash_figure(pending: Future[tuple[int, int | None, str]], fallback: int, code: int,
                      ops: int) -> tuple[int, str, str]:
    """(flash bytes, "measured"|"estimated", detail)."""
    from tinykit.errors import TinykitError

    try:
        const, linked, how = pending.result()
    except TinykitError as exc:  # an op the codegen refuses (reported as unsupported) or a failed link
        return fallback, "estimated", f"weights + code estimate (no generated C: {exc.format_message()})"
    if linked is not None:
        return linked, "measured", how
    return (aot_flash_estimate(const, code, ops), "estimated",
            f"generated constants + code estimate, an upper bound ({how})")


def _analysis(graph: Graph, data: bytes, board: Board, runtime: str,
              pending: Future[ArenaReport],
              flash: Future[tuple[int, int | None, str]] | None = None,
              stack: Future[StackFigure] | None = None) -> Analysis:
    unsupported = []
    layers = []
    for op in graph.ops:
        reason = unsupported_reason(runtime, op, graph)
        if reason:
            unsupported.append(Unsupported(graph.layer_name(op), op.kind, op.version, reason,
                                           op.index))
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
    stack_fig = (stack.result() if stack is not None
                 else StackFigure(0, "estimated", "not counted: TFLM's own stack is not modelled"))
    ram += stack_fig.bytes if runtime == "aot" else 0
    if flash is not None:
        flash_bytes, method, detail = _aot_flash_figure(flash, stored + code, code, len(graph.ops))
    else:
        flash_bytes, method, detail = stored + code, "estimated", f"{runtime} model data + code estimate"
    memory = MemoryFigures(tflm_arena, aot_ram, ram, len(data), weight_bytes, code, flash_bytes,
                           method, detail, stack_bytes=stack_fig.bytes,
                           stack_method=stack_fig.method, stack_detail=stack_fig.detail)
    return Analysis(
        model=graph.name, board=board.id, runtime=runtime, layers=tuple(layers),
        totals=Totals(sum(x.params for x in layers), sum(x.macs for x in layers)),
        memory=memory,
        ram=(Budget.of(memory.ram_bytes, board.memory.ram_budget)
             if runtime == "aot" or tflm_arena is not None else Budget.unknown(board.memory.ram_budget)),
        flash=Budget.of(memory.flash_bytes, board.memory.flash_budget),
        unsupported=tuple(unsupported),
    )
