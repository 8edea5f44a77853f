#!/usr/bin/env python3
"""Generate the core parity fixtures under tests/fixtures/core/ (see tests/fixtures/README.md).

Three reference encoders, each run on small random models:

  bert-hf      transformers 4.57.6 `BertModel` (attn_implementation="eager"), saved with
               `save_pretrained(safe_serialization=True)`; outputs straight from the model.
  bert-google  Google's TF BERT (google-research/bert `modeling.py`, commit 0017e7ec).
               TensorFlow 1.x (tf.contrib) has no wheels for this Python, so `google_forward`
               below is a line-by-line float32 numpy transcription of modeling.py (line
               numbers cited); it is cross-checked against HF BertModel (gelu_new / gelu,
               eps 1e-12, same weights transposed) on inputs without padding, where the two
               must agree (asserted < 2e-5; measured ~3e-6).
  torch        torch 2.15 `nn.TransformerEncoder`; expected values come from the standard
               ("slow") path: grad mode on and parameters requiring grad disable both the
               nested-tensor fast path and `torch._transformer_encoder_layer_fwd`. The fast
               path (inference_mode) is run too, only to report how it differs.

Why the weights are scaled up: the libraries' default inits (std 0.02, LayerNorm 1/0) give
near-uniform attention and near-identity LayerNorms, so a wrong mask, a wrong scale, a
missing bias or a swapped gamma/beta would hardly move the outputs. Here Linear weights are
N(0, (gain/sqrt(fan_in))^2) with gain 1.6 for queries/keys (peaked attention) and 1.0
elsewhere, embeddings N(0, 0.5^2), biases N(0, 0.1^2), LayerNorm gamma 1 + 0.2 N(0,1) and
beta 0.2 N(0,1). Every activation stays O(1)-O(10): nothing overflows in float32.

Everything is float32, CPU, with fixed seeds; rerunning rewrites identical files.
Usage: make_core_fixtures.py [--out tests/fixtures/core]
"""

import argparse
import math
import os
import shutil
import sys
import warnings
from pathlib import Path

# One thread everywhere: fixed reduction orders, so a rerun rewrites identical bytes.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import torch
import torch.nn as nn
import transformers
from safetensors.numpy import save_file as np_save_file
from safetensors.torch import save_file as torch_save_file
from transformers import BertConfig, BertModel

from fixture_util import (REPORT, check_versions, compare_mask_from_keep, describe, gen, lengths_mask, note,
                          randint, randn, save_tensors, write_json)

REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- helpers


def init_linear_(weight, bias, g, gain=1.0):
    """weight is [out,in] (torch layout)."""
    with torch.no_grad():
        weight.copy_(randn(weight.shape, g, gain / math.sqrt(weight.shape[1])))
        if bias is not None:
            bias.copy_(randn(bias.shape, g, 0.1))


def init_layer_norm_(ln, g):
    with torch.no_grad():
        ln.weight.copy_(1.0 + randn(ln.weight.shape, g, 0.2))
        if ln.bias is not None:
            ln.bias.copy_(randn(ln.bias.shape, g, 0.2))


def max_abs_diff(a, b, keep_bs=None, batch_first=True):
    """Max |a-b| over compared positions; keep_bs [B,S] (uint8) selects them."""
    a, b = a.detach().float(), b.detach().float()
    if keep_bs is not None:
        if not batch_first:
            a, b = a.transpose(0, 1), b.transpose(0, 1)
        sel = keep_bs.to(torch.bool)
        a, b = a[sel], b[sel]
    if a.numel() == 0:
        return 0.0
    both_nan = torch.isnan(a) & torch.isnan(b)
    d = (a - b).abs()
    d[both_nan] = 0
    return float(torch.nan_to_num(d, nan=float("inf")).max())


def case_entry(name, note_text, all_hidden=True, attentions=False, causal=False, tolerance=None):
    entry = {
        "name": name,
        "options": {"all_hidden": all_hidden, "attentions": attentions, "causal": causal},
        "note": note_text,
    }
    if tolerance is not None:
        entry["tolerance"] = tolerance
    return entry


SUMMARY = []  # (model, case, inputs, outputs)


# ----------------------------------------------------------------------------- bert-hf

