// What the CPU we run on can do, asked once at run time, so one binary can
// pick the fastest kernel the machine supports.
#pragma once

namespace nbforge {

// True when the CPU executes AVX2 and FMA instructions (x86-64 only).
bool cpu_has_avx2_fma();

}  // namespace nbforge
