"""The ``'triton'`` backend of :func:`sgdc_mmseg.ops.sgdc_aggregate`
(SGDC, Structure-Guided Dynamic Convolution, MIDL 2026, arXiv 2602.23496):
fused Triton kernels (softmax fused in, fp32 accumulation) for CUDA tensors
in float32, float16, bfloat16 and float64; ``'auto'`` picks it for CUDA
tensors when Triton is installed.

Notation: ``x`` is ``[B, C, H, W]``, head ``h`` owns the ``CPH = C / heads``
channels ``[h*CPH, (h+1)*CPH)``, ``k = 2r + 1`` and tap ``t = (dy, dx)``
(row-major, ``0 <= dy, dx < k``) reads the neighbour ``p + d_t`` with
``d_t = (dy - r, dx - r)``; ``w_t[p] = softmax_t(logits[h*k*k + t, p])``.

* forward:  ``out[c, p] = sum_t w_t[p] * x[c, p + d_t]`` (zero padding)
* grad x:   ``gx[c, p] = sum_t w_t[p - d_t] * g[c, p - d_t]`` (the gather
  form of the transposed operation: no atomics)
* grad logits: ``gw[t, p] = sum_{c in head} g[c, p] * x[c, p + d_t]``, then
  the softmax backward ``gl[t, p] = w_t[p] * (gw[t, p] - sum_s w_s[p] gw[s, p])``

Three kernels, all on a 2-D pixel tile of ``TILE_H x TILE_W`` pixels
(``TILE_W`` along the contiguous W axis, 32 on large images, so a row of the
tile is one 128-byte fp32 line), flattened to ``BLOCK_P`` lanes. The grid is
1-D, one program per (b, head, tile[, channel block]) with the channel
blocks fastest and neighbouring tiles next, so the programs running together
share a tile's logits and halos in L2 and DRAM sees each input about once.

* ``_fwd_kernel`` (one program per 4x32 tile and block of ``BLOCK_C <= 16``
  channels): reduces the tile's ``k*k`` logits to the per-pixel
  log-sum-exp ``lse`` (fp32; max then sum, so ``-inf`` logits are fine),
  then loops over the taps and accumulates
  ``exp(logit_t - lse) * x[cblock, p + d_t]`` into a ``[BLOCK_C, BLOCK_P]``
  fp32 accumulator: no reduction inside the loop, the weight of a tap is
  computed once for ``BLOCK_C`` channels, and the ``k*k`` shifted reads of
  ``x`` hit L1/L2 (the tile and its halo). The first channel block also
  stores ``lse`` (``heads*H*W`` floats) for the backward.
* ``_grad_x_kernel``, same tiling: the same tap loop in the gather form; the
  weight of tap ``t`` at ``p - d_t`` is rebuilt as ``exp(logit - lse)``.
* ``_grad_logits_kernel`` (one program per tile and head): keeps ``gw`` for
  all taps of the tile in a ``[KK_PAD, BLOCK_P]`` fp32 block (``KK_PAD`` =
  ``k*k`` rounded up to a power of two), loops over the head's channels (one
  ``[BLOCK_P]`` row of ``g`` and one gathered ``[KK_PAD, BLOCK_P]``
  neighbourhood of ``x`` per channel, again from cache), then applies the
  softmax backward in registers and writes the logits' gradient once.
  ``BLOCK_P = 4096 / KK_PAD`` (k=7: 64 taps, 49 used, x 2x32 pixels).

All three use 8 warps; compiled offline for sm_90a (Triton 3.9, ptxas),
they need no spills and 64-124 registers per thread (fp32 and bf16,
k = 3..9), i.e. at least 2-3 resident blocks (16-24 warps) per SM. The
sizes come from that and from reasoning, not from timing on a GPU; they are
not autotuned.

Forward and backward (:func:`forward`, :func:`backward`; the interface
of :mod:`.shift`) run as the ``'triton'`` branch of the
``sgdc_mmseg::sgdc_aggregate`` operator and its backward operator (see
:mod:`sgdc_mmseg.ops.aggregate_op`); ``lse`` is the operator's second
output (:func:`saved_spec`). Saved for the backward: ``x``, the logits
and ``lse`` -- ``O(C*H*W + heads*k*k*H*W)``, never the ``k*k`` copies of
``x``.
Accumulation is fp32 for fp16/bf16/fp32 inputs (fp64 for fp64, which serves
gradcheck); outputs and gradients come back in the input dtype.

Triton is optional: this module imports without it;
:func:`triton_available` says whether it could be imported and
:func:`can_run` whether the kernels run on given inputs. With
``TRITON_INTERPRET=1`` set before this module is first imported, the kernels
run on CPU tensors under Triton's interpreter (slow; for tests only; the
``'auto'`` choice never takes it for CPU tensors).
"""
import contextlib

