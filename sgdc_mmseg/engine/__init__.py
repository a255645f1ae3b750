"""Training-loop additions, and checking that checkpoints fit models
(:mod:`sgdc_mmseg.engine.weights`)."""
from . import hooks  # noqa: F401
from .weights import (CheckpointMismatchError, WeightsReport,
                      checkpoint_state_dict, compare_weights,
                      dataset_meta_from_config, load_weights, read_checkpoint,
                      summary_line, unwrap_model)

__all__ = [
    'CheckpointMismatchError', 'WeightsReport', 'checkpoint_state_dict',
    'compare_weights', 'dataset_meta_from_config', 'load_weights',
    'read_checkpoint', 'summary_line', 'unwrap_model'
]
