#!/usr/bin/env python3
"""Goldens of FlagEmbedding's BGEM3FlagModel (bge-m3: dense, sparse lexical weights, ColBERT
multi-vectors and the scores built on them) for encore, from a tiny random-weight model of
bge-m3's shape: tests/fixtures/bge-m3/.

  tiny/                  the model directory, as BAAI/bge-m3 lays it out:
    config.json, model.safetensors   XLMRobertaModel.save_pretrained (float32, keys without a
                         "roberta." prefix, pooler included); hidden 32, 2 layers, 4 heads,
                         intermediate 64, max_position_embeddings 42 (= MAX_LENGTH + 2, as
                         bge-m3's 8194 = 8192 + 2: XLM-R positions start at pad_token_id + 1 = 2)
    colbert_linear.pt    torch.save(OrderedDict(weight [32,32], bias [32])), float16
    sparse_linear.pt     torch.save(OrderedDict(weight [1,32], bias [1])), float16
                         (both as FlagEmbedding's EncoderOnlyEmbedderM3Model.save() writes them,
                         random weights, the ColBERT bias centring the vectors so that some
                         similarities are negative; float16 because BAAI's files, 2.1 MB and
                         3.5 kB for hidden 1024, have the sizes of float16 tensors: not
                         verifiable here, a loader should take float32 as well)
    tokenizer.json       tests/fixtures/tokenizer/xlm-roberta-base's tokenizer (XLM-R's
                         pipeline: Precompiled+Strip+Replace, Metaspace, Unigram,
                         TemplateProcessing) cut down to the pieces the texts below need plus
                         the one-character ASCII pieces, scores kept, ids renumbered in the
                         original order; <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last. Every text
                         below tokenizes to the same pieces as with the full file.
    tokenizer_config.json, special_tokens_map.json   as the xlm-roberta-base fixture's, with
                         the <mask> id and model_max_length 40 (AutoTokenizer gives
                         XLMRobertaTokenizerFast)
  encode.jsonl           BGEM3FlagModel(tiny, use_fp16=False, devices="cpu").encode(TEXTS,
                         max_length=40, return_dense=True, return_sparse=True,
                         return_colbert_vecs=True), all texts in one call (batch_size default 256:
                         one batch, sorted by length, right-padded)
  encode_len12.jsonl     the same for TEXTS[:16] with max_length=12 (truncation)
  encode_fp16.jsonl      TEXTS[:12] with BGEM3FlagModel's default use_fp16=True on the CPU:
                         the weights are loaded as float16 and then cast back to float32
                         (m3.py encode_single_device: `if device == "cpu": self.model.float()`),
                         so this is float32 arithmetic on float16-rounded weights
  scores.jsonl           QUERIES x PASSAGES (5 x 6): compute_lexical_matching_score,
                         colbert_score, dense dot product and compute_score
                         (default weights and [0.4, 0.2, 0.4]); the last passage, "GNU", is
                         short enough that compute_score's ColBERT max picks a padding row's 0
                         for query 4 (compute_score pads the passages to the longest one)

encode*.jsonl, one line per text, in TEXTS order:
  {"index": i, "text": str, "max_length": int, "use_fp16": bool,
   "input_ids": [int]          what the tokenizer gave (truncation=True, max_length): the ids
                               FlagEmbedding feeds, before the batch's right padding with 1,
   "dense": [float x 32]       output["dense_vecs"][i]: CLS hidden state, L2-normalised,
   "lexical_weights": {"<id>": float, ...}   output["lexical_weights"][i] exactly: keys are
                               str(token id) in FlagEmbedding's insertion order (first
                               occurrence in input_ids), values max relu(sparse_linear(h)) over
                               the occurrences, only > 0, ids 0, 1, 2, 3 left out,
   "colbert_vecs": [[float x 32], ...]   output["colbert_vecs"][i]: one row per input id after
                               the first (len(input_ids) - 1 rows, the final </s> included),
                               each L2-normalised}
scores.jsonl, one line per (query, passage) pair, query-major:
  {"query_index": qi, "passage_index": pj, "query": str, "passage": str, "max_length": 40,
   "lexical": float            compute_lexical_matching_score(q_lw, p_lw) of encode()'s dicts,
   "colbert": float            colbert_score(q_colbert, p_colbert) of encode()'s arrays,
   "dense": float              float32 dot of encode()'s dense vectors (the README's q @ p.T),
   "compute_score": {"dense", "sparse", "colbert", "sparse+dense", "colbert+sparse+dense"}
                               compute_score(all 30 pairs in this order, max_query_length=40,
                               max_passage_length=40) entry of this pair, default weights
                               [1, 1, 1] (dense, sparse, colbert),
   "compute_score_weighted": {...}   the same with weights_for_different_modes=[0.4, 0.2, 0.4],
   "query_batch_length": int, "passage_batch_length": int   the padded lengths of compute_score's
                               single batch: its ColBERT max runs over the passage's padding rows
                               too, which are zero vectors (dot 0)}
Floats are float32 values written as the shortest decimal that reads back as the same float32.

Texts: English documentation lines (compare_real_models.english_doc_lines, Debian's shipped
docs) plus "", " ", one word, punctuation, a text with repeated tokens (the sparse max per id),
characters outside the vocabulary (<unk>), the literal special tokens "<unk>", "</s>", "<s>",
"<pad>" (which the tokenizer matches as those ids), leading/trailing/multiple spaces, Cyrillic and
German, lines of exactly 38 and 39 pieces (40 and 41 ids: the max_length boundary) and a text far
longer than max_length.

Run with .venv-flag (tools/reference/requirements-flag.txt: FlagEmbedding 1.4.2):
  .venv-flag/bin/python tools/reference/make_bge_m3_fixtures.py
Single-threaded and seeded; rerunning rewrites identical files.
"""
import collections
import json
import logging
import math
import os
import shutil
import sys
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer

