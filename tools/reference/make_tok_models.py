#!/usr/bin/env python3
"""Tokenizers of the BERT family beyond WordPiece, rebuilt, and their goldens.

  make_tok_models.py models  [--only NAME,...]   writes .cache/tok-models/NAME/
  make_tok_models.py goldens [--only NAME,...]   copies the tokenizer files to
                                                 tests/fixtures/tokenizer/NAME/ and writes
                                                 golden.jsonl there (the reference's output)
  make_tok_models.py unicode-tables              writes src/tokenizer/onig_unicode_tables.inc
                                                 and hf_normalizer_tables.inc

Each NAME reproduces the released pipeline of one model (the same components and options,
written by the same transformers slow-to-fast converter that wrote the released
tokenizer.json), with a vocabulary trained here on real multilingual text (Debian's
translated message catalogues and /usr/share/doc, make_tokenizer_fixtures.real_lines):

  roberta-base       byte-level BPE (tokenizers' BPE trainer) -> RobertaTokenizerFast:
                     ByteLevel pre-tokenizer, BPE, RobertaProcessing, ByteLevel decoder,
                     <mask> with lstrip; merges as "a b" strings, as roberta-base has them
  xlm-roberta-base   SentencePiece Unigram (nmt_nfkc) -> XLMRobertaTokenizerFast:
                     Precompiled + Strip + Replace normalizers, Metaspace, Unigram,
                     TemplateProcessing, Metaspace decoder
  albert-base-v2     SentencePiece Unigram -> AlbertTokenizerFast (do_lower_case, accents
                     stripped): Replace, NFKD, StripAccents, Lowercase, Precompiled, ...
  deberta-v3-base    SentencePiece Unigram ([PAD] [CLS] [SEP] [UNK]) -> DebertaV2TokenizerFast
  camembert-base     SentencePiece Unigram -> CamembertTokenizerFast
  modernbert-base    byte-level BPE with NFC and a [CLS] $A [SEP] template (tokenizers API,
                     as ModernBERT's file was made)
  mpnet-base         WordPiece, bert-base-uncased's real vocabulary -> MPNetTokenizerFast
  distilbert-base-uncased  the same vocabulary -> DistilBertTokenizerFast
  wordlevel          WordLevel with the splitting pre-tokenizers (no released model uses it)

Run with .venv-tok/bin/python (tools/reference/requirements-tok.txt).
"""
import argparse
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixtures as fx  # noqa: E402

ROOT = fx.ROOT
CACHE = os.path.join(ROOT, ".cache", "tok-models")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def training_lines():
    return fx.real_lines(per_locale=120, doc_lines=3000, seed=99)


def build_roberta(out):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
    from transformers import RobertaTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, show_progress=False,
                                  special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer)
    raw = os.path.join(out, "raw")
    os.makedirs(raw, exist_ok=True)
    tok.model.save(raw)  # vocab.json, merges.txt as roberta-base ships them
    fast = RobertaTokenizerFast(vocab_file=os.path.join(raw, "vocab.json"),
                                merges_file=os.path.join(raw, "merges.txt"), model_max_length=512)
    fast.save_pretrained(out)
    shutil.rmtree(raw)
    # roberta-base's released tokenizer.json has merges as "a b" strings (the format before
    # tokenizers 0.20); tokenizers reads both, and so must encore.
    tj = json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
    tj["model"]["merges"] = [" ".join(m) for m in tj["model"]["merges"]]
    json.dump(tj, open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=2)


def train_spm(out_file, vocab_size, **kw):
    """A SentencePiece Unigram model (normalization nmt_nfkc, as the released ones) on the
    corpus, single-threaded so that it is reproducible."""
    import io
    import sentencepiece as spm
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(training_lines()), model_writer=model,
                                   vocab_size=vocab_size, model_type="unigram", character_coverage=0.99,
                                   num_threads=1, minloglevel=2, **kw)
    with open(out_file, "wb") as w:
        w.write(model.getvalue())


def build_spm(out, cls, file_name, vocab_size, train_kw, tok_kw):
    import importlib
    raw = os.path.join(out, "raw")
    os.makedirs(raw, exist_ok=True)
    spm_file = os.path.join(raw, file_name)
    train_spm(spm_file, vocab_size, **train_kw)
    fast_cls = getattr(importlib.import_module("transformers"), cls)
    fast = fast_cls(vocab_file=spm_file, model_max_length=512, **tok_kw)  # the slow-to-fast converter
    fast.save_pretrained(out)
    shutil.rmtree(raw)


