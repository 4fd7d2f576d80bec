"""Checks the ABI-2 kernels of libnbforge_cuda.so against PyTorch, then times them.

Run by check.sh after test/check.cu (which covers the ABI-1 kernels in C++):
every kernel below is called through ctypes on torch-allocated GPU memory
(torch.Tensor.data_ptr(); both libraries use the device's primary context), and
compared with a float64 CPU reference computed by PyTorch (autograd for the
backward kernels) or, for the Philox streams and block quantization, with a
Python transcription of the CPU kernels (native/src/tensor/*.cc). Prints one
line per check (max relative error vs tolerance), then a timing table next to
PyTorch's own CUDA op where one exists.

  python3 check_ops.py LIB            # checks + timings; exit 1 on a mismatch, 3 without a GPU
  python3 check_ops.py LIB --quick    # checks only
  python3 check_ops.py LIB --abi      # no GPU needed: the library loads and has every entry point
  python3 check_ops.py LIB --dry-run  # no GPU needed: runs this script's reference code on the CPU with
                                      # the kernels stubbed out (every check then fails; exceptions are bugs here)
"""
import ctypes as C
import math
import sys
import time

LIB = sys.argv[1] if len(sys.argv) > 1 else "native/build/cuda/libnbforge_cuda.so"
FLAGS = set(sys.argv[2:])

I, I64, U32, U64, D, F, P = C.c_int, C.c_int64, C.c_uint32, C.c_uint64, C.c_double, C.c_float, C.c_void_p
PI64, PI, PD = C.POINTER(C.c_int64), C.POINTER(C.c_int), C.POINTER(C.c_double)

SIGNATURES = {
    "nbf_cuda_abi_version": [],
    "nbf_cuda_available": [],
    "nbf_cuda_error_string": [],
    "nbf_cuda_synchronize": [],
    "nbf_cuda_copy": [I, P, PI64, I, P, PI64, I, PI64],
    "nbf_cuda_fill": [I, P, I64, D],
    "nbf_cuda_arange": [I, P, I64, D, D],
    "nbf_cuda_random": [I, I, P, I64, U32, U32, U64, D, D, PI64],
    "nbf_cuda_dropout_mask": [I, P, I64, D],
    "nbf_cuda_binary": [I, I, I, PI64, P, PI64, P, PI64, P],
    "nbf_cuda_unary": [I, I, P, P, I64],
    "nbf_cuda_unary_backward": [I, I, P, P, P, P, I64],
    "nbf_cuda_reduce": [I, I, P, P, I64, I64, I64, D],
    "nbf_cuda_sgemm_batched": [I, I, I64, I64, I64, F, P, I64, I64, P, I64, I64, F, P, I64, I64, I64],
    "nbf_cuda_sgemm_batched_tiled": [I, I, I64, I64, I64, F, P, I64, I64, P, I64, I64, F, P, I64, I64, I64],
    "nbf_cuda_gemm_backend": [],
    "nbf_cuda_check_index": [I, P, I, PI64, PI64, I64, I, I64, PI64, PI64],
    "nbf_cuda_norm": [I, I, P, P, P, P, P, I64, I64, D],
    "nbf_cuda_norm_backward": [I, I, P, P, P, P, P, P, P, I64, I64, D],
    "nbf_cuda_embedding": [I, P, I64, P, I, I64, P],
    "nbf_cuda_embedding_backward": [I, I, P, I64, P, I64, I64, P, I64],
    "nbf_cuda_cross_entropy": [I, P, I, P, P, I64, I64, I64, D, I, I64],
    "nbf_cuda_cross_entropy_backward": [I, P, I, P, P, P, I64, I64, I64, D, I, I64],
    "nbf_cuda_attention": [I, P, P, P, P, P, I64, I64, I64, I64, I64, D, I],
    "nbf_cuda_attention_backward": [I, P, P, P, P, P, P, P, P, I64, I64, I64, I64, I64, D, I],
    "nbf_cuda_softmax": [I, I, P, P, I64, I64],
    "nbf_cuda_softmax_backward": [I, I, P, P, P, I64, I64],
    "nbf_cuda_dgemm_batched": [I, I, I64, I64, I64, D, P, I64, I64, P, I64, I64, D, P, I64, I64, I64],
    "nbf_cuda_dgemm_batched_tiled": [I, I, I64, I64, I64, D, P, I64, I64, P, I64, I64, D, P, I64, I64, I64],
    "nbf_cuda_gather": [I, P, PI64, P, PI64, P, I, PI64, I],
    "nbf_cuda_scatter": [I, I, P, PI64, P, PI64, P, PI64, I, PI64, I],
    "nbf_cuda_where": [P, PI64, I, P, PI64, P, PI64, P, I, PI64],
    "nbf_cuda_topk": [I, P, I64, I64, I64, I, P],
    "nbf_cuda_multinomial": [P, I64, I64, I64, I, P, U32, U32, U64, PI64, PI, PI64, PD],
    "nbf_cuda_quantize": [I, P, I64, I64, P, P],
    "nbf_cuda_rotary": [I, I, P, P, P, P, I64, I64, I64, I64, I],
    "nbf_cuda_dequantize": [I, P, P, I64, I64, P],
}

lib = C.CDLL(LIB)
for name, args in SIGNATURES.items():
    fn = getattr(lib, name)  # AttributeError names a missing entry point
    fn.argtypes = args
    fn.restype = C.c_char_p if name == "nbf_cuda_error_string" else I
if lib.nbf_cuda_abi_version() != 2:
    sys.exit(f"check_ops.py: {LIB} has ABI {lib.nbf_cuda_abi_version()}, expected 2")
if "--abi" in FLAGS:
    print(f"check_ops.py: {LIB}: ABI 2, all {len(SIGNATURES)} entry points present")
    sys.exit(0)
