#!/usr/bin/env python3
"""Parity fixtures for NomicBERT under tests/fixtures/family/nomic-bert-*/.

NomicBertModel, NomicBertForPreTraining (masked LM) and NomicBertForSequenceClassification as the
pinned hub code runs them (tools/reference/nomic_bert/modeling_hf_nomic_bert.py and
configuration_hf_nomic_bert.py, nomic-ai/nomic-bert-2048 @ 7710840, see SOURCE.txt; imported
unmodified as the namespace package `nomic_bert`, the way transformers' trust_remote_code loads the
pair) with transformers 4.57.6, torch 2.15.0, einops 0.8.2, on small random models, in the layout of
make_family_fixtures.py (tests/fixtures/README.md, section family/): model/ (config.json +
model.safetensors from save_pretrained(safe_serialization=True)), cases.json, <case>.in.safetensors
(forward inputs named like the forward arguments), <case>.out.safetensors (the outputs + compare_mask).
config.json's model_type is "nomic_bert". No tokenizer: the cases feed token ids.

  nomic-bert-swiglu-h32/           nomic-embed-text-v1/v1.5's shape scaled down: swiglu, rotary over
                                   the whole head (16), base 1000, no biases, eps 1e-12, 2 token types,
                                   2 layers; n_inner 48 (the gated MLP's weights are 256 wide)
  nomic-bert-geglu-h20-hd10-bias/  head size 10, every bias (qkv/out_proj, fc11/fc12, fc2), base
                                   10000, geglu (gated exact-erf gelu), eps 1e-5, 1 layer
  nomic-bert-gelu-h32-rot50/       rotary_emb_fraction 0.5 (the first 8 of 16 dims of each head
                                   rotated), plain (ungated) gelu MLP fc1/fc2 with an fc1 bias only
  nomic-bert-long-s512/            S = 512: last_hidden_state only; the note gives the reference's
                                   float32 error and what computing the rotary angles otherwise moves
  nomic-bert-head-masked-lm[-bias]/ NomicBertForPreTraining (MLM logits; decoder tied to the word
                                   embeddings): nomic-bert-2048's settings, and geglu with every bias
  nomic-bert-head-sequence-classification/  NomicBertForSequenceClassification (tanh pooler on token 0)

Body outputs: last_hidden_state, hidden_states.0 .. hidden_states.L (the emb_ln output, then each
block's output, captured with forward hooks on the reference's own modules during the same forward;
post-norm and no final norm, so hidden_states.L == last_hidden_state). No attentions: the reference
runs F.scaled_dot_product_attention and returns none. Cases: ragged, fully_masked, no_mask,
left_padding, mask3d (options all_hidden true, attentions false). No position_ids case: with rotary
the reference ignores position_ids (the rotary positions are always 0..S-1 of the padded layout).

The reference cannot run without an attention_mask (NomicBertModel.forward calls
get_extended_attention_mask(None, ...), AttributeError): no_mask's outputs are the reference's with
attention_mask = ones, its .in file holds input_ids only (a missing mask means all ones).

Weights are scaled as in make_modernbert_fixtures.py (fixture_util.init_scaled_): Linear weights
N(0, (gain/sqrt(fan_in))^2), gain 1.6 on the q and k rows of Wqkv (rows 0 .. 2*hidden-1), embeddings
N(0, 0.5^2), biases N(0, 0.1^2), LayerNorm gamma 1 + 0.2 N(0,1), beta 0.2 N(0,1). Dropout is off:
every *_pdrop is 0.0 as in the real configs (attn_pdrop matters: the reference passes
dropout_p=attn_pdrop to SDPA whatever model.training is), and eval().

Each body is also recomputed by an independent plain-torch implementation of the formulas of the
facts sheet (manual_forward below) and the difference reported; the same implementation with one
detail changed (interleaved rotary, the gate on the other projection, ...) shows that the fixtures
tell each mistake apart.

Everything is float32, CPU, one thread, fixed seeds, every rotary cos/sin cache reset before each
forward (each case is what a freshly loaded model computes): rerunning rewrites identical bytes. Only
the nomic-bert-* directories of --out are replaced.
Usage: make_nomic_fixtures.py [--out tests/fixtures/family]
Line numbers (L...) are those of tools/reference/nomic_bert/modeling_hf_nomic_bert.py.
"""

import math
import os
import sys
from pathlib import Path

