"""The CLI contract (issue 11, items 3-6): custom board profiles everywhere,
`--arena psram` placing and budgeting the arena, build's agreement figures and
--min-agreement, --force, one-line errors, Ctrl-C = exit 130 on a real
subprocess, and every verb's --help with an example and the exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from polling import wait_for

from tinykit.boards import get_board, load_boards, resolve
from tinykit.cli import VERBS, cli
from tinykit.errors import BoardError, ExitCode

pytestmark = pytest.mark.unit  # CliRunner and subprocesses; gcc and TF conversions: host

TINYKIT = [sys.executable, "-m", "tinykit"]


def _profile(tmp_path: Path, name: str, base: str = "esp32s3", **replace: str) -> Path:
    """A shipped profile copied under a new file name, with text replaced."""
    text = get_board(base).source.read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def _one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == ExitCode.ERROR, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    return r.stderr


# --- item 3: custom boards ---------------------------------------------------------------


def test_profile_copied_under_a_new_name_works_everywhere(model_dir, tmp_path):
    """The id need not equal the file name: boards show, analyze and build accept it."""
    profile = _profile(tmp_path, "my-s3.toml")  # still says id = "esp32s3"
    r = CliRunner().invoke(cli, ["boards", "show", str(profile), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["board"]["source"] == str(profile)
    r = CliRunner().invoke(cli, ["analyze", str(model_dir / "ds_cnn.tflite"), "--board", str(profile)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "proj"
    r = CliRunner().invoke(cli, ["build", str(model_dir / "ds_cnn.tflite"), "--board", str(profile),
                                 "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["board"] == "esp32s3" and (out / "platformio.ini").is_file()


def test_shipped_profiles_are_still_found_by_file_name(tmp_path):
    _profile(tmp_path, "other-name.toml")
    with pytest.raises(BoardError, match="other-name.toml: field 'id' is 'esp32s3'; expected 'other-name'"):
        load_boards(tmp_path)


def test_arch_is_validated_with_a_suggestion(tmp_path):
    bad = _profile(tmp_path, "m77.toml", "qemu-m7", **{'arch = "cortex-m7"': 'arch = "cortex-m77"'})
    with pytest.raises(BoardError, match=r"m77.toml: field 'arch' is 'cortex-m77'; expected one of") as e:
        resolve(str(bad))
    assert "did you mean cortex-m7?" in e.value.format_message()
    r = subprocess.run([*TINYKIT, "boards", "show", str(bad)], capture_output=True, text=True)
    assert "field 'arch'" in _one_line_error(r)


def test_core_must_name_the_arch_core(tmp_path):
    bad = _profile(tmp_path, "mixed.toml", "qemu-m4", **{'core = "Cortex-M4"': 'core = "Cortex-M33"'})
    with pytest.raises(BoardError, match=r"field 'core' is 'Cortex-M33'; expected .*Cortex-M4"):
        resolve(bad)
    ok = _profile(tmp_path, "m4f.toml", "qemu-m4", **{'core = "Cortex-M4"': 'core = "Arm Cortex-M4F"'})
    assert resolve(ok).core == "Arm Cortex-M4F"


# --- item 4: --arena psram ----------------------------------------------------------------


def _small_sram_s3(tmp_path: Path, psram: int = 8388608) -> Path:
    """An ESP32-S3 whose SRAM budget (6 KiB) is below DS-CNN's 8640-byte AOT arena."""
    return _profile(tmp_path, "tiny-s3.toml", **{
        "ram_reserve_bytes = 196608": "ram_reserve_bytes = 518144",
        "bytes = 8388608\nnote": f"bytes = {psram}\nnote"})


