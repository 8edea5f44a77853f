#!/usr/bin/env bash
# encore embed --sparse (SPLADE) through the real binary: the tiny masked-LM fixture as a
# sentence-transformers SparseEncoder directory (modules.json: MLMTransformer + SpladePooling,
# as tools/reference/make_sparse_fixtures.py makes it) against sentence-transformers'
# SparseEncoder goldens (tests/fixtures/sparse), with and without --max-active-dims; usage
# errors exit 2, a model without a masked-LM head exits 1 naming it. Then `encore serve` on the
# same directory (and on the plain masked-LM model with TEI's --pooling splade): /embed_sparse
# answers the goldens through curl.
# Usage: embed_sparse.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

m=$tmp/splade
mkdir -p "$m/1_SpladePooling"
cp "$fx"/heads/masked-lm/model/* "$m/"
cat >"$m/modules.json" <<'JSON'
[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.sparse_encoder.models.MLMTransformer"},
 {"idx": 1, "name": "1", "path": "1_SpladePooling", "type": "sentence_transformers.sparse_encoder.models.SpladePooling"}]
JSON
echo '{"model_type": "SparseEncoder"}' >"$m/config_sentence_transformers.json"
echo '{"pooling_strategy": "max", "activation_function": "relu", "word_embedding_dimension": null}' \
  >"$m/1_SpladePooling/config.json"

# The goldens' texts as --jsonl input ({"text": ...} per line; one is "").
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.dumps({"text": json.loads(l)["text"]}))' "$fx/sparse/tiny-max-relu.jsonl" >"$tmp/in.jsonl"

check() {  # check GOLDEN OUTPUT: same indices, values within 1e-5 * max(1, |ref|)
  python3 - "$1" "$2" <<'PY' || fail "embed --sparse differs from $(basename "$1")"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(want), (len(got), len(want))
for w, g in zip(want, got):
    pairs = g["sparse_embedding"]
    assert [p["index"] for p in pairs] == w["indices"], w["text"]
    for p, v in zip(pairs, w["values"]):
        assert abs(p["value"] - v) <= 1e-5 * max(1.0, abs(v)), (w["text"], p, v)
PY
}
"$enc" embed --sparse --model "$m" --jsonl --input "$tmp/in.jsonl" >"$tmp/out.jsonl"
check "$fx/sparse/tiny-max-relu.jsonl" "$tmp/out.jsonl"
"$enc" embed --sparse --max-active-dims 8 --model "$m" --jsonl --input "$tmp/in.jsonl" --output "$tmp/k8.jsonl"
check "$fx/sparse/tiny-max-relu-k8.jsonl" "$tmp/k8.jsonl"

for bad in "--output $tmp/x.npy" "--pooling mean" "--normalize" "--max-active-dims -1"; do
  # shellcheck disable=SC2086
  set +e; "$enc" embed --sparse --model "$m" $bad "x" >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "embed --sparse $bad exited $rc, expected 2"
done
set +e; "$enc" embed --max-active-dims 8 --model "$m" "x" >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q -- "--sparse" "$tmp/err" || fail "--max-active-dims without --sparse: exit $rc"
set +e; "$enc" embed --sparse --model "$fx/heads/sequence-classification/model" "x" >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -qi "mask" "$tmp/err" || fail "a classifier as a SPLADE model: exit $rc, $(cat "$tmp/err")"

command -v curl >/dev/null || { echo "SKIPPED: curl is not installed (the CLI part passed)"; exit 0; }
serve_check() {  # serve_check MODEL_DIR [serve flags...]: /embed_sparse on the goldens' texts
  local model=$1
  shift
  "$enc" serve --model "$model" --port 0 --port-file "$tmp/port" --max-client-batch-size 64 "$@" 2>"$tmp/serve.log" &
  local pid=$!
  for _ in $(seq 1 300); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  [ -s "$tmp/port" ] || fail "serve did not start: $(cat "$tmp/serve.log")"
  local base="http://127.0.0.1:$(cat "$tmp/port")"
  python3 -c 'import json,sys
print(json.dumps({"inputs": [json.loads(l)["text"] for l in open(sys.argv[1]) if json.loads(l)["text"]]}))' \
    "$fx/sparse/tiny-max-relu.jsonl" >"$tmp/req.json"
  curl -sf "$base/embed_sparse" -H 'Content-Type: application/json' --data-binary @"$tmp/req.json" >"$tmp/resp.json" ||
    fail "/embed_sparse failed"
  curl -sf "$base/info" | grep -q '"pooling":"splade"' || fail "/info does not say splade"
  kill -TERM "$pid"
  wait "$pid" || fail "serve did not exit 0"
  rm -f "$tmp/port"
  python3 - "$fx/sparse/tiny-max-relu.jsonl" "$tmp/resp.json" <<'PY' || fail "/embed_sparse differs from the goldens"
import json, sys
want = [w for w in map(json.loads, open(sys.argv[1])) if w["text"]]
got = json.load(open(sys.argv[2]))
assert len(got) == len(want), (len(got), len(want))
for w, pairs in zip(want, got):
    assert [p["index"] for p in pairs] == w["indices"], w["text"]
    for p, v in zip(pairs, w["values"]):
        assert abs(p["value"] - v) <= 1e-5 * max(1.0, abs(v)), (w["text"], p, v)
PY
}
serve_check "$m"
serve_check "$fx/heads/masked-lm/model" --pooling splade
echo "embed_sparse: OK"
