#!/usr/bin/env python3
"""Parity fixtures for the BERT family (issue #14) under tests/fixtures/family/.

Seven architectures, each run by its transformers 4.57.6 implementation
(attn_implementation="eager") on small random models:

  roberta, xlm-roberta, camembert   RobertaModel / XLMRobertaModel / CamembertModel
  distilbert                        DistilBertModel
  electra                           ElectraModel
  albert                            AlbertModel
  mpnet                             MPNetModel

Body fixtures (`<model_type>-<what>/`) hold every output the base model returns with
output_hidden_states=True, output_attentions=True; head fixtures (`<model_type>-head-<task>/`)
hold the logits of each task head transformers has for the architecture (ForSequenceClassification,
ForTokenClassification, ForQuestionAnswering, ForMaskedLM, and ForPreTraining where it exists:
ELECTRA and ALBERT). The layout is that of core/ and heads/ (see tests/fixtures/README.md,
section family/); no tokenizer: the cases feed token ids.

Weights are scaled as in make_core_fixtures.py, for the same reason: the libraries' std-0.02
inits give near-uniform attention and near-identity LayerNorms, so a wrong mask, position
offset, scale or weight name would hardly move the outputs. Linear weights N(0, (gain/sqrt(fan_in))^2)
with gain 1.6 for queries/keys, embeddings N(0, 0.5^2) (also the padding_idx rows: a checkpoint's
padding row is whatever it holds, and a fully padded row reads it), MPNet's relative_attention_bias
N(0, 1) (added to the scaled scores as is), relative distance embeddings N(0, 0.3^2), biases
N(0, 0.1^2), LayerNorm gamma 1 + 0.2 N(0,1), beta 0.2 N(0,1). DistilBERT's sinusoidal position
table is left as transformers writes it (that is what the option means).

Everything is float32, CPU, one thread, fixed seeds: rerunning rewrites identical bytes.
Usage: make_family_fixtures.py [--out tests/fixtures/family]
Line numbers below are those of the installed transformers 4.57.6 (models/<arch>/modeling_<arch>.py).
"""

import inspect
import math
import os
import shutil
import sys
from pathlib import Path

# One thread everywhere: fixed reduction orders, so a rerun rewrites identical bytes.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import torch
import torch.nn as nn
import transformers

from fixture_util import (compare_mask_from_keep, describe, gen, lengths_mask, note, print_report, randint, randn,
                          reference_setup, reload_model, save_pretrained_dir, save_tensors, write_json)

REPO = Path(__file__).resolve().parents[2]
SUMMARY = []  # (model, case, inputs, outputs)


# ----------------------------------------------------------------------------- helpers
# (the same conventions as make_core_fixtures.py)


# ----------------------------------------------------------------------------- architectures


class Arch:
    """What the generator needs to know about one architecture; everything else is read
    from transformers itself (forward signatures, padding_idx, head classes)."""

    def __init__(self, model_type, prefix, positions_from_ids, mask3d):
        self.model_type = model_type
        self.prefix = prefix  # transformers class prefix: <prefix>Model, <prefix>For...
        self.config_cls = getattr(transformers, prefix + "Config")
        self.base_cls = getattr(transformers, prefix + "Model")
        # RoBERTa/XLM-R/CamemBERT (modeling_roberta.py:L84-87, create_position_ids_from_input_ids
        # L1537-1550) and MPNet (modeling_mpnet.py:L84-86) number positions from the input ids:
        # padding_idx + cumsum(id != padding_idx), padding_idx at pad ids.
        self.positions_from_ids = positions_from_ids
        # A 3-D [B,S,S] attention_mask goes through get_extended_attention_mask
        # (modeling_utils.py:L1626-1627) in RoBERTa-like, ELECTRA and MPNet models. DistilBERT
        # views the mask as [B,1,1,S] (modeling_distilbert.py:L197,L213) and ALBERT unsqueezes it to
        # [B,1,1,S] itself (modeling_albert.py:L706-708): both take 2-D masks only (probed below).
        self.mask3d = mask3d
        # Which inputs the base model takes (token_type_ids, position_ids, head_mask) and whether
        # it can be built without its pooler: read from the installed transformers.
        self.forward_args = set(inspect.signature(self.base_cls.forward).parameters)
        self.init_args = set(inspect.signature(self.base_cls.__init__).parameters)

    def takes(self, arg):
        return arg in self.forward_args

    def head_classes(self):
        """The task heads transformers 4.57.6 has for this architecture, among those issue #14 asks for."""
        out = []
        for task, suffix in [("sequence-classification", "ForSequenceClassification"),
                             ("token-classification", "ForTokenClassification"),
                             ("question-answering", "ForQuestionAnswering"),
                             ("masked-lm", "ForMaskedLM"),
                             ("pretraining", "ForPreTraining")]:
            cls = getattr(transformers, self.prefix + suffix, None)
            if cls is not None:
                out.append((task, cls))
        return out


