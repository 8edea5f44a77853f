#!/usr/bin/env python3
"""Parity fixtures for ModernBERT under tests/fixtures/family/modernbert-*/.

ModernBertModel and its task heads as transformers 4.57.6 runs them (attn_implementation="eager",
reference_compile=False) on small random models, in the layout of make_family_fixtures.py
(tests/fixtures/README.md, section family/): model/ (config.json + model.safetensors from
save_pretrained(safe_serialization=True)), cases.json, <case>.in.safetensors (forward inputs named
like the forward arguments), <case>.out.safetensors (the outputs, named like the ModelOutput fields,
+ compare_mask). No tokenizer: the cases feed token ids.

  modernbert-<act>-h<hidden>-<what>/    ModernBertModel: last_hidden_state, hidden_states.0..L,
                                        attentions.0..L-1; cases ragged, fully_masked, no_mask,
                                        left_padding, position_ids
  modernbert-head-<task>[-cls]/         ModernBertFor{MaskedLM,SequenceClassification,
                                        TokenClassification,QuestionAnswering}: their logits; ragged
  modernbert-long-w128/                 ModernBertModel, S = 2048, window 128: last_hidden_state
                                        only; also run in float64 (the reference's own float32 error)

Weights are scaled as in make_family_fixtures.py, for the same reason: the library's std-0.02
(truncated) init gives near-uniform attention and near-identity LayerNorms, so a wrong mask,
window, rotary base or weight name would hardly move the outputs. Linear weights
N(0, (gain/sqrt(fan_in))^2), gain 1.6 for the query and key rows of Wqkv (rows 0 .. 2*hidden-1;
the value rows gain 1), token embeddings N(0, 0.5^2) (the padding row too: a checkpoint's padding
row is whatever it holds, and a fully padded row reads it), biases N(0, 0.1^2) where the config
has them, LayerNorm gamma 1 + 0.2 N(0,1), beta 0.2 N(0,1) where norm_bias. The MaskedLM decoder
weight is the token embedding matrix (tied, modeling_modernbert.py:L964; not in the saved file).

Everything is float32, CPU, one thread, fixed seeds: rerunning rewrites identical bytes. Only the
modernbert-* directories of --out are replaced (make_family_fixtures.py replaces the whole of
tests/fixtures/family: run this one after it).
Usage: make_modernbert_fixtures.py [--out tests/fixtures/family]
Line numbers below are those of the installed transformers 4.57.6
(models/modernbert/modeling_modernbert.py unless named otherwise).

What the reference computes (eager, no flash-attn unpadding):
  embeddings     norm(tok_embeddings[ids]) (L217-221): no position table, no token types
  layer i        h = h + Wo(attn(attn_norm(h))); h = h + Wo(act(a) * g) with a, g = Wi(mlp_norm(h)).chunk(2)
                 (L542-557, L241-242); attn_norm is Identity in layer 0 (L520-523: no weights)
  attention      Wqkv -> [B,S,3,heads,hd] (L498), rotary on q and k (L328-331, rotate_half L281-285),
                 scores * hd^-0.5 + mask (L333-339), softmax in float32 (L342)
  global/local   layer i is global iff i % global_attn_every_n_layers == 0 (L464): global rope theta,
                 the 2-D padding mask; otherwise local_rope_theta (global_rope_theta when None, L466)
                 and the sliding window mask (L336-337)
  masks          global: (1 - mask) -> finfo.min (modeling_attn_mask_utils.py:L187-198, L929);
                 sliding: the same with finfo.min also where |i - j| > local_attention // 2, i, j
                 indices of the padded layout (L932-941), whatever the position_ids
  rotary         inv_freq = 1 / theta^(arange(0, hd, 2) / hd) in float32 (modeling_rope_utils.py:L123-131),
                 angles inv_freq * float(position) in float32 (L268-273), cos/sin cast to the model dtype
                 (L278); position_ids default arange(S) (L856-857)
  outputs        hidden_states: the embeddings output, then each layer's output, the last one before
                 final_norm (L865-883): L+1 entries; last_hidden_state = final_norm(hidden_states.L) (L885)
"""

import copy
import os
import sys
from pathlib import Path