def build_xlmr(out):
    # sentencepiece.bpe.model is a Unigram model (model_type 1) despite its name.
    build_spm(out, "XLMRobertaTokenizerFast", "sentencepiece.bpe.model", 4000, {}, {})


def build_albert(out):
    build_spm(out, "AlbertTokenizerFast", "spiece.model", 4000,
              dict(pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]"],
                   user_defined_symbols=["[MASK]"]),
              dict(do_lower_case=True, keep_accents=False))


def build_deberta_v3(out):
    build_spm(out, "DebertaV2TokenizerFast", "spm.model", 4000,
              dict(pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]", bos_piece="[CLS]",
                   eos_piece="[SEP]", unk_piece="[UNK]", user_defined_symbols=["[MASK]"]),
              dict(do_lower_case=False, split_by_punct=False))


def build_camembert(out):
    build_spm(out, "CamembertTokenizerFast", "sentencepiece.bpe.model", 4000, {}, {})


def build_modernbert(out):
    """ModernBERT-base ships only a tokenizer.json (OLMo's byte-level BPE): NFC, ByteLevel
    (no prefix space), BPE, TemplateProcessing [CLS] $A [SEP], ByteLevel decoder."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers, decoders, AddedToken
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, show_progress=False,
                                  special_tokens=["|||IP_ADDRESS|||", "<|padding|>", "[UNK]", "[CLS]", "[SEP]", "[PAD]"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer)
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, normalized=False, special=True)])
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                   unk_token="[UNK]", mask_token="[MASK]", model_max_length=8192)
    fast.save_pretrained(out)


def build_mpnet(out):
    """mpnet-base: WordPiece over bert-base-uncased's vocabulary (MiniLM's vocab.txt, real)
    with MPNet's <s> </s> template, by MPNetTokenizerFast."""
    from transformers import MPNetTokenizerFast
    fast = MPNetTokenizerFast(vocab_file=os.path.join(fx.model_dir(), "vocab.txt"), model_max_length=512)
    fast.save_pretrained(out)


def build_distilbert(out):
    """distilbert-base-uncased: bert-base-uncased's vocabulary (real) by DistilBertTokenizerFast."""
    from transformers import DistilBertTokenizerFast
    fast = DistilBertTokenizerFast(vocab_file=os.path.join(fx.model_dir(), "vocab.txt"), model_max_length=512)
    fast.save_pretrained(out)


