"""`tinykit analyze`: fixture models on several boards, the measured TFLM arena,
over-budget and unsupported-op verdicts, refused float models, broken files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinykit.analyze.api import AnalyzeConfig, analyze, aot_memory_plan, check_int8
from tinykit.analyze.cli import analyze as analyze_cmd
from tinykit.analyze.stack import STACK_ESTIMATE_BYTES
from tinykit.boards import get_board, parse_board
from tinykit.codegen.api import generate
from tinykit.errors import ModelError
from tinykit.graph import parse_tflite
from tinykit.plan import GreedyPlanner, lifetimes
from tinykit.reference import measure_arena

pytestmark = pytest.mark.unit  # committed fixture models; tests on the TF-converted `small` models: host

REPO = Path(__file__).resolve().parent.parent
BOARDS = ["nucleo-l4r5zi", "esp32s3", "qemu-m7"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "tinykit", "analyze", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)


# --- small models converted with TF in the tests ------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """conv: hand-computable MACs; sub: an op outside AOT_OPS; float: not quantized;
    float_io: int8 inside, QUANTIZE/DEQUANTIZE at the edges."""
    from tinykit.quantize.convert import convert_float, convert_int8, import_tf

    tf = import_tf()
    L = tf.keras.layers
    rng = __import__("numpy").random.default_rng(0)
    d = tmp_path_factory.mktemp("small")

    inp = tf.keras.Input((8, 8, 3))
    ones = "ones"  # a zero bias would be dropped by the converter
    x = L.Conv2D(4, 3, padding="valid", bias_initializer=ones, name="conv")(inp)
    x = L.DepthwiseConv2D(3, padding="same", bias_initializer=ones, name="dw")(x)
    x = L.Flatten()(x)
    conv = tf.keras.Model(inp, L.Dense(5, bias_initializer=ones, name="fc")(x))
    calib = rng.random((16, 8, 8, 3)).astype("float32")

    vin = tf.keras.Input((4, 4, 2))  # DEPTH_TO_SPACE: TFLM runs it, the AOT runtime not
    d2s = L.Lambda(lambda t: tf.nn.depth_to_space(t, 2), name="up")
    up = tf.keras.Model(vin, d2s(L.Conv2D(4, 1)(vin)))
    vcalib = rng.random((16, 4, 4, 2)).astype("float32")

    paths = {"conv": d / "conv.tflite", "up": d / "up.tflite", "float": d / "float.tflite",
             "float_io": d / "float_io.tflite"}
    paths["conv"].write_bytes(convert_int8(conv, calib))
    paths["up"].write_bytes(convert_int8(up, vcalib))
    paths["float"].write_bytes(convert_float(conv))
    paths["float_io"].write_bytes(convert_int8(conv, calib, io="float"))
    return paths


@pytest.mark.host
def test_hand_computed_macs_and_params(small: dict[str, Path]) -> None:
    a = analyze(small["conv"], AnalyzeConfig("stm32"))
    by_op = {x.op: x for x in a.layers}
    assert set(by_op) >= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    # conv 3x3x3 -> 4, valid: 6x6x4 outputs, 27 MACs each; 4*27 weights + 4 biases
    assert (by_op["CONV_2D"].macs, by_op["CONV_2D"].params) == (6 * 6 * 4 * 27, 4 * 27 + 4)
    # depthwise 3x3, same: 6x6x4 outputs, 9 MACs each; 9*4 weights + 4 biases
    assert (by_op["DEPTHWISE_CONV_2D"].macs, by_op["DEPTHWISE_CONV_2D"].params) == (6 * 6 * 4 * 9, 40)
    # dense 144 -> 5
    assert (by_op["FULLY_CONNECTED"].macs, by_op["FULLY_CONNECTED"].params) == (144 * 5, 144 * 5 + 5)
    assert set(by_op) <= {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE"}
    assert a.totals.macs == 3888 + 1296 + 720  # RESHAPE (Flatten) moves no data
    assert a.totals.params == sum(x.params for x in a.layers)
    assert by_op["CONV_2D"].input_shapes == ((1, 8, 8, 3),)
    assert by_op["CONV_2D"].output_shape == (1, 6, 6, 4)
    assert by_op["CONV_2D"].activation_bytes == 8 * 8 * 3 + 6 * 6 * 4
    assert a.ok


@pytest.mark.host
def test_unsupported_op_names_layer_and_op(small: dict[str, Path]) -> None:
    graph = parse_tflite(small["up"].read_bytes(), "up")
    up_op = next(op for op in graph.ops if op.kind == "DEPTH_TO_SPACE")
    layer = graph.layer_name(up_op)

    a = analyze(small["up"], AnalyzeConfig("stm32", "aot"))
    assert not a.ok and not a.supported
    assert [(u.layer, u.op, u.version) for u in a.unsupported] == [
        (layer, "DEPTH_TO_SPACE", up_op.version)]
    assert a.ram.fits and a.flash.fits  # it fails only for the op

    r = _cli(str(small["up"]), "--board", "stm32")
    assert r.returncode == 1, r.stderr
    assert "DEPTH_TO_SPACE" in r.stderr and layer.split(";")[0] in r.stderr
    assert "Traceback" not in r.stderr

    res = CliRunner().invoke(analyze_cmd, [str(small["up"]), "--board", "stm32", "--json"])
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert report["supported"] is False and report["ok"] is False
    assert report["unsupported"][0]["op"] == "DEPTH_TO_SPACE"
    assert report["unsupported"][0]["layer"] == layer

    # TFLM has a DEPTH_TO_SPACE kernel: the same model is fine there
    t = analyze(small["up"], AnalyzeConfig("stm32", "tflm"))
    assert t.supported and t.ok


@pytest.mark.host
def test_float_model_is_refused(small: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match="not int8-quantized"):
        analyze(small["float"], AnalyzeConfig("stm32"))
    r = _cli(str(small["float"]), "--board", "stm32")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not int8-quantized" in lines[0] and "tinykit quantize" in lines[0]


@pytest.mark.host
def test_float_io_model_is_accepted(small: dict[str, Path]) -> None:
    graph = parse_tflite(small["float_io"].read_bytes(), "float_io")
    assert graph.input_tensors[0].dtype == "float32"
    assert {"QUANTIZE", "DEQUANTIZE"} <= {op.kind for op in graph.ops}
    check_int8(graph)
    a = analyze(small["float_io"], AnalyzeConfig("stm32"))
    assert a.ok


# --- fixture models ---------------------------------------------------------------


@pytest.mark.parametrize("board", BOARDS)
def test_fixture_models_on_boards(any_model, model_dir: Path, board: str) -> None:  # noqa: ANN001
    path = model_dir / f"{any_model.name}.tflite"
    b = get_board(board)
    for runtime in ("aot", "tflm"):
        res = CliRunner().invoke(analyze_cmd, [str(path), "--board", board, "--runtime", runtime,
                                               "--json"])
        r = json.loads(res.stdout)
        graph = parse_tflite(any_model.tflite, any_model.name)
        assert [x["op"] for x in r["layers"]] == [op.kind for op in graph.ops]
        assert r["totals"]["macs"] == sum(x["macs"] for x in r["layers"]) > 0
        assert r["totals"]["params"] == sum(x["params"] for x in r["layers"]) > 0
        m = r["memory"]
        # AOT RAM = arena + the kernels' stack (unit tier: no compiler, the upper-bound estimate)
        assert m["ram_bytes"] == (m["aot_ram_bytes"] + m["stack_bytes"] if runtime == "aot"
                                  else m["tflm_arena_bytes"])
        if runtime == "aot":
            assert (m["stack_method"], m["stack_bytes"]) == ("estimated", STACK_ESTIMATE_BYTES)
        assert m["model_bytes"] == len(any_model.tflite)
        if runtime == "aot":  # unit tier: no link, the generated constants + code, an upper bound
            assert m["flash_method"] == "estimated"
            assert m["flash_bytes"] >= m["code_bytes_estimate"] + m["weight_bytes"]
        else:
            assert m["flash_bytes"] == m["code_bytes_estimate"] + m["model_bytes"]
        ram, flash = r["budget"]["ram"], r["budget"]["flash"]
        assert ram["budget"] == b.memory.ram_budget and flash["budget"] == b.memory.flash_budget
        assert ram["used"] == m["ram_bytes"] and flash["used"] == m["flash_bytes"]
        assert ram["headroom"] == ram["budget"] - ram["used"]
        fits = ram["used"] <= ram["budget"] and flash["used"] <= flash["budget"]
        assert r["ok"] is (fits and r["supported"])
        assert res.exit_code == (0 if r["ok"] else 1)
        assert r["board"] == b.id and r["runtime"] == runtime and "tinykit_version" in r


def test_arena_is_measured_by_tflm_and_aot_plan_is_checked(any_model) -> None:  # noqa: ANN001
    a = analyze(any_model.tflite, AnalyzeConfig("qemu-m4"), name=any_model.name)
    assert a.memory.tflm_arena_bytes == measure_arena(any_model.tflite).total
    graph = parse_tflite(any_model.tflite, any_model.name)
    # the AOT figure is the arena the code generator really emits
    assert a.memory.aot_ram_bytes == generate(graph, any_model.tflite).arena_bytes
    # without in-place kernels or scratch: a valid plan, never below one op's live set
    plain = GreedyPlanner().plan(lifetimes(graph), 16)
    plain.check()
    assert aot_memory_plan(graph, inplace=lambda g, op: False).arena_bytes >= plain.arena_bytes
    assert max(x.activation_bytes for x in a.layers if x.op not in ("RESHAPE", "SQUEEZE")) \
        <= plain.arena_bytes


def test_over_budget_on_a_custom_board(mobilenet, model_dir: Path, tmp_path: Path) -> None:  # noqa: ANN001
    src = (REPO / "boards" / "qemu-m4.toml").read_text()
    text = (src.replace('id = "qemu-m4"', 'id = "tiny"')
            .replace('aliases = ["qemu", "mps2-an386"]', "aliases = []")
            .replace("ram_bytes = 655360", "ram_bytes = 65536")
            .replace("ram_reserve_bytes = 16384", "ram_reserve_bytes = 32768"))
    (tmp_path / "tiny.toml").write_text(text)
    board = parse_board(tmp_path / "tiny.toml")
    assert board.memory.ram_budget == 32768

    a = analyze(model_dir / "mobilenet.tflite", AnalyzeConfig(board))
    assert a.supported and not a.ram.fits and not a.ok
    assert a.ram.headroom == 32768 - a.memory.aot_ram_bytes - a.memory.stack_bytes < 0
    assert a.ram.headroom_pct < 0
    assert "RAM over budget" in a.verdict

    res = CliRunner().invoke(analyze_cmd, [str(model_dir / "mobilenet.tflite"), "--board",
                                           str(tmp_path / "tiny.toml"), "--json"])
    assert res.exit_code == 1
    r = json.loads(res.stdout)
    assert r["budget"]["ram"]["fits"] is False and r["budget"]["flash"]["fits"] is True


def test_real_subprocess_table_and_no_tensorflow(ds_cnn, model_dir: Path) -> None:  # noqa: ANN001
    path = model_dir / "ds_cnn.tflite"
    r = _cli(str(path), "--board", "stm32")
    assert r.returncode == 0, r.stderr
    assert "CONV_2D" in r.stdout and "fits" in r.stdout and "nucleo-l4r5zi" in r.stdout
    j = _cli(str(path), "--board", "stm32", "--json")
    assert json.loads(j.stdout)["ok"] is True

    code = ("import sys; from tinykit.analyze.api import AnalyzeConfig, analyze; "
            f"a = analyze({str(path)!r}, AnalyzeConfig('stm32')); "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; print(a.ok)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "True", p.stderr


# --- bad input: exit 2, one line on stderr ------------------------------------------


def _bad(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.host
@pytest.mark.parametrize("case", ["truncated", "random", "missing", "not_tflite", "board"])
def test_bad_input_is_one_line_exit_2(case: str, small: dict[str, Path], tmp_path: Path) -> None:
    good = small["conv"].read_bytes()
    rng = __import__("random").Random(7)
    args = {
        "truncated": [str(_bad(tmp_path, "t.tflite", good[: len(good) // 3])), "--board", "stm32"],
        "random": [str(_bad(tmp_path, "r.tflite", bytes(rng.randrange(256) for _ in range(4096)))),
                   "--board", "stm32"],
        "missing": [str(tmp_path / "nope.tflite"), "--board", "stm32"],
        "not_tflite": [str(_bad(tmp_path, "m.keras", good)), "--board", "stm32"],
        "board": [str(small["conv"]), "--board", "no-such-board"],
    }[case]
    r = _cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinykit: error:"), r.stderr
    assert r.stdout == ""