# One thread everywhere: fixed reduction orders, so a rerun rewrites identical bytes.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
sys.dont_write_bytecode = True  # leave tools/reference/nomic_bert/ exactly as pinned (no __pycache__)

import einops  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nomic_bert.modeling_hf_nomic_bert as nb  # noqa: E402
from nomic_bert.configuration_hf_nomic_bert import NomicBertConfig  # noqa: E402

from fixture_util import (assert_same_state, common_case, compare_mask_from_keep, describe, fresh_dir,  # noqa: E402
                          gen, head_inputs, init_scaled_, lengths_mask, note, print_digest, print_report, randint,
                          real_ids, reference_setup, replace_dirs, save_pretrained_dir, save_tensors, scaled_diff,
                          shapes_of, write_json)

REPO = Path(__file__).resolve().parents[2]
SUMMARY = []  # (model, case, inputs, outputs)
MODEL_TYPE = "nomic_bert"
PREFIX = "nomic-bert-"
REFERENCE = (f"nomic-ai/nomic-bert-2048 @ 7710840 modeling_hf_nomic_bert.py (tools/reference/nomic_bert), "
             f"transformers {transformers.__version__}, torch {torch.__version__.split('+')[0]}, "
             f"einops {einops.__version__}; F.scaled_dot_product_attention path, eval, dropout 0")

PAD = 0  # the pad id the inputs use (bert-base-uncased's [PAD]); the configs leave pad_token_id unset, as the real ones
CLS, SEP = 2, 3  # head inputs' first and last token (the real [CLS] 101 / [SEP] 102 do not fit the tiny vocabularies)

# What every config here shares with nomic-embed-text-v1 / v1.5 and nomic-bert-2048 (their config.json):
# post-norm, sequential block, LayerNorm, NeoX rotary, no scaling, 2 token types, n_positions 8192,
# max_trained_positions 2048, dropout 0, and the fused / flash flags off (the pinned code ignores them:
# it never imports flash_attn).
COMMON = dict(prenorm=False, parallel_block=False, parallel_block_tied_norm=False, use_rms_norm=False,
              rotary_emb_interleaved=False, rotary_emb_scale_base=None, rotary_scaling_factor=None, causal=False,
              type_vocab_size=2, n_positions=8192, max_trained_positions=2048, pad_vocab_size_multiple=1,
              attn_pdrop=0.0, resid_pdrop=0.0, embd_pdrop=0.0, use_flash_attn=False, fused_bias_fc=False,
              fused_dropout_add_ln=False, use_xentropy=False, dense_seq_output=True, tie_word_embeddings=True,
              initializer_range=0.02)

# nomic-embed-text-v1's own settings (hidden 768, 12 heads, 12 layers, n_inner 3072 there).
NOMIC_EMBED = dict(activation_function="swiglu", rotary_emb_fraction=1.0, rotary_emb_base=1000,
                   qkv_proj_bias=False, mlp_fc1_bias=False, mlp_fc2_bias=False, layer_norm_epsilon=1e-12)

BODY_MODELS = [
    # (a) the real shape scaled: n_inner 48 is rounded up to 256 by NomciBertGatedMLP (L1076).
    ("nomic-bert-swiglu-h32",
     dict(NOMIC_EMBED, vocab_size=64, n_embd=32, n_head=2, n_layer=2, n_inner=48)),
    # (b) head size 10, every bias, base 10000, geglu = fc11(x) * gelu_erf(fc12(x)); n_inner 40 -> 256.
    ("nomic-bert-geglu-h20-hd10-bias",
     dict(vocab_size=64, n_embd=20, n_head=2, n_layer=1, n_inner=40, activation_function="geglu",
          rotary_emb_fraction=1.0, rotary_emb_base=10000, qkv_proj_bias=True, mlp_fc1_bias=True, mlp_fc2_bias=True,
          layer_norm_epsilon=1e-5)),
    # (c) partial rotary: rotary_emb_dim = 16 * 0.5 = 8 (L1499); plain MLP fc2(gelu_erf(fc1(x))), n_inner 48 as is.
    ("nomic-bert-gelu-h32-rot50",
     dict(vocab_size=64, n_embd=32, n_head=2, n_layer=1, n_inner=48, activation_function="gelu",
          rotary_emb_fraction=0.5, rotary_emb_base=1000, qkv_proj_bias=False, mlp_fc1_bias=True, mlp_fc2_bias=False,
          layer_norm_epsilon=1e-12)),
]
BODY_CASES = ["ragged", "fully_masked", "no_mask", "left_padding", "mask3d"]
RAGGED_S = 40