HF_MODELS = [
    # name, config overrides. Activations, position types, head sizes, eps, type vocab spread out.
    ("bert-hf-gelu-abs-h36", dict(hidden_size=36, num_attention_heads=3, num_hidden_layers=2,
                                  intermediate_size=48, hidden_act="gelu", vocab_size=64,
                                  max_position_embeddings=36, type_vocab_size=2)),
    ("bert-hf-gelunew-relkey-h44", dict(hidden_size=44, num_attention_heads=4, num_hidden_layers=1,
                                        intermediate_size=56, hidden_act="gelu_new", vocab_size=80,
                                        max_position_embeddings=34, type_vocab_size=3,
                                        position_embedding_type="relative_key", layer_norm_eps=1e-5)),
    ("bert-hf-tanh-relkq-h54", dict(hidden_size=54, num_attention_heads=6, num_hidden_layers=1,
                                    intermediate_size=60, hidden_act="gelu_pytorch_tanh", vocab_size=50,
                                    max_position_embeddings=34, type_vocab_size=2,
                                    position_embedding_type="relative_key_query")),
    ("bert-hf-fast-abs-h32", dict(hidden_size=32, num_attention_heads=1, num_hidden_layers=3,
                                  intermediate_size=40, hidden_act="gelu_fast", vocab_size=120,
                                  max_position_embeddings=35, type_vocab_size=1, layer_norm_eps=1e-7)),
    ("bert-hf-quick-relkey-h40", dict(hidden_size=40, num_attention_heads=5, num_hidden_layers=2,
                                      intermediate_size=48, hidden_act="quick_gelu", vocab_size=70,
                                      max_position_embeddings=34, type_vocab_size=4,
                                      position_embedding_type="relative_key")),
    ("bert-hf-relu-abs-h34", dict(hidden_size=34, num_attention_heads=2, num_hidden_layers=1,
                                  intermediate_size=44, hidden_act="relu", vocab_size=60,
                                  max_position_embeddings=36, type_vocab_size=2)),
    ("bert-hf-silu-relkq-h42", dict(hidden_size=42, num_attention_heads=3, num_hidden_layers=2,
                                    intermediate_size=48, hidden_act="silu", vocab_size=90,
                                    max_position_embeddings=34, type_vocab_size=2,
                                    position_embedding_type="relative_key_query", layer_norm_eps=1e-6)),
]
# Every model gets ragged, fully_masked, no_mask; these get more.
HF_EXTRA_CASES = {
    "bert-hf-gelu-abs-h36": ["mask3d", "position_ids", "head_mask"],
    "bert-hf-silu-relkq-h42": ["head_mask"],   # head_mask with a relative position type
    "bert-hf-fast-abs-h32": ["position_ids"],  # 3 layers, 1 head
}


def init_bert_(model, g):
    """Scale up a HF BertModel's weights (see header)."""
    for module_name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            gain = 1.6 if module_name.endswith(("self.query", "self.key")) else 1.0
            init_linear_(module.weight, module.bias, g, gain)
        elif isinstance(module, nn.LayerNorm):
            init_layer_norm_(module, g)
        elif isinstance(module, nn.Embedding):
            std = 0.3 if module_name.endswith("distance_embedding") else 0.5
            with torch.no_grad():
                module.weight.copy_(randn(module.weight.shape, g, std))


def make_hf_model(cfg_kwargs, seed, attn="eager"):
    config = BertConfig(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, **cfg_kwargs)
    config._attn_implementation = attn
    torch.manual_seed(seed)
    model = BertModel(config).eval()
    init_bert_(model, gen(seed))
    return model


def hf_cases(cfg, names, g):
    """Yield (case_name, inputs dict, compare_mask, note)."""
    V, P, T, L, H = (cfg["vocab_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"],
                     cfg["num_hidden_layers"], cfg["num_attention_heads"])
    for name in names:
        if name == "ragged":
            lens = [1, 7, 33, P]
            S = P
            am = lengths_mask(lens, S)
            ids = randint(1, V, (4, S), g) * am
            tt = randint(0, T, (4, S), g) * am
            inp = dict(input_ids=ids, attention_mask=am, token_type_ids=tt)
            yield name, inp, compare_mask_from_keep(am), (
                f"lengths 1, 7, 33, {P} (= max_position_embeddings); right padding (id 0, type 0); "
                "random token types")
        elif name == "fully_masked":
            S = 9
            am = lengths_mask([6, 0], S)
            ids = randint(1, V, (2, S), g)
            ids[0, 6:] = 0
            tt = randint(0, T, (2, S), g)
            inp = dict(input_ids=ids, attention_mask=am, token_type_ids=tt)
            yield name, inp, compare_mask_from_keep(am), (
                "row 0: length 6 of 9; row 1: attention_mask all zeros (every key gets finfo.min, so its "
                "attention is exactly uniform 1/S over all S keys); row 1 compared everywhere")
        elif name == "no_mask":
            S = 10
            ids = randint(0, V, (1, S), g)
            yield name, dict(input_ids=ids), compare_mask_from_keep(torch.ones(1, S)), (
                "no attention_mask, no token_type_ids (defaults: all ones, all zeros); ids include 0")
        elif name == "mask3d":
            S = 10
            am = (torch.rand((2, S, S), generator=g) > 0.35).to(torch.int64)
            am[:, torch.arange(S), torch.arange(S)] = 1
            am[1, 4, :] = 0  # a query row that sees nothing: uniform attention
            ids = randint(1, V, (2, S), g)
            tt = randint(0, T, (2, S), g)
            inp = dict(input_ids=ids, attention_mask=am, token_type_ids=tt)
            yield name, inp, compare_mask_from_keep(torch.ones(2, S)), (
                "3-D attention_mask [B,S,S] (query, key) with random zeros; batch 1 query 4 sees no key "
                "(uniform attention); all positions compared")
        elif name == "position_ids":
            S = 12
            pos = torch.stack([torch.arange(S) + 3, torch.randperm(P, generator=g)[:S]])
            am = lengths_mask([S, 10], S)
            ids = randint(1, V, (2, S), g) * am
            tt = randint(0, T, (2, S), g) * am
            inp = dict(input_ids=ids, attention_mask=am, token_type_ids=tt, position_ids=pos)
            yield name, inp, compare_mask_from_keep(am), (
                "explicit position_ids: row 0 = 3..14, row 1 = random distinct positions < max; "
                "row 1 length 10 of 12")
        elif name == "head_mask":
            S = 8
            hm = torch.rand((L, H), generator=g) * 1.5
            hm[torch.rand((L, H), generator=g) < 0.3] = 0.0
            hm[0, 0] = 0.0
            am = lengths_mask([S, 5], S)
            ids = randint(1, V, (2, S), g) * am
            inp = dict(input_ids=ids, attention_mask=am, head_mask=hm)
            yield name, inp, compare_mask_from_keep(am), (
                "head_mask [L,H] with zeros and non-binary values (multiplies the attention "
                "probabilities; the returned attentions include it); row 1 length 5 of 8")
        else:
            raise ValueError(name)


