"""Export of models that use :func:`sgdc_mmseg.ops.sgdc_aggregate`.

* ``torch.export.export`` needs nothing from here: the
  ``sgdc_mmseg::sgdc_aggregate`` operator has a fake implementation with
  symbolic shapes and a registered backward, so a model exports with
  trainable parameters and dynamic H and W (``torch.export.Dim``), and the
  operator stays one node of the graph (its ``backend`` argument is the one
  chosen when the model was exported).
* ONNX has no kernel for our operator, so :func:`decompose_to_reference`
  rewrites it into the reference unfold form (``F.unfold``, softmax,
  einsum: ``O(C*k*k*H*W)`` memory, like the paper's code) before
  ``torch.onnx.export``; :func:`export_onnx` does both. The ONNX exporter of
  torch 2.13 writes opset 18 or newer (its lowest; asking for 17 keeps 18).
"""
import torch

from .aggregate_op import saved_spec
from .backends.reference import sgdc_aggregate_reference

#: Lowest opset the ONNX exporter of torch 2.13 writes.
ONNX_OPSET = 18


def reference_decomposition(x, kernel_logits, kernel_size, num_heads,
                            backend):
    """``sgdc_mmseg::sgdc_aggregate`` in plain ATen ops: the reference
    output and the operator's second output for ``backend`` (softmaxed
    kernels for ``'shift'`` and ``'cpp'``, per-head log-sum-exp for
    ``'triton'``; a graph
    that does not use it drops it)."""
    b, _, h, w = x.shape
    out = sgdc_aggregate_reference(x, kernel_logits, kernel_size, num_heads)
    logits = kernel_logits.reshape(b, num_heads, kernel_size**2, h, w)
    if backend == 'triton':
        _, dtype = saved_spec(x, kernel_logits, num_heads, backend)
        return out, logits.to(dtype).logsumexp(dim=2)
    return out, logits.softmax(dim=2).reshape(kernel_logits.shape)


def decompositions():
    """Decomposition table for ``ExportedProgram.run_decompositions``."""
    return {torch.ops.sgdc_mmseg.sgdc_aggregate.default:
            reference_decomposition}


def decompose_to_reference(exported_program):
    """``exported_program`` with every ``sgdc_aggregate`` node replaced by
    its reference form (other operators as ``run_decompositions`` leaves
    them)."""
    return exported_program.run_decompositions(decompositions())


def export_onnx(model, args, path, dynamic_shapes=None,
                opset_version=ONNX_OPSET, **kwargs):
    """Export ``model`` (called as ``model(*args)``; put it in eval mode
    first) to the ONNX file ``path`` through ``torch.export`` and
    :func:`decompose_to_reference`; ``dynamic_shapes`` as for
    ``torch.export.export``. Needs the ``onnx`` and ``onnxscript`` packages
    (``pip install -e .[onnx]``). Returns the ``torch.onnx.ONNXProgram``."""
    if opset_version < ONNX_OPSET:
        raise ValueError(
            f'opset_version must be >= {ONNX_OPSET} (the lowest the ONNX '
            f'exporter of torch {torch.__version__} writes), got '
            f'{opset_version}')
    program = torch.export.export(model, tuple(args),
                                  dynamic_shapes=dynamic_shapes)
    program = decompose_to_reference(program)
    return torch.onnx.export(program, tuple(args), str(path),
                             opset_version=opset_version, dynamo=True,
                             **kwargs)
