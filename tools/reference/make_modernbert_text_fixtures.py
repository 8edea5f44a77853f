#!/usr/bin/env python3
"""Text-in parity fixtures for ModernBERT under tests/fixtures/modernbert-text/.

No real ModernBERT checkpoint is reachable here, so this builds tiny random ones around a tokenizer
shaped like answerdotai/ModernBERT-base's tokenizer.json, and records what the references compute
from TEXT (tests/unit/modernbert_text_test.cc, tests/cli/modernbert_text.sh):

  tokenizer/     tokenizer.json, tokenizer_config.json, special_tokens_map.json as transformers'
                 PreTrainedTokenizerFast.save_pretrained writes them
  st/            a sentence-transformers model, saved by sentence-transformers 5.3's own save():
                 Transformer(ModernBertModel, max_seq_length 48) -> Pooling(mean) -> Normalize
  classifier/    ModernBertForSequenceClassification (classifier_pooling "mean", 3 labels), saved by
                 save_pretrained, with the same tokenizer
  golden.jsonl   one line per text (the 23 texts of tests/fixtures/st/texts.jsonl, then our own):
                   text
                   ids, tokens     tokenizers.Tokenizer.from_file(tokenizer/tokenizer.json).encode(text):
                                   special tokens added, no truncation
                   st_ids          the input_ids sentence-transformers feeds the model: text.strip(),
                                   truncated to max_seq_length 48 (Transformer.tokenize)
                   clf_ids         transformers' tokenizer(text, truncation=True, max_length=48)
                   embedding       SentenceTransformer(st/).encode(texts) (batch_size 32, float32)
                   logits, label   classifier(**tokenizer(texts, padding=True, truncation=True,
                                   max_length=48)).logits, and id2label[argmax]
                   margin          logits' best minus second best (how safe the argmax is)
                   nostrip_ids, nostrip_embedding   only for the texts str.strip() changes: the ids of
                                   the text as it is (truncated to 48) and the st/ modules' output on
                                   them; what sentence-transformers 6 (which does not strip) computes

The tokenizer (from memory of ModernBERT-base's tokenizer.json, OLMo's GPT-NeoX-20B lineage; the
real file could not be read here):
  normalizer      NFC (GPT-NeoX-20B's, kept by OLMo and ModernBERT)
  pre_tokenizer   ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
  model           BPE: dropout, unk_token, continuing_subword_prefix, end_of_word_suffix null,
                  fuse_unk, byte_fallback, ignore_merges false; trained here on Debian's licence
                  texts (/usr/share/common-licenses) to 960 entries (256 bytes + merges + ids 0-1)
  decoder         ByteLevel (tokenizers' default: add_prefix_space true, trim_offsets, use_regex)
  post_processor  TemplateProcessing single "[CLS]:0 $A:0 [SEP]:0", pair
                  "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"
  added tokens    in ModernBERT's order, the vocabulary scaled from 50368 to 1024 (a multiple of
                  64 as the real one):
                    0     |||IP_ADDRESS|||   normalized, not special (OLMo's PII placeholder)
                    1     <|padding|>        special
                    960-982  runs of 24 down to 2 spaces, normalized, not special (GPT-NeoX's
                             50254-50276: "a  b" gives a, "  ", b)
                    983   |||EMAIL_ADDRESS|||  984 |||PHONE_NUMBER|||  normalized, not special
                    985   <|endoftext|>      special
                    986-990  [UNK] [CLS] [SEP] [PAD] [MASK] special ([MASK] lstrip), as 50280-50284
                    991-1023 [unused0] .. [unused32]  normalized, not special (the real file has
                             83, 50285-50367; their flags are from memory)
  tokenizer_config.json: model_max_length 8192, clean_up_tokenization_spaces true, model_input_names
  [input_ids, attention_mask] (ModernBertModel takes no token_type_ids), tokenizer_class
  PreTrainedTokenizerFast. (The st/ copy says model_max_length 48: sentence-transformers passes
  max_seq_length to the tokenizer it saves.)

The models: ModernBertConfig as ModernBERT-base's (gelu, no biases, norm_eps 1e-5, rope theta 160000
global / 10000 local, global_attn_every_n_layers 3) scaled down: hidden 48, 4 heads, 3 layers (layer 0
global, 1-2 local), intermediate 64, local_attention 8 (window +-4: every text longer than 5 tokens uses
it), max_position_embeddings 64, vocab 1024, pad/cls/sep = [PAD]/[CLS]/[SEP]. Weights scaled as
make_modernbert_fixtures.py does (init_modernbert_, imported from it together with its eager-only
dispatch: sdpa, flash-attention and the torch.compile'd paths refuse; every forward here is checked to
have gone through eager_attention_forward once per layer and batch).

Everything is float32, CPU, one thread, fixed seeds: rerunning rewrites identical bytes (the
generator prints a sha256 over the files; model cards, README.md, are not kept).
Usage: make_modernbert_text_fixtures.py [--out tests/fixtures/modernbert-text]
Run with .venv-st5/bin/python (tools/reference/requirements-st5.txt; make_modernbert_text_fixtures.sh).
"""