ARCHS = {a.model_type: a for a in [
    Arch("roberta", "Roberta", positions_from_ids=True, mask3d=True),
    Arch("xlm-roberta", "XLMRoberta", positions_from_ids=True, mask3d=True),
    Arch("camembert", "Camembert", positions_from_ids=True, mask3d=True),
    Arch("distilbert", "DistilBert", positions_from_ids=False, mask3d=False),
    Arch("electra", "Electra", positions_from_ids=False, mask3d=True),
    Arch("albert", "Albert", positions_from_ids=False, mask3d=False),
    Arch("mpnet", "MPNet", positions_from_ids=True, mask3d=True),
]}

# Body models: (name, model_type, config kwargs, constructor kwargs, extra cases).
# Every model gets ragged, fully_masked, no_mask. Head sizes: 12, 16, 18, 20, 32.
FAMILY_MODELS = [
    # RoBERTa: the usual pad 1 (positions 2..), and pad 0 (positions 1..) so that a hard-coded 1
    # shows; with and without the pooler (the task heads build it without, modeling_roberta.py:L1151).
    ("roberta-gelu-h36-pool", "roberta",
     dict(vocab_size=100, hidden_size=36, num_attention_heads=2, num_hidden_layers=2, intermediate_size=40,
          hidden_act="gelu", layer_norm_eps=1e-5, max_position_embeddings=36, type_vocab_size=1, pad_token_id=1),
     dict(add_pooling_layer=True), ["mask3d", "position_ids", "head_mask", "pad_ids_unmasked"]),
    ("roberta-gelunew-h40-pad0-nopool", "roberta",
     dict(vocab_size=90, hidden_size=40, num_attention_heads=2, num_hidden_layers=1, intermediate_size=44,
          hidden_act="gelu_new", layer_norm_eps=1e-12, max_position_embeddings=36, type_vocab_size=1,
          pad_token_id=0, bos_token_id=2, eos_token_id=3),
     dict(add_pooling_layer=False), ["pad_ids_unmasked", "position_ids"]),
    ("xlm-roberta-gelu-h48-pool", "xlm-roberta",
     dict(vocab_size=100, hidden_size=48, num_attention_heads=4, num_hidden_layers=1, intermediate_size=52,
          hidden_act="gelu", layer_norm_eps=1e-5, max_position_embeddings=36, type_vocab_size=1, pad_token_id=1),
     dict(add_pooling_layer=True), ["head_mask", "pad_ids_unmasked"]),
    ("xlm-roberta-relu-h32-nopool", "xlm-roberta",
     dict(vocab_size=100, hidden_size=32, num_attention_heads=1, num_hidden_layers=3, intermediate_size=36,
          hidden_act="relu", layer_norm_eps=1e-6, max_position_embeddings=36, type_vocab_size=1, pad_token_id=1),
     dict(add_pooling_layer=False), ["position_ids"]),
    ("camembert-gelu-h40-pool", "camembert",
     dict(vocab_size=100, hidden_size=40, num_attention_heads=2, num_hidden_layers=2, intermediate_size=44,
          hidden_act="gelu", layer_norm_eps=1e-5, max_position_embeddings=36, type_vocab_size=1, pad_token_id=1),
     dict(add_pooling_layer=True), ["mask3d", "pad_ids_unmasked"]),
    ("camembert-tanh-h32-nopool", "camembert",
     dict(vocab_size=100, hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=36,
          hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-12, max_position_embeddings=36, type_vocab_size=1,
          pad_token_id=1),
     dict(add_pooling_layer=False), ["head_mask"]),
    # DistilBERT: learned and sinusoidal positions, gelu and relu. Its LayerNorm eps is fixed at
    # 1e-12 (modeling_distilbert.py:L91,L444,L447): the config has no eps to vary.
    ("distilbert-gelu-learned-h36", "distilbert",
     dict(vocab_size=100, dim=36, n_heads=3, n_layers=2, hidden_dim=40, activation="gelu",
          max_position_embeddings=36, sinusoidal_pos_embds=False, pad_token_id=0),
     dict(), ["head_mask"]),
    ("distilbert-relu-sinus-h40", "distilbert",
     dict(vocab_size=100, dim=40, n_heads=2, n_layers=1, hidden_dim=44, activation="relu",
          max_position_embeddings=36, sinusoidal_pos_embds=True, pad_token_id=0),
     dict(), ["head_mask"]),
    # ELECTRA: embedding_size != hidden_size (embeddings_project, modeling_electra.py:L687-688,L786-787)
    # twice, and equal (no projection) once.
    ("electra-gelu-e24-h36", "electra",
     dict(vocab_size=100, embedding_size=24, hidden_size=36, num_attention_heads=3, num_hidden_layers=2,
          intermediate_size=40, hidden_act="gelu", layer_norm_eps=1e-12, max_position_embeddings=34,
          type_vocab_size=2, pad_token_id=0),
     dict(), ["mask3d", "position_ids", "head_mask"]),
    ("electra-relu-e40-h40-noproj", "electra",
     dict(vocab_size=100, embedding_size=40, hidden_size=40, num_attention_heads=2, num_hidden_layers=1,
          intermediate_size=44, hidden_act="relu", layer_norm_eps=1e-6, max_position_embeddings=36,
          type_vocab_size=3, pad_token_id=0),
     dict(), []),
    ("electra-gelunew-e16-h32", "electra",
     dict(vocab_size=100, embedding_size=16, hidden_size=32, num_attention_heads=2, num_hidden_layers=2,
          intermediate_size=40, hidden_act="gelu_new", layer_norm_eps=1e-5, max_position_embeddings=34,
          type_vocab_size=2, pad_token_id=0),
     dict(), ["position_ids"]),
    # ALBERT: factorized embeddings (embedding_size -> embedding_hidden_mapping_in,
    # modeling_albert.py:L498,L510), weights shared across depth: num_hidden_groups groups of
    # inner_group_num layers (L499,L462), layer i runs group int(i / (L/G)) (L522). inner_group_num must
    # not exceed int(L/G): the head_mask slice of L527 has that length and L476 indexes it per inner layer
    # (even with no head_mask: a list of None, L515). One model has L=3, G=2: groups of unequal use.
    ("albert-gelunew-e20-h36-g1i2", "albert",
     dict(vocab_size=100, embedding_size=20, hidden_size=36, num_attention_heads=2, num_hidden_layers=2,
          num_hidden_groups=1, inner_group_num=2, intermediate_size=40, hidden_act="gelu_new",
          layer_norm_eps=1e-12, max_position_embeddings=34, type_vocab_size=2, pad_token_id=0),
     dict(add_pooling_layer=True), ["head_mask", "position_ids"]),
    ("albert-gelu-e24-h32-g2i2", "albert",
     dict(vocab_size=100, embedding_size=24, hidden_size=32, num_attention_heads=1, num_hidden_layers=4,
          num_hidden_groups=2, inner_group_num=2, intermediate_size=36, hidden_act="gelu",
          layer_norm_eps=1e-5, max_position_embeddings=34, type_vocab_size=2, pad_token_id=0),
     dict(add_pooling_layer=True), ["head_mask"]),
    ("albert-relu-e32-h32-g2i1-l3-nopool", "albert",
     dict(vocab_size=90, embedding_size=32, hidden_size=32, num_attention_heads=1, num_hidden_layers=3,
          num_hidden_groups=2, inner_group_num=1, intermediate_size=36, hidden_act="relu",
          layer_norm_eps=1e-6, max_position_embeddings=34, type_vocab_size=2, pad_token_id=0),
     dict(add_pooling_layer=False), []),
    # ALBERT adds relative position scores after the 1/sqrt(d) scaling and after the mask
    # (modeling_albert.py:L312-332), BERT before both (modeling_bert.py).
    ("albert-gelunew-e16-h36-relkq", "albert",
     dict(vocab_size=100, embedding_size=16, hidden_size=36, num_attention_heads=3, num_hidden_layers=1,
          num_hidden_groups=1, inner_group_num=1, intermediate_size=40, hidden_act="gelu_new",
          layer_norm_eps=1e-12, max_position_embeddings=34, type_vocab_size=2, pad_token_id=0,
          position_embedding_type="relative_key_query"),
     dict(add_pooling_layer=True), []),
    # MPNet: relative_attention_num_buckets 32 (the default) and 48: the bucketing always uses 32
    # (compute_position_bias is called with its default num_buckets=32, modeling_mpnet.py:L331,L363),
    # so rows 32..47 of relative_attention_bias are never read.
    ("mpnet-gelu-h36-pool", "mpnet",
     dict(vocab_size=100, hidden_size=36, num_attention_heads=3, num_hidden_layers=2, intermediate_size=40,
          hidden_act="gelu", layer_norm_eps=1e-5, max_position_embeddings=36, relative_attention_num_buckets=32,
          pad_token_id=1),
     dict(add_pooling_layer=True), ["mask3d", "position_ids", "head_mask", "pad_ids_unmasked"]),
    ("mpnet-relu-h32-b48-nopool", "mpnet",
     dict(vocab_size=100, hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=36,
          hidden_act="relu", layer_norm_eps=1e-12, max_position_embeddings=36, relative_attention_num_buckets=48,
          pad_token_id=1),
     dict(add_pooling_layer=False), []),
]

