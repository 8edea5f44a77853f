#!/usr/bin/env python3
"""Text-in parity fixtures for NomicBERT under tests/fixtures/nomic-text/.

No real NomicBERT checkpoint is reachable here, so this builds tiny random ones, shaped like
nomic-ai/nomic-embed-text-v1, around a tokenizer shaped like theirs (bert-base-uncased's WordPiece
tokenizer.json), and records what the references compute from TEXT (tests/unit/nomic_text_test.cc,
tests/cli/nomic_text.sh, tests/python/test_nomic.py). The model code is the pinned hub code
(tools/reference/nomic_bert/modeling_hf_nomic_bert.py, configuration_hf_nomic_bert.py, unmodified):
it is copied into each model directory and config.json's auto_map names it, so
sentence-transformers and transformers load the directories with trust_remote_code=True, as they
load the real ones; once the goldens are computed the copies are removed again (encore reads
config.json only).

  tokenizer/     tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt as
                 transformers' BertTokenizerFast.save_pretrained writes them
  st/            a sentence-transformers model, saved by sentence-transformers 5.3's own save()
                 (which also copies the two .py files and writes auto_map, the model having been
                 loaded with trust_remote_code): Transformer(NomicBertModel, max_seq_length 48) ->
                 Pooling(mean). No Normalize module, as nomic-embed-text-v1's own modules.json (from
                 memory: its model card normalizes by hand after encode(); the hub file could not be
                 read here)
  classifier/    NomicBertForSequenceClassification (tanh pooler on token 0 + classifier, 3 labels
                 with id2label), saved by save_pretrained, with the same tokenizer
  golden.jsonl   one line per text (the 38 texts of make_modernbert_text_fixtures.py: the 23 of
                 tests/fixtures/st/texts.jsonl then its own 15; then 2 for WordPiece):
                   text, source
                   ids, tokens     tokenizers.Tokenizer.from_file(tokenizer/tokenizer.json).encode(text):
                                   special tokens added, no truncation
                   st_ids          the input_ids sentence-transformers feeds the model: text.strip(),
                                   truncated to max_seq_length 48 (Transformer.tokenize). For this
                                   tokenizer strip() never changes the ids (BertNormalizer makes every
                                   whitespace a space, BertPreTokenizer drops it): checked here, so
                                   sentence-transformers 5.3 and 6 (no strip) agree and no nostrip_*
                                   fields are needed
                   clf_ids         transformers' tokenizer(text, truncation=True, max_length=48)
                   embedding       SentenceTransformer(st/, trust_remote_code=True).encode(texts)
                                   (batch_size 32, float32; not normalized)
                   logits, label   classifier(**tokenizer(texts, padding=True, truncation=True,
                                   max_length=48)).logits (token_type_ids all 0), id2label[argmax]
                   margin          logits' best minus second best (how safe the argmax is)

The tokenizer (bert-base-uncased's tokenizer.json, which nomic-embed-text-v1 ships, scaled down):
  normalizer      BertNormalizer(clean_text, handle_chinese_chars, strip_accents null, lowercase)
  pre_tokenizer   BertPreTokenizer
  model           WordPiece(unk [UNK], "##", max_input_chars_per_word 100): 1000 entries laid out as
                  bert-base-uncased's first ones: [PAD] 0, [unused0]..[unused98] 1-99, [UNK] 100,
                  [CLS] 101, [SEP] 102, [MASK] 103, then 896 pieces taken by a fixed rule
                  (wordpiece_vocabulary: every character, "##" + every character, the most frequent
                  words, the most frequent "##" suffixes) from Debian's licence texts
                  (/usr/share/common-licenses) and the 23 texts of tests/fixtures/st/texts.jsonl;
                  tokenizers' WordPieceTrainer is not used: its vocabulary changes from run to run.
                  Emoji, kana and Hangul of the other texts are [UNK]
  post_processor  TemplateProcessing "[CLS]:0 $A:0 [SEP]:0", pair "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"
  decoder         WordPiece("##", cleanup)
  added tokens    [PAD] [UNK] [CLS] [SEP] [MASK]: special, not normalized
  tokenizer_config.json: BertTokenizer, do_lower_case true, model_max_length 8192 (nomic-embed's),
  clean_up_tokenization_spaces true. (The st/ copy says model_max_length 48: sentence-transformers
  passes max_seq_length to the tokenizer it saves.)

The models: NomicBertConfig as nomic-embed-text-v1's (swiglu, rotary over the whole head with base
1000, no qkv / out_proj / MLP biases, layer_norm_epsilon 1e-12, post-norm, 2 token types, n_positions
8192, pad_vocab_size_multiple 64, every pdrop 0) scaled down: n_embd 32, 2 heads (head size 16), 2
layers, n_inner 48 (the gated MLP rounds it up to 256), vocab_size 1024 (the tokenizer's 1000 rounded
up to 64, as the real 30522 -> 30528). Weights scaled as make_nomic_fixtures.py does (build_model,
imported from it).

Everything is float32, CPU, one thread, fixed seeds; the dynamic-module cache of trust_remote_code is a
temporary directory: rerunning rewrites identical bytes (the generator prints a sha256 over the files;
model cards, README.md, are not kept).
Usage: make_nomic_text_fixtures.py [--out tests/fixtures/nomic-text]
Run with .venv-st5/bin/python (tools/reference/requirements-st5.txt plus einops 0.8.2, which the pinned
NomicBERT code imports: make_nomic_text_fixtures.sh installs it there).
"""

