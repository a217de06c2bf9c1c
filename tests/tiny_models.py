"""Tiny Keras models (seconds to build) for the load/quantize/predict tests;
the four fixture models in fixture_models.py cover the real architectures."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinykit.quantize.convert import import_tf

PYTHON = sys.executable


def tiny_models(directory: Path) -> dict[str, Path]:
    """Write a classifier (.keras, .h5, SavedModel) and a regressor (.keras), plus
    float calibration data, into ``directory``; return their paths by name."""
    from tinykit.tf import quiet

    tf = import_tf()
    tf.keras.utils.set_random_seed(1)
    L = tf.keras.layers
    inp = tf.keras.Input((8,))
    hidden = L.Dense(16, activation="relu")(inp)
    classifier = tf.keras.Model(inp, L.Softmax()(L.Dense(3)(hidden)))
    regressor = tf.keras.Model(inp, L.Dense(4)(hidden))
    two_in = tf.keras.Input((8,))
    two = tf.keras.Model([inp, two_in], L.Add()([inp, two_in]))
    rng = np.random.default_rng(1)
    x = rng.random((50, 8)).astype(np.float32)
    paths = {
        "keras": directory / "tiny.keras", "h5": directory / "tiny.h5",
        "savedmodel": directory / "tiny_savedmodel", "regressor": directory / "reg.keras",
        "two_inputs": directory / "two.keras", "calib": directory / "calib.npy",
    }
    with quiet():
        classifier.save(paths["keras"])
        classifier.save(paths["h5"])
        classifier.export(str(paths["savedmodel"]))
        regressor.save(paths["regressor"])
        two.save(paths["two_inputs"])
    np.save(paths["calib"], x)
    return paths
