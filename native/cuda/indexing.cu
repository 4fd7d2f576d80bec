// Indexing, sampling and quantization kernels with the CPU kernels' semantics
// (indexing.cc, sampling.cc, quantize.cc): gather, scatter / scatter_add, where,
// topk, multinomial (Philox, one block per draw: the same draws as the CPU for
// the same seed and counter), block-wise int8/int4 quantize and dequantize.
// Indices must have been checked with nbf_cuda_check_index first.
#include "common.cuh"
#include "device_util.cuh"

namespace {

using nbf::Walk;

template <typename E>
__global__ void gather_kernel(Walk<2> w, const E* __restrict__ x, const int64_t* __restrict__ idx, int64_t dstride,
                              E* __restrict__ out, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[2];
    w.offsets(i, off);
    out[i] = x[off[0] + idx[off[1]] * dstride];
  }
}

template <typename E>
__global__ void scatter_set(Walk<3> w, E* __restrict__ out, const int64_t* __restrict__ idx, int64_t dstride,
                            const E* __restrict__ src, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[3];
    w.offsets(i, off);
    out[off[0] + idx[off[1]] * dstride] = src[off[2]];
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int32_t* p, int32_t v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));  // two's complement
}

template <typename T>
__global__ void scatter_add(Walk<3> w, T* __restrict__ out, const int64_t* __restrict__ idx, int64_t dstride,
                            const T* __restrict__ src, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[3];
    w.offsets(i, off);
    atomic_add(&out[off[0] + idx[off[1]] * dstride], src[off[2]]);
  }
}

template <typename E>
__global__ void where_kernel(Walk<3> w, const uint8_t* __restrict__ c, const E* __restrict__ a, const E* __restrict__ b,
                             E* __restrict__ out, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[3];
    w.offsets(i, off);
    out[i] = c[off[0]] ? a[off[1]] : b[off[2]];
  }
}

// ---- topk: k rounds of selection per row (one block per row). Round s picks the
// best element strictly after the previous pick in the total order "better
// value first, NaN largest, ties by lower index", so no element is marked.
template <typename T>
__device__ __forceinline__ bool before(bool largest, T a, int64_t i, T b, int64_t j) {
  const bool an = a != a, bn = b != b;
  if (an || bn) {
    if (an && bn) return i < j;
    return largest ? an : bn;
  }
  if (a != b) return largest ? a > b : a < b;
  return i < j;
}

template <typename T>
__global__ void topk_kernel(const T* __restrict__ x, int64_t n, int64_t k, bool largest, int64_t* __restrict__ out) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  __shared__ T prev_v;
  __shared__ int64_t prev_i;
  const T* row = x + int64_t(blockIdx.x) * n;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int64_t s = 0; s < k; ++s) {
    T best = T(0);
    int64_t bi = -1;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const T v = row[j];
      if (s > 0 && !before(largest, prev_v, prev_i, v, j)) continue;  // already taken
      if (bi < 0 || before(largest, v, j, best, bi)) { best = v; bi = j; }
    }
    for (int o = 16; o > 0; o >>= 1) {
      const T v = __shfl_xor_sync(0xffffffffu, best, o);
      const int64_t j = __shfl_xor_sync(0xffffffffu, bi, o);
      if (j >= 0 && (bi < 0 || before(largest, v, j, best, bi))) { best = v; bi = j; }
    }
    if (lane == 0) { sv[warp] = best; si[warp] = bi; }
    __syncthreads();
    if (threadIdx.x == 0) {
      for (int w = 1; w < warps; ++w) {
        if (si[w] >= 0 && (bi < 0 || before(largest, sv[w], si[w], best, bi))) { best = sv[w]; bi = si[w]; }
      }
      out[int64_t(blockIdx.x) * k + s] = bi;
      prev_v = best;
      prev_i = bi;
    }
    __syncthreads();
  }
}

// ---- multinomial ----
// Per row: 0 ok, 1 a bad weight at `col` (value), 2 the row sums to 0, 3 too few positive weights.
struct RowStatus {
  int32_t kind;
  int64_t col;
  double value;
  int64_t positive;
};

