"""Keras Embedding models on an int32 token input, quantized by the real converter
with int32 calibration ids (shared by the Embedding tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinykit.quantize import import_tf


def save_embedding_model(folder: Path, vocab: int = 50, dim: int = 8, seq: int = 8,
                         classes: int = 4, seed: int = 0) -> tuple[Path, Path]:
    """Embedding(vocab, dim) + GlobalAveragePooling1D + Dense(softmax) saved as
    ``emb.keras``, and ``ids.npy``: 64 int32 calibration ids in [0, vocab)."""
    tf = import_tf()
    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input((seq,), dtype="int32")
    x = tf.keras.layers.Embedding(vocab, dim)(inp)
    x = tf.keras.layers.GlobalAveragePooling1D()(x)
    out = tf.keras.layers.Dense(classes, activation="softmax")(x)
    model = tf.keras.Model(inp, out)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(keras := folder / "emb.keras")
    ids = np.random.default_rng(seed).integers(0, vocab, (64, seq)).astype(np.int32)
    np.save(data := folder / "ids.npy", ids)
    return keras, data


def embedding_tflite(folder: Path, **kw: int) -> bytes:
    """:func:`save_embedding_model` quantized in process (convert_int8, int32 calibration)."""
    from tinykit.load import load_model
    from tinykit.quantize.convert import convert_int8

    keras, data = save_embedding_model(folder, **kw)
    return convert_int8(load_model(keras), np.load(data))
