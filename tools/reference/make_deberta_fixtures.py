#!/usr/bin/env python3
"""Parity fixtures for DeBERTa-v2 / v3 under tests/fixtures/family/deberta-v2-*/.

DebertaV2Model and its task heads as transformers 4.57.6 runs them (attn_implementation="eager": DeBERTa
has only its own DisentangledSelfAttention, sdpa and flash_attention_2 are refused by transformers) on
small random models, in the layout of make_family_fixtures.py (tests/fixtures/README.md, section
family/): model/ (config.json + model.safetensors from save_pretrained(safe_serialization=True)),
cases.json, <case>.in.safetensors (forward inputs named like the forward arguments),
<case>.out.safetensors (the outputs, named like the ModelOutput fields, + compare_mask). No tokenizer:
the cases feed token ids. config.json's model_type is "deberta-v2" (v2 and v3 checkpoints alike).

  deberta-v2-v3style-h32/      DeBERTa-v3: log-bucketed relative positions, c2p + p2c sharing the
                               content projections, LayerNorm'd rel_embeddings, no absolute positions
  deberta-v2-v2style-h36/      deberta-v2-xlarge style: the same + the ConvLayer after layer 0;
                               max_relative_positions 20 < the longest sequence (the index clamp is
                               reached); config.json spells pos_att_type "p2c|c2p" as the real
                               checkpoints do (rewritten after save_pretrained, reload checked)
  deberta-v2-c2p-only-h30/     c2p only with its own pos_key_proj, no bucketing (a plain clamp to
                               +-8), raw rel_embeddings, absolute positions, 2 token types
  deberta-v2-p2c-only-h24/     p2c only with its own pos_query_proj, log buckets
  deberta-v2-head-<task>/      DebertaV2For{SequenceClassification,TokenClassification,
                               QuestionAnswering,MaskedLM}: their logits; ragged only

Body outputs: last_hidden_state, hidden_states.0..L (the embeddings output, then each layer's;
last_hidden_state == hidden_states.L), attentions.0..L-1; cases ragged, fully_masked, no_mask, and
position_ids where the model has absolute positions (position_biased_input). No mask3d: a 3-D
attention_mask reaches the embeddings' `embeddings * mask` (L558-565) as [B,S,S] against [B,S,hidden]
and raises unless S == hidden (then it silently multiplies by the wrong thing) -- probed below.

Weights are scaled as in make_family_fixtures.py / make_modernbert_fixtures.py, for the same reason:
the library's std-0.02 init gives near-uniform attention and near-identity LayerNorms, so a wrong
bucket, index, scale or weight name would hardly move the outputs. Linear weights
N(0, (gain/sqrt(fan_in))^2), gain 1.6 for query_proj, key_proj, pos_key_proj, pos_query_proj (with
share_att_key the position terms go through query_proj/key_proj, L300-306), Conv1d weights the same
with fan_in = in_channels/groups * kernel; word / token-type / absolute-position embeddings N(0, 0.5^2)
(the padding row too: a checkpoint's padding row is whatever it holds, and a fully padded row reads
it), rel_embeddings N(0, 1) (raw when norm_rel_ebd is "none": the c2p/p2c terms must be as large as
the content term to show), biases N(0, 0.1^2), LayerNorm gamma 1 + 0.2 N(0,1), beta 0.2 N(0,1). The
legacy MaskedLM decoder weight is the word embedding matrix (tied, not in the saved file).

Everything is float32, CPU, one thread, fixed seeds: rerunning rewrites identical bytes. Only the
deberta-v2-* directories of --out are replaced (make_family_fixtures.py replaces the whole of
tests/fixtures/family: run this one after it).
Usage: make_deberta_fixtures.py [--out tests/fixtures/family]
Line numbers below are those of the installed transformers 4.57.6
(models/deberta_v2/modeling_deberta_v2.py unless named otherwise).

What the reference computes (eager; dropout is identity in eval):
  embeddings   x = word[ids] (+ position_embeddings[position_ids] if position_biased_input, L541-548)
               (+ token_type_embeddings[tt] if type_vocab_size > 0, L549-551) (embed_proj if
               embedding_size != hidden, L553-554); LayerNorm (L556); then x * mask[:, :, None] (L558-565):
               padded rows of hidden_states.0 are exactly 0. attention_mask defaults to ones (float, L771-772)
  relative pos rel[i, j] = i - j (L94-96), log-bucketed when position_buckets > 0 (L97-98, below),
               cast to long (L99); the same [1,S,S] table for every layer (L649), whatever position_ids
  rel_embed    R = rel_embeddings.weight ([2*span, hidden], span = position_buckets if > 0 else
               max_relative_positions, L586-591; max_relative_positions < 1 -> max_position_embeddings,
               L582-583); LayerNorm'd by encoder.LayerNorm once per forward when norm_rel_ebd has
               "layer_norm" (L601-605, L655); rows [0, 2*span) used (L299)
  attention    q, k, v = query_proj(x), key_proj(x), value_proj(x) (L235-237), per head [B*H, S, d];
               sf = 1 + ("c2p" in types) + ("p2c" in types) (L241-245), scale = sqrt(float32(d) * sf)
               (L124-125); content = bmm(q, k^T / scale) (L247: the KEY is divided, before the product);
               idx[i, j] = clamp(rel[i, j] + span, 0, 2*span - 1);
               c2p[i, j] = (q_i . pk[idx[i, j]]) / scale, pk = key_proj(R) (share_att_key) or
                           pos_key_proj(R) (L300-311, L319-328: bmm, gather, then divide);
               p2c[i, j] = (k_j . pq[idx[i, j]]) / scale, pq = query_proj(R) or pos_query_proj(R)
                           (L331-347: gathered at [j, i] with clamp(-rel[j, i] + span), then transposed);
               scores = content + ((0 + c2p) + p2c) (L317, L328, L347, L255);
               masked_fill(~mask, finfo(float32).min) (L260-261) with mask[b, i, j] = m[b, i] * m[b, j]
               (the outer product, L608-610); plain softmax (L263), no re-zeroing (no XSoftmax)
  layer        a = LayerNorm(Wo ctx + bo + x) (L50-54); out = LayerNorm(W2 act(W1 a + b1) + b2 + a) (L412-416)
  conv         if conv_kernel_size > 0, after layer 0 only (L669-670): c = Conv1d(hidden_states.0) (the
               embeddings output, zero-padded (k-1)//2 each side, L459-461, L467), c[padded] = 0 (L468-469),
               c = conv_act(c) (default "tanh", L458, L470), out = LayerNorm_conv(layer0_out + c) * m (L472-484)
  outputs      hidden_states: the embeddings output, then each layer's output (L651, L672-673): L+1
               entries; last_hidden_state = hidden_states.L (L811, z_steps is 0, L723); attentions [B,H,S,S]
"""