__global__ void multinomial_check(const double* __restrict__ p, int64_t rows, int64_t n, int64_t samples, bool replacement,
                                  RowStatus* __restrict__ status) {
  NBF_GRID_STRIDE(r, rows) {
    const double* row = p + r * n;
    RowStatus st{0, -1, 0, 0};
    double total = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double v = row[j];
      if (!(v >= 0) || isinf(v)) { st.kind = 1; st.col = j; st.value = v; break; }
      total += v;
      st.positive += v > 0;
    }
    if (st.kind == 0 && !(total > 0)) st.kind = 2;
    if (st.kind == 0 && !replacement && st.positive < samples) st.kind = 3;
    status[r] = st;
  }
}

// One thread per row, in the CPU's order. Without replacement it keeps a copy of
// the row's weights in `work` [rows, n].
__global__ void multinomial_draw(const double* __restrict__ p, int64_t rows, int64_t n, int64_t samples, bool replacement,
                                 int64_t* __restrict__ out, uint32_t k0, uint32_t k1, uint64_t counter, double* __restrict__ work) {
  NBF_GRID_STRIDE(r, rows) {
    const double* row = p + r * n;
    int64_t* o = out + r * samples;
    auto uniform = [&](int64_t s) {
      uint32_t b[4];
      nbf::philox_block(k0, k1, counter + uint64_t(r * samples + s), b);
      return double(((uint64_t(b[0]) << 32) | b[1]) >> 11) * (1.0 / 9007199254740992.0);
    };
    if (replacement) {
      double acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += row[j];
      int64_t last = n - 1;
      while (last > 0 && row[last] == 0) --last;
      for (int64_t s = 0; s < samples; ++s) {
        const double u = uniform(s) * acc;
        // upper_bound over the running sums: the first j whose cumulative sum exceeds u.
        double c = 0;
        int64_t j = n;
        for (int64_t q = 0; q < n; ++q) {
          c += row[q];
          if (c > u) { j = q; break; }
        }
        if (j > last) j = last;
        while (row[j] == 0 && j < last) ++j;
        o[s] = j;
      }
    } else {
      double* w = work + r * n;
      for (int64_t j = 0; j < n; ++j) w[j] = row[j];
      for (int64_t s = 0; s < samples; ++s) {
        double total = 0;
        int64_t last = -1;
        for (int64_t j = 0; j < n; ++j) { total += w[j]; if (w[j] > 0) last = j; }
        const double u = uniform(s) * total;
        double acc = 0;
        int64_t pick = last;
        for (int64_t j = 0; j < n; ++j) {
          if (w[j] <= 0) continue;
          acc += w[j];
          if (u < acc) { pick = j; break; }
        }
        o[s] = pick;
        w[pick] = 0;
      }
    }
  }
}

// ---- quantization: one warp per block of `block` values ----
__device__ __forceinline__ int32_t quant(float v, float scale, int32_t qmax) {
  if (scale == 0.0f) return 0;
  const float q = rintf(v / scale);  // round half to even, as std::nearbyint
  return int32_t(fminf(float(qmax), fmaxf(float(-qmax), q)));
}

__global__ void quantize_kernel(int bits, const float* __restrict__ x, int64_t n, int64_t block, char* __restrict__ data,
                                float* __restrict__ scales, int64_t blocks) {
  const int lane = threadIdx.x & 31;
  const int64_t warps_total = (int64_t(gridDim.x) * blockDim.x) >> 5;
  for (int64_t b = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; b < blocks; b += warps_total) {
    const int64_t i0 = b * block, i1 = min(n, i0 + block);
    float amax = 0.0f;
    for (int64_t i = i0 + lane; i < i1; i += 32) amax = fmaxf(amax, fabsf(x[i]));
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    const int32_t qmax = bits == 8 ? 127 : 7;
    const float scale = amax / float(qmax);
    if (lane == 0) scales[b] = scale;
    if (bits == 8) {
      for (int64_t i = i0 + lane; i < i1; i += 32) reinterpret_cast<int8_t*>(data)[i] = int8_t(quant(x[i], scale, qmax));
    } else {
      for (int64_t i = i0 + 2 * lane; i < i1; i += 64) {
        const uint32_t lo = uint32_t(quant(x[i], scale, qmax)) & 0xfu;
        const uint32_t hi = i + 1 < i1 ? uint32_t(quant(x[i + 1], scale, qmax)) & 0xfu : 0u;
        reinterpret_cast<uint8_t*>(data)[i / 2] = uint8_t(lo | (hi << 4));
      }
    }
  }
}

