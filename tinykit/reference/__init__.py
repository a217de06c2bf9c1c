"""The bit-exact reference: TFLM's Python interpreter, always run in an
isolated subprocess so that a TFLM crash (a too-small arena segfaults) can
never take tinykit down.

API (plain data in and out):
- :func:`measure_arena` -> :class:`ArenaReport` (exact, from TFLM's recording allocator)
- :func:`run` -> :class:`RunResult` (outputs for a batch of inputs, time per inference)
- :func:`run_tensors` -> every intermediate tensor for one input (to find the first
  layer that differs)

A model TFLM cannot run but tinykit's AOT runtime runs (TILE: Keras 3's UpSampling2D;
SELECT; int32 SELECT_V2; a float SIGN) runs through TFLite's interpreter with its reference
kernels instead (:func:`engine`); TFLM's arena cannot be measured for it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinykit.errors import ReferenceError_, ToolError

# An arena large enough for any model tinykit targets; TFLM only records what it uses.
_BIG_ARENA = 64 * 1024 * 1024


@dataclass(frozen=True)
class ArenaReport:
    total: int  # bytes TFLM's arena needs (head + tail)
    head: int  # non-persistent (activation) section
    tail: int  # persistent section: tensor structs, quant params, op data
    breakdown: dict[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RunResult:
    outputs: np.ndarray  # (N, *output_shape) in the model's output dtype
    us_per_inference: float  # host wall time of invoke(), median after a warm-up run


def tflm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tflite_micro") is not None


def _require_tflm() -> None:
    if not tflm_available():
        raise ToolError(
            "the TFLM reference interpreter (PyPI 'tflite-micro') is not installed",
            hint="pip install tflite-micro (Linux x86_64 wheels only)",
        )


def engine(model: bytes) -> str:
    """The reference interpreter for a model: ``"tflm"``, or ``"tflite"`` when TFLM
    cannot run the model but the AOT runtime can: an op with no TFLM kernel (TILE,
    SELECT, a float SIGN folded into an int8 table) or not for its dtype (int32
    SELECT_V2, ``OpSpec.tflm_dtypes``). One rule, the runtimes' support check
    (:func:`tinykit.ops.find_unsupported`; the AOT one on the graph with its float
    islands folded, as every verb sees it)."""
    from tinykit.graph import parse_tflite
    from tinykit.graph.islands import fold_islands
    from tinykit.ops import find_unsupported

    graph = parse_tflite(model)
    if find_unsupported("tflm", graph) and not find_unsupported("aot", fold_islands(graph)):
        return "tflite"
    return "tflm"


def _call(args: list[str], timeout: float = 600,
          engine: str = "tflm") -> subprocess.CompletedProcess[str]:
    _require_tflm()
    cmd = [sys.executable, "-m", "tinykit.reference._worker", *args]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TINYKIT_REFERENCE_ENGINE=engine)
    label = "TFLM" if engine == "tflm" else "TFLite"
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ReferenceError_(f"the {label} reference did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        why = lines[-1] if lines else ""
        if proc.returncode < 0:
            why = f"crashed with signal {-proc.returncode}. {why}"
        raise ReferenceError_(f"the {label} reference interpreter failed: {why.strip()}")
    return proc


def _write_model(tmp: Path, model: bytes) -> str:
    path = tmp / "model.tflite"
    path.write_bytes(model)
    return str(path)


_LINE = re.compile(r"'(?P<what>[^']+)' used (?P<n>\d+) bytes")


def parse_allocations(text: str) -> ArenaReport:
    """Parse TFLM's ``print_allocations()`` report.

    >>> r = parse_allocations('''[RecordingMicroAllocator] Arena allocation total 2448 bytes
    ... [RecordingMicroAllocator] Arena allocation head 512 bytes
    ... [RecordingMicroAllocator] Arena allocation tail 1936 bytes
    ... [RecordingMicroAllocator] 'TfLiteEvalTensor data' used 288 bytes with alignment overhead''')
    >>> (r.total, r.head, r.tail, r.breakdown)
    (2448, 512, 1936, {'TfLiteEvalTensor data': 288})
    """
    def grab(word: str) -> int:
        m = re.search(rf"Arena allocation {word} (\d+) bytes", text)
        if not m:
            raise ReferenceError_("TFLM printed no arena report (print_allocations)")
        return int(m.group(1))

    breakdown = {m.group("what"): int(m.group("n")) for m in _LINE.finditer(text)}
    return ArenaReport(grab("total"), grab("head"), grab("tail"), breakdown)


def measure_arena(model: bytes) -> ArenaReport:
    """The exact TFLM arena for this model, from the recording allocator."""
    with tempfile.TemporaryDirectory(prefix="tinykit-ref-") as tmp:
        proc = _call(["arena", _write_model(Path(tmp), model), str(_BIG_ARENA)])
    return parse_allocations(proc.stderr + proc.stdout)


def run(model: bytes, inputs: np.ndarray) -> RunResult:
    """Run a batch (N, *input_shape) through TFLM, one inference per sample."""
    with tempfile.TemporaryDirectory(prefix="tinykit-ref-") as tmp:
        t = Path(tmp)
        np.save(t / "in.npy", np.ascontiguousarray(inputs))
        proc = _call(["run", _write_model(t, model), str(_BIG_ARENA), str(t / "in.npy"),
                      str(t / "out.npy")], engine=engine(model))
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        return RunResult(np.load(t / "out.npy"), float(info["us_per_inference"]))


def run_tensors(model: bytes, sample: np.ndarray) -> dict[int, np.ndarray]:
    """Every activation tensor after one inference (index -> array)."""
    from tinykit.graph import parse_tflite

    ids = ",".join(str(t.index) for t in parse_tflite(model).activations)
    with tempfile.TemporaryDirectory(prefix="tinykit-ref-") as tmp:
        t = Path(tmp)
        np.save(t / "in.npy", np.ascontiguousarray(sample))
        _call(["tensors", _write_model(t, model), str(_BIG_ARENA), str(t / "in.npy"),
               str(t / "out.npz"), ids], engine=engine(model))
        with np.load(t / "out.npz") as z:
            return {int(k[1:]): z[k] for k in z.files}