def run_hf(model, inp):
    with torch.no_grad():
        out = model(**inp, output_hidden_states=True, output_attentions=True, return_dict=True)
    res = {"last_hidden_state": out.last_hidden_state, "pooler_output": out.pooler_output}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_states.{i}"] = h
    for i, a in enumerate(out.attentions):
        res[f"attentions.{i}"] = a
    return res


def make_bert_hf(root, name, cfg, seed):
    d = root / name
    (d / "model").mkdir(parents=True)
    model = make_hf_model(cfg, seed)
    assert type(model.encoder.layer[0].attention.self).__name__ == "BertSelfAttention"
    tmp = d / "_save"
    model.save_pretrained(tmp, safe_serialization=True)
    for f in ("config.json", "model.safetensors"):
        shutil.move(str(tmp / f), str(d / "model" / f))
    shutil.rmtree(tmp)
    # Reload as a user would: the fixture must be what the saved model computes.
    model = BertModel.from_pretrained(d / "model", attn_implementation="eager").eval()
    assert type(model.encoder.layer[0].attention.self).__name__ == "BertSelfAttention"

    names = ["ragged", "fully_masked", "no_mask"] + HF_EXTRA_CASES.get(name, [])
    g = gen(seed + 1)
    cases = []
    for case, inp, cmp, text in hf_cases(cfg, names, g):
        out = run_hf(model, inp)
        out["compare_mask"] = cmp
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", out)
        cases.append(case_entry(case, text, all_hidden=True, attentions=True))
        SUMMARY.append((name, case, describe(inp), describe({k: out[k] for k in ("last_hidden_state", "attentions.0")})))
        # sanity: nothing non-finite anywhere
        assert all(torch.isfinite(v.float()).all() for v in out.values()), (name, case)
    write_json(d / "cases.json", {
        "dialect": "bert-hf",
        "reference": f"transformers {transformers.__version__} BertModel, attn_implementation=eager",
        "cases": cases,
    })
    return model


# ----------------------------------------------------------------------------- bert-google
# A float32 numpy transcription of google-research/bert modeling.py (commit 0017e7ec).
# Line numbers refer to that file.

F32 = np.float32


def g_gelu_tanh(x):
    # modeling.py:264-277 (HEAD): cdf = 0.5 * (1.0 + tf.tanh((np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3)))))
    # TF turns the float64 constants into float32 tensors.
    cdf = F32(0.5) * (F32(1.0) + np.tanh(F32(np.sqrt(2 / np.pi)) * (x + F32(0.044715) * np.power(x, F32(3)))))
    return x * cdf


def g_gelu_erf(x):
    # modeling.py before Feb 2019 (the first released checkpoints):
    #   cdf = 0.5 * (1.0 + tf.erf(input_tensor / tf.sqrt(2.0))); return input_tensor * cdf
    erf = torch.erf(torch.from_numpy(x / np.sqrt(F32(2.0)))).numpy()
    return x * (F32(0.5) * (F32(1.0) + erf))


def g_layer_norm(x, gamma, beta):
    # modeling.py:362-365 -> tf.contrib.layers.layer_norm(begin_norm_axis=-1, begin_params_axis=-1):
    #   mean, variance = nn.moments(x, [-1], keep_dims=True)    (variance = mean((x - mean)^2))
    #   nn.batch_normalization(x, mean, variance, offset=beta, scale=gamma, variance_epsilon=1e-12)
    #   = x * inv + (beta - mean * inv), inv = rsqrt(variance + 1e-12) * gamma
    mean = x.mean(axis=-1, keepdims=True, dtype=F32)
    var = np.square(x - mean).mean(axis=-1, keepdims=True, dtype=F32)
    inv = (F32(1.0) / np.sqrt(var + F32(1e-12))) * gamma
    return x * inv + (beta - mean * inv)


