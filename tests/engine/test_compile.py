"""``torch.compile`` of a whole SGDC segmentor and mmengine's
``compile=...`` (issue 15): the ``sgdc_aggregate`` operator keeps the graph
whole, and compiled gradients and training equal eager ones.

Uses the ``aot_eager`` backend (no C++ compiler needed); Inductor is covered
on the op level in ``tests/ops``."""
import copy

import pytest
import torch

import sgdc_mmseg  # noqa: F401
from mmengine.config import Config

EXACT = dict(rtol=1e-5, atol=1e-6)


def _deterministic_cfg(tiny_config, **kwargs):
    cfg = Config.fromfile(tiny_config(dropout=0.0, **kwargs))
    cfg.model.decode_head.drop_path_rate = 0.0
    return cfg


def _segmentor(cfg):
    from mmseg.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _seg_logits(model, images):
    return model.decode_head(model.extract_feat(images))


@pytest.mark.parametrize('size', [(32, 32), (40, 24)])
def test_fullgraph_training_step_of_a_segmentor(tiny_config, size):
    cfg = _deterministic_cfg(tiny_config)
    eager = _segmentor(cfg).train()
    compiled = copy.deepcopy(eager)
    images = torch.randn(2, 3, *size)
    step = torch.compile(_seg_logits, fullgraph=True, backend='aot_eager')

    def loss_of(model, fn):
        seg, edge = fn(model, images)
        return seg.square().mean() + edge.sigmoid().mean()

    expected = loss_of(eager, _seg_logits)
    expected.backward()
    got = loss_of(compiled, step)
    got.backward()
    torch.testing.assert_close(got, expected, **EXACT)
    for (name, a), (_, b) in zip(eager.named_parameters(),
                                 compiled.named_parameters()):
        if a.grad is None:
            assert b.grad is None, name
            continue
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-6,
                                   msg=name)


def test_fullgraph_eval_forward_at_two_sizes(tiny_config):
    model = _segmentor(_deterministic_cfg(tiny_config)).eval()
    forward = torch.compile(_seg_logits, fullgraph=True, backend='aot_eager',
                            dynamic=True)
    with torch.no_grad():
        for size in ((32, 32), (48, 40)):
            images = torch.randn(1, 3, *size)
            torch.testing.assert_close(forward(model, images),
                                       _seg_logits(model, images), **EXACT)


def test_mmengine_compile_trains_like_eager(tiny_config, tmp_path):
    from mmengine.runner import Runner
    losses = {}
    for mode in ('eager', 'compiled'):
        cfg = _deterministic_cfg(tiny_config, max_iters=2)
        cfg.work_dir = str(tmp_path / mode)
        cfg.default_hooks.checkpoint.interval = 1000
        if mode == 'compiled':
            cfg.compile = dict(backend='aot_eager')
        runner = Runner.from_cfg(cfg)
        runner.train()
        losses[mode] = runner.message_hub.get_scalar('train/loss').data[0]
        # mmengine sets the compiled train_step on the model instance
        assert ('train_step' in vars(runner.model)) == (mode == 'compiled')
    assert len(losses['eager']) == 2
    assert losses['compiled'] == pytest.approx(losses['eager'], rel=1e-4)