import os
import tempfile

# One thread everywhere: fixed reduction orders.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# trust_remote_code copies the model directories' .py files into this cache: a fresh one, not ~/.cache.
MODULES_CACHE = tempfile.mkdtemp(prefix="nomic-text-modules-")
os.environ["HF_MODULES_CACHE"] = MODULES_CACHE

import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

sys.dont_write_bytecode = True  # leave tools/reference/nomic_bert/ exactly as pinned (no __pycache__)

import einops  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_nomic_fixtures as nf  # noqa: E402  (the pinned code as the package nomic_bert, build_model)
import nomic_bert.modeling_hf_nomic_bert as nb  # noqa: E402
from fixture_util import print_digest, reference_setup  # noqa: E402
from make_modernbert_text_fixtures import LABELS, all_texts  # noqa: E402  (the same texts and labels)

REPO = Path(__file__).resolve().parents[2]
CODE = Path(__file__).resolve().parent / "nomic_bert"
CODE_FILES = ["configuration_hf_nomic_bert.py", "modeling_hf_nomic_bert.py"]
EINOPS = "0.8.2"
MAX_SEQ_LENGTH = 48
UNUSED_LOW = 99  # [unused0]..[unused98] at 1..99, as bert-base-uncased
VOCAB = 1000  # the tokenizer's entries
MODEL_VOCAB = 1024  # config.json's vocab_size: VOCAB rounded up to pad_vocab_size_multiple 64
AUTO_MAP = {
    "AutoConfig": "configuration_hf_nomic_bert.NomicBertConfig",
    "AutoModel": "modeling_hf_nomic_bert.NomicBertModel",
    "AutoModelForMaskedLM": "modeling_hf_nomic_bert.NomicBertForPreTraining",
    "AutoModelForSequenceClassification": "modeling_hf_nomic_bert.NomicBertForSequenceClassification",
}
# Two texts for WordPiece (bert-base-uncased's tokenizer): a word over max_input_chars_per_word (100
# characters: one [UNK]), and upper case with accents and combining marks (lowercase, strip accents).
WORDPIECE_TEXTS = [
    "a " + "supercalifragilistic" * 6 + " word of 120 characters, then one of 100: " + "abcdefghij" * 10,
    "\u00c0\u00c9\u00ce\u00d5\u00dc LOUD \u00e0\u00e9\u00ee\u00f5\u00fc quiet Cafe\u0301 STRASSE Stra\u00dfe",
]
CHECKS = []


def check(what):
    CHECKS.append(what)


def texts_with_sources():
    return all_texts() + [(t, "own") for t in WORDPIECE_TEXTS]


# ----------------------------------------------------------------------------- tokenizer


def training_text():
    from make_modernbert_text_fixtures import licence_text
    st = [json.loads(line)["text"] for line in (REPO / "tests/fixtures/st/texts.jsonl").read_text().splitlines()
          if line.strip()]
    return licence_text() + st