# The names of query/key projections (gain 1.6: peaked attention). BERT-like: attention.self.query;
# ALBERT: attention.query; DistilBERT: attention.q_lin; MPNet: attention.attn.q.
QK_SUFFIXES = (".query", ".key", ".q_lin", ".k_lin", ".attn.q", ".attn.k")


def init_family_(model, g, keep=()):
    """Scale up every parameter (see header). Parameters shared by two modules (a MaskedLM decoder
    tied to the word embeddings, a decoder bias tied to the head's bias) are drawn once, by the
    first module that owns them; `keep` names modules left as transformers initialized them."""
    done = set()

    def fresh(p):
        if id(p) in done:
            return False
        done.add(id(p))
        return True

    with torch.no_grad():
        for mname, module in model.named_modules():
            if mname in keep:
                for p in module.parameters():
                    done.add(id(p))
            elif isinstance(module, nn.Linear):
                gain = 1.6 if mname.endswith(QK_SUFFIXES) else 1.0
                if fresh(module.weight):
                    module.weight.copy_(randn(module.weight.shape, g, gain / math.sqrt(module.weight.shape[1])))
                if module.bias is not None and fresh(module.bias):
                    module.bias.copy_(randn(module.bias.shape, g, 0.1))
            elif isinstance(module, nn.LayerNorm):
                if fresh(module.weight):
                    module.weight.copy_(1.0 + randn(module.weight.shape, g, 0.2))
                if module.bias is not None and fresh(module.bias):
                    module.bias.copy_(randn(module.bias.shape, g, 0.2))
            elif isinstance(module, nn.Embedding):
                std = 1.0 if mname.endswith("relative_attention_bias") else \
                    0.3 if mname.endswith("distance_embedding") else 0.5
                if fresh(module.weight):
                    module.weight.copy_(randn(module.weight.shape, g, std))
        for pname, p in model.named_parameters():  # anything not owned by the three module types
            if fresh(p):
                p.copy_(randn(p.shape, g, 0.1))


