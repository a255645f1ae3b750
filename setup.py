"""Install sgdc_mmseg.

mmcv is deliberately not in ``install_requires``: full mmcv (with compiled
ops) and ``mmcv-lite`` are two distributions owning the same ``mmcv/`` files,
so the choice is made by ``tools/install.py`` (it keeps a full mmcv that is
already installed and installs ``mmcv-lite==2.1.0`` otherwise). Use the
extras ``[lite]`` or ``[full]`` to choose by hand.

Like OpenMMLab projects (mmseg's ``add_mim_extension``), a built wheel or
sdist-built wheel ships the configs, the tools and ``model-index.yml`` in
the package as ``sgdc_mmseg/.mim/{configs,tools,model-index.yml}``, where
``sgdc_mmseg::`` config paths find them (sgdc_mmseg/compat/config_scope.py).
They are copied into the build folder, never into the source tree; an
editable install has no ``.mim`` and uses the tree's own folders.
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# Copied into the wheel under sgdc_mmseg/.mim (see the docstring).
MIM_FILES = ('configs', 'tools', 'model-index.yml')

here = osp.dirname(osp.abspath(__file__))
version = {}
with open(osp.join(here, 'sgdc_mmseg', 'version.py')) as f:
    exec(f.read(), version)

with open(osp.join(here, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()


class BuildPyWithMim(build_py):
    """build_py that also copies MIM_FILES into ``sgdc_mmseg/.mim`` of the
    build folder (not for editable installs)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = osp.join(self.build_lib, 'sgdc_mmseg', '.mim')
        for name in MIM_FILES:
            src, dst = osp.join(here, name), osp.join(mim, name)
            if not osp.exists(src):
                raise FileNotFoundError(
                    f'setup.py: "{src}" is missing; it ships in '
                    'sgdc_mmseg/.mim')
            if osp.isdir(dst):
                shutil.rmtree(dst)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                    '__pycache__', '*.pyc'))
            else:
                os.makedirs(mim, exist_ok=True)
                shutil.copy2(src, dst)


setup(
    name='sgdc_mmseg',
    version=version['__version__'],
    description='Structure-Guided Dynamic Convolution (SGDC) for mmsegmentation',
    long_description=long_description,
    long_description_content_type='text/markdown',
    packages=find_packages(include=['sgdc_mmseg', 'sgdc_mmseg.*']),
    # the C++ source of the 'cpp' aggregation backend, compiled on first use
    package_data={'sgdc_mmseg': ['ops/csrc/*.cpp']},
    cmdclass={'build_py': BuildPyWithMim},
    python_requires='>=3.8',
    install_requires=[
        'torch>=2.0',
        'mmengine==0.10.7',
        # mmengine 0.10.7 resolves ``mmseg::`` config paths with
        # pkg_resources, which setuptools 81 removed.
        'setuptools<81',
        'mmsegmentation==1.2.2',
        'ftfy',
        'regex',
        'numpy',
        'scipy',
        'opencv-python',
        'Pillow',
        # skeletons (clDice) and the watershed of the SGE instance split
        # (sgdc_mmseg.evaluation.functional); tested with 0.26.0
        'scikit-image',
        # torch.utils.cpp_extension builds the 'cpp' aggregation backend
        # with ninja (and the machine's C++ compiler) on first use
        'ninja',
    ],
    extras_require={
        'lite': ['mmcv-lite==2.1.0'],
        'full': ['mmcv>=2.0.0,<2.2.0'],
        # triton runs the CUDA kernels of the 'triton' aggregation backend
        # under its CPU interpreter in the tests (CUDA builds of torch
        # already bring it).
        'tests': ['pytest', 'triton; platform_system == "Linux"'],
        # ONNX export of SGDC models (sgdc_mmseg.ops.export) and its tests;
        # tested with onnx 1.23.2, onnxruntime 1.32.0, onnxscript 0.7.2
        'onnx': ['onnx', 'onnxruntime', 'onnxscript'],
        # mmengine's TensorboardVisBackend (docs/mmseg_users.md); tested
        # with tensorboard 2.21.0
        'tensorboard': ['tensorboard'],
    },
    license='Apache-2.0',
)
