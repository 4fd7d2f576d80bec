// Lets SIGINT reach a busy JavaScript thread. Node runs a JavaScript SIGINT
// handler only when its event loop turns, so a cell stuck in a loop after an
// `await` would never see the signal. This handler, run by the OS at once,
// bumps a slot of a shared Int32Array that the loops in every cell check, then
// passes the signal on to the handler that was there before (Node's).
#include <napi.h>
#include <signal.h>

#include <atomic>
#include <cstdint>

#include "registry.h"

namespace {

std::atomic<int32_t>* g_counter = nullptr;
struct sigaction g_previous {};
Napi::Reference<Napi::Int32Array>* g_keep_alive = nullptr;

void on_sigint(int signo, siginfo_t* info, void* context) {
  if (g_counter != nullptr) g_counter->fetch_add(1, std::memory_order_relaxed);  // async-signal-safe
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) g_previous.sa_sigaction(signo, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(signo);
  }
}

bool ours_installed() {
  struct sigaction current {};
  sigaction(SIGINT, nullptr, &current);
  return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigint;
}

void install() {
  if (ours_installed()) return;
  struct sigaction action {};
  action.sa_sigaction = on_sigint;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous);
}

// countSigintsInto(flags: Int32Array, slot: number): every SIGINT adds 1 to flags[slot].
// Call again (rearmSigint) after something else took the handler over.
Napi::Value CountSigintsInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "countSigintsInto: expected (flags: Int32Array over a SharedArrayBuffer, slot: number)");
  }
  Napi::Int32Array flags = info[0].As<Napi::Int32Array>();
  const int64_t slot = info[1].As<Napi::Number>().Int64Value();
  if (slot < 0 || static_cast<size_t>(slot) >= flags.ElementLength()) {
    throw Napi::RangeError::New(env, "countSigintsInto: slot is outside the array");
  }
  delete g_keep_alive;
  g_keep_alive = new Napi::Reference<Napi::Int32Array>(Napi::Persistent(flags));  // the memory must outlive us
  g_counter = reinterpret_cast<std::atomic<int32_t>*>(flags.Data() + slot);
  install();
  return env.Undefined();
}

Napi::Value RearmSigint(const Napi::CallbackInfo& info) {
  const bool rearmed = g_counter != nullptr && !ours_installed();
  if (rearmed) install();
  return Napi::Boolean::New(info.Env(), rearmed);
}

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("countSigintsInto", Napi::Function::New(env, CountSigintsInto, "countSigintsInto"));
  exports.Set("rearmSigint", Napi::Function::New(env, RearmSigint, "rearmSigint"));
}

NBFORGE_REGISTER_MODULE(Register);

}  // namespace