__global__ void dequantize_kernel(int bits, const char* __restrict__ data, const float* __restrict__ scales, int64_t n,
                                  int64_t block, float* __restrict__ out) {
  NBF_GRID_STRIDE(i, n) {
    int32_t code;
    if (bits == 8) {
      code = reinterpret_cast<const int8_t*>(data)[i];
    } else {
      const uint32_t byte = reinterpret_cast<const uint8_t*>(data)[i / 2];
      const uint32_t nib = (i & 1) ? (byte >> 4) & 0xfu : byte & 0xfu;
      code = int32_t(nib) - ((nib & 0x8u) ? 16 : 0);
    }
    out[i] = float(code) * scales[i / block];
  }
}

int topk_threads(int64_t n) {
  int64_t t = (n + 31) / 32 * 32;
  return int(t < 32 ? 32 : (t > 512 ? 512 : t));
}

}  // namespace

// out (contiguous, shape)[p] = x[p with p[dim] = idx[p]]; idx int64, checked.
NBF_API int nbf_cuda_gather(int elem_bytes, const void* x, const int64_t* x_strides, const int64_t* idx,
                            const int64_t* idx_strides, void* out, int ndim, const int64_t* shape, int dim) {
  if (dim < 0 || dim >= ndim) return nbf::invalid("nbf_cuda_gather: dim out of range");
  int64_t xs[NBF_CUDA_MAX_DIMS];
  for (int d = 0; d < ndim && d < NBF_CUDA_MAX_DIMS; ++d) xs[d] = d == dim ? 0 : x_strides[d];
  Walk<2> w{};
  const int64_t* const st[2] = {xs, idx_strides};
  const int64_t n = nbf::make_walk(w, ndim, shape, st);
  if (n < 0) return nbf::invalid("nbf_cuda_gather: more than 8 dimensions");
  if (n == 0) return 0;
  const int64_t ds = x_strides[dim];
  const int grid = nbf::grid_for(n, 256);
  switch (elem_bytes) {
    case 1: gather_kernel<uint8_t><<<grid, 256>>>(w, static_cast<const uint8_t*>(x), idx, ds, static_cast<uint8_t*>(out), n); break;
    case 2: gather_kernel<uint16_t><<<grid, 256>>>(w, static_cast<const uint16_t*>(x), idx, ds, static_cast<uint16_t*>(out), n); break;
    case 4: gather_kernel<uint32_t><<<grid, 256>>>(w, static_cast<const uint32_t*>(x), idx, ds, static_cast<uint32_t*>(out), n); break;
    case 8: gather_kernel<uint64_t><<<grid, 256>>>(w, static_cast<const uint64_t*>(x), idx, ds, static_cast<uint64_t*>(out), n); break;
    default: return nbf::invalid("nbf_cuda_gather: element size must be 1, 2, 4 or 8 bytes");
  }
  return nbf::launched("nbf_cuda_gather");
}