def make_config(arch, cfg_kwargs):
    config = arch.config_cls(**cfg_kwargs)
    config._attn_implementation = "eager"
    return config


def padding_idx_of(model):
    """The index the reference numbers positions from (RoBERTa-like, MPNet), read from the model:
    RobertaEmbeddings.padding_idx = config.pad_token_id (modeling_roberta.py:L76), MPNetEmbeddings
    hard-codes 1 (modeling_mpnet.py:L71)."""
    emb = model.embeddings
    return int(emb.padding_idx)


def expected_attention_class(model_type):
    """The eager attention module of each architecture (the fixtures must come from it)."""
    return {"roberta": "RobertaSelfAttention", "xlm-roberta": "XLMRobertaSelfAttention",
            "camembert": "CamembertSelfAttention", "distilbert": "MultiHeadSelfAttention",
            "electra": "ElectraSelfAttention", "albert": "AlbertAttention", "mpnet": "MPNetSelfAttention"}[model_type]


def save_and_reload(d, model, cls, ctor_kwargs):
    """save_pretrained(safe_serialization=True) into d/model, then reload as a user would: the
    fixture must be what the saved directory computes."""
    save_pretrained_dir(d, model)
    return reload_model(d, cls, **ctor_kwargs).eval()


# ----------------------------------------------------------------------------- cases


