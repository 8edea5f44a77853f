#!/usr/bin/env bash
# encore embed and encore classify from TEXT on the NomicBERT fixtures (tests/fixtures/nomic-text, made by
# tools/reference/make_nomic_text_fixtures.py): a WordPiece tokenizer.json shaped like bert-base-uncased's
# (nomic-embed-text-v1's) under a tiny random sentence-transformers NomicBERT model (Transformer ->
# Pooling(mean), no Normalize) and a NomicBertForSequenceClassification (their config.json names the
# pinned hub code in auto_map; encore reads config.json only). The printed embeddings are
# SentenceTransformer.encode()'s within 1e-5 * max(1, |ref|) (as arguments and as --jsonl input; one text
# is cut to max_seq_length 48), the printed label is the argmax of the reference's logits and the --all
# scores are their softmax (same rule); encore serve's /embed (normalized by default, as TEI, and with
# "normalize": false) and /predict answer the same.
# Usage: nomic_text.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2/nomic-text
command -v python3 >/dev/null || { echo "SKIPPED: python3 is absent"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# pick PREFIX...: the golden lines whose text starts with each PREFIX (the first such), as JSON lines.
pick() {
  python3 - "$fx/golden.jsonl" "$@" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
for prefix in sys.argv[2:]:
    print(json.dumps(next(g for g in lines if g["text"].startswith(prefix)), ensure_ascii=False))
PY
}
# check_embeddings GOLDEN OUTPUT [normalized]: one {"embedding": [...]} (or a bare list) per golden line,
# within the rule; with "normalized", against the golden vector scaled to unit length.
check_embeddings() {
  python3 - "$@" <<'PY'
import json, math, sys
want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
text = open(sys.argv[2], encoding="utf-8").read()
got = json.loads(text) if text.lstrip().startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
unit = len(sys.argv) > 3 and sys.argv[3] == "normalized"
assert len(got) == len(want), (len(got), len(want))
for w, g in zip(want, got):
    e = g["embedding"] if isinstance(g, dict) else g
    ref = w["embedding"]
    if unit:
        n = math.sqrt(sum(x * x for x in ref))
        ref = [x / n for x in ref]
    assert len(e) == len(ref) == 32, len(e)
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(e, ref))
    assert worst <= 1e-5, f"{w['text'][:40]!r}: scaled |diff| {worst:.3g}"
PY
}