def build_wordlevel(out):
    """No released model of the family uses WordLevel; this one covers it and the splitting
    pre-tokenizers: Sequence[WhitespaceSplit, Punctuation, Digits(individual), Split(regex)],
    a Strip + Lowercase normalizer, TemplateProcessing, no decoder."""
    from tokenizers import Tokenizer, Regex, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.Lowercase(), normalizers.NFKD()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="merged_with_previous"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Split(Regex("[aeiou]{2}"), behavior="isolated"),
        pre_tokenizers.Split("-", behavior="merged_with_next")])
    tok.train_from_iterator(training_lines(), trainers.WordLevelTrainer(vocab_size=4000, show_progress=False,
                                                                        special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]"]))
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    fast.save_pretrained(out)


BUILDERS = {
    "roberta-base": build_roberta,
    "xlm-roberta-base": build_xlmr,
    "albert-base-v2": build_albert,
    "deberta-v3-base": build_deberta_v3,
    "camembert-base": build_camembert,
    "modernbert-base": build_modernbert,
    "mpnet-base": build_mpnet,
    "distilbert-base-uncased": build_distilbert,
    "wordlevel": build_wordlevel,
}


def model_dir(name):
    out = os.path.join(CACHE, name)
    if not os.path.exists(os.path.join(out, "tokenizer.json")):
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        BUILDERS[name](tmp)
        shutil.rmtree(out, ignore_errors=True)
        os.rename(tmp, out)
    return out


# ---------------------------------------------------------------------------------------
# The reference: tokenizers on the tokenizer.json, every field encore reports.


class Reference:
    def __init__(self, directory):
        from tokenizers import Tokenizer
        self.dir = directory
        self.tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        cfg = {}
        for f in ("tokenizer_config.json", "special_tokens_map.json"):
            p = os.path.join(directory, f)
            if os.path.exists(p):
                for k, v in json.load(open(p, encoding="utf-8")).items():
                    if k == "pad_token":
                        cfg[k] = v["content"] if isinstance(v, dict) else v
        self.pad_token = cfg.get("pad_token", "[PAD]")
        self.pad_id = self.tok.token_to_id(self.pad_token)

    @staticmethod
    def _enc(e, text_a, text_b):
        seq = e.sequence_ids
        byte_offsets = []
        for (s, t), sid in zip(e.offsets, seq):
            text = text_a if sid == 0 else text_b if sid == 1 else None
            if text is None:
                byte_offsets.append([0, 0])
            else:
                byte_offsets.append([len(text[:s].encode("utf-8")), len(text[:t].encode("utf-8"))])
        return {"ids": e.ids, "types": e.type_ids, "attention": e.attention_mask,
                "special": e.special_tokens_mask, "words": e.word_ids,
                "offsets": [list(o) for o in e.offsets], "byte_offsets": byte_offsets, "tokens": e.tokens}

    def run(self, case):
        tok = self.tok
        tr = case.get("truncation")
        if tr:
            tok.enable_truncation(tr["max_length"], stride=tr.get("stride", 0),
                                  strategy=tr.get("strategy", "longest_first"), direction=tr.get("side", "right"))
        else:
            tok.no_truncation()
        pd = case.get("padding")
        if pd:
            tok.enable_padding(direction=pd.get("side", "right"), length=pd["length"],
                               pad_id=self.pad_id if self.pad_id is not None else 0, pad_token=self.pad_token)
        else:
            tok.no_padding()
        try:
            a, b = case["a"], case.get("b")
            e = tok.encode(a, b, add_special_tokens=case.get("special", True))
        except BaseException as ex:  # tokenizers panics (stride >= max_length) raise too
            return {"error": str(ex)}
        out = self._enc(e, a, b)
        out["overflow"] = [self._enc(o, a, b) for o in e.overflowing] if tr else []
        out["decoded"] = tok.decode(e.ids, skip_special_tokens=True)
        out["decoded_keep"] = tok.decode(e.ids, skip_special_tokens=False)
        return out


# ---------------------------------------------------------------------------------------
# Cases: real multilingual lines, mutations, random code points, added tokens glued to text.


def random_text(rng, n):
    """n code points from random Unicode blocks (no surrogates), with some spaces."""
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            out.append(rng.choice(" \t\n\u3000\u00a0  "))
        elif r < 0.5:
            out.append(chr(rng.randrange(0x20, 0x250)))
        elif r < 0.8:
            cp = rng.randrange(0x250, 0x3000)
            out.append(chr(cp))
        else:
            cp = rng.randrange(0x3000, 0x110000)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0x4E00
            out.append(chr(cp))
    return "".join(out)


def texts(n, added, seed=5):
    rng = random.Random(seed)
    singles, pairs = fx.corpus(n, 0, seed=seed)
    out = []
    for i, s in enumerate(singles):
        k = i % 10
        if k == 7:
            s = random_text(rng, rng.randint(1, 40))
        elif k == 8 and added:
            pos = rng.randrange(len(s) + 1)
            t = rng.choice(added)
            s = s[:pos] + rng.choice(["", " ", "  "]) + t + rng.choice(["", " ", "  "]) + s[pos:]
        elif k == 9:
            s = rng.choice(["", " ", "  ", "\t", "a", " a", "a ", "'s", " 's 're'll", "x" * 300,
                            "hello  world   !", "\n\n", "123 4567 89,0"]) + s[: rng.randint(0, 20)]
        out.append(s.replace("\n", " ") if k != 9 else s)
    return out


def cases_for(lines, rng, with_options=True):
    """One case per line: single or pair (with the next line), options drawn at random."""
    cases = []
    for i, a in enumerate(lines):
        c = {"a": a}
        if rng.random() < 0.35:
            c["b"] = lines[(i * 7 + 3) % len(lines)]
        if with_options:
            r = rng.random()
            if r < 0.15:
                c["special"] = False
            r = rng.random()
            if r < 0.45:
                ml = rng.choice([4, 6, 8, 12, 16, 24, 40])
                strategies = ["longest_first", "only_first", "only_second"] if "b" in c else ["longest_first"]
                # tokenizers panics (an error here) when stride >= max_length less the specials.
                # A pair overflowing on both sides yields the product of its windows: long
                # pairs get no stride (their windows would be thousands).
                long_pair = "b" in c and len(c["a"]) + len(c["b"]) > 8 * ml
                if long_pair and rng.random() < 0.8:
                    strategies = ["only_first", "only_second"]
                c["truncation"] = {"strategy": rng.choice(strategies), "max_length": ml,
                                   "stride": rng.choice([0, 0, 1, 2, 3]) if ml > 8 and not long_pair else 0,
                                   "side": rng.choice(["right", "left"])}
            if rng.random() < 0.2:
                c["padding"] = {"length": rng.choice([8, 16, 32, 64]), "side": rng.choice(["right", "left"])}
        cases.append(c)
    return cases


def added_contents(directory):
    tj = json.load(open(os.path.join(directory, "tokenizer.json"), encoding="utf-8"))
    return [t["content"] for t in tj.get("added_tokens", [])]


def write_goldens(name, n=200):
    src = model_dir(name)
    dst = os.path.join(FIXTURES, name)
    os.makedirs(dst, exist_ok=True)
    for f in FILES:
        if os.path.exists(os.path.join(src, f)):
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
    ref = Reference(dst)
    rng = random.Random(11)
    lines = [t[:120] for t in texts(n, added_contents(dst), seed=21)]  # small fixtures
    with open(os.path.join(dst, "golden.jsonl"), "w", encoding="utf-8") as w:
        for c in cases_for(lines, rng):
            line = json.dumps({"case": c, "expected": ref.run(c)}, ensure_ascii=False)
            if len(line) < 12000:  # pairs overflowing both ways multiply their windows
                w.write(line + "\n")
    print(f"{name}: {len(lines)} cases in {dst}")


# ---------------------------------------------------------------------------------------
# Oniguruma's character classes as the tokenizers wheel has them (its Unicode is newer than
# utf8proc's): \p{L}, \p{N}, \s, found by running GPT-2's pattern (the ByteLevel
# pre-tokenizer) on every code point.

REGEX_TABLES = os.path.join(ROOT, "src", "tokenizer", "onig_unicode_tables.inc")


def regex_class_of_reference():
    from tokenizers import pre_tokenizers
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    n = lambda s: len(bl.pre_tokenize_str(s))
    out = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if n("a" + c) == 1:
            out[cp] = 1
        elif n("1" + c) == 1:
            out[cp] = 2
        elif n("\t" + c) == 1:
            out[cp] = 3
        elif n("!" + c) == 1:
            out[cp] = 0
        else:
            raise SystemExit(f"U+{cp:04X}: no class of GPT-2's pattern holds it")
    return out


def utf8proc_class(cp):
    """What unicode.cc computes without the table (utf8proc 2.8, Unicode 15.0)."""
    import ctypes
    lib = utf8proc_class.lib
    cat = lib.utf8proc_category(cp)
    if 1 <= cat <= 5:
        return 1
    if 9 <= cat <= 11:
        return 2
    if cp == 0x85 or (9 <= cp <= 13) or cp == 32 or cat in (23, 24, 25):
        return 3
    return 0


def write_regex_tables():
    import ctypes
    import ctypes.util
    utf8proc_class.lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
    ref = regex_class_of_reference()
    diffs = [(cp, k) for cp, k in sorted(ref.items()) if utf8proc_class(cp) != k]
    ranges = []
    for cp, k in diffs:
        if ranges and ranges[-1][1] == cp - 1 and ranges[-1][2] == k:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, k])
    import tokenizers
    names = {0: "kOther", 1: "kLetter", 2: "kNumber", 3: "kSpace"}
    with open(REGEX_TABLES, "w") as w:
        w.write("// GENERATED by tools/reference/make_tok_models.py unicode-tables: do not edit.\n")
        w.write(f"// The code points whose class in GPT-2's pattern (\\p{{L}}, \\p{{N}}, \\s, other) under the\n"
                f"// Oniguruma of tokenizers {tokenizers.__version__} differs from utf8proc's categories\n"
                f"// ({len(diffs)} code points, {len(ranges)} ranges).\n")
        w.write("constexpr RegexClassRange kOnigClasses[] = {\n")
        for lo, hi, k in ranges:
            w.write(f"    {{0x{lo:X}, 0x{hi:X}, {names[k]}}},\n")
        w.write("};\n")
    print(f"{REGEX_TABLES}: {len(diffs)} code points, {len(ranges)} ranges")