DRY = "--dry-run" in FLAGS
if DRY:
    class _Stub:
        def __getattr__(self, name):
            return lambda *args: 0
    lib = _Stub()
elif lib.nbf_cuda_available() <= 0:
    print("check_ops.py: no GPU:", lib.nbf_cuda_error_string().decode())
    sys.exit(3)

import torch  # noqa: E402  (only needed with a GPU)

torch.backends.cuda.matmul.allow_tf32 = False
dev = torch.device("cpu" if DRY else "cuda")
if DRY:
    torch.cuda.synchronize = lambda: None
    torch.cuda.get_device_name = lambda: "(dry run on the cpu)"
    torch.Tensor.cuda = lambda self: self.clone()
gen = torch.Generator().manual_seed(20261129)
CODE = {torch.float32: 0, torch.float64: 1, torch.bfloat16: 2, torch.float16: 3, torch.int32: 4, torch.int64: 5,
        torch.int8: 6, torch.uint8: 7, torch.bool: 8}
failures, checks = 0, 0


def ok(rc, what):
    if rc != 0:
        raise RuntimeError(f"{what}: rc {rc}: {lib.nbf_cuda_error_string().decode()}")
    if DRY:
        return
    torch.cuda.synchronize()


def arr(values):
    values = list(values)
    return (C.c_int64 * max(1, len(values)))(*values)


def randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)


def report(name, got, want, tol, scale=None):
    """max |got - want| / (scale or |want| + 1e-30); NaN/inf positions must agree."""
    global failures, checks
    checks += 1
    g = got.detach().double().cpu().reshape(-1)
    w = want.detach().double().cpu().reshape(-1)
    bad_nan = bool(((g.isnan() != w.isnan()) | (g.isinf() != w.isinf()) | (g.isinf() & (g != w))).any())
    fin = w.isfinite() & g.isfinite()
    s = (scale.double().cpu().reshape(-1) if scale is not None else w.abs()) + 1e-30
    err = float(((g - w).abs() / s)[fin].max()) if bool(fin.any()) else 0.0
    good = not bad_nan and err <= tol
    failures += 0 if good else 1
    print(f"  {'ok' if good else 'FAIL':4} {name:56} err {err:.2e} (tol {tol:.0e}){'  NaN/inf mismatch' if bad_nan else ''}")


def exact(name, got, want):
    global failures, checks
    checks += 1
    same = torch.equal(got.cpu(), want.cpu())
    failures += 0 if same else 1
    extra = "" if same else f"  first differences at {(got.cpu() != want.cpu()).nonzero()[:3].tolist()}"
    print(f"  {'ok' if same else 'FAIL':4} {name:56} exact{extra}")


def flag(good, text):
    global failures, checks
    checks += 1
    failures += 0 if good else 1
    print(f"  {'ok' if good else 'FAIL':4} {text}")


def p(t):
    return C.c_void_p(t.data_ptr())


# ---- Philox4x32-10 (native/src/tensor/philox.h) ----
M32 = 0xFFFFFFFF


def philox(k0, k1, counter):
    c0, c1, c2, c3 = counter & M32, (counter >> 32) & M32, 0, 0
    a, b = k0, k1
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ a) & M32, p1 & M32, ((p0 >> 32) ^ c3 ^ b) & M32, p0 & M32
        a, b = (a + 0x9E3779B9) & M32, (b + 0xBB67AE85) & M32
    return c0, c1, c2, c3