def wordpiece_vocabulary(normalizer, pre, n_pieces):
    """n_pieces WordPiece entries from the training text's words (normalized and split as the tokenizer
    does), chosen by a fixed rule (tokenizers' WordPieceTrainer breaks ties between equal counts in
    hash-map order, so its vocabulary changes from run to run): every character, then "##" + every
    character (so that no word of known characters is [UNK]), then the most frequent words of two
    characters or more, then the most frequent "##" suffixes (2 to 6 characters, a word's count added to
    each of its suffixes), two thirds words and one third suffixes; equal counts in code point order."""
    words = Counter()
    for text in training_text():
        for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)):
            words[w] += 1
    chars = sorted({c for w in words for c in w})
    rest = n_pieces - 2 * len(chars)
    assert rest > 100, (len(chars), n_pieces)
    n_words = rest * 2 // 3
    whole = [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][:n_words]
    suffixes = Counter()
    for w, n in words.items():
        for k in range(2, min(6, len(w) - 1) + 1):
            suffixes["##" + w[-k:]] += n
    tails = [p for p, _ in sorted(suffixes.items(), key=lambda kv: (-kv[1], kv[0]))][:rest - len(whole)]
    pieces = chars + ["##" + c for c in chars] + whole + tails
    assert len(pieces) == n_pieces and len(set(pieces)) == n_pieces, (len(pieces), len(set(pieces)))
    check(f"WordPiece vocabulary: {len(chars)} characters (and as many '##' ones), {len(whole)} words, "
          f"{len(tails)} '##' suffixes from {len(words)} distinct words")
    return pieces


def build_tokenizer(out):
    """The tokenizer (see the header), saved by BertTokenizerFast.save_pretrained into out."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    n_pieces = VOCAB - UNUSED_LOW - len(specials)
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                            lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    pieces = wordpiece_vocabulary(normalizer, pre, n_pieces)
    # bert-base-uncased's layout: [PAD], the low [unused], [UNK] [CLS] [SEP] [MASK] (100-103), then the rest.
    layout = ["[PAD]"] + [f"[unused{i}]" for i in range(UNUSED_LOW)] + specials[1:] + pieces
    assert len(layout) == VOCAB and len(set(layout)) == VOCAB
    vocab = {t: i for i, t in enumerate(layout)}
    ids = {t: vocab[t] for t in specials}
    assert ids == {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}, ids

    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])])
    fast = BertTokenizerFast(tokenizer_object=tok, do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None,
                             unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
                             mask_token="[MASK]", model_max_length=8192, clean_up_tokenization_spaces=True)
    fast.save_pretrained(out)
    saved = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    assert [(a["id"], a["content"], a["special"], a["normalized"]) for a in saved["added_tokens"]] == [
        (ids[t], t, True, False) for t in specials], saved["added_tokens"]
    assert saved["normalizer"] == {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                                   "strip_accents": None, "lowercase": True}, saved["normalizer"]
    assert saved["pre_tokenizer"] == {"type": "BertPreTokenizer"} and saved["truncation"] is None
    assert saved["padding"] is None
    m = saved["model"]
    assert (m["type"], m["unk_token"], m["continuing_subword_prefix"], m["max_input_chars_per_word"]) == \
        ("WordPiece", "[UNK]", "##", 100), m
    assert (out / "vocab.txt").read_text(encoding="utf-8").splitlines() == layout
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    assert (cfg["tokenizer_class"], cfg["do_lower_case"], cfg["model_max_length"]) == ("BertTokenizer", True, 8192), cfg
    check(f"tokenizer: WordPiece {VOCAB} entries ({n_pieces} pieces from the text), special ids {ids}")
    return ids


# ----------------------------------------------------------------------------- models


def model_config(ids, **extra):
    cfg = nf.make_config(dict(nf.NOMIC_EMBED, vocab_size=MODEL_VOCAB, n_embd=32, n_head=2, n_layer=2, n_inner=48,
                              **extra))
    cfg.pad_vocab_size_multiple = 64
    cfg.auto_map = dict(AUTO_MAP)
    cfg.pad_token_id = ids["[PAD]"]  # nomic-embed-text-v1's config.json has pad_token_id 0 ([PAD])
    return cfg


def copy_code(d):
    for f in CODE_FILES:
        shutil.copy(CODE / f, d / f)


def check_code(d):
    """The model directory holds the pinned .py files, byte for byte, and auto_map names them."""
    for f in CODE_FILES:
        assert (d / f).read_bytes() == (CODE / f).read_bytes(), (d, f)
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["model_type"] == "nomic_bert", cfg
    for k, v in AUTO_MAP.items():
        assert cfg["auto_map"].get(k) == v, (d, cfg["auto_map"])
    return cfg


def assert_same_values(a, b, what):
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb), (what, sorted(set(sa) ^ set(sb)))
    for k in sa:
        assert torch.equal(sa[k], sb[k]), (what, k)


def make_st(out, work, tok_dir, ids, texts, seed):
    """The sentence-transformers model: built, saved with its own save(), reloaded, encoded."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as stm

    base = work / "st-base"
    config = model_config(ids)
    body = nf.build_model(nb.NomicBertModel, config, seed)
    assert body.embeddings.word_embeddings.weight.shape[0] == MODEL_VOCAB and body.pooler is None
    body.save_pretrained(base, safe_serialization=True)
    copy_code(base)
    for f in tok_dir.iterdir():
        shutil.copy(f, base / f.name)
    remote = {"trust_remote_code": True}
    t = stm.Transformer(str(base), max_seq_length=MAX_SEQ_LENGTH, model_args=dict(remote), config_args=dict(remote),
                        tokenizer_args=dict(remote))
    pool = stm.Pooling(t.get_word_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[t, pool], device="cpu")
    d = out / "st"
    st.save(str(d))
    (d / "README.md").unlink(missing_ok=True)  # the model card: dates and versions, nothing encore reads
    cfg = check_code(d)
    assert cfg["architectures"] == ["NomicBertModel"], cfg

    model = SentenceTransformer(str(d), device="cpu", trust_remote_code=True)
    am = model[0].auto_model
    assert type(am).__name__ == "NomicBertModel" and type(am) is not nb.NomicBertModel, type(am)
    assert type(am).__module__.startswith("transformers_modules."), type(am).__module__  # the copied code
    # The pinned from_pretrained (L389-466) builds the model itself and leaves it in training mode;
    # encode() calls eval() (and every pdrop is 0 anyway).
    assert am.pooler is None, am.pooler
    assert_same_values(am, body, "st reload")
    assert model.max_seq_length == MAX_SEQ_LENGTH
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling"]
    with torch.no_grad():
        emb = model.encode(texts, batch_size=32, convert_to_numpy=True)
    assert not am.training
    assert emb.dtype == np.float32 and emb.shape == (len(texts), 32) and np.isfinite(emb).all()
    st_ids = [model.tokenize([s])["input_ids"][0].tolist() for s in texts]
    # Transformer.tokenize strips every text (str.strip(), sentence_transformers/models/Transformer.py
    # L383 in 5.3.0); sentence-transformers 6 does not. With this tokenizer the ids are the same.
    stripped = 0
    for i, s in enumerate(texts):
        if s != s.strip():
            stripped += 1
            raw = model[0].tokenizer([s], padding=True, truncation="longest_first", max_length=MAX_SEQ_LENGTH)
            assert raw["input_ids"][0] == st_ids[i], (s, raw["input_ids"][0], st_ids[i])
    # The reference's own noise: each text alone (no padding) against the padded batches.
    with torch.no_grad():
        alone = model.encode(texts, batch_size=1, convert_to_numpy=True)
    noise = float(np.max(np.abs(alone - emb) / np.maximum(1.0, np.abs(emb))))
    norms = np.linalg.norm(emb, axis=1)
    check(f"st: encode() of {len(texts)} texts through {type(am).__module__}; the {stripped} texts str.strip() "
          f"changes have the same ids unstripped; each text alone differs by {noise:.2e} (scaled); vector norms "
          f"{norms.min():.3g} .. {norms.max():.3g} (no Normalize)")
    return emb, st_ids


