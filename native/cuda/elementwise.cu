// Elementwise kernels with the CPU kernels' semantics (native/src/tensor/loops.inc):
// broadcasting binary ops and unary ops with their backward, float32.
#include "common.cuh"

namespace {

struct Broadcast {
  int ndim;
  int64_t shape[NBF_CUDA_MAX_DIMS];
  int64_t sa[NBF_CUDA_MAX_DIMS];
  int64_t sb[NBF_CUDA_MAX_DIMS];
};

template <typename T>
__device__ __forceinline__ T binary_op(int op, T x, T y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return pow(x, y);
    case 5: return (x != x || x > y) ? x : y;
    case 6: return (x != x || x < y) ? x : y;
    case 7: return T(x == y);
    case 8: return T(x != y);
    case 9: return T(x < y);
    case 10: return T(x <= y);
    case 11: return T(x > y);
    case 12: return T(x >= y);
    default: return T(0);
  }
}

// The op is a template parameter so the hot loop has no switch.
template <int OP>
__global__ void binary_flat(const float* __restrict__ a, const float* __restrict__ b,
                            float* __restrict__ o, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  // float4 body where all three pointers are 16-byte aligned.
  const bool vec = ((reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) |
                     reinterpret_cast<uintptr_t>(o)) & 15) == 0;
  if (vec) {
    const int64_t n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* o4 = reinterpret_cast<float4*>(o);
    for (int64_t j = i; j < n4; j += stride) {
      const float4 x = a4[j], y = b4[j];
      o4[j] = make_float4(binary_op(OP, x.x, y.x), binary_op(OP, x.y, y.y), binary_op(OP, x.z, y.z),
                          binary_op(OP, x.w, y.w));
    }
    for (int64_t j = n4 * 4 + i; j < n; j += stride) o[j] = binary_op(OP, a[j], b[j]);
  } else {
    for (; i < n; i += stride) o[i] = binary_op(OP, a[i], b[i]);
  }
}

template <typename T>
__global__ void binary_broadcast(int op, Broadcast s, const T* __restrict__ a,
                                 const T* __restrict__ b, T* __restrict__ o, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
      const int64_t c = rem % s.shape[d];
      rem /= s.shape[d];
      ia += c * s.sa[d];
      ib += c * s.sb[d];
    }
    o[i] = binary_op(op, a[ia], b[ib]);
  }
}

template <typename T>
__device__ __forceinline__ T sigmoid_of(T x) { return T(1) / (T(1) + exp(-x)); }

// Double constants, rounded to T where used (float32 gets the float literal's value).
constexpr double kHalf = 0.5;
constexpr double kTanh = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kErf = 0.7071067811865476;   // 1/sqrt(2)
constexpr double kPdf = 0.3989422804014327;   // 1/sqrt(2 pi)
constexpr double kCubic = 0.044715;

template <int OP, typename T>
__device__ __forceinline__ T unary_op(T v) {
  switch (OP) {
    case 0: return -v;
    case 1: return exp(v);
    case 2: return log(v);
    case 3: return sqrt(v);
    case 4: return T(1) / sqrt(v);
    case 5: return tanh(v);
    case 6: return sigmoid_of(v);
    case 7: return v > T(0) ? v : (v != v ? v : T(0));
    case 8: return T(kHalf) * v * (T(1) + tanh(T(kTanh) * (v + T(kCubic) * v * v * v)));
    case 9: return T(kHalf) * v * (T(1) + erf(v * T(kErf)));
    case 10: return v * sigmoid_of(v);
    case 11: return fabs(v);
    default: return T(0);
  }
}

template <int OP, typename T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = unary_op<OP, T>(x[i]);
  }
}

template <typename T>
__global__ void unary_backward_kernel(int op, const T* __restrict__ x, const T* __restrict__ y,
                                      const T* __restrict__ gy, T* __restrict__ gx, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const T g = gy[i];
    T r = T(0);
    switch (op) {
      case 0: r = -g; break;
      case 1: r = g * y[i]; break;
      case 2: r = g / x[i]; break;
      case 3: r = g / (T(2) * y[i]); break;
      case 4: r = T(-0.5) * g * y[i] * y[i] * y[i]; break;
      case 5: r = g * (T(1) - y[i] * y[i]); break;
      case 6: r = g * y[i] * (T(1) - y[i]); break;
      case 7: r = x[i] > T(0) ? g : T(0); break;
      case 8: {
        const T v = x[i];
        const T t = tanh(T(kTanh) * (v + T(kCubic) * v * v * v));
        const T du = T(kTanh) * (T(1) + T(3.0 * kCubic) * v * v);
        r = g * (T(kHalf) * (T(1) + t) + T(kHalf) * v * (T(1) - t * t) * du);
        break;
      }
      case 9: {
        const T v = x[i];
        const T cdf = T(kHalf) * (T(1) + erf(v * T(kErf)));
        r = g * (cdf + v * T(kPdf) * exp(T(-0.5) * v * v));
        break;
      }
      case 10: {
        const T s = sigmoid_of(x[i]);
        r = g * s * (T(1) + x[i] * (T(1) - s));
        break;
      }
      case 11: r = x[i] > T(0) ? g : (x[i] < T(0) ? -g : T(0)); break;
      default: break;
    }
    gx[i] = r;
  }
}

