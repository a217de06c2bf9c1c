"""``tinykit report MODEL.tflite -o report.html``: thin command over
:func:`tinykit.report.api.write_report`."""

from __future__ import annotations

from pathlib import Path

import click

from tinykit.analyze.api import RUNTIMES
from tinykit.errors import ExitCode
from tinykit.output import human_bytes, note, print_json
from tinykit.report.api import FILENAME, ReportConfig, write_report

EPILOG = """\b
Exit codes:
  0    the report was written (also when the model is over a budget: the page says so)
  2    error (bad model, unknown board, unreadable or mismatching JSON, no TensorFlow for --keras)
  130  interrupted (Ctrl-C)
"""


@click.command(epilog=EPILOG)
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", help="Board id or alias, a profile .toml, or 'all' (every shipped board): "
              "adds the Budgets section.")
@click.option("--runtime", type=click.Choice(RUNTIMES), default="aot", show_default=True,
              help="The runtime whose support and budgets are shown.")
@click.option("--keras", type=click.Path(path_type=Path),
              help="The float model MODEL was quantized from (.keras/.h5/SavedModel): adds the Quantization "
              "section (needs --data; imports TensorFlow).")
@click.option("--data", type=click.Path(path_type=Path), help="Float samples (.npy/.npz) for --keras.")
@click.option("--samples", default=8, show_default=True, help="How many --data samples --keras compares.")
@click.option("--layers", "layers_json", type=click.Path(path_type=Path),
              help="JSON of `tinykit run --model MODEL --layers --json`: per-layer device time.")
@click.option("--hil", "hil_json", type=click.Path(path_type=Path),
              help="JSON of `tinykit test MODEL --json-file PATH`: latency histogram, throughput, mismatches.")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=Path(FILENAME), show_default=True,
              help="The HTML file to write.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_context
def report(ctx: click.Context, model: Path, board: str | None, runtime: str, keras: Path | None,
           data: Path | None, samples: int, layers_json: Path | None, hil_json: Path | None, out: Path,
           as_json: bool) -> None:
    """One self-contained HTML page for an int8 MODEL.tflite: summary, layers and the
    memory plan drawn, plus budgets (--board), device speed (--layers, --hil) and
    quantization error per layer (--keras with --data). The page makes no network
    request. Prints the file's path.

    \b
    Example:
      tinykit report kws.tflite --board all -o report.html
      tinykit report kws.tflite --board qemu-m4 --layers run.json --hil test.json
    """
    config = ReportConfig(board, runtime, keras, data, samples, layers_json, hil_json)
    result = write_report(model, config, out)
    if as_json:
        print_json({**result.to_dict(), "model": str(model)})
    else:
        click.echo(str(result.path))
        note(f"report: {human_bytes(result.bytes)} in {result.seconds:.1f} s; sections: "
             f"{', '.join(result.report.sections)}")
    ctx.exit(ExitCode.OK)