HEAD_BASE = dict(vocab_size=48, n_embd=12, n_head=2, n_layer=1, n_inner=24)
HEAD_MODELS = [
    # nomic-bert-2048 (architectures ["NomicBertForPreTraining"]): no biases anywhere in the head
    # (transform.dense and decoder take mlp_fc1_bias, L1827, L1850), silu transform for swiglu (L1829-1830).
    ("nomic-bert-head-masked-lm", "NomicBertForPreTraining", dict(NOMIC_EMBED)),
    # geglu with every bias: transform.dense.bias, decoder.bias, transform act = exact gelu (L1827-1832).
    ("nomic-bert-head-masked-lm-bias", "NomicBertForPreTraining",
     dict(activation_function="geglu", rotary_emb_fraction=1.0, rotary_emb_base=10000, qkv_proj_bias=True,
          mlp_fc1_bias=True, mlp_fc2_bias=True, layer_norm_epsilon=1e-12)),
    # A fine-tuned nomic-embed: pooler (dense + tanh on token 0, always with a bias) and classifier (bias).
    ("nomic-bert-head-sequence-classification", "NomicBertForSequenceClassification",
     dict(NOMIC_EMBED, num_labels=3)),
]

# The long fixture: one head of 16 with base 1000 (body (a)'s rotary), S = 512; a plain gelu MLP of width 32
# (a gated one would be 256 wide for nothing: the rotary angles are what this fixture is about).
LONG_NAME = "nomic-bert-long-s512"
LONG_CONFIG = dict(NOMIC_EMBED, activation_function="gelu", vocab_size=64, n_embd=16, n_head=1, n_layer=1,
                   n_inner=32)
LONG_LENGTHS = [512, 200]

# ----------------------------------------------------------------------------- the reference, as it runs

assert nb.scaled_dot_product_attention is not None  # the SDPA branch (L1579-1582), not the matmul fallback
assert nb.dmoe is None  # no megablocks: nothing MoE here anyway


def make_config(kwargs):
    cfg = NomicBertConfig(**dict(COMMON, **kwargs))
    return cfg


def reset_rotary(model):
    """Drop every rotary cos/sin cache (L1334-1366): the next forward computes it for its own S, as a
    freshly loaded model would."""
    for m in model.modules():
        if isinstance(m, nb.NomicBertRotaryEmbedding):
            m._seq_len_cached = 0
            m._cos_cached = m._sin_cached = None


def base_of(model):
    return model if isinstance(model, nb.NomicBertModel) else model.bert


def run(model, inp, hidden=False):
    """model(**inp) under no_grad, eval, dropout 0, fresh rotary caches; with hidden, also the emb_ln
    output and each block's output (forward hooks on the reference's modules, this very forward)."""
    assert not model.training
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            assert m.p == 0.0, m
    reset_rotary(model)
    kw = dict(inp)
    if "attention_mask" not in kw:  # the reference requires one (see header): all ones = no mask
        kw["attention_mask"] = torch.ones_like(kw["input_ids"])
    base = base_of(model)
    got, hooks = {}, []
    if hidden:
        hooks.append(base.emb_ln.register_forward_hook(lambda m, a, o: got.__setitem__(0, o)))
        for i, layer in enumerate(base.encoder.layers):
            hooks.append(layer.register_forward_hook(lambda m, a, o, i=i: got.__setitem__(i + 1, o[0])))
    try:
        with torch.no_grad():
            out = model(**kw)
    finally:
        for h in hooks:
            h.remove()
    if hidden:
        assert sorted(got) == list(range(len(base.encoder.layers) + 1))
        return out, [got[i] for i in sorted(got)]
    return out


def init_nomic_(model, g):
    hidden = model.config.n_embd

    def qk_rows(mname, w):
        if mname.endswith(".Wqkv"):  # [q; k; v] rows (L1550-1551): gain 1.6 on q and k
            w[: 2 * hidden] *= 1.6

    rest = init_scaled_(model, g, adjust=qk_rows)
    assert not rest, rest


def build_model(cls, config, seed):
    torch.manual_seed(seed)
    model = (cls(config, add_pooling_layer=False) if cls is nb.NomicBertModel else cls(config)).eval()
    init_nomic_(model, gen(seed))
    return model