def g_dense(x, w, prefix, act=None, mm=np.matmul):
    # tf.layers.dense: y = x @ kernel + bias, kernel [in,out]
    y = mm(x, w[prefix + "/kernel"]) + w[prefix + "/bias"]
    return act(y) if act is not None else y


def g_softmax(x):
    # tf.nn.softmax: exp(x - max) / sum
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def google_forward(w, cfg, input_ids, input_mask=None, token_type_ids=None, activation="gelu_tanh", mm=np.matmul):
    """Returns dict(embedding_output, all_encoder_layers=[...], sequence_output, pooled_output).

    mm is the float32 matmul (replaceable only to measure sensitivity to rounding)."""
    act = {"gelu_tanh": g_gelu_tanh, "gelu_erf": g_gelu_erf}[activation]
    B, S = input_ids.shape
    Hd, N = cfg["hidden_size"], cfg["num_attention_heads"]
    D = Hd // N  # modeling.py:807
    # modeling.py:165-169: default input_mask ones, token_type_ids zeros
    if input_mask is None:
        input_mask = np.ones((B, S), np.int64)
    if token_type_ids is None:
        token_type_ids = np.zeros((B, S), np.int64)
    # embedding_lookup, modeling.py:414-419: tf.gather(word_embeddings, ids)
    x = w["bert/embeddings/word_embeddings"][input_ids]
    # embedding_postprocessor, modeling.py:482-487: one_hot(token_type_ids) @ token_type_table, added
    one_hot = np.eye(cfg["type_vocab_size"], dtype=F32)[token_type_ids]
    x = x + np.matmul(one_hot, w["bert/embeddings/token_type_embeddings"])
    # modeling.py:505-518: tf.slice(position_embeddings, [0,0], [seq_length,-1]) broadcast over batch
    x = x + w["bert/embeddings/position_embeddings"][:S][None]
    # modeling.py:520: layer_norm_and_dropout (dropout off at inference)
    x = g_layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])
    emb = x
    # create_attention_mask_from_input_mask, modeling.py:541-553: mask[b,f,t] = input_mask[b,t]
    mask = np.ones((B, S, 1), F32) * input_mask.astype(F32).reshape(B, 1, S)
    # attention_layer, modeling.py:705-712: adder = (1 - mask) * -10000, shape [B,1,F,T]
    adder = (F32(1.0) - mask[:, None, :, :]) * F32(-10000.0)
    scale = F32(1.0 / math.sqrt(float(D)))  # modeling.py:702-703 (Python double -> float32 constant)
    layers = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert/encoder/layer_{i}/"
        # modeling.py:665-696: query/key/value dense, then [B,N,S,D]
        q = g_dense(x, w, p + "attention/self/query", mm=mm).reshape(B, S, N, D).transpose(0, 2, 1, 3)
        k = g_dense(x, w, p + "attention/self/key", mm=mm).reshape(B, S, N, D).transpose(0, 2, 1, 3)
        v = g_dense(x, w, p + "attention/self/value", mm=mm).reshape(B, S, N, D).transpose(0, 2, 1, 3)
        # modeling.py:701-703: scores = (Q K^T) * (1/sqrt(D))  -- multiply, after the matmul
        scores = mm(q, k.transpose(0, 1, 3, 2)) * scale
        scores = scores + adder  # modeling.py:716
        probs = g_softmax(scores)  # modeling.py:720
        ctx = mm(probs, v).transpose(0, 2, 1, 3).reshape(B, S, N * D)  # modeling.py:727-749
        # modeling.py:857-863: output dense, residual, layer_norm
        a = g_dense(ctx, w, p + "attention/output/dense", mm=mm)
        a = g_layer_norm(a + x, w[p + "attention/output/LayerNorm/gamma"], w[p + "attention/output/LayerNorm/beta"])
        # modeling.py:866-871: intermediate dense with the activation
        h = g_dense(a, w, p + "intermediate/dense", act, mm=mm)
        # modeling.py:874-880: output dense, residual, layer_norm
        o = g_dense(h, w, p + "output/dense", mm=mm)
        x = g_layer_norm(o + a, w[p + "output/LayerNorm/gamma"], w[p + "output/LayerNorm/beta"])
        layers.append(x)
    # pooler, modeling.py:224-232: tanh(dense(sequence_output[:, 0]))
    pooled = g_dense(layers[-1][:, 0], w, "bert/pooler/dense", np.tanh, mm=mm)
    res = dict(embedding_output=emb, all_encoder_layers=layers, sequence_output=layers[-1], pooled_output=pooled)
    for v_ in [emb, pooled] + layers:
        assert v_.dtype == F32, v_.dtype
    return res