import json
import math
import os
import sys
from pathlib import Path

# One thread everywhere: fixed reduction orders, so a rerun rewrites identical bytes.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=".*torch.jit.script.*")  # L57, L105-128 script helpers

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from transformers.models.deberta_v2 import modeling_deberta_v2 as dv  # noqa: E402

from fixture_util import (assert_same_state, body_outputs, common_case, compare_mask_from_keep, fresh_dir,  # noqa: E402
                          gen, head_inputs, init_scaled_, lengths_mask, note, print_digest, print_report, randint,
                          real_ids, reference_setup, reload_model, replace_dirs, run_head, save_pretrained_dir,
                          scaled_diff, shapes_of, write_body, write_head)

REPO = Path(__file__).resolve().parents[2]
SUMMARY = []  # (model, case, inputs, outputs)
MODEL_TYPE = "deberta-v2"
PREFIX = "deberta-v2-"

# ----------------------------------------------------------------------------- eager only
# DeBERTa-v2 has one attention implementation, DisentangledSelfAttention (L141-349), called directly
# by DebertaV2Attention (L369); transformers refuses attn_implementation "sdpa" and
# "flash_attention_2" for it (probed in main()). Every call is counted: one per layer and forward.
ATTN_CALLS = [0]
_attn_forward = dv.DisentangledSelfAttention.forward


def _counting_forward(self, *args, **kwargs):
    ATTN_CALLS[0] += 1
    return _attn_forward(self, *args, **kwargs)


dv.DisentangledSelfAttention.forward = _counting_forward


def run(model, inp, **kw):
    """model(**inp, **kw) under no_grad, checking that every layer ran DisentangledSelfAttention."""
    cfg = model.config
    assert cfg._attn_implementation == "eager", cfg._attn_implementation
    ATTN_CALLS[0] = 0
    with torch.no_grad():
        out = model(**inp, return_dict=True, **kw)
    assert ATTN_CALLS[0] == cfg.num_hidden_layers, ATTN_CALLS[0]
    return out


# ----------------------------------------------------------------------------- models

# Special ids as the DeBERTa-v3 tokenizer has them: [PAD] 0, [CLS] 1, [SEP] 2 (DebertaV2Config only
# knows pad_token_id, L123; the embeddings' padding_idx, L497).
PAD, CLS, SEP = 0, 1, 2
SPECIAL = dict(pad_token_id=PAD, bos_token_id=CLS, eos_token_id=SEP)

# Body models: (name, config kwargs, extra cases, config.json rewrite). Head sizes 16, 12, 10, 12.
BODY_MODELS = [
    # DeBERTa-v3 (deberta-v3-base's config.json, scaled down): position_buckets 256 -> 16 (mid 8: distances
    # |r| <= 8 exact, 9..47 log-bucketed into 9..15 with max_position = max_position_embeddings 48).
    ("deberta-v2-v3style-h32",
     dict(vocab_size=100, hidden_size=32, num_attention_heads=2, num_hidden_layers=3, intermediate_size=40,
          hidden_act="gelu", max_position_embeddings=48, type_vocab_size=0, layer_norm_eps=1e-7,
          relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=16, max_relative_positions=-1,
          share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False),
     [], None),
    # deberta-v2-xlarge style: ConvLayer (kernel 3, conv_act gelu) after layer 0; position_buckets 8 (mid 4);
    # max_relative_positions 20 (xlarge has -1): distances >= 20 bucket to >= 8 and clamp to rows 15 / 0 of
    # rel_embeddings, so the clamp of L322/L340 is reached, and asymmetrically (+20.. -> row 15 = bucket +7,
    # -20.. -> row 0 = bucket -8). config.json gets pos_att_type "p2c|c2p" (the real checkpoints' string form,
    # split on "|" by configuration_deberta_v2.py:L149-150).
    ("deberta-v2-v2style-h36",
     dict(vocab_size=100, hidden_size=36, num_attention_heads=3, num_hidden_layers=2, intermediate_size=44,
          hidden_act="gelu", max_position_embeddings=40, type_vocab_size=0, layer_norm_eps=1e-7,
          relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=8, max_relative_positions=20,
          share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False,
          conv_kernel_size=3, conv_act="gelu"),
     [], {"pos_att_type": "p2c|c2p"}),
    # c2p only (sf 2), its own pos_key_proj (share_att_key False, L182-184), no bucketing: rel clamped to
    # rows clamp(i - j + 8, 0, 15) (span = max_relative_positions 8 < the sequences), raw rel_embeddings,
    # absolute positions added (position_biased_input), 2 token types.
    ("deberta-v2-c2p-only-h30",
     dict(vocab_size=100, hidden_size=30, num_attention_heads=3, num_hidden_layers=2, intermediate_size=36,
          hidden_act="gelu_new", max_position_embeddings=40, type_vocab_size=2, layer_norm_eps=1e-6,
          relative_attention=True, pos_att_type=["c2p"], position_buckets=-1, max_relative_positions=8,
          share_att_key=False, norm_rel_ebd="none", position_biased_input=True),
     ["position_ids"], None),
    # p2c only (sf 2), its own pos_query_proj (L185-186), position_buckets 12 (mid 6), max_relative_positions
    # -1 -> 36.
    ("deberta-v2-p2c-only-h24",
     dict(vocab_size=100, hidden_size=24, num_attention_heads=2, num_hidden_layers=2, intermediate_size=32,
          hidden_act="relu", max_position_embeddings=36, type_vocab_size=0, layer_norm_eps=1e-5,
          relative_attention=True, pos_att_type=["p2c"], position_buckets=12, max_relative_positions=-1,
          share_att_key=False, norm_rel_ebd="layer_norm", position_biased_input=False),
     [], None),
]
BODY_CASES = ["ragged", "fully_masked", "no_mask"]

