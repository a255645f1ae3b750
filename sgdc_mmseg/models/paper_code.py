"""Loading the paper's public code (github solstice0621/SGDC) from a
checkout, for the parity check and the benchmark; nothing is imported at
package import.

The paper's ``SGE.py`` and ``sgdc.py`` are read, not modified:
``sgdc.py`` is executed from memory with its einops pattern ``(hgt*wdt)``
(rejected by einops) replaced by the intended ``(hgt wdt)``; timm, which it
imports only for ``DropPath``, is replaced by mmcv's ``DropPath`` when timm
is absent (:func:`ensure_timm_droppath`). The paper's code needs einops.
"""
import os.path as osp
import sys
import types

#: The fix applied to ``sgdc.py`` in memory: (old, new).
SGDC_EINOPS_FIX = ('(hgt*wdt)', '(hgt wdt)')


def load_paper_module(path, name, patch=None):
    """Execute the Python file ``path`` as a new module ``name`` (not put in
    ``sys.modules``), with ``source.replace(*patch)`` applied first.

    Raises:
        FileNotFoundError: ``path`` is not a file (the message names it).
        ImportError: the file imports a package that is not installed.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found (pass the folder of a checkout of github '
            'solstice0621/SGDC)')
    with open(path, encoding='utf-8') as f:
        source = f.read()
    if patch:
        source = source.replace(*patch)
    module = types.ModuleType(name)
    module.__file__ = path
    exec(compile(source, path, 'exec'), module.__dict__)
    return module


def ensure_timm_droppath():
    """Make ``timm.models.layers.DropPath`` importable: mmcv's ``DropPath``
    in stand-in ``timm`` modules when timm is not installed."""
    try:
        import timm.models.layers  # noqa: F401
    except ImportError:
        from mmcv.cnn.bricks import DropPath
        layers = types.ModuleType('timm.models.layers')
        layers.DropPath = DropPath
        timm = types.ModuleType('timm')
        models = types.ModuleType('timm.models')
        timm.models, models.layers = models, layers
        sys.modules.update({'timm': timm, 'timm.models': models,
                            'timm.models.layers': layers})


def load_paper_sge(paper_repo):
    """The paper's ``SGE.py`` of the checkout ``paper_repo`` (its ``SGE``
    class: ``SGE(s4_in, s1_in, mid, guide_ch, bottleneck)``)."""
    ensure_timm_droppath()
    return load_paper_module(osp.join(paper_repo, 'SGE.py'), 'paper_sge')


def load_paper_sgdc(paper_repo):
    """The paper's ``sgdc.py`` of ``paper_repo`` with the einops fix (its
    ``SGDC`` class: ``SGDC(dim, guide_ch, num_heads, kernel_size, ...)``)."""
    ensure_timm_droppath()
    return load_paper_module(osp.join(paper_repo, 'sgdc.py'), 'paper_sgdc',
                             patch=SGDC_EINOPS_FIX)
