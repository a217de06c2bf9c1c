"""The root command: it only lists the verbs. Each verb lives in its
stage's package (``tinykit/<stage>/cli.py``) and is imported on use, so
``tinykit analyze`` never pays for TensorFlow."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback

import click

from tinykit import __version__
from tinykit.errors import ExitCode

# verb -> (module, attribute)
VERBS: dict[str, tuple[str, str]] = {
    "boards": ("tinykit.boards.cli", "boards"),
    "quantize": ("tinykit.quantize.cli", "quantize"),
    "analyze": ("tinykit.analyze.cli", "analyze"),
    "predict": ("tinykit.reference.cli", "predict"),
    "verify": ("tinykit.verify.cli", "verify"),
    "build": ("tinykit.project.cli", "build"),
    "flash": ("tinykit.pio.cli", "flash"),
    "run": ("tinykit.serial.cli", "run"),
    "test": ("tinykit.hil.cli", "test"),
    "report": ("tinykit.report.cli", "report"),
}

EPILOG = """\b
Exit codes (every verb):
  0    ok
  1    the check failed (over budget, not bit-exact, HIL mismatch)
  2    error (bad input, usage, missing tool, device not answering)
  130  interrupted (Ctrl-C): the run stops, what it measured is kept

\b
Examples:
  tinykit build kws.tflite --board qemu-m4 --compile && tinykit flash --board qemu-m4
  tinykit test kws.tflite --board qemu-m4 --json hil.json
"""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [v for v in VERBS if self._available(v)]

    @staticmethod
    def _available(verb: str) -> bool:
        module = VERBS[verb][0]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS or not self._available(name):
            return None
        module, attr = VERBS[name]
        return getattr(importlib.import_module(module), attr)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["tinykit.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        """Under ``--json`` an error is also a JSON object on stdout (README "JSON output")."""
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            from tinykit.output import json_requested, print_error_json

            if json_requested(ctx.meta.get("tinykit.args", [])):
                print_error_json(exc)
            raise


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinykit")
def cli() -> None:
    """tinykit: trained model -> int8 -> C -> firmware -> board, tested over serial."""


def main() -> None:
    """Run a verb. Click's standalone mode would turn Ctrl-C into "Aborted!" and
    exit 1 (which reads as a failed check), so errors and exit codes are handled
    here: a known error is one line and exit 2 (1 for a failed check), Ctrl-C is
    exit 130."""
    try:
        code = cli.main(prog_name="tinykit", standalone_mode=False)
    except (KeyboardInterrupt, click.Abort):
        click.echo("tinykit: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:  # TinykitError and usage errors
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception:  # an unknown exception is a bug
        traceback.print_exc()
        click.echo(
            "tinykit: internal error (a bug): please report it with the traceback above",
            err=True,
        )
        sys.exit(ExitCode.ERROR)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


if __name__ == "__main__":
    main()