def test_psram_arena_is_budgeted_against_psram_and_placed_in_the_c(model_dir, tmp_path):
    profile = _small_sram_s3(tmp_path)
    model = str(model_dir / "ds_cnn.tflite")
    r = CliRunner().invoke(cli, ["build", model, "--board", str(profile), "-o", str(tmp_path / "s"),
                                 "--json"])
    assert r.exit_code == ExitCode.CHECK_FAILED, r.output  # the arena does not fit SRAM
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["build", model, "--board", str(profile), "--arena", "psram",
                                 "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    budget = report["analyze"]["budget"]
    assert budget["psram"] == {"budget": 8388608, "used": 8640, "headroom": 8388608 - 8640,
                               "headroom_pct": 99.9, "fits": True, "known": True}
    memory = report["analyze"]["memory"]  # in SRAM: the kernels' stack and the protocol's buffers
    assert budget["ram"]["used"] == memory["stack_bytes"] + memory["protocol_bytes"] > 0
    assert budget["ram"]["budget"] == 6144 and budget["ram"]["fits"]
    assert memory["aot_ram_bytes"] == 8640
    assert report["analyze"]["arena"] == "psram" and report["ok"]
    model_c = (out / "src" / "model.c").read_text()
    assert "static int8_t tk_arena[8640] TK_ARENA_ATTR __attribute__((aligned(16)));" in model_c
    assert "-DTK_ARENA_IN_PSRAM=1" in (out / "platformio.ini").read_text()
    assert json.loads((out / "tinykit-build.json").read_text())["analyze"]["budget"]["psram"]["used"] == 8640


def test_tflm_arena_takes_the_placement_attribute_too(ds_cnn):
    from tinykit.graph import parse_tflite
    from tinykit.project.render import ProjectSpec, render_project

    spec = ProjectSpec(graph=parse_tflite(ds_cnn.tflite, "ds_cnn"), model_bytes=ds_cnn.tflite,
                       model_file="ds_cnn.tflite", board=get_board("esp32s3"), runtime="tflm",
                       arena="psram", tflm_arena_bytes=20000)
    files = render_project(spec).files
    src = files["src/tk_model_tflm.cpp"].decode()
    assert "alignas(16) uint8_t tk_tflm_arena[kArenaBytes] TK_ARENA_ATTR;" in src
    assert src.index("#define TK_ARENA_ATTR EXT_RAM_BSS_ATTR") < src.index("tk_tflm_arena[")
    assert "-DTK_ARENA_IN_PSRAM=1" in files["platformio.ini"].decode()


def test_psram_too_small_for_the_arena_fails_the_check(model_dir, tmp_path):
    profile = _small_sram_s3(tmp_path, psram=4096)
    r = CliRunner().invoke(cli, ["build", str(model_dir / "ds_cnn.tflite"), "--board", str(profile),
                                 "--arena", "psram", "-o", str(tmp_path / "p"), "--json"])
    assert r.exit_code == ExitCode.CHECK_FAILED, r.output
    assert "PSRAM over budget" in json.loads(r.stdout)["problem"]


def test_psram_on_a_board_without_psram_is_the_error_alone(model_dir, tmp_path):
    r = subprocess.run([*TINYKIT, "build", str(model_dir / "ds_cnn.tflite"), "--board", "nucleo-l4r5zi",
                        "--arena", "psram", "-o", str(tmp_path / "p")], capture_output=True, text=True)
    err = _one_line_error(r)
    assert "nucleo-l4r5zi has no PSRAM" in err and "warning" not in err and "slower" not in err
    assert not (tmp_path / "p").exists()


@pytest.mark.host
def test_rendered_psram_arena_lands_in_the_external_ram_section(model_dir, tmp_path):
    """Compile the rendered model.c with host gcc: with TK_ARENA_IN_PSRAM the arena is in
    ESP-IDF's .ext_ram.bss, without it in .bss. FAKE esp_attr.h: ESP-IDF is not installed
    here; the stand-in defines EXT_RAM_BSS_ATTR as ESP-IDF 5 does for a PSRAM build."""
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["build", str(model_dir / "ds_cnn.tflite"), "--board", "esp32s3",
                                 "--arena", "psram", "-o", str(out)])
    assert r.exit_code == 0, r.output
    fake = tmp_path / "fake_idf"
    fake.mkdir()
    (fake / "esp_attr.h").write_text(
        '#define EXT_RAM_BSS_ATTR __attribute__((section(".ext_ram.bss")))\n')
    sections = {}
    for name, flags in (("psram", ["-DTK_ARENA_IN_PSRAM=1", f"-I{fake}"]), ("sram", [])):
        obj = tmp_path / f"{name}.o"
        subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", *flags,
                        f"-I{out / 'src'}", str(out / "src" / "model.c"), "-o", str(obj)], check=True)
        table = subprocess.run(["objdump", "-t", str(obj)], capture_output=True, text=True,
                               check=True).stdout
        row = next(line.split() for line in table.splitlines() if line.endswith(" tk_arena"))
        sections[name] = (row[3], int(row[4], 16))
    assert sections == {"psram": (".ext_ram.bss", 8640), "sram": (".bss", 8640)}


# --- item 5: build --data keeps and prints quantize's figures ---------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny Keras models and float calibration data (TensorFlow: host tier)."""
    from tiny_models import tiny_models

    return tiny_models(tmp_path_factory.mktemp("tiny"))


