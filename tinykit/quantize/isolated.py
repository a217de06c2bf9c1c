"""TensorFlow conversion and calibration in an isolated subprocess
(:mod:`tinykit.quantize._worker`), as :mod:`tinykit.reference` runs TFLM.

TensorFlow's converter and calibrator are native code: TF 2.21 segfaults on a
Keras LSTM or GRU once the batch is fixed to 1. In its own process such a crash
can never take tinykit down. It becomes one line (exit 2) naming what crashed
(converter or calibrator), the layers most likely responsible and a workaround;
the worker's whole output, with :mod:`faulthandler`'s stack dump, is kept in a
log file whose path the line gives (see :func:`log_dir`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinykit import errors
from tinykit.errors import QuantizeError, TinykitError
from tinykit.tf import PASSTHROUGH_ENV, TF_ENV, diagnostics

LOG_DIR_ENV = "TINYKIT_LOG_DIR"
TIMEOUT_S = 3600.0

# Keras layer classes TF's converter lowers to control flow (TensorList, While):
# the usual suspects when the converter crashes.
RNN_CLASSES = frozenset({"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D",
                         "ConvLSTM2D", "ConvLSTM3D", "TimeDistributed"})
# Layers every converter handles; anything else is a suspect when no RNN is present.
_PLAIN = frozenset({
    "InputLayer", "Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D",
    "Conv1DTranspose", "Conv2DTranspose", "BatchNormalization", "Activation", "ReLU", "Softmax",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "Flatten", "Reshape", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "ZeroPadding1D", "ZeroPadding2D", "Rescaling",
    "Normalization", "LeakyReLU", "PReLU", "UpSampling1D", "UpSampling2D", "Permute", "Identity",
    "Functional", "Sequential", "Model",
})

WHAT_CRASHED = {
    "load": "TensorFlow crashed while loading the model",
    "converter": "the TensorFlow converter crashed",
    "calibrator": "the TensorFlow calibrator crashed",
    "float converter": "the TensorFlow converter crashed (float32 size baseline)",
    "float model": "TensorFlow crashed running the float model",
}


@dataclass(frozen=True)
class Converted:
    """What the worker produced."""

    tflite: bytes
    float_bytes: int
    calibration_samples: int
    holdout_samples: int
    on: str  # "holdout" or "calibration"
    held: np.ndarray  # the samples the agreement is measured on
    float_out: np.ndarray  # the float model's outputs on them
    warnings: tuple[str, ...] = ()  # about the calibration data (api.calibration_warnings)


def log_dir() -> Path:
    """Where crash logs are kept: ``$TINYKIT_LOG_DIR``, else ``<tmp>/tinykit-logs``."""
    return Path(os.environ.get(LOG_DIR_ENV) or Path(tempfile.gettempdir()) / "tinykit-logs")


def suspects(layers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The layers most likely responsible for a converter crash: the recurrent
    ones if any, else the ones outside the plain CNN/MLP set.

    >>> suspects([("conv", "Conv2D"), ("lstm", "LSTM"), ("attn", "MultiHeadAttention")])
    [('lstm', 'LSTM')]
    >>> suspects([("conv", "Conv2D"), ("attn", "MultiHeadAttention")])
    [('attn', 'MultiHeadAttention')]
    >>> suspects([("d", "Dense")])
    []
    """
    rnn = [(n, c) for n, c in layers if c in RNN_CLASSES]
    return rnn or [(n, c) for n, c in layers if c not in _PLAIN]


def workaround(culprits: list[tuple[str, str]]) -> str:
    """How to get past the crash, for these suspect layers.

    >>> workaround([("lstm", "LSTM")])
    'workaround: build the LSTM layers with unroll=True (fixed sequence length), or replace them with Conv1D'
    """
    kinds = sorted({c for _, c in culprits})
    if kinds and set(kinds) <= RNN_CLASSES:
        return (f"workaround: build the {'/'.join(kinds)} layers with unroll=True (fixed sequence "
                "length), or replace them with Conv1D")
    if kinds:
        return f"workaround: replace or simplify the {'/'.join(kinds)} layers"
    return "workaround: simplify the model, or try another TensorFlow version"


def crash_message(model: str, stage: str, sig: str, layers: list[tuple[str, str]] | None,
                  log: Path) -> TinykitError:
    """The one line for a crashed worker.

    >>> e = crash_message("m.keras", "converter", "SIGSEGV", [("lstm", "LSTM")], Path("/t/x.log"))
    >>> print(e.format_message())  # doctest: +NORMALIZE_WHITESPACE
    the TensorFlow converter crashed (SIGSEGV) on m.keras; likely responsible: layer 'lstm' (LSTM);
    native fault text in /t/x.log (workaround: build the LSTM layers with unroll=True (fixed
    sequence length), or replace them with Conv1D)
    """
    what = WHAT_CRASHED.get(stage, f"TensorFlow crashed ({stage})")
    if layers is None:
        who = "the model's layers are unknown (it crashed while loading)"
        culprits: list[tuple[str, str]] = []
    else:
        culprits = suspects(layers)
        who = ("likely responsible: " + ", ".join(f"layer {n!r} ({c})" for n, c in culprits)
               if culprits else "no layer stands out")
    return QuantizeError(f"{what} ({sig}) on {model}; {who}; native fault text in {log}",
                         hint=workaround(culprits))


