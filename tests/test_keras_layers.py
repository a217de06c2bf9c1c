"""The README's table "Keras layer -> TFLite ops -> AOT support", row by row
(tests/keras_layers.py holds the rows and their models).

Host tier: each table model is built in Keras, quantized by tinykit's real isolated
quantize (all in one TF worker, once per session), its .tflite holds exactly the ops
the table lists, and its outcome is the table's: `verify` bit-exact with TFLM, or
`analyze` naming the ops the AOT runtime lacks, or quantize's one line where
TensorFlow cannot produce a full-int8 model. Unit tier: the README shows the table
the data module generates. HIL on qemu-m4: tests/test_keras_layers_hil.py."""

from __future__ import annotations

import keras_layers as kl
import pytest
from aot_helpers import check
from click.testing import CliRunner

from tinykit.cli import cli
from tinykit.errors import TinykitError
from tinykit.graph import parse_tflite
from tinykit.ops import find_unsupported
from tinykit.quantize import QuantizeResult

pytestmark = pytest.mark.host  # TF conversion, gcc


@pytest.fixture(scope="session")
def table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, kl.Quantized]:
    return kl.quantize_table(tmp_path_factory.mktemp("keras-layers"))


@pytest.mark.parametrize("name", [m.name for m in kl.MODELS])
def test_table_model(table, tmp_path, name):
    q = table[name]
    spec, outcome = q.spec, q.spec.outcome
    if q.tflite is not None:  # the table's ops column is what TF produced
        kinds = {op.kind for op in parse_tflite(q.tflite.read_bytes()).ops}
        assert kinds == kl.expected_ops(spec), f"{name}: TF produced {sorted(kinds)}"
    if outcome.kind == "yes":
        assert isinstance(q.result, QuantizeResult), q.result
        assert not any("aot runtime:" in w for w in q.result.warnings), q.result.warnings
        check(q.tflite.read_bytes(), tmp_path, name, samples=12)
    elif outcome.kind == "aot":
        assert isinstance(q.result, QuantizeResult), q.result
        missing = {u.op for u in find_unsupported("aot", parse_tflite(q.tflite.read_bytes()))}
        assert missing == set(outcome.ops), f"{name}: the AOT runtime lacks {sorted(missing)}"
        r = CliRunner().invoke(cli, ["analyze", str(q.tflite), "--board", "qemu-m4"])
        assert r.exit_code == 1 and all(op in r.output for op in outcome.ops), r.output
        r = CliRunner().invoke(cli, ["verify", str(q.tflite), "--samples", "2"])
        assert r.exit_code == 1 and all(op in r.output for op in outcome.ops), r.output
    else:  # "tf": quantize's one line (exit 1 for float islands, 2 for a crash)
        assert isinstance(q.result, TinykitError), q.result
        assert q.result.exit_code == (1 if outcome.ops else 2), q.result
        assert outcome.tinykit in q.result.message, q.result.message
        assert all(op in q.result.message for op in outcome.ops), q.result.message


@pytest.mark.unit
def test_readme_table_is_generated_from_the_data():
    text = kl.README.read_text()
    assert kl.readme_section(text) == kl.readme_table(), (
        "README.md's Keras layer table is stale: run `python tests/keras_layers.py --readme`")


@pytest.mark.unit
def test_every_row_names_a_model_and_every_model_backs_a_row():
    names = [m.name for m in kl.MODELS]
    assert len(names) == len(set(names))
    assert {r.model for r in kl.ROWS} == set(names)
    for m in kl.MODELS:
        assert m.outcome.kind in ("yes", "aot", "tf")
        assert m.outcome.kind != "aot" or m.outcome.ops
        assert m.outcome.kind != "tf" or m.outcome.tinykit
    rows = [r.layer for r in kl.ROWS]
    assert len(rows) == len(set(rows))