# One thread everywhere: fixed reduction orders, so a rerun rewrites identical bytes.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import torch
import torch.nn as nn
import transformers
from transformers.models.modernbert import modeling_modernbert as mb

from fixture_util import (assert_same_state, common_case, compare_mask_from_keep, describe, fresh_dir, gen,
                          head_inputs, init_scaled_, lengths_mask, note, print_digest, print_report, real_ids,
                          reference_setup, reload_model, replace_dirs, run_head, same_outputs, save_pretrained_dir,
                          save_tensors, scaled_diff, shapes_of, write_body, write_head, write_json)

REPO = Path(__file__).resolve().parents[2]
SUMMARY = []  # (model, case, inputs, outputs)
MODEL_TYPE = "modernbert"
PREFIX = "modernbert-"

# ----------------------------------------------------------------------------- eager, uncompiled
# The fixtures must come from eager_attention_forward (L315-349): the sdpa and flash paths are
# replaced by a refusal in the dispatch table (L430-434), and every eager call is counted (one per
# layer and forward). reference_compile=False keeps the torch.compile'd embeddings, MLP and MLM head
# (L207-209, L528-530, L985-987) out; they refuse too.
EAGER_CALLS = [0]
_eager = mb.eager_attention_forward


def _counting_eager(module, qkv, *args, **kwargs):
    EAGER_CALLS[0] += 1
    if qkv.dtype == torch.float64:
        return _eager_float64(module, qkv, *args, **kwargs)
    return _eager(module, qkv, *args, **kwargs)


def _eager_float64(module, qkv, attention_mask, sliding_window_mask, position_ids, local_attention, bs, dim,
                   output_attentions=False, **_kwargs):
    """eager_attention_forward (L327-349) with the softmax in the input's dtype: L342 softmaxes in
    float32 whatever the model's dtype, and a float64 model's finfo(float64).min mask becomes -inf
    there, so a query row with no key left (a padded query whose window holds only padding) is NaN,
    and 0 * NaN carries it into every row through the values. Used only for the float64 run of the
    long fixture (model.double())."""
    cos, sin = module.rotary_emb(qkv, position_ids=position_ids)
    query, key, value = qkv.transpose(3, 1).unbind(dim=2)
    query, key = mb.apply_rotary_pos_emb(query, key, cos, sin)
    attn_weights = torch.matmul(query, key.transpose(2, 3)) * module.head_dim ** -0.5
    if local_attention != (-1, -1):
        attention_mask = sliding_window_mask
    attn_weights = nn.functional.softmax(attn_weights + attention_mask, dim=-1, dtype=query.dtype)
    attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous().view(bs, -1, dim)
    return (attn_output, attn_weights) if output_attentions else (attn_output,)


def _refuse(*args, **kwargs):
    raise AssertionError("a non-eager or compiled ModernBERT path ran")


mb.MODERNBERT_ATTENTION_FUNCTION.update(eager=_counting_eager, sdpa=_refuse, flash_attention_2=_refuse)
mb.ModernBertEmbeddings.compiled_embeddings = _refuse
mb.ModernBertEncoderLayer.compiled_mlp = _refuse
mb.ModernBertForMaskedLM.compiled_head = _refuse


def run(model, inp, **kw):
    """model(**inp, **kw) under no_grad, checking that it ran eager and uncompiled."""
    cfg = model.config
    assert cfg._attn_implementation == "eager" and cfg.reference_compile is False
    EAGER_CALLS[0] = 0
    with torch.no_grad():
        out = model(**inp, return_dict=True, **kw)
    assert EAGER_CALLS[0] == cfg.num_hidden_layers, EAGER_CALLS[0]
    assert cfg.reference_compile is False  # _maybe_set_compile (L647-676) left it off
    return out


# ----------------------------------------------------------------------------- models

# Special ids: pad 0 (tok_embeddings' padding_idx, L203), [CLS] = bos 1, [SEP] = eos 2 (ModernBERT's
# own layout has cls == bos and sep == eos, configuration_modernbert.py:L148-152).
SPECIAL = dict(pad_token_id=0, bos_token_id=1, cls_token_id=1, eos_token_id=2, sep_token_id=2)

