#!/usr/bin/env python3
"""Writes a random-weight ModernBERT-base-shaped model in HF layout for bench/compare's (l)
workload (not committed), and its every-layer-global variant (same weights).

usage: make_random_modernbert.py OUT_DIR [--global-dir DIR]

OUT_DIR: ModernBertConfig's defaults, which are answerdotai/ModernBERT-base's shape: hidden 768,
22 layers, 12 heads, intermediate 1152 (GeGLU), local_attention 128 (+-64), global attention every
3rd layer from layer 0, max_position_embeddings 8192, no biases. --global-dir (default
OUT_DIR-global): the same model.safetensors with global_attn_every_n_layers 1, every layer global
(what the local window saves is the difference in time between the two).

Run it with transformers 4.x (bench/compare uses .venv-bench-tf4, transformers 4.57.6, the version
encore's ModernBERT fixtures come from): its save_pretrained writes config.json as the Hub
checkpoints have it (global_attn_every_n_layers, global_rope_theta, local_rope_theta), which is what
encore reads; transformers 5 writes layer_types and rope_parameters instead (and reads both forms).

Weights are scaled as tools/reference/make_modernbert_fixtures.py scales its models, so that
attention is not near-uniform and the output comparison means something (the library's std-0.02
init gives near-uniform attention): Linear weights N(0, 1/fan_in), gain 1.6 on the query and key
rows of Wqkv; token embeddings N(0, 0.5^2); LayerNorm gamma 1 + 0.2 N(0, 1). Fixed seed.
"""
import argparse
import json
import math
import shutil
from pathlib import Path

import torch
import transformers
from transformers import ModernBertConfig, ModernBertModel

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--global-dir")
a = p.parse_args()
out = Path(a.out)
glob = Path(a.global_dir) if a.global_dir else out.with_name(out.name + "-global")

g = torch.Generator().manual_seed(0)
cfg = ModernBertConfig()  # the defaults: ModernBERT-base's shape
cfg.reference_compile = False
model = ModernBertModel(cfg).eval()
with torch.no_grad():
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Linear):
            w = torch.randn(m.weight.shape, generator=g) / math.sqrt(m.weight.shape[1])
            if name.endswith(".Wqkv"):
                w[: 2 * cfg.hidden_size] *= 1.6
            m.weight.copy_(w)
        elif isinstance(m, torch.nn.LayerNorm):
            m.weight.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=g))
        elif isinstance(m, torch.nn.Embedding):
            m.weight.copy_(0.5 * torch.randn(m.weight.shape, generator=g))
model.save_pretrained(out, safe_serialization=True)
c = json.loads((out / "config.json").read_text())
assert c.get("global_attn_every_n_layers") == 3 and "local_rope_theta" in c, \
    f"transformers {transformers.__version__} did not write the 4.x config keys encore reads"

glob.mkdir(parents=True, exist_ok=True)
shutil.copyfile(out / "model.safetensors", glob / "model.safetensors")
c["global_attn_every_n_layers"] = 1
(glob / "config.json").write_text(json.dumps(c, indent=2) + "\n")
print("wrote", out, "and", glob)
