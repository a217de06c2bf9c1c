"""``quantize``: a trained float model + calibration data -> full-integer int8
.tflite, with its size next to the float model's and how well it agrees with
the float model on data held back from calibration.

Sizes: ``float_bytes`` is the size of the plain float32 TFLite conversion of the
same model (file vs file), ``int8_bytes`` the size of the int8 .tflite.

Agreement: the float Keras model against the int8 model run in the TFLM reference
(float inputs quantized with the input scale/zero point, outputs dequantized), on
the held-back samples. When every float output row is a probability vector (>= 2
values in [0, 1] summing to 1, i.e. a softmax: :func:`tinykit.tensors.is_classifier`)
the model is a classifier and the figure is top-1 agreement; otherwise it is a regression and the figure is the mean
per-sample cosine similarity. RMSE and cosine are reported for both kinds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinykit.errors import CheckFailed, QuantizeError, ReferenceError_, TinykitError

if TYPE_CHECKING:
    from tinykit.quantize.isolated import Converted

IO_MODES = ("int8", "float")


@dataclass(frozen=True)
class QuantizeConfig:
    io: str = "int8"  # "int8": int8 input/output tensors; "float": float I/O around int8 ops
    holdout: float = 0.2  # fraction of the data held back from calibration for agreement
    seed: int = 0  # shuffles the data before the split

    def __post_init__(self) -> None:
        if self.io not in IO_MODES:
            raise QuantizeError(f"unknown io {self.io!r}; expected one of {', '.join(IO_MODES)}")
        if not 0.0 <= self.holdout < 1.0:
            raise QuantizeError(f"holdout {self.holdout} is out of range; expected 0 <= holdout < 1")


@dataclass(frozen=True)
class Agreement:
    kind: str  # "top1" (classifier) or "regression"
    samples: int  # how many samples were compared
    top1: float | None  # fraction of samples with the same argmax (classifiers only)
    rmse: float | None  # root mean square error of the outputs, in output units
    cosine: float | None  # mean per-sample cosine similarity of the outputs
    on: str = "holdout"  # "holdout", or "calibration" when too few samples to hold any back

    @property
    def score(self) -> float:
        """The headline figure: top-1 for classifiers, cosine for regressions."""
        value = self.top1 if self.kind == "top1" else self.cosine
        return float("nan") if value is None else value

    @property
    def metric(self) -> str:
        return "top1" if self.kind == "top1" else "cosine"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "samples": self.samples, "on": self.on, "top1": self.top1,
                "rmse": self.rmse, "cosine": self.cosine}


@dataclass(frozen=True)
class QuantizeResult:
    tflite: bytes = field(repr=False)
    float_bytes: int  # float32 .tflite conversion of the same model
    int8_bytes: int
    calibration_samples: int
    holdout_samples: int
    agreement: Agreement
    seconds: float  # wall time of the whole quantize call
    warnings: tuple[str, ...] = ()  # about the calibration data (calibration_warnings)

    def to_dict(self) -> dict[str, Any]:
        return {"float_bytes": self.float_bytes, "int8_bytes": self.int8_bytes,
                "calibration_samples": self.calibration_samples,
                "holdout_samples": self.holdout_samples,
                "agreement": self.agreement.to_dict(), "seconds": round(self.seconds, 3),
                "warnings": list(self.warnings)}


def calibration_warnings(calib: np.ndarray, what: str = "data") -> tuple[str, ...]:
    """What makes a calibration set unable to give good int8 ranges: one sample,
    constant values (every value the same), or identical samples.

    >>> calibration_warnings(np.zeros((1, 4)))[0]
    'data: 1 calibration sample: the int8 ranges come from a single input; pass a few hundred representative samples'
    >>> calibration_warnings(np.full((8, 4), 0.5))[0]
    'data: every calibration value is 0.5: the int8 ranges cannot be measured; pass real samples'
    >>> calibration_warnings(np.tile(np.arange(4.0), (3, 1)))[0]
    'data: the 3 calibration samples are identical; pass varied, representative samples'
    >>> calibration_warnings(np.arange(12.0).reshape(3, 4))
    ()
    """
    x = np.asarray(calib)
    found = []
    if len(x) == 1:
        found.append(f"{what}: 1 calibration sample: the int8 ranges come from a single input; "
                     "pass a few hundred representative samples")
    if x.size and float(np.ptp(x)) == 0.0:
        found.append(f"{what}: every calibration value is {x.reshape(-1)[0]:g}: the int8 ranges "
                     "cannot be measured; pass real samples")
    elif len(x) > 1 and bool(np.all(x == x[:1])):
        found.append(f"{what}: the {len(x)} calibration samples are identical; pass varied, "
                     "representative samples")
    return tuple(found)


def split(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (calibration, holdout) indices; holdout is empty when it would be
    empty or leave nothing to calibrate with.

    >>> c, h = split(10, 0.2, 0)
    >>> len(c), len(h), sorted([*c, *h]) == list(range(10))
    (8, 2, True)
    >>> [len(part) for part in split(2, 0.2, 0)]
    [2, 0]
    """
    order = np.random.default_rng(seed).permutation(n)
    n_hold = int(round(n * holdout))
    if n_hold == 0 or n_hold >= n:
        return order, order[:0]
    return order[n_hold:], order[:n_hold]


