"""Load stage: a trained model (.keras, .h5, SavedModel) and numeric data
(.npy, .npz), validated with one-line errors before any work is done."""

from tinykit.load.data import check_shape, load_data, validate_data
from tinykit.load.model import load_model, model_io_shapes

__all__ = ["check_shape", "load_data", "load_model", "model_io_shapes", "validate_data"]