# Body models: (name, config kwargs). Head sizes 8, 10, 18.
BODY_MODELS = [
    # Layers 0 and 3 global, 1 and 2 local with window +-4: smaller than the longer sequences.
    ("modernbert-gelu-h32-w8",
     dict(vocab_size=100, hidden_size=32, num_attention_heads=4, num_hidden_layers=4, intermediate_size=24,
          hidden_activation="gelu", global_attn_every_n_layers=3, local_attention=8,
          global_rope_theta=160000.0, local_rope_theta=10000.0, norm_bias=False, attention_bias=False,
          mlp_bias=False, norm_eps=1e-5, max_position_embeddings=40)),
    # Layers 0 and 2 global, 1 local with window +-40: larger than every sequence (S <= 40, distances
    # <= 39: the window masks nothing; 64 would be +-32 and mask distances 33-39 of the 40-long row);
    # local_rope_theta None: the local layer uses global_rope_theta (L466). Every bias.
    ("modernbert-gelunew-h30-bias",
     dict(vocab_size=100, hidden_size=30, num_attention_heads=3, num_hidden_layers=3, intermediate_size=20,
          hidden_activation="gelu_new", global_attn_every_n_layers=2, local_attention=80,
          global_rope_theta=10000.0, local_rope_theta=None, norm_bias=True, attention_bias=True,
          mlp_bias=True, norm_eps=1e-6, max_position_embeddings=40)),
    # Only layer 0 global (3 layers, every 4th), layers 1-2 local with window +-1; attention biases only.
    ("modernbert-silu-h36-w2",
     dict(vocab_size=100, hidden_size=36, num_attention_heads=2, num_hidden_layers=3, intermediate_size=28,
          hidden_activation="silu", global_attn_every_n_layers=4, local_attention=2,
          global_rope_theta=160000.0, local_rope_theta=500.0, norm_bias=False, attention_bias=True,
          mlp_bias=False, norm_eps=1e-12, max_position_embeddings=40)),
]
BODY_CASES = ["ragged", "fully_masked", "no_mask", "left_padding", "position_ids"]

# Task heads: one small body (3 layers, layer 0 global, 1-2 local with window +-4 < 12), per head
# the options of its ModernBertPredictionHead (dense with classifier_bias, classifier_activation,
# norm with norm_bias: L946-955) and pooling.
HEAD_BASE = dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=3, intermediate_size=20,
                 hidden_activation="gelu", global_attn_every_n_layers=3, local_attention=8,
                 global_rope_theta=160000.0, local_rope_theta=10000.0, norm_eps=1e-5, max_position_embeddings=16)
HEAD_MODELS = [
    ("modernbert-head-masked-lm", "ModernBertForMaskedLM",
     dict(decoder_bias=True, classifier_activation="gelu")),
    ("modernbert-head-sequence-classification", "ModernBertForSequenceClassification",
     dict(classifier_pooling="mean", num_labels=3, classifier_bias=True, norm_bias=True)),
    ("modernbert-head-sequence-classification-cls", "ModernBertForSequenceClassification",
     dict(classifier_pooling="cls", num_labels=2, classifier_bias=False, classifier_activation="silu")),
    ("modernbert-head-token-classification", "ModernBertForTokenClassification",
     dict(num_labels=5)),
    ("modernbert-head-question-answering", "ModernBertForQuestionAnswering",
     dict(num_labels=2)),
]

# The long fixture: S = 2048 against a window of +-64 (layer 0 global, 1-2 local).
LONG_NAME = "modernbert-long-w128"
LONG_CONFIG = dict(vocab_size=100, hidden_size=32, num_attention_heads=2, num_hidden_layers=3, intermediate_size=24,
                   hidden_activation="gelu", global_attn_every_n_layers=3, local_attention=128,
                   global_rope_theta=160000.0, local_rope_theta=10000.0, norm_bias=False, attention_bias=False,
                   mlp_bias=False, norm_eps=1e-5, max_position_embeddings=2048)
LONG_LENGTHS = [2048, 1000, 1]


def make_config(cfg_kwargs, special=SPECIAL):
    config = transformers.ModernBertConfig(**special, **cfg_kwargs)
    config._attn_implementation = "eager"
    config.reference_compile = False
    return config


