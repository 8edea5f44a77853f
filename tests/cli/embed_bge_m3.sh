#!/usr/bin/env bash
# encore embed --bge-m3 through the real binary against FlagEmbedding's goldens
# (tests/fixtures/bge-m3, tools/reference/make_bge_m3_fixtures.py; a tiny random XLM-R with
# bge-m3's two extra heads): dense, sparse (the lexical weights' ids and values) and ColBERT
# vectors within 1e-5, with the default max length (512, capped to the model's 40) and 12, and
# with FlagEmbedding's default float16 weights (--fp16-weights);
# a directory without a head file exits 1 naming it; usage errors exit 2.
# Usage: embed_bge_m3.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
m=$fx/bge-m3/tiny

check() {  # check GOLDENS [embed flags...]
  local golden=$1
  shift
  python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.dumps({"text": json.loads(l)["text"]}))' "$golden" >"$tmp/in.jsonl"
  "$enc" embed --bge-m3 --model "$m" --jsonl --input "$tmp/in.jsonl" "$@" >"$tmp/out.jsonl"
  python3 - "$golden" "$tmp/out.jsonl" <<'PY' || fail "embed --bge-m3 $* differs from $(basename "$golden")"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(want), (len(got), len(want))
close = lambda a, b: abs(a - b) <= 1e-5 * max(1.0, abs(b))
for w, g in zip(want, got):
    assert all(map(close, g["dense"], w["dense"])), w["text"]
    lw = {int(k): v for k, v in w["lexical_weights"].items()}
    gs = {p["index"]: p["value"] for p in g["sparse"]}
    assert sorted(gs) == sorted(lw), (w["text"], sorted(gs), sorted(lw))
    assert all(close(gs[k], lw[k]) for k in lw), w["text"]
    assert len(g["colbert"]) == len(w["colbert_vecs"]), w["text"]
    for a, b in zip(g["colbert"], w["colbert_vecs"]):
        assert all(map(close, a, b)), w["text"]
PY
}
check "$fx/bge-m3/encode.jsonl"
check "$fx/bge-m3/encode_len12.jsonl" --max-length 12
check "$fx/bge-m3/encode_fp16.jsonl" --fp16-weights  # FlagEmbedding's default use_fp16=True

cp -r "$m" "$tmp/nohead"
rm "$tmp/nohead/sparse_linear.pt"
set +e; "$enc" embed --bge-m3 --model "$tmp/nohead" x >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "sparse_linear.pt" "$tmp/err" || fail "missing head: exit $rc, $(cat "$tmp/err")"
for bad in "--sparse" "--pooling cls" "--max-length -1" "--output $tmp/x.npy"; do
  # shellcheck disable=SC2086
  set +e; "$enc" embed --bge-m3 --model "$m" $bad x >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "embed --bge-m3 $bad exited $rc, expected 2"
done
echo "embed_bge_m3: OK"
