"""`tinykit test`: thin command over :func:`tinykit.hil.api.run_hil`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tinykit.errors import help_epilog
from tinykit.hil.api import HilConfig, exit_code, run_hil
from tinykit.hil.result import Status
from tinykit.output import err, out, print_json

EPILOG = help_epilog(
    ["tinykit test kws.tflite --board qemu-m4 --samples 50 --junit hil.xml",
     "tinykit test kws.tflite --port /dev/ttyACM0 --data x.npy --labels y.npy --json"],
    "some output differs from the TFLM reference (a mismatch)",
    "bad model or data, no device, the device stopped answering")


@click.command("test", epilog=EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--port", "-p", help="Serial port or pyserial URL (/dev/ttyACM0, socket://127.0.0.1:N).")
@click.option("--board", "-b", help="With an emulated board and no --port: the emulator `tinykit flash` started.")
@click.option("--data", type=click.Path(path_type=Path), help="Input samples (.npy/.npz); random int8 if omitted.")
@click.option("--labels", type=click.Path(path_type=Path), help="Integer labels for --data (accuracy).")
@click.option("--samples", "-n", type=int, default=20, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--baud", type=int, default=115200, show_default=True)
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for each reply.")
@click.option("--retries", type=int, default=3, show_default=True, help="Resends per request (noisy links).")
@click.option("--junit", type=click.Path(path_type=Path), help="Write a JUnit XML report (updated as it runs).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report to stdout at the end.")
@click.option("--json-file", "json_path", type=click.Path(path_type=Path),
              help="Write the JSON report to a file, updated as it runs (kept when the run dies).")
@click.pass_context
def test(ctx: click.Context, model: Path, port: str | None, board: str | None, data: Path | None,
         labels: Path | None, samples: int, seed: int, baud: int, timeout: float, retries: int,
         junit: Path | None, as_json: bool, json_path: Path | None) -> None:
    """Run MODEL's samples on the device and compare each with the TFLM reference.

    Whenever the run stops early, the results measured so far are kept in
    --json-file/--junit and summed up: the device stopped answering (exit 2) or
    Ctrl-C (exit 130; the JSON says "stopped": "interrupted").
    """
    reports: list[tuple[str, Path]] = []
    if junit:
        reports.append(("junit", junit))
    if json_path:
        reports.append(("json", json_path))
    config = HilConfig(model, port, board, data, labels, samples, seed, baud, timeout, retries, tuple(reports))
    progress = Progress(TextColumn("[bold]HIL"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[status]}"), console=err, transient=True)
    task = None

    def on_case(case) -> None:  # noqa: ANN001 - the bar starts with the first answer
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task("hil", total=samples, status="")
        mark = "[green]ok[/]" if case.status == Status.PASSED else "[red]MISMATCH[/]"
        progress.update(task, advance=1, status=f"#{case.index} {case.device_us} us {mark}")

    try:
        suite = run_hil(config, on_case)
    finally:
        progress.stop()
    if as_json:
        code = exit_code(suite)
        print_json(suite.to_dict(), model=str(model), ok=code == 0, exit_code=code)
    else:
        _print(suite)
    ctx.exit(exit_code(suite))


def _print(suite) -> None:  # noqa: ANN001
    s = suite.summary()
    verdict = "[green]bit-exact[/]" if s["bit_exact"] else "[red]NOT bit-exact[/]"
    out.print(f"{suite.model} on {suite.port}: {s['samples']}/{s['planned']} samples, "
              f"{s['mismatches']} mismatches, {verdict}")
    if s["max_abs_diff"] is not None:
        out.print(f"max abs diff {s['max_abs_diff']}")
    if s["top1_agreement"] is not None:
        out.print(f"top-1 agreement {100 * s['top1_agreement']:.1f}%")
    if s["accuracy"] is not None:
        out.print(f"accuracy {100 * s['accuracy']:.1f}%")
    if s["latency_us"]:
        lat = s["latency_us"]
        out.print(f"device latency us: min {lat['min']:.0f}  median {lat['median']:.0f}  p95 {lat['p95']:.0f}")
    if s["throughput_per_s"]:
        out.print(f"throughput {s['throughput_per_s']:.1f} inferences/s (transfer included)")
    if suite.stopped:
        out.print(f"[red]stopped: {suite.stopped}[/]")
