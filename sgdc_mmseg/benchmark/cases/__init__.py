"""What each kind of benchmark case builds (imported only in the harness's
child process, :mod:`sgdc_mmseg.benchmark.child`).

Every builder takes ``(case, device)`` and returns ``(step, cleanup,
extra)`` (:mod:`sgdc_mmseg.benchmark.harness`): ``step()`` is what is timed,
``cleanup()`` runs after each call outside the timing, ``extra`` is added
to the result; ``step=None`` for a measurement that is not timed (the
segmentors' FLOPs, the machine's peaks of :mod:`.machine`).
"""
from .aggregate import build_aggregate
from .layers import build_block, build_sge
from .machine import build_machine
from .segmentors import build_model_case, build_train_step

#: ``case['kind']`` -> builder.
BUILDERS = dict(aggregate=build_aggregate, block=build_block, sge=build_sge,
                train_step=build_train_step, models=build_model_case,
                machine=build_machine)
