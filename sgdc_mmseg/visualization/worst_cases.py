"""The figure of the worst test cases: one row per case, worst first, with
the image, the ground truth and the prediction (as overlays), the SGE edge
map (boundary probability, ``magma``, 0 to 1) and the true boundary
(``seg_to_boundary`` of the ground truth at the panel size, width 1). Row
labels give the image name, Dice and HD95.

Drawing only: the cases are ranked by
:mod:`sgdc_mmseg.evaluation.case_ranking` and predicted by
:func:`sgdc_mmseg.apis.worst_cases.predict_cases`.
"""


TITLES = ('image', 'ground truth', 'prediction', 'SGE edge map',
          'true boundary')


def _thumb_size(shape, thumb):
    h, w = shape[:2]
    scale = thumb / max(h, w)
    return max(1, round(w * scale)), max(1, round(h * scale))


def case_panels(result, thumb, palette, class_ids, ignore_index=255):
    """The five panels of one case at the thumbnail size: RGB arrays for
    image and overlays, the edge map (None without an SGE) and the true
    boundary as float maps in [0, 1]."""
    import cv2
    import numpy as np
    import torch

    from ..models.utils import seg_to_boundary
    from .maps import overlay_mask
    size = _thumb_size(result.image.shape, thumb)
    image = cv2.resize(result.image, size, interpolation=cv2.INTER_AREA)
    gt = cv2.resize(result.gt.astype(np.int32), size,
                    interpolation=cv2.INTER_NEAREST)
    pred = cv2.resize(result.pred.astype(np.int32), size,
                      interpolation=cv2.INTER_NEAREST)
    boundary = seg_to_boundary(torch.from_numpy(gt)[None], 1,
                               ignore_index)[0].numpy()
    return [
        image[..., ::-1],
        overlay_mask(image, gt, palette, class_ids, width=1)[..., ::-1],
        overlay_mask(image, pred, palette, class_ids, width=1)[..., ::-1],
        None if result.edge is None else cv2.resize(
            result.edge, size, interpolation=cv2.INTER_AREA),
        (boundary == 1).astype(np.float32),
    ]


def case_label(row, stem):
    """Row label: image name, Dice and HD95 (where defined)."""
    from ..evaluation.case_ranking import case_score
    dice, hd95 = case_score(row, 'Dice'), case_score(row, 'HD95')
    label = [str(row.get('image') or stem)]
    if dice is not None:
        label.append(f'Dice {dice:.1f}')
    if hd95 is not None:
        label.append(f'HD95 {hd95:.1f}')
    return '\n'.join(label)


def _draw_panel(ax, panel, column):
    ax.set_xticks([])
    ax.set_yticks([])
    if panel is None:
        ax.text(0.5, 0.5, 'no SGE', ha='center', va='center',
                transform=ax.transAxes)
    elif panel.ndim == 2:
        ax.imshow(panel, cmap='magma' if column == 3 else 'gray',
                  vmin=0, vmax=1, interpolation='nearest')
    else:
        ax.imshow(panel, interpolation='nearest')


def worst_cases_figure(cases, results, out, palette, class_ids, thumb=160,
                       sort_by='dice', ignore_index=255, colors=0):
    """Draw one row per case into the PNG ``out``: image, ground truth,
    prediction (overlays in ``palette``), SGE edge map, true boundary.

    Args:
        cases (list[tuple]): ``(score, per-image row)``, worst first
            (:func:`sgdc_mmseg.evaluation.case_ranking.rank_cases`).
        results (list[InferenceResult]): the model's outcome of every case
            (``image``, ``gt``, ``pred``, ``edge`` or None, ``stem``).
        thumb (int): longest side of each panel in pixels.
        sort_by (str): ``'dice'`` or ``'hd95'`` (the title's order).
        colors (int): store a palette PNG with this many colours (0: full
            colour).

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from .maps import save_figure
    rows = len(results)
    w0, h0 = _thumb_size(results[0].image.shape, thumb)
    cell = thumb / 100  # inches at dpi 100: panels at about thumb pixels
    fig_h = rows * cell * h0 / w0 + 0.6
    fig, axes = plt.subplots(rows, 5, squeeze=False,
                             figsize=(5 * cell + 0.9, fig_h))
    for r, ((_, row), res) in enumerate(zip(cases, results)):
        panels = case_panels(res, thumb, palette, class_ids, ignore_index)
        for c, panel in enumerate(panels):
            _draw_panel(axes[r][c], panel, c)
            if r == 0:
                axes[r][c].set_title(TITLES[c], fontsize=8)
        axes[r][0].set_ylabel(case_label(row, res.stem), fontsize=7)
    order = 'lowest Dice' if sort_by == 'dice' else 'highest HD95'
    fig.suptitle(f'{rows} worst cases ({order} first)', fontsize=9)
    fig.tight_layout(pad=0.3, h_pad=0.3, w_pad=0.2,
                     rect=(0, 0, 1, 1 - 0.3 / fig_h))
    save_figure(fig, out, dpi=100, colors=colors)
    plt.close(fig)
    return out
