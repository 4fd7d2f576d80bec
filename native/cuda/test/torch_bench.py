"""PyTorch timings for the ops that nbf_cuda_check times, with the same names and
sizes, written as 'name<TAB>ms' lines to stdout (fp32, TF32 off). check.sh runs
this only where `import torch` works and torch.cuda.is_available()."""
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")
F = torch.nn.functional


def time_ms(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    iters = 1
    while True:
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        ms = start.elapsed_time(end)
        if ms > 50 or iters >= 1 << 14:
            return ms / iters
        iters *= 4


def main():
    n = 1 << 26
    a = torch.rand(n, device=dev) * 4 - 2
    b = torch.rand(n, device=dev) * 1.5 + 0.5
    o = torch.empty_like(a)
    rows = {}
    rows["add [64M]"] = time_ms(lambda: torch.add(a, b, out=o))
    rows["mul [64M]"] = time_ms(lambda: torch.mul(a, b, out=o))
    a2, b1 = a.view(n // 4096, 4096), b[:4096]
    rows["add bcast [16384,4096]+[4096]"] = time_ms(lambda: torch.add(a2, b1, out=o.view(n // 4096, 4096)))
    rows["exp [64M]"] = time_ms(lambda: torch.exp(a, out=o))
    rows["gelu_erf [64M]"] = time_ms(lambda: F.gelu(a))
    rows["gelu_tanh [64M]"] = time_ms(lambda: F.gelu(a, approximate="tanh"))
    rows["silu [64M]"] = time_ms(lambda: F.silu(a))
    for cols in (1024, 4096, 32768):
        x = a.view(n // cols, cols)
        rows[f"softmax [{n // cols},{cols}]"] = time_ms(lambda: torch.softmax(x, dim=-1))
    x = a.view(n // 4096, 4096)
    rows["log_softmax [16384,4096]"] = time_ms(lambda: torch.log_softmax(x, dim=-1))
    rows["sum [16384,4096]"] = time_ms(lambda: x.sum(dim=-1))
    rows["max [16384,4096]"] = time_ms(lambda: x.amax(dim=-1))
    ln_rows = n // 768
    xl = a[: ln_rows * 768].view(ln_rows, 768)
    w, bb = torch.rand(768, device=dev) + 0.5, torch.rand(768, device=dev) * 2 - 1
    rows["layer_norm [87381,768]"] = time_ms(lambda: F.layer_norm(xl, (768,), w, bb, 1e-5))
    for m, nn, k in ((4096, 4096, 4096), (4096, 3072, 768), (4096, 768, 3072)):
        A = torch.rand(m, k, device=dev) * 2 - 1
        B = torch.rand(k, nn, device=dev) * 2 - 1
        C = torch.empty(m, nn, device=dev)
        ms = time_ms(lambda: torch.matmul(A, B, out=C))
        rows[f"sgemm m={m} n={nn} k={k} tiled"] = ms
        rows[f"sgemm m={m} n={nn} k={k} cublas"] = ms
    for name, ms in rows.items():
        sys.stdout.write(f"{name}\t{ms:.6f}\n")


if __name__ == "__main__":
    main()