def save_and_reload(d, model, cls):
    """save_pretrained into d/model, then cls.from_pretrained(d/model) (the pinned code's own
    from_pretrained, L389-466: a local directory's model.safetensors, load_state_dict(strict=False);
    NomicBertModel without a pooler, L426-428), as trust_remote_code would load it. Every tensor must
    come back (strict load here: nothing missing, nothing unexpected)."""
    save_pretrained_dir(d, model)
    loaded = cls.from_pretrained(str(d / "model")).eval()
    from safetensors.torch import load_file
    saved = load_file(str(d / "model" / "model.safetensors"))
    res = loaded.load_state_dict(saved, strict=False)
    tied = {"cls.predictions.decoder.weight"}
    assert not res.unexpected_keys and set(res.missing_keys) <= tied, (d.name, res)
    assert_same_state(model, loaded, d.name)
    if cls is nb.NomicBertForPreTraining:
        assert loaded.cls.predictions.decoder.weight is loaded.bert.embeddings.word_embeddings.weight
        assert "cls.predictions.decoder.weight" not in saved  # tied: not in the file
    return loaded


# ----------------------------------------------------------------------------- an independent implementation


def manual_forward(model, inp, interleaved=False, gate_on_fc11=False, no_types=False, base=None, rot_frac=None,
                   eps=None, positions=None, plain_softmax_mask=False):
    """The base model recomputed from the formulas (see /tmp/nomic_facts.md), float32, from the model's
    parameters: last_hidden_state. The keyword arguments change one detail (sensitivity checks)."""
    m = base_of(model)
    cfg = model.config
    ids = inp["input_ids"]
    B, S = ids.shape
    H, nh = cfg.n_embd, cfg.n_head
    hd = H // nh
    ln_eps = cfg.layer_norm_epsilon if eps is None else eps
    x = m.embeddings.word_embeddings.weight[ids]
    if not no_types:
        tt = inp.get("token_type_ids", torch.zeros_like(ids))
        x = x + m.embeddings.token_type_embeddings.weight[tt]
    x = F.layer_norm(x, (H,), m.emb_ln.weight, m.emb_ln.bias, ln_eps)
    am = inp.get("attention_mask", torch.ones_like(ids)).to(torch.float32)
    am = am[:, None, None, :] if am.dim() == 2 else am[:, None, :, :]
    adder = (1.0 - am) * torch.finfo(torch.float32).min
    frac = cfg.rotary_emb_fraction if rot_frac is None else rot_frac
    rd = int(hd * frac)
    theta = float(cfg.rotary_emb_base if base is None else base)
    inv_freq = 1.0 / (theta ** (torch.arange(0, rd, 2, dtype=torch.float32) / rd))
    t = torch.arange(S, dtype=torch.float32) if positions is None else positions.to(torch.float32)
    freqs = t[..., :, None] * inv_freq  # [S, rd/2] or [B, S, rd/2]
    if interleaved:
        cos = freqs.cos().repeat_interleave(2, -1)
        sin = freqs.sin().repeat_interleave(2, -1)
    else:
        cos = torch.cat([freqs.cos(), freqs.cos()], -1)
        sin = torch.cat([freqs.sin(), freqs.sin()], -1)
    if cos.dim() == 2:
        cos, sin = cos[None, None], sin[None, None]  # [1,1,S,rd]
    else:
        cos, sin = cos[:, None], sin[:, None]  # [B,1,S,rd]

    def rope(u):  # u [B, nh, S, hd]
        r, rest = u[..., :rd], u[..., rd:]
        if interleaved:
            r1, r2 = r[..., 0::2], r[..., 1::2]
            rot = torch.stack([-r2, r1], -1).flatten(-2)
        else:
            r1, r2 = r.chunk(2, -1)
            rot = torch.cat([-r2, r1], -1)
        return torch.cat([r * cos + rot * sin, rest], -1)

    act = {"swiglu": F.silu, "geglu": F.gelu, "glu": torch.sigmoid}.get(cfg.activation_function, F.gelu)
    for layer in m.encoder.layers:
        a = layer.attn
        qkv = F.linear(x, a.Wqkv.weight, a.Wqkv.bias).view(B, S, 3, nh, hd)
        q, k, v = (qkv[:, :, i].permute(0, 2, 1, 3) for i in range(3))
        q, k = rope(q), rope(k)
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + adder
        if plain_softmax_mask:  # masked keys dropped instead of finfo.min (a fully masked row then: NaN -> 0)
            scores = scores.masked_fill(am == 0, float("-inf"))
            p = torch.nan_to_num(scores.softmax(-1), nan=0.0)
        else:
            p = scores.softmax(-1)
        o = (p @ v).permute(0, 2, 1, 3).reshape(B, S, H)
        o = F.linear(o, a.out_proj.weight, a.out_proj.bias)
        x = F.layer_norm(x + o, (H,), layer.norm1.weight, layer.norm1.bias, ln_eps)
        mlp = layer.mlp
        if hasattr(mlp, "fc11"):
            y, g = F.linear(x, mlp.fc11.weight, mlp.fc11.bias), F.linear(x, mlp.fc12.weight, mlp.fc12.bias)
            h = act(y) * g if gate_on_fc11 else y * act(g)
        else:
            h = F.gelu(F.linear(x, mlp.fc1.weight, mlp.fc1.bias))
        y = F.linear(h, mlp.fc2.weight, mlp.fc2.bias)
        x = F.layer_norm(x + y, (H,), layer.norm2.weight, layer.norm2.bias, ln_eps)
    return x