# Arguments: a GPL sentence and upper case with diacritics (lowercased, accents stripped); --jsonl: the
# 120-character word ([UNK]) line, 113 tokens cut to 48 (a truncation warning on stderr).
pick "GNU GENERAL PUBLIC LICENSE" "Ünïcödé" >"$tmp/args.jsonl"
pick "a supercalifragilistic" >"$tmp/long.jsonl"
mapfile -t args < <(python3 -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"): print(json.loads(l)["text"])' "$tmp/args.jsonl")
[ "${#args[@]}" -eq 2 ] || fail "the argument texts must be one line each"
"$enc" embed --model "$fx/st" "${args[@]}" >"$tmp/out.jsonl" || fail "encore embed exited $?"
check_embeddings "$tmp/args.jsonl" "$tmp/out.jsonl" || fail "encore embed (arguments) differs from sentence-transformers"
python3 -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"): print(json.dumps({"text": json.loads(l)["text"]}))' "$tmp/long.jsonl" \
  >"$tmp/long.in"
"$enc" embed --model "$fx/st" --jsonl --input "$tmp/long.in" >"$tmp/long.out" 2>"$tmp/err" || fail "encore embed --jsonl"
check_embeddings "$tmp/long.jsonl" "$tmp/long.out" || fail "encore embed (--jsonl, truncated) differs"
grep -q truncated "$tmp/err" || fail "the 113-token text should warn about truncation: $(cat "$tmp/err")"

# classify: texts that fit in 48 tokens (the pipeline does not truncate), each label at least once; the
# top label, then --all.
pick "GNU GENERAL PUBLIC LICENSE" "Hello, World!" "[CLS] literal" "two  spaces" >"$tmp/clf.jsonl"
python3 -c 'import json,sys
labels = set()
for l in open(sys.argv[1], encoding="utf-8"):
    g = json.loads(l); assert len(g["ids"]) <= 48, g["text"]; labels.add(g["label"]); print(json.dumps({"text": g["text"]}))
assert len(labels) == 3, labels' "$tmp/clf.jsonl" \
  >"$tmp/clf.in" || fail "a classify text is longer than 48 tokens, or a label is missing"
"$enc" classify --model "$fx/classifier" --jsonl --input "$tmp/clf.in" >"$tmp/top.out" || fail "encore classify"
"$enc" classify --model "$fx/classifier" --jsonl --all --input "$tmp/clf.in" >"$tmp/all.out" || fail "encore classify --all"
python3 - "$tmp/clf.jsonl" "$tmp/top.out" "$tmp/all.out" <<'PY' || fail "encore classify differs from the reference"
import json, math, sys
want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
top = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
every = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
assert len(top) == len(every) == len(want)
names = ["obligation", "permission", "prohibition"]
for w, t, a in zip(want, top, every):
    assert [l["label"] for l in t["labels"]] == [w["label"]], (w["text"], t, w["label"])
    m = max(w["logits"])
    z = sum(math.exp(x - m) for x in w["logits"])
    p = {n: math.exp(x - m) / z for n, x in zip(names, w["logits"])}
    assert a["labels"][0]["label"] == w["label"] and sorted(l["label"] for l in a["labels"]) == names, a
    for l in a["labels"]:
        assert abs(l["score"] - p[l["label"]]) <= 1e-5, (w["text"], l, p)
PY
# encore serve on the same directories: TEI's /embed (normalized unless "normalize": false; the model has
# no Normalize module) and /predict answer what the reference computes.
command -v curl >/dev/null || { echo "SKIPPED: curl is not installed (the CLI part passed)"; exit 0; }
serve_post() {  # serve_post MODEL_DIR ROUTE REQUEST RESPONSE
  "$enc" serve --model "$1" --port 0 --port-file "$tmp/port" 2>"$tmp/serve.log" &
  local pid=$!
  for _ in $(seq 1 300); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  [ -s "$tmp/port" ] || fail "serve did not start: $(cat "$tmp/serve.log")"
  curl -sf "http://127.0.0.1:$(cat "$tmp/port")$2" -H 'Content-Type: application/json' --data-binary @"$3" >"$4" ||
    fail "$2 failed: $(cat "$tmp/serve.log")"
  kill -TERM "$pid"
  wait "$pid" || fail "serve did not exit 0"
  rm -f "$tmp/port"
}
cat "$tmp/args.jsonl" "$tmp/long.jsonl" >"$tmp/serve.jsonl"
python3 -c 'import json,sys
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
json.dump({"inputs": texts, "truncate": True}, open(sys.argv[2], "w"))
json.dump({"inputs": texts, "truncate": True, "normalize": False}, open(sys.argv[3], "w"))' \
  "$tmp/serve.jsonl" "$tmp/embed.json" "$tmp/embed-raw.json"
serve_post "$fx/st" /embed "$tmp/embed.json" "$tmp/embed.out"
check_embeddings "$tmp/serve.jsonl" "$tmp/embed.out" normalized || fail "serve /embed differs from sentence-transformers"
serve_post "$fx/st" /embed "$tmp/embed-raw.json" "$tmp/embed-raw.out"
check_embeddings "$tmp/serve.jsonl" "$tmp/embed-raw.out" || fail "serve /embed (normalize false) differs"
python3 -c 'import json,sys
texts = [[json.loads(l)["text"]] for l in open(sys.argv[1], encoding="utf-8")]
json.dump({"inputs": texts}, open(sys.argv[2], "w"))
json.dump({"inputs": texts, "raw_scores": True}, open(sys.argv[3], "w"))' \
  "$tmp/clf.jsonl" "$tmp/predict.json" "$tmp/predict-raw.json"
serve_post "$fx/classifier" /predict "$tmp/predict.json" "$tmp/predict.out"
serve_post "$fx/classifier" /predict "$tmp/predict-raw.json" "$tmp/predict-raw.out"
python3 - "$tmp/clf.jsonl" "$tmp/predict.out" "$tmp/predict-raw.out" <<'PY' || fail "serve /predict differs from the reference"
import json, math, sys
want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
probs, raw = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
assert len(probs) == len(raw) == len(want), (probs, raw)
names = ["obligation", "permission", "prohibition"]
for w, p, r in zip(want, probs, raw):
    m = max(w["logits"])
    z = sum(math.exp(x - m) for x in w["logits"])
    soft = {n: math.exp(x - m) / z for n, x in zip(names, w["logits"])}
    logit = dict(zip(names, w["logits"]))
    assert p[0]["label"] == r[0]["label"] == w["label"], (w["text"], p, r, w["label"])
    assert sorted(x["label"] for x in p) == sorted(x["label"] for x in r) == names, (p, r)
    for x in p:
        assert abs(x["score"] - soft[x["label"]]) <= 1e-5, (w["text"], x, soft)
    for x in r:
        assert abs(x["score"] - logit[x["label"]]) <= 1e-5 * max(1.0, abs(logit[x["label"]])), (w["text"], x, logit)
PY
echo "cli nomic_text: all checks passed"
