"""MLPerf Tiny tasks of ``--protocol eembc``: what the runner sends and what it expects back.

The official runner (mlcommons/tiny ``benchmark/runner``) picks its test script by
the device's ``m-model-[...]`` key, sends each dataset file as it is with ``db``
commands and reads one ``m-results-[...]`` line. The reference firmwares differ
per task in what they do with those bytes, and tinykit's firmware does the same:

=======  ====================================  =================================
task     ``db`` bytes (per input element)      ``m-results-[...]``
=======  ====================================  =================================
kws01    int8 MFCC features, as they are       the dequantized outputs
ic01     uint8 pixels, minus 128 on the device  the dequantized outputs
vww01    uint8 pixels, minus 128 on the device  the dequantized outputs
ad01     float32 LE, quantized on the device    one anomaly score: the MSE between
                                                the float input and the
                                                dequantized output
=======  ====================================  =================================

sww01 (streaming wakeword) is not offered: its only runner flow streams audio from
the interface board (``start``/``stop`` around a played wave file).

:func:`resolve_task` takes ``--eembc-task`` (a key, or ``auto`` to recognise the
four reference model shapes) and checks the model can do it.

>>> TASKS["ad01"].db_bytes(640)
2560
>>> TASKS["ic01"].encode(np.array([0, 128, 255], dtype=np.uint8)).hex()
'0080ff'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinykit.errors import ProjectError
from tinykit.graph import Graph

AUTO = "auto"


@dataclass(frozen=True)
class EembcTask:
    key: str  # the runner's model key, printed as m-model-[key]
    input: str  # "int8": db bytes are the input; "uint8": minus 128 on the device; "float32": quantized there
    output: str  # "values": every output dequantized; "mse": one anomaly score
    shape: tuple[int, ...]  # the reference model's input shape (batch dropped), for auto-detection
    classes: int  # the reference model's output elements, for auto-detection
    c_input: str  # TkEembcInput enumerator
    c_output: str  # TkEembcOutput enumerator

    def db_bytes(self, input_elements: int) -> int:
        """Bytes the runner sends for one input (``db load N``)."""
        return input_elements * (4 if self.input == "float32" else 1)

    def encode(self, x: np.ndarray) -> bytes:
        """A dataset sample as the runner sends it (its file's bytes)."""
        dtype = np.dtype({"int8": "i1", "uint8": "u1", "float32": "<f4"}[self.input])
        if x.dtype != dtype:
            raise ProjectError(f"{self.key} samples are {dtype}, got {x.dtype}")
        return np.ascontiguousarray(x).tobytes()


TASKS: dict[str, EembcTask] = {
    t.key: t
    for t in (
        EembcTask("kws01", "int8", "values", (49, 10, 1), 12, "TK_EEMBC_IN_INT8", "TK_EEMBC_OUT_VALUES"),
        EembcTask("ic01", "uint8", "values", (32, 32, 3), 10, "TK_EEMBC_IN_UINT8", "TK_EEMBC_OUT_VALUES"),
        EembcTask("vww01", "uint8", "values", (96, 96, 3), 2, "TK_EEMBC_IN_UINT8", "TK_EEMBC_OUT_VALUES"),
        EembcTask("ad01", "float32", "mse", (640,), 640, "TK_EEMBC_IN_FLOAT32", "TK_EEMBC_OUT_MSE"),
    )
}
CHOICES = (AUTO, *TASKS)


def _elements(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape)) if shape else 1


def detect_task(graph: Graph) -> EembcTask | None:
    """The reference task whose input shape and output size this model has, or None.

    A batch of 1 and unit dimensions are ignored (KWS models come as 49x10 and 49x10x1).
    """
    inp, out = graph.input_tensors[0], graph.output_tensors[0]
    if len(graph.input_tensors) != 1 or len(graph.output_tensors) != 1:
        return None
    squeeze = tuple(d for d in inp.shape if d != 1)
    for task in TASKS.values():
        if squeeze == tuple(d for d in task.shape if d != 1) and _elements(out.shape) == task.classes:
            return task
    return None


def resolve_task(graph: Graph, requested: str) -> tuple[EembcTask | None, str]:
    """(task or None, a note for the build) for ``--eembc-task`` (a key or ``auto``)."""
    if requested == AUTO:
        task = detect_task(graph)
        if task is None:
            return None, ("MLPerf Tiny: this model is none of the reference tasks' shapes, so the firmware "
                          f"reports m-model-[{graph.name}] and takes raw input bytes; the official runner only "
                          f"knows {', '.join(TASKS)}: pass --eembc-task to run it there.")
        return task, f"MLPerf Tiny task {task.key} (detected from the model's shapes; --eembc-task to change it)."
    if requested not in TASKS:
        hint = "sww01 needs the audio interface board's streaming flow" if requested == "sww01" else None
        raise ProjectError(f"unknown --eembc-task {requested!r}; expected one of {', '.join(CHOICES)}", hint=hint)
    task = TASKS[requested]
    inp, out = graph.input_tensors[0], graph.output_tensors[0]
    if inp.dtype != "int8":
        raise ProjectError(f"--eembc-task {task.key}: the model's input is {inp.dtype}; the reference "
                           "firmwares feed an int8 input", hint="quantize the model to full int8")
    if task.output == "mse":
        if out.dtype != "int8" or _elements(out.shape) != _elements(inp.shape) or not inp.quant or not out.quant:
            raise ProjectError(f"--eembc-task {task.key}: the anomaly score compares the input with the "
                               f"output, so both must be quantized int8 of one size (input {list(inp.shape)}, "
                               f"output {list(out.shape)} {out.dtype})")
    return task, f"MLPerf Tiny task {task.key} (--eembc-task)."


def buffer_bytes(graph: Graph, requested: str) -> int:
    """RAM of the buffers a ``--protocol eembc`` main declares for the model: the db buffer
    (the runner's bytes of one input) and, for a float32 task, the quantized input.

    >>> from tinykit.graph import Graph, Tensor
    >>> t = Tensor(0, "x", (1, 640), "int8", None)
    >>> buffer_bytes(Graph("m", (t,), (), (0,), (0,), 0), "auto")  # 640 in, 640 out: ad01
    3200
    """
    task = detect_task(graph) if requested == AUTO else TASKS.get(requested)
    n = graph.input_tensors[0].nbytes
    if task is None:
        return n
    return task.db_bytes(n) + (n if task.input == "float32" else 0)