# Task heads: one small v3-style body (position_buckets 8, max_position_embeddings 16: distances 5..11
# log-bucketed).
HEAD_BASE = dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=2, intermediate_size=32,
                 hidden_act="gelu", max_position_embeddings=16, type_vocab_size=0, layer_norm_eps=1e-7,
                 relative_attention=True, pos_att_type=["p2c", "c2p"], position_buckets=8, max_relative_positions=-1,
                 share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False)
HEAD_MODELS = [
    # ContextPooler (L1002-1017): pooler_hidden_act tanh (not hidden_act gelu: the fixture tells them apart);
    # pooler_dropout / cls_dropout are eval-time identities.
    ("deberta-v2-head-sequence-classification", "DebertaV2ForSequenceClassification",
     dict(num_labels=3, id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
          label2id={"contradiction": 0, "neutral": 1, "entailment": 2},
          pooler_hidden_size=24, pooler_hidden_act="tanh", pooler_dropout=0.1, cls_dropout=0.1)),
    ("deberta-v2-head-token-classification", "DebertaV2ForTokenClassification", dict(num_labels=5)),
    ("deberta-v2-head-question-answering", "DebertaV2ForQuestionAnswering", dict(num_labels=2)),
    # legacy True is the default (configuration_deberta_v2.py:L128): LegacyDebertaV2OnlyMLMHead (L922-923).
    ("deberta-v2-head-masked-lm", "DebertaV2ForMaskedLM", dict()),
]

QK_SUFFIXES = (".query_proj", ".key_proj", ".pos_key_proj", ".pos_query_proj")


def make_config(cfg_kwargs):
    config = transformers.DebertaV2Config(**SPECIAL, **cfg_kwargs)
    config._attn_implementation = "eager"
    return config


def init_deberta_(model, g):
    """Scale up every parameter (see header; fixture_util.init_scaled_). The legacy MaskedLM decoder
    weight, tied to the word embeddings, and its bias, tied to cls.predictions.bias (L853-856), are drawn
    once, by the first module that owns them (named_modules visits deberta.* before cls.*)."""
    init_scaled_(model, g, gain=lambda mname: 1.6 if mname.endswith(QK_SUFFIXES) else 1.0,
                 embedding_std=lambda mname: 1.0 if mname.endswith("rel_embeddings") else 0.5)


def save_and_reload(d, model, cls, rewrite=None):
    """save_pretrained(safe_serialization=True) into d/model, then reload as a user would: the
    fixture must be what the saved directory computes. `rewrite` replaces config.json keys first
    (written back as save_pretrained writes it: indent 2, sorted keys)."""
    save_pretrained_dir(d, model)
    if rewrite:
        path = d / "model" / "config.json"
        cfg = json.loads(path.read_text())
        assert list(cfg) == sorted(cfg)  # save_pretrained sorts the keys (configuration_utils.py to_json_string)
        cfg.update(rewrite)
        path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    loaded = reload_model(d, cls)
    assert loaded.config._attn_implementation == "eager"
    assert loaded.config.pos_att_type == model.config.pos_att_type, (loaded.config.pos_att_type,)
    atts = [m for m in loaded.modules() if isinstance(m, dv.DisentangledSelfAttention)]
    assert len(atts) == loaded.config.num_hidden_layers, d.name
    assert not any("Sdpa" in type(m).__name__ or "Flash" in type(m).__name__ for m in loaded.modules())
    assert_same_state(model, loaded, d.name)
    return loaded.eval()


def base_of(model):
    return model if isinstance(model, dv.DebertaV2Model) else model.deberta


def span_of(cfg):
    """att_span = pos_ebd_size (L174-178, L296)."""
    mrp = cfg.max_relative_positions if cfg.max_relative_positions >= 1 else cfg.max_position_embeddings
    return (cfg.position_buckets if cfg.position_buckets > 0 else mrp), mrp


# ----------------------------------------------------------------------------- bucketing (independent)


def bucket64(rel, nb, maxp):
    """make_log_bucket_position (L58-70) in float64 numpy: |r| <= mid -> r, else
    sign(r) * (ceil(log(|r|/mid) / log((maxp-1)/mid) * (mid-1)) + mid), mid = nb // 2."""
    rel = np.asarray(rel, dtype=np.int64)
    if nb <= 0 or maxp <= 0:
        return rel
    mid = nb // 2
    a = np.maximum(np.abs(rel), 1).astype(np.float64)  # r = 0 is |r| <= mid anyway
    with np.errstate(divide="ignore"):
        lp = np.ceil(np.log(a / mid) / np.log((maxp - 1) / mid) * (mid - 1)) + mid
    return np.where(np.abs(rel) <= mid, rel, np.sign(rel) * lp).astype(np.int64)


def bucket_margin(nb, maxp, rmax):
    """The smallest distance to an integer of log(r/mid)/log((maxp-1)/mid)*(mid-1) over mid < r <= rmax,
    r = maxp - 1 (exactly mid - 1) excluded: how close the ceil comes to flipping."""
    mid = nb // 2
    r = np.arange(mid + 1, rmax + 1, dtype=np.float64)
    v = np.log(r / mid) / np.log((maxp - 1) / mid) * (mid - 1)
    frac = np.abs(v - np.round(v))
    frac[r == maxp - 1] = np.inf
    i = int(np.argmin(frac))
    return float(frac[i]), int(r[i])


def bucket_check(nb, maxp, rmax):
    """The reference's float32 bucketing (the scripted make_log_bucket_position) against float64."""
    rel = torch.arange(-rmax, rmax + 1)
    got = dv.make_log_bucket_position(rel, nb, maxp)
    assert got.dtype == torch.float32, got.dtype  # log_pos is float32 (abs_pos / mid, L67)
    exp = bucket64(rel.numpy(), nb, maxp)
    bad = np.nonzero(got.long().numpy() != exp)[0]
    return (int(rel[bad[0]]) if len(bad) else None), got.long()


# ----------------------------------------------------------------------------- float64 re-implementation


def act_fn(name):
    return {"gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),
            "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
            "tanh": torch.tanh, "relu": torch.relu}[name]


