"""`tinykit test`: every sample on the device and on the host TFLM reference,
compared bit by bit. Results are written as they come in."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinykit.errors import DataError, DeviceError, ExitCode
from tinykit.graph import Graph, load_tflite, model_hash
from tinykit.hil.reports import REPORTERS
from tinykit.hil.result import CaseResult, Status, SuiteResult

INTERRUPTED = "interrupted"  # SuiteResult.stopped after Ctrl-C


@dataclass(frozen=True)
class HilConfig:
    model: Path
    port: str | None = None
    board: str | None = None
    data: Path | None = None
    labels: Path | None = None
    samples: int = 20
    seed: int = 0
    baud: int = 115200
    timeout: float = 5.0
    retries: int = 3  # resends per request (timeouts, damaged frames)
    reports: tuple[tuple[str, Path], ...] = ()  # (reporter name, path)


def check_labels(raw: np.ndarray, samples: int, classes: int, what: str = "labels") -> np.ndarray:
    """``--labels``: one integer class per sample, each in [0, classes); the first
    ``samples`` are used. DataError (one line) otherwise.

    >>> check_labels(np.array([2, 0, 1.0]), 2, 3).tolist()
    [2, 0]
    >>> check_labels(np.array([0, 3]), 2, 3)
    Traceback (most recent call last):
    tinykit.errors.DataError: labels: label 3 (sample 1) is not a class of the model's 3 outputs; expected integers 0..2
    """
    a = np.asarray(raw)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise DataError(f"{what}: labels of shape {list(a.shape)}; expected one integer per sample, "
                        "shape (N,)", hint="pass class indices, not one-hot rows")
    if a.dtype.kind not in "iub" and not (a.dtype.kind == "f" and np.all(np.isfinite(a))
                                          and np.all(a == np.round(a))):
        raise DataError(f"{what}: labels of dtype {a.dtype} are not integers",
                        hint="pass class indices 0..N-1")
    if len(a) < samples:
        raise DataError(f"{what}: {len(a)} labels for {samples} samples")
    a = a[:samples].astype(np.int64)
    bad = np.flatnonzero((a < 0) | (a >= classes))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{what}: label {a[i]} (sample {i}) is not a class of the model's {classes} "
                        f"outputs; expected integers 0..{classes - 1}")
    return a


def make_inputs(config: HilConfig, graph: Graph) -> tuple[np.ndarray, np.ndarray | None]:
    shape = tuple(graph.input_tensors[0].shape[1:])
    labels = None
    if config.data is not None:
        from tinykit.load import check_shape, load_data
        from tinykit.tensors import to_model_input

        data = check_shape(load_data(config.data), shape, str(config.data))
        x = to_model_input(data, graph.input_tensors[0], str(config.data)).array[: config.samples]
        if config.labels is not None:
            classes = int(np.prod(graph.output_tensors[0].shape[1:], dtype=np.int64))
            labels = check_labels(load_data(config.labels), len(x), classes, str(config.labels))
        return x, labels
    if config.labels is not None:
        raise DataError("--labels needs --data")
    if graph.input_tensors[0].dtype == "int32":  # token ids: [-n, n), negatives wrap around
        from tinykit.verify.api import token_vocabulary

        n = token_vocabulary(graph)
        rng = np.random.default_rng(config.seed)
        return rng.integers(-n, n, (config.samples, *shape), dtype=np.int32), None
    if graph.input_tensors[0].dtype != "int8":
        rng = np.random.default_rng(config.seed)
        return rng.random((config.samples, *shape), dtype=np.float32), None
    rng = np.random.default_rng(config.seed)
    return rng.integers(-128, 128, (config.samples, *shape), dtype=np.int8), None


def _compare(index: int, out: np.ndarray, ref: np.ndarray, device_us: int, label: int | None,
             classifier: bool = False) -> CaseResult:
    """One case; ``classifier`` (the outputs are class probabilities) adds the top-1 classes."""
    diff = int(np.max(np.abs(out.astype(np.int64) - ref.astype(np.int64)))) if out.size else 0
    if out.dtype.kind == "f":
        exact = np.array_equal(out.view(np.uint32), ref.astype(out.dtype).view(np.uint32))
    else:
        exact = np.array_equal(out, ref)
    flat_o, flat_r = out.reshape(-1), ref.reshape(-1)
    return CaseResult(
        index=index, status=Status.PASSED if exact else Status.FAILED, device_us=int(device_us),
        max_abs_diff=diff,
        top1_device=int(np.argmax(flat_o)) if classifier else None,
        top1_reference=int(np.argmax(flat_r)) if classifier else None,
        label=label,
        message="" if exact else f"output differs from the TFLM reference (max abs diff {diff})",
    )


def _is_classifier(reference: np.ndarray, graph: Graph, labelled: bool) -> bool:
    """Whether the reference outputs are class probabilities (the rule of
    :func:`tinykit.tensors.is_classifier`); ``--labels`` needs them."""
    from tinykit.tensors import is_classifier, output_step, to_real

    tout = graph.output_tensors[0]
    if is_classifier(to_real(reference, tout), output_step(tout)):
        return True
    if labelled:
        raise DataError("--labels: the model's outputs are not class probabilities (a softmax), so "
                        "there is no class to compare the labels with", hint="drop --labels")
    return False


def run_hil(config: HilConfig, on_case: Callable[[CaseResult], None] = lambda c: None) -> SuiteResult:
    from tinykit.pio.ports import resolve_port
    from tinykit.reference import run as reference_run
    from tinykit.serial.client import Device

    port = resolve_port(config.port, config.board)  # first: no device, no reference run
    graph = load_tflite(config.model)
    model_bytes = Path(config.model).read_bytes()
    if config.samples < 1:
        raise DataError("--samples must be at least 1")
    inputs, labels = make_inputs(config, graph)
    reference = reference_run(model_bytes, inputs).outputs
    classifier = _is_classifier(reference, graph, labels is not None)
    suite = SuiteResult(graph.name, model_hash(model_bytes), port, planned=len(inputs))

    def save() -> None:
        for name, path in config.reports:
            REPORTERS[name](suite, path)

    save()
    start = time.perf_counter()
    try:
        with Device.open(port, baud=config.baud, timeout=config.timeout, retries=config.retries) as dev:
            info = dev.info()
            suite.device = dataclasses.asdict(info)
            dev.expect_model(suite.model_hash, graph.name)
            for i, sample in enumerate(inputs):
                result = dev.infer(sample)
                out = np.asarray(result.output).reshape(reference[i].shape)
                case = _compare(i, out, reference[i], result.device_us,
                                None if labels is None else int(labels[i]), classifier)
                suite.cases.append(case)
                suite.wall_seconds = time.perf_counter() - start
                save()
                on_case(case)
    except DeviceError as exc:
        suite.stopped = exc.format_message()
        done = len(suite.cases)
        if done < suite.planned:
            suite.cases.append(CaseResult(done, Status.ERRORED, message=suite.stopped))
        suite.cases.extend(CaseResult(i, Status.SKIPPED, message="not run: the run stopped")
                           for i in range(len(suite.cases), suite.planned))
    except KeyboardInterrupt:  # Ctrl-C: keep what was measured, the CLI exits 130
        suite.stopped = INTERRUPTED
        suite.cases.extend(CaseResult(i, Status.SKIPPED, message="not run: the run stopped")
                           for i in range(len(suite.cases), suite.planned))
    suite.wall_seconds = suite.wall_seconds or (time.perf_counter() - start)
    save()
    return suite


def exit_code(suite: SuiteResult) -> int:
    s = suite.summary()
    if suite.stopped == INTERRUPTED:
        return ExitCode.INTERRUPTED
    if not suite.completed:
        return ExitCode.ERROR
    return ExitCode.OK if s["bit_exact"] else ExitCode.CHECK_FAILED
