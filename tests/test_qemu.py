"""tinykit.pio.qemu: the emulator lifecycle with real qemu-system-arm.

The firmware is compiled here directly with arm-none-eabi-gcc and the
tinykit-qemu linker script (no PlatformIO), so these tests only exercise the
emulator side; tests/test_pio.py covers the PlatformIO path."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from emulators import live_qemus, private_emulators
from test_pio import HELLO_MAIN

from tinykit.errors import BoardError, ToolError
from tinykit.pio import api, qemu
from tinykit.resources import firmware_dir

pytestmark = pytest.mark.emu  # QEMU; setting/argument checks: unit, the arm-gcc-only one: host

FLAGS = {
    "qemu-m4": ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "qemu-m7": ["-mcpu=cortex-m7", "-mfloat-abi=hard", "-mfpu=fpv5-d16"],
    "qemu-m33": ["-mcpu=cortex-m33", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"],
}
LDSCRIPTS = {"qemu-m33": "mps2_an505.ld"}  # the others: mps2.ld


def compile_hello(out: Path, board_id: str) -> Path:
    fw = firmware_dir()
    main_c = out.parent / "main.c"
    main_c.write_text(HELLO_MAIN)
    cmd = [
        "arm-none-eabi-gcc",
        "-std=c99",
        "-Os",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-ffunction-sections",
        "-fdata-sections",
        "-mthumb",
        *FLAGS[board_id],
        f"-I{fw / 'include'}",
        str(main_c),
        *(str(p) for p in sorted((fw / "hal" / "qemu").glob("*.c"))),
        "-T",
        str(fw / "platform" / "ldscripts" / LDSCRIPTS.get(board_id, "mps2.ld")),
        "-Wl,--gc-sections",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-nostartfiles",
        "-o",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("qemu")
    with private_emulators(root / "state", str(root)):
        yield root


@pytest.fixture(scope="module")
def elves(state: Path) -> dict[str, Path]:
    result = {}
    for board_id in FLAGS:
        (state / board_id).mkdir()
        result[board_id] = compile_hello(state / board_id / "hello.elf", board_id)
    return result


def banner(url: str) -> str:
    with serial.serial_for_url(url, timeout=10) as port:
        return port.readline().decode(errors="replace").strip()


@pytest.mark.parametrize("board_id", sorted(FLAGS))
def test_start_running_stop(board_id: str, elves: dict[str, Path], state: Path) -> None:
    emu = qemu.start(board_id, elves[board_id])
    try:
        assert emu.url == f"socket://127.0.0.1:{emu.port}" and emu.port > 0
        assert emu.icount == "shift=0"
        assert qemu.running(board_id) == emu
        assert (state / "state" / f"qemu-{board_id}.json").is_file()
        assert banner(emu.url) == f"tinykit hello {board_id}"  # the first client sees the banner
        with serial.serial_for_url(emu.url, timeout=10) as port:  # reconnecting reaches the same firmware
            port.write(b"xyz")
            assert port.read(3) == b"yz{"
    finally:
        assert qemu.stop(board_id) is True
    assert qemu.running(board_id) is None
    assert emu.pid not in live_qemus("")
    assert qemu.stop(board_id) is False


def test_start_again_replaces_and_stop_all(elves: dict[str, Path]) -> None:
    first = qemu.start("qemu-m4", elves["qemu-m4"])
    other = qemu.start("qemu-m7", elves["qemu-m7"])
    second = qemu.start("qemu", elves["qemu-m4"])  # alias of qemu-m4
    live = live_qemus("")
    assert first.pid not in live and second.pid in live and other.pid in live
    assert banner(second.url) == "tinykit hello qemu-m4"
    assert sorted(qemu.stop_all()) == ["qemu-m4", "qemu-m7"]
    live = live_qemus("")
    assert second.pid not in live and other.pid not in live


def test_emulator_survives_its_starter(elves: dict[str, Path]) -> None:
    """The upload command's process exits; the emulator keeps running."""
    out = subprocess.run(
        [sys.executable, "-m", "tinykit.pio.qemu", "start", "--board", "qemu-m7", "--elf", str(elves["qemu-m7"])],
        env=api.pio_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "RuntimeWarning" not in out.stderr
    emu = qemu.running("qemu-m7")
    assert emu is not None and out.stdout.strip() == emu.url
    try:
        assert banner(emu.url) == "tinykit hello qemu-m7"
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "tinykit.pio.qemu", "stop", "--board", "qemu-m7"],
            env=api.pio_env(),
            capture_output=True,
            text=True,
        )
    assert stopped.stdout.strip() == "stopped"
    assert emu.pid not in live_qemus("")


def test_without_icount(elves: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYKIT_QEMU_ICOUNT", "off")
    emu = qemu.start("qemu-m4", elves["qemu-m4"])
    try:
        assert emu.icount == "off"
        cmdline = Path(f"/proc/{emu.pid}/cmdline").read_bytes().split(b"\0")
        assert b"-icount" not in cmdline
        with serial.serial_for_url(emu.url, timeout=10) as port:
            assert port.readline().strip() == b"tinykit hello qemu-m4"
            port.write(b"\x01")
            words = port.readline().split()
            assert words[0] == b"us" and int(words[2]) > int(words[1])
    finally:
        qemu.stop("qemu-m4")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "expected"), [("0", "shift=0"), ("shift=3", "shift=3"), ("off", "off"), ("OFF", "off")]
)
def test_icount_setting(value: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYKIT_QEMU_ICOUNT", value)
    assert qemu.icount_setting() == expected


@pytest.mark.unit
@pytest.mark.parametrize("value", ["fast", "shift=x", "99"])
def test_bad_icount_setting_is_a_tool_error(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYKIT_QEMU_ICOUNT", value)
    with pytest.raises(ToolError, match="TINYKIT_QEMU_ICOUNT"):
        qemu.icount_setting()


@pytest.mark.host
def test_missing_qemu_names_the_apt_package(
    elves: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without qemu-system-arm
    with pytest.raises(ToolError) as exc:
        qemu.start("qemu-m4", elves["qemu-m4"])
    assert exc.value.format_message() == ("qemu-system-arm is not installed (sudo apt-get install qemu-system-arm)")


@pytest.mark.unit
def test_bad_inputs_are_clear_errors(state: Path) -> None:
    with pytest.raises(BoardError, match="real hardware"):
        qemu.start("esp32s3", state / "x.elf")
    with pytest.raises(BoardError, match="unknown board|no board|not a board|Unknown"):
        qemu.start("no-such-board", state / "x.elf")
    with pytest.raises(ToolError, match="does not exist"):
        qemu.start("qemu-m4", state / "missing.elf")
    garbage = state / "garbage.elf"
    garbage.write_bytes(b"not an elf")
    with pytest.raises(ToolError, match="not a 32-bit Arm ELF"):
        qemu.start("qemu-m4", garbage)
    with pytest.raises(ToolError, match="not a 32-bit Arm ELF"):
        qemu.start("qemu-m4", Path(sys.executable).resolve())  # an ELF, but not for Arm
    assert qemu.running("qemu-m4") is None