import FlagEmbedding
from FlagEmbedding import BGEM3FlagModel

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "bge-m3"
TINY = OUT / "tiny"
BASE_TOKENIZER = REPO / "tests" / "fixtures" / "tokenizer" / "xlm-roberta-base"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_real_models import english_doc_lines  # noqa: E402

SEED = 20240131
MAX_LENGTH = 40
SHORT_MAX_LENGTH = 12
HIDDEN, LAYERS, HEADS, INTERMEDIATE = 32, 2, 4, 64
SPARSE_BIAS = 0.4  # relu(w.h + b) with w.h ~ N(0, ~1): about two thirds of the weights > 0
SCORE_WEIGHTS = [0.4, 0.2, 0.4]
VERSIONS = {"FlagEmbedding": "1.4.2", "transformers": "4.57.6", "torch": "2.15.0"}


def check_versions():
    import importlib.metadata as md
    got = {"FlagEmbedding": md.version("FlagEmbedding"), "transformers": transformers.__version__,
           "torch": torch.__version__.split("+")[0]}
    if got != VERSIONS:
        raise SystemExit(f"wanted {VERSIONS}, running {got}: use .venv-flag (requirements-flag.txt)")


# ---------------------------------------------------------------------------------------
# Texts


def base_tokenizer():
    return Tokenizer.from_file(str(BASE_TOKENIZER / "tokenizer.json"))


def texts_and_pairs():
    lines = english_doc_lines()
    tok = base_tokenizer()
    n_ids = lambda s: len(tok.encode(s).ids)  # noqa: E731
    exactly = lambda n: next(s for s in lines[200:] if n_ids(s) == n)  # noqa: E731
    texts = ["", "encoder", " "]
    texts += lines[:30]
    texts += [
        'Wait... what?! "Quoted", (parenthesised) [bracketed] {braced}; a: b - c -- d & e @ 100% '
        '#1 $5 *star* ~tilde~ ^caret^ |pipe| \\back/slash <angle>',
        "the cat and the dog and the cat and the bird and the cat and the dog",
        "\U0001f99c parrots \u9f98 and \u2603 snowmen",
        "a <unk> b </s> c <s> d <pad> e",
        "   leading and   multiple   trailing spaces   ",
        "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440, Gr\u00fc\u00dfe!",
        exactly(MAX_LENGTH),
        exactly(MAX_LENGTH + 1),
        " ".join(lines[100:115]),
    ]
    passages = lines[40:45] + ["GNU"]
    queries = []
    for p in passages[:4]:
        words = [w for w in p.split() if w.isalpha()]
        queries.append(" ".join(words[::2][:4]))
    queries.append(lines[60])
    return texts, queries, passages