def _signal_name(returncode: int) -> str:
    """
    >>> _signal_name(-11), _signal_name(-6), _signal_name(1)
    ('SIGSEGV', 'SIGABRT', 'exit code 1')
    """
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def _keep_log(log: Path, model: Path, what: str) -> Path:
    """Copy the job's log to :func:`log_dir` (the job folder is deleted), under a
    header saying what happened; a one-line error when it cannot be written."""
    folder = log_dir()
    kept = folder / f"quantize-{model.stem or 'model'}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    header = (f"tinykit quantize {model}: {what}\n"
              f"python {sys.version.split()[0]}; the worker's stdout and stderr follow\n\n")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(header.encode() + log.read_bytes())
    except OSError as exc:
        raise QuantizeError(f"{what}; its log cannot be saved in {folder}: {exc.strerror}",
                            hint=f"set {LOG_DIR_ENV} to a writable folder") from None
    return kept


def _known_error(job: Path, log_text: str) -> TinykitError:
    info = json.loads((job / "error.json").read_text())
    cls = getattr(errors, info["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, TinykitError)):
        cls = QuantizeError
    exc = cls(info["message"], hint=info.get("hint"))
    said = diagnostics(log_text)
    if said:
        exc.add_note(f"TensorFlow said:\n{said}")
    return exc


def _write_job(job: Path, model: Path, data: np.ndarray, what: str, io: str, holdout: float,
               seed: int) -> None:
    job.mkdir(parents=True, exist_ok=True)
    np.save(job / "data.npy", np.ascontiguousarray(data))
    (job / "job.json").write_text(json.dumps(
        {"model": str(Path(model).resolve()), "io": io, "holdout": holdout, "seed": seed,
         "what": what}))


def _spawn(job: Path, log: Path, model: Path) -> int:
    """Run the worker on ``job`` with its output in ``log``; its exit code."""
    env = {**TF_ENV, **os.environ, PASSTHROUGH_ENV: "1", "PYTHONFAULTHANDLER": "1"}
    with open(log, "ab") as sink:
        try:
            return subprocess.run([sys.executable, "-m", "tinykit.quantize._worker", str(job)],
                                  stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, env=env,
                                  timeout=TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            what = f"TensorFlow did not finish converting {model.name} within {TIMEOUT_S:.0f} s"
            raise QuantizeError(f"{what}; its output is in {_keep_log(log, model, what)}"
                                ) from None


def _collect(job: Path, model: Path, returncode: int, log: Path) -> Converted:
    """What the worker left in ``job``: the converted model, or the one-line error."""
    log_text = log.read_text("utf-8", "replace")
    if (job / "error.json").is_file():
        raise _known_error(job, log_text)
    if returncode != 0:
        stage_file = job / "stage"
        stage = stage_file.read_text() if stage_file.is_file() else "load"
        layers_file = job / "layers.json"
        layers = ([(n, c) for n, c in json.loads(layers_file.read_text())]
                  if layers_file.is_file() else None)
        kept = _keep_log(log, model, f"the worker ended with {_signal_name(returncode)} "
                         f"in the {stage} step")
        if returncode > 0 and "Traceback" in log_text:  # a Python exception: a bug
            last = [ln for ln in log_text.splitlines() if ln.strip()][-1]
            raise QuantizeError(f"the quantize worker failed unexpectedly at the {stage} "
                                f"step: {last.strip()}; its output is in {kept}",
                                hint="this is a tinykit bug: please report it with the log")
        raise crash_message(model.name, stage, _signal_name(returncode), layers, kept)
    result = json.loads((job / "result.json").read_text())
    return Converted(tflite=(job / "int8.tflite").read_bytes(),
                     float_bytes=int(result["float_bytes"]),
                     calibration_samples=int(result["calibration_samples"]),
                     holdout_samples=int(result["holdout_samples"]), on=result["on"],
                     held=np.load(job / "held.npy"), float_out=np.load(job / "float_out.npy"),
                     warnings=tuple(result.get("warnings", ())))


def convert(model: Path, data: np.ndarray, what: str, io: str, holdout: float,
            seed: int) -> Converted:
    """Load ``model``, split ``data``, convert to int8 and run the float model on the
    held-back samples, all in the worker; a crash raises one-line :class:`QuantizeError`."""
    with tempfile.TemporaryDirectory(prefix="tinykit-quantize-") as tmp:
        job = Path(tmp)
        _write_job(job, model, data, what, io, holdout, seed)
        log = job / "worker.log"
        return _collect(job, model, _spawn(job, log, model), log)


def convert_many(jobs: list[tuple[Path, np.ndarray, str]], io: str, holdout: float,
                 seed: int) -> list[Converted | TinykitError]:
    """:func:`convert` for several ``(model, data, data name)`` jobs with one
    TensorFlow import: one worker converts them in turn. Each job gets its
    :class:`Converted` or its one-line error; when a model crashes the worker, that
    job gets the crash report and the jobs after it run in a new worker."""
    done: dict[int, Converted | TinykitError] = {}
    pending = list(range(len(jobs)))
    while pending:
        with tempfile.TemporaryDirectory(prefix="tinykit-quantize-") as tmp:
            root = Path(tmp)
            for i in pending:
                _write_job(root / str(i), *jobs[i], io, holdout, seed)
            (root / "batch.json").write_text(json.dumps([str(i) for i in pending]))
            log = root / "worker.log"
            returncode = _spawn(root, log, jobs[pending[0]][0])
            left = [i for i in pending if not ((root / str(i) / "result.json").is_file()
                                               or (root / str(i) / "error.json").is_file())]
            for i in pending:
                if i in left[:1] or i not in left:
                    try:
                        done[i] = _collect(root / str(i), jobs[i][0],
                                           returncode if i in left else 0, log)
                    except TinykitError as exc:
                        done[i] = exc
            if left and returncode == 0:  # cannot happen: the worker ran every job
                raise QuantizeError(f"the quantize worker skipped {jobs[left[0]][0].name}",
                                    hint="this is a tinykit bug: please report it")
            pending = left[1:]
    return [done[i] for i in range(len(jobs))]
