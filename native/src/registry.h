// Each native module registers the JavaScript functions it exports from its own
// file, so adding a module never means editing addon.cc:
//
//   static void RegisterGemm(Napi::Env env, Napi::Object exports) { ... }
//   NBFORGE_REGISTER_MODULE(RegisterGemm);
#pragma once

#include <napi.h>

#include <vector>

namespace nbforge {

using ModuleInit = void (*)(Napi::Env env, Napi::Object exports);

// All registered modules, in static-initialisation order.
std::vector<ModuleInit>& registered_modules();

struct ModuleRegistration {
  explicit ModuleRegistration(ModuleInit init) { registered_modules().push_back(init); }
};

}  // namespace nbforge

#define NBFORGE_REGISTER_MODULE_CAT2(a, b) a##b
#define NBFORGE_REGISTER_MODULE_CAT(a, b) NBFORGE_REGISTER_MODULE_CAT2(a, b)
#define NBFORGE_REGISTER_MODULE(init)                                                   \
  static const ::nbforge::ModuleRegistration NBFORGE_REGISTER_MODULE_CAT(nbforge_module_, \
                                                                        __LINE__)(init)