def family_cases(arch, model, cfg, names, g):
    """Yield (case, inputs, compare_mask, note). Padded positions hold the pad id (as a tokenizer
    writes them), real tokens never do: RoBERTa-like and MPNet positions depend on it."""
    V, P = cfg.vocab_size, cfg.max_position_embeddings
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    T = getattr(cfg, "type_vocab_size", 0)
    from_ids = arch.positions_from_ids
    pad = padding_idx_of(model) if from_ids else cfg.pad_token_id
    # The longest sequence whose positions exist: padding_idx + S must be < P when positions are
    # numbered from padding_idx + 1.
    s_max = P - pad - 1 if from_ids else P
    types = arch.takes("token_type_ids") and T > 1  # type_vocab_size 1: only 0 exists, left default

    def real_ids(shape):
        x = randint(0, V - 1, shape, g)
        return x + (x >= pad).to(torch.int64)  # uniform over the vocabulary without the pad id

    def with_types(inp, keep):
        """Random token types on real positions (keep [B,S]), 0 on padding, as a tokenizer writes them."""
        if types:
            inp["token_type_ids"] = randint(0, T, keep.shape, g) * keep
        return inp

    pos_note = (f"positions = {pad} + cumulative count of non-pad ids (pad id {pad} -> position {pad})"
                if from_ids else "positions 0..S-1")
    for name in names:
        if name == "ragged":
            lens = [1, 7, 33, s_max]
            am = lengths_mask(lens, s_max)
            ids = torch.where(am == 1, real_ids((4, s_max)), pad)
            inp = with_types(dict(input_ids=ids, attention_mask=am), am)
            yield name, inp, compare_mask_from_keep(am), (
                f"lengths 1, 7, 33, {s_max} (the longest whose positions exist, max_position_embeddings {P}); "
                f"right padding with the pad id {pad}; {pos_note}" + ("; random token types" if types else ""))
        elif name == "fully_masked":
            S = 9
            am = lengths_mask([6, 0, 0], S)
            ids = real_ids((3, S))
            ids[0, 6:] = pad
            ids[2, :] = pad
            inp = with_types(dict(input_ids=ids, attention_mask=am), am)
            yield name, inp, compare_mask_from_keep(am), (
                "row 0: length 6 of 9; rows 1 and 2: attention_mask all zeros, row 1 with real ids, row 2 all pad "
                "ids" + (f" (every position {pad})" if from_ids else "") + ". Every key of rows 1-2 gets "
                "finfo(float32).min, so their attention is exactly uniform 1/S over all S keys; compared everywhere")
        elif name == "no_mask":
            S = 10
            ids = real_ids((1, S))
            if not from_ids:
                ids[0, 4] = pad  # without a mask a pad id is an ordinary token
            yield name, dict(input_ids=ids), compare_mask_from_keep(torch.ones(1, S)), (
                "no attention_mask" + (", no token_type_ids" if arch.takes("token_type_ids") else "")
                + (" (defaults: all ones, all zeros)" if arch.takes("token_type_ids") else " (default: all ones)")
                + ("; no pad id (see pad_ids_unmasked)" if from_ids else f"; position 4 holds the pad id {pad}"))
        elif name == "pad_ids_unmasked":
            S = 10
            ids = real_ids((2, S))
            ids[0, [3, 7]] = pad
            ids[1, 8:] = pad
            am = torch.ones(2, S, dtype=torch.int64)
            yield name, dict(input_ids=ids, attention_mask=am), compare_mask_from_keep(am), (
                f"pad id {pad} inside real text with attention_mask all ones: row 0 at 3 and 7, row 1 at 8-9. "
                f"Positions come from the ids, not the mask: the pad ids get position {pad} and the tokens after "
                "them continue the count without them; every position attends and is compared")
        elif name == "mask3d":
            S = 10
            am = (torch.rand((2, S, S), generator=g) > 0.35).to(torch.int64)
            am[:, torch.arange(S), torch.arange(S)] = 1
            am[1, 4, :] = 0  # a query row that sees nothing: uniform attention
            ids = real_ids((2, S))
            inp = with_types(dict(input_ids=ids, attention_mask=am), torch.ones(2, S, dtype=torch.int64))
            yield name, inp, compare_mask_from_keep(torch.ones(2, S)), (
                "3-D attention_mask [B,S,S] (query, key) with random zeros; batch 1 query 4 sees no key "
                "(uniform attention); no pad ids; all positions compared")
        elif name == "position_ids":
            S = 12
            first = (pad + 1 if from_ids else 0) + 2
            pos = torch.stack([torch.arange(S) + first, torch.randperm(P, generator=g)[:S]])
            am = lengths_mask([S, 10], S)
            ids = torch.where(am == 1, real_ids((2, S)), pad)
            inp = with_types(dict(input_ids=ids, attention_mask=am, position_ids=pos), am)
            yield name, inp, compare_mask_from_keep(am), (
                f"explicit position_ids (used as given, not derived from the ids): row 0 = {first}..{first + S - 1}, "
                f"row 1 = random distinct positions < {P}; row 1 length 10 of 12"
                + ("; MPNet's relative bias still uses 0..S-1 (modeling_mpnet.py:L331)" if arch.model_type == "mpnet"
                   else ""))
        elif name == "head_mask":
            S = 8
            hm = torch.rand((L, H), generator=g) * 1.5
            hm[torch.rand((L, H), generator=g) < 0.3] = 0.0
            hm[0, 0] = 0.0
            am = lengths_mask([S, 5], S)
            ids = torch.where(am == 1, real_ids((2, S)), pad)
            inp = dict(input_ids=ids, attention_mask=am, head_mask=hm)
            text = ("head_mask [L,H] with zeros and non-binary values (multiplies the attention probabilities; "
                    "the returned attentions include it); row 1 length 5 of 8")
            if arch.model_type == "albert":
                G, I = cfg.num_hidden_groups, cfg.inner_group_num
                per = int(L / G)
                text += (f". ALBERT: inner layer j of the group run at depth i uses row "
                         f"int(i/(L/G))*int(L/G) + j (modeling_albert.py:L522,L527,L476), here L={L}, G={G}, "
                         f"inner {I}: rows used " + ", ".join(
                             f"depth {i}: " + "/".join(str(int(i / (L / G)) * per + j) for j in range(I))
                             for i in range(L)))
            yield name, inp, compare_mask_from_keep(am), text
        else:
            raise ValueError(name)


