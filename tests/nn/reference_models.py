# PyTorch references for tests/nn: a small GPT-2 and a small Llama written out
# here (independently of transformers), safetensors read and written with
# struct + json (the safetensors package is not installed), AdamW from
# torch.optim. Usage: reference_models.py <job.json>; results go to files the
# job names.
import json, math, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

DT = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "F16": np.float16, "U8": np.uint8}
DT_BACK = {np.dtype(v): k for k, v in DT.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf8"))
    meta = header.pop("__metadata__", {})
    out = {}
    base = 8 + n
    for name, e in header.items():
        b, end = e["data_offsets"]
        a = np.frombuffer(raw[base + b:base + end], dtype=DT[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs = []
    at = 0
    for name, t in tensors.items():
        a = t.detach().contiguous().numpy()
        b = a.tobytes()
        header[name] = {"dtype": DT_BACK[a.dtype], "shape": list(a.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header).encode("utf8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------- GPT-2 ----------------

class GPT2:
    def __init__(self, cfg, sd):
        self.c = cfg
        self.p = sd

    def forward(self, ids):
        c, p = self.c, self.p
        B, T = ids.shape
        C, H = c["n_embd"], c["n_head"]
        D = C // H
        act = (lambda x: F.gelu(x)) if c["activation_function"] == "gelu" else (lambda x: F.gelu(x, approximate="tanh"))
        x = p["transformer.wte.weight"][ids] + p["transformer.wpe.weight"][torch.arange(T)]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        for i in range(c["n_layer"]):
            pre = f"transformer.h.{i}."
            h = F.layer_norm(x, (C,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], c["layer_norm_epsilon"])
            qkv = h @ p[pre + "attn.c_attn.weight"] + p[pre + "attn.c_attn.bias"]
            q, k, v = [t.view(B, T, H, D).transpose(1, 2) for t in qkv.split(C, 2)]
            s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            s = s.masked_fill(~causal, float("-inf"))
            y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ p[pre + "attn.c_proj.weight"] + p[pre + "attn.c_proj.bias"]
            h = F.layer_norm(x, (C,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], c["layer_norm_epsilon"])
            h = act(h @ p[pre + "mlp.c_fc.weight"] + p[pre + "mlp.c_fc.bias"])
            x = x + h @ p[pre + "mlp.c_proj.weight"] + p[pre + "mlp.c_proj.bias"]
        x = F.layer_norm(x, (C,), p["transformer.ln_f.weight"], p["transformer.ln_f.bias"], c["layer_norm_epsilon"])
        head = p["transformer.wte.weight"] if c.get("tie_word_embeddings", True) else p["lm_head.weight"]
        return x @ head.T


# ---------------- Llama ----------------

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class Llama:
    def __init__(self, cfg, sd):
        self.c = cfg
        self.p = sd

    def forward(self, ids):
        c, p = self.c, self.p
        B, T = ids.shape
        C, H, KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        D = c.get("head_dim") or C // H
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
        ang = torch.arange(T).float()[:, None] * inv[None, :]
        emb = torch.cat([ang, ang], -1)
        cos, sin = emb.cos(), emb.sin()
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        x = p["model.embed_tokens.weight"][ids]
        eps = c["rms_norm_eps"]
        for i in range(c["num_hidden_layers"]):
            pre = f"model.layers.{i}."
            h = rms_norm(x, p[pre + "input_layernorm.weight"], eps)
            q = (h @ p[pre + "self_attn.q_proj.weight"].T).view(B, T, H, D).transpose(1, 2)
            k = (h @ p[pre + "self_attn.k_proj.weight"].T).view(B, T, KV, D).transpose(1, 2)
            v = (h @ p[pre + "self_attn.v_proj.weight"].T).view(B, T, KV, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            s = s.masked_fill(~causal, float("-inf"))
            y = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, H * D)
            x = x + y @ p[pre + "self_attn.o_proj.weight"].T
            h = rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
            g = F.silu(h @ p[pre + "mlp.gate_proj.weight"].T) * (h @ p[pre + "mlp.up_proj.weight"].T)
            x = x + g @ p[pre + "mlp.down_proj.weight"].T
        x = rms_norm(x, p["model.norm.weight"], eps)
        head = p["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else p["lm_head.weight"]
        return x @ head.T


def build(kind, cfg, sd):
    return GPT2(cfg, sd) if kind == "gpt2" else Llama(cfg, sd)


def greedy(model, ids, n):
    seq = ids.clone()
    with torch.no_grad():
        for _ in range(n):
            nxt = model.forward(seq)[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
    return seq[:, ids.shape[1]:]


def main():
    job = json.load(open(sys.argv[1]))
    d = job["dir"]
    cfg = json.load(open(d + "/config.json"))
    sd, meta = read_safetensors(d + "/model.safetensors")
    assert meta.get("format") == "pt", meta
    params = {k: v.clone().requires_grad_(True) for k, v in sd.items()}
    model = build(job["kind"], cfg, params)
    inp, _ = read_safetensors(job["inputs"])
    ids, targets = inp["ids"].long(), inp["targets"].long()
    logits = model.forward(ids)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, v in params.items():
        out["grad." + k] = v.grad.clone()
    out["greedy"] = greedy(model, ids[:, : job["prompt_len"]], job["new_tokens"])
    # three AdamW steps on the same batch
    opt = torch.optim.AdamW(list(params.values()), lr=job["lr"], betas=tuple(job["betas"]), eps=job["eps"], weight_decay=job["weight_decay"])
    for _ in range(3):
        opt.zero_grad()
        lg = model.forward(ids)
        F.cross_entropy(lg.reshape(-1, lg.shape[-1]), targets.reshape(-1)).backward()
        opt.step()
    for k, v in params.items():
        out["adamw." + k] = v.detach()
    write_safetensors(job["output"], out)
    # a checkpoint written by Python in Hugging Face's layout, for fromPretrained:
    # fresh weights, sharded with an index; GPT-2 as GPT2Model keys plus attn.bias buffers
    g = torch.Generator().manual_seed(7)
    fresh = {k: torch.randn(v.shape, generator=g) * 0.1 for k, v in sd.items()}
    for k, v in fresh.items():
        if k.endswith("norm.weight") or k.endswith("ln_1.weight") or k.endswith("ln_2.weight") or k.endswith("ln_f.weight"):
            fresh[k] = 1 + v
    pd = job["python_checkpoint"]
    files = {}
    names = list(fresh.keys())
    half = len(names) // 2
    shards = [names[:half], names[half:]]
    disk = {}
    for n in names:
        key = n
        if job["kind"] == "gpt2" and n.startswith("transformer."):
            key = n[len("transformer."):]
        disk[key] = fresh[n]
    if job["kind"] == "gpt2":
        for i in range(cfg["n_layer"]):
            disk[f"h.{i}.attn.bias"] = torch.ones(1, 1, cfg["n_positions"], cfg["n_positions"]).tril()
    keys = list(disk.keys())
    shards = [keys[: len(keys) // 2], keys[len(keys) // 2:]]
    weight_map = {}
    for i, s in enumerate(shards):
        fn = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(pd + "/" + fn, {k: disk[k] for k in s}, {"format": "pt"})
        for k in s:
            weight_map[k] = fn
    json.dump({"metadata": {}, "weight_map": weight_map}, open(pd + "/model.safetensors.index.json", "w"))
    json.dump(cfg, open(pd + "/config.json", "w"))
    with torch.no_grad():
        write_safetensors(job["python_logits"], {"logits": build(job["kind"], cfg, fresh).forward(ids)})


main()