import os

# One thread everywhere: fixed reduction orders (and a fixed BPE training order).
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers.models.modernbert import modeling_modernbert as mb  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Importing it installs the eager-only, uncompiled ModernBERT dispatch (and the eager call counter).
import make_modernbert_fixtures as mbf  # noqa: E402
from fixture_util import assert_same_state, print_digest, reference_setup  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MAX_SEQ_LENGTH = 48
BPE_VOCAB = 960
VOCAB = 1024
SPACE_RUNS = list(range(24, 1, -1))  # GPT-NeoX's added whitespace tokens, longest first
LABELS = {0: "obligation", 1: "permission", 2: "prohibition"}
CHECKS = []


def check(what):
    CHECKS.append(what)


# ----------------------------------------------------------------------------- texts


def licence_text():
    """Every licence Debian ships, each file once (several are symlinks), in name order."""
    seen, parts = set(), []
    for p in sorted(Path("/usr/share/common-licenses").iterdir()):
        real = p.resolve()
        if real in seen or not real.is_file():
            continue
        seen.add(real)
        parts.append(real.read_text(encoding="utf-8", errors="replace"))
    assert parts, "no /usr/share/common-licenses"
    return parts


OWN_TEXTS = [
    "  leading and trailing spaces  ",
    "\u00a0\u2003unicode spaces around\u3000",
    "two  spaces,   three,\ttab\nnewline\r\nand CRLF",
    "x" + " " * 30 + "y (a run longer than the longest added run of 24)",
    "Cafe\u0301 e\u0301le\u0300ve \u212b vs \u00c5",  # NFC composes e + U+0301, the Angstrom sign
    "\ufb01ne ligature \u216b \u00bd (NFC keeps compatibility characters)",
    "emoji \U0001f469\u200d\U0001f469\u200d\U0001f467 family, flag \U0001f3f3\ufe0f\u200d\U0001f308, \U0001f600!",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "|||IP_ADDRESS||| contacted |||EMAIL_ADDRESS||| at |||PHONE_NUMBER|||",
    "[CLS] a [MASK] b  [MASK] [unused0] <|endoftext|> <|padding|> [PAD]",
    "it's we'll they're I'd you've don't IT'S",
    "1234567890 3.14159 v2.0.1 2007-06-29 $100",
    "bell\x07 and escape\x1b characters",
    "GNU",
    " ".join(["freedom"] * 120),
]


def all_texts():
    st = [json.loads(line)["text"] for line in (REPO / "tests/fixtures/st/texts.jsonl").read_text().splitlines()
          if line.strip()]
    return [(t, "st/texts.jsonl") for t in st] + [(t, "own") for t in OWN_TEXTS]


# ----------------------------------------------------------------------------- tokenizer


