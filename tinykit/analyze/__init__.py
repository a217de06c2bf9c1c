"""``tinykit analyze``: per-layer MACs and params, runtime support, RAM (the
memory planner and TFLM's measured arena), flash, and the budget verdict for
a board. Nothing here imports TensorFlow."""
