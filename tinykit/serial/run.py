"""One inference on a device (the library side of ``tinykit run``).

The device is a serial URL; finding the emulator of a ``--board`` is the
caller's job (``resolve_port`` of the emulator code)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinykit.errors import DataError
from tinykit.serial.client import Device, DeviceInfo, LinkStats, quantize_input


@dataclass(frozen=True)
class RunConfig:
    input_path: Path
    port: str  # tty path or pyserial URL (socket://host:N)
    model: Path | None = None
    output_path: Path | None = None
    baud: int = 115200
    timeout: float = 2.0
    retries: int = 3
    layers: bool = False  # also read the per-layer device times of the inference


@dataclass(frozen=True)
class LayerTime:
    index: int
    op: str  # op kind, when --model names the graph ("" otherwise)
    name: str  # layer name (first output tensor), when --model is given
    us: int


@dataclass(frozen=True)
class RunReport:
    url: str
    device: DeviceInfo
    quantized_input: bool  # float input quantized with the device's scale/zero point
    output: np.ndarray
    output_real: np.ndarray | None  # dequantized, when the output has a scale
    argmax: int | None  # the class, when the output is a probability vector (a softmax)
    device_us: int
    round_trip_ms: float
    stats: LinkStats
    layers: tuple[LayerTime, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = self.device
        return {
            "port": self.url,
            "model": d.name,  # the model the device runs (its name and hash)
            "model_hash": d.hash,
            "runtime": d.runtime,
            "board": d.board,
            "firmware": d.firmware,
            "quantized_input": self.quantized_input,
            "output_shape": list(self.output.shape),
            "output_dtype": str(self.output.dtype),
            "output": self.output.tolist(),
            "output_real": None if self.output_real is None else self.output_real.tolist(),
            "argmax": self.argmax,
            "device_us": self.device_us,
            "round_trip_ms": round(self.round_trip_ms, 3),
            "retries": self.stats.retries,
            "frames_sent": self.stats.frames_sent,
            "layers": None if self.layers is None else [vars(t) for t in self.layers],
        }


def prepare_input(x: np.ndarray, info: DeviceInfo) -> tuple[np.ndarray, bool]:
    """The device input array and whether float data had to be quantized."""
    from tinykit.tensors import INDEX_TYPES, integral

    spec = info.input
    n = int(np.prod(spec.shape)) if spec.shape else 1
    if x.size != n:
        raise DataError(
            f"input has {x.size} values of shape {list(x.shape)}, the device's model wants "
            f"{n} ({list(spec.shape)})"
        )
    if spec.dtype in INDEX_TYPES:  # token ids: whole numbers, never quantized
        return integral(x, "input", spec.dtype).reshape(spec.shape), False
    if np.issubdtype(x.dtype, np.floating) and spec.dtype != "float32":
        return quantize_input(x, spec).reshape(spec.shape), True
    if x.dtype != np.dtype(spec.dtype):
        raise DataError(f"input is {x.dtype}; the device wants {spec.dtype} (or float data)")
    return x.reshape(spec.shape), False


def run_once(cfg: RunConfig) -> RunReport:
    from tinykit.load import load_data

    url = cfg.port
    x = load_data(cfg.input_path)
    expected: tuple[str, str] | None = None
    if cfg.model is not None:
        from tinykit.graph import model_hash

        try:
            expected = (model_hash(cfg.model.read_bytes()), cfg.model.stem)
        except OSError as e:
            raise DataError(f"cannot read model {cfg.model}: {e}") from None
    with Device.open(url, baud=cfg.baud, timeout=cfg.timeout, retries=cfg.retries) as dev:
        info = dev.info()
        if expected is not None:
            dev.expect_model(*expected)
        data, quantized = prepare_input(x, info)
        t0 = time.perf_counter()
        result = dev.infer(data)
        round_trip_ms = (time.perf_counter() - t0) * 1e3
        layers = _layer_times(dev.layer_times(), cfg.model) if cfg.layers else None
        stats = dev.stats
    out = result.output
    real, argmax = _read_output(out, info)
    if cfg.output_path is not None:
        np.save(cfg.output_path, out)
    return RunReport(url, info, quantized, out, real, argmax, result.device_us, round_trip_ms,
                     stats, layers)


def _read_output(out: np.ndarray, info: DeviceInfo) -> tuple[np.ndarray | None, int | None]:
    """The output dequantized (when it has a scale), and its class when it is a
    probability vector (the rule of :func:`tinykit.tensors.is_classifier`)."""
    from tinykit.graph import Quant
    from tinykit.tensors import dequantize_array, top1

    spec = info.output
    real = None if spec.scale == 0 else dequantize_array(out, Quant((spec.scale,), (spec.zero_point,)))
    values = out if real is None else real
    classes = top1(values.reshape(1, -1), spec.scale) if np.issubdtype(values.dtype, np.floating) else None
    return real, None if classes is None else int(classes[0])


def _layer_times(times: tuple[int, ...], model: Path | None) -> tuple[LayerTime, ...]:
    """Device times per op, named from the model's graph when it is given."""
    ops: list[tuple[str, str]] = [("", "")] * len(times)
    if model is not None:
        from tinykit.graph import load_tflite

        graph = load_tflite(model)
        if len(graph.ops) == len(times):
            ops = [(op.kind, graph.layer_name(op)) for op in graph.ops]
    return tuple(LayerTime(i, kind, name, us) for i, ((kind, name), us) in enumerate(zip(ops, times, strict=True)))
