#!/usr/bin/env python3
"""A second witness for tests/fixtures/family: every architecture re-implemented from scratch in
float64 numpy, from docs/encoder-family.md alone (no torch, no transformers), and run on each
fixture's model/ and <case>.in.safetensors; every output must match the reference's
<case>.out.safetensors within 2e-5 * max(1, |ref|) on compared positions (the references run in
float32, this in float64: what is left is their rounding, measured ~4e-6).

Usage: check_family_fixtures.py [tests/fixtures/family]   (any Python with numpy + safetensors)
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

F32_MIN = float(np.finfo(np.float32).min)  # the masked-key adder of every model here


def erf(x):
    return np.vectorize(math.erf)(x)


ACT = {
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
    "gelu_new": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "gelu_pytorch_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "relu": lambda x: np.maximum(x, 0.0),
}


def ln(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class W:
    """Weights by name, float64, with a prefix (the head models nest the body under one)."""

    def __init__(self, path, prefix=""):
        self.t = {k: v.astype(np.float64) for k, v in load_file(str(path)).items()}
        self.prefix = prefix

    def __call__(self, name, root=False):
        return self.t[name if root else self.prefix + name]

    def has(self, name, root=False):
        return (name if root else self.prefix + name) in self.t

    def lin(self, name, x, root=False):
        return x @ self(name + ".weight", root).T + self(name + ".bias", root)


def softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def mask_adder(am, B, S):
    """[B,1,S,S] additive mask (1 - m) * float32 min; a 2-D mask broadcasts over queries."""
    if am is None:
        am = np.ones((B, S))
    am = am.astype(np.float64)
    m = am[:, None, None, :] if am.ndim == 2 else am[:, None, :, :]
    return (1.0 - m) * F32_MIN


def split(x, H):
    B, S, D = x.shape
    return x.reshape(B, S, H, D // H).transpose(0, 2, 1, 3)


def merge(x):
    B, H, S, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, S, H * d)


def attend(q, k, v, add, hm, bias=None, rel=None, rel_after_mask=False):
    """BERT order: scores = (qk [+ rel]) / sqrt(d) + mask. ALBERT: qk / sqrt(d) + mask + rel.
    MPNet: qk / sqrt(d) + bias + mask. The head mask multiplies the probabilities."""
    d = q.shape[-1]
    s = q @ k.transpose(0, 1, 3, 2)
    if rel is not None and not rel_after_mask:
        s = s + rel
    s = s / math.sqrt(d)
    if bias is not None:
        s = s + bias
    s = s + add
    if rel is not None and rel_after_mask:
        s = s + rel
    p = softmax(s)
    if hm is not None:
        p = p * hm[None, :, None, None]
    return p @ v, p


def roberta_positions(ids, pad):
    """pad + cumsum(id != pad), pad at pad ids (create_position_ids_from_input_ids)."""
    m = (ids != pad).astype(np.int64)
    return np.cumsum(m, 1) * m + pad


def mpnet_bucket(rel, num_buckets=32, max_distance=128):
    """relative_position_bucket in float32 arithmetic as the reference does it (log of float32)."""
    n = -rel
    nb = num_buckets // 2
    ret = (n < 0).astype(np.int64) * nb
    n = np.abs(n)
    max_exact = nb // 2
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) at n = 0: not selected below
        large = max_exact + (np.log(n.astype(np.float32) / np.float32(max_exact))
                             / np.float32(math.log(max_distance / max_exact)) * np.float32(nb - max_exact)
                             ).astype(np.int64)
    large = np.minimum(large, nb - 1)
    return ret + np.where(n < max_exact, n, large)


# ----------------------------------------------------------------------------- bodies


def bert_layer(w, p, x, add, hm, H, act, eps):
    """Post-LN BERT layer (RoBERTa family, ELECTRA)."""
    q, k, v = (split(w.lin(f"{p}.attention.self.{n}", x), H) for n in ("query", "key", "value"))
    ctx, probs = attend(q, k, v, add, hm)
    h = ln(w.lin(f"{p}.attention.output.dense", merge(ctx)) + x,
           w(f"{p}.attention.output.LayerNorm.weight"), w(f"{p}.attention.output.LayerNorm.bias"), eps)
    f = w.lin(f"{p}.output.dense", ACT[act](w.lin(f"{p}.intermediate.dense", h)))
    return ln(f + h, w(f"{p}.output.LayerNorm.weight"), w(f"{p}.output.LayerNorm.bias"), eps), probs


def forward(mt, cfg, w, inp):
    ids = inp["input_ids"]
    B, S = ids.shape
    am = inp.get("attention_mask")
    hm_all = inp.get("head_mask")
    eps = cfg.get("layer_norm_eps", 1e-12)
    hidden, atts = [], []
    if mt in ("roberta", "xlm-roberta", "camembert", "electra", "albert", "mpnet"):
        pad = 1 if mt == "mpnet" else cfg["pad_token_id"]  # MPNet: padding_idx hard-coded 1
        if "position_ids" in inp:
            pos = inp["position_ids"]
        elif mt in ("roberta", "xlm-roberta", "camembert", "mpnet"):
            pos = roberta_positions(ids, pad)
        else:
            pos = np.broadcast_to(np.arange(S), (B, S))
        e = w("embeddings.word_embeddings.weight")[ids]
        if cfg.get("position_embedding_type", "absolute") == "absolute":  # relative types: no absolute table
            e = e + w("embeddings.position_embeddings.weight")[pos]
        if mt != "mpnet":
            tt = inp.get("token_type_ids", np.zeros((B, S), np.int64))
            e = e + w("embeddings.token_type_embeddings.weight")[tt]
        x = ln(e, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
        add = mask_adder(am, B, S)
    H, L = cfg.get("num_attention_heads", cfg.get("n_heads")), cfg.get("num_hidden_layers", cfg.get("n_layers"))
    hm = (lambda i: None) if hm_all is None else (lambda i: hm_all[i] if hm_all.ndim == 2 else hm_all)

    if mt in ("roberta", "xlm-roberta", "camembert", "electra"):
        if mt == "electra" and w.has("embeddings_project.weight"):
            x = w.lin("embeddings_project", x)
        for i in range(L):
            hidden.append(x)
            x, p = bert_layer(w, f"encoder.layer.{i}", x, add, hm(i), H, cfg["hidden_act"], eps)
            atts.append(p)
    elif mt == "distilbert":
        x = ln(w("embeddings.word_embeddings.weight")[ids] + w("embeddings.position_embeddings.weight")[np.arange(S)],
               w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), 1e-12)
        keep = np.ones((B, S)) if am is None else am
        for i in range(L):
            hidden.append(x)
            p = f"transformer.layer.{i}"
            q, k, v = (split(w.lin(f"{p}.attention.{n}_lin", x), H) for n in ("q", "k", "v"))
            q = q / math.sqrt(q.shape[-1])  # scaled before the product
            s = q @ k.transpose(0, 1, 3, 2)
            s = np.where(keep[:, None, None, :] == 0, F32_MIN, s)  # masked_fill: replaced, not added
            pr = softmax(s)
            if hm(i) is not None:
                pr = pr * hm(i)[None, :, None, None]
            sa = ln(w.lin(f"{p}.attention.out_lin", merge(pr @ v)) + x,
                    w(f"{p}.sa_layer_norm.weight"), w(f"{p}.sa_layer_norm.bias"), 1e-12)
            f = w.lin(f"{p}.ffn.lin2", ACT[cfg["activation"]](w.lin(f"{p}.ffn.lin1", sa)))
            x = ln(f + sa, w(f"{p}.output_layer_norm.weight"), w(f"{p}.output_layer_norm.bias"), 1e-12)
            atts.append(pr)
    elif mt == "albert":
        x = w.lin("encoder.embedding_hidden_mapping_in", x)
        G, I = cfg["num_hidden_groups"], cfg["inner_group_num"]
        per = int(L / G)
        rel_type = cfg.get("position_embedding_type", "absolute")
        for i in range(L):
            hidden.append(x)
            g = int(i / (L / G))
            for j in range(I):
                p = f"encoder.albert_layer_groups.{g}.albert_layers.{j}"
                q, k, v = (split(w.lin(f"{p}.attention.{n}", x), H) for n in ("query", "key", "value"))
                rel = None
                if rel_type != "absolute":
                    P = cfg["max_position_embeddings"]
                    dist = np.arange(S)[:, None] - np.arange(S)[None, :]
                    pe = w(f"{p}.attention.distance_embedding.weight")[dist + P - 1]  # [S,S,d]
                    rel = np.einsum("bhld,lrd->bhlr", q, pe)
                    if rel_type == "relative_key_query":
                        rel = rel + np.einsum("bhrd,lrd->bhlr", k, pe)
                ctx, pr = attend(q, k, v, add, hm(g * per + j), rel=rel, rel_after_mask=True)
                h = ln(x + w.lin(f"{p}.attention.dense", merge(ctx)),
                       w(f"{p}.attention.LayerNorm.weight"), w(f"{p}.attention.LayerNorm.bias"), eps)
                f = w.lin(f"{p}.ffn_output", ACT[cfg["hidden_act"]](w.lin(f"{p}.ffn", h)))
                x = ln(f + h, w(f"{p}.full_layer_layer_norm.weight"), w(f"{p}.full_layer_layer_norm.bias"), eps)
                atts.append(pr)
    elif mt == "mpnet":
        rel = np.arange(S)[None, :] - np.arange(S)[:, None]  # key - query
        bias = w("encoder.relative_attention_bias.weight")[mpnet_bucket(rel)].transpose(2, 0, 1)[None]
        for i in range(L):
            hidden.append(x)
            p = f"encoder.layer.{i}"
            q, k, v = (split(w.lin(f"{p}.attention.attn.{n}", x), H) for n in ("q", "k", "v"))
            ctx, pr = attend(q, k, v, add, hm(i), bias=bias)
            h = ln(w.lin(f"{p}.attention.attn.o", merge(ctx)) + x,
                   w(f"{p}.attention.LayerNorm.weight"), w(f"{p}.attention.LayerNorm.bias"), eps)
            f = w.lin(f"{p}.output.dense", ACT[cfg["hidden_act"]](w.lin(f"{p}.intermediate.dense", h)))
            x = ln(f + h, w(f"{p}.output.LayerNorm.weight"), w(f"{p}.output.LayerNorm.bias"), eps)
            atts.append(pr)
    hidden.append(x)
    out = {"last_hidden_state": x}
    if w.has("pooler.dense.weight"):
        out["pooler_output"] = np.tanh(w.lin("pooler.dense", x[:, 0]))
    elif w.has("pooler.weight"):  # ALBERT: pooler is the Linear itself
        out["pooler_output"] = np.tanh(w.lin("pooler", x[:, 0]))
    out.update({f"hidden_states.{i}": h for i, h in enumerate(hidden)})
    out.update({f"attentions.{i}": a for i, a in enumerate(atts)})
    return out


# ----------------------------------------------------------------------------- heads

PREFIX = {"roberta": "roberta.", "xlm-roberta": "roberta.", "camembert": "roberta.", "distilbert": "distilbert.",
          "electra": "electra.", "albert": "albert.", "mpnet": "mpnet."}


def head_forward(mt, cls, cfg, w, inp):
    body = forward(mt, cfg, w, inp)
    h = body["last_hidden_state"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    word = w("embeddings.word_embeddings.weight")
    if cls.endswith("ForSequenceClassification"):
        x0 = h[:, 0]
        if mt == "distilbert":
            return {"logits": w.lin("classifier", np.maximum(w.lin("pre_classifier", x0, True), 0), True)}
        if mt == "albert":
            return {"logits": w.lin("classifier", body["pooler_output"], True)}
        act = ACT["gelu"] if mt == "electra" else np.tanh
        return {"logits": w.lin("classifier.out_proj", act(w.lin("classifier.dense", x0, True)), True)}
    if cls.endswith("ForTokenClassification"):
        return {"logits": w.lin("classifier", h, True)}
    if cls.endswith("ForQuestionAnswering"):
        lg = w.lin("qa_outputs", h, True)
        return {"start_logits": lg[..., 0], "end_logits": lg[..., 1]}
    if cls.endswith("ForMaskedLM") or cls == "AlbertForPreTraining":
        if mt in ("roberta", "xlm-roberta", "camembert", "mpnet"):
            t = ln(ACT["gelu"](w.lin("lm_head.dense", h, True)), w("lm_head.layer_norm.weight", True),
                   w("lm_head.layer_norm.bias", True), eps)
            logits = t @ word.T + w("lm_head.bias", True)
        elif mt == "distilbert":
            t = ln(ACT[cfg["activation"]](w.lin("vocab_transform", h, True)), w("vocab_layer_norm.weight", True),
                   w("vocab_layer_norm.bias", True), 1e-12)
            logits = t @ word.T + w("vocab_projector.bias", True)
        elif mt == "electra":
            t = ln(ACT["gelu"](w.lin("generator_predictions.dense", h, True)),
                   w("generator_predictions.LayerNorm.weight", True), w("generator_predictions.LayerNorm.bias", True),
                   eps)
            logits = t @ word.T + w("generator_lm_head.bias", True)
        else:  # albert
            t = ln(ACT[cfg["hidden_act"]](w.lin("predictions.dense", h, True)), w("predictions.LayerNorm.weight", True),
                   w("predictions.LayerNorm.bias", True), eps)
            logits = t @ word.T + w("predictions.bias", True)
        if cls == "AlbertForPreTraining":
            return {"prediction_logits": logits,
                    "sop_logits": w.lin("sop_classifier.classifier", body["pooler_output"], True)}
        return {"logits": logits}
    if cls == "ElectraForPreTraining":
        t = ACT[cfg["hidden_act"]](w.lin("discriminator_predictions.dense", h, True))
        return {"logits": w.lin("discriminator_predictions.dense_prediction", t, True)[..., 0]}
    raise ValueError(cls)


# ----------------------------------------------------------------------------- compare


def worst_error(name, ref, got, cmp):
    if ref.shape != got.shape:
        raise AssertionError(f"{name}: shape {got.shape} != {ref.shape}")
    keep = cmp.astype(bool)
    B, S = keep.shape
    if name.startswith("attentions."):
        sel = np.broadcast_to(keep[:, None, :, None], ref.shape)  # rows of compared queries
    elif ref.ndim >= 2 and ref.shape[:2] == (B, S):
        sel = np.broadcast_to(keep.reshape(B, S, *([1] * (ref.ndim - 2))), ref.shape)
    else:
        sel = np.ones(ref.shape, bool)
    r, g = ref[sel].astype(np.float64), got[sel]
    return float((np.abs(g - r) / np.maximum(1.0, np.abs(r))).max()) if r.size else 0.0


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/family"
    worst_all, n = 0.0, 0
    for d in sorted(p for p in root.iterdir() if (p / "cases.json").exists()):
        spec = json.loads((d / "cases.json").read_text())
        cfg = json.loads((d / "model" / "config.json").read_text())
        mt = spec["model_type"]
        if mt not in PREFIX:  # ModernBERT, DeBERTa-v2: their generators check themselves (docs/encoder-family.md)
            print(f"{d.name:42} skipped: {mt} is not one of the seven BERT-shaped architectures here")
            continue
        head = spec.get("head")
        w = W(d / "model" / "model.safetensors", PREFIX[mt] if head else "")
        worst = 0.0
        for c in spec["cases"]:
            inp = load_file(str(d / f"{c['name']}.in.safetensors"))
            ref = load_file(str(d / f"{c['name']}.out.safetensors"))
            got = head_forward(mt, head, cfg, w, inp) if head else forward(mt, cfg, w, inp)
            names = spec["outputs"]
            assert sorted(names) == sorted(got), (d.name, sorted(names), sorted(got))
            for k in names:
                e = worst_error(k, ref[k], got[k], ref["compare_mask"])
                worst = max(worst, e)
                assert e <= 2e-5, f"{d.name}.{c['name']} {k}: scaled error {e:.2e}"
            n += 1
        worst_all = max(worst_all, worst)
        print(f"{d.name:42} {len(spec['cases'])} cases  worst scaled error {worst:.1e}")
    print(f"{n} cases agree; worst scaled error {worst_all:.1e}")


if __name__ == "__main__":
    main()
