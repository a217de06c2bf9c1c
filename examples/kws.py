"""Example: a small DS-CNN keyword spotter (MLPerf Tiny KWS shape, 49x10 MFCC
frames -> 12 keywords) trained on synthetic "MFCC" data this script generates.

    python examples/kws.py OUT_DIR

writes OUT_DIR/kws.keras, calib.npy (calibration), test_x.npy / test_y.npy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CLASSES = 12
SHAPE = (49, 10, 1)


def make_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each keyword is a fixed spectro-temporal pattern (a formant track over
    time) plus noise and a random time shift."""
    rng = np.random.default_rng(seed)
    t = np.arange(SHAPE[0])[:, None]
    f = np.arange(SHAPE[1])[None, :]
    patterns = []
    pat_rng = np.random.default_rng(1234)
    for _ in range(CLASSES):
        center = pat_rng.uniform(2, 8) + pat_rng.uniform(-3, 3) * np.sin(t / pat_rng.uniform(4, 12))
        patterns.append(np.exp(-((f - center) ** 2) / 2.0))
    y = rng.integers(0, CLASSES, n)
    x = np.empty((n, *SHAPE), np.float32)
    for i, label in enumerate(y):
        shifted = np.roll(patterns[label], rng.integers(-4, 5), axis=0)
        x[i, :, :, 0] = shifted + 0.3 * rng.standard_normal(SHAPE[:2])
    return x, y


def build_model(tf):  # noqa: ANN001, ANN201
    L = tf.keras.layers
    inp = tf.keras.Input(SHAPE)
    x = L.Conv2D(32, (10, 4), strides=2, padding="same", use_bias=False)(inp)
    x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
    for _ in range(3):
        x = L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
        x = L.Conv2D(32, 1, use_bias=False)(x)
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
    x = L.AveragePooling2D(pool_size=(25, 5))(x)
    x = L.Dense(CLASSES)(L.Flatten()(x))
    return tf.keras.Model(inp, L.Softmax()(x), name="kws")


def main(out: Path) -> None:
    from tinykit.quantize import import_tf

    tf = import_tf()
    tf.keras.utils.set_random_seed(0)
    out.mkdir(parents=True, exist_ok=True)
    x, y = make_data(2000, seed=0)
    model = build_model(tf)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=64, verbose=0)
    test_x, test_y = make_data(200, seed=1)
    _, acc = model.evaluate(test_x, test_y, verbose=0)
    model.save(out / "kws.keras")
    np.save(out / "calib.npy", x[:300])
    np.save(out / "test_x.npy", test_x)
    np.save(out / "test_y.npy", test_y)
    print(f"trained kws: float accuracy {acc:.3f} on 200 held-out synthetic samples -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/example"))
