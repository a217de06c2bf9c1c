"""Test helpers for the AOT code generator: quantize a small Keras model with the
real converter, then compare the generated C with the reference bit by bit, on the
host (gcc, ``tinykit verify``) and bare-metal on QEMU; compile and run a C program
that calls the kernels directly."""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from arm_harness import build_elf, main_c, parse_outputs, run_qemu

from tinykit import reference
from tinykit.codegen.api import generate, write_files
from tinykit.graph import Graph, parse_tflite
from tinykit.ops import SPECS
from tinykit.quantize import convert_int8, import_tf
from tinykit.toolchain import kernel_sources, runtime_include_dirs
from tinykit.verify.api import VerifyConfig, VerifyReport, verify


def quantized(build: Any, shape: tuple[int, ...], seed: int) -> bytes:
    """Build ``build(tf, keras_input)`` -> output, quantize on random calibration data."""
    tf = import_tf()
    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input(shape)
    model = tf.keras.Model(inp, build(tf, inp))
    rng = np.random.default_rng(seed)
    calib = (rng.random((32, *shape), dtype=np.float32) * 4 - 2).astype(np.float32)
    return convert_int8(model, calib)


def sweep(shape: tuple[int, ...]) -> np.ndarray:
    """Every int8 value at every position (ceil(256 / size) samples), then constant
    inputs at -128, 0 and 127 (saturation, ties)."""
    size = int(np.prod(shape))
    values = np.resize(np.arange(-128, 128, dtype=np.int8), (-(-256 // size) * size,))
    const = np.repeat(np.asarray([-128, 0, 127], np.int8), size)
    return np.concatenate([values, const]).reshape(-1, *shape)


def aot_graph(tflite: bytes, name: str, expect: Collection[str] = ()) -> Graph:
    """The parsed model, asserted to contain every op kind of ``expect`` (so a converter
    change cannot hide an op) and to have only ops the AOT runtime supports."""
    graph = parse_tflite(tflite, name)
    kinds = {op.kind for op in graph.ops}
    assert set(expect) <= kinds, kinds
    assert all(SPECS[op.kind].check(graph, op) is None for op in graph.ops), kinds
    return graph


def check(tflite: bytes, tmp: Path, name: str = "m", samples: int = 20, seed: int = 1,
          sweep_inputs: bool = False) -> VerifyReport:
    """``tinykit verify`` (generated C, gcc, the reference) on ``samples`` random inputs,
    then with ``sweep_inputs`` the :func:`sweep` of the input shape; asserts bit exact."""
    path = tmp / f"{name}.tflite"
    path.write_bytes(tflite)
    data, extra = None, 0
    if sweep_inputs:
        x = sweep(parse_tflite(tflite, name).input_tensors[0].shape[1:])
        np.save(data := tmp / "sweep.npy", x)
        extra = len(x)
    report = verify(VerifyConfig(path, samples=samples, seed=seed, data=data, measure=False))
    assert report.samples == samples + extra
    assert report.bit_exact, (f"{report.mismatches} differ (max {report.max_abs_diff}), "
                              f"first at {report.first_diff_layer}")
    return report


def check_on_qemu(tflite: bytes, tmp: Path, name: str, x: np.ndarray | None = None, *,
                  cpu: str = "cortex-m4", defines: Sequence[str] = ()) -> Path:
    """The generated C linked bare-metal for ``cpu``, -O2 (each of ``defines`` as -D),
    run on QEMU over ``x`` (by default the :func:`sweep` of the input shape and 4
    random inputs); asserts every sample's output bytes equal the reference's and
    returns the ELF."""
    graph = parse_tflite(tflite, name)
    write_files(generate(graph, tflite, model_file=f"{name}.tflite"), tmp / "gen")
    if x is None:
        shape = graph.input_tensors[0].shape[1:]
        x = np.concatenate([sweep(shape), np.random.default_rng(5).integers(
            -128, 128, (4, *shape), dtype=np.int8)])
    want = reference.run(tflite, x).outputs.reshape(len(x), -1)
    want = np.ascontiguousarray(want).view(np.int8)  # the output's bytes (int32 indices too)
    elf = build_elf(tmp / "gen", tmp, main_c(x), cpu=cpu, opt="-O2", defines=defines)
    got = parse_outputs(run_qemu(elf, cpu, icount=False, timeout=120), len(x), want.shape[1])
    bad = [i for i in range(len(x)) if not np.array_equal(got[i], want[i])]
    assert not bad, f"{name} on {cpu}: samples {bad} differ from the reference"
    return elf


def check_c_program(source: str, tmp: Path, name: str = "null") -> None:
    """Compile ``source`` (a main calling the kernels' C API) with the kernels, host gcc
    ``-std=c99 -O2 -Wall -Wextra -Werror -pedantic``, and run it: it must print 0 (the
    count of failed checks) and exit 0."""
    (src := tmp / f"{name}.c").write_text(source)
    exe = tmp / name
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    *(f"-I{d}" for d in runtime_include_dirs()), str(src),
                    *map(str, kernel_sources()), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stdout
