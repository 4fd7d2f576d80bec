// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11): a counter-based generator, so any block of random numbers can be
// computed on its own from (key, counter) — which makes parallel sampling
// reproducible. Every random op in the tensor core draws from it.
#pragma once

#include <cstdint>

namespace nbforge {
namespace tensor {

struct Philox {
  uint32_t k0, k1;

  // Four 32-bit random words for one counter value.
  void block(uint64_t counter, uint32_t out[4]) const {
    uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
    uint32_t a = k0, b = k1;
    for (int r = 0; r < 10; ++r) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
      const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
      const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
      c0 = hi1 ^ c1 ^ a;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ b;
      c3 = lo0;
      a += 0x9E3779B9u;
      b += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
  }
};

// A uniform float in [0, 1) from the top 24 bits of one word (float32 precision).
inline double unit_from_u32(uint32_t u) { return static_cast<double>(u >> 8) * (1.0 / 16777216.0); }

// A uniform double in [0, 1) from the top 53 bits of two words.
inline double unit_from_u64(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((static_cast<uint64_t>(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace tensor
}  // namespace nbforge
