"""``tinykit run``: one inference on a board over serial (thin command over
:func:`tinykit.serial.run.run_once`)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from tinykit.errors import ExitCode, help_epilog
from tinykit.output import note, out, print_json
from tinykit.serial.run import RunConfig, RunReport, run_once

EPILOG = help_epilog(
    ["tinykit run --board qemu-m4 --input sample.npy --model kws.tflite",
     "tinykit run --port /dev/ttyACM0 --input sample.npy --layers --json"],
    None, "no device, wrong model on the device, bad input, lost connection")


def _print(r: RunReport) -> None:
    d = r.device
    out.print(f"device  {d.name} (hash {d.hash}, {d.runtime}) on {d.board}, firmware {d.firmware}")
    with np.printoptions(precision=4, suppress=True, threshold=64):
        out.print(f"output  {r.output.dtype} {list(r.output.shape)} {r.output.reshape(-1)}")
        if r.output_real is not None:
            out.print(f"real    {r.output_real.reshape(-1)}")
    if r.argmax is not None:
        out.print(f"argmax  {r.argmax}")
    out.print(f"latency {r.device_us} µs on the device, round trip {r.round_trip_ms:.1f} ms")
    for t in r.layers or ():
        out.print(f"  layer {t.index:3d} {t.op:20} {t.us:>9} µs  {t.name}")


@click.command(epilog=EPILOG)
@click.option("--port", "-p", help="Serial port or pyserial URL (/dev/ttyACM0, socket://host:N).")
@click.option("--board", "-b", help="Board id; an emulated board (qemu-m4) finds its emulator.")
@click.option("--input", "-i", "input_path", required=True, type=click.Path(path_type=Path),
              help="Input .npy/.npz: int8 as is, float quantized with the device's input scale.")
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path),
              help="Save the raw output array as .npy.")
@click.option("--model", "-m", type=click.Path(path_type=Path),
              help="Check the device runs this .tflite (by hash).")
@click.option("--baud", default=115200, show_default=True)
@click.option("--timeout", default=2.0, show_default=True, help="Seconds per request.")
@click.option("--retries", default=3, show_default=True, help="Resends per request.")
@click.option("--layers", is_flag=True, help="Also show the device time of every layer.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report to stdout.")
@click.pass_context
def run(ctx: click.Context, port: str | None, board: str | None, input_path: Path,
        output_path: Path | None, model: Path | None, baud: int, timeout: float, retries: int,
        layers: bool, as_json: bool) -> None:
    """Run one inference on a board running tinykit firmware: prints the
    output (argmax for a classifier) and the latency measured on the device."""
    from tinykit.pio.ports import resolve_port  # --board -> its emulator's port

    cfg = RunConfig(input_path, resolve_port(port, board), model, output_path, baud, timeout, retries,
                    layers)
    report = run_once(cfg)
    if report.quantized_input:
        s = report.device.input
        note(f"float input quantized to {s.dtype} with the device's scale {s.scale:g} "
             f"and zero point {s.zero_point}")
    if report.device.board and board and report.device.board != board:
        note(f"the device reports board {report.device.board}, not {board}")
    if as_json:
        print_json(report.to_dict())
    else:
        _print(report)
    ctx.exit(ExitCode.OK)
