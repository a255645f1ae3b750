// SGDC (Structure-Guided Dynamic Convolution, MIDL 2026, arXiv 2602.23496):
// the per-pixel softmax-kernel aggregation on the CPU, forward and backward
// fused into one pass each. Built on first use by
// sgdc_mmseg/ops/backends/cpp.py (torch.utils.cpp_extension.load), which
// documents the method; this file is the kernel.
//
// Notation (as in backends/triton.py): x [B, C, H, W]; head h owns the
// CPH = C / heads channels [h*CPH, (h+1)*CPH); k = 2r + 1; tap t = (dy, dx)
// reads the neighbour p + (dy - r, dx - r), zero outside the image;
// w_t[p] = softmax_t(logits[h*k*k + t, p]).
//   forward     out[c, p] = sum_t w_t[p] x[c, p + d_t]
//   grad x      gx[c, p]  = sum_t w_t[p - d_t] g[c, p - d_t]     (gather)
//   grad logits gw[t, p]  = sum_{c in head} g[c, p] x[c, p + d_t]
//               gl[t, p]  = w_t[p] (gw[t, p] - sum_s w_s[p] gw[s, p])
//
// One task = one image row i of one column tile (at most 128 columns) of
// one (b, head): the forward computes that row's softmax (49 x tile values,
// cache resident) and then, four channels at a time, accumulates the k*k
// shifted rows of x, read from a per-thread ring of the k padded input rows
// around row i, into the output row; the backward computes the row's
// grad x (gather form, no atomics) and its grad logits (a 49 x tile buffer)
// in the same task. Rows are independent, so tasks are split over the
// threads by at::parallel_for with no reduction; a thread walks down a
// tile, so each new row costs one row copy per ring.
// Inner loops run over contiguous W with no branches, for the compiler to
// vectorize (-O3 and the vector ISA of the machine, set by cpp.py).
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// exp for x <= 0 (softmax after subtracting the max): range reduction
// x = n ln2 + f, |f| <= ln2 / 2, a degree-6 polynomial for e^f (relative
// error about 2e-7), and 2^n built in the exponent bits. Branch-free, so
// a loop of it vectorizes. Inputs below -87 (and -inf) give exactly 0, as
// would the denormals below e^-87; NaN stays NaN.
inline float exp_nonpositive(float x) {
  const bool underflow = x < -87.0f;
  x = std::max(x, -87.0f);
  // round to nearest by adding and removing 1.5 * 2^23 (plain arithmetic,
  // so it vectorizes; exact for |x log2 e| < 2^22)
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  // ln2 in two parts so that x - n ln2 is exact for |n| < 2^8
  float f = x - n * 0.693145751953125f;
  f = f - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return underflow ? 0.0f : p * scale;
}

inline double exp_nonpositive(double x) { return std::exp(x); }

// Softmax over the k*k taps of one row: logits and weights are k*k rows of
// w values, `plane` apart.
template <typename T>
void softmax_row(const T* __restrict__ logits, T* __restrict__ weights,
                 int64_t kk, int64_t plane, int64_t w,
                 T* __restrict__ max_buf, T* __restrict__ sum_buf) {
  std::copy(logits, logits + w, max_buf);
  for (int64_t t = 1; t < kk; ++t) {
    const T* __restrict__ l = logits + t * plane;
    for (int64_t j = 0; j < w; ++j) max_buf[j] = std::max(max_buf[j], l[j]);
  }
  std::fill(sum_buf, sum_buf + w, T(0));
  for (int64_t t = 0; t < kk; ++t) {
    const T* __restrict__ l = logits + t * plane;
    T* __restrict__ e = weights + t * plane;
    for (int64_t j = 0; j < w; ++j) {
      e[j] = exp_nonpositive(l[j] - max_buf[j]);
      sum_buf[j] += e[j];
    }
  }
  for (int64_t j = 0; j < w; ++j) sum_buf[j] = T(1) / sum_buf[j];
  for (int64_t t = 0; t < kk; ++t) {
    T* __restrict__ e = weights + t * plane;
    for (int64_t j = 0; j < w; ++j) e[j] *= sum_buf[j];
  }
}

// acc[j] += a[j] * b[j] for j in [j0, j1)
template <typename T>
inline void fma_row(T* __restrict__ acc, const T* __restrict__ a,
                    const T* __restrict__ b, int64_t j0, int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) acc[j] += a[j] * b[j];
}

