"""``tinykit verify``: generate the AOT C, compile it for the host, run the
same inputs through it and through TFLM, and compare bit by bit.

:func:`verify` takes a :class:`VerifyConfig` and returns a :class:`VerifyReport`
(plain data); the CLI only prints it.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinykit import reference
from tinykit.codegen.api import GeneratedModel, generate, write_files
from tinykit.errors import DataError, ModelError, ToolError
from tinykit.graph import Graph, Tensor, load_tflite, numpy_dtype
from tinykit.graph.islands import fold_islands
from tinykit.toolchain import arm_flash_bytes, build_host


@dataclass(frozen=True)
class VerifyConfig:
    model: Path
    samples: int = 20
    data: Path | None = None
    seed: int = 0
    keep: Path | None = None
    measure: bool = True  # also measure flash (arm-none-eabi-gcc) and the TFLM arena


@dataclass(frozen=True)
class VerifyReport:
    model: str
    bit_exact: bool
    samples: int
    mismatches: list[int]  # sample indices whose output differs
    max_abs_diff: int
    first_diff_layer: str | None  # "layer 3 CONV_2D 'name'" when outputs differ
    aot_ram_bytes: int  # arena (activations + scratch)
    arena_bytes: int
    scratch_bytes: int  # largest kernel scratch, inside the arena
    tflm_arena_bytes: int
    ram_ratio: float
    flash_bytes: int
    flash_method: str
    const_bytes: int
    model_bytes: int
    aot_us: float
    tflm_us: float
    inplace_ops: list[int] = field(default_factory=list)
    timing: str = "median host time of one invoke after a warm-up run"
    reference: str = "tflm"  # "tflite" for a model with an op TFLM lacks (TILE)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_inputs(graph: Graph, samples: int, seed: int, data: Path | None) -> np.ndarray:
    """``samples`` random inputs (int8 uniform over [-128, 127], floats N(0,1)) followed
    by the samples of ``data`` (.npy/.npz; float data is quantized for an int8 input)."""
    if samples < 0:
        raise DataError(f"--samples must be >= 0, got {samples}")
    t = graph.input_tensors[0]
    dtype = numpy_dtype(t.dtype)
    rng = np.random.default_rng(seed)
    if t.dtype == "int8":
        parts = [rng.integers(-128, 128, (samples, *t.shape[1:]), dtype=np.int8)]
    elif t.dtype == "int32":  # token ids: uniform over [-n, n), negatives wrap around
        n = token_vocabulary(graph)
        parts = [rng.integers(-n, n, (samples, *t.shape[1:]), dtype=np.int32)]
    else:
        parts = [rng.standard_normal((samples, *t.shape[1:])).astype(dtype)]
    if data is not None:
        parts.append(_load_data(data, t))
    x = np.concatenate(parts) if parts else parts[0]
    if len(x) == 0:
        raise DataError("no samples to verify", hint="use --samples N or --data X.npy")
    return x.reshape(len(x), *t.shape[1:])


def token_vocabulary(graph: Graph) -> int:
    """The vocabulary of an int32 (token id) input: the smallest gathered axis of a
    GATHER with computed indices (an Embedding's table rows), else 128."""
    sizes = []
    for op in graph.ops:
        if op.kind == "GATHER" and len(op.inputs) > 1 and not graph.tensor(op.inputs[1]).is_const:
            x = graph.tensor(op.inputs[0])
            axis = int(op.options.get("axis", 0))
            sizes.append(x.shape[axis + len(x.shape) if axis < 0 else axis])
    return min(sizes, default=128)


def _load_data(path: Path, tensor: Tensor) -> np.ndarray:
    """The samples of ``path`` (.npy/.npz, read by :func:`tinykit.load.load_data`) for
    the input tensor: float data is quantized for an integer input."""
    from tinykit.load import check_shape, load_data
    from tinykit.tensors import to_model_input

    what = Path(path).name
    x = check_shape(load_data(path), tensor.shape[1:], what)
    return to_model_input(x, tensor, what).array


def _run_binary(exe: Path, work: Path, x: np.ndarray, out_shape: tuple[int, ...],
                out_dtype: Any, dump: Path | None = None) -> tuple[np.ndarray, float]:
    (work / "in.bin").write_bytes(np.ascontiguousarray(x).tobytes())
    cmd = [str(exe), str(work / "in.bin"), str(work / "out.bin")] + ([str(dump)] if dump else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise ToolError("the generated model did not finish within 600 s") from None
    if proc.returncode != 0:
        why = proc.stderr.strip().splitlines()[-1:] or [f"signal {-proc.returncode}"]
        raise ToolError(f"the generated model failed on the host: {why[0]}")
    out = np.frombuffer((work / "out.bin").read_bytes(), dtype=out_dtype)
    us = float(proc.stdout.split()[-1])
    return out.reshape(len(x), *out_shape), us


def _read_dump(path: Path) -> dict[int, bytes]:
    raw = path.read_bytes()
    out: dict[int, bytes] = {}
    pos = 0
    while pos + 8 <= len(raw):
        idx = int(np.frombuffer(raw, np.int32, 1, pos)[0])
        n = int(np.frombuffer(raw, np.uint32, 1, pos + 4)[0])
        out[idx] = raw[pos + 8 : pos + 8 + n]
        pos += 8 + n
    return out


def first_diff_layer(graph: Graph, model: bytes, exe: Path, work: Path,
                     sample: np.ndarray) -> str | None:
    """The first op whose output differs between the AOT binary and TFLM for one sample."""
    out = graph.output_tensors[0]
    _run_binary(exe, work, sample[None], out.shape[1:], numpy_dtype(out.dtype),
                dump=work / "dump.bin")
    aot = _read_dump(work / "dump.bin")
    ref = reference.run_tensors(model, sample[None])
    for op in graph.ops:
        for i in op.outputs:
            if i in aot and i in ref:
                t = graph.tensor(i)
                a = np.frombuffer(aot[i], dtype=numpy_dtype(t.dtype))
                if a.tobytes() != np.ascontiguousarray(ref[i]).astype(a.dtype).tobytes():
                    return f"layer {op.index} {op.kind} {graph.layer_name(op)!r}"
    return None


def refuse_float(graph: Graph) -> None:
    """A model that computes in float is refused with "quantize first", as analyze
    refuses it (float I/O around int8 ops, QUANTIZE/DEQUANTIZE at the edges, is fine).
    Not :func:`tinykit.analyze.api.check_int8` itself: analyze imports verify's builds."""
    float_ops = [op for op in graph.ops if op.kind not in ("QUANTIZE", "DEQUANTIZE")
                 and any(i >= 0 and graph.tensor(i).dtype.startswith("float")
                         for i in (*op.inputs, *op.outputs))]
    if float_ops:
        op = float_ops[0]
        raise ModelError(f"{graph.name}: model is not int8-quantized ({len(float_ops)} float "
                         f"op(s), first layer {op.index} {op.kind} {graph.layer_name(op)!r})",
                         hint="quantize first: tinykit quantize MODEL --data CALIB.npy -o model.tflite")


def verify(config: VerifyConfig) -> VerifyReport:
    graph = fold_islands(load_tflite(config.model))  # exact float islands: one int8 table each
    refuse_float(graph)
    model = Path(config.model).read_bytes()
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ModelError(f"{config.model}: verify needs one input and one output")
    gen: GeneratedModel = generate(graph, model, model_file=Path(config.model).name)
    x = make_inputs(graph, config.samples, config.seed, config.data)
    with tempfile.TemporaryDirectory(prefix="tinykit-verify-") as tmp:
        work = Path(config.keep) if config.keep else Path(tmp)
        gen_dir = work / "generated"
        write_files(gen, gen_dir)
        exe = build_host(gen_dir, work / "model_host")
        out = graph.output_tensors[0]
        aot, aot_us = _run_binary(exe, work, x, out.shape[1:], numpy_dtype(out.dtype))
        ref = reference.run(model, x)
        tflm = ref.outputs.reshape(aot.shape).astype(aot.dtype)
        diff_rows = [i for i in range(len(x)) if aot[i].tobytes() != tflm[i].tobytes()]
        max_diff = int(np.max(np.abs(aot.astype(np.float64) - tflm.astype(np.float64)))) \
            if len(x) else 0
        where = None
        if diff_rows:
            dump_exe = build_host(gen_dir, work / "model_host_dump", dump=True)
            where = first_diff_layer(graph, model, dump_exe, work, x[diff_rows[0]])
        flash = arm_flash_bytes(gen_dir, work / "arm") if config.measure else None
        engine = reference.engine(model)  # TFLM lacks TILE: then TFLite's reference kernels
        arena = reference.measure_arena(model).total if config.measure and engine == "tflm" else 0
    method = ("arm-none-eabi-size text+rodata+data, cortex-m4 -Os, linked with --gc-sections"
              if flash is not None else "sum of const bytes (arm-none-eabi-gcc missing)")
    return VerifyReport(
        model=str(config.model), bit_exact=not diff_rows, samples=len(x), mismatches=diff_rows,
        max_abs_diff=max_diff, first_diff_layer=where, aot_ram_bytes=gen.ram_bytes,
        arena_bytes=gen.arena_bytes, scratch_bytes=gen.scratch_bytes, tflm_arena_bytes=arena,
        ram_ratio=round(gen.ram_bytes / arena, 4) if arena else 0.0,
        flash_bytes=flash if flash is not None else gen.const_bytes, flash_method=method,
        const_bytes=gen.const_bytes, model_bytes=len(model), aot_us=round(aot_us, 3),
        tflm_us=round(ref.us_per_inference, 3), inplace_ops=list(gen.inplace_ops), reference=engine,
    )
