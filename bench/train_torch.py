# PyTorch eager side of bench/train.mjs: the same GPT-2 (written out here, the
# transformers package is not installed), timed for training steps (forward,
# backward, AdamW) and for KV-cache generation. Serves timing requests read
# from stdin ({"cmd":"train"} or {"cmd":"gen","batch":B,"n":N}), one JSON
# reply per line, so bench/train.mjs can alternate them with its own runs.
#   train_torch.py '{"threads":2,"layers":6,"d":384,"heads":6,"ctx":256,"batch":8,"vocab":8192,"prompt":16}'
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
C, H, L, V, CTX = cfg["d"], cfg["heads"], cfg["layers"], cfg["vocab"], cfg["ctx"]


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def forward(self, x, past=None):
        B, T, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, 2)
        q, k, v = [t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v)]
        if past is not None:
            k = torch.cat([past[0], k], 2)
            v = torch.cat([past[1], v], 2)
        S = k.shape[2]
        s = q @ k.transpose(-1, -2) / math.sqrt(C // H)
        mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
        s = s.masked_fill(~mask, float("-inf"))
        y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, (k, v)


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(CTX, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)

    def forward(self, ids, cache=None, last_only=False):
        T = ids.shape[1]
        start = 0 if cache is None or cache[0] is None else cache[0][0].shape[2]
        x = self.wte(ids) + self.wpe(torch.arange(start, start + T))
        new = []
        for i, b in enumerate(self.h):
            x, kv = b(x, None if cache is None else cache[i])
            new.append(kv)
        if last_only:
            x = x[:, -1:]
        return self.ln_f(x) @ self.wte.weight.T, new


model = GPT()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
B = cfg["batch"]
ids = torch.randint(0, V, (B, CTX))
tg = torch.randint(0, V, (B, CTX))


def train_step():
    t0 = time.perf_counter()
    opt.zero_grad()
    logits, _ = model(ids)
    F.cross_entropy(logits.reshape(-1, V), tg.reshape(-1)).backward()
    opt.step()
    return time.perf_counter() - t0


def generate(batch, n):
    prompt = torch.randint(0, V, (batch, cfg["prompt"]))
    t0 = time.perf_counter()
    with torch.no_grad():
        cache = [None] * L
        logits, cache = model(prompt, cache, True)
        tok = logits[:, -1].argmax(-1, keepdim=True)
        for _ in range(n - 1):
            logits, cache = model(tok, cache, True)
            tok = logits[:, -1].argmax(-1, keepdim=True)
    return time.perf_counter() - t0


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# requests on stdin, one JSON per line, so the caller can interleave our runs with its own
reply({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": sum(p.numel() for p in model.parameters())})
for line in sys.stdin:
    req = json.loads(line)
    if req["cmd"] == "train":
        reply({"s": train_step()})
    elif req["cmd"] == "gen":
        reply({"s": generate(req["batch"], req["n"])})