def hf_to_google(model):
    """HF BertModel state_dict -> Google TF variable names, kernels [in,out]."""
    sd = {k: v.detach().numpy().astype(F32) for k, v in model.state_dict().items()}
    w = {
        "bert/embeddings/word_embeddings": sd["embeddings.word_embeddings.weight"],
        "bert/embeddings/token_type_embeddings": sd["embeddings.token_type_embeddings.weight"],
        "bert/embeddings/position_embeddings": sd["embeddings.position_embeddings.weight"],
        "bert/embeddings/LayerNorm/gamma": sd["embeddings.LayerNorm.weight"],
        "bert/embeddings/LayerNorm/beta": sd["embeddings.LayerNorm.bias"],
        "bert/pooler/dense/kernel": sd["pooler.dense.weight"].T,
        "bert/pooler/dense/bias": sd["pooler.dense.bias"],
    }
    for i in range(model.config.num_hidden_layers):
        h, g = f"encoder.layer.{i}.", f"bert/encoder/layer_{i}/"
        pairs = [("attention.self.query", "attention/self/query"), ("attention.self.key", "attention/self/key"),
                 ("attention.self.value", "attention/self/value"), ("attention.output.dense", "attention/output/dense"),
                 ("intermediate.dense", "intermediate/dense"), ("output.dense", "output/dense")]
        for hn, gn in pairs:
            w[g + gn + "/kernel"] = sd[h + hn + ".weight"].T
            w[g + gn + "/bias"] = sd[h + hn + ".bias"]
        for hn, gn in [("attention.output.LayerNorm", "attention/output/LayerNorm"), ("output.LayerNorm", "output/LayerNorm")]:
            w[g + gn + "/gamma"] = sd[h + hn + ".weight"]
            w[g + gn + "/beta"] = sd[h + hn + ".bias"]
    return {k: np.ascontiguousarray(v) for k, v in w.items()}


GOOGLE_MODELS = [
    ("bert-google-tanh-h40", dict(vocab_size=72, hidden_size=40, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=56, max_position_embeddings=35, type_vocab_size=2),
     "gelu_tanh"),
    ("bert-google-erf-h36", dict(vocab_size=64, hidden_size=36, num_hidden_layers=2, num_attention_heads=3,
                                 intermediate_size=48, max_position_embeddings=34, type_vocab_size=3),
     "gelu_erf"),
]


def google_cases(cfg, g):
    V, P, T = cfg["vocab_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]
    lens = [1, 7, 33, P]
    am = lengths_mask(lens, P)
    yield "ragged", dict(input_ids=randint(1, V, (4, P), g) * am, input_mask=am,
                         token_type_ids=randint(0, T, (4, P), g) * am), compare_mask_from_keep(am), (
        f"lengths 1, 7, 33, {P} (= max_position_embeddings); right padding; random token types")
    am = lengths_mask([6, 0], 9)
    ids = randint(1, V, (2, 9), g)
    ids[0, 6:] = 0
    yield "fully_masked", dict(input_ids=ids, input_mask=am, token_type_ids=randint(0, T, (2, 9), g)), \
        compare_mask_from_keep(am), (
        "row 0: length 6 of 9; row 1: input_mask all zeros. Google adds -10000 to every score of row 1, so "
        "its softmax equals the unmasked one except that s - 10000 is rounded to float32 (ulp 2^-10 ~ 1e-3): "
        "a last-bit difference in s can move a score by one such ulp, ~1e-4 on the outputs: tolerance 1e-3")
    yield "no_mask", dict(input_ids=randint(0, V, (1, 10), g)), compare_mask_from_keep(torch.ones(1, 10)), (
        "no input_mask, no token_type_ids (defaults: ones, zeros); ids include 0")


def make_bert_google(root, name, cfg, activation, seed):
    d = root / name
    (d / "model").mkdir(parents=True)
    hf_act = {"gelu_tanh": "gelu_new", "gelu_erf": "gelu"}[activation]
    hf = make_hf_model(dict(cfg, hidden_act=hf_act, layer_norm_eps=1e-12), seed)
    w = hf_to_google(hf)
    np_save_file(w, str(d / "model" / "model.safetensors"))
    write_json(d / "model" / "bert_config.json", {
        "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "hidden_size": cfg["hidden_size"], "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"], "max_position_embeddings": cfg["max_position_embeddings"],
        "num_attention_heads": cfg["num_attention_heads"], "num_hidden_layers": cfg["num_hidden_layers"],
        "type_vocab_size": cfg["type_vocab_size"], "vocab_size": cfg["vocab_size"],
    })

    # Self-check: Google math vs HF BertModel (same weights, eps 1e-12, matching GELU) without padding.
    ids = randint(0, cfg["vocab_size"], (3, 17), gen(seed + 7))
    tt = randint(0, cfg["type_vocab_size"], (3, 17), gen(seed + 8))
    go = google_forward(w, cfg, ids.numpy(), None, tt.numpy(), activation)
    ho = run_hf(hf, dict(input_ids=ids, token_type_ids=tt))
    diffs = [max_abs_diff(torch.from_numpy(go["embedding_output"]), ho["hidden_states.0"])]
    diffs += [max_abs_diff(torch.from_numpy(x), ho[f"hidden_states.{i + 1}"]) for i, x in enumerate(go["all_encoder_layers"])]
    diffs.append(max_abs_diff(torch.from_numpy(go["pooled_output"]), ho["pooler_output"]))
    note(name, "-", f"self-check vs HF BertModel hidden_act={hf_act} (no padding): max |diff| "
                    f"{max(diffs):.2e} (embeddings, layers, pooler: {', '.join(f'{x:.1e}' for x in diffs)})")
    assert max(diffs) < 2e-5, diffs

    cases = []
    for case, inp, cmp, text in google_cases(cfg, gen(seed + 1)):
        npi = {k: v.numpy() for k, v in inp.items()}
        go = google_forward(w, cfg, npi["input_ids"], npi.get("input_mask"), npi.get("token_type_ids"), activation)
        out = {"sequence_output": go["sequence_output"], "pooled_output": go["pooled_output"],
               "embedding_output": go["embedding_output"]}
        for i, x in enumerate(go["all_encoder_layers"]):
            out[f"all_encoder_layers.{i}"] = x
        out = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}
        out["compare_mask"] = cmp
        assert all(torch.isfinite(v.float()).all() for v in out.values()), (name, case)
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", out)
        # See google_cases: the all-masked row is only defined to ~1e-4 by the reference itself.
        tol = 1e-3 if case == "fully_masked" else None
        cases.append(case_entry(case, text, all_hidden=True, attentions=False, tolerance=tol))
        SUMMARY.append((name, case, describe(inp), describe({k: out[k] for k in ("sequence_output", "pooled_output")})))
        if case == "fully_masked":
            google_fully_masked_sensitivity(name, w, cfg, npi, activation, out)
    entry = {
        "dialect": "bert-google",
        "reference": "google-research/bert modeling.py (commit 0017e7ec) transcribed to float32 numpy, "
                     "cross-checked against transformers BertModel",
        "cases": cases,
    }
    if activation == "gelu_erf":
        entry["load_options"] = {"activation": "gelu_erf"}
    # keep "load_options" before "cases" like the README example
    entry = {k: entry[k] for k in ["dialect", "reference", "load_options", "cases"] if k in entry}
    write_json(d / "cases.json", entry)