# ----------------------------------------------------------------------------- cases


def random_types(keep, g):
    """token_type_ids: 0/1 at random on real positions, 0 on padding."""
    return randint(0, 2, keep.shape, g) * keep.to(torch.int64)


def body_cases(cfg, g):
    """Yield (case, inputs, compare_mask, note). Padded positions hold the pad id PAD (as a tokenizer
    writes them), real tokens never do."""
    V = cfg.vocab_size
    rot = (f"rotary over the first {int(cfg.n_embd // cfg.n_head * cfg.rotary_emb_fraction)} of "
           f"{cfg.n_embd // cfg.n_head} dims of each head, base {cfg.rotary_emb_base:g}, positions 0..S-1 of the "
           "padded layout (L1386-1394; seqlen_offset = past_len = 0, L1558)")
    for name in BODY_CASES:
        if name == "ragged":
            inp, keep = common_case("ragged", V, RAGGED_S, PAD, g)
            inp["token_type_ids"] = random_types(keep, g)
            text = (f"lengths 1, 7, 33, {RAGGED_S}; right padding with the pad id {PAD}; token_type_ids 0/1 at "
                    f"random on real positions, 0 on padding; {rot}")
        elif name == "fully_masked":
            inp, keep = common_case("fully_masked", V, RAGGED_S, PAD, g)
            inp["token_type_ids"] = random_types(torch.ones_like(keep), g)
            text = ("row 0: length 6 of 9; rows 1 and 2: attention_mask all zeros, row 1 with real ids, row 2 all "
                    "pad ids; token types random everywhere. The adder is (1 - mask) * finfo(float32).min "
                    "(get_extended_attention_mask, transformers modeling_utils.py:L1648-1649), and SDPA's "
                    "score * hd^-0.5 + min rounds to min for every key: rows 1-2 attend uniformly, 1/S over all "
                    "S keys, padding included; compared everywhere")
        elif name == "no_mask":
            inp, keep = common_case("no_mask", V, RAGGED_S, PAD, g)
            text = (f"input_ids only; position 4 holds the pad id {PAD} (an ordinary token without a mask). The "
                    "reference cannot run without attention_mask (get_extended_attention_mask(None) raises): "
                    "these outputs are its outputs with attention_mask = ones; token_type_ids default to 0 (L1016-1017)")
        elif name == "left_padding":
            S = 12
            am = torch.flip(lengths_mask([12, 8, 3, 1], S), dims=[1])
            inp = dict(input_ids=torch.where(am == 1, real_ids((4, S), V, PAD, g), PAD), attention_mask=am,
                       token_type_ids=random_types(am, g))
            keep = am
            text = (f"lengths 12, 8, 3, 1, left padding with the pad id {PAD}, random token types. The rotary "
                    "positions are those of the padded layout, 0..S-1 (L1386-1394, L1558: the only offset is the KV-cache "
                    "past length, 0 here; position_ids are never passed to the attention), so a row's first real "
                    "token has position S - length. RoPE is relative: positions counted from the first real "
                    "token differ by rounding only")
        elif name == "mask3d":
            S = 10
            am = lengths_mask([10, 7], S)[:, None, :].expand(2, S, S).clone()
            am[0, 3, :] = 0  # one query row that may attend to no key
            am[0, 5, 8:] = 0  # an irregular row
            inp = dict(input_ids=real_ids((2, S), V, PAD, g), attention_mask=am)
            keep = torch.ones(2, S)
            text = ("attention_mask [2,10,10] (query, key), extended as mask[:, None, :, :] "
                    "(modeling_utils.py:L1626-1627): row 0 query 3 sees no key (uniform 1/S over all keys), query "
                    "5 not keys 8-9; row 1 keys 0..6 only. A 3-D mask pads nothing: every position compared")
        else:
            raise ValueError(name)
        yield name, inp, compare_mask_from_keep(keep), text