def build_tokenizer(out):
    """The tokenizer (see the header), saved by PreTrainedTokenizerFast.save_pretrained into out."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=BPE_VOCAB, min_frequency=2, show_progress=False,
                                  special_tokens=["|||IP_ADDRESS|||", "<|padding|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(licence_text(), trainer)
    assert tok.get_vocab_size() == BPE_VOCAB, tok.get_vocab_size()
    # |||IP_ADDRESS||| is a placeholder the text may contain, not a special token (as OLMo's).
    tj = json.loads(tok.to_str())
    assert tj["added_tokens"][0]["content"] == "|||IP_ADDRESS|||" and tj["added_tokens"][0]["id"] == 0
    tj["added_tokens"][0].update(normalized=True, special=False)
    tok = Tokenizer.from_str(json.dumps(tj))

    def plain(s):
        return AddedToken(s, normalized=True, special=False, lstrip=False, rstrip=False, single_word=False)

    def special(s, lstrip=False):
        return AddedToken(s, normalized=False, special=True, lstrip=lstrip, rstrip=False, single_word=False)

    tok.add_tokens([plain(" " * n) for n in SPACE_RUNS] + [plain("|||EMAIL_ADDRESS|||"), plain("|||PHONE_NUMBER|||")])
    tok.add_special_tokens([special("<|endoftext|>"), special("[UNK]"), special("[CLS]"), special("[SEP]"),
                            special("[PAD]"), special("[MASK]", lstrip=True)])
    unused = VOCAB - tok.get_vocab_size()
    tok.add_tokens([plain(f"[unused{i}]") for i in range(unused)])
    assert tok.get_vocab_size() == VOCAB
    ids = {t: tok.token_to_id(t) for t in ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "<|endoftext|>"]}
    assert ids["[UNK]"] == BPE_VOCAB + len(SPACE_RUNS) + 3, ids
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                                   pad_token="[PAD]", mask_token="[MASK]", model_max_length=8192,
                                   clean_up_tokenization_spaces=True, model_input_names=["input_ids", "attention_mask"])
    fast.save_pretrained(out)
    saved = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    # save_pretrained must not have changed the pipeline or a token's flags.
    assert saved["added_tokens"] == json.loads(tok.to_str())["added_tokens"]
    assert saved["normalizer"] == {"type": "NFC"} and saved["truncation"] is None and saved["padding"] is None
    m = saved["model"]
    assert (m["type"], m["dropout"], m["unk_token"], m["continuing_subword_prefix"], m["end_of_word_suffix"],
            m["fuse_unk"], m["byte_fallback"]) == ("BPE", None, None, None, None, False, False), m
    cfg = json.loads((out / "tokenizer_config.json").read_text())
    assert cfg["model_max_length"] == 8192 and cfg["clean_up_tokenization_spaces"] is True
    check(f"tokenizer: BPE {BPE_VOCAB} entries ({len(m['merges'])} merges), {len(saved['added_tokens'])} added "
          f"tokens, vocabulary {VOCAB}; special ids {ids}")
    return ids


# ----------------------------------------------------------------------------- models


def model_config(ids, **extra):
    return mbf.make_config(
        dict(vocab_size=VOCAB, hidden_size=48, num_attention_heads=4, num_hidden_layers=3, intermediate_size=64,
             hidden_activation="gelu", global_attn_every_n_layers=3, local_attention=8, global_rope_theta=160000.0,
             local_rope_theta=10000.0, norm_bias=False, attention_bias=False, mlp_bias=False, norm_eps=1e-5,
             max_position_embeddings=64, **extra),
        special=dict(pad_token_id=ids["[PAD]"], bos_token_id=ids["[CLS]"], cls_token_id=ids["[CLS]"],
                     eos_token_id=ids["[SEP]"], sep_token_id=ids["[SEP]"]))


def counted(fn, layers):
    """fn() with the eager calls counted: a positive multiple of the layers (one per layer and batch)."""
    mbf.EAGER_CALLS[0] = 0
    with torch.no_grad():
        out = fn()
    n = mbf.EAGER_CALLS[0]
    assert n > 0 and n % layers == 0, n
    return out, n // layers


def make_st(out, work, tok_dir, ids, texts, seed):
    """The sentence-transformers model: built, saved with its own save(), reloaded, encoded."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as stm

    base = work / "st-base"
    body = mbf.build_model(mb.ModernBertModel, model_config(ids), seed)
    body.save_pretrained(base, safe_serialization=True)
    for f in tok_dir.iterdir():
        shutil.copy(f, base / f.name)
    t = stm.Transformer(str(base), max_seq_length=MAX_SEQ_LENGTH, model_args={"attn_implementation": "eager"})
    pool = stm.Pooling(t.get_word_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[t, pool, stm.Normalize()], device="cpu")
    d = out / "st"
    st.save(str(d))
    (d / "README.md").unlink(missing_ok=True)  # the model card: dates and versions, nothing encore reads

    model = SentenceTransformer(str(d), device="cpu", model_kwargs={"attn_implementation": "eager"})
    am = model[0].auto_model
    assert type(am) is mb.ModernBertModel and am.config._attn_implementation == "eager"
    assert am.config.reference_compile in (None, False)
    am.config.reference_compile = False
    assert_same_state(am, body, "st reload")
    assert model.max_seq_length == MAX_SEQ_LENGTH
    assert [type(m).__name__ for m in model] == ["Transformer", "Pooling", "Normalize"]
    emb, batches = counted(lambda: model.encode(texts, batch_size=32, convert_to_numpy=True), am.config.num_hidden_layers)
    assert emb.dtype == np.float32 and emb.shape == (len(texts), 48) and np.isfinite(emb).all()
    st_ids = [model.tokenize([s])["input_ids"][0].tolist() for s in texts]
    # Transformer.tokenize strips every text (str.strip(), sentence_transformers/models/Transformer.py
    # L383 in 5.3.0); sentence-transformers 6 does not. For the texts strip() changes, the same modules
    # on the text as it is: the tokenizer as tokenize() calls it, without the strip, then forward().
    nostrip = {}
    for i, s in enumerate(texts):
        if s != s.strip():
            feats = dict(model[0].tokenizer([s], padding=True, truncation="longest_first", return_tensors="pt",
                                            max_length=model.max_seq_length))
            out_, _ = counted(lambda: model(feats), am.config.num_hidden_layers)
            nostrip[i] = (feats["input_ids"][0].tolist(), out_["sentence_embedding"][0].numpy())
            assert nostrip[i][0] != st_ids[i]
    # The reference's own noise: each text alone (no padding) against the padded batches.
    alone, _ = counted(lambda: model.encode(texts, batch_size=1, convert_to_numpy=True), am.config.num_hidden_layers)
    noise = float(np.max(np.abs(alone - emb) / np.maximum(1.0, np.abs(emb))))
    check(f"st: encode() of {len(texts)} texts ran eager in {batches} padded batches; each text alone differs "
          f"by {noise:.2e} (scaled)")
    return emb, st_ids, nostrip