def google_fully_masked_sensitivity(name, w, cfg, npi, activation, out, trials=20):
    """How much does the all-masked row move when only the last bits of the scores change?

    Re-run with every matmul result perturbed by 2e-7 relative noise (about what another
    summation order gives) and report the largest change seen on each row."""
    d0 = d1 = 0.0
    for seed in range(trials):
        rng = np.random.default_rng(seed)

        def noisy_matmul(a, b):
            y = np.matmul(a, b)
            return (y * (F32(1) + rng.standard_normal(y.shape).astype(F32) * F32(2e-7))).astype(F32)

        go = google_forward(w, cfg, npi["input_ids"], npi.get("input_mask"), npi.get("token_type_ids"),
                            activation, mm=noisy_matmul)
        new = torch.from_numpy(go["sequence_output"])
        ref = out["sequence_output"]
        d0 = max(d0, float((ref[0, :6] - new[0, :6]).abs().max()))
        d1 = max(d1, float((ref[1] - new[1]).abs().max()))
    note(name, "fully_masked", f"sensitivity to 2e-7 relative noise on every matmul ({trials} trials): row 0 "
                               f"(real positions) max diff {d0:.1e}, all-masked row 1 max diff {d1:.1e}")


# ----------------------------------------------------------------------------- torch

TORCH_MODELS = [
    # name, sidecar (minus encore_format), extra cases
    ("torch-relu-post-sf-d36", dict(num_layers=2, d_model=36, nhead=3, dim_feedforward=48, dropout=0.1,
                                    activation="relu", layer_norm_eps=1e-5, batch_first=False,
                                    norm_first=False, bias=True, final_norm=True),
     ["per_head_mask", "key_padding_float", "unbatched"]),
    ("torch-gelu-pre-bf-d40", dict(num_layers=2, d_model=40, nhead=4, dim_feedforward=48, dropout=0.1,
                                   activation="gelu", layer_norm_eps=1e-6, batch_first=True,
                                   norm_first=True, bias=True, final_norm=True), []),
    ("torch-gelu-post-bf-d34", dict(num_layers=2, d_model=34, nhead=2, dim_feedforward=48, dropout=0.1,
                                    activation="gelu", layer_norm_eps=1e-5, batch_first=True,
                                    norm_first=False, bias=True, final_norm=False), []),
    ("torch-relu-post-nobias-bf-d36", dict(num_layers=2, d_model=36, nhead=4, dim_feedforward=44, dropout=0.1,
                                           activation="relu", layer_norm_eps=1e-5, batch_first=True,
                                           norm_first=False, bias=False, final_norm=False), []),
    ("torch-relu-pre-nobias-sf-d32", dict(num_layers=1, d_model=32, nhead=8, dim_feedforward=40, dropout=0.1,
                                          activation="relu", layer_norm_eps=1e-5, batch_first=False,
                                          norm_first=True, bias=False, final_norm=True), []),
]