NORMALIZER_TABLES = os.path.join(ROOT, "src", "tokenizer", "hf_normalizer_tables.inc")
SCRIPT_TABLES = os.path.join(ROOT, "src", "tokenizer", "hf_script_tables.inc")


def write_script_tables():
    """The UnicodeScripts pre-tokenizer's scripts, read from the wheel itself: a code point is
    "Any" (never splits, as unassigned code points and ' ' are there) when it joins whatever
    precedes it; the others, swept in order, split into runs of one script, and runs are
    grouped by whether two of their code points stay together. The ids are arbitrary; equal
    ids are one script (Hiragana and Katakana are Han there, as SentencePiece has them)."""
    import tokenizers
    from tokenizers import pre_tokenizers
    us = pre_tokenizers.UnicodeScripts()

    def pieces(text):
        return [p for p, _ in us.pre_tokenize_str(text)]
    cps = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    anys = {cp for cp in cps if pieces("a" + chr(cp) + "\u4e00") == ["a" + chr(cp), "\u4e00"]
            and pieces("\u4e00" + chr(cp) + "a") == ["\u4e00" + chr(cp), "a"]}
    rest = [cp for cp in cps if cp not in anys]
    swept = "".join(map(chr, rest))
    runs, i = [], 0
    for p in pieces(swept):
        runs.append(rest[i:i + len(p)])
        i += len(p)
    if i != len(rest):
        raise SystemExit("UnicodeScripts dropped code points of the sweep")
    reps, entries = [], []
    for run in runs:
        c = chr(run[0])
        sid = next((k + 1 for k, r in enumerate(reps) if len(pieces(r + c)) == 1), 0)
        if not sid:
            reps.append(c)
            sid = len(reps)
        entries += [(lo, hi, sid) for lo, hi in _ranges(run)]
    entries.sort()
    with open(SCRIPT_TABLES, "w") as w:
        w.write("// GENERATED by tools/reference/make_tok_models.py unicode-tables: do not edit.\n")
        w.write(f"// tokenizers {tokenizers.__version__} UnicodeScripts: {len(reps)} scripts over {len(entries)} ranges;\n"
                f"// a code point in no range is Any ({len(anys)} code points).\n")
        w.write("constexpr ScriptRange kHfScripts[] = {\n")
        for lo, hi, sid in entries:
            w.write(f"    {{0x{lo:X}, 0x{hi:X}, {sid}}},\n")
        w.write("};\n")
    print(f"{SCRIPT_TABLES}: {len(reps)} scripts, {len(entries)} ranges")


