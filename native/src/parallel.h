// A fixed pool of worker threads for the CPU kernels. Its size is the number of
// cores, or NBFORGE_NUM_THREADS where set. Kernels split their outer loop with
// parallel_for; the calling thread takes a share of the work too.
#pragma once

#include <cstdint>
#include <functional>

namespace nbforge {

// Threads that run kernels (the caller included); at least 1.
int num_threads();

// Changes the pool's size (takes effect for the next parallel_for).
void set_num_threads(int n);

// Runs fn(begin_i, end_i) over [begin, end) split into chunks of at least
// `grain` iterations, in parallel when the range is large enough. Returns when
// every chunk is done. Nested calls run serially on the calling thread.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace nbforge
