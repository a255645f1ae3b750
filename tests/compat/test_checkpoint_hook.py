"""sgdc_mmseg.compat.checkpoint_hook: old checkpoints are deleted only after
the new one is saved (the SIGKILL case is in test_checkpoint_save.py)."""
import os

from mmengine.hooks import CheckpointHook

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from sgdc_mmseg.compat import checkpoint_hook
from test_checkpoint_save import build_toy_runner


def test_hook_is_patched_once():
    assert CheckpointHook._save_checkpoint_with_step is \
        checkpoint_hook.save_then_prune
    checkpoint_hook.install_prune_after_save()
    assert checkpoint_hook._ORIGINAL is not checkpoint_hook.save_then_prune


def test_old_checkpoint_exists_while_the_new_one_is_saved(tmp_path):
    runner = build_toy_runner(tmp_path, max_iters=6, name='keep1',
                              max_keep_ckpts=1)
    seen = []
    save = runner.save_checkpoint

    def spy(out_dir, filename, *args, **kwargs):
        seen.append((filename, sorted(n for n in os.listdir(out_dir)
                                      if n.endswith('.pth'))))
        return save(out_dir, filename, *args, **kwargs)

    runner.save_checkpoint = spy
    runner.train()
    assert seen == [('iter_2.pth', []), ('iter_4.pth', ['iter_2.pth']),
                    ('iter_6.pth', ['iter_4.pth'])]
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) \
        == ['iter_6.pth']
    # mmengine's bookkeeping is unchanged
    assert list(runner.message_hub.get_info('keep_ckpt_ids')) == [6]
