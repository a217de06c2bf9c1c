"""tinykit: take a trained model to a microcontroller.

Pipeline, one package per stage, plain data in and out:
load -> quantize -> graph -> analyze -> codegen -> project -> pio -> serial -> hil
"""

__version__ = "0.1.0"
