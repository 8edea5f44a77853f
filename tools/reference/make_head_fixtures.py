#!/usr/bin/env python3
"""Task-head and pipeline fixtures under tests/fixtures/heads/ (see tests/fixtures/README.md).

Small random BERT models with each transformers head (BertForMaskedLM, BertForPreTraining,
BertForNextSentencePrediction, BertForSequenceClassification, BertForTokenClassification,
BertForQuestionAnswering), saved with save_pretrained plus a small WordPiece tokenizer
(BertTokenizerFast.save_pretrained writes tokenizer.json). For each model:

  <name>/model/                 what encore loads
  <name>/cases.json             as core/: dialect, reference, cases
  <name>/<case>.in.safetensors  forward inputs (input_ids, attention_mask, token_type_ids)
  <name>/<case>.out.safetensors the head outputs named as transformers names them, plus
                                compare_mask (1 = real position)
  <name>/pipeline.jsonl         what the transformers pipeline (or sentence-transformers
                                CrossEncoder, or the NSP softmax) returns on real sentences

`google-pretraining` holds the weights of `pretraining` renamed to Google's variable names
(bert_config.json, dense kernels [in,out], cls/seq_relationship/output_weights [2,H]) with
hidden_act gelu_new (modeling.py's gelu is the tanh form); its expected outputs are HF's on
inputs without padding (where a -10000 and a float32-min mask agree).

Weights are scaled as in make_core_fixtures.py (std-0.02 inits give near-uniform outputs
and would hide a wrong head). Run with .venv-ref (transformers 4.57.6, sentence-transformers
6.2.0, torch). Rerunning rewrites identical files.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from transformers import (BertConfig, BertForMaskedLM, BertForNextSentencePrediction, BertForPreTraining,
                          BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
                          BertTokenizerFast, pipeline)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "heads"
torch.set_num_threads(1)


def license_sentences(limit, lo=30, hi=200):
    text = open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read()
    text += open("/usr/share/common-licenses/Apache-2.0", encoding="utf-8").read()
    parts = re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", text))
    out = [p.strip() for p in parts if lo <= len(p.strip()) <= hi]
    return out[:: max(1, len(out) // limit)][:limit]


def make_vocab():
    """Specials, single characters and their ## forms (so almost nothing is [UNK]), and
    the most frequent words of the GPL: words split into several pieces, which exercises
    the first/average/max aggregation rules."""
    text = open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read().lower()
    words = re.findall(r"[a-z]+", text)
    freq = {}
    for w in words:
        freq[w] = freq.get(w, 0) + 1
    top = [w for w, _ in sorted(freq.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][:160]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789") + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    for w in top:
        if w not in vocab:
            vocab.append(w)
    for suffix in ["ing", "ed", "s", "tion", "er", "ly"]:
        if "##" + suffix not in vocab:
            vocab.append("##" + suffix)
    return vocab


def init_weights(model, seed):
    """make_core_fixtures.py's scaling: peaked attention, non-trivial LayerNorms and heads."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("LayerNorm.bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif "embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2:
                gain = 1.6 if (".query." in name or ".key." in name) else 1.0
                p.copy_(torch.randn(p.shape, generator=g) * gain / math.sqrt(p.shape[1]))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def base_config(vocab, **kw):
    c = dict(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
             max_position_embeddings=128, type_vocab_size=2, hidden_act="gelu", hidden_dropout_prob=0.1,
             attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12)
    c.update(kw)
    return BertConfig(**c)


