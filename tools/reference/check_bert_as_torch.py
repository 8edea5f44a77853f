#!/usr/bin/env python3
"""The same check as `encore explain --model DIR`, done by the references themselves:
run layer 0 of a transformers BertModel and an nn.TransformerEncoderLayer holding the same
weights (q|k|v packed into in_proj_weight) on the same input, print the max difference.

usage: .venv-ref/bin/python tools/reference/check_bert_as_torch.py models/all-MiniLM-L6-v2
"""
import sys

import torch
from torch import nn
from transformers import BertModel

model = BertModel.from_pretrained(sys.argv[1], attn_implementation="eager").eval()
cfg = model.config
bert_layer = model.encoder.layer[0]
layer = nn.TransformerEncoderLayer(cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size, dropout=0.0,
                                   activation="gelu", layer_norm_eps=cfg.layer_norm_eps, batch_first=True).eval()
a = bert_layer.attention
with torch.no_grad():
    layer.self_attn.in_proj_weight.copy_(torch.cat([a.self.query.weight, a.self.key.weight, a.self.value.weight]))
    layer.self_attn.in_proj_bias.copy_(torch.cat([a.self.query.bias, a.self.key.bias, a.self.value.bias]))
    layer.self_attn.out_proj.load_state_dict(a.output.dense.state_dict())
    layer.norm1.load_state_dict(a.output.LayerNorm.state_dict())
    layer.linear1.load_state_dict(bert_layer.intermediate.dense.state_dict())
    layer.linear2.load_state_dict(bert_layer.output.dense.state_dict())
    layer.norm2.load_state_dict(bert_layer.output.LayerNorm.state_dict())
    ids = torch.tensor([[(j * 7919 + 101) % cfg.vocab_size for j in range(16)]])
    h = model.embeddings(input_ids=ids)
    ref = bert_layer(h)[0] if isinstance(bert_layer(h), tuple) else bert_layer(h)
    out = layer(h)
print(f"parameters: BertLayer {sum(p.numel() for p in bert_layer.parameters())}, "
      f"TransformerEncoderLayer {sum(p.numel() for p in layer.parameters())}")
print(f"max |difference|: {(ref - out).abs().max().item():.3g} (outputs up to {ref.abs().max().item():.3g})")
