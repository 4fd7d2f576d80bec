// Data movement and generation with the CPU kernels' semantics (kernels.cc):
// strided copy with dtype conversion (every dtype; bfloat16/float16 rounded to
// nearest even as the CPU does), fill, arange, Philox random numbers (the same
// stream as the CPU for the same seed and counter: philox.h) and the dropout mask.
#include "common.cuh"
#include "device_util.cuh"

namespace {

using nbf::Walk;

__device__ __forceinline__ float bf16_to_float(uint16_t h) { return __uint_as_float(uint32_t(h) << 16); }
__device__ __forceinline__ uint16_t float_to_bf16(float f) {
  uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                        // round to nearest even
  return uint16_t(u >> 16);
}
__device__ __forceinline__ float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = float(mant) * 5.9604644775390625e-8f;  // subnormal: mant * 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (mant << 13));
  return __uint_as_float(sign | ((exp + 112) << 23) | (mant << 13));
}
__device__ __forceinline__ uint16_t float_to_f16(float f) {
  const uint32_t u = __float_as_uint(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return uint16_t(sign | 0x7e00u);
  if (absu >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
  if (absu < 0x38800000u) return uint16_t(sign | uint16_t(rintf(__uint_as_float(absu) * 16777216.0f)));
  const uint32_t mant = absu & 0x7fffffu;
  uint32_t h = (((absu >> 23) - 112) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return uint16_t(sign | h);
}

__device__ __forceinline__ bool is_int(int dt) { return dt >= nbf::kI32; }

__device__ double load_f(int dt, const char* p, int64_t i) {
  switch (dt) {
    case nbf::kF32: return reinterpret_cast<const float*>(p)[i];
    case nbf::kF64: return reinterpret_cast<const double*>(p)[i];
    case nbf::kBF16: return bf16_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case nbf::kF16: return f16_to_float(reinterpret_cast<const uint16_t*>(p)[i]);
    case nbf::kI32: return reinterpret_cast<const int32_t*>(p)[i];
    case nbf::kI64: return double(reinterpret_cast<const int64_t*>(p)[i]);
    case nbf::kI8: return reinterpret_cast<const int8_t*>(p)[i];
    default: return reinterpret_cast<const uint8_t*>(p)[i];  // uint8, bool
  }
}
__device__ int64_t load_i(int dt, const char* p, int64_t i) {
  switch (dt) {
    case nbf::kI32: return reinterpret_cast<const int32_t*>(p)[i];
    case nbf::kI64: return reinterpret_cast<const int64_t*>(p)[i];
    case nbf::kI8: return reinterpret_cast<const int8_t*>(p)[i];
    default: return reinterpret_cast<const uint8_t*>(p)[i];
  }
}
__device__ double clampd(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }
__device__ void store_f(int dt, char* p, int64_t i, double v) {
  switch (dt) {
    case nbf::kF32: reinterpret_cast<float*>(p)[i] = float(v); break;
    case nbf::kF64: reinterpret_cast<double*>(p)[i] = v; break;
    case nbf::kBF16: reinterpret_cast<uint16_t*>(p)[i] = float_to_bf16(float(v)); break;
    case nbf::kF16: reinterpret_cast<uint16_t*>(p)[i] = float_to_f16(float(v)); break;
    case nbf::kI32: reinterpret_cast<int32_t*>(p)[i] = v != v ? 0 : int32_t(clampd(v, -2147483648.0, 2147483647.0)); break;
    case nbf::kI64: reinterpret_cast<int64_t*>(p)[i] = v != v ? 0 : int64_t(clampd(v, -9.2233720368547758e18, 9.2233720368547748e18)); break;
    case nbf::kI8: reinterpret_cast<int8_t*>(p)[i] = v != v ? 0 : int8_t(int64_t(clampd(v, -1e18, 1e18))); break;
    case nbf::kU8: reinterpret_cast<uint8_t*>(p)[i] = v != v ? 0 : uint8_t(int64_t(clampd(v, -1e18, 1e18))); break;
    default: reinterpret_cast<uint8_t*>(p)[i] = v != 0.0; break;  // bool
  }
}
__device__ void store_i(int dt, char* p, int64_t i, int64_t v) {
  switch (dt) {
    case nbf::kI32: reinterpret_cast<int32_t*>(p)[i] = int32_t(v); break;
    case nbf::kI64: reinterpret_cast<int64_t*>(p)[i] = v; break;
    case nbf::kI8: reinterpret_cast<int8_t*>(p)[i] = int8_t(v); break;
    case nbf::kU8: reinterpret_cast<uint8_t*>(p)[i] = uint8_t(v); break;
    default: reinterpret_cast<uint8_t*>(p)[i] = v != 0; break;
  }
}

// Same dtype: move elements of E bytes.
template <typename E>
__global__ void copy_same(Walk<2> w, const E* __restrict__ src, E* __restrict__ dst, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[2];
    w.offsets(i, off);
    dst[off[1]] = src[off[0]];
  }
}

__global__ void copy_cast(Walk<2> w, int sdt, const char* __restrict__ src, int ddt, char* __restrict__ dst, int64_t n) {
  const bool ints = is_int(sdt) && is_int(ddt) && ddt != nbf::kBool;
  NBF_GRID_STRIDE(i, n) {
    int64_t off[2];
    w.offsets(i, off);
    if (ints) store_i(ddt, dst, off[1], load_i(sdt, src, off[0]));
    else store_f(ddt, dst, off[1], load_f(sdt, src, off[0]));
  }
}

__global__ void fill_kernel(int dt, char* p, int64_t n, double v) {
  NBF_GRID_STRIDE(i, n) store_f(dt, p, i, v);
}
__global__ void arange_kernel(int dt, char* p, int64_t n, double start, double step) {
  NBF_GRID_STRIDE(i, n) store_f(dt, p, i, start + double(i) * step);
}

// One Philox block per thread iteration: 4 float32 values or 2 float64 values,
// uniform in [a, b) (kind 0) or normal(a, b) by Box-Muller (kind 1), computed in
// double as the CPU path does.
__global__ void random_kernel(int kind, int dt, char* p, int64_t n, uint32_t k0, uint32_t k1, uint64_t counter,
                              double pa, double pb, int64_t blocks) {
  const bool f32 = dt == nbf::kF32;
  const int per = f32 ? 4 : 2;
  const double two_pi = 6.283185307179586;
  NBF_GRID_STRIDE(blk, blocks) {
    uint32_t r[4];
    nbf::philox_block(k0, k1, counter + uint64_t(blk), r);
    double v[4] = {0, 0, 0, 0};
    if (f32) {
      for (int j = 0; j < 4; ++j) v[j] = double(r[j] >> 8) * (1.0 / 16777216.0);
      if (kind == 1) {
        for (int j = 0; j < 4; j += 2) {
          const double rad = sqrt(-2.0 * log(1.0 - v[j])), th = two_pi * v[j + 1];
          v[j] = rad * cos(th);
          v[j + 1] = rad * sin(th);
        }
      }
    } else {
      v[0] = double(((uint64_t(r[0]) << 32) | r[1]) >> 11) * (1.0 / 9007199254740992.0);
      v[1] = double(((uint64_t(r[2]) << 32) | r[3]) >> 11) * (1.0 / 9007199254740992.0);
      if (kind == 1) {
        const double rad = sqrt(-2.0 * log(1.0 - v[0])), th = two_pi * v[1];
        v[0] = rad * cos(th);
        v[1] = rad * sin(th);
      }
    }
    for (int j = 0; j < per; ++j) {
      const int64_t i = blk * per + j;
      if (i >= n) break;
      const double x = kind == 1 ? pa + pb * v[j] : pa + (pb - pa) * v[j];
      if (f32) reinterpret_cast<float*>(p)[i] = float(x);
      else reinterpret_cast<double*>(p)[i] = x;
    }
  }
}

template <typename T>
__global__ void dropout_mask_kernel(T* u, int64_t n, double p) {
  const T keep = p >= 1.0 ? T(0) : T(1.0 / (1.0 - p));
  const T tp = T(p);
  NBF_GRID_STRIDE(i, n) u[i] = u[i] >= tp ? keep : T(0);
}

constexpr int kBlock = 256;

}  // namespace

NBF_API int nbf_cuda_copy(int src_dtype, const void* src, const int64_t* src_strides, int dst_dtype, void* dst,
                          const int64_t* dst_strides, int ndim, const int64_t* shape) {
  Walk<2> w{};
  const int64_t* const st[2] = {src_strides, dst_strides};
  const int64_t n = nbf::make_walk(w, ndim, shape, st);
  if (n < 0) return nbf::invalid("nbf_cuda_copy: more than 8 dimensions");
  if (n == 0) return 0;
  if (src_dtype < 0 || src_dtype > 8 || dst_dtype < 0 || dst_dtype > 8) return nbf::invalid("nbf_cuda_copy: unknown dtype");
  const int grid = nbf::grid_for(n, kBlock);
  if (src_dtype == dst_dtype) {
    const auto* s = static_cast<const char*>(src);
    auto* d = static_cast<char*>(dst);
    switch (nbf::dtype_bytes(src_dtype)) {
      case 1: copy_same<uint8_t><<<grid, kBlock>>>(w, reinterpret_cast<const uint8_t*>(s), reinterpret_cast<uint8_t*>(d), n); break;
      case 2: copy_same<uint16_t><<<grid, kBlock>>>(w, reinterpret_cast<const uint16_t*>(s), reinterpret_cast<uint16_t*>(d), n); break;
      case 4: copy_same<uint32_t><<<grid, kBlock>>>(w, reinterpret_cast<const uint32_t*>(s), reinterpret_cast<uint32_t*>(d), n); break;
      default: copy_same<uint64_t><<<grid, kBlock>>>(w, reinterpret_cast<const uint64_t*>(s), reinterpret_cast<uint64_t*>(d), n); break;
    }
  } else {
    copy_cast<<<grid, kBlock>>>(w, src_dtype, static_cast<const char*>(src), dst_dtype, static_cast<char*>(dst), n);
  }
  return nbf::launched("nbf_cuda_copy");
}

NBF_API int nbf_cuda_fill(int dtype, void* d, int64_t n, double value) {
  if (n <= 0) return 0;
  fill_kernel<<<nbf::grid_for(n, kBlock), kBlock>>>(dtype, static_cast<char*>(d), n, value);
  return nbf::launched("nbf_cuda_fill");
}

NBF_API int nbf_cuda_arange(int dtype, void* d, int64_t n, double start, double step) {
  if (n <= 0) return 0;
  arange_kernel<<<nbf::grid_for(n, kBlock), kBlock>>>(dtype, static_cast<char*>(d), n, start, step);
  return nbf::launched("nbf_cuda_arange");
}

NBF_API int nbf_cuda_random(int kind, int dtype, void* d, int64_t n, uint32_t seed_lo, uint32_t seed_hi,
                            uint64_t counter, double a, double b, int64_t* blocks_used) {
  if (dtype != nbf::kF32 && dtype != nbf::kF64) return nbf::invalid("nbf_cuda_random: float32 or float64 output");
  const int64_t per = dtype == nbf::kF32 ? 4 : 2;
  const int64_t blocks = (n + per - 1) / per;
  if (blocks_used != nullptr) *blocks_used = blocks;
  if (n <= 0) return 0;
  random_kernel<<<nbf::grid_for(blocks, kBlock), kBlock>>>(kind, dtype, static_cast<char*>(d), n, seed_lo, seed_hi,
                                                          counter, a, b, blocks);
  return nbf::launched("nbf_cuda_random");
}

NBF_API int nbf_cuda_dropout_mask(int dtype, void* u, int64_t n, double p) {
  if (n <= 0) return 0;
  const int grid = nbf::grid_for(n, kBlock);
  if (dtype == nbf::kF32) dropout_mask_kernel<float><<<grid, kBlock>>>(static_cast<float*>(u), n, p);
  else if (dtype == nbf::kF64) dropout_mask_kernel<double><<<grid, kBlock>>>(static_cast<double*>(u), n, p);
  else return nbf::invalid("nbf_cuda_dropout_mask: float32 or float64");
  return nbf::launched("nbf_cuda_dropout_mask");
}
