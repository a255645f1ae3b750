"""Separating touching nuclei with a predicted boundary map (the SGE's
edge probability): marker-controlled watershed.

Connected components merge touching nuclei into one instance, which costs
both AJI and PQ. The SGE of an SGDC model predicts where object boundaries
are; between two touching nuclei that is the contact line. So:

1. seeds = connected components of ``foreground AND boundary < threshold``
   (the nucleus interiors, cut apart by the predicted contact lines);
   seeds smaller than ``min_seed_area`` pixels are dropped: a smooth
   boundary map dips below the threshold in single pixels along the rim of
   a nucleus, and each would become a nucleus of its own (two touching
   discs with a Gaussian-blurred boundary map give 8 instances with
   ``min_seed_area=1``, 2 with the default 10; see the tests). A dropped
   seed loses nothing: its pixels are flooded from the other seeds of their
   component, or form an instance of their own (step 3);
2. ``skimage.segmentation.watershed`` floods the boundary probability from
   the seeds, restricted to the foreground: every foreground pixel goes to
   the seed it is reached from through the lowest boundary values, so the
   split follows the predicted contact line;
3. a foreground component that holds no seed (a nucleus the boundary map
   covers entirely, e.g. a very small one) is kept as one instance of its
   own: the watershed would leave it unlabelled, and the post-processing
   never removes foreground.

The result covers exactly the foreground (instance ids ``1..K``, 0 =
background), so the binary Dice/IoU of a prediction do not change; only
the instances do.

Lives in ``evaluation.functional`` (pure numpy, no model) because
evaluation uses it and must not import ``sgdc_mmseg.models``; inference
code can import it from here.
"""
import numpy as np

from .instances import label_components


def check_probability_map(name: str, prob, shape=None) -> np.ndarray:
    """``prob`` as float64, checked: 2-D, ``shape`` when given, finite, in
    ``[0, 1]`` (else ``ValueError`` saying to apply a sigmoid to logits)."""
    prob = np.asarray(prob, dtype=np.float64)
    if prob.ndim != 2:
        raise ValueError(f'{name} must be a 2-D map, got shape {prob.shape}')
    if shape is not None and prob.shape != tuple(shape):
        raise ValueError(f'{name} has shape {prob.shape}, the foreground '
                         f'{tuple(shape)}')
    if not np.all(np.isfinite(prob)):
        raise ValueError(f'{name} has non-finite values')
    if prob.size and (prob.min() < 0 or prob.max() > 1):
        raise ValueError(
            f'{name} must hold probabilities in [0, 1], got values in '
            f'[{prob.min():.3g}, {prob.max():.3g}] (apply a sigmoid to edge '
            'logits)')
    return prob


def split_instances(foreground: np.ndarray,
                    boundary_prob: np.ndarray,
                    threshold: float = 0.5,
                    min_seed_area: int = 10,
                    connectivity: int = 2) -> np.ndarray:
    """Instances of ``foreground`` split along ``boundary_prob``.

    Args:
        foreground (np.ndarray): 2-D mask of the predicted nuclei (nonzero).
        boundary_prob (np.ndarray): boundary probability in ``[0, 1]``, same
            shape (e.g. the sigmoid of the SGE's edge logits).
        threshold (float): pixels with ``boundary_prob < threshold`` may be
            seeds; in ``(0, 1]``. Default 0.5.
        min_seed_area (int): seeds with fewer pixels are dropped. Default
            10 (1 keeps all).
        connectivity (int): 1 (4-neighbours) or 2 (8-neighbours) for the
            seeds, the watershed and the seedless components. Default 2.

    Returns:
        np.ndarray: int32 instance map, ids ``1..K``, nonzero exactly on
        the foreground.
    """
    from skimage.segmentation import watershed
    foreground = np.asarray(foreground)
    if foreground.ndim != 2:
        raise ValueError(f'foreground must be a 2-D mask, got shape '
                         f'{foreground.shape}')
    foreground = foreground != 0
    prob = check_probability_map('boundary_prob', boundary_prob,
                                 foreground.shape)
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f'threshold must lie in (0, 1], got {threshold!r}')
    if isinstance(min_seed_area, bool) or \
            not isinstance(min_seed_area, (int, np.integer)) or \
            min_seed_area < 1:
        raise ValueError(f'min_seed_area must be an int >= 1, got '
                         f'{min_seed_area!r}')
    seeds = label_components(foreground & (prob < threshold), connectivity)
    if min_seed_area > 1 and seeds.max() > 0:
        areas = np.bincount(seeds.ravel())
        small = areas < min_seed_area
        small[0] = False
        seeds[small[seeds]] = 0
    labels = np.zeros(foreground.shape, dtype=np.int32)
    if seeds.max() > 0:
        labels = watershed(prob, markers=seeds, mask=foreground,
                           connectivity=connectivity).astype(np.int32)
    leftover = foreground & (labels == 0)
    if leftover.any():
        extra = label_components(leftover, connectivity)
        labels[leftover] = extra[leftover] + labels.max()
    # consecutive ids 1..K
    ids, inverse = np.unique(labels, return_inverse=True)
    out = inverse.reshape(labels.shape).astype(np.int32)
    return out if ids[0] == 0 else out + 1