def reimpl_body(cfg, W, inp, p=""):
    """The forward as the header states it, in float64 from the saved weights (W: name -> float64),
    independent of the transformers code: returns last_hidden_state, hidden_states.*, attentions.*."""
    ids = inp["input_ids"]
    B, S = ids.shape
    m = inp.get("attention_mask", torch.ones(B, S, dtype=torch.int64)).to(torch.float64)
    eps = cfg.layer_norm_eps

    def ln(x, n):
        return F.layer_norm(x, x.shape[-1:], W[n + ".weight"], W[n + ".bias"], eps)

    def lin(x, n, bias=True):
        y = x @ W[n + ".weight"].T
        return y + W[n + ".bias"] if bias else y

    x = W[p + "embeddings.word_embeddings.weight"][ids]
    if cfg.position_biased_input:
        pos = inp.get("position_ids", torch.arange(S)[None].expand(B, S))
        x = x + W[p + "embeddings.position_embeddings.weight"][pos]
    if cfg.type_vocab_size > 0:
        tt = inp.get("token_type_ids", torch.zeros(B, S, dtype=torch.int64))
        x = x + W[p + "embeddings.token_type_embeddings.weight"][tt]
    x = ln(x, p + "embeddings.LayerNorm") * m[:, :, None]
    out = {"hidden_states.0": x}
    emb = x

    span, mrp = span_of(cfg)
    ar = np.arange(S)
    rel = bucket64(ar[:, None] - ar[None, :], cfg.position_buckets, mrp)
    idx = torch.from_numpy(np.clip(rel + span, 0, 2 * span - 1))  # [S, S]
    R = W[p + "encoder.rel_embeddings.weight"][: 2 * span]
    if "layer_norm" in cfg.norm_rel_ebd:
        R = ln(R, p + "encoder.LayerNorm")
    types = cfg.pos_att_type
    H = cfg.num_attention_heads
    d = cfg.hidden_size // H
    scale = math.sqrt(d * (1 + len(types)))
    keep = (m[:, None, :, None] * m[:, None, None, :]) > 0  # [B,1,S,S]
    act = act_fn(cfg.hidden_act)

    def heads(y):  # [.., n, H*d] -> [.., H, n, d]
        return y.view(*y.shape[:-1], H, d).transpose(-2, -3)

    for layer in range(cfg.num_hidden_layers):
        a = f"{p}encoder.layer.{layer}.attention."
        q, k, v = (heads(lin(x, a + "self." + n)) for n in ("query_proj", "key_proj", "value_proj"))
        s = q @ k.transpose(-1, -2)
        if "c2p" in types:
            pk = heads(lin(R, a + "self." + ("key_proj" if cfg.share_att_key else "pos_key_proj")))  # [H, 2span, d]
            c2p = q @ pk.transpose(-1, -2)  # [B, H, S, 2span]
            s = s + torch.gather(c2p, -1, idx.expand(B, H, S, S))
        if "p2c" in types:
            pq = heads(lin(R, a + "self." + ("query_proj" if cfg.share_att_key else "pos_query_proj")))
            p2c = k @ pq.transpose(-1, -2)  # [B, H, S(j), 2span]
            # p2c[i, j] = k_j . pq[idx[i, j]]
            s = s + torch.gather(p2c, -1, idx.T.expand(B, H, S, S)).transpose(-1, -2)
        s = s / scale
        s = s.masked_fill(~keep, -math.inf)
        dead = ~keep.any(-1, keepdim=True)  # rows with no key: finfo.min everywhere -> uniform 1/S
        probs = torch.where(dead, torch.full_like(s, 1.0 / S), torch.softmax(s.masked_fill(dead, 0.0), -1))
        ctx = (probs @ v).transpose(1, 2).reshape(B, S, H * d)
        att = ln(lin(ctx, a + "output.dense") + x, a + "output.LayerNorm")
        o = f"{p}encoder.layer.{layer}."
        y = ln(lin(act(lin(att, o + "intermediate.dense")), o + "output.dense") + att, o + "output.LayerNorm")
        if layer == 0 and getattr(cfg, "conv_kernel_size", 0) > 0:
            kz = cfg.conv_kernel_size
            c = F.conv1d(emb.transpose(1, 2), W[p + "encoder.conv.conv.weight"], W[p + "encoder.conv.conv.bias"],
                         padding=(kz - 1) // 2, groups=getattr(cfg, "conv_groups", 1)).transpose(1, 2)
            c = act_fn(getattr(cfg, "conv_act", "tanh"))(c * m[:, :, None])
            y = ln(y + c, p + "encoder.conv.LayerNorm") * m[:, :, None]
        out[f"hidden_states.{layer + 1}"] = y
        out[f"attentions.{layer}"] = probs
        x = y
    out["last_hidden_state"] = x
    return out


def reimpl_head(cls_name, cfg, W, inp):
    h = reimpl_body(cfg, W, inp, "deberta.")["last_hidden_state"]

    def lin(x, n):
        return x @ W[n + ".weight"].T + W[n + ".bias"]

    if cls_name == "DebertaV2ForSequenceClassification":
        return {"logits": lin(act_fn(cfg.pooler_hidden_act)(lin(h[:, 0], "pooler.dense")), "classifier")}
    if cls_name == "DebertaV2ForTokenClassification":
        return {"logits": lin(h, "classifier")}
    if cls_name == "DebertaV2ForQuestionAnswering":
        lg = lin(h, "qa_outputs")
        return {"start_logits": lg[..., 0], "end_logits": lg[..., 1]}
    t = "cls.predictions.transform."
    y = F.layer_norm(act_fn(cfg.hidden_act)(lin(h, t + "dense")), (cfg.hidden_size,), W[t + "LayerNorm.weight"],
                     W[t + "LayerNorm.bias"], cfg.layer_norm_eps)
    return {"logits": y @ W["deberta.embeddings.word_embeddings.weight"].T + W["cls.predictions.bias"]}


def weights64(model):
    return {k: v.detach().to(torch.float64) for k, v in model.state_dict().items()}


def reimpl_diff(ref, got, cmp):
    """Worst |got - ref| / max(1, |ref|) over every output at compared positions (attentions: query rows)."""
    worst, where = 0.0, ""
    for k, r in ref.items():
        if k == "compare_mask":
            continue
        g = got[k]
        r = r.double()
        if k.startswith("attentions."):
            sel = cmp.bool()[:, None, :, None].expand_as(r)
        elif r.dim() >= 2 and r.shape[:2] == cmp.shape:
            sel = cmp.bool().view(*cmp.shape, *([1] * (r.dim() - 2))).expand_as(r)
        else:
            sel = torch.ones_like(r, dtype=torch.bool)
        e = float(((g[sel] - r[sel]).abs() / r[sel].abs().clamp(min=1.0)).max())
        if e > worst:
            worst, where = e, k
    return worst, where


# ----------------------------------------------------------------------------- cases


def body_cases(cfg, names, g):
    """Yield (case, inputs, compare_mask, note). Padded positions hold the pad id (as a tokenizer
    writes them), real tokens never do."""
    V, P, T = cfg.vocab_size, cfg.max_position_embeddings, cfg.type_vocab_size
    span, mrp = span_of(cfg)

    def with_types(inp, keep):
        """Random token types on real positions (keep [B,S]), 0 on padding, as a tokenizer writes them."""
        if T > 1:
            inp["token_type_ids"] = randint(0, T, keep.shape, g) * keep
        return inp

    types_note = "; random token_type_ids on real positions (0 on padding)" if T > 1 else ""
    rows = rel_rows(cfg, P)
    notes = {
        "ragged": f"lengths 1, 7, 33, {P} (max_position_embeddings {P}); right padding with the pad id {PAD}"
                  + types_note + f". Relative distances |i - j| <= {P - 1}: {rows}. Padded positions: "
                  "hidden_states.0 is exactly 0 there (embeddings * mask, L558-565); their query rows see no key "
                  "(mask = m_i * m_j, L608-610) and attend uniformly 1/S to all S keys; not compared",
        "fully_masked": "row 0: length 6 of 9; rows 1 and 2: attention_mask all zeros, row 1 with real ids, row 2 "
                        "all pad ids. Their embeddings output is exactly 0 (embeddings * mask); every score is "
                        "masked_fill'ed with finfo(float32).min (L261), so the attention is exactly uniform 1/S "
                        "over all S keys in every layer" + ("; the ConvLayer zeroes the rows again after layer 0 "
                                                            "(L484)" if getattr(cfg, "conv_kernel_size", 0) > 0
                                                            else "") + "; compared everywhere",
        "no_mask": "no attention_mask (default: torch.ones, float32, L771-772)"
                   + (", no token_type_ids (default zeros, L773-774)" if T > 0 else "")
                   + f"; position 4 holds the pad id {PAD}: without a mask it is an ordinary token",
    }
    for name in names:
        if name in notes:
            inp, keep = common_case(name, V, P, PAD, g)
            if "attention_mask" in inp:  # no_mask has no token types either
                inp = with_types(inp, keep)
            yield name, inp, compare_mask_from_keep(keep), notes[name]
        elif name == "position_ids":
            S = 12
            pos = torch.stack([torch.arange(S) + 5, torch.randperm(P, generator=g)[:S]])
            am = lengths_mask([S, 10], S)
            ids = torch.where(am == 1, real_ids((2, S), V, PAD, g), PAD)
            inp = with_types(dict(input_ids=ids, attention_mask=am, position_ids=pos), am)
            yield name, inp, compare_mask_from_keep(am), (
                f"explicit position_ids [B,S] index the absolute position_embeddings only (L541-542): row 0 = "
                f"5..{S + 4}, row 1 = random distinct positions < {P} (length 10 of 12). The relative positions "
                "stay i - j of the padded layout (build_relative_position from the sizes, L91-96, L649)")
        else:
            raise ValueError(name)


def rel_rows(cfg, S):
    """Which rel_embeddings rows a length-S sequence reads, as idx = clamp(bucket(i - j) + span, 0, 2 span - 1)."""
    span, mrp = span_of(cfg)
    d = np.arange(-(S - 1), S)
    b = bucket64(d, cfg.position_buckets, mrp)
    idx = np.clip(b + span, 0, 2 * span - 1)
    first = [int(x) for x, i in zip(d, idx) if i == 0]  # row 0: bucket -span (or less, clamped)
    last = [int(x) for x, i in zip(d, idx) if i == 2 * span - 1]  # row 2 span - 1: bucket span - 1 (or more)
    over = [int(x) for x, y in zip(d, b + span) if y < 0 or y > 2 * span - 1]
    how = (f"log buckets (position_buckets {cfg.position_buckets}, mid {cfg.position_buckets // 2}, max_position "
           f"{mrp})" if cfg.position_buckets > 0 else f"no buckets (position_buckets {cfg.position_buckets})")
    groups = []  # distance ranges with one bucket, r >= 0 (the buckets are odd: bucket(-r) = -bucket(r))
    for r, bb in zip(d, b):
        if r < 0:
            continue
        if groups and groups[-1][2] == bb:
            groups[-1][1] = r
        else:
            groups.append([r, r, int(bb)])
    pos = (", ".join(f"{a}->{c}" if a == e else f"{a}..{e}->{c}" for a, e, c in groups)
           if cfg.position_buckets > 0 else "bucket(r) = r")
    clamp = []
    if first:
        clamp.append(f"row 0 read by distances <= {max(first)}")
    if last:
        clamp.append(f"row {2 * span - 1} by distances >= {min(last)}")
    if over:
        clamp.append("the clamp changes the index of distances "
                     + ", ".join(f"{'<=' if x < 0 else '>='} {x}" for x in
                                 ([max(v for v in over if v < 0)] if any(v < 0 for v in over) else [])
                                 + ([min(v for v in over if v > 0)] if any(v > 0 for v in over) else [])))
    return (f"{how}, span {span}: rows idx = clamp(bucket(i - j) + {span}, 0, {2 * span - 1}), rows "
            f"{int(idx.min())}..{int(idx.max())} of {2 * span} read" + ("; " + ", ".join(clamp) if clamp else "")
            + f"; distance -> bucket for i - j >= 0 (odd: bucket(-r) = -bucket(r)): {pos}")


# ----------------------------------------------------------------------------- checks (reported)


def check_structure(name, cfg, case, inp, res):
    """hidden_states has L+1 entries, the last == last_hidden_state; padded rows of hidden_states.0 (and of
    hidden_states.1 with the ConvLayer) are exactly 0; the attention of real query rows is exactly 0 on masked
    keys; query rows with no key are exactly uniform 1/S."""
    L = cfg.num_hidden_layers
    assert len([k for k in res if k.startswith("hidden_states.")]) == L + 1, name
    assert torch.equal(res[f"hidden_states.{L}"], res["last_hidden_state"]), name
    B, S = inp["input_ids"].shape
    m = inp.get("attention_mask", torch.ones(B, S, dtype=torch.int64)).bool()
    assert not res["hidden_states.0"][~m].any(), name
    conv = getattr(cfg, "conv_kernel_size", 0) > 0
    if conv:
        assert not res["hidden_states.1"][~m].any(), name
    keep = m[:, None, :, None] & m[:, None, None, :]
    worst = 0.0
    for i in range(L):
        a = res[f"attentions.{i}"]
        live = keep.any(-1, keepdim=True).expand_as(a)
        assert not a[live & ~keep.expand_as(a)].any(), (name, i)
        dead = ~live
        if dead.any():
            worst = max(worst, float((a[dead] - 1.0 / S).abs().max()))
    if (~m).any():
        note(name, case, f"padded / fully masked query rows: max |attention - 1/S| = {worst:.1e}; hidden_states.0"
                         + (" and hidden_states.1 (ConvLayer, L484)" if conv else "")
                         + " exactly 0 at padded positions; real rows give exactly 0 to padded keys")


class patched:
    """Set attributes for the duration of a with-block: (object, name, value) triples. What the object
    held itself (a module-level function, an instance attribute, a submodule) is put back; a method
    found on the class is shadowed and the shadow deleted afterwards."""

    def __init__(self, *triples):
        self.triples = triples

    def __enter__(self):
        self.saved = []
        for o, n, _ in self.triples:
            own = (isinstance(o, type(dv)) or n in vars(o)
                   or (isinstance(o, nn.Module) and (n in o._modules or n in o._parameters or n in o._buffers)))
            self.saved.append((o, n, getattr(o, n) if own else _MISSING))
        for o, n, v in self.triples:
            setattr(o, n, v)

    def __exit__(self, *exc):
        for o, n, v in reversed(self.saved):
            if v is _MISSING:
                delattr(o, n)
            else:
                setattr(o, n, v)


_MISSING = object()


def without_term(model, term):
    """Patch every DisentangledSelfAttention to drop one of c2p / p2c from the bias (L319, L331) while the
    forward keeps its scale factor (L241-246 run before the bias): the term's own contribution."""
    triples = []
    for att in model.modules():
        if isinstance(att, dv.DisentangledSelfAttention):
            orig = att.disentangled_attention_bias

            def dab(q, k, rp, re, sf, att=att, orig=orig):
                saved = att.pos_att_type
                att.pos_att_type = [t for t in saved if t != term]
                try:
                    return orig(q, k, rp, re, sf)
                finally:
                    att.pos_att_type = saved
            triples.append((att, "disentangled_attention_bias", dab))
    return patched(*triples)


def sensitivity(name, model, cfg, case, inp, res):
    """How far the usual mistakes move the outputs (max scaled |diff| of last_hidden_state on compared
    positions, reported): the fixtures must tell them apart."""
    cmp = res["compare_mask"]
    ref = res["last_hidden_state"]
    rerun = lambda i=inp: run(model, i).last_hidden_state  # noqa: E731
    enc = model.encoder
    types = cfg.pos_att_type
    msgs = []
    if case == "ragged":
        for t in ("c2p", "p2c"):
            if t in types:
                with without_term(model, t):
                    msgs.append(f"{t} term dropped {scaled_diff(rerun(), ref, cmp):.2e}")
        sqrt_d = lambda q, sf: torch.sqrt(torch.tensor(q.size(-1), dtype=torch.float))  # noqa: E731
        with patched((dv, "scaled_size_sqrt", sqrt_d)):
            msgs.append(f"scale sqrt(d) instead of sqrt(d * {1 + len(types)}) {scaled_diff(rerun(), ref, cmp):.2e}")
        if "p2c" in types:
            # p2c_pos = clamp(-r_pos + span) (L340); r_pos -> -r_pos gives clamp(r + span): the p2c index of
            # [j, i] taken as the c2p one, i.e. bucket(j - i) where bucket(i - j) belongs
            with patched((dv, "build_rpos", lambda q, k, rp, a, b: -rp)):
                msgs.append(f"p2c index sign flipped (clamp(r + span) at [j, i]) {scaled_diff(rerun(), ref, cmp):.2e}")
        if cfg.position_buckets > 0:
            with patched((dv, "make_log_bucket_position", lambda rp, b, mp: rp)):
                msgs.append(f"no log buckets (plain clamp to +-{cfg.position_buckets}) "
                            f"{scaled_diff(rerun(), ref, cmp):.2e}")
        if "layer_norm" in enc.norm_rel_ebd:
            with patched((enc, "get_rel_embedding", lambda: enc.rel_embeddings.weight)):
                msgs.append(f"rel_embeddings without encoder.LayerNorm {scaled_diff(rerun(), ref, cmp):.2e}")
        else:
            ln = nn.LayerNorm(cfg.hidden_size, cfg.layer_norm_eps)
            with patched((enc, "get_rel_embedding", lambda: ln(enc.rel_embeddings.weight))):
                msgs.append(f"rel_embeddings LayerNorm'd (gamma 1, beta 0) although norm_rel_ebd none "
                            f"{scaled_diff(rerun(), ref, cmp):.2e}")
        if enc.conv is not None:
            with patched((enc, "conv", None)):
                msgs.append(f"ConvLayer skipped {scaled_diff(rerun(), ref, cmp):.2e}")
            conv = enc.conv
            emb = model.embeddings
            with patched((emb, "forward", lambda **kw: dv.DebertaV2Embeddings.forward(emb, **dict(kw, mask=None)))):
                msgs.append("embeddings not zeroed at padded positions (the conv reads them) "
                            f"{scaled_diff(rerun(), ref, cmp):.2e}")
            own = conv.conv_act
            for act in ("tanh", "gelu"):
                if act != own:
                    with patched((conv, "conv_act", act)):
                        msgs.append(f"conv_act {act} instead of {own} {scaled_diff(rerun(), ref, cmp):.2e}")
        key_only = lambda am: am.unsqueeze(1).unsqueeze(2) if am.dim() <= 2 else am.unsqueeze(1)  # noqa: E731
        with patched((enc, "get_attention_mask", key_only)):
            msgs.append(f"key-only mask [B,1,1,S] instead of m_i * m_j {scaled_diff(rerun(), ref, cmp):.2e} "
                        "(changes padded query rows only)")
        if cfg.position_biased_input:
            with patched((model.embeddings, "position_biased_input", False)):
                msgs.append(f"absolute positions dropped {scaled_diff(rerun(), ref, cmp):.2e}")
        if "token_type_ids" in inp:
            plain = {k: v for k, v in inp.items() if k != "token_type_ids"}
            msgs.append(f"token_type_ids dropped {scaled_diff(rerun(plain), ref, cmp):.2e}")
        # What Model::encode sees: every row alone, unpadded.
        am = inp["attention_mask"]
        worst = 0.0
        for b in range(am.shape[0]):
            n = int(am[b].sum())
            one = {k: v[b:b + 1, :n] for k, v in inp.items()}
            alone = rerun(one)
            worst = max(worst, scaled_diff(alone[0], ref[b, :n], torch.ones(n)))
        note(name, case, f"each row alone (unpadded, S = its length) vs the padded batch: max scaled |diff| "
                         f"{worst:.2e} (rounding only: padding changes nothing at real positions)")
    elif case == "position_ids":
        plain = {k: v for k, v in inp.items() if k != "position_ids"}
        msgs.append(f"position_ids dropped (default arange(S)) {scaled_diff(rerun(plain), ref, cmp):.2e}")
    if msgs:
        note(name, case, "max scaled |diff| of last_hidden_state: " + "; ".join(msgs))


# ----------------------------------------------------------------------------- makers


def config_note(cfg):
    span, mrp = span_of(cfg)
    return (f"pos_att_type {cfg.pos_att_type} (scale sqrt(d * {1 + len(cfg.pos_att_type)})), share_att_key "
            f"{cfg.share_att_key}, position_buckets {cfg.position_buckets}, max_relative_positions "
            f"{cfg.max_relative_positions} (-> {mrp}), rel_embeddings {2 * span} rows, norm_rel_ebd "
            f"{cfg.norm_rel_ebd!r}, position_biased_input {cfg.position_biased_input}, type_vocab_size "
            f"{cfg.type_vocab_size}, hidden_act {cfg.hidden_act}, eps {cfg.layer_norm_eps:g}"
            + (f", ConvLayer kernel {cfg.conv_kernel_size} conv_act {getattr(cfg, 'conv_act', 'tanh')}"
               if getattr(cfg, "conv_kernel_size", 0) > 0 else ""))


def make_body(root, name, cfg_kwargs, extra, rewrite, seed):
    d = fresh_dir(root, name)
    config = make_config(cfg_kwargs)
    torch.manual_seed(seed)
    built = dv.DebertaV2Model(config).eval()
    init_deberta_(built, gen(seed))
    model = save_and_reload(d, built, dv.DebertaV2Model, rewrite)
    if rewrite:
        note(name, "-", f"config.json rewritten with {rewrite}: reloads to pos_att_type {model.config.pos_att_type}, "
                        "the same weights, bit-identical outputs")
    note(name, "-", config_note(config) + "; weights " + ", ".join(sorted(
        k for k in model.state_dict() if not k.startswith("encoder.layer.") or k.startswith("encoder.layer.0."))))
    W = weights64(model)

    def check(case, inp, res):
        check_structure(name, config, case, inp, res)
        err, where = reimpl_diff(res, reimpl_body(config, W, inp), res["compare_mask"])
        assert err < 2e-5, (name, case, err, where)
        note(name, case, f"float64 re-implementation of the header's formulas: worst scaled |diff| {err:.1e} ({where})")
        sensitivity(name, model, config, case, inp, res)

    write_body(d, name, body_cases(config, BODY_CASES + extra, gen(seed + 1)), run, model, built, check, SUMMARY, {
        "model_type": MODEL_TYPE,
        "model_class": "DebertaV2Model",
        "model_kwargs": {},
        "reference": f"transformers {transformers.__version__} DebertaV2Model(), attn_implementation=eager",
    })
    # The patches of sensitivity() are all undone: the first case again, bit for bit.
    case, inp, _, _ = next(body_cases(config, BODY_CASES[:1], gen(seed + 1)))
    again = body_outputs(run(model, inp, output_hidden_states=True, output_attentions=True))
    from safetensors.torch import load_file
    saved = load_file(str(d / f"{case}.out.safetensors"))
    assert all(torch.equal(again[k], saved[k]) for k in again), name


def make_head(root, name, cls_name, extra, seed):
    d = fresh_dir(root, name)
    cls = getattr(dv, cls_name)
    config = make_config(dict(HEAD_BASE, **extra))
    torch.manual_seed(seed)
    built = cls(config).eval()
    built.tie_weights()
    if cls_name == "DebertaV2ForMaskedLM":
        assert config.legacy is True and isinstance(built.cls, dv.LegacyDebertaV2OnlyMLMHead)
        assert built.cls.predictions.decoder.weight is built.deberta.embeddings.word_embeddings.weight
        assert built.cls.predictions.decoder.bias is built.cls.predictions.bias
    init_deberta_(built, gen(seed))
    model = save_and_reload(d, built, cls)
    inp = head_inputs(config.vocab_size, PAD, CLS, SEP, gen(seed + 1))
    res, outputs = run_head(name, run, model, built, inp)
    err, where = reimpl_diff(res, reimpl_head(cls_name, config, weights64(model), inp), res["compare_mask"])
    assert err < 2e-5, (name, err, where)
    from safetensors import safe_open
    with safe_open(str(d / "model" / "model.safetensors"), "pt") as f:
        head_keys = sorted(k for k in f.keys() if not k.startswith("deberta."))
    note(name, "ragged", f"float64 re-implementation: worst scaled |diff| {err:.1e} ({where}); head weights in "
                         f"model.safetensors: {', '.join(head_keys)}")
    if cls_name == "DebertaV2ForSequenceClassification":
        h = run(model.deberta, inp).last_hidden_state
        with torch.no_grad():
            for act in ("gelu",):
                alt = model.classifier(ACT(act)(model.pooler.dense(h[:, 0])))
                note(name, "ragged", f"pooler act {act} (hidden_act) instead of pooler_hidden_act "
                                     f"{config.pooler_hidden_act}: max |diff| of logits "
                                     f"{float((alt - res['logits']).abs().max()):.2e}")
    how = {"DebertaV2ForSequenceClassification":
           f"classifier({config.pooler_hidden_act}(pooler.dense(last_hidden_state[:, 0]))) (ContextPooler "
           "L1009-1017, L1088-1091; pooler_hidden_size must equal hidden_size: the classifier takes "
           "output_dim = hidden_size, L1019-1021, L1039-1041)",
           "DebertaV2ForTokenClassification": "classifier(last_hidden_state) (L1181-1184)",
           "DebertaV2ForQuestionAnswering": "qa_outputs(last_hidden_state) split into start, end (L1242-1245)",
           "DebertaV2ForMaskedLM": "legacy head (config.legacy True, the default): "
           "LayerNorm(act(transform.dense(h))) @ word_embeddings^T + cls.predictions.bias (L836-864; decoder tied "
           "to the word embeddings, not saved)"}[cls_name]
    text = (f"lengths 12, 7, 3; right padding with the pad id {PAD}; [CLS] {CLS} first, [SEP] {SEP} last; "
            f"{shapes_of(res, outputs)}. logits = {how}")
    write_head(d, name, inp, res, outputs, text, SUMMARY, {
        "model_type": MODEL_TYPE,
        "model_class": cls_name,
        "head": cls_name,
        "reference": f"transformers {transformers.__version__} {cls_name}, attn_implementation=eager",
    })


def ACT(name):
    from transformers.activations import ACT2FN
    return ACT2FN[name]


# ----------------------------------------------------------------------------- probes


def probes():
    """What the reference does with what the fixtures leave out (reported, not written)."""
    cfg = make_config(HEAD_BASE)
    # attention implementations other than eager
    for impl in ("sdpa", "flash_attention_2"):
        try:
            dv.DebertaV2Model._from_config(make_config(HEAD_BASE), attn_implementation=impl)
            note("deberta-v2", "attn", f"{impl}: accepted")
        except Exception as e:  # noqa: BLE001 - we report whatever the reference raises
            note("deberta-v2", "attn", f"attn_implementation={impl!r} refused: {type(e).__name__}: {str(e)[:90]}...")
    torch.manual_seed(0)
    model = dv.DebertaV2Model(cfg).eval()
    for S in (10, cfg.hidden_size):
        am = torch.ones(1, S, S, dtype=torch.int64)
        try:
            run(model, dict(input_ids=torch.arange(5, 5 + S)[None], attention_mask=am))
            note("deberta-v2", "mask3d", f"3-D attention_mask with S = {S} = hidden_size: runs (embeddings * [B,S,S] "
                                         "mask broadcast against [B,S,hidden], L565: meaningless)")
        except Exception as e:  # noqa: BLE001
            note("deberta-v2", "mask3d", f"3-D attention_mask, S = {S}: {type(e).__name__}: {str(e)[:100]}")
    # legacy=False MaskedLM
    try:
        mlm = dv.DebertaV2ForMaskedLM(make_config(dict(HEAD_BASE, legacy=False))).eval()
        tied = mlm.lm_predictions.lm_head.dense.weight is mlm.deberta.embeddings.word_embeddings.weight
        with torch.no_grad():
            mlm(input_ids=torch.arange(5, 15)[None])
        note("deberta-v2", "legacy=False", f"runs (dense tied to the word embeddings: {tied})")
    except Exception as e:  # noqa: BLE001
        note("deberta-v2", "legacy=False", "DebertaV2ForMaskedLM(legacy=False) with tie_word_embeddings True: "
                                           "get_output_embeddings returns lm_head.dense (L930-934), so tie_weights "
                                           "makes dense.weight the [V, hidden] word embeddings and the forward "
                                           f"fails: {type(e).__name__}: {str(e)[:80]}")
    mlm = dv.DebertaV2ForMaskedLM(make_config(dict(HEAD_BASE, legacy=False, tie_word_embeddings=False))).eval()
    keys = sorted(k for k in mlm.state_dict() if not k.startswith("deberta."))
    with torch.no_grad():
        out = mlm(input_ids=torch.arange(5, 15)[None]).logits
    note("deberta-v2", "legacy=False", f"with tie_word_embeddings False it runs: head weights {', '.join(keys)}; "
                                       f"logits {list(out.shape)} = LayerNorm(act(dense(h))) @ word_embeddings^T + "
                                       "lm_predictions.lm_head.bias (L894-898)")


def bucketing_report():
    """The reference's float32 log bucketing against exact float64, for the fixtures and real configs."""
    for nb, maxp, rmax, what in [(16, 48, 4096, "v3style-h32"), (8, 20, 4096, "v2style-h36"),
                                 (12, 36, 4096, "p2c-only-h24"), (8, 16, 4096, "heads"),
                                 (256, 512, 70000, "deberta-v3-base/large, deberta-v2-xlarge (256, 512)")]:
        first, got = bucket_check(nb, maxp, rmax)
        margin, at = bucket_margin(nb, maxp, min(rmax, 4096))
        mid = nb // 2
        v = float(np.log((maxp - 1) / mid) / np.log((maxp - 1) / mid) * (mid - 1))
        note("bucketing", what, f"position_buckets {nb}, max_position {maxp}: float32 reference == float64 formula "
                                + (f"for |r| <= {rmax}" if first is None else f"up to |r| = {abs(first) - 1} "
                                   f"(first difference at r = {first})")
                                + f"; closest approach of the ceil argument to an integer for mid < |r| <= "
                                f"{min(rmax, 4096)}: {margin:.2e} (r = {at}), r = max_position - 1 = {maxp - 1} gives "
                                f"exactly {v:g} = mid - 1 (both logs must be computed the same way)"
                                + f"; bucket(max_position - 1) = {int(got[rmax + maxp - 1])}, "
                                f"bucket(max_position) = {int(got[rmax + maxp])}")


# ----------------------------------------------------------------------------- main


def main():
    root = reference_setup(__doc__, REPO / "tests" / "fixtures" / "family", "make_deberta_fixtures")
    replace_dirs(root, PREFIX)  # only ours: the rest of family/ is the other generators'

    for i, (name, cfg, extra, rewrite) in enumerate(BODY_MODELS):
        make_body(root, name, cfg, extra, rewrite, seed=10000 + 10 * i)
    for i, (name, cls_name, extra) in enumerate(HEAD_MODELS):
        make_head(root, name, cls_name, extra, seed=11000 + 10 * i)
    probes()
    bucketing_report()

    print_report(SUMMARY, 42, 14)
    print_digest(root, PREFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
