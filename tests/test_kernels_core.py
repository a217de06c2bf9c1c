"""Every core AOT kernel over randomized shapes and parameters: single-op (or
tiny) Keras models quantized by the real converter, generated C compiled with
host gcc, outputs compared bit by bit with TFLM on 20 random inputs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from aot_helpers import check, quantized

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion + gcc

ACTS = [None, "relu", "relu6"]


def _kinds(tflite: bytes) -> list[str]:
    return [op.kind for op in parse_tflite(tflite).ops]


@pytest.mark.parametrize("seed", range(10))
def test_conv2d(seed: int, tmp_path: Path) -> None:
    r = random.Random(seed)
    h, w, c = r.randint(5, 14), r.randint(5, 14), r.randint(1, 6)

    def build(tf, x):  # noqa: ANN001, ANN202
        for _ in range(2):
            k = (r.randint(1, 4), r.randint(1, 4))
            dil = r.choice([1, 1, 2])
            stride = 1 if dil > 1 else r.choice([1, 2])
            x = tf.keras.layers.Conv2D(r.randint(1, 12), k, strides=stride, dilation_rate=dil,
                                       padding=r.choice(["same", "valid"]) if dil == 1 else "same",
                                       activation=r.choice(ACTS), use_bias=r.random() < 0.8)(x)
        return x

    model = quantized(build, (h, w, c), seed)
    assert set(_kinds(model)) == {"CONV_2D"}
    check(model, tmp_path)


@pytest.mark.parametrize("seed", range(6))
def test_depthwise(seed: int, tmp_path: Path) -> None:
    r = random.Random(100 + seed)
    h, w, c = r.randint(5, 14), r.randint(5, 14), r.randint(1, 8)

    def build(tf, x):  # noqa: ANN001, ANN202
        for _ in range(2):
            dil = r.choice([1, 1, 2])
            x = tf.keras.layers.DepthwiseConv2D(
                (r.randint(1, 4), r.randint(1, 4)), strides=1 if dil > 1 else r.choice([1, 2]),
                depth_multiplier=r.randint(1, 3), dilation_rate=dil,
                padding=r.choice(["same", "valid"]) if dil == 1 else "same",
                activation=r.choice(ACTS), use_bias=r.random() < 0.8)(x)
        return x

    model = quantized(build, (h, w, c), seed)
    assert set(_kinds(model)) == {"DEPTHWISE_CONV_2D"}
    check(model, tmp_path)


@pytest.mark.parametrize("seed", range(3))
def test_inplace_chain(seed: int, tmp_path: Path) -> None:
    """Depthwise (dm 1, same shape), 1x1 convs growing and shrinking channels, a
    3x3 same-shape conv and a residual ADD: the in-place kernels."""
    r = random.Random(200 + seed)
    c = r.randint(2, 8)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(c, 3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.Conv2D(2 * c, 1, activation="relu6")(x)  # grows: decreasing order
        x = L.Conv2D(c, 1)(x)  # shrinks: increasing order
        y = L.Conv2D(c, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(c, (3, 5), padding="same")(y)  # same shape: pixel ring
        return L.Add()([x, y])

    model = quantized(build, (r.randint(4, 12), r.randint(4, 12), 3), seed)
    report = check(model, tmp_path)
    assert len(report.inplace_ops) >= 4  # depthwise, two 1x1, the 3x5 conv (and the add)


@pytest.mark.parametrize("seed", range(4))
def test_dense(seed: int, tmp_path: Path) -> None:
    r = random.Random(300 + seed)

    def build(tf, x):  # noqa: ANN001, ANN202
        for _ in range(3):
            x = tf.keras.layers.Dense(r.randint(1, 70), activation=r.choice(ACTS),
                                      use_bias=r.random() < 0.8)(x)
        return x

    model = quantized(build, (r.randint(1, 200),), seed)
    assert set(_kinds(model)) == {"FULLY_CONNECTED"}
    check(model, tmp_path)


@pytest.mark.parametrize("seed", range(4))
def test_add(seed: int, tmp_path: Path) -> None:
    """Inputs with different scales (a scaled branch), fused relu, broadcasting."""
    r = random.Random(400 + seed)
    h, w, c = r.randint(2, 8), r.randint(2, 8), r.randint(1, 8)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        a = L.Conv2D(c, 1)(x)
        b = L.Conv2D(c, 3, padding="same")(x) * r.uniform(2.0, 9.0)
        y = L.Add()([a, b])
        if seed % 2:
            y = L.ReLU()(y)
        pooled = L.GlobalAveragePooling2D(keepdims=True)(y)  # (1,1,c) broadcast over H, W
        return L.Add()([y, pooled])

    model = quantized(build, (h, w, 3), seed)
    assert "ADD" in _kinds(model)
    check(model, tmp_path)


@pytest.mark.parametrize("seed", range(4))
def test_pooling(seed: int, tmp_path: Path) -> None:
    r = random.Random(500 + seed)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(r.randint(1, 6), 1, activation=r.choice(ACTS))(x)
        for cls in (L.AveragePooling2D, L.MaxPooling2D):
            x = cls((r.randint(1, 3), r.randint(1, 3)), strides=r.choice([1, 2, 3]),
                    padding=r.choice(["same", "valid"]))(x)
        return x

    model = quantized(build, (r.randint(6, 16), r.randint(6, 16), 2), seed)
    assert {"AVERAGE_POOL_2D", "MAX_POOL_2D"} <= set(_kinds(model))
    check(model, tmp_path)


@pytest.mark.parametrize("keepdims", [False, True])
def test_mean(keepdims: bool, tmp_path: Path) -> None:
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(5, 3, activation="relu")(x)
        return L.GlobalAveragePooling2D(keepdims=keepdims)(x)

    model = quantized(build, (9, 7, 3), int(keepdims))
    assert "MEAN" in _kinds(model)
    check(model, tmp_path)


@pytest.mark.parametrize("seed", range(3))
def test_reshape_softmax(seed: int, tmp_path: Path) -> None:
    """Flatten/Reshape alias their input (no copy); softmax over several widths and betas."""
    r = random.Random(600 + seed)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(r.randint(2, 6), 3)(x)
        x = L.Flatten()(x)
        x = L.Dense(r.randint(2, 40))(x) * r.uniform(0.3, 4.0)
        x = L.Reshape((1, -1))(x)
        return L.Softmax()(x)

    model = quantized(build, (r.randint(4, 8), r.randint(4, 8), 2), seed)
    assert {"RESHAPE", "SOFTMAX"} <= set(_kinds(model))
    check(model, tmp_path)