// 32-byte vectors through the GCC/Clang vector extension: AVX registers
// with -mavx2, pairs of SSE registers without.
template <typename T>
struct Vec {
  typedef T type __attribute__((vector_size(32)));
  static constexpr int64_t lanes = 32 / sizeof(T);
  static inline type load(const T* p) {
    type v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static inline void store(T* p, type v) { std::memcpy(p, &v, sizeof(v)); }
  static inline type zero() { return type{}; }
};

// Widest column tile: a task covers at most this many columns of a row, so
// that a thread's rings (channels x k rows x tile) stay in its L2 cache
// whatever the image width.
constexpr int64_t kMaxTile = 128;

struct Geometry {
  int64_t b, c, h, w, k, r, heads, cph, kk, plane, ntiles, tile, wp;
  Geometry(const at::Tensor& x, int64_t kernel_size, int64_t num_heads)
      : b(x.size(0)), c(x.size(1)), h(x.size(2)), w(x.size(3)),
        k(kernel_size), r(kernel_size / 2), heads(num_heads),
        cph(x.size(1) / num_heads), kk(kernel_size * kernel_size),
        plane(x.size(2) * x.size(3)),
        // equal tiles of at most kMaxTile columns
        ntiles((x.size(3) + kMaxTile - 1) / kMaxTile),
        tile((x.size(3) + ntiles - 1) / ntiles),
        wp(tile + kernel_size - 1) {}
  // the ring slot of image row `row` (any integer)
  int64_t slot(int64_t row) const { return ((row % k) + k) % k; }
  int64_t tasks() const { return b * heads * ntiles * h; }
};

// One task: row i of column tile [j0, j0 + tw) of (sample, head) bh; the
// rows of a tile come consecutively, so a thread walks down a tile.
struct Task {
  int64_t bh, bi, head, key, i, j0, tw;
  Task(int64_t task, const Geometry& g)
      : bh(task / (g.ntiles * g.h)), bi(bh / g.heads), head(bh % g.heads),
        key(task / g.h), i(task % g.h),
        j0(((task / g.h) % g.ntiles) * g.tile),
        tw(std::min(g.tile, g.w - j0)) {}
};

// The image rows i - r .. i + r of n planes, columns j0 - r .. j0 + tw + r
// of a tile (zero outside the image), in k slots per plane (row -> slot
// row mod k): a thread's rows of one tile come in order, so moving to the
// next row copies one new row per plane into the cache-resident ring
// instead of re-reading (or padding) the k rows.
template <typename T>
struct RowRing {
  std::vector<T> buf;
  int64_t n, stride;           // planes; values per plane (k slots)
  int64_t key = -1, row = 0;   // what it holds: tile key, centre row
  RowRing(int64_t planes, const Geometry& g)
      : buf(planes * g.k * g.wp, T(0)), n(planes), stride(g.k * g.wp) {}
  const T* data() const { return buf.data(); }
  // make it hold the rows around task t's row of planes src + p * g.plane
  // (padded column q = image column t.j0 - r + q)
  void hold(const T* src, const Task& t, const Geometry& g) {
    int64_t first = t.i - g.r;
    if (t.key == key && t.i == row + 1) first = t.i + g.r;  // one new row
    const int64_t lo = std::max<int64_t>(0, t.j0 - g.r);
    const int64_t hi = std::min<int64_t>(g.w, t.j0 + t.tw + g.r);
    const int64_t width = t.tw + 2 * g.r, q0 = lo - (t.j0 - g.r);
    for (int64_t rr = first; rr <= t.i + g.r; ++rr) {
      const int64_t s = g.slot(rr) * g.wp;
      const bool inside = rr >= 0 && rr < g.h;
      for (int64_t p = 0; p < n; ++p) {
        T* dst = buf.data() + p * stride + s;
        if (inside) {
          const T* from = src + p * g.plane + rr * g.w;
          std::fill(dst, dst + q0, T(0));
          std::copy(from + lo, from + hi, dst + q0);
          std::fill(dst + q0 + (hi - lo), dst + width, T(0));
        } else {
          std::fill(dst, dst + width, T(0));
        }
      }
    }
    key = t.key;
    row = t.i;
  }
};

// Tasks (Task) are split over the threads in contiguous ranges, so a
// thread's rows of one tile come in order.
constexpr int64_t kGrain = 4;
// Channels aggregated together: each tap's kernel vector is loaded once for
// CB channels, and CB x 2 vector accumulators stay in registers.
constexpr int64_t CB = 4;

// out_c[j] = sum_t wt[t][j] * x_c[j + xofs[t]] for NC channels c
// (x_c = xs + c * xstride, out_c = out + c * ostride) and j < tw. The
// forward (kernels of the row, x rows shifted by the tap) and the gradient
// of x (kernel rows and gradient rows, both shifted) share it.
template <typename T, int64_t NC>
void aggregate_block(const T* const* __restrict__ wt,
                     const T* __restrict__ xs, int64_t xstride,
                     const int64_t* __restrict__ xofs, T* __restrict__ out,
                     int64_t ostride, int64_t tw, const Geometry& g) {
  using V = Vec<T>;
  typedef typename V::type vt;
  constexpr int64_t L = V::lanes;
  int64_t j = 0;
  for (; j + 2 * L <= tw; j += 2 * L) {
    vt acc0[NC], acc1[NC];
    for (int64_t c = 0; c < NC; ++c) acc0[c] = acc1[c] = V::zero();
    for (int64_t t = 0; t < g.kk; ++t) {
      const T* wp = wt[t] + j;
      const vt w0 = V::load(wp), w1 = V::load(wp + L);
      const T* xp = xs + j + xofs[t];
      for (int64_t c = 0; c < NC; ++c) {
        acc0[c] += w0 * V::load(xp + c * xstride);
        acc1[c] += w1 * V::load(xp + c * xstride + L);
      }
    }
    for (int64_t c = 0; c < NC; ++c) {
      V::store(out + c * ostride + j, acc0[c]);
      V::store(out + c * ostride + j + L, acc1[c]);
    }
  }
  for (; j < tw; ++j) {
    T acc[NC] = {};
    for (int64_t t = 0; t < g.kk; ++t) {
      const T wv = wt[t][j];
      const T* xp = xs + j + xofs[t];
      for (int64_t c = 0; c < NC; ++c) acc[c] += wv * xp[c * xstride];
    }
    for (int64_t c = 0; c < NC; ++c) out[c * ostride + j] = acc[c];
  }
}

// aggregate_block over n channels, in blocks of CB then one by one.
template <typename T>
void aggregate_channels(const T* const* wt, const T* xs, int64_t xstride,
                        const int64_t* xofs, T* out, int64_t ostride,
                        int64_t n, int64_t tw, const Geometry& g) {
  int64_t c = 0;
  for (; c + CB <= n; c += CB)
    aggregate_block<T, CB>(wt, xs + c * xstride, xstride, xofs,
                           out + c * ostride, ostride, tw, g);
  for (; c < n; ++c)
    aggregate_block<T, 1>(wt, xs + c * xstride, xstride, xofs,
                          out + c * ostride, ostride, tw, g);
}

template <typename T>
void forward_impl(const at::Tensor& x, const at::Tensor& logits,
                  at::Tensor& out, at::Tensor& weights, const Geometry& g) {
  const T* xp = x.data_ptr<T>();
  const T* lp = logits.data_ptr<T>();
  T* op = out.data_ptr<T>();
  T* wp = weights.data_ptr<T>();
  at::parallel_for(0, g.tasks(), kGrain, [&](int64_t begin, int64_t end) {
    std::vector<T> buf(2 * g.tile);
    std::vector<const T*> wt(g.kk);
    std::vector<int64_t> xofs(g.kk);
    RowRing<T> xring(g.cph, g);
    for (int64_t task = begin; task < end; ++task) {
      const Task tk(task, g);
      const int64_t row0 = tk.bh * g.kk * g.plane + tk.i * g.w + tk.j0;
      softmax_row(lp + row0, wp + row0, g.kk, g.plane, tk.tw, buf.data(),
                  buf.data() + g.tile);
      const int64_t c0 = tk.bi * g.c + tk.head * g.cph;
      xring.hold(xp + c0 * g.plane, tk, g);
      // tap (dy, dx) reads image row i + dy - r, padded column j + dx
      for (int64_t t = 0; t < g.kk; ++t) {
        wt[t] = wp + row0 + t * g.plane;
        xofs[t] = g.slot(tk.i + t / g.k - g.r) * g.wp + t % g.k;
      }
      aggregate_channels(wt.data(), xring.data(), xring.stride, xofs.data(),
                         op + c0 * g.plane + tk.i * g.w + tk.j0, g.plane,
                         g.cph, tk.tw, g);
    }
  });
}

// gw[t][j] = sum_{c < n} grow_c[j] x_c[rowofs[dy] + j + dx] for j < tw
// (grow_c = grow + c * g.plane, x_c = xs + c * xstride: padded rows; gw
// rows tw apart) for a kernel size K
// known at compile time: two tap rows dy at a time, 2 x K vector
// accumulators in registers. Returns the first column not done.
template <typename T, int64_t K>
int64_t grad_weights_k(const T* __restrict__ grow, const T* __restrict__ xs,
                       int64_t xstride, const int64_t* __restrict__ rowofs,
                       int64_t n, T* __restrict__ gw, int64_t tw,
                       const Geometry& g) {
  using V = Vec<T>;
  typedef typename V::type vt;
  constexpr int64_t L = V::lanes;
  int64_t j = 0;
  for (; j + L <= tw; j += L) {
    for (int64_t dy = 0; dy < K; dy += 2) {
      vt a0[K], a1[K];
      for (int64_t dx = 0; dx < K; ++dx) a0[dx] = a1[dx] = V::zero();
      const int64_t r0 = rowofs[dy] + j;
      if (dy + 1 < K) {
        const int64_t r1 = rowofs[dy + 1] + j;
        for (int64_t c = 0; c < n; ++c) {
          const vt gv = V::load(grow + c * g.plane + j);
          const T* xc = xs + c * xstride;
          for (int64_t dx = 0; dx < K; ++dx) {
            a0[dx] += gv * V::load(xc + r0 + dx);
            a1[dx] += gv * V::load(xc + r1 + dx);
          }
        }
      } else {
        for (int64_t c = 0; c < n; ++c) {
          const vt gv = V::load(grow + c * g.plane + j);
          const T* xc = xs + c * xstride;
          for (int64_t dx = 0; dx < K; ++dx)
            a0[dx] += gv * V::load(xc + r0 + dx);
        }
      }
      for (int64_t dx = 0; dx < K; ++dx) {
        V::store(gw + (dy * K + dx) * tw + j, a0[dx]);
        if (dy + 1 < K) V::store(gw + ((dy + 1) * K + dx) * tw + j, a1[dx]);
      }
    }
  }
  return j;
}

// gw[t][j] for all taps and the columns [j0, tw), any kernel size.
template <typename T>
void grad_weights_columns(const T* __restrict__ grow,
                          const T* __restrict__ xs, int64_t xstride,
                          const int64_t* __restrict__ rowofs, int64_t n,
                          T* __restrict__ gw, int64_t j0, int64_t tw,
                          const Geometry& g) {
  for (int64_t t = 0; t < g.kk; ++t)
    std::fill(gw + t * tw + j0, gw + (t + 1) * tw, T(0));
  for (int64_t c = 0; c < n; ++c)
    for (int64_t t = 0; t < g.kk; ++t) {
      const T* x = xs + c * xstride + rowofs[t / g.k] + t % g.k;
      const T* gr = grow + c * g.plane;
      T* dst = gw + t * tw;
      for (int64_t j = j0; j < tw; ++j) dst[j] += gr[j] * x[j];
    }
}

// The gradient of the tile row's kernels, gw[t][j] (k*k rows of tw).
template <typename T>
void grad_weights(const T* grow, const T* xs, int64_t xstride,
                  const int64_t* rowofs, int64_t n, T* gw, int64_t tw,
                  const Geometry& g) {
  int64_t j = 0;
  switch (g.k) {
    case 3:
      j = grad_weights_k<T, 3>(grow, xs, xstride, rowofs, n, gw, tw, g);
      break;
    case 5:
      j = grad_weights_k<T, 5>(grow, xs, xstride, rowofs, n, gw, tw, g);
      break;
    case 7:
      j = grad_weights_k<T, 7>(grow, xs, xstride, rowofs, n, gw, tw, g);
      break;
    default: break;
  }
  if (j < tw)
    grad_weights_columns(grow, xs, xstride, rowofs, n, gw, j, tw, g);
}

template <typename T>
void backward_impl(const at::Tensor& grad, const at::Tensor& x,
                   const at::Tensor& weights, at::Tensor& grad_x,
                   at::Tensor& grad_logits, bool need_x, bool need_logits,
                   const Geometry& g) {
  const T* gp = grad.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  const T* wp = weights.data_ptr<T>();
  T* gxp = need_x ? grad_x.data_ptr<T>() : nullptr;
  T* glp = need_logits ? grad_logits.data_ptr<T>() : nullptr;
  at::parallel_for(0, g.tasks(), kGrain, [&](int64_t begin, int64_t end) {
    std::vector<T> gw(need_logits ? g.kk * g.tile : 0);
    std::vector<T> dot(need_logits ? g.tile : 0);
    std::vector<const T*> wt(g.kk);
    std::vector<int64_t> xofs(g.kk), rowofs(g.k);
    RowRing<T> gring(need_x ? g.cph : 0, g), wring(need_x ? g.kk : 0, g);
    RowRing<T> xring(need_logits ? g.cph : 0, g);
    for (int64_t task = begin; task < end; ++task) {
      const Task tk(task, g);
      const int64_t c0 = tk.bi * g.c + tk.head * g.cph;
      const int64_t wbase = tk.bh * g.kk * g.plane;
      const int64_t pix = tk.i * g.w + tk.j0;   // first pixel of the task
      if (need_x) {
        // gx[c, i, j] = sum_t w_t[ii, j - dx + r] g[c, ii, j - dx + r] with
        // ii = i - dy + r: padded column j + 2r - dx of row ii of both
        gring.hold(gp + c0 * g.plane, tk, g);
        wring.hold(wp + wbase, tk, g);
        for (int64_t t = 0; t < g.kk; ++t) {
          const int64_t dy = t / g.k, dx = t % g.k;
          xofs[t] = g.slot(tk.i - dy + g.r) * g.wp + 2 * g.r - dx;
          wt[t] = wring.data() + t * wring.stride + xofs[t];
        }
        aggregate_channels(wt.data(), gring.data(), gring.stride,
                           xofs.data(), gxp + c0 * g.plane + pix, g.plane,
                           g.cph, tk.tw, g);
      }
      if (need_logits) {
        xring.hold(xp + c0 * g.plane, tk, g);
        for (int64_t dy = 0; dy < g.k; ++dy)
          rowofs[dy] = g.slot(tk.i + dy - g.r) * g.wp;
        grad_weights(gp + c0 * g.plane + pix, xring.data(), xring.stride,
                     rowofs.data(), g.cph, gw.data(), tk.tw, g);
        // softmax backward over the taps
        const T* wrow = wp + wbase + pix;
        std::fill(dot.begin(), dot.begin() + tk.tw, T(0));
        for (int64_t t = 0; t < g.kk; ++t)
          fma_row(dot.data(), wrow + t * g.plane, gw.data() + t * tk.tw,
                  int64_t(0), tk.tw);
        T* gl = glp + wbase + pix;
        for (int64_t t = 0; t < g.kk; ++t) {
          const T* __restrict__ wt_ = wrow + t * g.plane;
          const T* __restrict__ gwt = gw.data() + t * tk.tw;
          T* __restrict__ o = gl + t * g.plane;
          for (int64_t j = 0; j < tk.tw; ++j)
            o[j] = wt_[j] * (gwt[j] - dot[j]);
        }
      }
    }
  });
}

void check(const at::Tensor& t, const char* name, const at::Tensor& like) {
  TORCH_CHECK(t.device().is_cpu(), "sgdc_aggregate_cpu: ", name,
              " must be a CPU tensor");
  TORCH_CHECK(t.is_contiguous(), "sgdc_aggregate_cpu: ", name,
              " must be contiguous");
  TORCH_CHECK(t.scalar_type() == like.scalar_type(), "sgdc_aggregate_cpu: ",
              name, " has dtype ", t.scalar_type(), ", expected ",
              like.scalar_type());
}

// returns (out, the softmaxed kernels)
std::vector<at::Tensor> forward(const at::Tensor& x, const at::Tensor& logits,
                                int64_t kernel_size, int64_t num_heads) {
  check(x, "x", x);
  check(logits, "kernel_logits", x);
  const Geometry g(x, kernel_size, num_heads);
  TORCH_CHECK(logits.dim() == 4 && logits.size(1) == g.heads * g.kk &&
                  logits.size(0) == g.b && logits.size(2) == g.h &&
                  logits.size(3) == g.w,
              "sgdc_aggregate_cpu: kernel_logits has shape ", logits.sizes());
  auto out = at::empty_like(x);
  auto weights = at::empty_like(logits);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sgdc_aggregate_cpu_forward",
                             [&] {
    forward_impl<scalar_t>(x, logits, out, weights, g);
  });
  return {out, weights};
}

// returns (grad x, grad logits), an empty tensor for one not needed
std::vector<at::Tensor> backward(const at::Tensor& grad, const at::Tensor& x,
                                 const at::Tensor& weights,
                                 int64_t kernel_size, int64_t num_heads,
                                 bool need_x, bool need_logits) {
  check(grad, "grad", x);
  check(x, "x", x);
  check(weights, "weights", x);
  const Geometry g(x, kernel_size, num_heads);
  auto grad_x = need_x ? at::empty_like(x) : x.new_empty({0});
  auto grad_logits =
      need_logits ? at::empty_like(weights) : weights.new_empty({0});
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sgdc_aggregate_cpu_backward",
                             [&] {
    backward_impl<scalar_t>(grad, x, weights, grad_x, grad_logits, need_x,
                            need_logits, g);
  });
  return {grad_x, grad_logits};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "SGDC aggregation, forward (CPU)");
  m.def("backward", &backward, "SGDC aggregation, backward (CPU)");
}