def init_modernbert_(model, g):
    """Scale up every parameter (see header; fixture_util.init_scaled_). The MaskedLM decoder, tied to
    tok_embeddings, is drawn once, by tok_embeddings (named_modules visits model.* before decoder)."""
    hidden = model.config.hidden_size

    def qk_rows(mname, w):
        if mname.endswith(".Wqkv"):  # [q; k; v] rows (L462, L498): gain 1.6 on q and k
            w[: 2 * hidden] *= 1.6

    rest = init_scaled_(model, g, adjust=qk_rows)
    assert not rest, rest  # ModernBERT has only Linear, LayerNorm and Embedding parameters


def build_model(cls, config, seed):
    """cls(config) under torch.manual_seed(seed), its weights scaled up from gen(seed)."""
    torch.manual_seed(seed)
    model = cls(config).eval()
    init_modernbert_(model, gen(seed))
    return model


def save_and_reload(d, model, cls):
    """save_pretrained(safe_serialization=True) into d/model, then reload as a user would: the
    fixture must be what the saved directory computes. config.json does not record
    reference_compile (ModernBertConfig.to_dict pops it, configuration_modernbert.py:L218-221): the
    reloaded config has None, set to False here (on CPU _maybe_set_compile would do it, L667-673)."""
    save_pretrained_dir(d, model)
    loaded = reload_model(d, cls)
    assert loaded.config.reference_compile is None, loaded.config.reference_compile
    loaded.config.reference_compile = False
    assert loaded.config._attn_implementation == "eager"
    atts = [m for m in loaded.modules() if isinstance(m, mb.ModernBertAttention)]
    assert len(atts) == loaded.config.num_hidden_layers and all(
        m.config._attn_implementation == "eager" for m in atts), d.name
    assert_same_state(model, loaded, d.name)
    return loaded.eval()


def local_layers(model):
    return [i for i, layer in enumerate(model.layers) if layer.attn.local_attention != (-1, -1)]


def base_of(model):
    return model if isinstance(model, mb.ModernBertModel) else model.model


def layer_note(config, model):
    loc = local_layers(base_of(model))
    glob = [i for i in range(config.num_hidden_layers) if i not in loc]
    theta_l = config.local_rope_theta if config.local_rope_theta is not None else config.global_rope_theta
    return (f"global layers {glob} (theta {config.global_rope_theta:g}), local layers {loc} "
            f"(theta {theta_l:g}{' = global: local_rope_theta None' if config.local_rope_theta is None else ''}, "
            f"keys with |i - j| <= {config.local_attention // 2})")


# ----------------------------------------------------------------------------- cases


def body_cases(cfg, names, g):
    """Yield (case, inputs, compare_mask, note). Padded positions hold the pad id (as a tokenizer
    writes them), real tokens never do."""
    V, P, pad = cfg.vocab_size, cfg.max_position_embeddings, cfg.pad_token_id
    w = cfg.local_attention // 2
    notes = {
        "ragged": f"lengths 1, 7, 33, {P} (max_position_embeddings {P}); right padding with the pad id {pad}; "
                  f"rotary positions 0..S-1 (L856-857); sliding window |i - j| <= {w} in the local layers",
        "fully_masked": "row 0: length 6 of 9; rows 1 and 2: attention_mask all zeros, row 1 with real ids, row 2 "
                        "all pad ids. Every key of rows 1-2 gets finfo(float32).min, in the global layers from the "
                        "padding mask, in the local layers from the padding mask and the window (masked_fill with "
                        "the same value, L941), and score + min rounds to min: their attention is exactly uniform "
                        "1/S over all S keys in every layer, keys outside the window included; compared everywhere",
        "no_mask": f"no attention_mask (default: all ones, L839-840); position 4 holds the pad id {pad}",
    }

    for name in names:
        if name in notes:
            inp, keep = common_case(name, V, P, pad, g)
            yield name, inp, compare_mask_from_keep(keep), notes[name]
        elif name == "left_padding":
            S = 12
            lens = [12, 8, 3, 1]
            am = torch.flip(lengths_mask(lens, S), dims=[1])
            ids = torch.where(am == 1, real_ids((4, S), V, pad, g), pad)
            yield name, dict(input_ids=ids, attention_mask=am), compare_mask_from_keep(am), (
                f"lengths 12, 8, 3, 1, left padding with the pad id {pad}; no position_ids: the rotary positions "
                "are those of the padded layout, arange(S) (L856-857), so a row's first real token has position "
                "S - length; the window counts padded indices (the same distances as the real ones here)")
        elif name == "position_ids":
            S = 12
            pos = torch.stack([torch.arange(S) + 5,
                               torch.randperm(P, generator=g)[:S],
                               2 * torch.arange(S) + 1])
            am = lengths_mask([S, 10, 7], S)
            ids = torch.where(am == 1, real_ids((3, S), V, pad, g), pad)
            yield name, dict(input_ids=ids, attention_mask=am, position_ids=pos), compare_mask_from_keep(am), (
                f"explicit position_ids [B,S] (the rotary angles use them, L328, L268-273): row 0 = 5..{S + 4}, "
                f"row 1 = random distinct positions < {P} (length 10 of 12), row 2 = 1, 3, .., {2 * S - 1} "
                f"(length 7 of 12). The sliding window still counts padded indices, |i - j| <= {w}, whatever "
                "the positions (L932-941)")
        else:
            raise ValueError(name)


