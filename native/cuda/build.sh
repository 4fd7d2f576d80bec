#!/usr/bin/env bash
# Builds native/build/cuda/libnbforge_cuda.so from native/cuda/*.cu where nvcc
# exists (on PATH, $CUDA_HOME/bin or /usr/local/cuda/bin). Exits 0 without nvcc,
# and also when nvcc fails unless --strict is given: `npm install` must never
# fail because of CUDA. Writes native/build/cuda/status.txt, one line that the
# addon's cudaInfo() reports ("built", "not built: nvcc not found", ...).
#
#   native/cuda/build.sh            # as npm install runs it
#   native/cuda/build.sh --strict   # fail on compile errors (check.sh uses this)
#   NBF_CUDA_ARCHS="90" native/cuda/build.sh   # only sm_90 (faster)
set -u
strict=0
[ "${1:-}" = "--strict" ] && strict=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${NBF_CUDA_OUT:-$here/../build/cuda}"  # NBF_CUDA_OUT: build elsewhere (the CI compile check does)
mkdir -p "$out"
out="$(cd "$out" && pwd)"
status="$out/status.txt"
log="$out/build.log"

nvcc=""
if command -v nvcc >/dev/null 2>&1; then
  nvcc="$(command -v nvcc)"
else
  for dir in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [ -n "$dir" ] && [ -x "$dir/bin/nvcc" ]; then nvcc="$dir/bin/nvcc"; break; fi
  done
fi
if [ -z "$nvcc" ]; then
  rm -f "$out/libnbforge_cuda.so"
  echo "not built: nvcc not found" > "$status"
  echo "nbforge cuda: nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin); skipping the CUDA library"
  exit 0
fi

# SASS for Turing, Ampere (sm_80 also runs on sm_86/89) and Hopper (H100/H200),
# plus compute_90 PTX that newer GPUs JIT-compile. CUDA 13 has no sm_70 or older.
archs="${NBF_CUDA_ARCHS:-75 80 90}"
gencode=()
last=""
for a in $archs; do
  gencode+=("-gencode" "arch=compute_$a,code=sm_$a")
  last="$a"
done
gencode+=("-gencode" "arch=compute_$last,code=compute_$last")

flags=(-O3 -std=c++17 -Xcompiler -fPIC -Xcompiler -fvisibility=hidden -I"$here" "${gencode[@]}")
echo "nbforge cuda: $("$nvcc" --version | tail -n 1) -> $out/libnbforge_cuda.so (sm: $archs, PTX: compute_$last)"
start=$(date +%s)
: > "$log"
objs=()
pids=()
jobs_max=$(nproc 2>/dev/null || echo 2)
for src in runtime elementwise rows gemm copy reduce nn indexing attention; do
  ( "$nvcc" "${flags[@]}" -c "$here/$src.cu" -o "$out/$src.o" >> "$log" 2>&1 || echo "failed: $src.cu" >> "$log" ) &
  pids+=($!)
  objs+=("$out/$src.o")
  if [ "${#pids[@]}" -ge "$jobs_max" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
ok=1
for p in "${pids[@]}"; do wait "$p"; done
grep -q '^failed:' "$log" && ok=0
if [ $ok -eq 1 ]; then
  # cudart is linked statically (nvcc's default), so the library needs only the
  # driver (libcuda.so.1, opened by cudart at run time) and no CUDA toolkit.
  "$nvcc" --shared -cudart static "${gencode[@]}" "${objs[@]}" -o "$out/libnbforge_cuda.so.tmp" -ldl >> "$log" 2>&1 || ok=0
fi
rm -f "${objs[@]}"
if [ $ok -eq 1 ]; then
  mv -f "$out/libnbforge_cuda.so.tmp" "$out/libnbforge_cuda.so"
  echo "built" > "$status"
  echo "nbforge cuda: built $out/libnbforge_cuda.so in $(( $(date +%s) - start ))s"
  exit 0
fi
rm -f "$out/libnbforge_cuda.so.tmp" "$out/libnbforge_cuda.so"
echo "not built: nvcc failed (see native/build/cuda/build.log)" > "$status"
echo "nbforge cuda: WARNING: nvcc failed; the addon works without CUDA. Log: $log" >&2
tail -n 20 "$log" >&2
[ $strict -eq 1 ] && exit 1
exit 0