# ----------------------------------------------------------------------------- makers


BODY_OPTIONS = {"all_hidden": True, "attentions": False, "causal": False}


def body_outputs(model, inp):
    out, hs = run(model, inp, hidden=True)
    res = {"last_hidden_state": out.last_hidden_state}
    assert out.pooler_output is None
    for i, h in enumerate(hs):
        res[f"hidden_states.{i}"] = h
    assert torch.equal(hs[-1], out.last_hidden_state)  # post-norm, no final norm
    return res


def check_body(name, model, case, inp, res):
    cmp = res["compare_mask"]
    ref = res["last_hidden_state"]
    manual = manual_forward(model, inp)
    d0 = scaled_diff(manual, ref, cmp)
    assert d0 < 1e-5, (name, case, d0)
    msgs = [f"independent plain-torch implementation {d0:.1e}"]
    if case == "ragged":
        cfg = model.config
        variants = [("interleaved (GPT-J) rotary", dict(interleaved=True)),
                    ("no token types", dict(no_types=True)),
                    (f"rotary base {20 * cfg.rotary_emb_base:g}", dict(base=20 * cfg.rotary_emb_base)),
                    ("no rotary", dict(rot_frac=0.0))]
        if hasattr(base_of(model).encoder.layers[0].mlp, "fc11"):
            variants.append(("activation on fc11 instead of fc12", dict(gate_on_fc11=True)))
        if cfg.rotary_emb_fraction < 1.0:
            variants.append(("rotary over the whole head", dict(rot_frac=1.0)))
        if cfg.layer_norm_epsilon < 1e-6:
            variants.append(("LayerNorm eps 1e-5", dict(eps=1e-5)))
        for what, kw in variants:
            msgs.append(f"{what} {scaled_diff(manual_forward(model, inp, **kw), ref, cmp):.1e}")
    elif case == "fully_masked":
        drop = manual_forward(model, inp, plain_softmax_mask=True)
        msgs.append("masked keys removed (-inf; a row with none left -> zeros) instead of finfo.min "
                    f"{scaled_diff(drop, ref, cmp):.1e} (the fully masked rows)")
    elif case == "left_padding":
        am = inp["attention_mask"]
        pos = (am.cumsum(1) - 1).clamp(min=0)
        msgs.append(f"positions counted from the first real token {scaled_diff(manual_forward(model, inp, positions=pos), ref, cmp):.1e}")
    note(name, case, "max scaled |diff| of last_hidden_state from the reference: " + "; ".join(msgs))


def make_body(root, name, cfg_kwargs, seed):
    d = fresh_dir(root, name)
    config = make_config(cfg_kwargs)
    built = build_model(nb.NomicBertModel, config, seed)
    model = save_and_reload(d, built, nb.NomicBertModel)
    cases, outputs = [], None
    for case, inp, cmp, text in body_cases(config, gen(seed + 1)):
        res = body_outputs(model, inp)
        again = body_outputs(built, inp)
        assert res.keys() == again.keys() and all(torch.equal(res[k], again[k]) for k in res), (name, case)
        res["compare_mask"] = cmp
        assert all(torch.isfinite(v.float()).all() for v in res.values()), (name, case)
        check_body(name, model, case, inp, res)
        names = [k for k in res if k != "compare_mask"]
        assert outputs is None or names == outputs
        outputs = names
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", res)
        cases.append({"name": case, "options": dict(BODY_OPTIONS), "note": text})
        SUMMARY.append((name, case, describe(inp), describe({"last_hidden_state": res["last_hidden_state"]})))
    mlp = model.encoder.layers[0].mlp
    inner = (mlp.fc11 if hasattr(mlp, "fc11") else mlp.fc1).weight.shape[0]
    note(name, "-", f"activation_function {config.activation_function}: "
                    f"{'gated fc2(fc11(x) * act(fc12(x)))' if hasattr(mlp, 'fc11') else 'plain fc2(gelu_erf(fc1(x)))'}, "
                    f"n_inner {config.n_inner} -> weights of width {inner}")
    write_json(d / "cases.json", {
        "model_type": MODEL_TYPE,
        "model_class": "NomicBertModel",
        "model_kwargs": {"add_pooling_layer": False},
        "reference": REFERENCE,
        "outputs": outputs,
        "cases": cases,
    })