# ----------------------------------------------------------------------------- checks (reported)


def check_structure(name, model, cfg, inp, res):
    """hidden_states has L+1 entries, the last before final_norm; the local layers' attention is 0
    outside the window and on masked keys for every query row with an unmasked key in its window."""
    L = cfg.num_hidden_layers
    hs = [k for k in res if k.startswith("hidden_states.")]
    assert len(hs) == L + 1, (name, hs)
    with torch.no_grad():
        normed = model.final_norm(res[f"hidden_states.{L}"])
    assert torch.equal(normed, res["last_hidden_state"]), name
    B, S = inp["input_ids"].shape
    am = inp.get("attention_mask", torch.ones(B, S, dtype=torch.int64)).to(torch.bool)
    ar = torch.arange(S)
    window = (ar[:, None] - ar[None, :]).abs() <= cfg.local_attention // 2
    for i in range(L):
        a = res[f"attentions.{i}"]
        allowed = am[:, None, None, :] & (window[None, None] if i in local_layers(model) else True)
        live = allowed.any(dim=-1, keepdim=True).expand_as(a)  # query rows that see some key
        assert not a[live & ~allowed.expand_as(a)].any(), (name, i)


def check_fully_masked(name, cfg, model, inp, out):
    """How exactly uniform the attention of the rows with no unmasked key is, global and local layers."""
    am = inp["attention_mask"]
    rows = (am.sum(dim=1) == 0).nonzero().flatten().tolist()
    S = am.shape[1]
    loc = local_layers(model)
    worst = {"global": 0.0, "local": 0.0}
    for i in range(cfg.num_hidden_layers):
        a = out[f"attentions.{i}"]
        for r in rows:
            kind = "local" if i in loc else "global"
            worst[kind] = max(worst[kind], float((a[r] - 1.0 / S).abs().max()))
    note(name, "fully_masked", f"rows {rows}: max |attention - 1/S| = {worst['global']:.1e} in the global layers, "
                               f"{worst['local']:.1e} in the local layers {loc} (window |i - j| <= "
                               f"{cfg.local_attention // 2}, S = {S}: uniform over all S keys, not over the window)")


class swapped_window:
    """Run with another local_attention in the sliding window mask only (_update_attention_mask reads
    config.local_attention at every forward, L937-938; the layers' kinds and rotary stay)."""

    def __init__(self, model, value):
        self.cfg, self.value = model.config, value

    def __enter__(self):
        self.old = self.cfg.local_attention
        self.cfg.local_attention = self.value

    def __exit__(self, *exc):
        self.cfg.local_attention = self.old


