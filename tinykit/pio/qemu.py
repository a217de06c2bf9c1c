"""Emulated boards: qemu-system-arm started like plugging in a board.

``start(board, elf)`` runs QEMU detached (own session, survives tinykit and
``pio``), with the board's CMSDK UART0 on a loopback TCP socket that pyserial
opens as ``socket://127.0.0.1:N``. QEMU listens with ``wait=on``: the guest
only starts running when the first client connects, so that client sees the
firmware's boot banner. Later clients reconnect to the running firmware (and
miss the banner, as with a real board's USB serial).

``port_for_board(board)`` is how ``tinykit run/test --board`` find it.

One emulator per board: its state (pid, port, elf, log) is a JSON file in
``$TINYKIT_STATE_DIR`` (default ``~/.cache/tinykit``); starting a board again
stops the old emulator first.

``-icount shift=N`` (default 0: one instruction = 1 ns of virtual time) makes
SysTick timing deterministic; ``$TINYKIT_QEMU_ICOUNT=off`` runs without it.

Command line (used by the tinykit-qemu platform's upload target)::

    python -m tinykit.pio.qemu start --board qemu-m4 --elf firmware.elf
    python -m tinykit.pio.qemu stop --board qemu-m4
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tinykit.boards import Board, resolve
from tinykit.errors import BoardError, DeviceError, TinykitError, ToolError

QEMU = "qemu-system-arm"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
_LISTEN = re.compile(r"disconnected:tcp:127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class Emulator:
    pid: int
    port: int
    url: str  # pyserial URL, "socket://127.0.0.1:N"
    board: str
    elf: str
    log: str
    icount: str  # "shift=0", or "off"


def state_dir() -> Path:
    return Path(os.environ.get("TINYKIT_STATE_DIR") or Path.home() / ".cache" / "tinykit")


def _state_file(board_id: str) -> Path:
    return state_dir() / f"qemu-{board_id}.json"


def _emulated(board: Board | str) -> Board:
    b = resolve(board)
    if b.qemu is None:
        raise BoardError(
            f"board '{b.id}' is real hardware, not emulated",
            hint="use --board qemu-m4, qemu-m7 or qemu-m33",
        )
    return b


def qemu_path() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise ToolError(f"{QEMU} is not installed", hint="sudo apt-get install qemu-system-arm")
    return path


def parse_icount(value: str) -> str:
    """Normalize an -icount choice: "shift=N" (N in 0..10) or "off".

    >>> parse_icount("0"), parse_icount("shift=3"), parse_icount("OFF")
    ('shift=0', 'shift=3', 'off')
    """
    value = value.strip().lower()
    if value in ("off", "no", "none", ""):
        return "off"
    shift = value.removeprefix("shift=")
    if not shift.isdigit() or int(shift) > 10:
        raise ToolError(f"TINYKIT_QEMU_ICOUNT={value!r} is not valid", hint="use a shift 0..10 or 'off'")
    return f"shift={int(shift)}"


def icount_setting() -> str:
    """The -icount value from ``$TINYKIT_QEMU_ICOUNT`` (default "shift=0")."""
    return parse_icount(os.environ.get("TINYKIT_QEMU_ICOUNT", "0"))


def qemu_args(board: Board, elf: Path, icount: str) -> list[str]:
    assert board.qemu is not None
    args = [
        qemu_path(),
        "-machine",
        board.qemu.machine,
        "-cpu",
        board.qemu.cpu,
        "-kernel",
        str(elf),
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "tcp:127.0.0.1:0,server=on,wait=on,nodelay=on",
    ]
    if icount != "off":
        args += ["-icount", icount]
    return args


# --- process checks -------------------------------------------------------------


def _reap(pid: int) -> None:
    """Collect our own child's exit status (no-op for others' processes)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _is_qemu(pid: int) -> bool:
    """True when pid is alive (not a zombie) and is qemu-system-arm."""
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state != "Z" and Path(cmdline[0].decode(errors="replace")).name == QEMU


