#!/usr/bin/env bash
# encore embed and encore classify from TEXT on the ModernBERT fixtures (tests/fixtures/modernbert-text,
# made by tools/reference/make_modernbert_text_fixtures.py): a byte-level BPE tokenizer.json shaped like
# ModernBERT-base's under a tiny random sentence-transformers model and a
# ModernBertForSequenceClassification. The printed embeddings are SentenceTransformer.encode()'s within
# 1e-5 * max(1, |ref|) (as arguments and as --jsonl input; one text is cut to max_seq_length 48), the
# printed label is the argmax of transformers' logits and the --all scores are their softmax (same rule).
# Usage: modernbert_text.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2/modernbert-text
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
# check_embeddings GOLDEN OUTPUT: one {"embedding": [...]} per golden line, within the rule.
check_embeddings() {
  python3 - "$1" "$2" <<'PY'
import json, sys
want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(got) == len(want), (len(got), len(want))
for w, g in zip(want, got):
    e = g["embedding"]
    assert len(e) == len(w["embedding"]) == 48, len(e)
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(e, w["embedding"]))
    assert worst <= 1e-5, f"{w['text'][:40]!r}: scaled |diff| {worst:.3g}"
PY
}

# Arguments: a GPL sentence and the PII placeholders (added tokens, not special); --jsonl: the
# emoji line, 55 tokens cut to 48 (a truncation warning on stderr).
pick "GNU GENERAL PUBLIC LICENSE" "|||IP_ADDRESS|||" >"$tmp/args.jsonl"
pick "emoji " >"$tmp/long.jsonl"
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
grep -q truncated "$tmp/err" || fail "the 55-token text should warn about truncation: $(cat "$tmp/err")"

# classify: texts that fit in 48 tokens (the pipeline does not truncate), one of each label; the
# top label, then --all.
pick "GNU GENERAL PUBLIC LICENSE" "|||IP_ADDRESS|||" "query: already" "two  spaces" >"$tmp/clf.jsonl"
python3 -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"):
    g = json.loads(l); assert len(g["ids"]) <= 48, g["text"]; print(json.dumps({"text": g["text"]}))' "$tmp/clf.jsonl" \
  >"$tmp/clf.in" || fail "a classify text is longer than 48 tokens"
"$enc" classify --model "$fx/classifier" --jsonl --input "$tmp/clf.in" >"$tmp/top.out" || fail "encore classify"
"$enc" classify --model "$fx/classifier" --jsonl --all --input "$tmp/clf.in" >"$tmp/all.out" || fail "encore classify --all"
python3 - "$tmp/clf.jsonl" "$tmp/top.out" "$tmp/all.out" <<'PY' || fail "encore classify differs from transformers"
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
# encore serve on the same directories: TEI's /embed (normalized, as sentence-transformers) and
# /predict answer what the CLI printed.
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
python3 -c 'import json,sys
print(json.dumps({"inputs": [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]}))' \
  "$tmp/args.jsonl" >"$tmp/embed.json"
serve_post "$fx/st" /embed "$tmp/embed.json" "$tmp/embed.out"
python3 - "$tmp/args.jsonl" "$tmp/embed.out" <<'PY' || fail "serve /embed differs from sentence-transformers"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = json.load(open(sys.argv[2]))
assert len(got) == len(want)
for w, e in zip(want, got):
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(e, w["embedding"]))
    assert worst <= 1e-5, f"{w['text'][:40]!r}: scaled |diff| {worst:.3g}"
PY
python3 -c 'import json,sys
print(json.dumps({"inputs": json.loads(open(sys.argv[1], encoding="utf-8").readline())["text"]}))' \
  "$tmp/clf.jsonl" >"$tmp/predict.json"
serve_post "$fx/classifier" /predict "$tmp/predict.json" "$tmp/predict.out"
python3 - "$tmp/clf.jsonl" "$tmp/predict.out" <<'PY' || fail "serve /predict differs from transformers"
import json, sys
w = json.loads(open(sys.argv[1], encoding="utf-8").readline())
got = json.load(open(sys.argv[2]))
assert got[0]["label"] == w["label"], (got, w["label"])
PY
echo "cli modernbert_text: all checks passed"