def make_torch_encoder(sc, seed):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(sc["d_model"], sc["nhead"], sc["dim_feedforward"], sc["dropout"],
                                       sc["activation"], sc["layer_norm_eps"], sc["batch_first"],
                                       sc["norm_first"], sc["bias"])
    norm = nn.LayerNorm(sc["d_model"], eps=sc["layer_norm_eps"], bias=sc["bias"]) if sc["final_norm"] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "enable_nested_tensor is True, but ..." is expected
        enc = nn.TransformerEncoder(layer, sc["num_layers"], norm=norm)
    g = gen(seed)
    E = sc["d_model"]
    for lyr in enc.layers:
        attn = lyr.self_attn
        with torch.no_grad():
            gains = torch.tensor([1.6] * (2 * E) + [1.0] * E)[:, None]
            attn.in_proj_weight.copy_(randn((3 * E, E), g, 1.0 / math.sqrt(E)) * gains)
            if attn.in_proj_bias is not None:
                attn.in_proj_bias.copy_(randn((3 * E,), g, 0.1))
        init_linear_(attn.out_proj.weight, attn.out_proj.bias, g)
        init_linear_(lyr.linear1.weight, lyr.linear1.bias, g)
        init_linear_(lyr.linear2.weight, lyr.linear2.bias, g)
        init_layer_norm_(lyr.norm1, g)
        init_layer_norm_(lyr.norm2, g)
    if norm is not None:
        init_layer_norm_(enc.norm, g)
    return enc.eval()


def torch_cases(sc, names, g):
    """Yield (case, inputs, compare_mask, note, is_causal). Tensors in the model's layout."""
    E, nh, bf = sc["d_model"], sc["nhead"], sc["batch_first"]

    def src(B, S):
        x = randn((B, S, E), g, 1.0)
        return x if bf else x.transpose(0, 1).contiguous()

    NEG_INF = float("-inf")
    for name in names:
        if name == "ragged":
            S, lens = 34, [1, 7, 33, 34]
            kpm = lengths_mask(lens, S) == 0
            yield name, dict(src=src(4, S), src_key_padding_mask=kpm), compare_mask_from_keep(~kpm), (
                "bool src_key_padding_mask (True = padding), lengths 1, 7, 33, 34"), False
        elif name == "float_mask":
            S = 10
            m = torch.zeros(S, S)
            r = torch.rand((S, S), generator=g)
            m[r < 0.25] = NEG_INF
            fin = (r >= 0.25) & (r < 0.6)
            m[fin] = -torch.rand((S, S), generator=g)[fin] * 4.0
            m[torch.arange(S), torch.arange(S)] = 0.5  # positive entries are allowed too
            yield name, dict(src=src(2, S), mask=m), compare_mask_from_keep(torch.ones(2, S)), (
                "additive float mask [S,S] with -inf, finite negatives and +0.5 on the diagonal; "
                "no key padding"), False
        elif name == "bool_mask":
            S = 12
            m = torch.rand((S, S), generator=g) < 0.3
            m[torch.arange(S), torch.arange(S)] = False
            kpm = lengths_mask([S, 9, 4], S) == 0
            yield name, dict(src=src(3, S), mask=m, src_key_padding_mask=kpm), compare_mask_from_keep(~kpm), (
                "bool mask [S,S] (True = not allowed) plus bool key padding, lengths 12, 9, 4"), False
        elif name == "causal":
            S = 11
            m = nn.Transformer.generate_square_subsequent_mask(S)
            yield name, dict(src=src(2, S), mask=m), compare_mask_from_keep(torch.ones(2, S)), (
                "mask = generate_square_subsequent_mask(S) (float, -inf above the diagonal), is_causal=True, "
                "no key padding (MHA then calls SDPA with is_causal and no mask)"), True
        elif name == "per_head_mask":
            S, B = 9, 2
            m = torch.zeros(B * nh, S, S)
            r = torch.rand((B * nh, S, S), generator=g)
            m[r < 0.3] = NEG_INF
            fin = (r >= 0.3) & (r < 0.5)
            m[fin] = -2.5
            m[:, torch.arange(S), torch.arange(S)] = 0.0
            keep = lengths_mask([S, 7], S)
            kpm = torch.where(keep == 1, 0.0, NEG_INF)
            yield name, dict(src=src(B, S), mask=m, src_key_padding_mask=kpm), compare_mask_from_keep(keep), (
                "float mask [B*nhead,S,S], index b*nhead + h (batch-major), plus a float (0/-inf) key padding "
                "mask, lengths 9, 7; both are added to the scores"), False
        elif name == "key_padding_float":
            S = 10
            kpm = torch.zeros(3, S)
            kpm[1, 6:] = NEG_INF
            kpm[2, 2:] = NEG_INF
            kpm[0, 3] = -1.5
            kpm[1, 1] = -3.0
            yield name, dict(src=src(3, S), src_key_padding_mask=kpm), \
                compare_mask_from_keep(torch.isfinite(kpm)), (
                "float src_key_padding_mask [B,S] added to every query row of its batch: -inf = padding "
                "(not compared), finite negatives = soft penalties on real keys; lengths 10, 6, 2"), False
        elif name == "fully_masked":
            S = 8
            m = torch.zeros(S, S, dtype=torch.bool)
            m[2, :] = True  # query 2 of every sequence sees no key
            m[5, 1] = True
            kpm = torch.zeros(2, S, dtype=torch.bool)
            kpm[0, 6:] = True
            kpm[1, :] = True  # sequence 1: every key is padding
            yield name, dict(src=src(2, S), mask=m, src_key_padding_mask=kpm), compare_mask_from_keep(~kpm), (
                "bool mask with query row 2 all True; bool key padding: sequence 0 length 6, sequence 1 all "
                "padding. The slow path's SDPA uses a safe softmax: a row with every score -inf gets zero "
                "attention weights, so the attention output is out_proj.bias (zero without bias), not NaN"), False
        elif name == "unbatched":
            S = 7
            m = torch.zeros(S, S)
            m[0, 3] = NEG_INF
            m[4, 0] = -1.0
            yield name, dict(src=randn((S, E), g, 1.0), mask=m), compare_mask_from_keep(torch.ones(1, S)), (
                "unbatched src [S,E] with a float mask [S,S]; compare_mask is [1,S]"), False
        else:
            raise ValueError(name)


