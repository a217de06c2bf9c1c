"""tinykit.pio: real PlatformIO builds with the tinykit-qemu platform, real
uploads that start real QEMU, real serial bytes over pyserial."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from click.testing import CliRunner
from emulators import live_qemus, private_emulators

from tinykit.boards import get_board
from tinykit.errors import ProjectError, ToolError
from tinykit.pio import api, qemu
from tinykit.pio.cli import flash
from tinykit.pio.scons import ensure_tool_scons, pio_scons_version
from tinykit.resources import firmware_dir

pytestmark = pytest.mark.emu  # PlatformIO builds, QEMU uploads; the checks before pio runs: unit

BOARDS = ["qemu-m4", "qemu-m7", "qemu-m33"]
SERIAL_TIMEOUT_S = 30  # a deadline, not a wait: generous for a loaded CI machine

# The hello firmware: a one-line banner, then every byte comes back + 1;
# byte 0x01 asks for tk_hal_micros() before and after a busy loop.
HELLO_MAIN = r"""
#include "tinykit.h"

static void put(const char *s) {
  size_t n = 0;
  while (s[n] != '\0') {
    n++;
  }
  tk_hal_write((const uint8_t *)s, n);
}

static void put_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = '\0';
  do {
    buf[--i] = (char)('0' + (v % 10u));
    v /= 10u;
  } while (v != 0u);
  put(&buf[i]);
}

int main(void) {
  tk_hal_init();
  put("tinykit hello ");
  put(tk_hal_board());
  put("\n");
  for (;;) {
    int c = tk_hal_read();
    if (c < 0) {
      continue;
    }
    if (c == 0x01) {
      volatile uint32_t n;
      uint32_t before = tk_hal_micros();
      uint32_t after;
      for (n = 0; n < 200000u; n++) {
      }
      after = tk_hal_micros();
      put("us ");
      put_u32(before);
      put(" ");
      put_u32(after);
      put("\n");
    } else {
      uint8_t b = (uint8_t)(c + 1);
      tk_hal_write(&b, 1);
    }
  }
}
"""


def write_hello_project(root: Path, board_id: str, main_c: str = HELLO_MAIN) -> Path:
    """A PlatformIO project for an emulated board: HAL + header + main.c in src/."""
    board = get_board(board_id)
    root.mkdir(parents=True, exist_ok=True)
    (root / "platformio.ini").write_text(
        f"[env:{board.id}]\n"
        f"platform = {api.platform_dir()}\n"
        f"board = {board.platformio.board}\n"
        "upload_protocol = custom\n"
        f"upload_command = {api.qemu_upload_command(board.id)}\n"
        "test_framework = custom\n"
    )
    src = root / "src"
    src.mkdir(exist_ok=True)
    for path in (firmware_dir() / "hal" / "qemu").glob("*.c"):
        shutil.copy(path, src / path.name)
    shutil.copy(firmware_dir() / "include" / "tinykit.h", src / "tinykit.h")
    (src / "main.c").write_text(main_c)
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A module tmp dir that is also the emulator state dir; every emulator
    started here is stopped at the end, and none may survive."""
    root = tmp_path_factory.mktemp("pio")
    with private_emulators(root / "state", str(root)):
        yield root


@pytest.fixture(scope="module")
def projects(workdir: Path) -> dict[str, Path]:
    return {b: write_hello_project(workdir / f"hello-{b}", b) for b in BOARDS}


@pytest.fixture(scope="module")
def builds(projects: dict[str, Path]) -> dict[str, api.BuildResult]:
    return {b: api.build(p) for b, p in projects.items()}


def read_banner(port: serial.SerialBase) -> str:
    line = port.readline().decode(errors="replace")
    assert line.endswith("\n"), f"no banner within {SERIAL_TIMEOUT_S} s: {line!r}"
    return line.strip()


def open_port(url: str) -> serial.SerialBase:
    return serial.serial_for_url(url, timeout=SERIAL_TIMEOUT_S)


# --- tool-scons -------------------------------------------------------------------


