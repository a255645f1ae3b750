"""model-index.yml and configs/sgdc/metafile.yaml (mmseg's metafile
format): every config listed exactly once, every listed config exists, its
name-encoded schedule matches the metadata, and every result is a
measurement the docs report (all numbers of a result on one line of the
document it names)."""
import glob
import os.path as osp
import re

import pytest
import yaml

from helpers import REPO_ROOT

SGDC_DIR = osp.join(REPO_ROOT, 'configs', 'sgdc')


def _read_yaml(rel):
    with open(osp.join(REPO_ROOT, rel), encoding='utf-8') as f:
        return yaml.safe_load(f)


def _models():
    index = _read_yaml('model-index.yml')
    assert index['Import'] == ['configs/sgdc/metafile.yaml']
    meta = _read_yaml(index['Import'][0])
    collections = {c['Name'] for c in meta['Collections']}
    for model in meta['Models']:
        assert model['In Collection'] in collections, model['Name']
    return meta['Models']


MODELS = _models()


def _iters(name):
    """The iterations a config's name promises (``-20k_``, ``-600_``)."""
    count = re.search(r'_\d+xb\d+-(\d+)(k?)_', name)
    assert count, name
    return int(count.group(1)) * (1000 if count.group(2) else 1)


def test_every_config_listed_exactly_once():
    listed = [m['Config'] for m in MODELS]
    assert len(listed) == len(set(listed))
    shipped = {f'configs/sgdc/{osp.basename(p)}'
               for p in glob.glob(osp.join(SGDC_DIR, '*.py'))}
    assert set(listed) == shipped
    for model in MODELS:
        assert osp.isfile(osp.join(REPO_ROOT, model['Config']))
        assert model['Config'] == f"configs/sgdc/{model['Name']}.py"
        assert 'Weights' not in model  # no trained weights are published


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_metadata_matches_the_name(model):
    meta = model['Metadata']
    assert meta['iterations'] == _iters(model['Name'])
    gpus, batch = map(int, re.search(r'_(\d+)xb(\d+)-',
                                     model['Name']).groups())
    assert meta['Batch Size'] == gpus * batch
    assert len(meta['crop size']) == 2 and meta['Training Data']
    scratch = meta['Pretrained'] == 'none (from scratch)'
    if '-scratch_' in model['Name']:
        assert scratch
    if '_r50_' in model['Name']:
        assert meta['Pretrained'] == 'ImageNet (open-mmlab://resnet50_v1c)'


RESULTS = [(m['Name'], i, r) for m in MODELS
           for i, r in enumerate(m.get('Results', []))]


def test_measured_results_are_listed():
    """The runs the docs report: protocol A (6 models, also PH2 for two),
    protocol B (4 from-scratch models), the demo and the DRIVE and MoNuSeg
    CPU runs (4 variants each)."""
    names = {name for name, _, _ in RESULTS}
    assert len(names) == 19 and len(RESULTS) == 21
    assert 'sgdc_r50-scratch_1xb8-1500_isic2017-256x192' in names
    assert 'sgdc_r50_1xb8-1500_isic2017-256x192' not in names  # pretrained


@pytest.mark.parametrize('name,index,result', RESULTS,
                         ids=[f'{n}-{i}' for n, i, _ in RESULTS])
def test_result_numbers_appear_in_the_docs(name, index, result):
    assert result['Task'] == 'Semantic Segmentation'
    assert result['Dataset'] and result['Protocol'] and result['Seeds']
    with open(osp.join(REPO_ROOT, result['Source']), encoding='utf-8') as f:
        lines = f.read().splitlines()
    numbers = [f'{value:.2f}' for value in result['Metrics'].values()]
    assert numbers
    found = [line for line in lines
             if all(re.search(rf'(?<![\d.]){re.escape(n)}(?!\d)', line)
                    for n in numbers)]
    assert found, (name, result['Source'], numbers)