def make_classifier(out, tok_dir, ids, texts, seed):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    d = out / "classifier"
    config = model_config(ids, num_labels=len(LABELS), id2label=dict(LABELS),
                          label2id={v: k for k, v in LABELS.items()})
    built = nf.build_model(nb.NomicBertForSequenceClassification, config, seed)
    assert built.bert.pooler is not None
    built.save_pretrained(d, safe_serialization=True)
    copy_code(d)
    for f in tok_dir.iterdir():
        shutil.copy(f, d / f.name)
    cfg = check_code(d)
    assert cfg["architectures"] == ["NomicBertForSequenceClassification"], cfg
    assert cfg["id2label"] == {str(k): v for k, v in LABELS.items()}, cfg["id2label"]

    tokenizer = AutoTokenizer.from_pretrained(str(d))
    model = AutoModelForSequenceClassification.from_pretrained(str(d), trust_remote_code=True).eval()
    assert type(model).__name__ == "NomicBertForSequenceClassification" and type(model) is not \
        nb.NomicBertForSequenceClassification
    assert_same_values(model, built, "classifier reload")  # the strict=False load took every tensor
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt")
    assert sorted(batch.keys()) == ["attention_mask", "input_ids", "token_type_ids"], batch.keys()
    assert int(batch["token_type_ids"].abs().sum()) == 0
    with torch.no_grad():
        logits = model(**batch).logits.detach().numpy()
    assert logits.dtype == np.float32 and logits.shape == (len(texts), len(LABELS)) and np.isfinite(logits).all()
    clf_ids = [tokenizer(s, truncation=True, max_length=MAX_SEQ_LENGTH)["input_ids"] for s in texts]
    for i, ids_ in enumerate(clf_ids):  # the padded batch holds the same ids
        n = len(ids_)
        assert batch["input_ids"][i, :n].tolist() == ids_ and int(batch["attention_mask"][i].sum()) == n
    # The same logits from the pinned code imported directly (the model object built here).
    with torch.no_grad():
        again = built(**batch).logits.detach().numpy()
    assert np.array_equal(again, logits)
    full = [tokenizer(s)["input_ids"] for s in texts]
    return logits, clf_ids, full


