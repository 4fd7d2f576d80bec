// Reductions along one dimension with the CPU kernel's semantics (kernels.cc,
// tensorReduce): x is contiguous [outer, red, inner], out is [outer, inner].
// op: 0 sum, 1 mean, 2 max, 3 min, 4 argmax, 5 argmin (int64 out), 6 var with a
// correction. Sums accumulate in double; NaN propagates through max/min and is
// what argmax/argmin pick (the first NaN); ties pick the lowest index.
#include "common.cuh"
#include "device_util.cuh"

namespace {

// Whether candidate (v, i) replaces the current best (b, bi).
template <typename T>
__device__ __forceinline__ bool takes(bool is_max, T b, int64_t bi, T v, int64_t i) {
  if (b != b) return v != v && i < bi;
  if (v != v) return true;
  if (v == b) return i < bi;
  return is_max ? v > b : v < b;
}

// inner == 1: one block per row.
template <typename T>
__global__ void reduce_rows(int op, const T* __restrict__ x, void* __restrict__ out, int64_t red, double correction) {
  __shared__ double ds[32];
  __shared__ T bv[32];
  __shared__ int64_t bidx[32];
  const T* row = x + int64_t(blockIdx.x) * red;
  if (op <= 1 || op == 6) {
    double s = 0;
    for (int64_t r = threadIdx.x; r < red; r += blockDim.x) s += double(row[r]);
    s = nbf::block_sum(s, ds);
    double result = op == 0 ? s : s / double(red);
    if (op == 6) {
      const double mean = result;
      double q = 0;
      for (int64_t r = threadIdx.x; r < red; r += blockDim.x) {
        const double d = double(row[r]) - mean;
        q += d * d;
      }
      q = nbf::block_sum(q, ds);
      result = q / fmax(0.0, double(red) - correction);
    }
    if (threadIdx.x == 0) static_cast<T*>(out)[blockIdx.x] = T(result);
    return;
  }
  const bool is_max = op == 2 || op == 4;
  T best = row[0];
  int64_t bi = 0;
  for (int64_t r = threadIdx.x; r < red; r += blockDim.x) {
    if (takes(is_max, best, bi, row[r], r)) { best = row[r]; bi = r; }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const T v = __shfl_xor_sync(0xffffffffu, best, o);
    const int64_t i = __shfl_xor_sync(0xffffffffu, bi, o);
    if (takes(is_max, best, bi, v, i)) { best = v; bi = i; }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { bv[warp] = best; bidx[warp] = bi; }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < int(blockDim.x >> 5); ++w) {
      if (takes(is_max, best, bi, bv[w], bidx[w])) { best = bv[w]; bi = bidx[w]; }
    }
    if (op <= 3) static_cast<T*>(out)[blockIdx.x] = best;
    else static_cast<int64_t*>(out)[blockIdx.x] = bi;
  }
}

// inner > 1: one thread per output element, reading down the column (coalesced across threads).
template <typename T>
__global__ void reduce_cols(int op, const T* __restrict__ x, void* __restrict__ out, int64_t outer, int64_t red,
                            int64_t inner, double correction) {
  NBF_GRID_STRIDE(idx, outer * inner) {
    const int64_t oi = idx / inner, ii = idx % inner;
    const T* p = x + oi * red * inner + ii;
    if (op <= 1 || op == 6) {
      double s = 0;
      for (int64_t r = 0; r < red; ++r) s += double(p[r * inner]);
      double result = op == 0 ? s : s / double(red);
      if (op == 6) {
        double q = 0;
        for (int64_t r = 0; r < red; ++r) {
          const double d = double(p[r * inner]) - result;
          q += d * d;
        }
        result = q / fmax(0.0, double(red) - correction);
      }
      static_cast<T*>(out)[idx] = T(result);
    } else {
      const bool is_max = op == 2 || op == 4;
      T best = p[0];
      int64_t bi = 0;
      for (int64_t r = 1; r < red && best == best; ++r) {
        const T v = p[r * inner];
        if (v != v || (is_max ? v > best : v < best)) { best = v; bi = r; }
      }
      if (op <= 3) static_cast<T*>(out)[idx] = best;
      else static_cast<int64_t*>(out)[idx] = bi;
    }
  }
}

