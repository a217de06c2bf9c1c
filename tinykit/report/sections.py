"""The report's sections as plain data, each built from one input: the model and
its analysis (summary, layers, memory plan, budgets), ``tinykit run --layers --json``
(per-layer device time) and ``tinykit test --json-file`` (latency, mismatches).

Every figure is taken from those inputs as they are, so the page shows the same
numbers as the analyze, run and test JSON. The quantization section lives in
:mod:`tinykit.report.quant` (it needs TensorFlow)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinykit.analyze.api import Analysis, Budget
from tinykit.boards import Board, get_board
from tinykit.errors import BoardError, DataError
from tinykit.graph import Graph, Tensor, short_layer_name
from tinykit.ops import ALIAS_KINDS
from tinykit.plan import Buffer, MemoryPlan

LABEL_WIDTH = 22  # characters of a shortened tensor or layer name

# --- summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorQuant:
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: tuple[float, ...]  # empty when the tensor is not quantized
    zero_point: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    model: str
    hash: str
    model_bytes: int
    runtime: str
    ops: tuple[tuple[str, int], ...]  # op kind -> count, most frequent first
    params: int
    macs: int
    inputs: tuple[TensorQuant, ...]
    outputs: tuple[TensorQuant, ...]


def _tensor_quant(t: Tensor) -> TensorQuant:
    q = t.quant
    return TensorQuant(t.name, t.shape, t.dtype, q.scale if q else (), q.zero_point if q else ())


def summary_of(graph: Graph, model_hash: str, analysis: Analysis) -> Summary:
    counts = Counter(op.kind for op in graph.ops)
    ops = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Summary(graph.name, model_hash, graph.model_bytes, analysis.runtime, ops,
                   analysis.totals.params, analysis.totals.macs,
                   tuple(_tensor_quant(t) for t in graph.input_tensors),
                   tuple(_tensor_quant(t) for t in graph.output_tensors))


# --- memory plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanBox:
    """One buffer of the AOT arena: bytes ``[offset, offset + size)`` from op ``first``
    to op ``last`` (-1: a graph input, n_ops: a graph output)."""

    id: int  # tensor index, negative for an op's scratch
    label: str
    first: int
    last: int
    offset: int
    size: int
    kind: str  # "tensor", "alias" (shares its input's bytes) or "scratch"


@dataclass(frozen=True)
class InPlace:
    op: int
    kind: str  # op kind
    how: str  # "in place" (the kernel overwrites its input) or "no copy" (a reshape)


@dataclass(frozen=True)
class MemorySection:
    boxes: tuple[PlanBox, ...]
    n_ops: int
    arena_bytes: int  # the AOT arena (== analyze's aot_ram_bytes)
    peak_bytes: int  # highest byte in use
    peak_op: int  # the first op where it is in use
    inplace: tuple[InPlace, ...]
    tflm_arena_bytes: int | None  # measured by TFLM's recording allocator
    stack_bytes: int  # the AOT runtime's deepest stack (analyze's stack figure; 0 when it has none)
    stack_method: str  # how analyze got it: "static" (call graph of the compiled kernels) or "estimated"

    @property
    def aot_total_bytes(self) -> int:
        """The AOT runtime's RAM: arena + stack."""
        return self.arena_bytes + self.stack_bytes


def _label(graph: Graph, b: Buffer) -> str:
    if b.id < 0:
        return f"scratch op {-b.id - 1}"
    return short_layer_name(graph.tensor(b.id).name, LABEL_WIDTH)


def peak(boxes: Sequence[PlanBox], n_ops: int) -> tuple[int, int]:
    """(highest byte in use, first op index where it is): the arena's high-water mark.

    >>> peak([PlanBox(0, "a", -1, 0, 0, 10, "tensor"), PlanBox(1, "b", 0, 2, 16, 8, "tensor")], 2)
    (24, 0)
    """
    best, at = 0, -1
    for t in range(-1, n_ops + 1):
        top = max((b.offset + b.size for b in boxes if b.first <= t <= b.last), default=0)
        if top > best:
            best, at = top, t
    return best, at