def make_classifier(out, tok_dir, ids, texts, seed):
    d = out / "classifier"
    config = model_config(ids, classifier_pooling="mean", classifier_activation="gelu", classifier_bias=False,
                          num_labels=len(LABELS), id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()})
    built = mbf.build_model(mb.ModernBertForSequenceClassification, config, seed)
    built.save_pretrained(d, safe_serialization=True)
    for f in tok_dir.iterdir():
        shutil.copy(f, d / f.name)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(d))
    model, info = mb.ModernBertForSequenceClassification.from_pretrained(str(d), attn_implementation="eager",
                                                                         output_loading_info=True)
    assert not any(info.values()), info
    model.eval()
    assert model.config._attn_implementation == "eager" and model.config.reference_compile is None
    model.config.reference_compile = False
    assert_same_state(model, built, "classifier reload")
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt")
    assert sorted(batch.keys()) == ["attention_mask", "input_ids"], batch.keys()
    out_, _ = counted(lambda: model(**batch), config.num_hidden_layers)
    logits = out_.logits.detach().numpy()
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    clf_ids = [tokenizer(s, truncation=True, max_length=MAX_SEQ_LENGTH)["input_ids"] for s in texts]
    for i, ids_ in enumerate(clf_ids):  # the padded batch holds the same ids
        n = len(ids_)
        assert batch["input_ids"][i, :n].tolist() == ids_ and int(batch["attention_mask"][i].sum()) == n
    full = [tokenizer(s)["input_ids"] for s in texts]
    return logits, clf_ids, full