def run_torch_layers(enc, inp, is_causal):
    """Each layer's output by running the layers one at a time (slow path: grad enabled)."""
    x, outs = inp["src"], []
    for lyr in enc.layers:
        x = lyr(x, src_mask=inp.get("mask"), src_key_padding_mask=inp.get("src_key_padding_mask"),
                is_causal=is_causal)
        outs.append(x)
    final = enc.norm(x) if enc.norm is not None else x
    return final, outs


def make_torch(root, name, sc, extra, seed):
    d = root / name
    (d / "model").mkdir(parents=True)
    enc = make_torch_encoder(sc, seed)
    assert all(p.requires_grad for p in enc.parameters())
    torch_save_file({k: v.contiguous() for k, v in enc.state_dict().items()}, str(d / "model" / "model.safetensors"))
    write_json(d / "model" / "transformer_encoder.json", {"encore_format": "torch.nn.TransformerEncoder", **sc})

    names = ["ragged", "float_mask", "bool_mask", "causal", "fully_masked"] + extra
    cases = []
    bf = sc["batch_first"]
    for case, inp, cmp, text, is_causal in torch_cases(sc, names, gen(seed + 1)):
        call = dict(mask=inp.get("mask"), src_key_padding_mask=inp.get("src_key_padding_mask"))
        with torch.enable_grad():  # slow path everywhere
            ref = enc(inp["src"], is_causal=True if is_causal else None, **call)
            final, layers = run_torch_layers(enc, inp, is_causal)
        unb = inp["src"].dim() == 2
        view = (lambda t: t[None]) if unb else (lambda t: t)
        lay_bf = bf or unb
        chain = max_abs_diff(view(final), view(ref), cmp, lay_bf)
        note(name, case, f"layer-by-layer chain vs TransformerEncoder (compared positions): {chain:.1e}")
        assert chain == 0.0 or chain < 1e-6, chain
        # The fast path, for the report only.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "nested tensors are in prototype stage"
            fast = enc(inp["src"], is_causal=True if is_causal else None, **call)
        fd = max_abs_diff(view(fast), view(ref), cmp, lay_bf)
        n_nan = int(torch.isnan(fast).sum())
        note(name, case, f"fast path (inference_mode) vs slow on compared positions: max |diff| {fd:.1e}"
                         + (f", {n_nan} NaN in fast output" if n_nan else ""))
        out = {"output": ref}
        for i, x in enumerate(layers):
            out[f"layers.{i}"] = x
        out["compare_mask"] = cmp
        assert all(torch.isfinite(v.float()).all() for v in out.values()), (name, case)
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", out)
        cases.append(case_entry(case, text, all_hidden=True, attentions=False, causal=is_causal))
        SUMMARY.append((name, case, describe(inp), describe({"output": out["output"]})))
    write_json(d / "cases.json", {
        "dialect": "torch",
        "reference": f"torch {torch.__version__.split('+')[0]} nn.TransformerEncoder, eval(), standard (non-fast) path",
        "cases": cases,
    })


# ----------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "core")
    args = ap.parse_args()
    check_versions("make_core_fixtures")
    torch.set_num_threads(1)  # fixed reduction order -> identical bytes on rerun
    torch.use_deterministic_algorithms(True)
    root = args.out
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)

    for i, (name, cfg) in enumerate(HF_MODELS):
        make_bert_hf(root, name, cfg, seed=1000 + 10 * i)
    for i, (name, cfg, act) in enumerate(GOOGLE_MODELS):
        make_bert_google(root, name, cfg, act, seed=2000 + 10 * i)
    for i, (name, sc, extra) in enumerate(TORCH_MODELS):
        make_torch(root, name, sc, extra, seed=3000 + 10 * i)

    print(f"\n{'model':32} {'case':18} inputs -> outputs")
    for m, c, i, o in SUMMARY:
        print(f"{m:32} {c:18} {i}\n{'':51} -> {o}")
    print("\nChecks:")
    for m, c, t in REPORT:
        print(f"  {m} [{c}] {t}")
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"\nTotal size of {root}: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