// Sums down long columns (inner > 1, few outputs, e.g. a bias gradient over
// [tokens, features]) in two passes so enough threads run: partial sums over
// fixed chunks of the reduced dim (blockIdx.y), then the chunks in order.
template <typename T>
__global__ void sum_cols_partials(const T* __restrict__ x, double* __restrict__ part, int64_t red, int64_t inner,
                                  int64_t per_chunk, int64_t chunks) {
  const int64_t ii = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (ii >= inner) return;
  const int64_t oi = blockIdx.z;
  const int64_t r0 = int64_t(blockIdx.y) * per_chunk;
  const int64_t r1 = r0 + per_chunk < red ? r0 + per_chunk : red;
  const T* p = x + oi * red * inner + ii;
  double s = 0;
  for (int64_t r = r0; r < r1; ++r) s += double(p[r * inner]);
  part[(oi * chunks + blockIdx.y) * inner + ii] = s;
}

template <typename T>
__global__ void sum_cols_finish(const double* __restrict__ part, T* __restrict__ out, int64_t outer, int64_t inner,
                                int64_t chunks, double divide) {
  NBF_GRID_STRIDE(idx, outer * inner) {
    const int64_t oi = idx / inner, ii = idx % inner;
    double s = 0;
    for (int64_t k = 0; k < chunks; ++k) s += part[(oi * chunks + k) * inner + ii];
    out[idx] = T(s / divide);
  }
}

template <typename T>
int launch(int op, const T* x, void* out, int64_t outer, int64_t red, int64_t inner, double correction) {
  if (inner > 1 && op <= 1 && red >= 256 && outer * inner < (int64_t(1) << 16) && outer <= 65535) {
    int64_t chunks = (red + 63) / 64;
    if (chunks > 128) chunks = 128;
    const int64_t per = (red + chunks - 1) / chunks;
    auto* part = static_cast<double*>(nbf::scratch(nbf::kScratchPartials, size_t(outer * chunks * inner) * sizeof(double)));
    if (part == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
    const dim3 grid(unsigned((inner + 255) / 256), unsigned(chunks), unsigned(outer));
    sum_cols_partials<T><<<grid, 256>>>(x, part, red, inner, per, chunks);
    sum_cols_finish<T><<<nbf::grid_for(outer * inner, 256), 256>>>(part, static_cast<T*>(out), outer, inner, chunks,
                                                                    op == 1 ? double(red) : 1.0);
    return nbf::launched("nbf_cuda_reduce");
  }
  if (inner == 1) {
    if (outer > 2147483647LL) return nbf::invalid("nbf_cuda_reduce: more than 2^31-1 rows");
    reduce_rows<T><<<unsigned(outer), nbf::row_threads(red)>>>(op, x, out, red, correction);
  } else {
    reduce_cols<T><<<nbf::grid_for(outer * inner, 256), 256>>>(op, x, out, outer, red, inner, correction);
  }
  return nbf::launched("nbf_cuda_reduce");
}

}  // namespace

NBF_API int nbf_cuda_reduce(int op, int dtype, const void* x, void* out, int64_t outer, int64_t red, int64_t inner,
                            double correction) {
  if (op < 0 || op > 6) return nbf::invalid("nbf_cuda_reduce: op must be 0..6");
  if (red <= 0) return nbf::invalid("nbf_cuda_reduce: cannot reduce over an empty dimension");
  if (outer <= 0 || inner <= 0) return 0;
  if (dtype == nbf::kF32) return launch(op, static_cast<const float*>(x), out, outer, red, inner, correction);
  if (dtype == nbf::kF64) return launch(op, static_cast<const double*>(x), out, outer, red, inner, correction);
  return nbf::invalid("nbf_cuda_reduce: float32 or float64 input");
}
