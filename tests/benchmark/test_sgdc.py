"""sgdc_mmseg.benchmark.sgdc: the case list of benchmark_sgdc.py (defaults,
--only, --quick; 'cpp' on CPU, 'triton' on CUDA; bound and scaling only
when named), which section each case goes to, and its table (ratios
against the baseline, skipped and failed rows)."""
import pytest

from sgdc_mmseg.benchmark.models import MODEL_CONFIGS
from sgdc_mmseg.benchmark.sgdc import (KINDS, SGDCBenchmarkOptions,
                                       build_cases, make_table, markers,
                                       resolve_defaults, section_of)


def options(**kw):
    return resolve_defaults(SGDCBenchmarkOptions(**kw))


def test_defaults_follow_the_device():
    cpu, cuda = options(), options(device='cuda')
    assert (cpu.repeats, cpu.warmup, cpu.threads, cpu.train_step) == \
        (3, 1, 2, False)
    assert (cuda.repeats, cuda.warmup, cuda.threads, cuda.train_step) == \
        (10, 3, None, True)
    assert options(quick=True).repeats == 2
    assert markers('cpu') == ('<!-- sgdc-ops:begin -->',
                              '<!-- sgdc-ops:end -->')
    assert markers('cuda')[0] == '<!-- sgdc-ops-cuda:begin -->'


def test_default_run_has_no_models_and_only_selects_kinds():
    cases = build_cases(options(), triton_ok=False)
    kinds = [c['kind'] for c in cases]
    assert set(kinds) == {'aggregate', 'block', 'sge'}
    assert kinds.count('aggregate') == 2 * 2 * 3  # sizes x passes x impls
    assert [c['impl'] for c in cases if c['kind'] == 'aggregate'][:3] == \
        ['reference', 'shift', 'cpp']
    assert {c['impl'] for c in cases if c['kind'] == 'sge'} == \
        {'channel-sum', 'cxc'}
    only = build_cases(options(only=['sge', 'train_step'], train_step=True,
                               quick=True), triton_ok=False)
    assert [c['impl'] for c in only if c['kind'] == 'train_step'] == \
        ['upernet_r50', 'sgdc_r50']
    assert {c['kind'] for c in only} == {'sge', 'train_step'}


def test_cuda_adds_triton_and_paper_code_adds_paper_rows(tmp_path):
    cases = build_cases(options(device='cuda', paper_code=str(tmp_path)),
                        triton_ok=True)
    assert {c['impl'] for c in cases if c['kind'] == 'aggregate'} == \
        {'reference', 'shift', 'triton'}
    without = build_cases(options(device='cuda'), triton_ok=False)
    assert {c['impl'] for c in without if c['kind'] == 'aggregate'} == \
        {'reference', 'shift'}
    assert {c['impl'] for c in cases if c['kind'] == 'block'} == \
        {'default', 'reference', 'paper'}
    assert all(c['paper_code'] == str(tmp_path) for c in cases
               if c['kind'] in ('block', 'sge'))


def test_models_cases_one_run_every_model_size_and_pass():
    cases = build_cases(options(only=['models']), triton_ok=False)
    assert len(cases) == len(MODEL_CONFIGS) * 2 * 3
    assert {c['impl'] for c in cases} == {'sgdc', 'pool', 'self',
                                          'upernet_r50', 'fcn_unet'}
    assert {(c['size'], c['B']) for c in cases} == {(256, 2), (512, 2)}
    assert {c['pass_'] for c in cases} == {'complexity', 'train step',
                                           'eval forward'}


def test_table_ratios_skips_and_failures():
    group = 'SGE tiny fwd'
    cases = [dict(kind='sge', impl=i, group=group, device='cpu')
             for i in ('channel-sum', 'cxc', 'paper')]
    results = [dict(median_s=0.5, peak_bytes=1 << 20),
               dict(median_s=2.0, peak_bytes=4 << 20),
               dict(skipped='no einops')]
    table = make_table(cases, results, dict(gpu_peak_tbps=None))
    assert table.splitlines() == [
        '| case | impl | median time | peak memory | baseline | time ratio '
        '| memory ratio |',
        '|---|---|---|---|---|---|---|',
        '| SGE tiny fwd | channel-sum | 500.0 ms | 1.0 MiB | cxc | 4.0x | '
        '4.0x |',
        '| SGE tiny fwd | cxc | 2.00 s | 4.0 MiB | cxc | 1.0x | 1.0x |',
        '| SGE tiny fwd | paper | skipped: no einops |  |  |  |  |']
    failed = make_table(cases[:1], [dict(error='exit 1: boom')],
                        dict(gpu_peak_tbps=None))
    assert failed.splitlines()[-1] == (
        '| SGE tiny fwd | channel-sum | failed: exit 1: boom |  |  |  |  |')


def test_bound_and_scaling_only_when_named_and_on_cpu():
    assert {'bound', 'scaling'} <= set(KINDS)
    cases = build_cases(options(only=['bound', 'scaling']), triton_ok=False)
    assert [section_of(c) for c in cases] == \
        ['bound'] * 4 + ['scaling'] * (len(cases) - 4)
    with pytest.raises(ValueError, match=r"only: \['bound'\] measure the "
                       "CPU op; run them with device cpu, not 'cuda'"):
        build_cases(options(only=['aggregate', 'bound'], device='cuda'),
                    triton_ok=False)
    with pytest.raises(ValueError, match=r"unknown kind\(s\) \['roofline'\]"):
        build_cases(options(only=['roofline']), triton_ok=False)


def test_section_of_each_case():
    assert section_of(dict(kind='aggregate')) == 'ops'
    assert section_of(dict(kind='train_step')) == 'ops'
    assert section_of(dict(kind='models')) == 'models'
    assert section_of(dict(kind='models', section='scaling')) == 'scaling'
    assert section_of(dict(kind='machine', section='bound')) == 'bound'


def test_compile_train_step_adds_compiled_twins():
    plain = build_cases(options(device='cuda', only=['train_step']),
                        triton_ok=True)
    assert [c['impl'] for c in plain] == ['upernet_r50', 'sgdc_r50']
    both = build_cases(options(device='cuda', only=['train_step'],
                               compile_train_step=True), triton_ok=True)
    assert [c['impl'] for c in both] == [
        'upernet_r50', 'sgdc_r50', 'upernet_r50+compile', 'sgdc_r50+compile']
    assert {c['group'] for c in both} == {'train step batch 8 512x512'}