# ----------------------------------------------------------------------------- main


def main():
    import sentence_transformers
    import tokenizers
    out = reference_setup(__doc__, REPO / "tests" / "fixtures" / "modernbert-text", "make_modernbert_text_fixtures",
                          "requirements-st5.txt", {"sentence-transformers": sentence_transformers.__version__,
                                                   "tokenizers": tokenizers.__version__})
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    from tokenizers import Tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tok_dir = out / "tokenizer"
        tok_dir.mkdir()
        ids = build_tokenizer(tok_dir)
        texts, sources = zip(*all_texts())
        texts = list(texts)
        emb, st_ids, nostrip = make_st(out, work, tok_dir, ids, texts, seed=11000)
        logits, clf_ids, tf_full = make_classifier(out, tok_dir, ids, texts, seed=12000)

    ref = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    for sub in ("st", "classifier"):  # one tokenizer.json everywhere
        assert (out / sub / "tokenizer.json").read_bytes() == (tok_dir / "tokenizer.json").read_bytes(), sub
    lines, margins = [], []
    truncated = 0
    for i, text in enumerate(texts):
        enc = ref.encode(text)
        assert enc.ids == tf_full[i], (i, "transformers and tokenizers disagree")
        cut = enc.ids if len(enc.ids) <= MAX_SEQ_LENGTH else enc.ids[:MAX_SEQ_LENGTH - 1] + [ids["[SEP]"]]
        assert clf_ids[i] == cut, i
        stripped = ref.encode(text.strip()).ids
        assert st_ids[i] == (stripped if len(stripped) <= MAX_SEQ_LENGTH
                             else stripped[:MAX_SEQ_LENGTH - 1] + [ids["[SEP]"]]), i
        truncated += len(enc.ids) > MAX_SEQ_LENGTH
        order = np.argsort(-logits[i], kind="stable")
        margins.append(float(logits[i][order[0]] - logits[i][order[1]]))
        lines.append({"text": text, "source": sources[i], "ids": enc.ids, "tokens": enc.tokens, "st_ids": st_ids[i],
                      "clf_ids": clf_ids[i], "embedding": [float(v) for v in emb[i]],
                      "logits": [float(v) for v in logits[i]], "label": LABELS[int(order[0])],
                      "margin": margins[-1]})
        if i in nostrip:
            lines[-1].update(nostrip_ids=nostrip[i][0], nostrip_embedding=[float(v) for v in nostrip[i][1]])
    with open(out / "golden.jsonl", "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    labels = {v: sum(1 for x in lines if x["label"] == v) for v in LABELS.values()}
    check(f"{len(texts)} texts, {truncated} longer than {MAX_SEQ_LENGTH} tokens (ids up to "
          f"{max(len(x['ids']) for x in lines)}), {sum(1 for t in texts if t != t.strip())} with whitespace that "
          "sentence-transformers strips (st_ids are those of text.strip())")
    check(f"classifier labels {labels}; smallest argmax margin {min(margins):.3g}")
    assert min(margins) > 1e-3, "an argmax too close to call"

    print("Checks:")
    for c in CHECKS:
        print("  " + c)
    print_digest(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