def forward_inputs(vocab_size, seed):
    """Three sequences, lengths 12, 7, 3 (right padding), random token types after [CLS]."""
    g = torch.Generator().manual_seed(seed)
    B, S = 3, 12
    ids = torch.randint(5, vocab_size, (B, S), generator=g)
    mask = torch.zeros(B, S, dtype=torch.int64)
    types = torch.zeros(B, S, dtype=torch.int64)
    for b, n in enumerate([12, 7, 3]):
        mask[b, :n] = 1
        ids[b, 0] = 2
        ids[b, n - 1] = 3
        ids[b, n:] = 0
        types[b, n // 2:n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def save_case(d, name, model, inputs, keep_padding=True):
    with torch.no_grad():
        out = model(**inputs)
    tensors = {k: v.float().contiguous().numpy() for k, v in out.items() if isinstance(v, torch.Tensor)}
    tensors["compare_mask"] = inputs["attention_mask"].numpy().astype(np.uint8)
    save_file({k: v.numpy() for k, v in inputs.items()}, str(d / f"{name}.in.safetensors"))
    save_file(tensors, str(d / f"{name}.out.safetensors"))
    return sorted(k for k in tensors if k != "compare_mask")


def write_model(d, model, tokenizer):
    model.save_pretrained(d / "model", safe_serialization=True)
    tokenizer.save_pretrained(d / "model")
    # Only the fast tokenizer's file is needed (encore picks tokenizer.json).
    for extra in ["vocab.txt", "special_tokens_map.json"]:
        p = d / "model" / extra
        if p.exists():
            p.unlink()


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def rounded(x):
    """Scores as float32 values printed exactly enough (the tests allow 1e-4)."""
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(np.float32(x))
    if isinstance(x, np.integer):
        return int(x)
    return x


def make(name, cls, config, seed, tokenizer, outputs_note):
    d = OUT / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    torch.manual_seed(seed)
    model = cls(config).eval()
    model.config._attn_implementation = "eager"
    init_weights(model, seed)
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    write_model(d, model, tokenizer)
    names = save_case(d, "ragged", model, forward_inputs(config.vocab_size, seed + 1))
    json.dump({"dialect": "bert-hf", "reference": f"transformers {transformers.__version__} {cls.__name__}, eager",
               "head": cls.__name__, "outputs": names,
               "cases": [{"name": "ragged", "note": "lengths 12, 7, 3; right padding; token types; " + outputs_note}]},
              open(d / "cases.json", "w"), indent=1)
    return d, model


def google_pretraining(src_dir, model, config):
    """The `pretraining` weights under Google's names; expected = HF outputs without padding."""
    d = OUT / "google-pretraining"
    shutil.rmtree(d, ignore_errors=True)
    (d / "model").mkdir(parents=True)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    g = {}

    def kernel(name):
        return np.ascontiguousarray(sd[name].T)

    for k, v in sd.items():
        if not k.startswith("bert."):
            continue
        n = k[len("bert."):]
        if "position_ids" in n:
            continue
        t = n.replace("encoder.layer.", "encoder/layer_").replace(".", "/")
        t = re.sub(r"layer_(\d+)/", r"layer_\1/", t)
        t = "bert/" + t
        if t.endswith("LayerNorm/weight"):
            g[t[:-6] + "gamma"] = v
        elif t.endswith("LayerNorm/bias"):
            g[t[:-4] + "beta"] = v
        elif t.endswith("_embeddings/weight"):
            g[t[:-len("/weight")]] = v
        elif t.endswith("/weight"):
            g[t[:-6] + "kernel"] = kernel(k)
        else:
            g[t] = v
    g["cls/predictions/transform/dense/kernel"] = kernel("cls.predictions.transform.dense.weight")
    g["cls/predictions/transform/dense/bias"] = sd["cls.predictions.transform.dense.bias"]
    g["cls/predictions/transform/LayerNorm/gamma"] = sd["cls.predictions.transform.LayerNorm.weight"]
    g["cls/predictions/transform/LayerNorm/beta"] = sd["cls.predictions.transform.LayerNorm.bias"]
    g["cls/predictions/output_bias"] = sd["cls.predictions.bias"]
    g["cls/seq_relationship/output_weights"] = sd["cls.seq_relationship.weight"]  # [2,H]: already [out,in]
    g["cls/seq_relationship/output_bias"] = sd["cls.seq_relationship.bias"]
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in g.items()}, str(d / "model" / "model.safetensors"))
    json.dump({k: getattr(config, k) for k in ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                              "intermediate_size", "max_position_embeddings", "type_vocab_size",
                                              "hidden_dropout_prob", "attention_probs_dropout_prob"]}
              | {"hidden_act": "gelu", "initializer_range": 0.02}, open(d / "model" / "bert_config.json", "w"), indent=1)
    shutil.copy(src_dir / "model" / "tokenizer.json", d / "model" / "tokenizer.json")
    inputs = forward_inputs(config.vocab_size, 99)
    inputs["attention_mask"][:] = 1
    inputs = {"input_ids": inputs["input_ids"], "input_mask": inputs["attention_mask"],
              "token_type_ids": inputs["token_type_ids"]}
    with torch.no_grad():
        out = model(input_ids=inputs["input_ids"], attention_mask=inputs["input_mask"],
                    token_type_ids=inputs["token_type_ids"])
    tensors = {"prediction_logits": out.prediction_logits.numpy(),
               "seq_relationship_logits": out.seq_relationship_logits.numpy(),
               "compare_mask": inputs["input_mask"].numpy().astype(np.uint8)}
    save_file({k: v.numpy() for k, v in inputs.items()}, str(d / "no_mask.in.safetensors"))
    save_file(tensors, str(d / "no_mask.out.safetensors"))
    json.dump({"dialect": "bert-google", "reference": "transformers BertForPreTraining (gelu_new) under Google names",
               "head": "BertForPreTraining", "outputs": ["prediction_logits", "seq_relationship_logits"],
               "cases": [{"name": "no_mask", "note": "no padding (Google's -10000 and HF's float32 min agree)"}]},
              open(d / "cases.json", "w"), indent=1)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vocab = make_vocab()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=str(tmp / "vocab.txt"), do_lower_case=True, model_max_length=128)
    sentences = license_sentences(30)

    # --- MLM + fill-mask
    d, mlm = make("masked-lm", BertForMaskedLM, base_config(vocab), 11, tok, "logits [B,S,V]")
    fm = pipeline("fill-mask", model=mlm, tokenizer=tok, device="cpu", top_k=5)
    rows = []
    for i, s in enumerate(sentences[:12]):
        words = s.split()
        w = words[:]
        w[(3 * i + 1) % len(w)] = "[MASK]"
        if i % 3 == 0:
            w[(5 * i + 4) % len(w)] = "[MASK]"
        text = " ".join(w)
        if text.count("[MASK]") == 0:
            continue
        res = fm(text)
        if text.count("[MASK]") == 1:
            res = [res]
        rows.append({"text": text, "top_k": 5, "masks": rounded(res)})
    write_jsonl(d / "pipeline.jsonl", rows)

    # --- PreTraining (MLM + NSP), NSP only, and the Google-named copy
    d, pre = make("pretraining", BertForPreTraining, base_config(vocab, hidden_act="gelu_new"), 12, tok,
                  "prediction_logits, seq_relationship_logits")
    google_pretraining(d, pre, pre.config)
    d, nsp = make("next-sentence", BertForNextSentencePrediction, base_config(vocab), 13, tok, "logits [B,2]")
    rows = []
    for a, b in zip(sentences[0:16:2], sentences[1:16:2]):
        enc = tok(a, b, return_tensors="pt", truncation=True)
        with torch.no_grad():
            logits = nsp(**enc).logits[0]
        p = torch.softmax(logits, -1)
        rows.append({"first": a, "second": b, "logits": rounded(logits.tolist()), "is_next": rounded(float(p[0]))})
    write_jsonl(d / "pipeline.jsonl", rows)

    # --- Sequence classification (single label, 3 labels) + text-classification pipeline,
    #     and the same weights under other configs (multi_label, regression) via overrides.
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    cfg = base_config(vocab, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()})
    d, seq = make("sequence-classification", BertForSequenceClassification, cfg, 14, tok, "logits [B,3]")
    rows = []
    for variant in ["default", "multi_label_classification", "regression"]:
        m = seq
        if variant != "default":
            m = BertForSequenceClassification(base_config(vocab, num_labels=3, id2label=labels,
                                                          label2id={v: k for k, v in labels.items()},
                                                          problem_type=variant)).eval()
            m.load_state_dict(seq.state_dict())
        clf = pipeline("text-classification", model=m, tokenizer=tok, device="cpu")
        for s in sentences[:10]:
            rows.append({"variant": variant, "text": s, "top_k": None, "result": rounded(clf(s, top_k=None))})
        for s in sentences[10:12]:
            rows.append({"variant": variant, "text": s, "top_k": 1, "result": rounded(clf(s, top_k=1))})
    write_jsonl(d / "pipeline.jsonl", rows)

    # --- Cross-encoder (num_labels = 1): sentence-transformers CrossEncoder.rank
    cfg = base_config(vocab, num_labels=1)
    d, ce = make("cross-encoder", BertForSequenceClassification, cfg, 15, tok, "logits [B,1]")
    # sentence-transformers runs from .venv-st (.venv-ref's copy lacks httpx).
    queries = []
    for q in range(4):
        queries.append({"query": " ".join(sentences[20 + q].split()[:6]), "documents": sentences[q * 4:q * 4 + 5]})
    code = ("import json,sys\nfrom sentence_transformers import CrossEncoder\n"
            "m=CrossEncoder(sys.argv[1],device='cpu')\n"
            "for r in json.load(open(sys.argv[2])):\n"
            " ranked=m.rank(r['query'],r['documents'])\n"
            " print(json.dumps([[int(x['corpus_id']),float(x['score'])] for x in ranked]))\n")
    (tmp / "queries.json").write_text(json.dumps(queries))
    st_python = REPO / ".venv-st" / "bin" / "python"
    res = subprocess.run([str(st_python), "-c", code, str(d / "model"), str(tmp / "queries.json")], check=True,
                         capture_output=True, text=True, env=dict(os.environ, TRANSFORMERS_VERBOSITY="error"))
    rows = []
    for q, line in zip(queries, res.stdout.strip().split("\n")):
        ranked = json.loads(line)
        rows.append(q | {"ranking": [{"corpus_id": c, "score": rounded(sc)} for c, sc in ranked]})
    write_jsonl(d / "pipeline.jsonl", rows)

    # --- Token classification + every aggregation strategy
    ner_labels = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    id2label = dict(enumerate(ner_labels))
    cfg = base_config(vocab, num_labels=len(ner_labels), id2label=id2label, label2id={v: k for k, v in id2label.items()})
    d, tc = make("token-classification", BertForTokenClassification, cfg, 16, tok, "logits [B,S,7]")
    rows = []
    texts = license_sentences(40, 30, 110)[10:20] + ["The Free Software Foundation, Inc. <https://fsf.org/>", "  Copyright (C) 2007  "]
    for agg in ["none", "simple", "first", "average", "max"]:
        ner = pipeline("token-classification", model=tc, tokenizer=tok, device="cpu", aggregation_strategy=agg)
        for s in texts:
            ents = ner(s)
            for e in ents:
                e.pop("index", None) if agg != "none" else None
            rows.append({"aggregation": agg, "text": s, "entities": rounded(ents)})
    write_jsonl(d / "pipeline.jsonl", rows)

    # --- Question answering: short and long contexts (several windows with max_seq_len 48, stride 16)
    d, qa = make("question-answering", BertForQuestionAnswering, base_config(vocab), 17, tok,
                 "start_logits, end_logits [B,S]")
    qa_pipe = pipeline("question-answering", model=qa, tokenizer=tok, device="cpu")
    rows = []
    for i in range(8):
        context = " ".join(sentences[i * 3:i * 3 + (1 if i < 4 else 3)])
        question = "What is " + " ".join(sentences[29 - i].split()[:4]) + "?"
        for opts in [dict(top_k=3, max_answer_len=15, max_seq_len=48, doc_stride=16),
                     dict(top_k=1, max_answer_len=5, max_seq_len=64, doc_stride=24)]:
            res = qa_pipe(question=question, context=context, **opts)
            if isinstance(res, dict):
                res = [res]
            rows.append({"question": question, "context": context, "options": opts, "answers": rounded(res)})
    write_jsonl(d / "pipeline.jsonl", rows)

    shutil.rmtree(tmp)
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"heads fixtures: {total} bytes; transformers {transformers.__version__}, torch {torch.__version__}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
