// Embedding lookup: out[i, :] = weight[idx[i], :] (a row copy of any dtype), and
// its gradient, a scatter-add of the output gradient's rows into a zeroed
// [num_embeddings, dim] tensor. The scatter-add splits the columns among the
// threads, so every row sum is made in index order (deterministic, race-free).
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

// Throws a RangeError naming the first index outside [0, num).
void check_indices(Napi::Env env, const char* ip, bool i64, int64_t count, int64_t num, const char* fn) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t v = index_at(ip, i64, i);
    if (v < 0 || v >= num) {
      throw Napi::RangeError::New(env, std::string(fn) + ": index " + std::to_string(v) + " at position " +
                                           std::to_string(i) + " is out of range for a table of " +
                                           std::to_string(num) + " rows");
    }
  }
}

// tensorEmbedding(idx, idxOff, count, weight, wOff, num, dim, out, outOff)
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "embedding";
  Storage* idx = storage_arg(info, 0, fn);
  Storage* w = storage_arg(info, 3, fn);
  Storage* o = storage_arg(info, 7, fn);
  require_index(env, idx, fn);
  require_same(env, w, o, fn);
  const int64_t count = int_arg(info, 2), num = int_arg(info, 5), dim = int_arg(info, 6);
  if (count == 0) return env.Undefined();
  const bool i64 = idx->dtype() == kInt64;
  const char* ip = idx->at(env, int_arg(info, 1), fn);
  check_indices(env, ip, i64, count, num, fn);
  if (dim == 0) return env.Undefined();
  const std::size_t es = dtype_size(w->dtype());
  const char* wp = w->at(env, int_arg(info, 4), fn);
  char* op = o->at(env, int_arg(info, 8), fn);
  const std::size_t row_bytes = es * static_cast<std::size_t>(dim);
  parallel_for(0, count, std::max<int64_t>(1, 65536 / static_cast<int64_t>(row_bytes)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      std::memcpy(op + i * row_bytes, wp + index_at(ip, i64, i) * row_bytes, row_bytes);
    }
  });
  return env.Undefined();
}

// tensorEmbeddingBackward(idx, idxOff, count, gy, gyOff, num, dim, gw, gwOff, paddingIdx)
// gw is overwritten (zeroed first); rows at paddingIdx (-1: none) get no gradient.
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "embedding backward";
  Storage* idx = storage_arg(info, 0, fn);
  Storage* gy = storage_arg(info, 3, fn);
  Storage* gw = storage_arg(info, 7, fn);
  require_index(env, idx, fn);
  require_float(env, gy, fn);
  require_same(env, gy, gw, fn);
  const int64_t count = int_arg(info, 2), num = int_arg(info, 5), dim = int_arg(info, 6);
  const int64_t pad = int_arg(info, 9);
  const bool i64 = idx->dtype() == kInt64;
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* pw = ptr<T>(env, gw, int_arg(info, 8), fn);
    std::fill(pw, pw + num * dim, T(0));
    if (count == 0 || dim == 0) return;
    const char* ip = idx->at(env, int_arg(info, 1), fn);
    const T* pg = ptr<T>(env, gy, int_arg(info, 4), fn);
    const int64_t grain = std::max<int64_t>(16, dim * 64 / std::max<int64_t>(1, count * 4));
    parallel_for(0, dim, std::min(grain, dim), [&](int64_t c0, int64_t c1) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t r = index_at(ip, i64, i);
        if (r == pad || r < 0 || r >= num) continue;
        T* dst = pw + r * dim;
        const T* src = pg + i * dim;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    });
  };
  if (gy->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterEmbedding(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorEmbedding", Napi::Function::New(env, EmbeddingForward, "tensorEmbedding"));
  exports.Set("tensorEmbeddingBackward", Napi::Function::New(env, EmbeddingBackward, "tensorEmbeddingBackward"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterEmbedding);

}  // namespace tensor
}  // namespace nbforge