def sensitivity(name, model, cfg, case, inp, res):
    """How far the usual mistakes move the outputs (scaled difference on compared positions, reported):
    the fixtures must tell them apart."""
    cmp = res["compare_mask"]
    ref = res["last_hidden_state"]
    rerun = lambda m, i: run(m, i).last_hidden_state  # noqa: E731
    if case == "ragged":
        msgs = []
        with swapped_window(model, 10 ** 6):
            msgs.append(f"no sliding window {scaled_diff(rerun(model, inp), ref, cmp):.2e}")
        with swapped_window(model, cfg.local_attention + 2):
            msgs.append(f"window +-{cfg.local_attention // 2 + 1} {scaled_diff(rerun(model, inp), ref, cmp):.2e}")
        loc = local_layers(model)
        if loc:
            glob_rot = model.layers[0].attn.rotary_emb
            saved = [model.layers[i].attn.rotary_emb for i in loc]
            for i in loc:
                model.layers[i].attn.rotary_emb = glob_rot
            try:
                msgs.append(f"global rope theta in the local layers {scaled_diff(rerun(model, inp), ref, cmp):.2e}")
            finally:
                for i, r in zip(loc, saved):
                    model.layers[i].attn.rotary_emb = r
        lhs = res[f"hidden_states.{cfg.num_hidden_layers}"]
        msgs.append("hidden_states.L instead of last_hidden_state (final_norm skipped) "
                    f"{scaled_diff(lhs, ref, cmp):.2e}")
        note(name, case, "max scaled |diff| of last_hidden_state: " + "; ".join(msgs))
    elif case == "left_padding":
        # The same rows right-padded (positions 0..n-1 from the first real token): RoPE scores depend
        # on position differences only, so this differs from the reference by rounding alone.
        am = inp["attention_mask"]
        B, S = am.shape
        ids_r, am_r = torch.full_like(inp["input_ids"], cfg.pad_token_id), torch.zeros_like(am)
        for b in range(B):
            n = int(am[b].sum())
            ids_r[b, :n], am_r[b, :n] = inp["input_ids"][b, S - n:], 1
        right = rerun(model, dict(input_ids=ids_r, attention_mask=am_r))
        back = torch.zeros_like(right)
        for b in range(B):
            n = int(am[b].sum())
            back[b, S - n:] = right[b, :n]
        shifted = am.cumsum(1) - 1
        d_shift = scaled_diff(rerun(model, dict(inp, position_ids=shifted.clamp(min=0))), ref, cmp)
        note(name, case, f"the same rows right-padded (positions from 0 at the first real token): max scaled "
                         f"|diff| {scaled_diff(back, ref, cmp):.2e}; position_ids = cumsum(mask) - 1 on the left-"
                         f"padded layout {d_shift:.2e} (RoPE is relative: only rounding tells them apart)")
    elif case == "position_ids":
        plain = dict(inp)
        del plain["position_ids"]
        d = rerun(model, plain)
        per_row = ", ".join(f"row {b} {scaled_diff(d[b:b + 1], ref[b:b + 1], cmp[b:b + 1]):.2e}"
                            for b in range(ref.shape[0]))
        note(name, case, f"position_ids dropped (default arange(S)): max scaled |diff| {per_row} (row 0 is an "
                         "offset: RoPE is relative, so only rounding; rows 1-2 change the distances)")


# ----------------------------------------------------------------------------- makers


def make_body(root, name, cfg_kwargs, seed):
    d = fresh_dir(root, name)
    config = make_config(cfg_kwargs)
    built = build_model(mb.ModernBertModel, config, seed)
    model = save_and_reload(d, built, mb.ModernBertModel)
    if config.local_rope_theta is None:
        loc = local_layers(model)
        assert all(torch.equal(model.layers[i].attn.rotary_emb.inv_freq, model.layers[0].attn.rotary_emb.inv_freq)
                   for i in loc)
        note(name, "-", "local_rope_theta None: the local layers' inv_freq == the global layers' (bit for bit)")
    note(name, "-", layer_note(config, model) + "; layer 0 has no attn_norm (Identity, L520-521)")

    def check(case, inp, res):
        check_structure(name, model, config, inp, res)
        if case == "fully_masked":
            check_fully_masked(name, config, model, inp, res)
        sensitivity(name, model, config, case, inp, res)

    write_body(d, name, body_cases(config, BODY_CASES, gen(seed + 1)), run, model, built, check, SUMMARY, {
        "model_type": MODEL_TYPE,
        "model_class": "ModernBertModel",
        "model_kwargs": {},
        "reference": f"transformers {transformers.__version__} ModernBertModel(), attn_implementation=eager, "
                     "reference_compile=False",
    })