# ---------------------------------------------------------------------------------------
# The tiny model directory


def write_tokenizer(all_texts):
    """The xlm-roberta-base fixture tokenizer keeping ids 0..3, the pieces all_texts use and the
    one-character ASCII pieces (with and without the leading U+2581), in their original order,
    then <mask>. Returns the vocabulary size."""
    tj = json.loads((BASE_TOKENIZER / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    tok = base_tokenizer()
    keep = {0, 1, 2, 3}
    for s in all_texts:
        keep.update(tok.encode(s).ids)
    index = {piece: i for i, (piece, _) in enumerate(vocab)}
    for c in map(chr, range(0x21, 0x7F)):
        for piece in (c, "\u2581" + c):
            if piece in index:
                keep.add(index[piece])
    if "\u2581" in index:
        keep.add(index["\u2581"])
    mask_old = [t["id"] for t in tj["added_tokens"] if t["content"] == "<mask>"][0]
    keep.discard(mask_old)
    order = sorted(keep)
    assert order[:4] == [0, 1, 2, 3]
    new_vocab = [vocab[i] for i in order] + [vocab[mask_old]]
    mask_new = len(new_vocab) - 1
    tj["model"]["vocab"] = new_vocab
    for t in tj["added_tokens"]:
        if t["content"] == "<mask>":
            t["id"] = mask_new
    (TINY / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    cfg = json.loads((BASE_TOKENIZER / "tokenizer_config.json").read_text(encoding="utf-8"))
    dec = cfg["added_tokens_decoder"]
    dec[str(mask_new)] = dec.pop(str(mask_old))
    cfg["model_max_length"] = MAX_LENGTH
    (TINY / "tokenizer_config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n",
                                                encoding="utf-8")
    shutil.copy(BASE_TOKENIZER / "special_tokens_map.json", TINY / "special_tokens_map.json")

    # same pieces as the full fixture tokenizer on every text
    small = Tokenizer.from_file(str(TINY / "tokenizer.json"))
    for s in all_texts:
        a, b = tok.encode(s), small.encode(s)
        if a.tokens != b.tokens:
            raise SystemExit(f"cut-down tokenizer differs on {s!r}: {a.tokens} vs {b.tokens}")
        assert all(new_vocab[i][0] == t or i == 3 for i, t in zip(b.ids, b.tokens) if i > 3)
    return len(new_vocab)


def write_model(vocab_size, texts):
    from transformers import XLMRobertaConfig, XLMRobertaModel
    config = XLMRobertaConfig(
        vocab_size=vocab_size, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE, max_position_embeddings=MAX_LENGTH + 2, type_vocab_size=1,
        hidden_act="gelu", layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        initializer_range=0.02, position_embedding_type="absolute",
        architectures=["XLMRobertaModel"])
    torch.manual_seed(SEED)
    model = XLMRobertaModel(config).eval()
    g = torch.Generator().manual_seed(SEED)

    def randn(shape, std):
        return torch.randn(shape, generator=g, dtype=torch.float32) * std

    # weights of O(1) activations (attention far from uniform, the layers visibly non-linear)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1.0 + randn(p.shape, 0.2))
            elif name.endswith("bias"):
                p.copy_(randn(p.shape, 0.1))
            elif "embeddings" in name:
                p.copy_(randn(p.shape, 0.5))
            else:  # Linear [out, in]
                p.copy_(randn(p.shape, 1.0 / math.sqrt(p.shape[1])))
    model.save_pretrained(str(TINY), safe_serialization=True)

    colbert = torch.nn.Linear(HIDDEN, HIDDEN)
    sparse = torch.nn.Linear(HIDDEN, 1)
    with torch.no_grad():
        colbert.weight.copy_(randn(colbert.weight.shape, 1.0 / math.sqrt(HIDDEN)))
        # centre the ColBERT vectors: a random encoder's token states share one large direction
        # (cosines ~0.6 between any two tokens), so no max similarity would ever be negative;
        # with this bias some are, which matters for compute_score (see scores.jsonl)
        tok = Tokenizer.from_file(str(TINY / "tokenizer.json"))
        states = []
        for t in texts:
            ids = tok.encode(t).ids
            ids = ids if len(ids) <= MAX_LENGTH else ids[:MAX_LENGTH - 1] + [2]
            states.append(model(input_ids=torch.tensor([ids])).last_hidden_state[0, 1:])
        mean = torch.cat(states).mean(0)
        colbert.bias.copy_(-colbert.weight @ mean + randn(colbert.bias.shape, 0.1))
        sparse.weight.copy_(randn(sparse.weight.shape, 1.0 / math.sqrt(HIDDEN)))
        sparse.bias.fill_(SPARSE_BIAS)

    # as EncoderOnlyEmbedderM3Model.save() (finetune/embedder/encoder_only/m3/modeling.py)
    def trans_state_dict(state_dict):
        return type(state_dict)({k: v.clone().cpu().half() for k, v in state_dict.items()})
    torch.save(trans_state_dict(colbert.state_dict()), str(TINY / "colbert_linear.pt"))
    torch.save(trans_state_dict(sparse.state_dict()), str(TINY / "sparse_linear.pt"))


# ---------------------------------------------------------------------------------------
# Goldens


def f32(x):
    """float32 x as the shortest decimal that reads back as the same float32, as a Python float."""
    x = np.float32(x)
    v = float(str(x))
    assert np.float32(v) == x, x
    return v


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def load(use_fp16):
    cap = LogCapture()
    loggers = [logging.getLogger(name) for name in ("FlagEmbedding", "transformers")]
    saved = [(lg.level, lg.propagate, lg.handlers[:]) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [cap], False
        lg.setLevel(logging.INFO)
    model = BGEM3FlagModel(str(TINY), use_fp16=use_fp16, devices="cpu")
    for lg, (level, propagate, handlers) in zip(loggers, saved):
        lg.handlers, lg.propagate = handlers, propagate
        lg.setLevel(level)
    if os.environ.get("BGE_M3_SHOW_LOG"):
        print("\n".join(cap.messages))
    if not any("loading existing colbert_linear and sparse_linear" in m for m in cap.messages):
        raise SystemExit(f"the heads were not loaded: {cap.messages}")
    if any("newly initialized" in m or "new initialize" in m for m in cap.messages):
        raise SystemExit(f"something was freshly initialised: {cap.messages}")
    tok = model.tokenizer
    assert type(tok).__name__ == "XLMRobertaTokenizerFast", type(tok)
    assert tok.model_max_length == MAX_LENGTH and tok.padding_side == "right"
    return model


def encode_lines(model, texts, max_length, use_fp16):
    out = model.encode(texts, max_length=max_length, return_dense=True, return_sparse=True,
                       return_colbert_vecs=True)
    ids = model.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    lines = []
    for i, t in enumerate(texts):
        lw = out["lexical_weights"][i]
        cv = out["colbert_vecs"][i]
        assert cv.shape == (len(ids[i]) - 1, HIDDEN) and cv.dtype == np.float32
        assert out["dense_vecs"].dtype == np.float32
        assert all(isinstance(k, str) for k in lw)
        lines.append({
            "index": i, "text": t, "max_length": max_length, "use_fp16": use_fp16,
            "input_ids": ids[i],
            "dense": [f32(v) for v in out["dense_vecs"][i]],
            "lexical_weights": {k: f32(v) for k, v in lw.items()},
            "colbert_vecs": [[f32(v) for v in row] for row in cv],
        })
    return out, lines


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def score_lines(model, queries, passages):
    q = model.encode(queries, max_length=MAX_LENGTH, return_dense=True, return_sparse=True,
                     return_colbert_vecs=True)
    p = model.encode(passages, max_length=MAX_LENGTH, return_dense=True, return_sparse=True,
                     return_colbert_vecs=True)
    lexical = model.compute_lexical_matching_score(q["lexical_weights"], p["lexical_weights"])
    pairs = [(qt, pt) for qt in queries for pt in passages]
    cs = model.compute_score(pairs, max_query_length=MAX_LENGTH, max_passage_length=MAX_LENGTH)
    csw = model.compute_score(pairs, max_query_length=MAX_LENGTH, max_passage_length=MAX_LENGTH,
                              weights_for_different_modes=SCORE_WEIGHTS)
    tok = model.tokenizer
    q_len = max(len(tok(x, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for x in queries)
    p_len = max(len(tok(x, truncation=True, max_length=MAX_LENGTH)["input_ids"]) for x in passages)
    lines = []
    for k, (qi, pj) in enumerate((a, b) for a in range(len(queries)) for b in range(len(passages))):
        colbert = model.colbert_score(q["colbert_vecs"][qi], p["colbert_vecs"][pj])
        assert colbert.dtype == torch.float32
        lines.append({
            "query_index": qi, "passage_index": pj, "query": queries[qi], "passage": passages[pj],
            "max_length": MAX_LENGTH,
            "lexical": f32(lexical[qi][pj]),
            "colbert": f32(colbert.item()),
            "dense": f32(np.dot(q["dense_vecs"][qi], p["dense_vecs"][pj])),
            "compute_score": {key: f32(v[k]) for key, v in cs.items()},
            "compute_score_weighted": {key: f32(v[k]) for key, v in csw.items()},
            "query_batch_length": q_len, "passage_batch_length": p_len,
        })
    return lines


def main():
    check_versions()
    torch.set_num_threads(1)
    texts, queries, passages = texts_and_pairs()
    if TINY.exists():
        shutil.rmtree(TINY)
    TINY.mkdir(parents=True)
    vocab_size = write_tokenizer(texts + queries + passages)
    write_model(vocab_size, texts)

    model = load(use_fp16=False)
    out, lines = encode_lines(model, texts, MAX_LENGTH, False)
    write_jsonl(OUT / "encode.jsonl", lines)
    _, short = encode_lines(model, texts[:16], SHORT_MAX_LENGTH, False)
    write_jsonl(OUT / "encode_len12.jsonl", short)
    scores = score_lines(model, queries, passages)
    write_jsonl(OUT / "scores.jsonl", scores)

    fp16 = load(use_fp16=True)
    _, half = encode_lines(fp16, texts[:12], MAX_LENGTH, True)
    write_jsonl(OUT / "encode_fp16.jsonl", half)

    n_tok = sum(len(r["input_ids"]) for r in lines)
    n_kept = sum(len(r["lexical_weights"]) for r in lines)
    n_plain = sum(len(set(r["input_ids"]) - {0, 1, 2, 3}) for r in lines)
    dmax = max(abs(a - b) for r, h in zip(lines, half) for a, b in zip(r["dense"], h["dense"]))
    print(f"vocab {vocab_size}, {len(texts)} texts, {n_tok} ids; lexical weights kept for {n_kept} "
          f"of {n_plain} distinct non-special ids; truncated at {MAX_LENGTH}: "
          f"{sum(len(r['input_ids']) == MAX_LENGTH for r in lines)}; use_fp16 on the CPU moves dense "
          f"by up to {dmax:.2e}")
    padded = [(r["query_index"], r["passage_index"]) for r in scores
              if abs(r["colbert"] - r["compute_score"]["colbert"]) > 1e-4]
    print(f"pairs whose compute_score colbert differs from colbert_score (a passage padding row's 0 "
          f"beat every real similarity of some query token): {padded}")
    for f in sorted(OUT.rglob("*")):
        if f.is_file():
            print(f"  {f.relative_to(OUT)}  {f.stat().st_size}")


if __name__ == "__main__":
    main()