constexpr int kBlock = 256;

int flat(int op, const float* a, const float* b, float* o, int64_t n) {
  if (n <= 0) return 0;
  const int grid = nbf::grid_for((n + 3) / 4, kBlock);
  switch (op) {
    case 0: binary_flat<0><<<grid, kBlock>>>(a, b, o, n); break;
    case 1: binary_flat<1><<<grid, kBlock>>>(a, b, o, n); break;
    case 2: binary_flat<2><<<grid, kBlock>>>(a, b, o, n); break;
    case 3: binary_flat<3><<<grid, kBlock>>>(a, b, o, n); break;
    default: {
      Broadcast s{};
      s.ndim = 1;
      s.shape[0] = n;
      s.sa[0] = 1;
      s.sb[0] = 1;
      binary_broadcast<float><<<nbf::grid_for(n, kBlock), kBlock>>>(op, s, a, b, o, n);
    }
  }
  return nbf::launched("nbf_cuda_binary_f32");
}

// Drops size-1 dimensions and merges dimensions contiguous in a, b and out.
// Returns the element count (-1 on bad input); s.ndim 0 means "flat contiguous".
int64_t prepare(int ndim, const int64_t* shape, const int64_t* a_strides, const int64_t* b_strides, Broadcast& s) {
  int64_t n = 1;
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] < 0) return -1;
    n *= shape[d];
    if (shape[d] == 1) continue;
    if (nd > 0 && s.sa[nd - 1] == a_strides[d] * shape[d] && s.sb[nd - 1] == b_strides[d] * shape[d]) {
      s.shape[nd - 1] *= shape[d];
      s.sa[nd - 1] = a_strides[d];
      s.sb[nd - 1] = b_strides[d];
    } else {
      s.shape[nd] = shape[d];
      s.sa[nd] = a_strides[d];
      s.sb[nd] = b_strides[d];
      ++nd;
    }
  }
  s.ndim = nd;
  if (nd == 0) {  // one element
    s.ndim = 1;
    s.shape[0] = 1;
    s.sa[0] = s.sb[0] = 0;
  } else if (nd == 1 && s.sa[0] == 1 && s.sb[0] == 1) {
    s.ndim = 0;
  }
  return n;
}

template <typename T>
int unary_launch(int op, const T* x, T* y, int64_t n) {
  const int grid = nbf::grid_for(n, kBlock);
  switch (op) {
    case 0: unary_kernel<0, T><<<grid, kBlock>>>(x, y, n); break;
    case 1: unary_kernel<1, T><<<grid, kBlock>>>(x, y, n); break;
    case 2: unary_kernel<2, T><<<grid, kBlock>>>(x, y, n); break;
    case 3: unary_kernel<3, T><<<grid, kBlock>>>(x, y, n); break;
    case 4: unary_kernel<4, T><<<grid, kBlock>>>(x, y, n); break;
    case 5: unary_kernel<5, T><<<grid, kBlock>>>(x, y, n); break;
    case 6: unary_kernel<6, T><<<grid, kBlock>>>(x, y, n); break;
    case 7: unary_kernel<7, T><<<grid, kBlock>>>(x, y, n); break;
    case 8: unary_kernel<8, T><<<grid, kBlock>>>(x, y, n); break;
    case 9: unary_kernel<9, T><<<grid, kBlock>>>(x, y, n); break;
    case 10: unary_kernel<10, T><<<grid, kBlock>>>(x, y, n); break;
    case 11: unary_kernel<11, T><<<grid, kBlock>>>(x, y, n); break;
    default: return nbf::invalid("nbf_cuda_unary: op must be 0..11");
  }
  return nbf::launched("nbf_cuda_unary");
}

}  // namespace

NBF_API int nbf_cuda_binary_f32(int op, int ndim, const int64_t* shape, const float* d_a,
                                const int64_t* a_strides, const float* d_b, const int64_t* b_strides,
                                float* d_out) {
  if (op < 0 || op > 12) return nbf::invalid("nbf_cuda_binary_f32: op must be 0..12");
  if (ndim < 0 || ndim > NBF_CUDA_MAX_DIMS) return nbf::invalid("nbf_cuda_binary_f32: ndim must be 0..8");
  Broadcast s{};
  const int64_t n = prepare(ndim, shape, a_strides, b_strides, s);
  if (n < 0) return nbf::invalid("nbf_cuda_binary_f32: negative dimension");
  if (n == 0) return 0;
  if (s.ndim == 0) return flat(op, d_a, d_b, d_out, n);
  binary_broadcast<float><<<nbf::grid_for(n, kBlock), kBlock>>>(op, s, d_a, d_b, d_out, n);
  return nbf::launched("nbf_cuda_binary_f32");
}

