"""torch.export and ONNX export of an SGDC block through the operator."""
import importlib.util

import pytest
import torch
from torch.export import Dim

from sgdc_mmseg.ops import export as sgdc_export
from sgdc_mmseg.ops.backends import can_run

AGGREGATE = torch.ops.sgdc_mmseg.sgdc_aggregate.default


def _block(seed=0):
    from sgdc_mmseg.models.layers import SGDC
    torch.manual_seed(seed)
    # layer scale 0.5 so the aggregation branch matters in the output
    return SGDC(8, guide_channels=4, num_heads=2, kernel_size=3,
                mlp_ratio=1.0, layer_scale_init=0.5)


def _inputs(h, w, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(2, 8, h, w, generator=gen),
            torch.randn(2, 4, h, w, generator=gen))


def _dynamic():
    height, width = Dim('height', min=2, max=1024), Dim('width', min=2,
                                                          max=1024)
    return ({2: height, 3: width}, {2: height, 3: width})


def _targets(graph):
    return [n.target for n in graph.nodes if n.op == 'call_function']


def test_export_with_trainable_parameters_runs_at_another_size():
    block = _block().train()
    assert all(p.requires_grad for p in block.parameters())
    program = torch.export.export(block, _inputs(6, 7),
                                  dynamic_shapes=_dynamic())
    assert _targets(program.graph).count(AGGREGATE) == 1
    # run the exported module at another size: outputs and gradients of
    # every parameter equal the eager block's
    exported = program.module()
    inputs = _inputs(9, 5)
    out = exported(*inputs)
    ref = block(*inputs)
    torch.testing.assert_close(out, ref)
    out.square().mean().backward()
    ref.square().mean().backward()
    grads = dict(exported.named_parameters())
    for name, p in block.named_parameters():
        assert grads[name].grad is not None, name
        torch.testing.assert_close(grads[name].grad, p.grad, atol=1e-6,
                                   rtol=1e-5)
    assert block.attn.weight.grad.abs().sum() > 0


def test_decompose_to_reference_removes_the_operator():
    block = _block().eval()
    program = torch.export.export(block, _inputs(6, 7),
                                  dynamic_shapes=_dynamic())
    decomposed = sgdc_export.decompose_to_reference(program)
    targets = _targets(decomposed.graph)
    assert AGGREGATE not in targets
    assert any('im2col' in str(t) or 'unfold' in str(t) for t in targets)
    inputs = _inputs(10, 3)
    with torch.no_grad():
        torch.testing.assert_close(decomposed.module()(*inputs),
                                   block(*inputs))


@pytest.mark.parametrize('backend', ['shift', 'cpp', 'triton'])
def test_reference_decomposition_matches_operator_outputs(backend):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 5, 6, generator=gen)
    logits = torch.randn(2, 18, 5, 6, generator=gen)
    out, saved = sgdc_export.reference_decomposition(x, logits, 3, 2,
                                                     backend)
    fake_shapes = {'shift': (2, 18, 5, 6), 'cpp': (2, 18, 5, 6),
                   'triton': (2, 2, 5, 6)}
    assert saved.shape == fake_shapes[backend]
    if backend in ('shift', 'cpp'):
        if not can_run(backend, 'cpu', torch.float32):
            pytest.skip(f'{backend}: ' + can_run(backend, 'cpu',
                                                 torch.float32).reason)
        ref_out, ref_saved = AGGREGATE(x, logits, 3, 2, backend)
        torch.testing.assert_close(saved, ref_saved)
    else:
        ref_out = AGGREGATE(x, logits, 3, 2, 'shift')[0]
        torch.testing.assert_close(
            saved, logits.view(2, 2, 9, 5, 6).logsumexp(2))
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=1e-5)


def test_export_onnx_rejects_old_opset(tmp_path):
    with pytest.raises(ValueError, match='opset_version must be >= 18'):
        sgdc_export.export_onnx(_block().eval(), _inputs(6, 7),
                                tmp_path / 'm.onnx', opset_version=17)


_ONNX_MISSING = [m for m in ('onnx', 'onnxruntime', 'onnxscript')
                 if importlib.util.find_spec(m) is None]


@pytest.mark.skipif(
    bool(_ONNX_MISSING),
    reason=f'{", ".join(_ONNX_MISSING)} not installed (optional: '
    'pip install -e .[onnx] or python tools/install.py --extras onnx)')
def test_onnx_export_runs_in_onnxruntime_at_another_size(tmp_path):
    import onnx
    import onnxruntime
    block = _block().eval()
    path = tmp_path / 'sgdc_block.onnx'
    sgdc_export.export_onnx(block, _inputs(6, 7), path,
                            dynamic_shapes=_dynamic(), verbose=False)
    model = onnx.load(str(path))
    opset = {o.domain: o.version for o in model.opset_import}['']
    assert opset >= 17
    assert not [n.op_type for n in model.graph.node
                if 'sgdc' in n.op_type.lower() or n.domain == 'sgdc_mmseg']
    session = onnxruntime.InferenceSession(
        str(path), providers=['CPUExecutionProvider'])
    for h, w in [(6, 7), (11, 4)]:
        x, guidance = _inputs(h, w)
        names = [i.name for i in session.get_inputs()]
        (got, ) = session.run(None, {names[0]: x.numpy(),
                                     names[1]: guidance.numpy()})
        with torch.no_grad():
            ref = block(x, guidance)
        torch.testing.assert_close(torch.from_numpy(got), ref, atol=1e-4,
                                   rtol=1e-4)