def run_base(model, inp):
    with torch.no_grad():
        out = model(**inp, output_hidden_states=True, output_attentions=True, return_dict=True)
    res = {"last_hidden_state": out.last_hidden_state}
    pooled = getattr(out, "pooler_output", None)
    if pooled is not None:
        res["pooler_output"] = pooled
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_states.{i}"] = h
    for i, a in enumerate(out.attentions):
        res[f"attentions.{i}"] = a
    return res


def check_fully_masked(name, inp, out):
    """How exactly uniform is the attention of the rows with no unmasked key (reported)."""
    am = inp["attention_mask"]
    rows = (am.sum(dim=1) == 0).nonzero().flatten().tolist()
    S = am.shape[1]
    worst = 0.0
    for k, v in out.items():
        if k.startswith("attentions."):
            for r in rows:
                worst = max(worst, float((v[r] - 1.0 / S).abs().max()))
    note(name, "fully_masked", f"rows {rows}: max |attention - 1/S| = {worst:.1e}")


def compared_diff(a, b, cmp):
    sel = cmp.to(torch.bool)
    return float((a[sel] - b[sel]).abs().max())


def sensitivity(name, arch, model, case, inp, res):
    """How far the usual mistakes move the outputs (reported): the fixtures must tell them apart."""
    pad = padding_idx_of(model) if arch.positions_from_ids else None
    cmp = res["compare_mask"]

    def rerun(**kw):
        with torch.no_grad():
            return model(**dict(inp, **kw)).last_hidden_state

    if arch.positions_from_ids and case == "ragged":
        B, S = inp["input_ids"].shape
        bert_pos = torch.arange(S).expand(B, S)
        d = compared_diff(rerun(position_ids=bert_pos), res["last_hidden_state"], cmp)
        note(name, case, f"BERT positions 0..S-1 instead of {pad + 1}..: max |diff| {d:.2e}")
    if arch.positions_from_ids and case == "pad_ids_unmasked":
        am = inp["attention_mask"]
        mask_pos = torch.cumsum(am, 1) * am + pad
        note(name, case, f"positions counted from attention_mask instead of the ids: max |diff| "
                         f"{compared_diff(rerun(position_ids=mask_pos), res['last_hidden_state'], cmp):.2e}")


def albert_head_mask_rows(name, model, cfg):
    """Which returned attentions a zero in head_mask row r silences (read off the reference)."""
    L, H = cfg.num_hidden_layers, cfg.num_attention_heads
    ids = torch.arange(5, 11)[None]
    rows = []
    for r in range(L):
        hm = torch.ones(L, H)
        hm[r] = 0.0
        with torch.no_grad():
            att = model(input_ids=ids, head_mask=hm, output_attentions=True).attentions
        rows.append(f"row {r} -> attentions " + (",".join(str(i) for i, a in enumerate(att) if not a.any()) or "none"))
    note(name, "head_mask", "zeroing one head_mask row: " + "; ".join(rows))


