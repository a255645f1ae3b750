"""High-level APIs: inference on image files with SGE edge and guidance
maps (the library behind ``tools/infer.py``)."""
from .inference import (IMAGE_EXTENSIONS, ImageLoadError, InferenceResult,
                        StructureInferencer, build_inference_pipeline,
                        collect_images, describe_failure, load_segmentor,
                        resolve_device, save_result)

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageLoadError', 'InferenceResult',
    'StructureInferencer', 'build_inference_pipeline', 'collect_images',
    'describe_failure', 'load_segmentor', 'resolve_device', 'save_result'
]