def make_head(root, name, cls_name, extra, seed):
    d = fresh_dir(root, name)
    cls = getattr(mb, cls_name)
    config = make_config(dict(HEAD_BASE, **extra))
    built = build_model(cls, config, seed)
    built.tie_weights()
    if cls_name == "ModernBertForMaskedLM":
        assert built.decoder.weight is built.model.embeddings.tok_embeddings.weight
    model = save_and_reload(d, built, cls)
    inp = head_inputs(config.vocab_size, config.pad_token_id, config.cls_token_id, config.sep_token_id,
                      gen(seed + 1))
    res, outputs = run_head(name, run, model, built, inp)
    how = {"ModernBertForMaskedLM": "decoder(head(last_hidden_state)), decoder tied to tok_embeddings (L1076-1080)",
           "ModernBertForTokenClassification": "classifier(head(last_hidden_state)) (L1324-1326)",
           "ModernBertForQuestionAnswering": "classifier(head(last_hidden_state)) split into start, end (L1412-1418)",
           }.get(cls_name)
    if cls_name == "ModernBertForSequenceClassification":
        how = ("classifier(head(" + ("last_hidden_state[:, 0]" if config.classifier_pooling == "cls" else
                                     "sum(last_hidden_state * mask) / sum(mask)")
               + ")) (L1204-1213)")
    text = (f"lengths 12, 7, 3; right padding with the pad id {config.pad_token_id}; [CLS] {config.cls_token_id} "
            f"first, [SEP] {config.sep_token_id} last; {shapes_of(res, outputs)}. logits = {how}; head = "
            f"norm(act(dense(x))) (L954-955), classifier_bias {config.classifier_bias} (dense only: the classifier "
            f"always has a bias, L1127), classifier_activation {config.classifier_activation}, norm_bias "
            f"{config.norm_bias}")
    write_head(d, name, inp, res, outputs, text, SUMMARY, {
        "model_type": MODEL_TYPE,
        "model_class": cls_name,
        "head": cls_name,
        "reference": f"transformers {transformers.__version__} {cls_name}, attn_implementation=eager, "
                     "reference_compile=False",
    })


