"""What each kind of benchmark case builds (imported only in the harness's
child process, :mod:`sgdc_mmseg.benchmark.child`).

Every builder takes ``(case, device)`` and returns ``(step, cleanup,
extra)`` (:mod:`sgdc_mmseg.benchmark.harness`): ``step()`` is what is timed,
``cleanup()`` runs after each call outside the timing, ``extra`` is added
to the result; ``step=None`` for a measurement that is not timed.
"""
from .aggregate import build_aggregate
from .layers import build_block, build_sge
from .segmentors import build_model_case, build_train_step

#: ``case['kind']`` -> builder.
BUILDERS = dict(aggregate=build_aggregate, block=build_block, sge=build_sge,
                train_step=build_train_step, models=build_model_case)
