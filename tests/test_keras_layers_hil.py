"""Every model of the README's Keras layer table that the AOT runtime runs, on the
emulated Cortex-M4 through the real parts: `tinykit build --compile` (pio,
arm-none-eabi-gcc), `tinykit flash` (QEMU), `tinykit test` over the serial link,
bit-exact with the reference. The models come from the host tier's session cache
(tests/keras_layers.py: built and quantized once)."""

from __future__ import annotations

import keras_layers as kl
import pytest
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

pytestmark = pytest.mark.emu  # PlatformIO + QEMU

YES = [m.name for m in kl.MODELS if m.outcome.kind == "yes"]


@pytest.fixture(scope="session")
def table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, kl.Quantized]:
    return kl.quantize_table(tmp_path_factory.mktemp("keras-layers"))


@pytest.mark.parametrize("name", YES)
def test_table_model_bit_exact_on_qemu_m4(table, tmp_path, name):
    q = table[name]
    assert q.tflite is not None, q.result
    (model := tmp_path / q.tflite.name).write_bytes(q.tflite.read_bytes())  # fw/ beside it
    hil_bit_exact(model, 6)
