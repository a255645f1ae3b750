"""sgdc_mmseg.cli.train (tools/train.py's command line): argument forms,
LOCAL_RANK, the --amp refusal."""
import os

import pytest
import torch

import sgdc_mmseg  # noqa: F401
import sgdc_mmseg.cli.train as cli


def test_resume_argument_forms(tiny_config):
    cfg_path = tiny_config()
    parser = cli.build_parser()
    args = parser.parse_args([cfg_path])
    assert args.resume is None and args.launcher == 'none'
    assert not cli.cfg_from_args(args).resume
    cfg = cli.cfg_from_args(parser.parse_args([cfg_path, '--resume']))
    assert cfg.resume is True and cfg.load_from is None
    args = parser.parse_args([cfg_path, '--resume=ck.pth', '--local-rank',
                              '1'])
    cfg = cli.cfg_from_args(args)
    assert cfg.resume is True and cfg.load_from == 'ck.pth'
    assert args.local_rank == 1
    args = parser.parse_args([cfg_path, '--resume', 'ck.pth', '--launcher',
                              'pytorch'])
    assert args.resume == 'ck.pth' and args.launcher == 'pytorch'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
def test_amp_without_gpu_exits_with_message(tiny_config, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', 'restored after the test')
    monkeypatch.delenv('LOCAL_RANK')

    def no_runner(cfg):
        raise AssertionError('the runner was built')

    monkeypatch.setattr(cli, 'build_runner', no_runner)
    with pytest.raises(SystemExit) as info:
        cli.main([tiny_config(), '--amp', '--local_rank', '3'])
    assert str(info.value).startswith('error: --amp needs a GPU: mmengine\'s '
                                      'AmpOptimWrapper only runs on CUDA')
    assert os.environ['LOCAL_RANK'] == '3'  # older launchers' argument
