# tinykit: `make test` and `make demo` work on a fresh machine.
# They create .venv/, install Python deps and the Debian tools when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tinykit-installed
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium-headless-shell
PYTEST_ARGS ?=

.PHONY: setup tools test test-fast fixtures demo bench bench-arm fuzz lint clean

setup: $(STAMP) tools

# tf_keras (Keras 2) builds the tests' fused UNIDIRECTIONAL_SEQUENCE_LSTM models; --no-deps: its
# only requirement is the 'tensorflow' dist, and tensorflow-cpu already provides that module.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps 'tf_keras>=2.21,<2.22'
	touch $(STAMP)

# Debian tools: installed with apt when missing (as root), else the exact command is printed.
tools:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "tinykit needs Debian packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 2; \
	  fi; \
	fi

# Test tiers: every test has exactly one marker (pyproject.toml; assigned in tests/conftest.py).
#   unit  no TF conversion/training, no compiler, no emulator (numpy + TFLM interpreter); all doctests
#   host  gcc/g++/arm-none-eabi-gcc or TF conversion/training
#   emu   QEMU or PlatformIO
# `make test-fast` runs the unit tier (< 60 s, never imports TensorFlow); `make test` runs all three.
# Pick a tier with PYTEST_ARGS, e.g. `make test PYTEST_ARGS='-m "not emu"'`.
test: setup
	$(PY) -m pytest -q --doctest-modules tinykit tests $(PYTEST_ARGS)

test-fast: $(STAMP)  # the unit tier needs no Debian tools
	$(PY) -m pytest -q -m unit --doctest-modules tinykit tests $(PYTEST_ARGS)

# The committed fixture models (tests/fixtures/*.tflite + MANIFEST.json), rebuilt with
# TensorFlow from tests/fixture_models.py; tests/test_fixtures.py says when this is due.
fixtures: $(STAMP)
	$(PY) tests/fixtures/regenerate.py

demo: setup
	$(PY) examples/demo.py

bench: setup
	$(PY) tests/bench.py

# tinykit's kernels next to CMSIS-NN's on the emulated Cortex-M4 and M7 (instructions under
# -icount shift=0, byte-identical outputs), per layer and per fixture model; writes
# build/bench-arm.md. CMSIS-NN is found through CMSIS_NN_DIR (benchmark-only; `make test`
# never needs it). A few minutes; e.g. BENCH_ARM_ARGS='--cores cortex-m33' passes through.
CMSIS_NN_DIR ?= ../shared/third_party/CMSIS-NN
BENCH_ARM_ARGS ?=
bench-arm: setup
	CMSIS_NN_DIR=$(CMSIS_NN_DIR) $(PY) tests/bench_arm.py $(BENCH_ARM_ARGS)

# Graph validation fuzz: mutated ds_cnn flatbuffers must give one-line errors, never a crash.
fuzz: $(STAMP)
	$(PY) tests/fuzz_models.py tests/fixtures/ds_cnn.tflite 10000

lint: setup
	$(VENV)/bin/ruff check tinykit tests
	$(VENV)/bin/mypy tinykit

clean:
	rm -rf build .pytest_cache