def memory_of(graph: Graph, buffers: Sequence[Buffer], plan: MemoryPlan, analysis: Analysis) -> MemorySection:
    boxes = []
    inplace = []
    for b in buffers:
        kind = "scratch" if b.id < 0 else ("alias" if b.alias_of is not None else "tensor")
        boxes.append(PlanBox(b.id, _label(graph, b), b.first, b.last, plan.offsets[b.id], b.size, kind))
        if b.alias_of is not None and 0 <= b.first < len(graph.ops):
            op = graph.ops[b.first]
            inplace.append(InPlace(op.index, op.kind, "no copy" if op.kind in ALIAS_KINDS else "in place"))
    top, at = peak(boxes, len(graph.ops))
    return MemorySection(tuple(boxes), len(graph.ops), plan.arena_bytes, top, at,
                         tuple(sorted(set(inplace), key=lambda p: p.op)),
                         analysis.memory.tflm_arena_bytes, getattr(analysis.memory, "stack_bytes", 0),
                         getattr(analysis.memory, "stack_method", ""))


# --- budgets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardBudget:
    board: str
    name: str
    emulated: bool
    ram: Budget
    flash: Budget
    flash_method: str  # "measured" (linked for the board's core) or "estimated"


def budgets_of(analyses: Sequence[Analysis], boards: Sequence[Board]) -> tuple[BoardBudget, ...]:
    return tuple(BoardBudget(b.id, b.name, b.emulated, a.ram, a.flash,
                             getattr(a.memory, "flash_method", "estimated"))
                 for a, b in zip(analyses, boards, strict=True))


# --- inputs written by other verbs -----------------------------------------------------


