"""The models table of ``tools/benchmark/benchmark_sgdc.py --only models``:
parameters, FLOPs, CPU/GPU latency and peak memory of whole segmentors, one
row per model and input size, every measurement in a fresh process.

The models are the paper protocol's variants on ISIC 2016 at 256x256
(:data:`MODEL_CONFIGS`, as in ``configs/studies/isic2016_r50.py``): SGDC,
its pooling-kernel and self-kernel comparison points (SGE boundary loss
kept), mmseg's UPerNet-R50 and FCN on mmseg's UNet. For each model and size
three cases (:mod:`.cases.segmentors`): ``complexity`` (params; FLOPs of
mmengine's analysis as mmseg's ``get_flops.py`` counts them: one image,
eval mode, auxiliary heads removed, one FLOP = one multiply-add, the SGDC
op counted by :mod:`sgdc_mmseg.compat.flops`), ``train step`` (forward,
losses including auxiliary heads, backward and an SGD step, batch ``B``,
fp32) and ``eval forward`` (the ``mode='tensor'`` forward of batch ``B``
under ``no_grad``), each with its median time and peak memory.
"""
from .report import (format_bytes, format_count, format_time, markdown_table,
                     run_lines)

#: Row name -> config (relative to the repository root).
MODEL_CONFIGS = {
    'sgdc': 'configs/sgdc/sgdc_r50_1xb8-20k_isic2016-256x256.py',
    'pool': 'configs/sgdc/sgdc-pool_r50_1xb8-20k_isic2016-256x256.py',
    'self': 'configs/sgdc/sgdc-self_r50_1xb8-20k_isic2016-256x256.py',
    'upernet_r50': 'configs/sgdc/upernet_r50_1xb8-20k_isic2016-256x256.py',
    'fcn_unet': 'configs/sgdc/fcn_unet-s5-d16_1xb8-20k_isic2016-256x256.py',
}
MODEL_SIZES = (256, 512)
MODEL_BATCH = 2
MODEL_PASSES = ('complexity', 'train step', 'eval forward')


def markers(device):
    """The section markers of the models table on ``device``."""
    suffix = '' if device == 'cpu' else f'-{device}'
    return (f'<!-- sgdc-models{suffix}:begin -->',
            f'<!-- sgdc-models{suffix}:end -->')


def model_cases(names, sizes, batch, device):
    """The cases of the table: for each size, each model, each pass."""
    unknown = [n for n in names if n not in MODEL_CONFIGS]
    if unknown:
        raise ValueError(f'unknown model(s) {unknown}; known: '
                         f'{sorted(MODEL_CONFIGS)}')
    return [dict(kind='models', impl=name, pass_=pass_,
                 group=f'{size}x{size}', device=device,
                 config=MODEL_CONFIGS[name], size=size, B=batch)
            for size in sizes for name in names for pass_ in MODEL_PASSES]


def _timing_cells(result):
    """Median time and peak memory, or why there are none."""
    if result is None:
        return ['', '']
    if 'median_s' in result:
        return [format_time(result['median_s']),
                format_bytes(result['peak_bytes'])]
    why = ('skipped: ' + result['skipped'] if 'skipped' in result
           else 'failed: ' + result.get('error', 'no result'))
    return [why, '']


def models_table(cases, results):
    """One row per (size, model): params, FLOPs, train-step and
    eval-forward time and peak memory."""
    header = ['input', 'model', 'params', 'FLOPs (1 image)',
              'train step', 'train peak memory', 'eval forward',
              'eval peak memory']
    rows = {}
    for case, result in zip(cases, results):
        rows.setdefault((case['group'], case['impl']), {})[
            case['pass_']] = result
    lines = []
    for (group, name), by_pass in rows.items():
        complexity = by_pass.get('complexity') or {}
        if 'flops' in complexity:
            counts = [format_count(complexity['params']),
                      format_count(complexity['flops'])]
        else:
            counts = _timing_cells(complexity or None)
        lines.append([group, name] + counts
                     + _timing_cells(by_pass.get('train step'))
                     + _timing_cells(by_pass.get('eval forward')))
    return markdown_table(header, lines)


def models_section(options, info, table, elapsed, date):
    """The Markdown section of the models table (header lines, table)."""
    names = ', '.join(f'`{n}` = `{MODEL_CONFIGS[n]}`'
                      for n in options.models)
    lines = [
        f'## Models: params, FLOPs, latency, peak memory '
        f'({options.device.upper()})',
        '',
        'Written by `tools/benchmark/benchmark_sgdc.py --only models` '
        '(method in `sgdc_mmseg/benchmark/models.py` and '
        '`sgdc_mmseg/benchmark/harness.py`).',
        '',
        *run_lines(options, info, elapsed, date, info['gpu'] or 'none'),
        f'- models: {names}; SyncBN as BN, no pretrained weights, 2 classes',
        f'- batch {options.model_batch}, fp32, random images and masks; '
        'train step: data preprocessor, forward, losses (auxiliary heads '
        'included), backward, SGD step; eval forward: `mode=\'tensor\'` '
        'under `no_grad`; FLOPs: one image, eval mode, auxiliary heads '
        'removed, one FLOP = one multiply-add (mmengine), the SGDC op '
        'included',
        f'- time: median of {options.repeats} timed calls after '
        f'{options.warmup} warm-up call(s), each measurement in a fresh '
        'process; peak memory: '
        + ('`max_memory_allocated` increase over the call'
           if options.device == 'cuda' else
           'peak RSS increase over the call (`clear_refs` / `VmHWM`)'),
    ]
    if options.note:
        lines.append(f'- note: {options.note}')
    return '\n'.join(lines + ['', table])