def make_head(root, name, cls_name, extra, seed):
    d = fresh_dir(root, name)
    cls = getattr(nb, cls_name)
    config = make_config(dict(HEAD_BASE, **extra))
    built = build_model(cls, config, seed)
    model = save_and_reload(d, built, cls)
    g = gen(seed + 1)
    inp = head_inputs(config.vocab_size, PAD, CLS, SEP, g)
    # token types 1 on the second half of each sequence's real tokens
    am = inp["attention_mask"]
    n = am.sum(1, keepdim=True)
    inp["token_type_ids"] = ((torch.arange(am.shape[1])[None, :] >= n // 2) & (am == 1)).to(torch.int64)
    out = run(model, inp)
    out2 = run(built, inp)
    assert torch.equal(out.logits, out2.logits), name
    res = {"logits": out.logits, "compare_mask": am.to(torch.uint8)}
    assert torch.isfinite(out.logits).all()
    outputs = ["logits"]
    # the head recomputed from the independent body
    h = manual_forward(model, inp)
    if cls_name == "NomicBertForPreTraining":
        t = model.cls.predictions.transform
        act = F.silu if config.activation_function == "swiglu" else F.gelu
        z = F.layer_norm(act(F.linear(h, t.dense.weight, t.dense.bias)), (config.n_embd,), t.layer_norm.weight,
                         t.layer_norm.bias, config.layer_norm_epsilon)
        dec = model.cls.predictions.decoder
        manual = F.linear(z, model.bert.embeddings.word_embeddings.weight, dec.bias)
        how = ("logits = decoder(LN(act(dense(last_hidden_state)))) (L1836-1855), decoder.weight tied to "
               f"bert.embeddings.word_embeddings.weight (L1942-1943, not in the file), act "
               f"{'silu (swiglu)' if config.activation_function == 'swiglu' else 'exact gelu'}, dense and decoder "
               f"bias = mlp_fc1_bias {config.mlp_fc1_bias}, LN eps {config.layer_norm_epsilon:g}")
        cmp = res["compare_mask"]
    else:
        p = model.bert.pooler.dense
        manual = F.linear(torch.tanh(F.linear(h[:, 0], p.weight, p.bias)), model.classifier.weight,
                          model.classifier.bias)
        how = ("logits = classifier(tanh(bert.pooler.dense(last_hidden_state[:, 0]))) (L1815-1821, L2033-2036), "
               f"{config.num_labels} labels")
        cmp = torch.ones_like(manual)
    dm = scaled_diff(manual, out.logits, cmp)
    assert dm < 1e-5, (name, dm)
    note(name, "ragged", f"independent implementation: max scaled |diff| {dm:.1e}")
    text = (f"lengths 12, 7, 3; right padding with the pad id {PAD}; {CLS} first, {SEP} last; token types 1 on "
            f"the second half of the real tokens; logits {list(out.logits.shape)}. {how}")
    save_tensors(d / "ragged.in.safetensors", inp)
    save_tensors(d / "ragged.out.safetensors", res)
    write_json(d / "cases.json", dict({
        "model_type": MODEL_TYPE,
        "model_class": cls_name,
        "head": cls_name,
        "reference": REFERENCE,
    }, outputs=outputs, cases=[{"name": "ragged", "note": text}]))
    SUMMARY.append((name, "ragged", describe(inp), shapes_of(res, outputs)))


def preset_rotary(model, S, how):
    """Fill every rotary cache for length S with angles computed otherwise (forward then keeps it:
    L1386-1391 recompute only for a longer S): "f64" angles t * inv_freq exactly in float64 (inv_freq
    from float64 arithmetic), "f64inv" inv_freq from float64 rounded to float32 and the float32 product,
    "f64prod" torch's float32 inv_freq times t in float64. cos/sin rounded to float32 once."""
    for m in model.modules():
        if isinstance(m, nb.NomicBertRotaryEmbedding):
            exact = 1.0 / (m.base ** (torch.arange(0, m.dim, 2, dtype=torch.float64) / m.dim))
            t32 = torch.arange(S, dtype=torch.float32)
            if how == "f64":
                freqs = torch.outer(t32.double(), exact)
            elif how == "f64inv":
                freqs = torch.outer(t32, exact.float()).double()
            elif how == "f64prod":
                freqs = torch.outer(t32.double(), m._compute_inv_freq().double())
            else:
                raise ValueError(how)
            m._seq_len_cached = S
            m._cos_cached, m._sin_cached = freqs.cos().float(), freqs.sin().float()


def run_preset(model, inp, how):
    """run() without the reset, the caches preset by preset_rotary."""
    with torch.no_grad():
        preset_rotary(model, inp["input_ids"].shape[1], how)
        return model(**inp).last_hidden_state


def make_long(root, seed):
    name = LONG_NAME
    d = fresh_dir(root, name)
    config = make_config(LONG_CONFIG)
    built = build_model(nb.NomicBertModel, config, seed)
    model = save_and_reload(d, built, nb.NomicBertModel)
    S = max(LONG_LENGTHS)
    g = gen(seed + 1)
    am = lengths_mask(LONG_LENGTHS, S)
    inp = dict(input_ids=torch.where(am == 1, real_ids((len(LONG_LENGTHS), S), config.vocab_size, PAD, g), PAD),
               attention_mask=am)
    ref = run(model, inp).last_hidden_state
    assert torch.equal(ref, run(built, inp).last_hidden_state)
    cmp = compare_mask_from_keep(am)
    res = {"last_hidden_state": ref, "compare_mask": cmp}
    assert torch.isfinite(ref).all()
    dm = scaled_diff(manual_forward(model, inp), ref, cmp)
    assert dm < 1e-5, dm
    # The reference's own float32 error: model.double() (the rotary angles stay float32 products there:
    # inv_freq is recomputed in float32 when the buffer is not, L1355-1356; t is float32, L1350).
    m64 = nb.NomicBertModel.from_pretrained(str(d / "model")).eval().double()
    r64 = run(m64, {k: v for k, v in inp.items()}).last_hidden_state
    sel = cmp.to(torch.bool)
    err64 = float(((ref.double()[sel] - r64[sel]).abs() / r64[sel].abs().clamp(min=1.0)).max())
    variants = []
    for how, what in [("f64prod", "torch's float32 inv_freq times the position in float64"),
                      ("f64inv", "inv_freq = float32(1 / base^(2i/d) in float64), float32 product"),
                      ("f64", "angles exactly in float64")]:
        variants.append(f"{what}: {scaled_diff(run_preset(model, inp, how), ref, cmp):.1e}")
    msg = (f"float32 vs model.double() (same float32 rotary angles): max scaled |diff| {err64:.1e}; the float32 "
           "model with the cos/sin tables computed otherwise (then rounded to float32): " + "; ".join(variants)
           + f"; independent plain-torch implementation {dm:.1e}")
    note(name, "ragged", msg)
    save_tensors(d / "ragged.in.safetensors", inp)
    save_tensors(d / "ragged.out.safetensors", res)
    write_json(d / "cases.json", {
        "model_type": MODEL_TYPE,
        "model_class": "NomicBertModel",
        "model_kwargs": {"add_pooling_layer": False},
        "reference": REFERENCE,
        "outputs": ["last_hidden_state"],
        "cases": [{"name": "ragged", "options": {"all_hidden": False, "attentions": False, "causal": False},
                   "note": (f"lengths {', '.join(map(str, LONG_LENGTHS))}; right padding with the pad id {PAD}; "
                            f"default token types (0); rotary base {config.rotary_emb_base:g} over head size 16, positions "
                            f"0..{S - 1}; angles = float32(float32(t) * inv_freq), inv_freq = 1 / base^(arange(0, d, "
                            "2) / d) in float32 (L1331-1332, L1349-1363). " + msg)}],
    })
    SUMMARY.append((name, "ragged", describe(inp), describe({"last_hidden_state": ref})))


# ----------------------------------------------------------------------------- main


def main():
    root = reference_setup(__doc__, REPO / "tests" / "fixtures" / "family", "make_nomic_fixtures",
                           more={"einops": einops.__version__})
    replace_dirs(root, PREFIX)  # only ours: the rest of family/ is the other generators'
    for i, (name, cfg) in enumerate(BODY_MODELS):
        make_body(root, name, cfg, seed=11000 + 10 * i)
    for i, (name, cls_name, extra) in enumerate(HEAD_MODELS):
        make_head(root, name, cls_name, extra, seed=12000 + 10 * i)
    make_long(root, seed=13000)
    print_report(SUMMARY, 42, 14)
    print_digest(root, PREFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
