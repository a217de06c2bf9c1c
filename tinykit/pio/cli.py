"""``tinykit flash``: build if needed and upload a firmware project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tinykit.boards import Board, resolve
from tinykit.errors import ExitCode, ProjectError, help_epilog
from tinykit.output import note, print_json, warn

if TYPE_CHECKING:
    from tinykit.pio.api import ProjectEnv

EPILOG = help_epilog(
    ["tinykit flash --board qemu-m4",
     "tinykit flash build/kws-esp32s3 --board esp32s3 --port /dev/ttyUSB0",
     "tinykit flash --board qemu-m4 --stop"],
    None, "bad project, missing tool or platform, build failed",
    extra="""For an emulated board (qemu-m4, qemu-m7, qemu-m33) "uploading" starts QEMU and prints
its serial port, a pyserial URL like socket://127.0.0.1:N, as if a board was
plugged in; the first client to connect sees the boot banner.""")


def find_project(board: Board, base: Path | None = None) -> Path:
    """The only ``build/*-<board>`` project under ``base`` (default: cwd)."""
    base = base or Path.cwd()
    found = sorted(p for p in (base / "build").glob(f"*-{board.id}") if (p / "platformio.ini").is_file())
    if len(found) == 1:
        return found[0]
    if not found:
        raise ProjectError(
            f"no project for board '{board.id}' in {base / 'build'}",
            hint=f"create one with `tinykit build ... --board {board.id}` or pass its folder",
        )
    names = ", ".join(p.name for p in found)
    raise ProjectError(f"{len(found)} projects for board '{board.id}' ({names})", hint="pass the folder to flash")


@click.command(epilog=EPILOG)
@click.argument("project", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--board", "board_id", required=True,
              help="Board id or alias (see `tinykit boards`), or a profile .toml.")
@click.option("--port", default=None, help="Serial port of a real board (passed to pio --upload-port).")
@click.option("--stop", is_flag=True, help="Stop the board's emulator instead of flashing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report.")
@click.pass_context
def flash(ctx: click.Context, project: Path | None, board_id: str, port: str | None, stop: bool, as_json: bool) -> None:
    """Build (if needed) and upload PROJECT to a board.

    PROJECT defaults to the only build/*-BOARD folder.
    """
    from tinykit.pio import api, qemu

    board = resolve(board_id)
    if stop:
        stopped = qemu.stop(board)
        if as_json:
            print_json({"board": board.id, "stopped": stopped})
        else:
            note(f"{board.id}: emulator stopped" if stopped else f"{board.id}: no emulator running")
        ctx.exit(ExitCode.OK)

    project_dir = project or find_project(board)
    if port and board.emulated:
        warn(f"--port is ignored for emulated board {board.id}")
    note(f"flashing {project_dir} to {board.id} ...")
    penv = _project_env(project_dir, board)
    if not board.emulated and not port and board.platformio.upload_protocol not in PROBE_UPLOADS:
        from tinykit.pio.ports import find_board_port

        api._check_platform(penv)  # a missing platform first: it can be fixed before plugging in
        port = find_board_port(board)  # by the board's USB VID:PID, as `pio device list` shows it
        note(f"{board.id}: found on {port}")
    result = api.upload(project_dir, port=None if board.emulated else port, environment=penv.name)
    if as_json:
        model, digest = _project_model(project_dir)
        print_json({"board": result.board, "port": result.port, "pid": result.pid, "elf": str(result.elf)},
                   model=model, model_hash=digest)
    else:
        if result.pid is not None:
            note(f"{result.board}: QEMU pid {result.pid}; stop: `tinykit flash --stop --board {board.id}`")
        if result.port:
            click.echo(result.port)
        else:
            note(f"{result.board}: uploaded {result.elf}")
    ctx.exit(ExitCode.OK)


# upload protocols that go through a debug probe or DFU, not the serial port: PlatformIO finds them
PROBE_UPLOADS = frozenset({"stlink", "dfu", "jlink", "cmsis-dap", "blackmagic", "mbed"})


def _project_model(project_dir: Path) -> tuple[str | None, str | None]:
    """(model, model_hash) from the report `tinykit build` left in the project, if any."""
    import json

    try:
        saved = json.loads((project_dir / "tinykit-build.json").read_text())
        return saved.get("model"), saved.get("model_hash")
    except (OSError, ValueError, AttributeError):
        return None, None


def _project_env(project_dir: Path, board: Board) -> ProjectEnv:
    """The project's [env:<board id>], else its only env, checked against the board."""
    from tinykit.pio.api import read_project

    try:
        penv = read_project(project_dir, board.id)
    except ProjectError:
        penv = read_project(project_dir)
    if penv.board is not None and penv.board.id != board.id:
        raise ProjectError(
            f"{project_dir} is a project for board '{penv.board.id}', not '{board.id}'",
            hint=f"use --board {penv.board.id} or another folder",
        )
    return penv