// For every position p of shape: out[p with p[dim] = idx[p]] = src[p] (mode 0; with
// repeated indices one of the writes wins) or += src[p] (mode 1, atomics:
// float32, float64, int32, int64).
NBF_API int nbf_cuda_scatter(int mode, int dtype, void* out, const int64_t* out_strides, const int64_t* idx,
                             const int64_t* idx_strides, const void* src, const int64_t* src_strides, int ndim,
                             const int64_t* shape, int dim) {
  if (dim < 0 || dim >= ndim) return nbf::invalid("nbf_cuda_scatter: dim out of range");
  int64_t os[NBF_CUDA_MAX_DIMS];
  for (int d = 0; d < ndim && d < NBF_CUDA_MAX_DIMS; ++d) os[d] = d == dim ? 0 : out_strides[d];
  Walk<3> w{};
  const int64_t* const st[3] = {os, idx_strides, src_strides};
  const int64_t n = nbf::make_walk(w, ndim, shape, st);
  if (n < 0) return nbf::invalid("nbf_cuda_scatter: more than 8 dimensions");
  if (n == 0) return 0;
  const int64_t ds = out_strides[dim];
  const int grid = nbf::grid_for(n, 256);
  if (mode == 0) {
    switch (nbf::dtype_bytes(dtype)) {
      case 1: scatter_set<uint8_t><<<grid, 256>>>(w, static_cast<uint8_t*>(out), idx, ds, static_cast<const uint8_t*>(src), n); break;
      case 2: scatter_set<uint16_t><<<grid, 256>>>(w, static_cast<uint16_t*>(out), idx, ds, static_cast<const uint16_t*>(src), n); break;
      case 4: scatter_set<uint32_t><<<grid, 256>>>(w, static_cast<uint32_t*>(out), idx, ds, static_cast<const uint32_t*>(src), n); break;
      default: scatter_set<uint64_t><<<grid, 256>>>(w, static_cast<uint64_t*>(out), idx, ds, static_cast<const uint64_t*>(src), n); break;
    }
  } else {
    switch (dtype) {
      case nbf::kF32: scatter_add<float><<<grid, 256>>>(w, static_cast<float*>(out), idx, ds, static_cast<const float*>(src), n); break;
      case nbf::kF64: scatter_add<double><<<grid, 256>>>(w, static_cast<double*>(out), idx, ds, static_cast<const double*>(src), n); break;
      case nbf::kI32: scatter_add<int32_t><<<grid, 256>>>(w, static_cast<int32_t*>(out), idx, ds, static_cast<const int32_t*>(src), n); break;
      case nbf::kI64: scatter_add<int64_t><<<grid, 256>>>(w, static_cast<int64_t*>(out), idx, ds, static_cast<const int64_t*>(src), n); break;
      default: return nbf::invalid("nbf_cuda_scatter: scatter_add on cuda takes float32, float64, int32 or int64");
    }
  }
  return nbf::launched("nbf_cuda_scatter");
}

// out (contiguous) = cond ? a : b; cond bool/uint8; all read through (broadcast) strides.
NBF_API int nbf_cuda_where(const uint8_t* cond, const int64_t* c_strides, int elem_bytes, const void* a,
                           const int64_t* a_strides, const void* b, const int64_t* b_strides, void* out, int ndim,
                           const int64_t* shape) {
  Walk<3> w{};
  const int64_t* const st[3] = {c_strides, a_strides, b_strides};
  const int64_t n = nbf::make_walk(w, ndim, shape, st);
  if (n < 0) return nbf::invalid("nbf_cuda_where: more than 8 dimensions");
  if (n == 0) return 0;
  const int grid = nbf::grid_for(n, 256);
  switch (elem_bytes) {
    case 1: where_kernel<uint8_t><<<grid, 256>>>(w, cond, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), static_cast<uint8_t*>(out), n); break;
    case 2: where_kernel<uint16_t><<<grid, 256>>>(w, cond, static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b), static_cast<uint16_t*>(out), n); break;
    case 4: where_kernel<uint32_t><<<grid, 256>>>(w, cond, static_cast<const uint32_t*>(a), static_cast<const uint32_t*>(b), static_cast<uint32_t*>(out), n); break;
    case 8: where_kernel<uint64_t><<<grid, 256>>>(w, cond, static_cast<const uint64_t*>(a), static_cast<const uint64_t*>(b), static_cast<uint64_t*>(out), n); break;
    default: return nbf::invalid("nbf_cuda_where: element size must be 1, 2, 4 or 8 bytes");
  }
  return nbf::launched("nbf_cuda_where");
}