@pytest.mark.host
def test_build_prints_agreement_and_honours_min_agreement(tiny, tmp_path):
    paths = tiny
    regressor, calib = str(paths["regressor"]), str(paths["calib"])
    r = subprocess.run([*TINYKIT, "build", regressor, "--board", "qemu-m4", "--data", calib,
                        "-o", str(tmp_path / "ok"), "--min-agreement", "0.5"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "agreement (float vs int8) cosine 0.9" in r.stdout
    saved = json.loads((tmp_path / "ok" / "tinykit-build.json").read_text())
    assert saved["quantize"]["agreement"]["kind"] == "regression"
    cosine = saved["quantize"]["agreement"]["cosine"]
    assert 0.5 < cosine < 1.0
    # the cosine of a quantized model is below 1: --min-agreement 1 fails the check (exit 1)
    r = subprocess.run([*TINYKIT, "build", regressor, "--board", "qemu-m4", "--data", calib,
                        "-o", str(tmp_path / "strict"), "--min-agreement", "1", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == ExitCode.CHECK_FAILED, r.stderr
    report = json.loads(r.stdout)
    assert report["problem"].startswith(f"cosine agreement {cosine:.4f} is below --min-agreement 1")
    assert report["quantize"]["agreement"]["cosine"] == cosine
    assert not (tmp_path / "strict" / "platformio.ini").exists()


def test_min_agreement_on_an_int8_model_is_an_error(model_dir, tmp_path):
    r = subprocess.run([*TINYKIT, "build", str(model_dir / "ds_cnn.tflite"), "--board", "qemu-m4",
                        "--min-agreement", "0.9", "-o", str(tmp_path / "p")], capture_output=True, text=True)
    assert "ds_cnn.tflite is already int8" in _one_line_error(r)


# --- item 6: exit codes and messages -------------------------------------------------------


def test_build_force_exits_0_and_reports_the_overrun_as_a_warning(model_dir, tmp_path):
    profile = _profile(tmp_path, "small-flash.toml", "qemu-m4", **{
        "flash_bytes = 2097152": "flash_bytes = 65536"})  # 32 KiB budget: DS-CNN needs more
    model = str(model_dir / "ds_cnn.tflite")
    out = tmp_path / "p"
    r = CliRunner().invoke(cli, ["build", model, "--board", str(profile), "-o", str(out), "--json"])
    assert r.exit_code == ExitCode.CHECK_FAILED and not (out / "platformio.ini").exists()
    assert "flash over budget" in json.loads(r.stdout)["problem"]
    r = CliRunner().invoke(cli, ["build", model, "--board", str(profile), "-o", str(out), "--force"])
    assert r.exit_code == 0, r.output
    assert "warning: flash over budget" in r.stdout and (out / "platformio.ini").is_file()
    report = json.loads((out / "tinykit-build.json").read_text())
    assert report["ok"] and report["exit_code"] == 0 and report["problem"] == ""
    assert len(report["warnings"]) == 1 and "flash over budget" in report["warnings"][0]


def test_build_on_a_directory_named_tflite_is_one_line(tmp_path):
    (tmp_path / "x.tflite").mkdir()
    r = subprocess.run([*TINYKIT, "build", str(tmp_path / "x.tflite"), "--board", "qemu-m4",
                        "-o", str(tmp_path / "p")], capture_output=True, text=True)
    assert "x.tflite: a directory, not a .tflite file" in _one_line_error(r)


@pytest.mark.host
def test_verify_a_float_model_says_quantize_first(tmp_path):
    from tinykit.quantize.convert import convert_float, import_tf

    tf = import_tf()
    inp = tf.keras.Input((8,))
    path = tmp_path / "float.tflite"
    path.write_bytes(convert_float(tf.keras.Model(inp, tf.keras.layers.Dense(3)(inp))))
    r = subprocess.run([*TINYKIT, "verify", str(path)], capture_output=True, text=True)
    assert "not int8-quantized" in _one_line_error(r) and "quantize first" in r.stderr


@pytest.mark.parametrize("verb", [*VERBS, "boards show"])
def test_every_verb_help_has_an_example_and_the_exit_codes(verb):
    r = CliRunner().invoke(cli, [*verb.split(), "--help"])
    assert r.exit_code == 0, r.output
    text = r.output
    assert "Example" in text and f"tinykit {verb.split()[0]} " in text.split("Example")[1]
    codes = text.split("Exit codes")[1]
    for code in ("0 ", "2 ", "130  interrupted (Ctrl-C)"):
        assert code in codes, (verb, codes)


def test_usage_error_is_exit_2_and_not_aborted():
    r = subprocess.run([*TINYKIT, "analyze", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "No such option" in r.stderr and "Traceback" not in r.stderr


class SilentDevice:
    """A serial-over-TCP "board" that accepts the connection and never answers: a device
    that hangs. ``connected`` is set once the client is in."""

    def __init__(self) -> None:
        self.listen = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.listen.getsockname()[1]}"
        self.connected = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            conn, _ = self.listen.accept()
        except OSError:
            return
        self.conns.append(conn)
        self.connected.set()

    def close(self) -> None:
        for s in (*self.conns, self.listen):
            s.close()


def _interrupt(cmd: list[str], ready, cwd: Path) -> subprocess.CompletedProcess:
    """Start a verb in its own process group, wait for ``ready()``, send SIGINT to the
    group (what a terminal's Ctrl-C does: the verb and its workers get it), collect."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            start_new_session=True)
    try:
        wait_for(lambda: ready() or proc.poll() is not None, timeout=120, what="the verb to start")
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def test_ctrl_c_on_run_is_exit_130(tmp_path):
    device = SilentDevice()
    np.save(tmp_path / "x.npy", np.zeros((1, 49, 10, 1), np.int8))
    try:
        r = _interrupt([*TINYKIT, "run", "--port", device.url, "--input", str(tmp_path / "x.npy"),
                        "--timeout", "30"], device.connected.is_set, tmp_path)
    finally:
        device.close()
    assert r.returncode == ExitCode.INTERRUPTED == 130, r.stderr
    assert "tinykit: interrupted" in r.stderr
    assert "Aborted" not in r.stderr and "Traceback" not in r.stderr


def test_ctrl_c_on_test_is_exit_130_with_the_json_and_the_summary(model_dir, tmp_path):
    device = SilentDevice()
    report = tmp_path / "hil.json"
    try:
        r = _interrupt([*TINYKIT, "test", str(model_dir / "ds_cnn.tflite"), "--port", device.url,
                        "--samples", "5", "--timeout", "30", "--json-file", str(report)],
                       device.connected.is_set, tmp_path)
    finally:
        device.close()
    assert r.returncode == 130, r.stderr
    assert "Aborted" not in r.stderr and "Traceback" not in r.stderr
    saved = json.loads(report.read_text())
    assert saved["stopped"] == "interrupted" and not saved["completed"] and not saved["bit_exact"]
    assert [c["status"] for c in saved["cases"]] == ["skipped"] * 5
    assert "0/5 samples" in r.stdout and "stopped: interrupted" in r.stdout  # the summary


@pytest.mark.host
def test_ctrl_c_mid_hil_run_keeps_the_measured_cases(ds_cnn, tmp_path):
    """A host-built device (real protocol C, TEST DOUBLE model with DS-CNN's hash and I/O)
    behind a proxy that delays its replies: interrupted after 3 answers, the JSON keeps
    them (the double's outputs are not DS-CNN's: failed), the rest is skipped, exit 130."""
    from faultproxy import C_DIR, CFLAGS, FW_INC, FW_LINK, HOST_SOURCES, FaultProxy, HostDevice

    from tinykit.graph import model_hash

    src = tmp_path / "c"
    src.mkdir()
    (src / "double_model.c").write_text((C_DIR / "double_model.c").read_text().replace(
        '"7e57d0b1e5eed001"', f'"{model_hash(ds_cnn.tflite)}"'))
    sources = [src / "double_model.c" if p.name == "double_model.c" else p for p in HOST_SOURCES]
    exe = tmp_path / "device"
    subprocess.run(["gcc", *CFLAGS, f"-I{FW_INC}", f"-I{FW_LINK}", f"-I{C_DIR}", *map(str, sources),
                    "-o", str(exe)], check=True)
    model = tmp_path / "ds_cnn.tflite"
    model.write_bytes(ds_cnn.tflite)
    report = tmp_path / "hil.json"

    def answered() -> int:
        try:
            return len(json.loads(report.read_text())["cases"])
        except (OSError, ValueError, KeyError):
            return 0

    with HostDevice(exe) as dev, FaultProxy(dev.addr, delay=0.2, max_delay=0.05, max_faults=10**9,
                                            directions=("to_host",)) as proxy:
        r = _interrupt([*TINYKIT, "test", str(model), "--port", proxy.url, "--samples", "200",
                        "--json-file", str(report)], lambda: answered() >= 3, tmp_path)
    assert r.returncode == 130, r.stderr
    saved = json.loads(report.read_text())
    statuses = [c["status"] for c in saved["cases"]]
    done = statuses.count("failed")
    assert saved["stopped"] == "interrupted" and done >= 3 and len(statuses) == 200
    assert statuses == ["failed"] * done + ["skipped"] * (200 - done)
    assert f"{done}/200 samples" in r.stdout and "stopped: interrupted" in r.stdout


@pytest.mark.host
def test_ctrl_c_during_quantize_is_exit_130(tiny, tmp_path):
    paths = tiny
    out = tmp_path / "q.tflite"
    started = time.monotonic()
    r = _interrupt([*TINYKIT, "quantize", str(paths["keras"]), "--data", str(paths["calib"]),
                    "-o", str(out)], lambda: time.monotonic() - started > 1.5, tmp_path)
    assert r.returncode == 130 and "tinykit: interrupted" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "Aborted" not in r.stderr