NBF_API int nbf_cuda_binary(int op, int dtype, int ndim, const int64_t* shape, const void* d_a, const int64_t* a_strides,
                            const void* d_b, const int64_t* b_strides, void* d_out) {
  if (dtype == nbf::kF32) {
    return nbf_cuda_binary_f32(op, ndim, shape, static_cast<const float*>(d_a), a_strides, static_cast<const float*>(d_b),
                               b_strides, static_cast<float*>(d_out));
  }
  if (dtype != nbf::kF64) return nbf::invalid("nbf_cuda_binary: float32 or float64 operands");
  if (op < 0 || op > 12) return nbf::invalid("nbf_cuda_binary: op must be 0..12");
  if (ndim < 0 || ndim > NBF_CUDA_MAX_DIMS) return nbf::invalid("nbf_cuda_binary: ndim must be 0..8");
  Broadcast s{};
  const int64_t n = prepare(ndim, shape, a_strides, b_strides, s);
  if (n < 0) return nbf::invalid("nbf_cuda_binary: negative dimension");
  if (n == 0) return 0;
  if (s.ndim == 0) {
    s.ndim = 1;
    s.shape[0] = n;
    s.sa[0] = s.sb[0] = 1;
  }
  binary_broadcast<double><<<nbf::grid_for(n, kBlock), kBlock>>>(op, s, static_cast<const double*>(d_a),
                                                                 static_cast<const double*>(d_b),
                                                                 static_cast<double*>(d_out), n);
  return nbf::launched("nbf_cuda_binary");
}

NBF_API int nbf_cuda_add_f32(const float* a, const float* b, float* o, int64_t n) { return flat(0, a, b, o, n); }
NBF_API int nbf_cuda_sub_f32(const float* a, const float* b, float* o, int64_t n) { return flat(1, a, b, o, n); }
NBF_API int nbf_cuda_mul_f32(const float* a, const float* b, float* o, int64_t n) { return flat(2, a, b, o, n); }
NBF_API int nbf_cuda_div_f32(const float* a, const float* b, float* o, int64_t n) { return flat(3, a, b, o, n); }

NBF_API int nbf_cuda_unary_f32(int op, const float* x, float* y, int64_t n) {
  if (n <= 0) return 0;
  return unary_launch<float>(op, x, y, n);
}

NBF_API int nbf_cuda_unary(int op, int dtype, const void* x, void* y, int64_t n) {
  if (n <= 0) return 0;
  if (dtype == nbf::kF32) return unary_launch<float>(op, static_cast<const float*>(x), static_cast<float*>(y), n);
  if (dtype == nbf::kF64) return unary_launch<double>(op, static_cast<const double*>(x), static_cast<double*>(y), n);
  return nbf::invalid("nbf_cuda_unary: float32 or float64");
}

NBF_API int nbf_cuda_unary_backward_f32(int op, const float* x, const float* y, const float* gy,
                                        float* gx, int64_t n) {
  if (op < 0 || op > 11) return nbf::invalid("nbf_cuda_unary_backward_f32: op must be 0..11");
  if (n <= 0) return 0;
  unary_backward_kernel<float><<<nbf::grid_for(n, kBlock), kBlock>>>(op, x, y, gy, gx, n);
  return nbf::launched("nbf_cuda_unary_backward_f32");
}

NBF_API int nbf_cuda_unary_backward(int op, int dtype, const void* x, const void* y, const void* gy, void* gx, int64_t n) {
  if (dtype == nbf::kF32) {
    return nbf_cuda_unary_backward_f32(op, static_cast<const float*>(x), static_cast<const float*>(y),
                                       static_cast<const float*>(gy), static_cast<float*>(gx), n);
  }
  if (dtype != nbf::kF64) return nbf::invalid("nbf_cuda_unary_backward: float32 or float64");
  if (op < 0 || op > 11) return nbf::invalid("nbf_cuda_unary_backward: op must be 0..11");
  if (n <= 0) return 0;
  unary_backward_kernel<double><<<nbf::grid_for(n, kBlock), kBlock>>>(
      op, static_cast<const double*>(x), static_cast<const double*>(y), static_cast<const double*>(gy),
      static_cast<double*>(gx), n);
  return nbf::launched("nbf_cuda_unary_backward");
}
