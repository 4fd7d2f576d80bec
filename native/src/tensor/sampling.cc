// Sampling kernels: topk (the indices of the k largest or smallest values of
// each row) and multinomial sampling from rows of non-negative weights with the
// Philox generator (one block per draw, so results depend only on the seed and
// the generator's offset, never on the thread count).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/indexing_util.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace ixutil;

// tensorTopk(x, xOff, rows, n, k, largest, out, outOff): x contiguous [rows, n];
// out int64 [rows, k], sorted (largest first, or smallest first). NaN counts as
// larger than every number, as in PyTorch; ties keep the lower index first.
Napi::Value Topk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* x = storage_arg(info, 0, "tensorTopk");
  Storage* o = storage_arg(info, 6, "tensorTopk");
  if (o->dtype() != kInt64) throw Napi::TypeError::New(env, "tensorTopk: the output must be int64");
  const int64_t rows = int_arg(info, 2), n = int_arg(info, 3), k = int_arg(info, 4);
  const bool largest = info[5].ToBoolean().Value();
  if (k < 0 || k > n) throw Napi::RangeError::New(env, "tensorTopk: k out of range");
  if (rows == 0 || k == 0) return env.Undefined();
  const char* xp = x->at(env, int_arg(info, 1), "tensorTopk");
  int64_t* op = reinterpret_cast<int64_t*>(o->at(env, int_arg(info, 7), "tensorTopk"));
  const bool ok = with_arith(x->dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
      std::vector<int64_t> ord(static_cast<std::size_t>(n));
      for (int64_t r = r0; r < r1; ++r) {
        const T* row = px + r * n;
        std::iota(ord.begin(), ord.end(), int64_t{0});
        auto before = [&](int64_t i, int64_t j) {
          const T a = row[i], b = row[j];
          const bool an = a != a, bn = b != b;
          if (an || bn) {
            if (an && bn) return i < j;
            return largest ? an : bn;  // NaN is the largest value
          }
          if (a != b) return largest ? a > b : a < b;
          return i < j;
        };
        std::partial_sort(ord.begin(), ord.begin() + k, ord.end(), before);
        std::copy(ord.begin(), ord.begin() + k, op + r * k);
      }
    });
  });
  if (!ok) throw Napi::TypeError::New(env, std::string("tensorTopk: unsupported dtype ") + dtype_name(x->dtype()));
  return env.Undefined();
}

// tensorMultinomial(p, pOff, rows, n, samples, replacement, out, outOff, seedLo, seedHi, counter, what) -> blocks used.
// p float64 contiguous [rows, n] of non-negative finite weights (not necessarily normalised).
Napi::Value Multinomial(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* p = storage_arg(info, 0, "tensorMultinomial");
  Storage* o = storage_arg(info, 6, "tensorMultinomial");
  if (p->dtype() != kFloat64 || o->dtype() != kInt64) throw Napi::TypeError::New(env, "tensorMultinomial: takes float64 weights and an int64 output");
  const int64_t rows = int_arg(info, 2), n = int_arg(info, 3), samples = int_arg(info, 4);
  const bool replacement = info[5].ToBoolean().Value();
  const Philox ph{static_cast<uint32_t>(int_arg(info, 8)), static_cast<uint32_t>(int_arg(info, 9))};
  const uint64_t counter = static_cast<uint64_t>(int_arg(info, 10));
  const std::string what = info[11].As<Napi::String>().Utf8Value();
  if (rows == 0 || samples == 0) return Napi::Number::New(env, 0);
  const double* pp = reinterpret_cast<const double*>(p->at(env, int_arg(info, 1), "tensorMultinomial"));
  int64_t* op = reinterpret_cast<int64_t*>(o->at(env, int_arg(info, 7), "tensorMultinomial"));
  // Validate every row before drawing.
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = pp + r * n;
    double total = 0;
    int64_t positive = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double v = row[j];
      if (!(v >= 0) || std::isinf(v)) {
        throw Napi::RangeError::New(env, what + ": probabilities must be finite and non-negative; row " + std::to_string(r) +
                                             " has " + std::to_string(v) + " at column " + std::to_string(j));
      }
      total += v;
      positive += v > 0;
    }
    if (!(total > 0)) throw Napi::RangeError::New(env, what + ": row " + std::to_string(r) + " of probabilities sums to 0; every row needs a positive weight");
    if (!replacement && positive < samples) {
      throw Napi::RangeError::New(env, what + ": cannot draw " + std::to_string(samples) + " samples without replacement from row " +
                                           std::to_string(r) + ", which has only " + std::to_string(positive) +
                                           " categories of non-zero probability; draw fewer or pass replacement: true");
    }
  }
  parallel_for(0, rows, 1, [&](int64_t r0, int64_t r1) {
    std::vector<double> cum(static_cast<std::size_t>(n));
    std::vector<double> w(static_cast<std::size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      const double* row = pp + r * n;
      int64_t* out = op + r * samples;
      auto uniform = [&](int64_t s) {
        uint32_t b[4];
        ph.block(counter + static_cast<uint64_t>(r * samples + s), b);
        return unit_double(b[0], b[1]);
      };
      if (replacement) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) { acc += row[j]; cum[j] = acc; }
        int64_t last = n - 1;
        while (last > 0 && row[last] == 0) --last;
        for (int64_t s = 0; s < samples; ++s) {
          const double u = uniform(s) * acc;
          int64_t j = std::upper_bound(cum.begin(), cum.end(), u) - cum.begin();
          if (j > last) j = last;
          while (row[j] == 0 && j < last) ++j;
          out[s] = j;
        }
      } else {
        std::copy(row, row + n, w.begin());
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
          out[s] = pick;
          w[pick] = 0;
        }
      }
    }
  });
  return Napi::Number::New(env, static_cast<double>(rows * samples));
}

void RegisterSampling(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorTopk", Napi::Function::New(env, Topk, "tensorTopk"));
  exports.Set("tensorMultinomial", Napi::Function::New(env, Multinomial, "tensorMultinomial"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterSampling);

}  // namespace tensor
}  // namespace nbforge
