"""``tinykit predict``: host inference with the bit-exact TFLM reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from tinykit.errors import TinykitError, help_epilog
from tinykit.output import file_hash, note, out, print_json

MAX_ROWS = 20  # samples shown in the table; -o or --json give them all
MAX_VALUES = 8  # values shown per sample


@click.command(epilog=help_epilog(
    ["tinykit predict kws.tflite --input x.npy",
     "tinykit predict kws.tflite --input x.npz -o y.npy --dequantize"],
    None, "bad model or input"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path),
              help="Samples (.npy/.npz): int8 (used as is) or float (quantized here).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write the outputs to this .npy (the model's output dtype) instead of printing.")
@click.option("--dequantize", is_flag=True,
              help="Float outputs (dequantized): written with -o, else printed (table and --json).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def predict(ctx: click.Context, model: Path, input_path: Path, output: Path | None,
            dequantize: bool, as_json: bool) -> None:
    """Run MODEL (an int8 .tflite) on the samples in --input with the TFLM reference."""
    from tinykit.graph import load_tflite
    from tinykit.load import load_data
    from tinykit.reference.predict import predict as run_predict

    graph = load_tflite(model)  # one-line errors for missing/foreign/corrupt files
    data = load_data(input_path)
    result = run_predict(model.read_bytes(), data, graph.name, input_path.name)
    if result.input_quantized:
        note(f"{input_path.name}: float samples quantized with the model's input scale and "
             "zero point")
    values = result.real if dequantize else result.outputs
    if output is not None:
        try:
            np.save(output, values)
        except OSError as exc:
            raise TinykitError(f"{output}: cannot write: {exc.strerror}") from None
        if not as_json:
            note(f"wrote {output} {tuple(values.shape)} {values.dtype}")

    report: dict[str, Any] = {
        "model": str(model), "input": str(input_path), "samples": len(result.outputs),
        "input_dtype": result.input_dtype, "input_quantized": result.input_quantized,
        "output_dtype": result.output_dtype, "output_shape": list(result.outputs.shape[1:]),
        "us_per_inference": round(result.us_per_inference, 1),
        "argmax": None if result.argmax is None else result.argmax.tolist(),
        "dequantized": dequantize,
    }
    if output is not None:
        report["output_file"] = str(output)
    else:  # --dequantize: "outputs" are the float values
        report["outputs"] = np.round(result.real, 6).tolist() if dequantize else result.outputs.tolist()
        report["outputs_real"] = np.round(result.real, 6).tolist()
    if as_json:
        print_json(report, model_hash=file_hash(model))
    elif output is None:
        _table(result.outputs, result.real, result.argmax,
               "float32" if dequantize else result.output_dtype)
    ctx.exit(0)


def _row(values: np.ndarray, digits: int) -> str:
    flat = values.reshape(-1)
    shown = ", ".join(f"{v:.{digits}f}" if digits else str(int(v)) for v in flat[:MAX_VALUES])
    return shown + (f", ... ({flat.size} values)" if flat.size > MAX_VALUES else "")


def _table(raw: np.ndarray, real: np.ndarray, argmax: np.ndarray | None, dtype: str) -> None:
    from rich.table import Table

    t = Table()
    t.add_column("#", justify="right")
    if argmax is not None:
        t.add_column("class", justify="right")
        t.add_column("score", justify="right")
    quantized = dtype != "float32"
    if quantized:
        t.add_column(f"output ({dtype})")
    t.add_column("output (real)")
    for i in range(min(len(raw), MAX_ROWS)):
        cells = [str(i)]
        if argmax is not None:
            cells += [str(int(argmax[i])), f"{real[i].reshape(-1)[argmax[i]]:.4f}"]
        if quantized:
            cells.append(_row(raw[i], 0))
        cells.append(_row(real[i], 4))
        t.add_row(*cells)
    out.print(t)
    if len(raw) > MAX_ROWS:
        note(f"... {len(raw) - MAX_ROWS} more samples (use -o y.npy or --json for all)")