def _kill(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
        if not _is_qemu(pid):
            return
        try:
            os.killpg(pid, sig)  # QEMU leads its own session/process group
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _is_qemu(pid):
            time.sleep(0.02)


# --- state ----------------------------------------------------------------------


def _load(board_id: str) -> Emulator | None:
    try:
        data = json.loads(_state_file(board_id).read_text())
        return Emulator(**data)
    except (OSError, ValueError, TypeError):
        return None


def running(board: Board | str) -> Emulator | None:
    """The board's emulator if it is still running, else None."""
    b = _emulated(board)
    emu = _load(b.id)
    if emu is None:
        return None
    if not _is_qemu(emu.pid):
        _state_file(b.id).unlink(missing_ok=True)
        return None
    return emu


def port_for_board(board: Board | str) -> str:
    """The serial URL of the emulator running ``board`` (what ``tinykit flash``
    started). DeviceError for a real board (its port cannot be found) or when no
    emulator runs."""
    b = resolve(board)
    if b.qemu is None:
        raise DeviceError(
            f"board {b.id} is real hardware: tinykit cannot find its serial port",
            hint="give --port, e.g. --port /dev/ttyACM0",
        )
    emu = running(b)
    if emu is None:
        raise DeviceError(f"no emulator running for {b.id}", hint=f"run tinykit flash --board {b.id}")
    return emu.url


def stop(board: Board | str) -> bool:
    """Stop the board's emulator; True when one was running."""
    b = _emulated(board)
    emu = _load(b.id)
    _state_file(b.id).unlink(missing_ok=True)
    if emu is None or not _is_qemu(emu.pid):
        return False
    _kill(emu.pid)
    return True


def stop_all() -> list[str]:
    """Stop every emulator in the state dir; the board ids that were running."""
    stopped = []
    for path in sorted(state_dir().glob("qemu-*.json")):
        board_id = path.stem[len("qemu-") :]
        try:
            if stop(board_id):
                stopped.append(board_id)
        except BoardError:
            path.unlink(missing_ok=True)
    return stopped


def _wait_listening(proc: subprocess.Popen, log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        match = _LISTEN.search(text)
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            last = text.strip().splitlines()[-1:] or ["no output"]
            raise ToolError(f"{QEMU} exited at start: {last[0]}", hint=f"see {log}")
        time.sleep(0.02)
    _kill(proc.pid)
    raise ToolError(f"{QEMU} did not open its serial socket", hint=f"see {log}")


def _check_elf(elf: Path) -> None:
    """QEMU would run any non-ELF file as a raw image; refuse it up front."""
    with open(elf, "rb") as fp:
        head = fp.read(20)
    # e_ident: magic, EI_CLASS 1 (32-bit), EI_DATA 1 (little endian); e_machine 40 = EM_ARM
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[4] != 1 or head[5] != 1 or head[18:20] != b"\x28\x00":
        raise ToolError(f"{elf} is not a 32-bit Arm ELF file", hint="pass the firmware.elf that `pio run` built")


def start(board: Board | str, elf: Path | str) -> Emulator:
    """Start the board's emulator on ``elf`` (stopping an old one first)."""
    b = _emulated(board)
    elf = Path(elf).resolve()
    if not elf.is_file():
        raise ToolError(f"firmware {elf} does not exist", hint="build the project first")
    _check_elf(elf)
    icount = icount_setting()
    args = qemu_args(b, elf, icount)
    stop(b)
    state_dir().mkdir(parents=True, exist_ok=True)
    log = state_dir() / f"qemu-{b.id}.log"
    with open(log, "wb") as fp:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=fp,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: survives pio and tinykit
            close_fds=True,
        )
    port = _wait_listening(proc, log)
    emu = Emulator(
        pid=proc.pid,
        port=port,
        url=f"socket://127.0.0.1:{port}",
        board=b.id,
        elf=str(elf),
        log=str(log),
        icount=icount,
    )
    tmp = _state_file(b.id).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(emu), indent=2))
    tmp.replace(_state_file(b.id))
    return emu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinykit.pio.qemu")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start (or restart) a board's emulator")
    p_start.add_argument("--board", required=True)
    p_start.add_argument("--elf", required=True)
    p_stop = sub.add_parser("stop", help="stop a board's emulator")
    p_stop.add_argument("--board", required=True)
    sub.add_parser("stop-all", help="stop every emulator")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "start":
            emu = start(args.board, args.elf)
            print(f"QEMU {emu.board} running (pid {emu.pid}); serial: {emu.url}", file=sys.stderr)
            print(emu.url)
        elif args.cmd == "stop":
            print("stopped" if stop(args.board) else "not running")
        else:
            print(" ".join(stop_all()) or "none running")
    except TinykitError as exc:
        print(f"tinykit: error: {exc.format_message()}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