def check_copy_fill_random():
    print("copy / cast / fill / arange / random / dropout")
    x = randn(37, 53) * 100
    for dt in (torch.float64, torch.bfloat16, torch.float16, torch.int32, torch.int64, torch.int8, torch.uint8, torch.bool):
        src = x.cuda()
        dst = torch.empty(53, 37, dtype=dt, device=dev)  # transposed write: strided source
        ok(lib.nbf_cuda_copy(0, p(src), arr([1, 53]), CODE[dt], p(dst), arr([37, 1]), 2, arr([53, 37])), "copy")
        if dt.is_floating_point:
            want = x.t().to(dt)
        elif dt == torch.bool:
            want = x.t() != 0
        else:
            info = torch.iinfo(dt)
            want = x.t().double().trunc().clamp(-9.2e18, 9.2e18).long()
            want = want.to(dt) if dt in (torch.int32, torch.int64) else (want & 0xFF).to(torch.uint8).view(dt) if info.bits == 8 else want.to(dt)
        exact(f"copy float32 [37,53]^T -> {str(dt)[6:]}", dst, want)
    i64 = torch.randint(-2**62, 2**62, (1000,), generator=gen).cuda()
    out = torch.empty_like(i64)
    ok(lib.nbf_cuda_copy(5, p(i64), arr([2]), 5, p(out), arr([1]), 1, arr([500])), "copy")
    exact("copy int64 strided (exact beyond 2^53)", out[:500], i64[::2])
    t = torch.empty(1001, dtype=torch.float16, device=dev)
    ok(lib.nbf_cuda_fill(3, p(t), 1001, 0.1), "fill")
    exact("fill float16 0.1", t, torch.full((1001,), 0.1, dtype=torch.float16))
    t = torch.empty(77, dtype=torch.float64, device=dev)
    ok(lib.nbf_cuda_arange(1, p(t), 77, -3.0, 0.25), "arange")
    exact("arange float64", t, torch.arange(77, dtype=torch.float64) * 0.25 - 3.0)
    for kind, dt in ((0, torch.float32), (1, torch.float32), (0, torch.float64), (1, torch.float64)):
        n, k0, k1, ctr = 1003, 0x12345678, 0x9ABCDEF0, 77
        t = torch.empty(n, dtype=dt, device=dev)
        used = C.c_int64(0)
        ok(lib.nbf_cuda_random(kind, CODE[dt], p(t), n, k0, k1, ctr, 0.5, 2.0, C.byref(used)), "random")
        per = 4 if dt == torch.float32 else 2
        ref = []
        for blk in range((n + per - 1) // per):
            r = philox(k0, k1, ctr + blk)
            v = [(w >> 8) / 16777216.0 for w in r] if per == 4 else [
                (((r[0] << 32) | r[1]) >> 11) / 9007199254740992.0, (((r[2] << 32) | r[3]) >> 11) / 9007199254740992.0]
            if kind == 1:
                for j in range(0, per, 2):
                    rad, th = math.sqrt(-2.0 * math.log(1.0 - v[j])), 2 * math.pi * v[j + 1]
                    v[j], v[j + 1] = rad * math.cos(th), rad * math.sin(th)
            ref += [0.5 + 2.0 * x if kind == 1 else 0.5 + 1.5 * x for x in v]
        want = torch.tensor(ref[:n], dtype=torch.float64).to(dt)
        report(f"random {'normal' if kind else 'uniform'} {str(dt)[6:]} = the CPU's Philox stream", t, want, 1e-6 if dt == torch.float32 else 1e-12, want.abs() + 1)
        flag(used.value == (n + per - 1) // per, f"random {str(dt)[6:]} reports {used.value} counter steps")
    u = torch.rand(10007, generator=gen).cuda()
    want = torch.where(u >= 0.3, torch.tensor(1 / 0.7, dtype=torch.float32), torch.tensor(0.0)).cpu()
    ok(lib.nbf_cuda_dropout_mask(0, p(u), u.numel(), 0.3), "dropout")
    exact("dropout mask p=0.3", u, want)


def check_elementwise_f64():
    print("float64 elementwise")
    a, b = randn(64, 1, 33, dtype=torch.float64), randn(1, 17, 33, dtype=torch.float64).abs() + 0.5
    out = torch.empty(64, 17, 33, dtype=torch.float64, device=dev)
    ops = {0: torch.add, 1: torch.sub, 2: torch.mul, 3: torch.div, 4: torch.pow, 5: torch.maximum, 6: torch.minimum}
    ac, bc = a.abs().cuda(), b.cuda()
    for op, fn in ops.items():
        ok(lib.nbf_cuda_binary(op, 1, 3, arr([64, 17, 33]), p(ac), arr([33, 0, 1]), p(bc), arr([0, 33, 1]), p(out)), "binary")
        report(f"binary f64 op {op} [64,1,33] with [1,17,33]", out, fn(a.abs(), b), 2e-15)
    x = randn(4099, dtype=torch.float64)
    names = ["neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu_tanh", "gelu_erf", "silu", "abs"]
    fns = [torch.neg, torch.exp, torch.log, torch.sqrt, torch.rsqrt, torch.tanh, torch.sigmoid, torch.relu,
           lambda v: torch.nn.functional.gelu(v, approximate="tanh"), torch.nn.functional.gelu, torch.nn.functional.silu, torch.abs]
    for op, fn in enumerate(fns):
        xin = x.abs() + 0.1 if op in (2, 3, 4) else x
        xr = xin.clone().requires_grad_(True)
        y = fn(xr)
        gy = randn(4099, dtype=torch.float64)
        (gx,) = torch.autograd.grad(y, xr, gy)
        xc, yc, gyc = xin.cuda(), torch.empty(4099, dtype=torch.float64, device=dev), gy.cuda()
        ok(lib.nbf_cuda_unary(op, 1, p(xc), p(yc), 4099), "unary")
        # relative to |y| + 1e-4: gelu's 1 + erf/tanh cancels for very negative x, where 1 ulp of erf is a large part of y
        report(f"unary f64 {names[op]}", yc, y.detach(), 1e-12, y.detach().abs() + 1e-4)
        g = torch.empty_like(yc)
        ok(lib.nbf_cuda_unary_backward(op, 1, p(xc), p(yc), p(gyc), p(g), 4099), "unary backward")
        report(f"unary f64 {names[op]} backward", g, gx, 1e-13, gx.abs() + gy.abs() * 1e-3)


def check_reduce():
    print("reductions along a dim (outer, red, inner)")
    for dt in (torch.float32, torch.float64):
        for shape, inner in (((37, 1000, 1), 1), ((5, 333, 129), 129), ((1, 100003, 1), 1)):
            x = randn(*shape, dtype=dt)
            x[0, 7, 0] = x[0, 3, 0]  # a tie
            xc = x.cuda()
            o, r, n = shape
            for op, name in enumerate(["sum", "mean", "max", "min", "argmax", "argmin", "var"]):
                out = torch.empty(o, n, dtype=torch.int64 if op in (4, 5) else dt, device=dev)
                ok(lib.nbf_cuda_reduce(op, CODE[dt], p(xc), p(out), o, r, n, 1.0), "reduce")
                xd = x.double()
                if op == 0:
                    report(f"sum {str(dt)[6:]} {list(shape)}", out, xd.sum(1), 1e-6 if dt == torch.float32 else 1e-14, xd.abs().sum(1))
                elif op == 1:
                    report(f"mean {str(dt)[6:]} {list(shape)}", out, xd.mean(1), 1e-6 if dt == torch.float32 else 1e-14, xd.abs().mean(1))
                elif op in (2, 3):
                    exact(f"{name} {str(dt)[6:]} {list(shape)}", out, (x.amax(1) if op == 2 else x.amin(1)))
                elif op in (4, 5):
                    # first index of the extreme value (ties: lowest index)
                    ext = x.amax(1, keepdim=True) if op == 4 else x.amin(1, keepdim=True)
                    idx = (x == ext).int().argmax(1)
                    exact(f"{name} {str(dt)[6:]} {list(shape)} (ties: lowest index)", out, idx)
                else:
                    report(f"var {str(dt)[6:]} {list(shape)}", out, xd.var(1, unbiased=True), 1e-5 if dt == torch.float32 else 1e-12)
    for dt in (torch.float32, torch.float64):
        for log in (0, 1):
            x = randn(37, 1001, dtype=dt) * 4
            xr = x.double().requires_grad_(True)
            y = torch.log_softmax(xr, -1) if log else torch.softmax(xr, -1)
            gy = randn(37, 1001, dtype=dt)
            (gx,) = torch.autograd.grad(y, xr, gy.double())
            yc = torch.empty(37, 1001, dtype=dt, device=dev)
            ok(lib.nbf_cuda_softmax(log, CODE[dt], p(x.cuda()), p(yc), 37, 1001), "softmax")
            tol = 2e-6 if dt == torch.float32 else 1e-13
            nm = f"{'log_softmax' if log else 'softmax'} {str(dt)[6:]} [37,1001]"
            report(nm, yc, y.detach(), tol, y.detach().abs() + (1 if log else 1e-30))
            g = torch.empty_like(yc)
            ok(lib.nbf_cuda_softmax_backward(log, CODE[dt], p(yc), p(gy.cuda()), p(g), 37, 1001), "softmax bwd")
            yd, gd = y.detach(), gy.double()
            # the terms the kernel sums: gy - p sum(gy) (log) or p (gy - sum(gy p)) (softmax)
            st = gd.sum(-1, keepdim=True) if log else (gd * yd).sum(-1, keepdim=True)
            scale = gd.abs() + yd.exp() * st.abs() if log else yd * (gd.abs() + st.abs())
            report(nm + " backward", g, gx, 10 * tol, scale + 1e-30)
    x = randn(4, 50)
    x[1, 20] = float("nan")
    x[1, 30] = float("nan")
    out = torch.empty(4, dtype=torch.int64, device=dev)
    ok(lib.nbf_cuda_reduce(4, 0, p(x.cuda()), p(out), 4, 50, 1, 0.0), "reduce")
    exact("argmax picks the first NaN", out[1:2], torch.tensor([20]))


def check_gemm_batched():
    print("batched sgemm / dgemm (strided)")
    for tiled, dt in ((1, torch.float32), (0, torch.float32), (1, torch.float64), (0, torch.float64)):
        if dt == torch.float32:
            fn = lib.nbf_cuda_sgemm_batched_tiled if tiled else lib.nbf_cuda_sgemm_batched
        else:
            fn = lib.nbf_cuda_dgemm_batched_tiled if tiled else lib.nbf_cuda_dgemm_batched
        for ta in (0, 1):
            for tb in (0, 1):
                b, m, n, k = 7, 65, 33, 130
                A = randn(b, k, m, dtype=dt) if ta else randn(b, m, k, dtype=dt)
                B = randn(b, n, k, dtype=dt) if tb else randn(b, k, n, dtype=dt)
                Cm = torch.empty(b, m, n, dtype=dt, device=dev)
                ok(fn(ta, tb, m, n, k, 1.0, p(A.cuda()), m if ta else k, m * k, p(B.cuda()), k if tb else n, n * k, 0.0, p(Cm), n, m * n, b), "sgemm")
                Ad = A.double().transpose(1, 2) if ta else A.double()
                Bd = B.double().transpose(1, 2) if tb else B.double()
                report(f"{'s' if dt == torch.float32 else 'd'}gemm_batched {'tiled' if tiled else 'default'} {'T' if ta else 'N'}{'T' if tb else 'N'} b=7 m=65 n=33 k=130",
                       Cm, Ad @ Bd, 1e-5 if dt == torch.float32 else 1e-13, Ad.abs() @ Bd.abs())


def check_norm():
    print("layer_norm / rms_norm forward + backward")
    F = torch.nn.functional
    for dt in (torch.float32, torch.float64):
        for rms in (0, 1):
            rows, n = 67, 771
            x, w, b, gy = randn(rows, n, dtype=dt), randn(n, dtype=dt), randn(n, dtype=dt), randn(rows, n, dtype=dt)
            xr, wr, br = (t.double().requires_grad_(True) for t in (x, w, b))
            if rms:
                y = xr * torch.rsqrt(xr.pow(2).mean(-1, keepdim=True) + 1e-5) * wr
            else:
                y = F.layer_norm(xr, (n,), wr, br, 1e-5)
            gx, gw, gb = torch.autograd.grad(y, (xr, wr, br), gy.double(), allow_unused=True)
            xc, wc, bc, gyc = x.cuda(), w.cuda(), b.cuda(), gy.cuda()
            yc = torch.empty_like(xc)
            st = torch.empty(rows, 2, dtype=torch.float64, device=dev)
            ok(lib.nbf_cuda_norm(CODE[dt], rms, p(xc), p(wc), None if rms else p(bc), p(yc), p(st), rows, n, 1e-5), "norm")
            tol = 2e-6 if dt == torch.float32 else 1e-12
            nm = f"{'rms_norm' if rms else 'layer_norm'} {str(dt)[6:]} [67,771]"
            report(nm, yc, y.detach(), tol, y.detach().abs() + 1)
            gxc, gwc, gbc = torch.empty_like(xc), torch.empty_like(wc), torch.empty_like(bc)
            for stats in (p(st), None):
                ok(lib.nbf_cuda_norm_backward(CODE[dt], rms, p(xc), p(wc), p(gyc), p(gxc), p(gwc), None if rms else p(gbc), stats, rows, n, 1e-5), "norm bwd")
                tag = "" if stats is not None else " (stats recomputed)"
                report(nm + " dx" + tag, gxc, gx, 20 * tol, gx.abs() + gy.double().abs())
                report(nm + " dw" + tag, gwc, gw, 20 * tol, (gy.double().abs() * 3).sum(0))
                if not rms:
                    report(nm + " db" + tag, gbc, gb, 20 * tol, gy.double().abs().sum(0))


def check_embedding_loss():
    print("embedding, cross-entropy")
    num, dim, count = 1000, 96, 3001
    w = randn(num, dim)
    idx = torch.randint(0, num, (count,), generator=gen)
    out = torch.empty(count, dim, device=dev)
    ok(lib.nbf_cuda_embedding(5, p(idx.cuda()), count, p(w.cuda()), 4, dim, p(out)), "embedding")
    exact("embedding forward [3001] from [1000,96]", out, w[idx])
    gy = randn(count, dim)
    for pad in (-1, int(idx[5])):
        gw = torch.empty(num, dim, device=dev)
        ok(lib.nbf_cuda_embedding_backward(0, 5, p(idx.cuda()), count, p(gy.cuda()), num, dim, p(gw), pad), "embedding bwd")
        want = torch.zeros(num, dim, dtype=torch.float64).index_add_(0, idx, gy.double())
        if pad >= 0:
            want[pad] = 0
        report(f"embedding backward (padding {pad})", gw, want, 1e-5, torch.zeros(num, dim, dtype=torch.float64).index_add_(0, idx, gy.double().abs()) + 1e-6)
    bad = torch.tensor([3, 1000, 7])
    pos, val = C.c_int64(0), C.c_int64(0)
    ok(lib.nbf_cuda_check_index(5, p(bad.cuda()), 1, arr([3]), arr([1]), num, 0, 0, C.byref(pos), C.byref(val)), "check_index")
    flag(pos.value == 1 and val.value == 1000, f"check_index finds index 1000 at position 1 (got {val.value} at {pos.value})")
    F = torch.nn.functional
    rows, n = 513, 1001
    for dt in (torch.float32, torch.float64):
        for smoothing in (0.0, 0.1):
            for red, rname in ((0, "none"), (1, "mean"), (2, "sum")):
                x = randn(rows, n, dtype=dt) * 3
                t = torch.randint(0, n, (rows,), generator=gen)
                t[::7] = -100
                count = int((t != -100).sum())
                xr = x.double().requires_grad_(True)
                y = F.cross_entropy(xr, t, ignore_index=-100, label_smoothing=smoothing, reduction=rname)
                gy = randn(rows, dtype=dt) if red == 0 else torch.tensor([1.7], dtype=dt)
                (gx,) = torch.autograd.grad(y, xr, gy.double() if red == 0 else gy.double()[0])
                out = torch.empty(rows if red == 0 else 1, dtype=dt, device=dev)
                xc, tc = x.cuda(), t.cuda()
                ok(lib.nbf_cuda_cross_entropy(CODE[dt], p(xc), 5, p(tc), p(out), rows, n, -100, smoothing, red, count), "ce")
                tol = 1e-6 if dt == torch.float32 else 1e-12
                nm = f"cross_entropy {str(dt)[6:]} smoothing {smoothing} {rname}"
                report(nm, out.reshape(-1), y.detach().reshape(-1), tol, y.detach().abs().reshape(-1) + 1)
                gxc = torch.empty_like(xc)
                ok(lib.nbf_cuda_cross_entropy_backward(CODE[dt], p(xc), 5, p(tc), p(gy.cuda()), p(gxc), rows, n, -100, smoothing, red, count), "ce bwd")
                report(nm + " backward", gxc, gx, 10 * tol, gx.abs() + gx.abs().amax(1, keepdim=True) * 1e-3 + 1e-30)


def attention_ref(q, k, v, mask, scale, causal):
    """(output, seen): rows that see no key get probability 0 here (finite, so autograd
    stays NaN-free); the kernel's forward gives NaN there, which the caller puts back."""
    s = scale * q @ k.transpose(1, 2)
    if mask is not None:
        s = s + mask
    lq, lk = q.shape[1], k.shape[1]
    i = torch.arange(lq).unsqueeze(1)
    j = torch.arange(lk).unsqueeze(0)
    hidden = (j > i + (lk - lq)) if causal else torch.zeros(lq, lk, dtype=torch.bool)
    seen = (~hidden).any(-1, keepdim=True)  # [lq, 1]
    s = s.masked_fill(hidden & seen, float("-inf")).masked_fill(~seen, 0.0)
    return (torch.softmax(s, -1) * seen) @ v, seen


def check_attention():
    print("attention forward + backward")
    for (b, lq, lk, d, dv, causal, masked, dt) in ((6, 33, 33, 64, 64, 1, 0, torch.float32), (4, 1, 57, 32, 48, 1, 1, torch.float32),
                                                   (3, 20, 45, 16, 16, 1, 0, torch.float32), (5, 17, 29, 8, 24, 0, 1, torch.float32),
                                                   (2, 40, 30, 8, 8, 1, 0, torch.float32), (3, 9, 21, 16, 8, 1, 1, torch.float64)):
        q, k, v = randn(b, lq, d, dtype=dt), randn(b, lk, d, dtype=dt), randn(b, lk, dv, dtype=dt)
        mask = randn(b, lq, lk, dtype=dt) if masked else None
        scale = 1 / math.sqrt(d)
        qr, kr, vr = (t.double().requires_grad_(True) for t in (q, k, v))
        y, seen = attention_ref(qr, kr, vr, mask.double() if masked else None, scale, causal)
        go = randn(b, lq, dv, dtype=dt)
        gq, gk, gv = torch.autograd.grad(y, (qr, kr, vr), go.double())
        y = torch.where(seen, y, float("nan"))  # the forward of a row that sees no key is NaN (as PyTorch's)
        out = torch.empty(b, lq, dv, dtype=dt, device=dev)
        qc, kc, vc, mc = q.cuda(), k.cuda(), v.cuda(), (mask.cuda() if masked else None)
        ok(lib.nbf_cuda_attention(CODE[dt], p(qc), p(kc), p(vc), p(mc) if masked else None, p(out), b, lq, lk, d, dv, scale, causal), "attention")
        nm = f"attention {str(dt)[6:]} b={b} lq={lq} lk={lk} d={d} dv={dv}{' causal' if causal else ''}{' +mask' if masked else ''}"
        tol = 1e-5 if dt == torch.float32 else 1e-12
        report(nm, out, y.detach(), tol, y.detach().abs() + 1)
        gqc, gkc, gvc = torch.empty_like(qc), torch.empty_like(kc), torch.empty_like(vc)
        ok(lib.nbf_cuda_attention_backward(CODE[dt], p(qc), p(kc), p(vc), p(mc) if masked else None, p(go.cuda()), p(gqc), p(gkc), p(gvc),
                                           b, lq, lk, d, dv, scale, causal), "attention bwd")
        report(nm + " dq", gqc, gq, 10 * tol, gq.abs() + 1)
        report(nm + " dk", gkc, gk, 10 * tol, gk.abs() + 1)
        report(nm + " dv", gvc, gv, 10 * tol, gv.abs() + 1)


def check_rotary():
    print("rotary position embedding (rotate half)")
    for dt in (torch.float32, torch.float64):
        for tb in (1, 3):
            B, H, T, D = 3, 4, 5, 16
            x, c, s_ = randn(B, H, T, D, dtype=dt), randn(tb, 1, T, D, dtype=dt), randn(tb, 1, T, D, dtype=dt)

            def rot(v):
                return torch.cat([-v[..., D // 2:], v[..., : D // 2]], -1)
            xr = x.double().requires_grad_(True)
            y = xr * c.double() + rot(xr) * s_.double()
            g = randn(B, H, T, D, dtype=dt)
            (gx,) = torch.autograd.grad(y, xr, g.double())
            out = torch.empty(B, H, T, D, dtype=dt, device=dev)
            cc, sc = c.cuda(), s_.cuda()
            ok(lib.nbf_cuda_rotary(CODE[dt], 0, p(x.cuda()), p(cc), p(sc), p(out), B, H, T, D, tb), "rotary")
            tol = 1e-6 if dt == torch.float32 else 1e-14
            report(f"rotary {str(dt)[6:]} tables for {'each batch' if tb > 1 else 'all batches'}", out, y.detach(), tol,
                   (x.double().abs() + rot(x.double()).abs()) * (c.double().abs() + s_.double().abs()))
            ok(lib.nbf_cuda_rotary(CODE[dt], 1, p(g.cuda()), p(cc), p(sc), p(out), B, H, T, D, tb), "rotary bwd")
            gd = g.double()
            report(f"rotary {str(dt)[6:]} backward", out, gx, tol,
                   (gd.abs() + rot(gd).abs()) * (c.double().abs() + s_.double().abs() + rot(s_.double()).abs()))


def check_indexing():
    print("gather / scatter / scatter_add / where / topk / multinomial / quantize")
    x = randn(7, 9, 11)
    idx = torch.randint(0, 9, (7, 5, 11), generator=gen)
    out = torch.empty(7, 5, 11, device=dev)
    ok(lib.nbf_cuda_gather(4, p(x.cuda()), arr([99, 11, 1]), p(idx.cuda()), arr([55, 11, 1]), p(out), 3, arr([7, 5, 11]), 1), "gather")
    exact("gather dim 1 [7,9,11] by [7,5,11]", out, torch.gather(x, 1, idx))
    src = randn(7, 5, 11)
    for mode in (0, 1):
        base = randn(7, 9, 11)
        o = base.cuda()
        if mode == 0:  # distinct targets so the result does not depend on write order
            idx2 = torch.stack([torch.randperm(9, generator=gen)[:5] for _ in range(7 * 11)]).reshape(7, 11, 5).transpose(1, 2).contiguous()
        else:
            idx2 = idx
        ok(lib.nbf_cuda_scatter(mode, 0, p(o), arr([99, 11, 1]), p(idx2.cuda()), arr([55, 11, 1]), p(src.cuda()), arr([55, 11, 1]), 3,
                                arr([7, 5, 11]), 1), "scatter")
        want = base.double().scatter(1, idx2, src.double()) if mode == 0 else base.double().scatter_add(1, idx2, src.double())
        report(f"{'scatter' if mode == 0 else 'scatter_add'} dim 1", o, want, 1e-5, want.abs() + 1)
    cond = torch.rand(5, 1, 7, generator=gen) > 0.5
    a, b = randn(1, 6, 7, dtype=torch.float64), randn(5, 6, 1, dtype=torch.float64)
    out = torch.empty(5, 6, 7, dtype=torch.float64, device=dev)
    ok(lib.nbf_cuda_where(p(cond.cuda()), arr([7, 0, 1]), 8, p(a.cuda()), arr([0, 7, 1]), p(b.cuda()), arr([6, 1, 0]), p(out), 3, arr([5, 6, 7])), "where")
    exact("where (broadcast cond [5,1,7], a [1,6,7], b [5,6,1])", out, torch.where(cond, a, b))
    for dt in (torch.float32, torch.float64, torch.int64):
        rows, n, kk = 33, 5003, 17
        xs = torch.stack([torch.randperm(n, generator=gen) for _ in range(rows)]).to(dt) - n // 2
        if dt.is_floating_point:
            xs[3, 100] = float("nan")
        for largest in (1, 0):
            o = torch.empty(rows, kk, dtype=torch.int64, device=dev)
            ok(lib.nbf_cuda_topk(CODE[dt], p(xs.cuda()), rows, n, kk, largest, p(o)), "topk")
            keyed = torch.where(xs.isnan(), torch.tensor(float("inf")), xs.double()) if dt.is_floating_point else xs.double()
            want = torch.sort(keyed, dim=1, descending=bool(largest), stable=True).indices[:, :kk]
            exact(f"topk {str(dt)[6:]} k={kk} {'largest' if largest else 'smallest'} (NaN largest)", o, want)
    # multinomial: the CPU algorithm, draw for draw, on the same Philox stream
    w = torch.rand(6, 13, generator=gen, dtype=torch.float64)
    w[2, :5] = 0
    for repl in (1, 0):
        s = 9 if repl else 6
        o = torch.empty(6, s, dtype=torch.int64, device=dev)
        br, bk, bc, bv = C.c_int64(0), C.c_int(0), C.c_int64(0), C.c_double(0)
        ok(lib.nbf_cuda_multinomial(p(w.cuda()), 6, 13, s, repl, p(o), 11, 22, 33, C.byref(br), C.byref(bk), C.byref(bc), C.byref(bv)), "multinomial")
        want = []
        for r in range(6):
            row = w[r].tolist()
            draws = []
            wk = list(row)
            for smp in range(s):
                h = philox(11, 22, 33 + r * s + smp)
                u = (((h[0] << 32) | h[1]) >> 11) / 9007199254740992.0
                if repl:
                    acc, j = 0.0, 13
                    last = max(i for i in range(13) if row[i] > 0) if any(v > 0 for v in row) else 12
                    for q in range(13):
                        acc += row[q]
                        if acc > u * sum(row):
                            j = q
                            break
                    j = min(j, last)
                    while row[j] == 0 and j < last:
                        j += 1
                    draws.append(j)
                else:
                    total = sum(wk)
                    last = max(i for i in range(13) if wk[i] > 0)
                    target, acc, pick = u * total, 0.0, last
                    for q in range(13):
                        if wk[q] <= 0:
                            continue
                        acc += wk[q]
                        if target < acc:
                            pick = q
                            break
                    draws.append(pick)
                    wk[pick] = 0
            want.append(draws)
        exact(f"multinomial {'with' if repl else 'without'} replacement = the CPU's draws", o, torch.tensor(want))
    # quantization: scale = absmax / qmax, codes round-half-even(x / scale), float32 throughout
    for bits in (8, 4):
        n, block = 10007, 256
        x = randn(n) * 3
        x[:block] = 0  # an all-zero block
        qmax = 127 if bits == 8 else 7
        data = torch.empty(n if bits == 8 else (n + 1) // 2, dtype=torch.int8 if bits == 8 else torch.uint8, device=dev)
        scales = torch.empty((n + block - 1) // block, device=dev)
        ok(lib.nbf_cuda_quantize(bits, p(x.cuda()), n, block, p(data), p(scales)), "quantize")
        pad = (-n) % block
        xb = torch.cat([x, torch.zeros(pad)]).reshape(-1, block)
        sc = xb.abs().amax(1) / torch.tensor(float(qmax))
        codes = torch.where(sc[:, None] == 0, torch.zeros_like(xb), torch.round(xb / torch.where(sc == 0, torch.ones_like(sc), sc)[:, None]))
        codes = codes.clamp(-qmax, qmax).reshape(-1)[:n].to(torch.int32)
        exact(f"quantize int{bits} scales", scales, sc)
        if bits == 8:
            exact("quantize int8 codes", data, codes.to(torch.int8))
        else:
            c = torch.cat([codes, torch.zeros(n % 2, dtype=torch.int32)]) & 0xF
            exact("quantize int4 codes (two per byte, low nibble first)", data, (c[0::2] | (c[1::2] << 4)).to(torch.uint8))
        out = torch.empty(n, device=dev)
        ok(lib.nbf_cuda_dequantize(bits, p(data), p(scales), n, block, p(out)), "dequantize")
        exact(f"dequantize int{bits}", out, codes.float() * sc.repeat_interleave(block)[:n])


def timed(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - t0) * 1e3
        if ms > 50 or iters >= 1 << 14:
            return ms / iters
        iters *= 4


def bench():
    print("\ntimings (wall time per call after synchronize; GB/s counts bytes read + written once)")
    F = torch.nn.functional

    def row(name, ours, torch_fn, amount, flops=False):
        ms = timed(ours)
        tms = timed(torch_fn) if torch_fn is not None else None
        rate = amount / ms / (1e9 if flops else 1e6)
        extra = f"   torch {tms:9.3f} ms  (torch/ours {tms / ms:.2f}x)" if tms else ""
        print(f"  {name:44} {ms:9.3f} ms {rate:9.1f} {'TFLOP/s' if flops else 'GB/s':7}{extra}")

    x = torch.randn(8192, 8192, device=dev)
    y = torch.empty_like(x)
    row("copy transpose [8192,8192] f32", lambda: lib.nbf_cuda_copy(0, p(x), arr([1, 8192]), 0, p(y), arr([8192, 1]), 2, arr([8192, 8192])),
        lambda: y.copy_(x.t()), 8.0 * x.numel())
    h = torch.empty(8192, 8192, dtype=torch.bfloat16, device=dev)
    row("cast f32 -> bf16 [64M]", lambda: lib.nbf_cuda_copy(0, p(x), arr([1]), 2, p(h), arr([1]), 1, arr([x.numel()])), lambda: h.copy_(x), 6.0 * x.numel())
    o = torch.empty(8192, device=dev)
    row("sum dim 0 [8192,8192] (inner > 1)", lambda: lib.nbf_cuda_reduce(0, 0, p(x), p(o), 1, 8192, 8192, 0.0), lambda: x.sum(0), 4.0 * x.numel())
    row("var dim 1 [8192,8192]", lambda: lib.nbf_cuda_reduce(6, 0, p(x), p(o), 8192, 8192, 1, 1.0), lambda: x.var(1), 4.0 * x.numel())
    xs, w, b = torch.randn(16384, 4096, device=dev), torch.randn(4096, device=dev), torch.randn(4096, device=dev)
    ys, st = torch.empty_like(xs), torch.empty(16384, 2, dtype=torch.float64, device=dev)
    gx, gw, gb = torch.empty_like(xs), torch.empty_like(w), torch.empty_like(b)
    row("layer_norm fwd [16384,4096]", lambda: lib.nbf_cuda_norm(0, 0, p(xs), p(w), p(b), p(ys), p(st), 16384, 4096, 1e-5),
        lambda: F.layer_norm(xs, (4096,), w, b), 8.0 * xs.numel())
    xr, wr, br = xs.clone().requires_grad_(True), w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    yt = F.layer_norm(xr, (4096,), wr, br)
    row("layer_norm bwd [16384,4096]", lambda: lib.nbf_cuda_norm_backward(0, 0, p(xs), p(w), p(ys), p(gx), p(gw), p(gb), p(st), 16384, 4096, 1e-5),
        lambda: torch.autograd.grad(yt, (xr, wr, br), ys, retain_graph=True), 16.0 * xs.numel())
    logits, tgt = torch.randn(8192, 50257, device=dev), torch.randint(0, 50257, (8192,), device=dev)
    loss = torch.empty(1, device=dev)
    row("cross_entropy fwd [8192,50257]", lambda: lib.nbf_cuda_cross_entropy(0, p(logits), 5, p(tgt), p(loss), 8192, 50257, -100, 0.0, 1, 8192),
        lambda: F.cross_entropy(logits, tgt), 4.0 * logits.numel())
    glog = torch.empty_like(logits)
    g1 = torch.ones(1, device=dev)
    row("cross_entropy bwd [8192,50257]", lambda: lib.nbf_cuda_cross_entropy_backward(0, p(logits), 5, p(tgt), p(g1), p(glog), 8192, 50257, -100, 0.0, 1, 8192),
        None, 8.0 * logits.numel())
    ti = torch.empty(4096, 50, dtype=torch.int64, device=dev)
    lg = logits[:4096]
    row("topk k=50 [4096,50257]", lambda: lib.nbf_cuda_topk(0, p(lg), 4096, 50257, 50, 1, p(ti)), lambda: torch.topk(lg, 50), 4.0 * lg.numel())
    emb, ids = torch.randn(50257, 768, device=dev), torch.randint(0, 50257, (8192,), device=dev)
    eo, gy = torch.empty(8192, 768, device=dev), torch.randn(8192, 768, device=dev)
    row("embedding fwd [8192] x 768", lambda: lib.nbf_cuda_embedding(5, p(ids), 8192, p(emb), 4, 768, p(eo)), lambda: F.embedding(ids, emb), 8.0 * eo.numel())
    gemb = torch.empty_like(emb)
    row("embedding bwd (zero + scatter-add)", lambda: lib.nbf_cuda_embedding_backward(0, 5, p(ids), 8192, p(gy), 50257, 768, p(gemb), -1), None,
        4.0 * (gemb.numel() + 2 * gy.numel()))
    qd = torch.empty(x.numel(), dtype=torch.int8, device=dev)
    qs = torch.empty(x.numel() // 2048, device=dev)
    row("quantize int8 block 2048 [64M]", lambda: lib.nbf_cuda_quantize(8, p(x), x.numel(), 2048, p(qd), p(qs)), None, 5.0 * x.numel())
    row("dequantize int8 block 2048 [64M]", lambda: lib.nbf_cuda_dequantize(8, p(qd), p(qs), x.numel(), 2048, p(y)), None, 5.0 * x.numel())
    B, L, D = 96, 1024, 64
    q, k, v = (torch.randn(B, L, D, device=dev) for _ in range(3))
    ao = torch.empty_like(q)
    flop = 4.0 * B * L * L * D / 2  # causal: half the scores
    row("attention fwd causal b*h=96 L=1024 d=64", lambda: lib.nbf_cuda_attention(0, p(q), p(k), p(v), None, p(ao), B, L, L, D, D, 0.125, 1),
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), flop, True)
    gq, gk, gv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    row("attention bwd causal b*h=96 L=1024 d=64", lambda: lib.nbf_cuda_attention_backward(0, p(q), p(k), p(v), None, p(ao), p(gq), p(gk), p(gv), B, L, L, D, D, 0.125, 1),
        None, 2.5 * flop, True)
    A, Bm = torch.randn(64, 512, 512, device=dev), torch.randn(64, 512, 512, device=dev)
    Cm = torch.empty(64, 512, 512, device=dev)
    for tiled in (1, 0):
        fn = lib.nbf_cuda_sgemm_batched_tiled if tiled else lib.nbf_cuda_sgemm_batched
        row(f"sgemm batched 64 x 512^3 {'tiled' if tiled else 'default'}", lambda: fn(0, 0, 512, 512, 512, 1.0, p(A), 512, 512 * 512, p(Bm), 512, 512 * 512, 0.0, p(Cm), 512, 512 * 512, 64),
            lambda: torch.bmm(A, Bm, out=Cm), 2.0 * 64 * 512 ** 3, True)
    print("  (torch: the same op in PyTorch on this GPU, fp32, TF32 off; torch's attention is its fused SDPA)")


def main():
    print(f"check_ops.py: {LIB} (ABI 2), torch {torch.__version__} on {torch.cuda.get_device_name()}")
    for check in (check_copy_fill_random, check_elementwise_f64, check_reduce, check_gemm_batched, check_norm, check_embedding_loss,
                  check_attention, check_rotary, check_indexing):
        try:
            check()
        except Exception as e:  # a crash in one group is a failure, the others still run
            flag(False, f"{check.__name__} raised {type(e).__name__}: {e}")
    print(f"\n{checks} checks, {failures} failed")
    if "--quick" not in FLAGS:
        try:
            bench()
        except Exception as e:
            print(f"  (timings stopped: {type(e).__name__}: {e})")
    print("PASS" if failures == 0 else f"FAIL: {failures} mismatches")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