# ----------------------------------------------------------------------------- main


def main():
    import sentence_transformers
    import tokenizers
    out = reference_setup(__doc__, REPO / "tests" / "fixtures" / "nomic-text", "make_nomic_text_fixtures",
                          "requirements-st5.txt", {"sentence-transformers": sentence_transformers.__version__,
                                                   "tokenizers": tokenizers.__version__})
    if einops.__version__ != EINOPS:
        sys.exit(f"make_nomic_text_fixtures: einops {einops.__version__} (pinned {EINOPS})")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    from tokenizers import Tokenizer

    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            tok_dir = out / "tokenizer"
            tok_dir.mkdir()
            ids = build_tokenizer(tok_dir)
            texts, sources = zip(*texts_with_sources())
            texts = list(texts)
            emb, st_ids = make_st(out, work, tok_dir, ids, texts, seed=21000)
            logits, clf_ids, tf_full = make_classifier(out, tok_dir, ids, texts, seed=22010)
    finally:
        shutil.rmtree(MODULES_CACHE, ignore_errors=True)

    ref = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    for sub in ("st", "classifier"):  # one tokenizer.json everywhere
        assert (out / sub / "tokenizer.json").read_bytes() == (tok_dir / "tokenizer.json").read_bytes(), sub
    lines, margins = [], []
    truncated = unk = 0
    for i, text in enumerate(texts):
        enc = ref.encode(text)
        assert enc.ids == tf_full[i], (i, "transformers and tokenizers disagree")
        cut = enc.ids if len(enc.ids) <= MAX_SEQ_LENGTH else enc.ids[:MAX_SEQ_LENGTH - 1] + [ids["[SEP]"]]
        assert clf_ids[i] == cut, i
        assert st_ids[i] == cut, i  # strip() changes no ids (see make_st)
        truncated += len(enc.ids) > MAX_SEQ_LENGTH
        unk += ids["[UNK]"] in enc.ids
        order = np.argsort(-logits[i], kind="stable")
        margins.append(float(logits[i][order[0]] - logits[i][order[1]]))
        lines.append({"text": text, "source": sources[i], "ids": enc.ids, "tokens": enc.tokens, "st_ids": st_ids[i],
                      "clf_ids": clf_ids[i], "embedding": [float(v) for v in emb[i]],
                      "logits": [float(v) for v in logits[i]], "label": LABELS[int(order[0])],
                      "margin": margins[-1]})
    with open(out / "golden.jsonl", "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    # The copied code did its work (sentence-transformers and transformers ran it); the fixture
    # keeps config.json's auto_map but not the copies: encore never reads them, and the pinned
    # originals are tools/reference/nomic_bert/ (copy them back to rerun the references).
    for sub in ("st", "classifier"):
        for f in CODE_FILES:
            (out / sub / f).unlink()
    labels = {v: sum(1 for x in lines if x["label"] == v) for v in LABELS.values()}
    check(f"{len(texts)} texts, {truncated} longer than {MAX_SEQ_LENGTH} tokens (ids up to "
          f"{max(len(x['ids']) for x in lines)}), {unk} with [UNK]")
    check(f"classifier labels {labels}; smallest argmax margin {min(margins):.3g}")
    assert min(margins) > 1e-3, "an argmax too close to call"
    assert all(n > 0 for n in labels.values()), labels

    print("Checks:")
    for c in CHECKS:
        print("  " + c)
    print_digest(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