def test_tool_scons_is_seeded_where_platformio_looks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(tmp_path / "core"))
    monkeypatch.delenv("PLATFORMIO_PACKAGES_DIR", raising=False)
    pkg = ensure_tool_scons()
    assert pkg == tmp_path / "core" / "packages" / "tool-scons"
    meta = json.loads((pkg / ".piopm").read_text())
    import SCons

    assert meta["version"] == pio_scons_version(SCons.__version__)
    assert meta["spec"]["owner"] == "platformio"
    stamp = (pkg / ".piopm").stat().st_mtime_ns
    assert ensure_tool_scons() == pkg
    assert (pkg / ".piopm").stat().st_mtime_ns == stamp  # idempotent: not rewritten
    # PlatformIO's own package manager accepts it (no install attempted).
    code = (
        "from platformio.package.manager.core import get_core_package_dir;"
        "print(get_core_package_dir('tool-scons', auto_install=False))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=api.pio_env(), capture_output=True, text=True)
    assert out.stdout.strip() == str(pkg), out.stderr
    version = subprocess.run([sys.executable, str(pkg / "scons.py"), "--version"], capture_output=True, text=True)
    assert SCons.__version__ in version.stdout


# --- build ------------------------------------------------------------------------


@pytest.mark.parametrize("board_id", BOARDS)
def test_build_reports_the_elf_sizes(board_id: str, builds: dict[str, api.BuildResult]) -> None:
    result = builds[board_id]
    board = get_board(board_id)
    assert result.elf.is_file() and result.elf.name == "firmware.elf"
    assert result.elf.with_suffix(".bin").is_file()
    out = subprocess.run(["arm-none-eabi-size", "-B", "-d", str(result.elf)], capture_output=True, text=True)
    text, data, bss = (int(v) for v in out.stdout.splitlines()[1].split()[:3])
    assert (result.ram_bytes, result.flash_bytes) == (data + bss, text + data)
    assert (result.ram_max, result.flash_max) == (board.memory.ram_bytes, board.memory.flash_bytes)
    # PlatformIO printed the same figures in its usage lines.
    assert f"(used {data + bss} bytes from {board.memory.ram_bytes} bytes)" in result.log
    assert f"(used {text + data} bytes from {board.memory.flash_bytes} bytes)" in result.log


@pytest.mark.parametrize("board_id", BOARDS)
def test_build_uses_the_board_cpu_and_fpu(board_id: str, builds: dict[str, api.BuildResult]) -> None:
    out = subprocess.run(["arm-none-eabi-readelf", "-A", str(builds[board_id].elf)], capture_output=True, text=True)
    want = {"qemu-m4": "Tag_FP_arch: VFPv4-D16", "qemu-m7": "Tag_FP_arch: FPv5/FP-D16",
            "qemu-m33": "Tag_FP_arch: FPv5/FP-D16"}[board_id]
    assert "Tag_ABI_VFP_args: VFP registers" in out.stdout  # -mfloat-abi=hard
    assert want in out.stdout
    # M7: double precision; M4 and M33: single
    assert ("Tag_ABI_HardFP_use: SP only" in out.stdout) == (board_id != "qemu-m7")


def test_build_failure_names_the_first_compiler_error(workdir: Path) -> None:
    bad = write_hello_project(workdir / "bad", "qemu-m4", HELLO_MAIN.replace('put("\\n");', "put(1);", 1))
    with pytest.raises(ToolError) as exc:
        api.build(bad)
    message = exc.value.format_message()
    assert "error:" in message and "main.c" in message
    assert str(bad / ".pio" / "tinykit-build.log") in message


# --- upload: QEMU as the board ---------------------------------------------------


@pytest.mark.parametrize("board_id", BOARDS)
def test_upload_starts_the_emulator_and_serial_works(
    board_id: str, projects: dict[str, Path], builds: dict[str, api.BuildResult]
) -> None:
    result = api.upload(projects[board_id])
    try:
        assert result.board == board_id
        assert re.fullmatch(r"socket://127\.0\.0\.1:\d+", result.port or "")
        assert qemu.running(board_id) is not None and qemu.running(board_id).pid == result.pid  # type: ignore[union-attr]
        with open_port(result.port or "") as port:
            assert read_banner(port) == f"tinykit hello {board_id}"
            payload = bytes(range(0, 255, 7))
            port.write(payload)
            assert port.read(len(payload)) == bytes(b + 1 for b in payload)
            port.write(b"\x01")
            line = port.readline().decode().split()
            assert line[0] == "us"
            before, after = int(line[1]), int(line[2])
            assert after > before
    finally:
        qemu.stop(board_id)
    assert qemu.running(board_id) is None


def test_second_upload_replaces_the_emulator(projects: dict[str, Path], builds: dict[str, api.BuildResult]) -> None:
    first = api.upload(projects["qemu-m4"])
    second = api.upload(projects["qemu-m4"])
    try:
        assert first.pid != second.pid
        assert first.pid not in live_qemus("")  # the old emulator is gone
        assert qemu.running("qemu-m4").pid == second.pid  # type: ignore[union-attr]
        with open_port(second.port or "") as port:
            assert read_banner(port) == "tinykit hello qemu-m4"
            port.write(b"A")
            assert port.read(1) == b"B"
    finally:
        qemu.stop("qemu-m4")


def test_flash_cli_prints_the_port_and_stop_stops_it(
    projects: dict[str, Path], builds: dict[str, api.BuildResult]
) -> None:
    runner = CliRunner()
    res = runner.invoke(flash, [str(projects["qemu-m7"]), "--board", "qemu-m7", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["board"] == "qemu-m7"
    emu = qemu.running("qemu-m7")
    assert emu is not None and (emu.url, emu.pid) == (report["port"], report["pid"])
    assert report["elf"] == str(builds["qemu-m7"].elf)
    with open_port(report["port"]) as port:
        assert read_banner(port) == "tinykit hello qemu-m7"
    res = runner.invoke(flash, ["--board", "qemu-m7", "--stop"])
    assert res.exit_code == 0, res.output
    assert qemu.running("qemu-m7") is None
    assert emu.pid not in live_qemus("")


def test_flash_finds_the_only_build_project(
    workdir: Path, projects: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = workdir / "cwd"
    write_hello_project(base / "build" / "kws-qemu-m4", "qemu-m4")
    monkeypatch.chdir(base)
    res = CliRunner().invoke(flash, ["--board", "qemu"])  # alias of qemu-m4
    try:
        assert res.exit_code == 0, res.output
        assert res.stdout.strip() == qemu.running("qemu-m4").url  # type: ignore[union-attr]
    finally:
        qemu.stop("qemu-m4")
    write_hello_project(base / "build" / "other-qemu-m4", "qemu-m4")
    res = CliRunner().invoke(flash, ["--board", "qemu-m4"])
    assert res.exit_code == 2
    assert "2 projects for board 'qemu-m4'" in res.output


@pytest.mark.unit
def test_flash_without_a_project_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(flash, ["--board", "qemu-m7"])
    assert res.exit_code == 2
    assert "no project for board 'qemu-m7'" in res.output
    assert "Traceback" not in res.output


@pytest.mark.unit
def test_flash_rejects_a_project_for_another_board(projects: dict[str, Path]) -> None:
    res = CliRunner().invoke(flash, [str(projects["qemu-m4"]), "--board", "qemu-m7"])
    assert res.exit_code == 2
    assert "project for board 'qemu-m4', not 'qemu-m7'" in res.output


# --- real boards without their platform: fail at once, never run pio --------------


@pytest.mark.unit
def test_real_board_without_platform_fails_without_running_pio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(tmp_path / "core"))
    monkeypatch.delenv("PLATFORMIO_PLATFORMS_DIR", raising=False)
    called: list[str] = []

    def no_pio() -> list[str]:
        called.append("pio")
        raise AssertionError("pio must not run")

    monkeypatch.setattr(api, "pio_command", no_pio)
    project = tmp_path / "esp"
    (project / "src").mkdir(parents=True)
    (project / "platformio.ini").write_text(
        "[env:esp32s3]\nplatform = espressif32\nboard = esp32-s3-devkitc-1\nframework = arduino\n"
    )
    for action in (api.build, api.upload):
        with pytest.raises(ToolError) as exc:
            action(project)
        assert exc.value.format_message() == (
            "PlatformIO platform 'espressif32' is not installed "
            "(connect to the internet and run: pio pkg install -g -p espressif32)"
        )
    res = CliRunner().invoke(flash, [str(project), "--board", "esp32s3"])
    assert res.exit_code == 2 and "'espressif32' is not installed" in res.output
    assert called == []


@pytest.mark.unit
def test_project_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no platformio.ini"):
        api.build(tmp_path)
    (tmp_path / "platformio.ini").write_text("[env:a]\nplatform = x\nboard = y\n[env:b]\nplatform = x\nboard = y\n")
    with pytest.raises(ProjectError, match=r"has 2 environments \(a, b\)"):
        api.build(tmp_path)


@pytest.mark.unit
def test_pio_env_is_offline_safe() -> None:
    env = api.pio_env()
    assert env["PLATFORMIO_SETTING_ENABLE_TELEMETRY"] == "no"
    assert env["PLATFORMIO_DISABLE_UPGRADE_CHECK"] == "true"
    root = str(Path(api.__file__).resolve().parents[2])
    assert env["PYTHONPATH"].split(os.pathsep)[0] == root
    assert Path(api.pio_command()[0]).exists()
