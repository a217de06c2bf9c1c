"""MLPerf Tiny tasks of `--protocol eembc` (tinykit.project.eembc): detection from the
model's shapes, `--eembc-task` checks, and what the rendered main sets up. The
firmware behaviour itself: test_eembc.py (host) and test_eembc_conformance.py (QEMU)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinykit.boards import get_board
from tinykit.cli import cli
from tinykit.errors import ProjectError
from tinykit.graph import parse_tflite
from tinykit.project.api import PROTOCOL_RAM_BYTES
from tinykit.project.eembc import TASKS, detect_task, resolve_task
from tinykit.project.render import ProjectSpec, render_project

pytestmark = pytest.mark.unit

FIXTURE_TASKS = {"ds_cnn": "kws01", "resnet": "ic01", "mobilenet": "vww01", "autoencoder": "ad01"}


def _graph(model):
    return parse_tflite(model.tflite, model.name)


def _main(model, **kw) -> str:
    spec = ProjectSpec(graph=_graph(model), model_bytes=model.tflite, model_file=f"{model.name}.tflite",
                       board=get_board("qemu-m4"), protocol="eembc", **kw)
    return render_project(spec).files["src/main.c"].decode()


def test_the_four_reference_shapes_are_detected(any_model) -> None:
    task = detect_task(_graph(any_model))
    assert task is not None and task.key == FIXTURE_TASKS[any_model.name]
    assert resolve_task(_graph(any_model), "auto")[1].startswith(f"MLPerf Tiny task {task.key} (detected")


def test_other_shapes_are_not_a_task(ds_cnn) -> None:
    """A model whose output is not 12 classes is not kws01, whatever its input."""
    g = _graph(ds_cnn)
    inner = next(t for t in g.activations if t.index not in g.inputs and t.size != 12)
    other = dataclasses.replace(g, outputs=(inner.index,))
    assert detect_task(other) is None
    task, note = resolve_task(other, "auto")
    assert task is None and "--eembc-task" in note and "m-model-[ds_cnn]" in note
    assert resolve_task(other, "kws01")[0] is TASKS["kws01"]  # naming it is the user's call


@pytest.mark.parametrize("requested, match", [("sww01", "unknown --eembc-task 'sww01'"),
                                               ("ad01", "both must be quantized int8 of one size")])
def test_impossible_tasks_are_refused(ds_cnn, requested: str, match: str) -> None:
    with pytest.raises(ProjectError, match=match):
        resolve_task(_graph(ds_cnn), requested)


def test_main_sets_up_each_task(ds_cnn, resnet, autoencoder) -> None:
    kws = _main(ds_cnn)
    assert "static uint8_t tk_eembc_db[490];" in kws
    assert '{"kws01", TK_EEMBC_IN_INT8, TK_EEMBC_OUT_VALUES, tk_eembc_db, 490u, NULL}' in kws
    assert "tk_eembc_set_task(&tk_eembc_task);" in kws
    assert '{"ic01", TK_EEMBC_IN_UINT8, TK_EEMBC_OUT_VALUES, tk_eembc_db, 3072u, NULL}' in _main(resnet)
    ad = _main(autoencoder)
    assert "static uint8_t tk_eembc_db[2560];" in ad and "static int8_t tk_eembc_quantized[640];" in ad
    assert '{"ad01", TK_EEMBC_IN_FLOAT32, TK_EEMBC_OUT_MSE, tk_eembc_db, 2560u, tk_eembc_quantized}' in ad
    # the task is a choice: kws01's bytes for the image model
    assert '"kws01", TK_EEMBC_IN_INT8' in _main(resnet, eembc_task="kws01")


def test_task_without_the_eembc_protocol_is_an_error(ds_cnn, tmp_path) -> None:
    with pytest.raises(ProjectError, match="needs --protocol eembc"):
        render_project(ProjectSpec(graph=_graph(ds_cnn), model_bytes=ds_cnn.tflite, model_file="ds_cnn.tflite",
                                   board=get_board("qemu-m4"), eembc_task="kws01"))
    model = tmp_path / "ds_cnn.tflite"
    model.write_bytes(ds_cnn.tflite)
    r = CliRunner().invoke(cli, ["build", str(model), "--board", "qemu-m4", "-o", str(tmp_path / "p"),
                                 "--eembc-task", "kws01"])
    assert r.exit_code == 2 and "needs --protocol eembc" in r.output


def test_samples_encode_as_the_runner_sends_them() -> None:
    assert TASKS["ad01"].encode(np.array([1.0], "<f4")) == b"\x00\x00\x80\x3f"
    assert TASKS["vww01"].db_bytes(96 * 96 * 3) == 27648
    with pytest.raises(ProjectError, match="ic01 samples are uint8"):
        TASKS["ic01"].encode(np.zeros(3, np.int8))


def test_build_counts_the_task_buffers_in_ram(autoencoder, tmp_path) -> None:
    """ad01's main holds the runner's float32 bytes (4 per input) and the quantized input."""
    model = tmp_path / "autoencoder.tflite"
    model.write_bytes(autoencoder.tflite)
    r = CliRunner().invoke(cli, ["build", str(model), "--board", "qemu-m4", "-o", str(tmp_path / "p"),
                                 "--protocol", "eembc", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["project"]["eembc_task"] == "ad01" and "MLPerf Tiny task: ad01" in r.stderr
    assert report["analyze"]["memory"]["protocol_bytes"] == PROTOCOL_RAM_BYTES["eembc"] + 4 * 640 + 640
