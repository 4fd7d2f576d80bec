// Device discovery, memory and error reporting for libnbforge_cuda.so.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "common.cuh"

namespace nbf {

static thread_local std::string g_last_error;

int record(cudaError_t err, const char* where) {
  if (err == cudaSuccess) return 0;
  g_last_error = std::string(where) + ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
  return static_cast<int>(err);
}

int invalid(const char* message) {
  g_last_error = message;
  return static_cast<int>(cudaErrorInvalidValue);
}

void* scratch(int slot, size_t bytes) {
  static void* buffers[kScratchSlots] = {};
  static size_t sizes[kScratchSlots] = {};
  static std::mutex mutex;
  if (slot < 0 || slot >= kScratchSlots) return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (bytes <= sizes[slot]) return buffers[slot];
  if (buffers[slot] != nullptr) cudaFree(buffers[slot]);  // synchronises: earlier kernels may still use it
  buffers[slot] = nullptr;
  sizes[slot] = 0;
  size_t grown = bytes + bytes / 4;  // some headroom for slowly growing sizes
  if (record(cudaMalloc(&buffers[slot], grown), "cudaMalloc (scratch)") != 0) return nullptr;
  sizes[slot] = grown;
  return buffers[slot];
}

}  // namespace nbf

NBF_API int nbf_cuda_abi_version(void) { return NBF_CUDA_ABI_VERSION; }

NBF_API int nbf_cuda_available(void) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    nbf::record(err, "cudaGetDeviceCount");
    cudaGetLastError();  // clear the sticky error for later calls
    return 0;
  }
  if (count <= 0) nbf::invalid("cudaGetDeviceCount: 0 devices");
  return count > 0 ? count : 0;
}

NBF_API int nbf_cuda_device_name(char* buffer, int length) {
  if (buffer == nullptr || length <= 0) return nbf::invalid("nbf_cuda_device_name: empty buffer");
  cudaDeviceProp prop;
  const int rc = nbf::record(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  if (rc != 0) {
    buffer[0] = '\0';
    return rc;
  }
  std::snprintf(buffer, static_cast<size_t>(length), "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major,
                prop.minor, static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return 0;
}

NBF_API const char* nbf_cuda_error_string(void) { return nbf::g_last_error.c_str(); }

NBF_API int nbf_cuda_malloc(void** d_ptr, size_t bytes) {
  if (d_ptr == nullptr) return nbf::invalid("nbf_cuda_malloc: null output pointer");
  return nbf::record(cudaMalloc(d_ptr, bytes == 0 ? 1 : bytes), "cudaMalloc");
}

NBF_API int nbf_cuda_free(void* d_ptr) { return nbf::record(cudaFree(d_ptr), "cudaFree"); }

NBF_API int nbf_cuda_memcpy(void* dst, const void* src, size_t bytes, int kind) {
  cudaMemcpyKind k;
  switch (kind) {
    case 0: k = cudaMemcpyHostToDevice; break;
    case 1: k = cudaMemcpyDeviceToHost; break;
    case 2: k = cudaMemcpyDeviceToDevice; break;
    default: return nbf::invalid("nbf_cuda_memcpy: kind must be 0 (h2d), 1 (d2h) or 2 (d2d)");
  }
  return nbf::record(cudaMemcpy(dst, src, bytes, k), "cudaMemcpy");
}

NBF_API int nbf_cuda_memset(void* d_ptr, int value, size_t bytes) {
  return nbf::record(cudaMemset(d_ptr, value, bytes), "cudaMemset");
}

NBF_API int nbf_cuda_synchronize(void) {
  return nbf::record(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}