// x contiguous [rows, n] (float32, float64, int32, int64); out int64 [rows, k] sorted.
NBF_API int nbf_cuda_topk(int dtype, const void* x, int64_t rows, int64_t n, int64_t k, int largest, int64_t* out) {
  if (k < 0 || k > n) return nbf::invalid("nbf_cuda_topk: k out of range");
  if (rows == 0 || k == 0) return 0;
  if (rows > 2147483647LL) return nbf::invalid("nbf_cuda_topk: too many rows");
  const int t = topk_threads(n);
  switch (dtype) {
    case nbf::kF32: topk_kernel<float><<<unsigned(rows), t>>>(static_cast<const float*>(x), n, k, largest != 0, out); break;
    case nbf::kF64: topk_kernel<double><<<unsigned(rows), t>>>(static_cast<const double*>(x), n, k, largest != 0, out); break;
    case nbf::kI32: topk_kernel<int32_t><<<unsigned(rows), t>>>(static_cast<const int32_t*>(x), n, k, largest != 0, out); break;
    case nbf::kI64: topk_kernel<int64_t><<<unsigned(rows), t>>>(static_cast<const int64_t*>(x), n, k, largest != 0, out); break;
    default: return nbf::invalid("nbf_cuda_topk: float32, float64, int32 or int64 values");
  }
  return nbf::launched("nbf_cuda_topk");
}

// p float64 contiguous [rows, n]; out int64 [rows, samples]. On a bad row returns
// 0 with *bad_row >= 0 and *bad_kind (1 bad weight at *bad_col = *bad_value,
// 2 zero row, 3 fewer than `samples` positive weights: *bad_col = their count).
NBF_API int nbf_cuda_multinomial(const double* p, int64_t rows, int64_t n, int64_t samples, int replacement, int64_t* out,
                                 uint32_t seed_lo, uint32_t seed_hi, uint64_t counter, int64_t* bad_row, int* bad_kind,
                                 int64_t* bad_col, double* bad_value) {
  *bad_row = -1;
  if (rows == 0 || samples == 0) return 0;
  RowStatus* d_status = nullptr;
  if (int rc = nbf::record(cudaMalloc(&d_status, size_t(rows) * sizeof(RowStatus)), "cudaMalloc")) return rc;
  multinomial_check<<<nbf::grid_for(rows, 128), 128>>>(p, rows, n, samples, replacement != 0, d_status);
  RowStatus* h = new RowStatus[size_t(rows)];
  int rc = nbf::launched("nbf_cuda_multinomial");
  if (rc == 0) rc = nbf::record(cudaMemcpy(h, d_status, size_t(rows) * sizeof(RowStatus), cudaMemcpyDeviceToHost), "cudaMemcpy");
  cudaFree(d_status);
  for (int64_t r = 0; rc == 0 && r < rows; ++r) {
    if (h[r].kind != 0) {
      *bad_row = r;
      *bad_kind = h[r].kind;
      *bad_col = h[r].kind == 3 ? h[r].positive : h[r].col;
      *bad_value = h[r].value;
      break;
    }
  }
  delete[] h;
  if (rc != 0 || *bad_row >= 0) return rc;
  double* work = nullptr;
  if (!replacement) {
    work = static_cast<double*>(nbf::scratch(nbf::kScratchDraws, size_t(rows) * size_t(n) * sizeof(double)));
    if (work == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  }
  multinomial_draw<<<nbf::grid_for(rows, 64), 64>>>(p, rows, n, samples, replacement != 0, out, seed_lo, seed_hi, counter, work);
  return nbf::launched("nbf_cuda_multinomial");
}

NBF_API int nbf_cuda_quantize(int bits, const float* x, int64_t n, int64_t block, void* data, float* scales) {
  if (bits != 8 && bits != 4) return nbf::invalid("nbf_cuda_quantize: bits must be 8 or 4");
  if (block <= 0 || (bits == 4 && block % 2 != 0)) return nbf::invalid("nbf_cuda_quantize: bad block size");
  if (n <= 0) return 0;
  const int64_t blocks = (n + block - 1) / block;
  quantize_kernel<<<nbf::grid_for(blocks * 32, 256), 256>>>(bits, x, n, block, static_cast<char*>(data), scales, blocks);
  return nbf::launched("nbf_cuda_quantize");
}

NBF_API int nbf_cuda_dequantize(int bits, const void* data, const float* scales, int64_t n, int64_t block, float* out) {
  if (block <= 0 || (bits != 8 && bits != 4)) return nbf::invalid("nbf_cuda_dequantize: bad bits or block size");
  if (n <= 0) return 0;
  dequantize_kernel<<<nbf::grid_for(n, 256), 256>>>(bits, static_cast<const char*>(data), scales, n, block, out);
  return nbf::launched("nbf_cuda_dequantize");
}
