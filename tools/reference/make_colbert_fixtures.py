#!/usr/bin/env python3
"""Goldens of PyLate's ColBERT (multi-vector embeddings, MaxSim) for encore: tests/fixtures/colbert/.

Every model directory is what PyLate 1.6.0 itself writes (ColBERT.save): the Transformer at the
root (config.json, model.safetensors, tokenizer files with the added prefix tokens), modules.json,
<n>_Dense/ (config.json + model.safetensors), sentence_bert_config.json,
config_sentence_transformers.json (query_prefix, document_prefix, query_length, document_length,
attend_to_expansion_tokens, skiplist_words, do_query_expansion, ...) and PyLate's README.md. The
goldens are computed by the model *reloaded* from that directory, so they are what the directory
defines. The base transformer is tests/fixtures/heads/masked-lm/model (a tiny BertForMaskedLM:
hidden 16, 2 layers, 128 positions, a 274-token lowercasing WordPiece vocabulary, [MASK] = 4).

Cases (model directory <case>/, goldens <case>.jsonl and <case>.maxsim.jsonl):
  tiny                 ColBERT(base, embedding_size=12, query_length=16, document_length=48):
                       PyLate's defaults otherwise: prefixes "[Q] " / "[D] " added to the
                       tokenizer as new tokens 274 / 275 (the word embeddings grow 274 -> 276 rows,
                       the new rows drawn by transformers' mean_resizing), query expansion with
                       [MASK] (id 4) that is *not* attended (attention_mask 0), skiplist =
                       string.punctuation, one Dense 16 -> 12 without bias, Identity.
  tiny-attend          tiny/ reloaded with attend_to_expansion_tokens=True, query_length=24,
                       document_length=24, embedding_size=8, bias=True: PyLate appends a second
                       Dense 12 -> 8 with bias (2_Dense), so the projection is a chain of two;
                       the query's [MASK] expansion tokens are attended (attention_mask all 1).
  tiny-noexp           ColBERT(base, embedding_size=12, query_length=16, document_length=48,
                       do_query_expansion=False, query_prefix="",
                       skiplist_words=["the", ".", ",", "zzzq"]): queries get no prefix token
                       and no [MASK] padding (only "[D] " is added: id 274, 275 rows); the
                       skiplist holds a whole word ("the", a vocabulary token) and a word that is
                       not in the vocabulary, which convert_tokens_to_ids maps to [UNK] (id 1), so
                       [UNK] tokens are dropped from documents.
  tiny-dense-tanh-res  ColBERT(modules=[Transformer(base), pylate Dense(16 -> 12, bias=True,
                       activation_function=Tanh, use_residual=True)], query_length=16,
                       document_length=48): the Dense options PyLate's Dense can save
                       (activation, bias, residual projection "residual.weight" 16 -> 12).
  stanford             a Stanford ColBERT checkpoint (colbert-ai's HF_ColBERT layout, as
                       colbert-ir/colbertv2.0) written by stanford_dir(): no modules.json, the
                       body under bert.* and linear.weight in pytorch_model.bin, the prefixes
                       [unused0] / [unused1] and the lengths in artifact.metadata; PyLate loads
                       it with Dense.from_stanford_weights.

Texts: 30 English documentation lines (compare_real_models.english_doc_lines, Debian's shipped
docs) plus awkward ones: "", one word, a line far longer than document_length (truncation),
punctuation-heavy lines (the skiplist), a punctuation-only line, short queries, surrounding
whitespace (stripped), upper case (the tokenizer lowercases), literal "[Q] " / "[D] " / "[MASK]"
in the text (matched as added tokens by the tokenizer), characters outside the vocabulary
([UNK]). tiny encodes all of them; the other cases the first SMALL of them (the awkward ones come
first).

<case>.jsonl, one line per (text, is_query), texts in order, each text first as a query then as
a document:
  {"text": str, "is_query": bool,
   "input_ids": [int], "attention_mask": [int],   what PyLate feeds the transformer for this text
                      (prefix inserted after [CLS], query expansion done), without the padding
                      the batch adds: for queries with do_query_expansion all query_length
                      positions, otherwise the positions with attention_mask 1 (right padding;
                      token_type_ids are all 0 and are not written),
   "kept": [int],     1 for the positions encode() returns (documents: attention_mask 1 and id
                      not in the skiplist; queries with expansion: all; without: attention_mask 1)
   "embeddings": [[float]]  model.encode(text, is_query=...): one L2-normalized vector per kept
                      position, in position order}
<case>.maxsim.jsonl, one line per query (6 queries x the same 8 documents, embeddings as above):
  {"query": str, "documents": [str],
   "scores": [float],           pylate.scores.colbert_scores(queries, documents) on the
                                zero-padded stacks (how rerank and any batched call see them):
                                a document shorter than the longest of the 8 has zero vectors
                                whose dot product 0 takes part in the max,
   "scores_unpadded": [float],  colbert_scores of this query and this document alone
                                (sum over query vectors of the max dot product over the
                                document's vectors),
   "rerank": [{"id": int, "score": float}]}  pylate.rank.rerank for this query: ids index
                                "documents", sorted by score descending (the padded scores)
Floats are float32 values written with the shortest decimal that reads back as the same float32.

Run with .venv-pylate (tools/reference/requirements-pylate.txt: pylate 1.6.0,
sentence-transformers 5.3.0, torch 2.11.0 on the CPU):
  .venv-pylate/bin/python tools/reference/make_colbert_fixtures.py
Rerunning rewrites identical files.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import torch
from pylate import models, rank, scores
from sentence_transformers.models import Transformer

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "colbert"
BASE = REPO / "tests" / "fixtures" / "heads" / "masked-lm" / "model"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_real_models import english_doc_lines  # noqa: E402

SMALL = 18
QUERIES = [1, 2, 3, 8, 12, 16]             # text indices used as MaxSim queries
DOCUMENTS = [0, 4, 5, 10, 11, 13, 15, 17]  # text indices used as MaxSim documents


def texts():
    lines = english_doc_lines()
    awkward = [
        "",
        "license",
        "free software",
        "Is the GNU license free?",
        "Hello, world!!! (see: a.b/c; d-e) -- [x] {y} ~z~ #1 @me $5 & 100% \"quoted\" 'single' <tag>",
        "...!!! ??? ,,, ;;; :::",
        "   surrounding whitespace is stripped   ",
        "UPPER CASE Words Are Lowercased By The Tokenizer",
        "what is [Q] here, [D] there and [MASK] everywhere?",
        "costs 5 \u20ac or 4 \u00a3 \u2014 caf\u00e9 \u65e5\u672c",
        " ".join(lines[100:130]),  # far longer than any document_length
        "the the the. the, the",
    ]
    return awkward + lines[:30]


def f32(v):
    """The shortest decimal that reads back as this float32, as a JSON number."""
    x = np.float32(v)
    s = str(x)
    out = float(s)
    assert np.float32(out) == x, (s, x)
    return out


def save_and_reload(model, name):
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    model.save(str(d))
    return models.ColBERT(str(d), device="cpu")


def encode_records(model, text_list):
    """One record per (text, is_query) in the order text0 query, text0 document, text1 query, ..."""
    per_kind = {}
    for is_query in (True, False):
        full = model.encode(text_list, is_query=is_query, output_value=None, show_progress_bar=False)
        kept = model.encode(text_list, is_query=is_query, show_progress_bar=False)
        recs = []
        for i, t in enumerate(text_list):
            ids = full["input_ids"][i]
            att = full["attention_mask"][i]
            mask = full["masks"][i].astype(bool)
            emb = kept[i]
            # encode(output_value=None) normalizes every position; the default path normalizes the
            # kept ones: the same vectors.
            np.testing.assert_allclose(full["token_embeddings"][i][mask], emb, rtol=0, atol=1e-6)
            if is_query and model.do_query_expansion:
                n = len(ids)
                assert n == model.query_length
            else:
                n = int(att.sum())
                assert att[:n].all() and not att[n:].any()
            assert not mask[n:].any()
            recs.append({
                "text": t,
                "is_query": is_query,
                "input_ids": ids[:n].tolist(),
                "attention_mask": att[:n].tolist(),
                "kept": mask[:n].astype(int).tolist(),
                "embeddings": [[f32(v) for v in row] for row in emb],
            })
        per_kind[is_query] = (recs, kept)
    return per_kind


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def maxsim_records(text_list, q_emb, d_emb):
    qs = [torch.from_numpy(q_emb[i]) for i in QUERIES]
    ds = [torch.from_numpy(d_emb[j]) for j in DOCUMENTS]
    q_pad = torch.nn.utils.rnn.pad_sequence(qs, batch_first=True, padding_value=0)
    d_pad = torch.nn.utils.rnn.pad_sequence(ds, batch_first=True, padding_value=0)
    padded = scores.colbert_scores(q_pad, d_pad, backend="torch")
    reranked = rank.rerank(documents_ids=[list(range(len(DOCUMENTS)))] * len(QUERIES),
                           queries_embeddings=qs, documents_embeddings=[ds] * len(QUERIES))
    recs = []
    for a, q in enumerate(qs):
        alone = [float(scores.colbert_scores(q[None], d[None], backend="torch")[0, 0]) for d in ds]
        recs.append({
            "query": text_list[QUERIES[a]],
            "documents": [text_list[j] for j in DOCUMENTS],
            "scores": [f32(v) for v in padded[a].tolist()],
            "scores_unpadded": [f32(v) for v in alone],
            "rerank": [{"id": r["id"], "score": f32(r["score"])} for r in reranked[a]],
        })
    return recs


def write_case(name, model, text_list):
    per_kind = encode_records(model, text_list)
    (q_recs, q_emb), (d_recs, d_emb) = per_kind[True], per_kind[False]
    records = [r for pair in zip(q_recs, d_recs) for r in pair]
    write_jsonl(OUT / f"{name}.jsonl", records)
    write_jsonl(OUT / f"{name}.maxsim.jsonl", maxsim_records(text_list, q_emb, d_emb))


def stanford_dir(dest):
    """A Stanford ColBERT checkpoint (colbert-ai's HF_ColBERT, the layout of colbert-ir/colbertv2.0)
    of the tiny base, written as colbert-ai writes one: config.json with architectures
    ["HF_ColBERT"], pytorch_model.bin with the body under bert.* and the projection
    linear.weight [12, 16] (no bias), artifact.metadata with the prefixes and lengths, and a
    vocabulary that has [unused0] / [unused1] (as bert-base-uncased's does: no new tokens)."""
    from transformers import BertModel
    dest.mkdir(parents=True)
    tok = json.loads((BASE / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    n = len(vocab)
    vocab["[unused0]"], vocab["[unused1]"] = n, n + 1
    (dest / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False))
    shutil.copy(BASE / "tokenizer_config.json", dest / "tokenizer_config.json")
    bert = BertModel.from_pretrained(str(BASE))
    bert.resize_token_embeddings(n + 2)  # the two new rows: drawn with the seed (mean_resizing)
    bert.config.architectures = ["HF_ColBERT"]
    bert.config.save_pretrained(str(dest))
    state = {"bert." + k: v.contiguous() for k, v in bert.state_dict().items()}
    state["linear.weight"] = (torch.randn(12, 16) * 0.3).contiguous()
    torch.save(state, dest / "pytorch_model.bin")
    (dest / "artifact.metadata").write_text(json.dumps(
        {"query_token_id": "[unused0]", "doc_token_id": "[unused1]", "query_maxlen": 16, "doc_maxlen": 48,
         "attend_to_mask_tokens": False, "dim": 12, "similarity": "cosine"}, indent=1))
    return dest


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    all_texts = texts()
    small = all_texts[:SMALL]
    assert max(QUERIES + DOCUMENTS) < SMALL
    with tempfile.TemporaryDirectory() as tmp:
        # A fixed name inside the temporary directory: PyLate's model card would record a base
        # model path if it were a hub id; this keeps every written byte independent of tmp.
        base = Path(tmp) / "base"
        shutil.copytree(BASE, base)

        torch.manual_seed(0)  # the pooler, the mean_resizing rows and the Dense are random
        m = models.ColBERT(str(base), device="cpu", embedding_size=12, query_length=16,
                           document_length=48)
        tiny = save_and_reload(m, "tiny")
        write_case("tiny", tiny, all_texts)

        torch.manual_seed(1)
        m = models.ColBERT(str(OUT / "tiny"), device="cpu", attend_to_expansion_tokens=True,
                           query_length=24, document_length=24, embedding_size=8, bias=True)
        write_case("tiny-attend", save_and_reload(m, "tiny-attend"), small)

        torch.manual_seed(2)
        m = models.ColBERT(str(base), device="cpu", embedding_size=12, query_length=16,
                           document_length=48, do_query_expansion=False, query_prefix="",
                           skiplist_words=["the", ".", ",", "zzzq"])
        write_case("tiny-noexp", save_and_reload(m, "tiny-noexp"), small)

        torch.manual_seed(3)
        transformer = Transformer(str(base))
        dense = models.Dense(in_features=16, out_features=12, bias=True,
                             activation_function=torch.nn.Tanh(), use_residual=True)
        m = models.ColBERT(modules=[transformer, dense], device="cpu", query_length=16,
                           document_length=48)
        write_case("tiny-dense-tanh-res", save_and_reload(m, "tiny-dense-tanh-res"), small)

        torch.manual_seed(4)
        d = OUT / "stanford"
        if d.exists():
            shutil.rmtree(d)
        m = models.ColBERT(str(stanford_dir(d)), device="cpu")
        assert m.query_prefix == "[unused0]" and m.query_length == 16 and m.document_length == 48
        assert len(m.tokenizer) == m[0].auto_model.config.vocab_size  # no token added, no random row
        assert torch.equal(m[1].linear.weight, torch.load(d / "pytorch_model.bin")["linear.weight"])
        write_case("stanford", m, small)


if __name__ == "__main__":
    main()
