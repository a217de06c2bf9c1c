"""The four fixture models, small replicas of the MLPerf Tiny tasks, each
trained briefly on synthetic data it generates (so softmax outputs are not
flat) and quantized to int8 with the real TF converter.

Used by ``make bench`` and by tests/fixtures/regenerate.py (``make fixtures``),
which commits the four .tflite files under tests/fixtures/; the tests load those
(tests/committed_fixtures.py) and rebuild here only where they need the float
Keras model (the ``trained_*`` fixtures, host tier). The calibration samples are
plain numpy (:func:`calibration`), so loading a committed model needs no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinykit.quantize import convert_int8, import_tf
from tinykit.tf import quiet


@dataclass(frozen=True)
class FixtureModel:
    name: str
    tflite: bytes
    calib: np.ndarray  # float samples (N, *input_shape)
    labels: np.ndarray | None  # int labels for classifiers
    keras: str | None = None  # the trained float model (.keras); None for a committed fixture

    @property
    def keras_path(self) -> str:
        if self.keras is None:
            raise LookupError(f"{self.name}: the committed fixture has no float Keras model; use the "
                              f"trained_{self.name} / trained_model fixture (TensorFlow, host tier)")
        return self.keras


def synthetic(shape: tuple[int, ...], classes: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class-dependent patterns plus noise, in [0, 1]."""
    rng = np.random.default_rng(seed)
    templates = rng.random((classes, *shape)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    x = 0.6 * templates[labels] + 0.4 * rng.random((n, *shape)).astype(np.float32)
    return x.astype(np.float32), labels


def ds_cnn(tf: Any) -> Any:
    """DS-CNN-like keyword spotter: 49x10x1 MFCC -> 12 classes (MLPerf KWS shape)."""
    L = tf.keras.layers
    inp = tf.keras.Input((49, 10, 1))
    x = L.Conv2D(64, (10, 4), strides=2, padding="same", use_bias=False)(inp)
    x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
    for _ in range(4):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
        x = L.Conv2D(64, 1, use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Flatten()(x)
    x = L.Dense(12)(x)
    return tf.keras.Model(inp, L.Softmax()(x), name="ds_cnn")


def resnet(tf: Any) -> Any:
    """ResNet-8-like: 32x32x3 -> 10 classes, residual ADDs, a strided projection."""
    L = tf.keras.layers
    inp = tf.keras.Input((32, 32, 3))
    x = L.ReLU()(L.BatchNormalization(momentum=0.9)(L.Conv2D(16, 3, padding="same")(inp)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same")(x)
        y = L.ReLU()(L.BatchNormalization(momentum=0.9)(y))
        y = L.BatchNormalization(momentum=0.9)(L.Conv2D(filters, 3, padding="same")(y))
        if stride != 1 or x.shape[-1] != filters:
            x = L.Conv2D(filters, 1, strides=stride)(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.AveragePooling2D(pool_size=8)(x)
    x = L.Dense(10)(L.Flatten()(x))
    return tf.keras.Model(inp, L.Softmax()(x), name="resnet")


def mobilenet(tf: Any) -> Any:
    """MobileNetV1-like (alpha 0.25, shortened): 96x96x3 -> 2 classes (VWW shape)."""
    L = tf.keras.layers
    inp = tf.keras.Input((96, 96, 3))
    x = L.ReLU(6.0)(L.BatchNormalization(momentum=0.9)(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)))
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)):
        x = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = L.ReLU(6.0)(L.BatchNormalization(momentum=0.9)(x))
        x = L.Conv2D(filters, 1, use_bias=False)(x)
        x = L.ReLU(6.0)(L.BatchNormalization(momentum=0.9)(x))
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(2)(x)
    return tf.keras.Model(inp, L.Softmax()(x), name="mobilenet")


def autoencoder(tf: Any) -> Any:
    """FC autoencoder (MLPerf AD shape, shortened): 640 -> 128 -> 128 -> 8 -> 128 -> 128 -> 640."""
    L = tf.keras.layers
    inp = tf.keras.Input((640,))
    x = inp
    for units in (128, 128, 8, 128, 128):
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(L.Dense(units)(x)))
    return tf.keras.Model(inp, L.Dense(640)(x), name="autoencoder")


SPECS = {
    # name: (builder, input shape, classes or 0 for regression, train samples)
    "ds_cnn": (ds_cnn, (49, 10, 1), 12, 600),
    "resnet": (resnet, (32, 32, 3), 10, 600),
    "mobilenet": (mobilenet, (96, 96, 3), 2, 300),
    "autoencoder": (autoencoder, (640,), 0, 600),
}


def training_data(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """The synthetic training set of one fixture model (numpy only): samples and,
    for classifiers, int labels."""
    _, shape, classes, n = SPECS[name]
    if classes:
        return synthetic(shape, classes, n, seed)
    rng = np.random.default_rng(seed)
    base = np.sin(np.linspace(0, 20, 640, dtype=np.float32))
    x = (base[None, :] * rng.random((n, 1)) + 0.1 * rng.standard_normal((n, 640))).astype(np.float32)
    return x, None


def calibration(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """The first 200 training samples (and labels): the int8 calibration set."""
    x, labels = training_data(name, seed)
    return x[:200], labels[:200] if labels is not None else None


def build(name: str, directory: str, seed: int = 0) -> FixtureModel:
    """Build, train briefly, save (.keras) and quantize one fixture model."""
    tf = import_tf()
    tf.keras.utils.set_random_seed(seed)
    builder, _, classes, _ = SPECS[name]
    model = builder(tf)
    x, labels = training_data(name, seed)
    if classes:
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=3, batch_size=32, verbose=0)
    else:
        model.compile("adam", "mse")
        model.fit(x, x, epochs=3, batch_size=32, verbose=0)
    path = f"{directory}/{name}.keras"
    model.save(path)
    calib, calib_labels = calibration(name, seed)
    with quiet():  # the converter's chatter would drown benchmark output
        tflite = convert_int8(model, calib)
    return FixtureModel(name, tflite, calib, calib_labels, keras=path)
