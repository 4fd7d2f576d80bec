// Optional CUDA: opens native/build/cuda/libnbforge_cuda.so (built by
// native/cuda/build.sh where nvcc exists) with dlopen, only when JavaScript asks.
// The addon never links against CUDA, so it builds and runs without nvcc or a GPU.
//
//   cudaAvailable(libraryPath?) -> boolean; never throws
//   cudaInfo(libraryPath?)      -> { built, available, reason, library, devices, device }
//
// The library is found next to the addon: <dir of nbforge_native.node>/../cuda/,
// unless NBFORGE_CUDA_LIB or the optional argument names another file.
#include <napi.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "../cuda/nbforge_cuda.h"
#include "cuda_api.h"
#include "registry.h"

#ifndef _WIN32
#include <dlfcn.h>
#include <sys/stat.h>
#endif

namespace {

struct Probe {
  bool built = false;
  bool available = false;
  int devices = 0;
  std::string reason;
  std::string library;
  std::string device;
  void* handle = nullptr;  // kept open for the process's lifetime
};

std::string dirname_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

#ifndef _WIN32
void addon_anchor() {}

std::string default_library_path() {
  if (const char* env = std::getenv("NBFORGE_CUDA_LIB"); env != nullptr && *env != '\0') return env;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&addon_anchor), &info) != 0 && info.dli_fname != nullptr) {
    // .../native/build/Release/nbforge_native.node -> .../native/build/cuda/libnbforge_cuda.so
    return dirname_of(dirname_of(info.dli_fname)) + "/cuda/libnbforge_cuda.so";
  }
  return "native/build/cuda/libnbforge_cuda.so";
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The first line of build.sh's status file next to the library, if any.
std::string build_status(const std::string& library) {
  std::ifstream in(dirname_of(library) + "/status.txt");
  std::string line;
  if (in && std::getline(in, line)) return line;
  return "";
}

Probe probe(const std::string& library) {
  Probe p;
  p.library = library;
  if (!file_exists(library)) {
    const std::string status = build_status(library);
    p.reason = status.rfind("not built", 0) == 0
                   ? status
                   : "not built: " + library + " is missing (native/cuda/build.sh builds it where nvcc exists)";
    return p;
  }
  p.built = true;
  p.handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (p.handle == nullptr) {
    const char* err = dlerror();
    p.reason = std::string("built, but the library could not be loaded: ") + (err ? err : "unknown dlopen error");
    return p;
  }
  using IntFn = int (*)();
  using NameFn = int (*)(char*, int);
  using StrFn = const char* (*)();
  auto abi = reinterpret_cast<IntFn>(dlsym(p.handle, "nbf_cuda_abi_version"));
  auto available = reinterpret_cast<IntFn>(dlsym(p.handle, "nbf_cuda_available"));
  auto name = reinterpret_cast<NameFn>(dlsym(p.handle, "nbf_cuda_device_name"));
  auto error = reinterpret_cast<StrFn>(dlsym(p.handle, "nbf_cuda_error_string"));
  if (abi == nullptr || available == nullptr || name == nullptr || error == nullptr) {
    p.reason = "built, but " + library + " lacks the nbf_cuda_* entry points; rebuild with native/cuda/build.sh";
    return p;
  }
  if (abi() != NBF_CUDA_ABI_VERSION) {
    p.reason = "built, but " + library + " has ABI version " + std::to_string(abi()) +
               " and this addon expects " + std::to_string(NBF_CUDA_ABI_VERSION) + "; rebuild with npm install";
    return p;
  }
  p.devices = available();
  if (p.devices <= 0) {
    const char* why = error();
    p.reason = std::string("no GPU found") + (why && *why ? std::string(" (") + why + ")" : std::string());
    return p;
  }
  char buffer[256] = {0};
  if (name(buffer, sizeof buffer) == 0) p.device = buffer;
  p.available = true;
  p.reason = "CUDA available: " + std::to_string(p.devices) + " device(s)" +
             (p.device.empty() ? std::string() : ", " + p.device);
  return p;
}
#else
std::string default_library_path() { return "native/build/cuda/nbforge_cuda.dll"; }
Probe probe(const std::string& library) {
  Probe p;
  p.library = library;
  p.reason = "not built: CUDA is supported on Linux only";
  return p;
}
#endif

// One probe per library path, for the process's lifetime.
const Probe& cached_probe(const std::string& library) {
  static std::mutex mutex;
  static std::map<std::string, Probe> probes;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = probes.find(library);
  if (it == probes.end()) it = probes.emplace(library, probe(library)).first;
  return it->second;
}

std::string library_arg(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() == 0 || info[0].IsUndefined() || info[0].IsNull()) return default_library_path();
  if (!info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) +
                                               ": libraryPath must be a string (a path to libnbforge_cuda.so) "
                                               "or omitted for the library built next to the addon");
  }
  return info[0].As<Napi::String>().Utf8Value();
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  bool ok = false;
  try {
    ok = cached_probe(library_arg(info, "cudaAvailable")).available;
  } catch (...) {
    ok = false;  // never throws
  }
  return Napi::Boolean::New(info.Env(), ok);
}

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Probe& p = cached_probe(library_arg(info, "cudaInfo"));
  Napi::Object out = Napi::Object::New(env);
  out.Set("built", Napi::Boolean::New(env, p.built));
  out.Set("available", Napi::Boolean::New(env, p.available));
  out.Set("reason", Napi::String::New(env, p.reason));
  out.Set("library", Napi::String::New(env, p.library));
  out.Set("devices", Napi::Number::New(env, p.devices));
  out.Set("device", Napi::String::New(env, p.device));
  return out;
}

}  // namespace

// The opened default library when a GPU is available (for cuda_tensor.cc), else
// nullptr with the reason cudaInfo() gives.
void* nbforge::cuda_library_handle(std::string* reason) {
  const Probe& p = cached_probe(default_library_path());
  if (reason != nullptr) *reason = p.reason;
  return p.available ? p.handle : nullptr;
}

namespace {

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaAvailable", Napi::Function::New(env, CudaAvailable, "cudaAvailable"));
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
}

NBFORGE_REGISTER_MODULE(RegisterCuda);

}  // namespace
