"""``tinykit verify``: the generated C against TFLM, bit by bit."""

from __future__ import annotations

from pathlib import Path

import click

from tinykit.errors import ExitCode, help_epilog

HELP_EPILOG = help_epilog(
    ["tinykit verify kws.tflite", "tinykit verify kws.tflite --data x.npz --samples 0 --json"],
    "some output differs from TFLM (not bit-exact), or an op the AOT runtime cannot run",
    "bad or float model or data, missing gcc")


@click.command(epilog=HELP_EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--samples", "-n", default=20, show_default=True, type=int,
              help="Random int8 inputs to compare.")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Extra inputs (.npy, or .npz with key x; float data is quantized).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Keep the generated C, binaries and data in DIR.")
@click.pass_context
def verify(ctx: click.Context, model: Path, samples: int, data: Path | None, seed: int,
           as_json: bool, keep: Path | None) -> None:
    """Generate the AOT C for MODEL, compile it for the host and compare its
    outputs with the TFLM reference, bit by bit; report RAM, flash and speed."""
    from tinykit.verify.api import VerifyConfig
    from tinykit.verify.api import verify as run_verify
    from tinykit.verify.report import render

    report = run_verify(VerifyConfig(model, samples, data, seed, keep))
    render(report, as_json)
    ctx.exit(ExitCode.OK if report.bit_exact else ExitCode.CHECK_FAILED)
