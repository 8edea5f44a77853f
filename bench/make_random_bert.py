#!/usr/bin/env python3
"""Writes a random-weight BERT in HF layout for benchmarks (not committed).

usage: make_random_bert.py OUT_DIR [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
"""
import argparse

import torch
from transformers import BertConfig, BertModel

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--layers", type=int, default=12)
p.add_argument("--hidden", type=int, default=768)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--intermediate", type=int, default=3072)
a = p.parse_args()
torch.manual_seed(0)
cfg = BertConfig(num_hidden_layers=a.layers, hidden_size=a.hidden, num_attention_heads=a.heads,
                 intermediate_size=a.intermediate)
BertModel(cfg).eval().save_pretrained(a.out, safe_serialization=True)
print("wrote", a.out)