def patched_rotary(model, inv, prod):
    """Patch the model's rotary embeddings (L265-278) to compute the angles otherwise; cos/sin are then
    taken in float64 and rounded to the model's dtype once. inv: "torch" (the reference's float32
    inv_freq, modeling_rope_utils.py:L131), "f64" (1 / theta^(2i/hd) in float64), "f64r" (the same
    rounded to float32); prod: "f32" (inv_freq * position rounded to float32, as L273) or "f64".
    Returns an undo function. Reported only: what an engine computing the angles otherwise differs by."""
    saved = []
    for layer in model.layers:
        rot = layer.attn.rotary_emb
        theta = rot.config.rope_theta
        hd = rot.inv_freq.shape[0] * 2
        exact = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        f = {"torch": rot.inv_freq.float(), "f64": exact, "f64r": exact.float()}[inv]

        def fwd(x, position_ids, f=f):
            if prod == "f32":
                freqs = (position_ids[:, :, None].float() * f.float()[None, None, :]).double()
            else:
                freqs = position_ids[:, :, None].double() * f.double()[None, None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

        saved.append((rot, rot.forward))
        rot.forward = fwd

    def undo():
        for r, fw in saved:
            r.forward = fw
    return undo


def make_long(root, seed):
    name = LONG_NAME
    d = fresh_dir(root, name)
    config = make_config(LONG_CONFIG)
    built = build_model(mb.ModernBertModel, config, seed)
    model = save_and_reload(d, built, mb.ModernBertModel)
    S = max(LONG_LENGTHS)
    am = lengths_mask(LONG_LENGTHS, S)
    ids = real_ids((len(LONG_LENGTHS), S), config.vocab_size, config.pad_token_id, gen(seed + 1))
    ids = torch.where(am == 1, ids, config.pad_token_id)
    inp = dict(input_ids=ids, attention_mask=am)
    out = run(model, inp, output_hidden_states=False, output_attentions=False)
    assert out.hidden_states is None and out.attentions is None
    res = {"last_hidden_state": out.last_hidden_state}
    same_outputs(name, "ragged", res,
                 {"last_hidden_state": run(built, inp, output_hidden_states=False,
                                           output_attentions=False).last_hidden_state})
    cmp = compare_mask_from_keep(am)
    res["compare_mask"] = cmp
    assert all(torch.isfinite(v.float()).all() for v in res.values()), name

    # The reference's own float32 error: the same model and inputs in float64 (model.double()). As
    # written the reference is not float64 throughout: the softmax runs in float32 (L342; with
    # finfo(float64).min masks that gives NaN, see _eager_float64, which keeps it in float64) and the
    # rotary angles are float32 products (L268-273) cast to float64 (L278). Measured both with the
    # reference's angles and with exact float64 angles.
    sel = cmp.to(torch.bool)
    ref32 = res["last_hidden_state"]

    def scaled_vs(r64):
        a, b = ref32.double()[sel], r64[sel]
        return float(((a - b).abs() / b.abs().clamp(min=1.0)).max()), float((a - b).abs().max())

    m64 = copy.deepcopy(model).double()
    err64, abs64 = scaled_vs(run(m64, inp).last_hidden_state)
    undo = patched_rotary(m64, "f64", "f64")
    err_exact, abs_exact = scaled_vs(run(m64, inp).last_hidden_state)
    undo()
    variants = []
    for inv, prod, what in [("torch", "f32", "cos/sin in float64 of the reference's float32 angles"),
                            ("torch", "f64", "the reference's float32 inv_freq times the position in float64"),
                            ("f64r", "f32", "inv_freq = float32(1 / theta^(2i/hd) in float64), float32 product"),
                            ("f64", "f64", "angles exactly in float64")]:
        undo = patched_rotary(model, inv, prod)
        variants.append(f"{what}: {scaled_diff(run(model, inp).last_hidden_state, ref32, cmp):.2e}")
        undo()
    msg = (f"float32 vs float64: max |diff| / max(1, |ref64|) at real positions = {err64:.2e} (max |diff| "
           f"{abs64:.2e}) against model.double() with the reference's float32 rotary angles, {err_exact:.2e} "
           f"(max |diff| {abs_exact:.2e}) against float64 with exact angles")
    note(name, "ragged", msg)
    note(name, "ragged", "float32 runs with the rotary angles computed otherwise, max scaled |diff| from the "
                         "reference: " + "; ".join(variants))
    save_tensors(d / "ragged.in.safetensors", inp)
    save_tensors(d / "ragged.out.safetensors", res)
    opts = {"all_hidden": False, "attentions": False, "causal": False}
    write_json(d / "cases.json", {
        "model_type": MODEL_TYPE,
        "model_class": "ModernBertModel",
        "model_kwargs": {},
        "reference": f"transformers {transformers.__version__} ModernBertModel(), attn_implementation=eager, "
                     "reference_compile=False",
        "outputs": ["last_hidden_state"],
        "cases": [{"name": "ragged", "options": opts, "note": (
            f"lengths {', '.join(map(str, LONG_LENGTHS))}; right padding with the pad id {config.pad_token_id}; "
            f"{layer_note(config, model)}; rotary positions 0..{S - 1}. The reference's own error, " + msg
            + ". The rotary angles must be float32 products inv_freq * position (L268-273), inv_freq as torch "
            "computes it in float32: angles in float64 move the outputs by " + variants[-1].split(": ")[1])}],
    })
    SUMMARY.append((name, "ragged", describe(inp), describe({"last_hidden_state": res["last_hidden_state"]})))
    return err64, err_exact


# ----------------------------------------------------------------------------- main


def main():
    root = reference_setup(__doc__, REPO / "tests" / "fixtures" / "family", "make_modernbert_fixtures")
    replace_dirs(root, PREFIX)  # only ours: the rest of family/ is make_family_fixtures.py's

    for i, (name, cfg) in enumerate(BODY_MODELS):
        make_body(root, name, cfg, seed=7000 + 10 * i)
    for i, (name, cls_name, extra) in enumerate(HEAD_MODELS):
        make_head(root, name, cls_name, extra, seed=8000 + 10 * i)
    long_err, long_exact = make_long(root, seed=9000)

    print_report(SUMMARY, 45, 14)
    print(f"\n{LONG_NAME}: float32 vs float64 max scaled error of last_hidden_state at real positions: {long_err:.2e} "
          f"(model.double(), the reference's float32 rotary angles), {long_exact:.2e} (exact float64 angles)")
    print_digest(root, PREFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
