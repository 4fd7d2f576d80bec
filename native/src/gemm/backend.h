// Run-time choices behind gemm_f32/gemm_f64 (see gemm.h): which backend runs
// (our packed kernel, or a system CBLAS found with dlopen), whether the
// portable C++ path is forced on an AVX2 machine (a test hook), and the cache
// blocking of our kernel (a tuning hook).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbforge {
namespace gemm {

enum class Backend { Nbforge, Blas };

// "nbforge" always; "blas" when a system CBLAS could be loaded (loaded lazily, once).
std::vector<std::string> available_backends();

// The shared library the "blas" backend uses ("" when none was found).
std::string blas_library();

// Selects the backend for later calls; returns false (and changes nothing) when
// the "blas" backend is asked for and no CBLAS is present.
bool set_backend(Backend backend);
Backend backend();

// Forces the portable C++ kernels even where AVX2+FMA exists (for tests).
void force_portable(bool on);
bool portable_forced();
// True when our kernels take the AVX2+FMA path (the CPU has it, not forced off).
bool using_avx2();

// Cache blocking of our kernel: MC rows of A (L2), KC depth (L1), NC columns of B (L3).
struct Blocking {
  int64_t mc;
  int64_t kc;
  int64_t nc;
};
Blocking blocking_f32();
Blocking blocking_f64();
void set_blocking_f32(Blocking b);  // values are rounded to the register tile; <=0 keeps the current
void set_blocking_f64(Blocking b);

}  // namespace gemm
}  // namespace nbforge
