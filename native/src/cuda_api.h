// Shared between cuda_loader.cc (which opens libnbforge_cuda.so) and
// cuda_tensor.cc (the cuda device's storage and kernels for JavaScript).
#pragma once

#include <string>

namespace nbforge {

// The dlopen handle of the CUDA library next to the addon when a GPU is
// available; otherwise nullptr, with *reason saying why (as cudaInfo().reason).
void* cuda_library_handle(std::string* reason);

}  // namespace nbforge
