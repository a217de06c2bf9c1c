"""``tinykit quantize``: trained model + calibration data -> int8 .tflite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tinykit.errors import CheckFailed, TinykitError, help_epilog
from tinykit.output import human_bytes, is_tty, note, out, print_json, warn

HELP_EPILOG = help_epilog(
    ["tinykit quantize kws.keras --data calib.npy -o kws.tflite --min-agreement 0.95",
     "tinykit quantize saved_model_dir --data calib.npz --io float -o model.tflite --json"],
    "agreement below --min-agreement (the model is still written)",
    "bad model or data, conversion failed",
    extra="""Agreement: the float model vs the int8 model (TFLM reference) on the
held-back data. Softmax outputs (rows of probabilities) are compared by
top-1 agreement, anything else by cosine similarity (and RMSE).""")


@click.command(epilog=HELP_EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="Calibration samples (.npy, or .npz with key x), float, (N, *input shape).")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Where to write the int8 .tflite.")
@click.option("--io", type=click.Choice(["int8", "float"]), default="int8", show_default=True,
              help="int8: int8 input/output tensors; float: float I/O around int8 ops.")
@click.option("--holdout", type=click.FloatRange(0.0, 1.0, max_open=True), default=0.2,
              show_default=True, help="Fraction of the data held back to measure agreement.")
@click.option("--seed", type=int, default=0, show_default=True, help="Shuffle seed for the split.")
@click.option("--min-agreement", type=click.FloatRange(0.0, 1.0), default=None,
              help="Fail (exit 1) when top-1 agreement (cosine for regressions) is below this.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def quantize(ctx: click.Context, model: Path, data: Path, output: Path, io: str, holdout: float,
             seed: int, min_agreement: float | None, as_json: bool) -> None:
    """Quantize MODEL (.keras, .h5 or SavedModel dir) to a full-integer int8 .tflite."""
    from tinykit.quantize.api import NotRunnable, QuantizeConfig
    from tinykit.quantize.api import quantize as run_quantize

    if not as_json and is_tty():
        note(f"quantizing {model.name} with {data.name} (TensorFlow, takes a few seconds)")
    try:
        result = run_quantize(model, data, QuantizeConfig(io=io, holdout=holdout, seed=seed))
    except NotRunnable as exc:  # converted, but not runnable as int8: written anyway, exit 1
        _write(output, exc.tflite)
        raise NotRunnable(f"{exc.message}; the .tflite was still written to {output}",
                          exc.tflite, exc.hint) from None
    _write(output, result.tflite)

    for w in result.warnings:
        warn(w)
    report: dict[str, Any] = {"model": str(model), "data": str(data), "output": str(output),
                              "io": io, **result.to_dict()}
    a = result.agreement
    passed = min_agreement is None or a.score >= min_agreement
    if as_json:  # model_hash: the int8 .tflite written to --output
        from tinykit.graph import model_hash

        print_json(report, model_hash=model_hash(result.tflite), ok=passed, exit_code=0 if passed else 1)
    else:
        _table(report)
    if not passed:
        raise CheckFailed(f"{a.metric} agreement {a.score:.4f} is below --min-agreement "
                          f"{min_agreement} (the model was still written to {output})")
    ctx.exit(0)


def _write(output: Path, tflite: bytes) -> None:
    try:
        output.write_bytes(tflite)
    except OSError as exc:
        raise TinykitError(f"{output}: cannot write: {exc.strerror}",
                           hint="check that the folder exists and is writable") from None


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(report: dict[str, Any]) -> None:
    from rich.table import Table

    a = report["agreement"]
    ratio = report["float_bytes"] / max(1, report["int8_bytes"])
    t = Table(title=f"{Path(report['model']).name} -> {report['output']}", show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("float32 .tflite", f"{human_bytes(report['float_bytes'])} ({report['float_bytes']} B)")
    t.add_row("int8 .tflite", f"{human_bytes(report['int8_bytes'])} ({report['int8_bytes']} B), "
              f"{ratio:.1f}x smaller")
    t.add_row("io", report["io"])
    t.add_row("calibration", f"{report['calibration_samples']} samples")
    on = "held-back" if a["on"] == "holdout" else "calibration (too few samples to hold any back)"
    t.add_row("agreement on", f"{a['samples']} {on} samples")
    if a["kind"] == "top1":
        t.add_row("top-1 agreement", _fmt(a["top1"]))
    t.add_row("cosine", _fmt(a["cosine"], 6))
    t.add_row("rmse", _fmt(a["rmse"], 6))
    t.add_row("time", f"{report['seconds']:.1f} s")
    out.print(t)
