"""Verify stage: the generated C against the TFLM reference, bit by bit."""
