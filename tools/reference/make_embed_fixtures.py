#!/usr/bin/env python3
"""Golden sentence embeddings from sentence-transformers for encore's embed parity tests.

Runs the real all-MiniLM-L6-v2 (fetched by scripts/fetch-model.sh) through
sentence-transformers itself, on real text nobody here wrote: sentences from the license
texts Debian ships in /usr/share/common-licenses and translated messages from
/usr/share/locale (non-Latin scripts), plus edge cases (empty, whitespace only, a text far
longer than max_seq_length). Writes tests/fixtures/embed/<model>.safetensors holding the
expected embeddings and <model>.jsonl holding the inputs, in order.

Run with the pinned stack: .venv-st (tools/reference/requirements-embed.txt).
"""
import gettext
import glob
import json
import os
import re
import sys

import numpy as np
import torch
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer, models

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "all-MiniLM-L6-v2")
OUT = os.path.join(ROOT, "tests", "fixtures", "embed")


def license_sentences(limit):
    text = open("/usr/share/common-licenses/GPL-3", encoding="utf-8").read()
    text += open("/usr/share/common-licenses/Apache-2.0", encoding="utf-8").read()
    parts = re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", text))
    out = [p.strip() for p in parts if 20 <= len(p.strip()) <= 400]
    return out[:: max(1, len(out) // limit)][:limit]


def translated_messages(langs, per_lang):
    out = []
    for lang in langs:
        files = sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo"))
        for f in files:
            try:
                catalog = gettext.GNUTranslations(open(f, "rb"))._catalog
            except Exception:
                continue
            msgs = [v for k, v in sorted(catalog.items(), key=lambda kv: str(kv[0])) if k and isinstance(v, str) and 10 <= len(v) <= 200]
            out.extend(msgs[:per_lang])
            if msgs:
                break
    return out


def main():
    torch.manual_seed(0)
    sentences = license_sentences(40)
    sentences += translated_messages(["de", "fr", "ru", "el", "ja", "zh_CN", "ar", "he", "hi", "th"], 2)
    sentences += ["", "   \t ", "a", "Hello, World!", "naïve café déjà vu — ﬁne 🙂",
                  " ".join(license_sentences(400))[:4000]]  # far beyond 256 tokens: truncated
    st = SentenceTransformer(MODEL, device="cpu")
    expected = {"default": st.encode(sentences, batch_size=16, convert_to_numpy=True).astype(np.float32)}
    # Each pooling mode on its own, no normalization (a Transformer + Pooling pipeline).
    transformer = models.Transformer(MODEL, max_seq_length=256)
    dim = transformer.get_word_embedding_dimension()
    for mode in ["cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"]:
        pipe = SentenceTransformer(modules=[transformer, models.Pooling(dim, pooling_mode=mode)], device="cpu")
        expected[f"pooling.{mode}"] = pipe.encode(sentences, batch_size=16, convert_to_numpy=True).astype(np.float32)
    # Matryoshka: the first 128 dimensions as they are (truncate_dim), and renormalized.
    expected["truncate_dim.128"] = st.encode(sentences, batch_size=16, convert_to_numpy=True,
                                             truncate_dim=128).astype(np.float32)
    expected["dimensions.128"] = st.encode(sentences, batch_size=16, convert_to_numpy=True, truncate_dim=128,
                                           normalize_embeddings=True).astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    save_file(expected, os.path.join(OUT, "all-MiniLM-L6-v2.safetensors"))
    with open(os.path.join(OUT, "all-MiniLM-L6-v2.jsonl"), "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
    import sentence_transformers, transformers
    print(f"{len(sentences)} sentences; sentence-transformers {sentence_transformers.__version__}, "
          f"transformers {transformers.__version__}, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