def _ranges(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def write_normalizer_tables():
    """StripAccents' combining marks and NFKD as the tokenizers wheel has them
    (unicode-normalization-alignments: an older Unicode than utf8proc's)."""
    import ctypes
    import ctypes.util
    import tokenizers
    from tokenizers import normalizers
    lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
    lib.utf8proc_NFKD.restype = ctypes.c_char_p
    strip, nfkd = normalizers.StripAccents(), normalizers.NFKD()
    flips, keep = [], []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if (strip.normalize_str(c) == "") != (lib.utf8proc_category(cp) in (6, 7, 8)):
            flips.append(cp)
        ref = nfkd.normalize_str(c)
        if ref != lib.utf8proc_NFKD(c.encode()).decode():
            if ref != c:
                raise SystemExit(f"U+{cp:04X}: NFKD differs from utf8proc other than by not decomposing")
            keep.append(cp)
    # Grapheme clusters (unicode-segmentation, Unicode 16) as the Precompiled normalizer
    # shows them: after U+00A0 (which nmt_nfkc maps to ' '), a code point of the same
    # cluster vanishes with it. Only clusters under 6 bytes matter, so the BMP.
    import base64
    tj = json.load(open(os.path.join(FIXTURES, "xlm-roberta-base", "tokenizer.json"), encoding="utf-8"))
    cmap = [n for n in tj["normalizer"]["normalizers"] if n["type"] == "Precompiled"][0]["precompiled_charsmap"]
    pre = normalizers.Precompiled(base64.b64decode(cmap))
    lib.utf8proc_grapheme_break_stateful.argtypes = [ctypes.c_int32, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)]
    joins = []
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        joined, apart = pre.normalize_str("\u00a0" + c), pre.normalize_str("\u00a0") + pre.normalize_str(c)
        if joined == apart:
            continue
        state = ctypes.c_int32(0)
        if (joined == " ") == bool(lib.utf8proc_grapheme_break_stateful(0xA0, cp, ctypes.byref(state))):
            joins.append(cp)
    # Canonical combining classes the crate does not know (0 there, not in utf8proc): its
    # NFD leaves such a mark where it is, next to a mark of another class.
    class Prop(ctypes.Structure):
        _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16)]
    lib.utf8proc_get_property.restype = ctypes.POINTER(Prop)
    nfd = normalizers.NFD()
    no_class = []
    for cp in range(0x300, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        cc = lib.utf8proc_get_property(cp).contents.combining_class
        if cc == 0:
            continue
        c = chr(cp)
        probe = "a\u0301" + c if cc < 230 else "a" + c + "\u0316"  # reordering is due
        if nfd.normalize_str(probe) == probe and nfd.normalize_str(c) == c:
            no_class.append(cp)
    # The Whitespace pre-tokenizer's \w (Rust's regex crate: Alphabetic, M, Nd, Pc,
    # Join_Control, Unicode 16) where utf8proc's categories (L, M, Nd, Nl, Pc) miss it: letters
    # new since Unicode 15 and Other_Alphabetic symbols such as the circled letters.
    from tokenizers import pre_tokenizers
    ws = pre_tokenizers.Whitespace()

    def category_word(cp):
        if cp < 0x80:
            return chr(cp).isalnum() or cp == 0x5F
        return cp in (0x200C, 0x200D) or 1 <= lib.utf8proc_category(cp) <= 10 or lib.utf8proc_category(cp) == 12
    word_extra = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        word = [p for p, _ in ws.pre_tokenize_str("a" + c + "a")] == ["a" + c + "a"]
        if word and not category_word(cp):
            word_extra.append(cp)
        elif category_word(cp) and not word:
            raise SystemExit(f"U+{cp:04X}: a word character by category that the regex crate's \\w is not")
    # The Digits pre-tokenizer's char::is_numeric (Rust's Unicode 16: Nd, Nl, No) where
    # utf8proc's categories (Unicode 15) differ: digits of scripts new in Unicode 16.
    digits = pre_tokenizers.Digits(individual_digits=True)
    numeric_flip = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        numeric = len(digits.pre_tokenize_str("a" + chr(cp) + "a")) == 3
        if numeric != (9 <= lib.utf8proc_category(cp) <= 11):
            numeric_flip.append(cp)
    with open(NORMALIZER_TABLES, "w") as w:
        w.write("// GENERATED by tools/reference/make_tok_models.py unicode-tables: do not edit.\n")
        w.write(f"// tokenizers {tokenizers.__version__} (unicode-normalization-alignments) against utf8proc: the\n"
                f"// combining marks StripAccents sees otherwise ({len(flips)} code points) and the code points\n"
                f"// its NFKD leaves alone ({len(keep)}).\n")
        w.write("constexpr Range kHfCombiningMarkFlip[] = {\n")
        for lo, hi in _ranges(flips):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write("};\nconstexpr Range kHfNoCompatDecompose[] = {\n")
        for lo, hi in _ranges(keep):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write(f"}};\n// Code points without a combining class in the crate ({len(no_class)}).\n")
        w.write("constexpr Range kHfNoCombiningClass[] = {\n")
        for lo, hi in _ranges(no_class):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write(f"}};\n// Grapheme cluster breaks before these code points differ from utf8proc's ({len(joins)}).\n")
        w.write("constexpr Range kHfGraphemeBreakFlip[] = {\n")
        for lo, hi in _ranges(joins):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write(f"}};\n// Word characters of the Whitespace pre-tokenizer's \\w beyond L, M, Nd, Nl, Pc ({len(word_extra)}).\n")
        w.write("constexpr Range kHfRegexWordExtra[] = {\n")
        for lo, hi in _ranges(word_extra):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write(f"}};\n// Numeric (Nd, Nl, No) for the Digits pre-tokenizer otherwise than by utf8proc ({len(numeric_flip)}).\n")
        w.write("constexpr Range kHfNumericFlip[] = {\n")
        for lo, hi in _ranges(numeric_flip):
            w.write(f"    {{0x{lo:X}, 0x{hi:X}}},\n")
        w.write("};\n")
    print(f"{NORMALIZER_TABLES}: {len(flips)} mark flips, {len(keep)} not decomposed")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["models", "goldens", "unicode-tables"])
    p.add_argument("--only", default=",".join(BUILDERS))
    args = p.parse_args()
    if args.what == "unicode-tables":
        write_normalizer_tables()
        write_script_tables()
        return write_regex_tables()
    for name in args.only.split(","):
        if args.what == "models":
            print(model_dir(name))
        else:
            write_goldens(name)


if __name__ == "__main__":
    main()
