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

__device__ __forceinline__ float binary_op(int op, float x, float y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return powf(x, y);
    case 5: return (x != x || x > y) ? x : y;
    case 6: return (x != x || x < y) ? x : y;
    case 7: return float(x == y);
    case 8: return float(x != y);
    case 9: return float(x < y);
    case 10: return float(x <= y);
    case 11: return float(x > y);
    case 12: return float(x >= y);
    default: return 0.0f;
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

__global__ void binary_broadcast(int op, Broadcast s, const float* __restrict__ a,
                                 const float* __restrict__ b, float* __restrict__ o, int64_t n) {
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

__device__ __forceinline__ float sigmoid_of(float x) { return 1.0f / (1.0f + expf(-x)); }

constexpr float kHalf = 0.5f;
constexpr float kTanh = 0.7978845608028654f;  // sqrt(2/pi)
constexpr float kErf = 0.7071067811865476f;   // 1/sqrt(2)
constexpr float kPdf = 0.3989422804014327f;   // 1/sqrt(2 pi)

template <int OP>
__device__ __forceinline__ float unary_op(float v) {
  switch (OP) {
    case 0: return -v;
    case 1: return expf(v);
    case 2: return logf(v);
    case 3: return sqrtf(v);
    case 4: return 1.0f / sqrtf(v);
    case 5: return tanhf(v);
    case 6: return sigmoid_of(v);
    case 7: return v > 0.0f ? v : (v != v ? v : 0.0f);
    case 8: return kHalf * v * (1.0f + tanhf(kTanh * (v + 0.044715f * v * v * v)));
    case 9: return kHalf * v * (1.0f + erff(v * kErf));
    case 10: return v * sigmoid_of(v);
    case 11: return fabsf(v);
    default: return 0.0f;
  }
}

template <int OP>
__global__ void unary_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = unary_op<OP>(x[i]);
  }
}

__global__ void unary_backward_kernel(int op, const float* __restrict__ x, const float* __restrict__ y,
                                      const float* __restrict__ gy, float* __restrict__ gx, int64_t n) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float g = gy[i];
    float r = 0.0f;
    switch (op) {
      case 0: r = -g; break;
      case 1: r = g * y[i]; break;
      case 2: r = g / x[i]; break;
      case 3: r = g / (2.0f * y[i]); break;
      case 4: r = -0.5f * g * y[i] * y[i] * y[i]; break;
      case 5: r = g * (1.0f - y[i] * y[i]); break;
      case 6: r = g * y[i] * (1.0f - y[i]); break;
      case 7: r = x[i] > 0.0f ? g : 0.0f; break;
      case 8: {
        const float v = x[i];
        const float t = tanhf(kTanh * (v + 0.044715f * v * v * v));
        const float du = kTanh * (1.0f + 3.0f * 0.044715f * v * v);
        r = g * (kHalf * (1.0f + t) + kHalf * v * (1.0f - t * t) * du);
        break;
      }
      case 9: {
        const float v = x[i];
        const float cdf = kHalf * (1.0f + erff(v * kErf));
        r = g * (cdf + v * kPdf * expf(-0.5f * v * v));
        break;
      }
      case 10: {
        const float s = sigmoid_of(x[i]);
        r = g * s * (1.0f + x[i] * (1.0f - s));
        break;
      }
      case 11: r = x[i] > 0.0f ? g : (x[i] < 0.0f ? -g : 0.0f); break;
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
      binary_broadcast<<<nbf::grid_for(n, kBlock), kBlock>>>(op, s, a, b, o, n);
    }
  }
  return nbf::launched("nbf_cuda_binary_f32");
}

}  // namespace

NBF_API int nbf_cuda_binary_f32(int op, int ndim, const int64_t* shape, const float* d_a,
                                const int64_t* a_strides, const float* d_b, const int64_t* b_strides,
                                float* d_out) {
  if (op < 0 || op > 12) return nbf::invalid("nbf_cuda_binary_f32: op must be 0..12");
  if (ndim < 0 || ndim > NBF_CUDA_MAX_DIMS) return nbf::invalid("nbf_cuda_binary_f32: ndim must be 0..8");
  // Drop size-1 dimensions and merge dimensions that are contiguous in a, b and out.
  Broadcast s{};
  int64_t n = 1;
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] < 0) return nbf::invalid("nbf_cuda_binary_f32: negative dimension");
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
  if (n == 0) return 0;
  if (nd == 0) {  // one element
    s.ndim = 1;
    s.shape[0] = 1;
  } else if (nd == 1 && s.sa[0] == 1 && s.sb[0] == 1) {
    return flat(op, d_a, d_b, d_out, n);
  }
  binary_broadcast<<<nbf::grid_for(n, kBlock), kBlock>>>(op, s, d_a, d_b, d_out, n);
  return nbf::launched("nbf_cuda_binary_f32");
}

NBF_API int nbf_cuda_add_f32(const float* a, const float* b, float* o, int64_t n) { return flat(0, a, b, o, n); }
NBF_API int nbf_cuda_sub_f32(const float* a, const float* b, float* o, int64_t n) { return flat(1, a, b, o, n); }
NBF_API int nbf_cuda_mul_f32(const float* a, const float* b, float* o, int64_t n) { return flat(2, a, b, o, n); }
NBF_API int nbf_cuda_div_f32(const float* a, const float* b, float* o, int64_t n) { return flat(3, a, b, o, n); }

NBF_API int nbf_cuda_unary_f32(int op, const float* x, float* y, int64_t n) {
  if (n <= 0) return 0;
  const int grid = nbf::grid_for(n, kBlock);
  switch (op) {
    case 0: unary_kernel<0><<<grid, kBlock>>>(x, y, n); break;
    case 1: unary_kernel<1><<<grid, kBlock>>>(x, y, n); break;
    case 2: unary_kernel<2><<<grid, kBlock>>>(x, y, n); break;
    case 3: unary_kernel<3><<<grid, kBlock>>>(x, y, n); break;
    case 4: unary_kernel<4><<<grid, kBlock>>>(x, y, n); break;
    case 5: unary_kernel<5><<<grid, kBlock>>>(x, y, n); break;
    case 6: unary_kernel<6><<<grid, kBlock>>>(x, y, n); break;
    case 7: unary_kernel<7><<<grid, kBlock>>>(x, y, n); break;
    case 8: unary_kernel<8><<<grid, kBlock>>>(x, y, n); break;
    case 9: unary_kernel<9><<<grid, kBlock>>>(x, y, n); break;
    case 10: unary_kernel<10><<<grid, kBlock>>>(x, y, n); break;
    case 11: unary_kernel<11><<<grid, kBlock>>>(x, y, n); break;
    default: return nbf::invalid("nbf_cuda_unary_f32: op must be 0..11");
  }
  return nbf::launched("nbf_cuda_unary_f32");
}

NBF_API int nbf_cuda_unary_backward_f32(int op, const float* x, const float* y, const float* gy,
                                        float* gx, int64_t n) {
  if (op < 0 || op > 11) return nbf::invalid("nbf_cuda_unary_backward_f32: op must be 0..11");
  if (n <= 0) return 0;
  unary_backward_kernel<<<nbf::grid_for(n, kBlock), kBlock>>>(op, x, y, gy, gx, n);
  return nbf::launched("nbf_cuda_unary_backward_f32");
}