def compare(float_out: np.ndarray, int8_out: np.ndarray, on: str = "holdout") -> Agreement:
    """Agreement between float outputs and dequantized int8 outputs (N, ...) each.

    >>> a = compare(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([[0.8, 0.2], [0.6, 0.4]]))
    >>> a.kind, a.top1
    ('top1', 0.5)
    >>> round(compare(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])).cosine, 9)
    1.0
    """
    from tinykit.tensors import top1 as classes

    f = np.asarray(float_out, np.float64).reshape(len(float_out), -1)
    q = np.asarray(int8_out, np.float64).reshape(len(int8_out), -1)
    if f.shape != q.shape:
        raise QuantizeError(f"float outputs {f.shape} and int8 outputs {q.shape} differ in shape")
    rmse = float(np.sqrt(np.mean((f - q) ** 2)))
    norms = np.linalg.norm(f, axis=1) * np.linalg.norm(q, axis=1)
    dots = np.sum(f * q, axis=1)
    both_zero = (np.linalg.norm(f, axis=1) == 0) & (np.linalg.norm(q, axis=1) == 0)
    cos = np.where(both_zero, 1.0, dots / np.where(norms == 0, 1.0, norms))
    cosine = float(np.mean(cos))
    top1 = None
    kind = "regression"
    float_classes = classes(f)
    if float_classes is not None:
        kind = "top1"
        top1 = float(np.mean(float_classes == np.argmax(q, axis=1)))
    return Agreement(kind, len(f), top1, rmse, cosine, on)