def make_body(root, name, model_type, cfg_kwargs, ctor_kwargs, extra, seed):
    arch = ARCHS[model_type]
    assert arch.mask3d or "mask3d" not in extra, name
    assert all(k in arch.init_args for k in ctor_kwargs), (name, ctor_kwargs)
    d = root / name
    d.mkdir(parents=True)
    config = make_config(arch, cfg_kwargs)
    torch.manual_seed(seed)
    model = arch.base_cls(config, **ctor_kwargs).eval()
    keep = ()
    if model_type == "distilbert" and config.sinusoidal_pos_embds:
        keep = ("embeddings.position_embeddings",)  # written by _init_weights, modeling_distilbert.py:L586-589
    init_family_(model, gen(seed), keep)
    model = save_and_reload(d, model, arch.base_cls, ctor_kwargs)
    att = {type(m).__name__ for m in model.modules() if type(m).__name__.endswith("Attention")}
    want = expected_attention_class(model_type)
    assert want in att and not any("Sdpa" in a or "Flash" in a for a in att), (name, att)
    if keep:
        ref = torch.empty_like(model.embeddings.position_embeddings.weight)
        from transformers.models.distilbert.modeling_distilbert import _create_sinusoidal_embeddings
        _create_sinusoidal_embeddings(config.max_position_embeddings, config.dim, ref)
        assert torch.equal(ref, model.embeddings.position_embeddings.weight), name
        note(name, "-", "saved position_embeddings.weight == transformers' sinusoidal table (bit for bit)")
    if model_type == "mpnet":
        # compute_position_bias buckets with its own default, not the config's (modeling_mpnet.py:L331,L363).
        nb = inspect.signature(model.encoder.compute_position_bias).parameters["num_buckets"].default
        S = config.max_position_embeddings
        rp = torch.arange(S)[None, :] - torch.arange(S)[:, None]  # memory - context, as L372
        used = model.encoder.relative_position_bucket(rp, num_buckets=nb)
        note(name, "-", f"relative_attention_bias has {config.relative_attention_num_buckets} rows, bucketing "
                        f"uses num_buckets={nb}; buckets used for |distance| < {S}: "
                        f"{sorted(set(used.flatten().tolist()))}")

    names = ["ragged", "fully_masked", "no_mask"] + extra
    cases, outputs = [], None
    g = gen(seed + 1)
    for case, inp, cmp, text in family_cases(arch, model, config, names, g):
        for k in inp:
            assert arch.takes(k), (name, case, k)  # every input is a forward argument of the base model
        res = run_base(model, inp)
        if case == "fully_masked":
            check_fully_masked(name, inp, res)
        res["compare_mask"] = cmp
        assert all(torch.isfinite(v.float()).all() for v in res.values()), (name, case)
        sensitivity(name, arch, model, case, inp, res)
        names_here = [k for k in res if k != "compare_mask"]
        assert outputs is None or names_here == outputs, (name, case)
        outputs = names_here
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", res)
        cases.append({"name": case, "options": {"all_hidden": True, "attentions": True, "causal": False},
                      "note": text})
        SUMMARY.append((name, case, describe(inp),
                        describe({k: res[k] for k in ("last_hidden_state", "attentions.0")})))
    if model_type == "albert":
        if "head_mask" in extra:
            albert_head_mask_rows(name, model, config)
        note(name, "-", f"{config.num_hidden_layers} layers x inner_group_num {config.inner_group_num}: "
                        f"{sum(k.startswith('attentions.') for k in outputs)} attentions, "
                        f"{sum(k.startswith('hidden_states.') for k in outputs)} hidden_states")
    ctor = ", ".join(f"{k}={v}" for k, v in ctor_kwargs.items())
    write_json(d / "cases.json", {
        "model_type": model_type,
        "model_class": arch.base_cls.__name__,
        "model_kwargs": ctor_kwargs,
        "reference": f"transformers {transformers.__version__} {arch.base_cls.__name__}({ctor}), "
                     "attn_implementation=eager",
        "outputs": outputs,
        "cases": cases,
    })


# ----------------------------------------------------------------------------- heads

# One small config per architecture for its heads; the architecture's defaults otherwise
# (activation, eps: the heads see what an unconfigured model does).
HEAD_CONFIGS = {
    "roberta": dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=1,
                    intermediate_size=32, max_position_embeddings=16, type_vocab_size=1),
    "xlm-roberta": dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=1,
                        intermediate_size=32, max_position_embeddings=16, type_vocab_size=1),
    "camembert": dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=1,
                      intermediate_size=32, max_position_embeddings=16, type_vocab_size=1),
    "distilbert": dict(vocab_size=48, dim=24, n_heads=2, n_layers=1, hidden_dim=32, max_position_embeddings=16),
    "electra": dict(vocab_size=48, embedding_size=16, hidden_size=24, num_attention_heads=2, num_hidden_layers=1,
                    intermediate_size=32, max_position_embeddings=16),
    # two layers sharing one set of weights (num_hidden_groups 1, inner_group_num 1)
    "albert": dict(vocab_size=48, embedding_size=16, hidden_size=24, num_attention_heads=2, num_hidden_layers=2,
                   num_hidden_groups=1, inner_group_num=1, intermediate_size=32, max_position_embeddings=16),
    "mpnet": dict(vocab_size=48, hidden_size=24, num_attention_heads=2, num_hidden_layers=1,
                  intermediate_size=32, max_position_embeddings=16),
}
NUM_LABELS = {"sequence-classification": 3, "token-classification": 5, "question-answering": 2}


