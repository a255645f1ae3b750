"""The benchmarks (``tools/benchmark/*.py``): what they measure and how.

* :mod:`.harness` -- one case per fresh ``python`` process
  (:mod:`.child`), timing, peak memory, the machine's description;
* :mod:`.report` -- number formats, Markdown tables, writing one section of
  ``docs/benchmarks.md`` between its markers;
* :mod:`.cases` -- what each kind of case builds and runs (the op, the SGDC
  block, the SGE, segmentor training steps and forwards, FLOPs, the
  machine's peaks);
* :mod:`.sgdc`, :mod:`.models`, :mod:`.bound` and :mod:`.scaling` -- the
  case lists and tables of ``tools/benchmark/benchmark_sgdc.py`` (op /
  block / SGE / train step; the models table of params, FLOPs, latency and
  memory; the op's distance to its bound; scaling with the image size);
* :mod:`.medical_metric` -- ``tools/benchmark/medical_metric.py``.

Imports go one way: the case lists and reports use the harness; the cases
use the harness's :class:`~.harness.SkipCase`; the harness imports neither
(its child process finds the cases through :mod:`.child`). Importing this
package imports nothing.
"""