import torch

from ..checks import CAN_RUN, Verdict

try:
    import triton
    import triton.language as tl
except ImportError as err:  # Triton is optional
    triton = tl = None
    _TRITON_IMPORT_ERROR = err
else:
    _TRITON_IMPORT_ERROR = None

NAME = 'triton'
#: Whether the operator's inputs are made contiguous first (the kernels
#: index dense ``[B, C, H, W]`` planes).
CONTIGUOUS_INPUTS = True
SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16,
                    torch.float64)


def triton_available():
    """Whether Triton could be imported (the backend can be used)."""
    return _TRITON_IMPORT_ERROR is None


if triton is not None:

    @triton.jit
    def _program_coords(n_cblocks, H, W, TILE_H: tl.constexpr,
                        TILE_W: tl.constexpr):
        """Split the 1-D program id into (b*HEADS + head, channel block,
        tile) -- channel blocks fastest, so the programs that share a tile's
        logits run together and find them in L2 -- and return the row,
        column and in-image mask of each lane of the tile."""
        pid = tl.program_id(0)
        n_tiles_w = tl.cdiv(W, TILE_W)
        n_tiles = tl.cdiv(H, TILE_H) * n_tiles_w
        pid_c = pid % n_cblocks
        pid_tile = (pid // n_cblocks) % n_tiles
        pid_bh = pid // (n_cblocks * n_tiles)
        lanes = tl.arange(0, TILE_H * TILE_W)
        row = (pid_tile // n_tiles_w) * TILE_H + lanes // TILE_W
        col = (pid_tile % n_tiles_w) * TILE_W + lanes % TILE_W
        return pid_bh, pid_c, row, col, (row < H) & (col < W)

    @triton.jit
    def _fwd_kernel(x_ptr, logit_ptr, out_ptr, lse_ptr, C, H, W, HEADS, CPH,
                    K: tl.constexpr, TILE_H: tl.constexpr, TILE_W: tl.constexpr,
                    BLOCK_C: tl.constexpr, ACC: tl.constexpr):
        pid_bh, pid_c, row, col, in_img = _program_coords(
            tl.cdiv(CPH, BLOCK_C), H, W, TILE_H, TILE_W)
        KK: tl.constexpr = K * K
        R: tl.constexpr = K // 2
        HW = H * W
        pix = row * W + col
        logit_base = logit_ptr + pid_bh.to(tl.int64) * KK * HW
        # first channel of this head and block: b*C + head*CPH + cblock
        chan0 = (pid_bh // HEADS) * C + (pid_bh % HEADS) * CPH
        chans = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
        chan_ok = chans < CPH
        plane = (chan0 + chans).to(tl.int64) * HW  # [BLOCK_C]

        # per-pixel log-sum-exp over the k*k taps: max, then sum of exps
        # (two short passes over [BLOCK_P] rows that stay in cache)
        logit_pix = logit_base + pix  # tap t of pixel p: logit_pix + t*HW
        peak = tl.full([TILE_H * TILE_W], float('-inf'), dtype=ACC)
        for t in range(KK):
            logit = tl.load(logit_pix + t * HW, mask=in_img, other=0.0)
            peak = tl.maximum(peak, logit.to(ACC))
        total = tl.zeros([TILE_H * TILE_W], dtype=ACC)
        for t in range(KK):
            logit = tl.load(logit_pix + t * HW, mask=in_img, other=0.0)
            total += tl.exp(logit.to(ACC) - peak)
        lse = peak + tl.log(total)

        x_rows = x_ptr + plane[:, None]  # [BLOCK_C, 1]
        chan_mask = chan_ok[:, None]
        acc = tl.zeros([BLOCK_C, TILE_H * TILE_W], dtype=ACC)
        for dy in range(K):
            row_ok = in_img & (row + (dy - R) >= 0) & (row + (dy - R) < H)
            for dx in range(K):
                ok = row_ok & (col + (dx - R) >= 0) & (col + (dx - R) < W)
                logit = tl.load(logit_pix + (dy * K + dx) * HW, mask=in_img,
                                other=0.0)
                weight = tl.exp(logit.to(ACC) - lse)
                # neighbour p + d_t is a constant offset from p
                xv = tl.load(x_rows + (pix + ((dy - R) * W + dx - R))[None, :],
                             mask=chan_mask & ok[None, :], other=0.0)
                acc += xv.to(ACC) * weight[None, :]
        tl.store(out_ptr + plane[:, None] + pix[None, :],
                 acc.to(out_ptr.dtype.element_ty),
                 mask=chan_mask & in_img[None, :])
        if pid_c == 0:
            tl.store(lse_ptr + pid_bh.to(tl.int64) * HW + pix, lse,
                     mask=in_img)

    @triton.jit
    def _grad_x_kernel(g_ptr, logit_ptr, lse_ptr, gx_ptr, C, H, W, HEADS, CPH,
                       K: tl.constexpr, TILE_H: tl.constexpr,
                       TILE_W: tl.constexpr, BLOCK_C: tl.constexpr,
                       ACC: tl.constexpr):
        pid_bh, pid_c, row, col, in_img = _program_coords(
            tl.cdiv(CPH, BLOCK_C), H, W, TILE_H, TILE_W)
        KK: tl.constexpr = K * K
        R: tl.constexpr = K // 2
        HW = H * W
        logit_base = logit_ptr + pid_bh.to(tl.int64) * KK * HW
        lse_base = lse_ptr + pid_bh.to(tl.int64) * HW
        pix = row * W + col
        chan0 = (pid_bh // HEADS) * C + (pid_bh % HEADS) * CPH
        chans = pid_c * BLOCK_C + tl.arange(0, BLOCK_C)
        chan_ok = chans < CPH
        plane = (chan0 + chans).to(tl.int64) * HW

        g_rows = g_ptr + plane[:, None]  # [BLOCK_C, 1]
        chan_mask = chan_ok[:, None]
        acc = tl.zeros([BLOCK_C, TILE_H * TILE_W], dtype=ACC)
        for dy in range(K):
            # the output pixel q = p - d_t read x[p] through tap t
            row_ok = in_img & (row - (dy - R) >= 0) & (row - (dy - R) < H)
            for dx in range(K):
                ok = row_ok & (col - (dx - R) >= 0) & (col - (dx - R) < W)
                q = pix - ((dy - R) * W + dx - R)
                logit = tl.load(logit_base + (dy * K + dx) * HW + q, mask=ok,
                                other=0.0)
                lse = tl.load(lse_base + q, mask=ok, other=0.0)
                weight = tl.where(ok, tl.exp(logit.to(ACC) - lse), 0.0)
                gv = tl.load(g_rows + q[None, :],
                             mask=chan_mask & ok[None, :], other=0.0)
                acc += gv.to(ACC) * weight[None, :]
        tl.store(gx_ptr + plane[:, None] + pix[None, :],
                 acc.to(gx_ptr.dtype.element_ty),
                 mask=chan_mask & in_img[None, :])

    @triton.jit
    def _grad_logits_kernel(g_ptr, x_ptr, logit_ptr, lse_ptr, gl_ptr, C, H, W,
                            HEADS, CPH, K: tl.constexpr, KK_PAD: tl.constexpr,
                            TILE_H: tl.constexpr, TILE_W: tl.constexpr,
                            ACC: tl.constexpr):
        pid_bh, _, row, col, in_img = _program_coords(1, H, W, TILE_H,
                                                      TILE_W)
        KK: tl.constexpr = K * K
        R: tl.constexpr = K // 2
        HW = H * W
        pix = row * W + col
        taps = tl.arange(0, KK_PAD)
        tap_ok = taps < KK
        # neighbour of every pixel through every tap: [KK_PAD, BLOCK_P]
        nr = row[None, :] + (taps // K - R)[:, None]
        nc = col[None, :] + (taps % K - R)[:, None]
        nb_ok = (tap_ok[:, None] & in_img[None, :] & (nr >= 0) & (nr < H)
                 & (nc >= 0) & (nc < W))
        nb = nr * W + nc
        chan0 = (pid_bh // HEADS) * C + (pid_bh % HEADS) * CPH

        # gw[t, p] = sum over the head's channels of g[c, p] * x[c, p + d_t]
        gw = tl.zeros([KK_PAD, TILE_H * TILE_W], dtype=ACC)
        for c in range(CPH):
            plane = (chan0 + c).to(tl.int64) * HW
            gv = tl.load(g_ptr + plane + pix, mask=in_img, other=0.0)
            xv = tl.load(x_ptr + plane + nb, mask=nb_ok, other=0.0)
            gw += xv.to(ACC) * gv.to(ACC)[None, :]

        # softmax backward over the taps, weights rebuilt from lse
        logit_base = logit_ptr + pid_bh.to(tl.int64) * KK * HW
        own = tap_ok[:, None] & in_img[None, :]
        logits = tl.load(logit_base + taps[:, None] * HW + pix[None, :],
                         mask=own, other=0.0).to(ACC)
        lse = tl.load(lse_ptr + pid_bh.to(tl.int64) * HW + pix, mask=in_img,
                      other=0.0).to(ACC)
        weight = tl.where(tap_ok[:, None], tl.exp(logits - lse[None, :]), 0.0)
        dot = tl.sum(weight * gw, axis=0)
        grad = weight * (gw - dot[None, :])
        tl.store(gl_ptr + pid_bh.to(tl.int64) * KK * HW + taps[:, None] * HW
                 + pix[None, :], grad.to(gl_ptr.dtype.element_ty), mask=own)


def kernels_interpreted():
    """Whether the kernels were built for Triton's CPU interpreter
    (``TRITON_INTERPRET=1`` when this module was imported)."""
    return (triton is not None
            and type(_fwd_kernel).__name__ == 'InterpretedFunction')


def _next_pow2(n):
    return 1 << max(int(n) - 1, 0).bit_length()


def _acc_dtypes(dtype):
    """(triton, torch) accumulation dtypes for an input dtype (the triton
    one is None without Triton)."""
    if dtype == torch.float64:
        return getattr(tl, 'float64', None), torch.float64
    return getattr(tl, 'float32', None), torch.float32


def _grid(b, heads, h, w, tile_h, tile_w, n_cblocks=1):
    """1-D launch grid: one program per (b, head, tile, channel block)."""
    return (b * heads * triton.cdiv(h, tile_h) * triton.cdiv(w, tile_w)
            * n_cblocks, )


def _tiles(h, w, kk_pad, block_elems):
    """(TILE_H, TILE_W) with TILE_H*TILE_W*kk_pad <= block_elems (when
    possible), W-major, no larger than the image needs."""
    tile_w = min(32, _next_pow2(w))
    pixels = max(block_elems // kk_pad, tile_w)
    tile_h = max(1, min(pixels // tile_w, _next_pow2(h)))
    return tile_h, tile_w


def can_run(device, dtype):
    """Whether the kernels run on promoted inputs of ``device`` and
    ``dtype``: Triton importable (``RuntimeError`` otherwise), a supported
    dtype (``TypeError``) and a CUDA device, or any device under the
    interpreter (``RuntimeError``)."""
    if not triton_available():
        return Verdict(
            'the triton backend of sgdc_aggregate needs the `triton` package '
            f'({_TRITON_IMPORT_ERROR}); `pip install triton`, or use '
            "backend='shift'")
    if dtype not in SUPPORTED_DTYPES:
        return Verdict(
            'the triton backend of sgdc_aggregate supports float32, float16, '
            f"bfloat16 and float64, got {dtype}; use backend='shift' or "
            "backend='reference'", TypeError)
    if torch.device(device).type != 'cuda' and not kernels_interpreted():
        return Verdict(
            f'the triton backend of sgdc_aggregate needs CUDA tensors, got '
            f"tensors on {device}; use backend='shift' (or set "
            'TRITON_INTERPRET=1 before triton is imported to run the kernels '
            "on the CPU under Triton's interpreter, for testing)")
    return CAN_RUN


def saved_spec(x, kernel_logits, num_heads):
    """``(shape, dtype)`` of what :func:`forward` saves for the backward:
    the per-head log-sum-exp ``[B, heads, H, W]``, in float64 for float64
    inputs and float32 otherwise (the kernels' accumulation dtype)."""
    b, _, h, w = x.shape
    return (b, num_heads, h, w), _acc_dtypes(x.dtype)[1]


def _on_device(x):
    """Launch on ``x``'s GPU, not the current one."""
    if x.is_cuda:
        return torch.cuda.device(x.device)
    return contextlib.nullcontext()


def forward(x, kernel_logits, kernel_size, num_heads):
    """Forward kernel: ``(out, lse)`` with ``lse`` the ``[B, heads, H, W]``
    log-sum-exp of each head's logits in the accumulation dtype (the
    ``'triton'`` branch of the ``sgdc_mmseg::sgdc_aggregate`` operator,
    which checked :func:`can_run`)."""
    x, kernel_logits = x.contiguous(), kernel_logits.contiguous()
    b, c, h, w = x.shape
    cph = c // num_heads
    tl_acc, torch_acc = _acc_dtypes(x.dtype)
    out = torch.empty_like(x)
    lse = torch.empty(b, num_heads, h, w, dtype=torch_acc, device=x.device)
    if x.numel() > 0:
        # accumulator [BLOCK_C, BLOCK_P] = [16, 4 x 32] at most
        tile_h, tile_w = _tiles(h, w, 1, 128)
        block_c = min(_next_pow2(cph), 16)
        grid = _grid(b, num_heads, h, w, tile_h, tile_w,
                     triton.cdiv(cph, block_c))
        with _on_device(x):
            _fwd_kernel[grid](
                x, kernel_logits, out, lse, c, h, w, num_heads, cph,
                K=kernel_size, TILE_H=tile_h, TILE_W=tile_w,
                BLOCK_C=block_c, ACC=tl_acc, num_warps=8)
    elif lse.numel() > 0:  # no channels: lse is still defined
        lse = kernel_logits.view(b, num_heads, -1, h, w).to(
            torch_acc).logsumexp(dim=2)
    return out, lse


def backward(grad_out, x, kernel_logits, lse, kernel_size, num_heads,
             need_x, need_logits):
    """Backward kernels: ``(grad_x, grad_logits)``, an empty tensor for a
    gradient that is not needed (the ``'triton'`` branch of the
    ``sgdc_mmseg::sgdc_aggregate_backward`` operator)."""
    x, kernel_logits = x.contiguous(), kernel_logits.contiguous()
    k, heads = kernel_size, num_heads
    b, c, h, w = x.shape
    cph = c // heads
    kk_pad = _next_pow2(k * k)
    tl_acc, torch_acc = _acc_dtypes(x.dtype)
    lse = lse.to(torch_acc).contiguous()
    grad_out = grad_out.to(x.dtype).contiguous()
    grad_x, grad_logits = x.new_empty(0), kernel_logits.new_empty(0)
    if need_x:
        grad_x = torch.empty_like(x)
        if x.numel() > 0:
            tile_h, tile_w = _tiles(h, w, 1, 128)
            block_c = min(_next_pow2(cph), 16)
            grid = _grid(b, heads, h, w, tile_h, tile_w,
                         triton.cdiv(cph, block_c))
            with _on_device(x):
                _grad_x_kernel[grid](
                    grad_out, kernel_logits, lse, grad_x, c, h, w, heads,
                    cph, K=k, TILE_H=tile_h, TILE_W=tile_w, BLOCK_C=block_c,
                    ACC=tl_acc, num_warps=8)
    if need_logits:
        if x.numel() > 0:
            grad_logits = torch.empty_like(kernel_logits)
            tile_h, tile_w = _tiles(h, w, kk_pad, 4096)
            grid = _grid(b, heads, h, w, tile_h, tile_w)
            with _on_device(x):
                _grad_logits_kernel[grid](
                    grad_out, x, kernel_logits, lse, grad_logits, c, h, w,
                    heads, cph, K=k, KK_PAD=kk_pad, TILE_H=tile_h,
                    TILE_W=tile_w, ACC=tl_acc, num_warps=8)
        else:  # no channels (or pixels): the output ignores the logits
            grad_logits = torch.zeros_like(kernel_logits)
    return grad_x, grad_logits