def head_inputs(arch, model, cfg, g):
    """Three sequences, lengths 12, 7, 3 (right padding with the pad id), a start and an end
    special token as the architecture's tokenizer writes them (<s> ... </s> for RoBERTa-like and
    MPNet, [CLS] ... [SEP] = 2 ... 3 as in heads/ otherwise), token types 1 on the second half
    where the model has two."""
    B, S = 3, 12
    from_ids = arch.positions_from_ids
    pad = padding_idx_of(model.base_model) if from_ids else cfg.pad_token_id
    start, end = (cfg.bos_token_id, cfg.eos_token_id) if from_ids else (2, 3)
    ids = randint(5, cfg.vocab_size, (B, S), g)
    mask = torch.zeros(B, S, dtype=torch.int64)
    types = torch.zeros(B, S, dtype=torch.int64)
    for b, n in enumerate([12, 7, 3]):
        mask[b, :n] = 1
        ids[b, 0] = start
        ids[b, n - 1] = end
        ids[b, n:] = pad
        types[b, n // 2:n] = 1
    inp = {"input_ids": ids, "attention_mask": mask}
    if arch.takes("token_type_ids") and getattr(cfg, "type_vocab_size", 1) > 1:
        inp["token_type_ids"] = types
    return inp


def make_head(root, model_type, task, cls, seed):
    arch = ARCHS[model_type]
    name = f"{model_type}-head-{task}"
    d = root / name
    d.mkdir(parents=True)
    kw = dict(HEAD_CONFIGS[model_type])
    if task in NUM_LABELS:
        kw["num_labels"] = NUM_LABELS[task]
    config = make_config(arch, kw)
    torch.manual_seed(seed)
    model = cls(config).eval()
    init_family_(model, gen(seed))
    model.tie_weights()
    model = save_and_reload(d, model, cls, {})
    inp = head_inputs(arch, model, config, gen(seed + 1))
    with torch.no_grad():
        out = model(**inp, return_dict=True)
    res = {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}
    outputs = sorted(res)
    res["compare_mask"] = inp["attention_mask"].to(torch.uint8)
    assert all(torch.isfinite(v.float()).all() for v in res.values()), name
    save_tensors(d / "ragged.in.safetensors", inp)
    save_tensors(d / "ragged.out.safetensors", res)
    shapes = ", ".join(f"{k} {list(res[k].shape)}" for k in outputs)
    write_json(d / "cases.json", {
        "model_type": model_type,
        "model_class": cls.__name__,
        "head": cls.__name__,
        "reference": f"transformers {transformers.__version__} {cls.__name__}, attn_implementation=eager",
        "outputs": outputs,
        "cases": [{"name": "ragged", "note": "lengths 12, 7, 3; right padding with the pad id; "
                   + ("token types; " if "token_type_ids" in inp else "") + shapes}],
    })
    SUMMARY.append((name, "ragged", describe(inp), shapes))


# ----------------------------------------------------------------------------- probes


def probe_unsupported():
    """What the references do with inputs the fixtures leave out (reported, not written)."""
    S = 6
    for model_type in ("distilbert", "albert"):
        arch = ARCHS[model_type]
        kw = dict(HEAD_CONFIGS[model_type])
        model = arch.base_cls(make_config(arch, kw)).eval()
        am = torch.ones(1, S, S, dtype=torch.int64)
        try:
            with torch.no_grad():
                out = model(input_ids=torch.arange(5, 5 + S)[None], attention_mask=am)
            note(model_type, "mask3d", f"3-D attention_mask accepted, last_hidden_state {list(out[0].shape)}")
        except Exception as e:  # noqa: BLE001 - we report whatever the reference raises
            note(model_type, "mask3d", f"3-D attention_mask rejected: {type(e).__name__}: {str(e)[:120]}")
    # ALBERT with inner_group_num > int(L/G) cannot run at all.
    arch = ARCHS["albert"]
    kw = dict(HEAD_CONFIGS["albert"], num_hidden_layers=2, num_hidden_groups=2, inner_group_num=2)
    model = arch.base_cls(make_config(arch, kw)).eval()
    try:
        with torch.no_grad():
            model(input_ids=torch.arange(5, 5 + S)[None])
        note("albert", "L2-G2-I2", "runs")
    except Exception as e:  # noqa: BLE001
        note("albert", "L2-G2-I2", f"num_hidden_layers 2, num_hidden_groups 2, inner_group_num 2: "
                                   f"{type(e).__name__}: {e}")


# ----------------------------------------------------------------------------- main


def main():
    root = reference_setup(__doc__, REPO / "tests" / "fixtures" / "family", "make_family_fixtures")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)

    for i, (name, model_type, cfg, ctor, extra) in enumerate(FAMILY_MODELS):
        make_body(root, name, model_type, cfg, ctor, extra, seed=4000 + 10 * i)
    i = 0
    for model_type, arch in ARCHS.items():
        for task, cls in arch.head_classes():
            make_head(root, model_type, task, cls, seed=5000 + 10 * i)
            i += 1
    probe_unsupported()

    print_report(SUMMARY, 40, 18)
    total = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    print(f"\nTotal size of {root}: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
