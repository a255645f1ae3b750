"""High-level APIs: inference on image files with SGE edge and guidance
maps (the library behind ``tools/infer.py``), and the output contract of the
tools (never replace a file they did not write, see :mod:`.outputs`)."""
from .inference import (IMAGE_EXTENSIONS, ImageLoadError, InferenceResult,
                        StructureInferencer, build_inference_pipeline,
                        check_resize, collect_images, describe_failure,
                        load_segmentor, prepare_outputs, resolve_device,
                        result_files, save_result)
from .outputs import (MANIFEST_NAME, ForeignFileError, OutputNotWritableError,
                      OutputRecord, UnsafeOutputError, atomic_write,
                      check_output_dir, dataset_input_dirs,
                      finish_test_outputs, guard_test_outputs,
                      image_input_dirs, input_dirs_of_test_data,
                      prepare_output_dir, staging_dir)

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageLoadError', 'InferenceResult',
    'StructureInferencer', 'build_inference_pipeline', 'check_resize',
    'collect_images', 'describe_failure', 'load_segmentor', 'prepare_outputs',
    'resolve_device', 'result_files', 'save_result', 'MANIFEST_NAME',
    'ForeignFileError', 'OutputNotWritableError', 'OutputRecord',
    'UnsafeOutputError', 'atomic_write', 'check_output_dir',
    'dataset_input_dirs', 'finish_test_outputs', 'guard_test_outputs',
    'image_input_dirs', 'input_dirs_of_test_data', 'prepare_output_dir',
    'staging_dir'
]
