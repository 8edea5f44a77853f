#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the test fixtures (stdlib only).

Usage: make_seeds.py FIXTURES_DIR CORPUS_DIR  ->  CORPUS_DIR/{safetensors,torch_pickle,tf_bundle,serve_request}/
"""
import struct
import sys
import zipfile
from pathlib import Path


def main():
    fixtures, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    dirs = {name: corpus / name for name in ("safetensors", "torch_pickle", "tf_bundle", "serve_request",
                                             "tokenizer_json", "tokenizer_encode",
                                             "bpe_merges", "precompiled", "regex_pattern",
                                             "sentencepiece_model", "vocab_txt")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)

    def seed(target, name, data):
        (dirs[target] / name).write_bytes(data)

    # safetensors: the small ones (inputs, layouts), not the 100 KB models.
    for p in sorted(fixtures.rglob("*.safetensors")):
        if p.stat().st_size <= 16384:
            seed("safetensors", "-".join(p.relative_to(fixtures).parts), p.read_bytes())
    # torch: whole files, plus each zip's data.pkl on its own.
    for p in sorted(list(fixtures.glob("formats/**/*.pt")) + list(fixtures.glob("formats/**/*.bin"))):
        name = "-".join(p.relative_to(fixtures).parts)
        data = p.read_bytes()
        if len(data) <= 65536:
            seed("torch_pickle", name, data)
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                for entry in z.namelist():
                    if entry.endswith("/data.pkl"):
                        seed("torch_pickle", name + ".data.pkl", z.read(entry))
    # TensorFlow: 4-byte index length, index, shard 0.
    for index in sorted(fixtures.glob("formats/**/*.index")):
        prefix = str(index)[: -len(".index")]
        shard = sorted(Path(index.parent).glob(Path(prefix).name + ".data-00000-of-*"))[0]
        idx = index.read_bytes()
        seed("tf_bundle", "-".join(index.relative_to(fixtures).parts), struct.pack("<I", len(idx)) + idx + shard.read_bytes())
    # encore serve: one byte for the route's parser (fuzz_serve_request.cc), then a body.
    bodies = [
        (0, '{"inputs": "What is Deep Learning?", "truncate": true, "normalize": false, "dimensions": 8}'),
        (0, '{"inputs": ["a", [101, 7592, 102]], "truncation_direction": "Left", "prompt_name": null}'),
        (1, '{"input": [[101, 102], [7592]], "model": "m", "encoding_format": "base64", "dimensions": 4}'),
        (1, '{"input": "x", "encoding_format": "float", "user": "u"}'),
        (2, '{"inputs": {"source_sentence": "a", "sentences": ["b", "c"]}, "parameters": {"truncate": false}}'),
        (3, r'{"inputs": ["x\u00e9\ud83d\ude00", "y"], "add_special_tokens": false}'),
        (4, '{"ids": [[101, 102], [7592]], "skip_special_tokens": false}'),
        (5, '{"inputs": [["a"], ["a", "b"]], "truncate": true, "raw_scores": false}'),
        (5, '{"inputs": ["text", "text pair"], "truncation_direction": "Right"}'),
        (6, '{"query": "q", "texts": ["a", "b"], "raw_scores": true, "return_text": true}'),
    ]
    for i, (route, body) in enumerate(bodies):
        seed("serve_request", f"body-{i}", bytes([route]) + body.encode())
    # tokenizer.json: a trimmed real one (a few vocab entries keep runs fast) and its variants.
    import json
    tj = json.loads((fixtures / "tokenizer" / "minilm" / "tokenizer.json").read_text(encoding="utf-8"))
    tj["model"]["vocab"] = dict(list(tj["model"]["vocab"].items())[:120]) | {"hello": 7592, "##lo": 8840}
    tj["added_tokens"] = tj.get("added_tokens", [])[:5]
    seed("tokenizer_json", "minilm-trimmed", json.dumps(tj).encode())
    tj["normalizer"]["lowercase"] = False
    tj["truncation"] = {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
    seed("tokenizer_json", "minilm-cased-truncated", json.dumps(tj).encode())
    # encoding: real lines of the tokenizer goldens (many scripts), pairs split by a tab.
    lines = (fixtures / "tokenizer" / "hf.jsonl").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[:200:4]):
        rec = json.loads(line)
        if "a" not in rec:
            continue
        text = rec["a"] + ("\t" + rec["b"] if rec.get("b") else "")
        seed("tokenizer_encode", f"golden-{i}", text.encode())
    seed("tokenizer_encode", "invalid-utf8", b"caf\xc3 \xff\xfe")
    # tokenizer.json of the other models: byte-level BPE whole, Unigram with 300 pieces.
    seed("tokenizer_json", "roberta-base", (fixtures / "tokenizer" / "roberta-base" / "tokenizer.json").read_bytes())
    for name in ("xlm-roberta-base", "albert-base-v2"):
        tj = json.loads((fixtures / "tokenizer" / name / "tokenizer.json").read_text(encoding="utf-8"))
        tj["model"]["vocab"] = tj["model"]["vocab"][:300]
        tj["added_tokens"] = [t for t in tj["added_tokens"] if t["id"] < 300]
        seed("tokenizer_json", name + "-trimmed", json.dumps(tj).encode())
    # BPE: the first merges of the rebuilt roberta-base, as lines.
    import base64
    rob = json.loads((fixtures / "tokenizer" / "roberta-base" / "tokenizer.json").read_text(encoding="utf-8"))
    seed("bpe_merges", "roberta-merges", "\n".join(rob["model"]["merges"][:200]).encode())
    seed("bpe_merges", "tiny", b"a b\nab c\n<unk>\nabc d")
    # Precompiled: the nmt_nfkc map of the rebuilt xlm-roberta-base (and a cut copy).
    xlmr = json.loads((fixtures / "tokenizer" / "xlm-roberta-base" / "tokenizer.json").read_text(encoding="utf-8"))
    for n in xlmr["normalizer"]["normalizers"]:
        if n["type"] == "Precompiled":
            cmap = base64.b64decode(n["precompiled_charsmap"])
            seed("precompiled", "nmt-nfkc", cmap)
            seed("precompiled", "nmt-nfkc-cut", cmap[:4096])
    for i, pattern in enumerate([" {2,}", "\\s+", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                                 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}", "x*", "\\p{Han}+"]):
        seed("regex_pattern", f"pattern-{i}", pattern.encode())
    # SentencePiece models: the rebuilt xlm-roberta-base and albert-base-v2 ones.
    for name, f in (("xlm-roberta-base", "sentencepiece.bpe.model"), ("albert-base-v2", "spiece.model")):
        seed("sentencepiece_model", name, (fixtures / "tokenizer" / name / f).read_bytes())
    # vocab.txt, NUL, tokenizer_config.json: MiniLM's first 500 entries, with and without a config.
    vocab = b"".join((fixtures / "tokenizer" / "minilm" / "vocab.txt").read_bytes().splitlines(keepends=True)[:500])
    config = json.dumps({"do_lower_case": True, "model_max_length": 512, "never_split": ["[MASK]"],
                         "added_tokens_decoder": {"103": {"content": "[MASK]", "special": True}}}).encode()
    seed("vocab_txt", "minilm-500", vocab + b"\0" + config)
    seed("vocab_txt", "minilm-500-bare", vocab)
    # Inputs that once crashed a target (tests/fuzz/regressions/<target>/): replayed first.
    regressions = Path(__file__).parent / "regressions"
    for target, d in dirs.items():
        for p in sorted((regressions / target).glob("*")) if (regressions / target).is_dir() else []:
            seed(target, "regression-" + p.name, p.read_bytes())
    for target, d in dirs.items():
        print(f"{target}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    main()