class NotRunnable(CheckFailed):
    """The model converted, but the int8 runtimes cannot run it (TF left ops in
    float, or TFLM lacks an op): a failed check (exit 1). ``tflite`` holds the
    converted model, which the CLI still writes."""

    def __init__(self, message: str, tflite: bytes, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.tflite = tflite


def quantize(model_path: str | Path, data: str | Path | np.ndarray,
             config: QuantizeConfig | None = None) -> QuantizeResult:
    """Quantize a trained model to full-integer int8 and measure what it costs.

    ``data`` is a .npy/.npz path or an array of float samples ``(N, *input_shape)``.
    TensorFlow runs in an isolated subprocess (:mod:`tinykit.quantize.isolated`): a
    native crash is a one-line :class:`QuantizeError`. A model that converts but that
    TFLM or the int8 runtimes cannot run raises :class:`NotRunnable`.
    """
    from tinykit.load import load_data, validate_data
    from tinykit.load.model import model_kind
    from tinykit.quantize.isolated import convert

    config = config or QuantizeConfig()
    t0 = time.perf_counter()
    path = Path(model_path)
    model_kind(path)  # cheap checks first: TensorFlow takes seconds to import
    if isinstance(data, str | Path):
        what, arr = Path(data).name, load_data(data)
    else:
        what, arr = "data", validate_data(data, "data")
    done = convert(path, arr, what, config.io, config.holdout, config.seed)
    return _finish(path, what, done, t0)


def quantize_many(models: Sequence[tuple[str | Path, str | Path | np.ndarray]],
                  config: QuantizeConfig | None = None) -> list[QuantizeResult | TinykitError]:
    """:func:`quantize` for several ``(model, data)`` pairs with one TensorFlow
    import (:func:`tinykit.quantize.isolated.convert_many`): each pair gets its
    result or the one-line error :func:`quantize` would raise for it."""
    from tinykit.load import load_data, validate_data
    from tinykit.load.model import model_kind
    from tinykit.quantize.isolated import convert_many

    config = config or QuantizeConfig()
    t0 = time.perf_counter()
    out: list[QuantizeResult | TinykitError | None] = [None] * len(models)
    jobs, where = [], []
    for i, (model_path, data) in enumerate(models):
        try:
            path = Path(model_path)
            model_kind(path)
            if isinstance(data, str | Path):
                what, arr = Path(data).name, load_data(data)
            else:
                what, arr = "data", validate_data(data, "data")
        except TinykitError as exc:
            out[i] = exc
            continue
        jobs.append((path, arr, what))
        where.append(i)
    for i, (path, _, what), done in zip(where, jobs, convert_many(
            jobs, config.io, config.holdout, config.seed), strict=True):
        try:
            out[i] = done if isinstance(done, TinykitError) else _finish(path, what, done, t0)
        except TinykitError as exc:
            out[i] = exc
    return [r for r in out if r is not None]


def _finish(path: Path, what: str, done: Converted, t0: float) -> QuantizeResult:
    """The checks and the agreement run after the worker converted ``path``."""
    aot_note = check_runnable(done.tflite, path.stem)
    try:
        agreement = _agreement(done.tflite, done.held, done.float_out, done.on, what)
    except ReferenceError_ as exc:
        raise NotRunnable(f"{path.stem}: TFLM cannot run the int8 model: {exc.message}",
                          done.tflite) from None
    return QuantizeResult(done.tflite, done.float_bytes, len(done.tflite),
                          done.calibration_samples, done.holdout_samples, agreement,
                          time.perf_counter() - t0, done.warnings + aot_note)


def check_runnable(tflite: bytes, name: str) -> tuple[str, ...]:
    """Raise :class:`NotRunnable` when TF left ops in float (``analyze`` would refuse
    the model) or when neither runtime runs an op. Returns a warning when only one
    runtime runs every op (TFLM lacks TILE: TFLite is then the reference)."""
    from tinykit.analyze.api import float_message
    from tinykit.graph import parse_tflite
    from tinykit.graph.islands import fold_islands
    from tinykit.ops import find_unsupported, unsupported_hint, unsupported_message

    graph = parse_tflite(tflite, name)
    folded = fold_islands(graph)  # exact float islands (NEG, SQUARE, ...) run as int8 tables
    problem = float_message(folded)
    if problem:
        from tinykit.analyze.api import float_op_advice, float_ops
        from tinykit.quantize.rnn import float_hint

        ops = float_ops(folded)
        raise NotRunnable(problem, tflite, hint=float_hint(folded, ops) or float_op_advice(ops) or (
            "replace the layers TensorFlow left in float with int8-friendly ones (README "
            "'Keras layers')"))
    missing = find_unsupported("tflm", graph)
    aot = find_unsupported("aot", folded)
    if missing and aot:  # neither runtime runs it
        raise NotRunnable(f"{name}: {unsupported_message('tflm', missing)}", tflite,
                          hint=unsupported_hint("tflm", graph.ops))
    if missing:  # TILE (UpSampling2D): the AOT runtime runs it, TFLite is the reference
        return (f"{name}: {unsupported_message('tflm', missing)}; the aot runtime (analyze's "
                "and build's default) runs every op",)
    if aot:
        return (f"{name}: {unsupported_message('aot', aot)}; analyze and build need "
                "--runtime tflm (real boards only)",)
    return ()


def _agreement(tflite: bytes, held: np.ndarray, float_out: np.ndarray, on: str,
               what: str) -> Agreement:
    from tinykit import reference
    from tinykit.graph import parse_tflite
    from tinykit.tensors import to_model_input, to_real

    graph = parse_tflite(tflite, "quantized")
    tin, tout = graph.input_tensors[0], graph.output_tensors[0]
    result = reference.run(tflite, to_model_input(held, tin, what).array)
    return compare(float_out, to_real(result.outputs, tout), on)
