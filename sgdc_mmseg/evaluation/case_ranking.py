"""Ranking test images by their per-image metrics (rows of
:func:`sgdc_mmseg.evaluation.test_outputs.read_per_image`): the worst cases
first, by Dice (lowest first) or HD95 (highest first) of one class or the
mean over the row's foreground classes."""
from .test_outputs import COL_SKIPPED, finite_or_none, per_image_column

#: ``sort_by`` -> per-image metric name.
SORT_KEYS = dict(dice='Dice', hd95='HD95')


def case_score(row, metric, class_name=None):
    """``metric`` (``'Dice'``/``'HD95'``) of ``class_name``, or the mean over
    the row's classes; None when undefined."""
    if class_name is not None:
        key = per_image_column(metric, class_name)
        if key not in row:
            classes = sorted(k.split('.', 1)[1] for k in row
                             if k.startswith(f'{metric}.'))
            raise ValueError(f'no column {key!r} in the metrics; classes '
                             f'there: {classes}')
        return finite_or_none(row[key])
    values = [finite_or_none(v) for k, v in row.items()
              if k.startswith(f'{metric}.')]
    values = [v for v in values if v is not None]
    if not values and not any(k.startswith(f'{metric}.') for k in row):
        raise ValueError(f'no {metric}.<class> columns in the metrics')
    return sum(values) / len(values) if values else None


def rank_cases(rows, sort_by='dice', class_name=None):
    """``[(score, row)]`` sorted worst first (undefined scores last).

    Images that were not scored (``skipped`` set, e.g. ground truth entirely
    ``ignore_index``) are not cases and are left out."""
    metric = SORT_KEYS[sort_by]
    rows = [r for r in rows if not r.get(COL_SKIPPED)]
    scored = [(case_score(r, metric, class_name), r) for r in rows]
    defined = [(s, r) for s, r in scored if s is not None]
    undefined = [(s, r) for s, r in scored if s is None]
    defined.sort(key=lambda sr: sr[0], reverse=(sort_by == 'hd95'))
    return defined + undefined
