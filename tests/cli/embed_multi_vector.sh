#!/usr/bin/env bash
# encore embed --multi-vector and encore rerank --maxsim (ColBERT) through the real binary,
# against PyLate's goldens (tests/fixtures/colbert, tools/reference/make_colbert_fixtures.py):
# the same kept tokens and vectors within 1e-5 for queries and documents, and MaxSim rankings
# with scores within 1e-5 relative; a Stanford ColBERT checkpoint likewise; both kinds refused by
# plain `encore embed`; usage errors exit 2.
# Usage: embed_multi_vector.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
m=$fx/colbert/tiny

for case in tiny stanford; do
m=$fx/colbert/$case
for kind in query document; do
  python3 - "$fx/colbert/$case.jsonl" "$kind" >"$tmp/$kind.in" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    if c["is_query"] == (sys.argv[2] == "query"):
        print(json.dumps({"text": c["text"]}))
PY
  "$enc" embed --multi-vector "--$kind" --model "$m" --jsonl --input "$tmp/$kind.in" >"$tmp/$kind.out"
  python3 - "$fx/colbert/$case.jsonl" "$kind" "$tmp/$kind.out" <<'PY' || fail "embed --multi-vector --$kind differs ($case)"
import json, sys
want = [c for c in map(json.loads, open(sys.argv[1])) if c["is_query"] == (sys.argv[2] == "query")]
got = [json.loads(l) for l in open(sys.argv[3])]
assert len(got) == len(want), (len(got), len(want))
for w, g in zip(want, got):
    assert g["token_ids"] == [i for i, k in zip(w["input_ids"], w["kept"]) if k], w["text"]
    assert len(g["multi_vector"]) == len(w["embeddings"]), w["text"]
    for a, b in zip(g["multi_vector"], w["embeddings"]):
        assert max(abs(x - y) for x, y in zip(a, b)) <= 1e-5, w["text"]
PY
done
done
m=$fx/colbert/tiny
for case in stanford tiny; do
  set +e; "$enc" embed --model "$fx/colbert/$case" x >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 1 ] && grep -q "multi-vector" "$tmp/err" || fail "plain embed of ColBERT $case: exit $rc, $(cat "$tmp/err")"
done

# rerank --maxsim: each golden query against its 8 documents (TAB-separated input).
python3 - "$fx/colbert/tiny.maxsim.jsonl" >"$tmp/rerank.in" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    print(json.dumps({"query": c["query"], "documents": c["documents"]}))
PY
"$enc" rerank --maxsim --model "$m" --jsonl --input "$tmp/rerank.in" >"$tmp/rerank.out"
python3 - "$fx/colbert/tiny.maxsim.jsonl" "$tmp/rerank.out" <<'PY' || fail "rerank --maxsim differs"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l)["ranking"] for l in open(sys.argv[2])]
assert len(got) == len(want)
for w, g in zip(want, got):
    s = w["scores_unpadded"]
    assert sorted(r["corpus_id"] for r in g) == list(range(len(s)))
    for r in g:
        assert abs(r["score"] - s[r["corpus_id"]]) <= 1e-5 * max(1.0, abs(s[r["corpus_id"]])), (w["query"], r)
    assert [r["score"] for r in g] == sorted((r["score"] for r in g), reverse=True)
PY
"$enc" rerank --maxsim --model "$m" --top-k 2 "license	GNU GPL	weather	..." | python3 -c '
import json, sys; assert len(json.loads(sys.stdin.read())["ranking"]) == 2' || fail "--top-k 2"

for bad in "--multi-vector x" "--multi-vector --query --document x" "--multi-vector --query --sparse x" \
  "--multi-vector --query --output $tmp/x.npy x" "--query x"; do
  # shellcheck disable=SC2086
  set +e; "$enc" embed --model "$m" $bad >/dev/null 2>"$tmp/err"; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "embed $bad exited $rc, expected 2"
done
set +e; "$enc" rerank --maxsim --raw-scores --model "$m" "a	b" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "rerank --maxsim --raw-scores exited $rc, expected 2"
set +e; "$enc" embed --multi-vector --query --model "$fx/heads/masked-lm/model" x >/dev/null 2>"$tmp/err"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "modules.json" "$tmp/err" || fail "a model that is no ColBERT: exit $rc, $(cat "$tmp/err")"
echo "embed_multi_vector: OK"
