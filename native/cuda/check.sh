#!/usr/bin/env bash
# One-call check of nbforge's CUDA kernels on a machine with a GPU and nvcc (no
# Node needed):
#   1. builds native/build/cuda/libnbforge_cuda.so (build.sh --strict) and the
#      C++/CUDA test program native/cuda/test/check.cu, which holds a CPU
#      reference (double precision) of the ABI-1 kernels (elementwise, softmax,
#      last-dim reductions, norm forward, SGEMM);
#   2. compares every kernel with a CPU reference on seeded random inputs:
#      check.cu for those, then test/check_ops.py (ctypes + PyTorch, float64
#      references, autograd for backward kernels, the CPU's Philox streams) for
#      the rest (copy/cast, random, reductions along dims, norms backward,
#      embedding, cross-entropy, attention, indexing, topk, multinomial,
#      quantization, batched SGEMM);
#   3. prints time and GB/s or TFLOP/s, next to PyTorch where `import torch`
#      finds a GPU.
# Exit status: 0 all checks pass; 1 a mismatch (or a build failure); 3 no GPU
# (after compiling, so a machine without a GPU still checks that it builds).
#
#   bash native/cuda/check.sh                  # everything
#   bash native/cuda/check.sh --compile-only   # build, and check the ABI from Python when python3 exists; exit 0
#   bash native/cuda/check.sh --quick          # checks, no timings
#   NBF_CUDA_ARCHS=90 bash native/cuda/check.sh   # build sm_90 only (H100/H200)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${NBF_CUDA_OUT:-$here/../build/cuda}"  # NBF_CUDA_OUT: build elsewhere (the CI compile check does)
compile_only=0
quick=""
for arg in "$@"; do
  case "$arg" in
    --compile-only) compile_only=1 ;;
    --quick) quick="--quick" ;;
    *) echo "check.sh: unknown option $arg (use --compile-only or --quick)" >&2; exit 2 ;;
  esac
done

# Build only for the GPU in this machine (one arch compiles 3x faster) unless told otherwise.
if [ -z "${NBF_CUDA_ARCHS:-}" ] && command -v nvidia-smi >/dev/null 2>&1; then
  cap="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
  case "$cap" in [0-9][0-9]|[0-9][0-9][0-9]) export NBF_CUDA_ARCHS="$cap"; echo "check.sh: building for this GPU only: sm_$cap" ;; esac
fi
echo "== 1. build"
bash "$here/build.sh" --strict || { echo "check.sh: FAIL: the library did not build"; exit 1; }
if [ ! -f "$out/libnbforge_cuda.so" ]; then
  echo "check.sh: FAIL: $(cat "$out/status.txt" 2>/dev/null || echo 'no library built')"
  exit 1
fi
nvcc="$(command -v nvcc || true)"
[ -z "$nvcc" ] && for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
  [ -n "$d" ] && [ -x "$d/bin/nvcc" ] && { nvcc="$d/bin/nvcc"; break; }
done
arch="${NBF_CUDA_ARCHS:-90}"
arch="${arch##* }"
"$nvcc" -O2 -std=c++17 -I"$here" -gencode "arch=compute_$arch,code=sm_$arch" -gencode "arch=compute_$arch,code=compute_$arch" \
  "$here/test/check.cu" -o "$out/nbf_cuda_check" -L"$out" -lnbforge_cuda -Xlinker -rpath,'$ORIGIN' \
  || { echo "check.sh: FAIL: test/check.cu did not compile"; exit 1; }
echo "built $out/nbf_cuda_check"
py="$(command -v python3 || true)"
if [ -n "$py" ]; then
  # Loads the library with ctypes and checks every entry point check_ops.py calls (no GPU needed).
  "$py" "$here/test/check_ops.py" "$out/libnbforge_cuda.so" --abi || { echo "check.sh: FAIL: test/check_ops.py --abi"; exit 1; }
fi
if [ $compile_only -eq 1 ]; then echo "check.sh: compiled only (--compile-only)"; exit 0; fi

if ! "$out/nbf_cuda_check" --probe; then
  echo "check.sh: no GPU found: compiled the library and the test program, ran nothing"
  exit 3
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader

times=""
if [ -z "$quick" ] && command -v python3 >/dev/null 2>&1 && \
   python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
  echo "== timing PyTorch $(python3 -c 'import torch; print(torch.__version__)') for comparison"
  times="$out/torch_times.tsv"
  timeout 300 python3 "$here/test/torch_bench.py" > "$times" || { echo "(torch timing failed; continuing without it)"; times=""; }
else
  [ -z "$quick" ] && echo "(no PyTorch with CUDA here: timings without a torch column)"
fi

# PyTorch's pip wheels carry their own cuBLAS (nvidia-cublas); use it when the system has none on the loader path.
if [ -z "${NBF_CUBLAS:-}" ] && [ -n "$py" ]; then
  wheel_cublas="$("$py" -c "import glob, os, nvidia.cublas as c; d = os.path.join(list(c.__path__)[0], 'lib'); print(sorted(glob.glob(d + '/libcublas.so*'))[-1])" 2>/dev/null || true)"
  [ -n "$wheel_cublas" ] && ! ldconfig -p 2>/dev/null | grep -q "libcublas.so" && export NBF_CUBLAS="$wheel_cublas" && echo "check.sh: cuBLAS from PyTorch's wheel: $NBF_CUBLAS"
fi
echo "== 2./3. compare with the CPU reference, then time (check.cu: ABI-1 kernels)"
NBF_TORCH_TIMES="$times" "$out/nbf_cuda_check" $quick
rc=$?
echo "== 2./3. the ABI-2 kernels against PyTorch (test/check_ops.py)"
if [ -n "$py" ] && "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
  timeout 400 "$py" "$here/test/check_ops.py" "$out/libnbforge_cuda.so" $quick
  rc2=$?
  [ $rc2 -ne 0 ] && rc=1
else
  echo "check.sh: FAIL: the ABI-2 kernels need python3 with a CUDA-enabled PyTorch to be checked"
  rc=1
fi
[ $rc -eq 0 ] && echo "check.sh: PASS" || echo "check.sh: FAIL (exit $rc)"
exit $rc