def read_json(path: Path, what: str, written_by: str) -> dict[str, Any]:
    """A JSON object from a file, or a one-line :class:`DataError`."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise DataError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    except ValueError as exc:
        raise DataError(f"{path}: not JSON ({exc})", hint=f"write it with {written_by}") from None
    if not isinstance(doc, dict):
        raise DataError(f"{path}: not a {what} (a JSON object expected)", hint=f"write it with {written_by}")
    return doc


def _same_model(path: Path, doc_hash: Any, model_hash: str, model: str) -> None:
    if doc_hash and doc_hash != model_hash:
        raise DataError(f"{path} was measured on another model (hash {doc_hash}, {model} is {model_hash})",
                        hint="give the JSON of a run of this model")


def emulated_board(board_id: str) -> bool:
    """Whether a device's board id is an emulated one (QEMU, ``-icount shift=0``).

    >>> emulated_board("qemu-m4"), emulated_board("esp32s3"), emulated_board("qemu-custom")
    (True, False, True)
    """
    try:
        return get_board(board_id).emulated
    except BoardError:
        return board_id.startswith("qemu")


@dataclass(frozen=True)
class LayerSpeed:
    index: int
    op: str
    label: str
    us: int
    macs: int
    instructions_per_mac: float | None  # emulated boards: instructions = µs x 1000


@dataclass(frozen=True)
class RunSection:
    source: str
    board: str
    emulated: bool
    device_us: int
    layers: tuple[LayerSpeed, ...]

    @property
    def layers_us(self) -> int:
        return sum(x.us for x in self.layers)


RUN_HOW = "tinykit run --model MODEL --layers --json > run.json"
HIL_HOW = "tinykit test MODEL --json-file test.json"


def read_run(path: Path, graph: Graph, model_hash: str) -> dict[str, Any]:
    """The JSON of ``tinykit run --layers --json``, checked: this model, per-layer times."""
    doc = read_json(path, "run report", RUN_HOW)
    _same_model(path, doc.get("hash"), model_hash, graph.name)
    times = doc.get("layers")
    if not isinstance(times, list) or not times:
        raise DataError(f"{path}: the run report has no per-layer times", hint=f"run with --layers: {RUN_HOW}")
    if len(times) != len(graph.ops):
        raise DataError(f"{path}: {len(times)} layer times for a model of {len(graph.ops)} ops",
                        hint="give the JSON of a run of this model")
    return doc


def run_of(path: Path, doc: dict[str, Any], analysis: Analysis) -> RunSection:
    """The per-layer device times of ``tinykit run --layers --json`` (:func:`read_run`).
    On an emulated board QEMU runs with ``-icount shift=0``: one instruction is one ns
    of virtual time, so a layer's instructions are its µs x 1000."""
    times = doc["layers"]
    board = str(doc.get("board") or "")
    emulated = emulated_board(board)
    layers = []
    try:
        for t, info in zip(times, analysis.layers, strict=True):
            us = int(t["us"])
            ipm = us * 1000 / info.macs if emulated and info.macs else None
            layers.append(LayerSpeed(info.index, info.op, short_layer_name(info.name, LABEL_WIDTH), us, info.macs,
                                     ipm))
        device_us = int(doc["device_us"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: not a run report ({type(exc).__name__}: {exc})", hint=RUN_HOW) from None
    return RunSection(str(path), board, emulated, device_us, tuple(layers))


@dataclass(frozen=True)
class Mismatch:
    index: int
    max_abs_diff: int | None
    top1_device: int | None
    top1_reference: int | None
    first_diff: str  # "output[i]: device d, reference r" when the test JSON has it
    message: str


@dataclass(frozen=True)
class HilSection:
    source: str
    board: str
    samples: int
    planned: int
    latencies_us: tuple[float, ...]  # every completed sample, in order
    latency_us: dict[str, float] | None  # min / median / p95 / max, as the test JSON says
    throughput_per_s: float | None
    bit_exact: bool
    mismatches: tuple[Mismatch, ...]
    errors: int
    stopped: str


def _first_diff(case: dict[str, Any]) -> str:
    """The first differing output of a mismatching case, when the test JSON records it
    (``first_diff``: ``{"index", "device", "reference"}``).

    >>> _first_diff({"first_diff": {"index": 3, "device": -7, "reference": -6}})
    'output[3]: device -7, reference -6'
    >>> _first_diff({})
    ''
    """
    d = case.get("first_diff")
    if not isinstance(d, dict) or "index" not in d:
        return ""
    return f"output[{d['index']}]: device {d.get('device')}, reference {d.get('reference')}"


def read_hil(path: Path, graph: Graph, model_hash: str) -> dict[str, Any]:
    """The JSON of ``tinykit test --json-file PATH``, checked: this model."""
    doc = read_json(path, "test report", HIL_HOW)
    _same_model(path, doc.get("model_hash"), model_hash, graph.name)
    return doc


def hil_of(path: Path, doc: dict[str, Any]) -> HilSection:
    cases = doc.get("cases")
    if not isinstance(cases, list) or "samples" not in doc:
        raise DataError(f"{path}: not a test report (no samples and cases)", hint=HIL_HOW)
    try:
        lat = [float(c["device_us"]) for c in cases
               if c.get("status") in ("passed", "failed") and c.get("device_us") is not None]
        mismatches = tuple(
            Mismatch(int(c["index"]), c.get("max_abs_diff"), c.get("top1_device"), c.get("top1_reference"),
                     _first_diff(c), str(c.get("message", "")))
            for c in cases if c.get("status") == "failed")
        device = doc.get("device") or {}
        return HilSection(str(path), str(device.get("board") or ""), int(doc["samples"]), int(doc.get("planned", 0)),
                          tuple(lat), doc.get("latency_us"), doc.get("throughput_per_s"),
                          bool(doc.get("bit_exact")), mismatches, int(doc.get("errors", 0)),
                          str(doc.get("stopped", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: not a test report ({type(exc).__name__}: {exc})", hint=HIL_HOW) from None
