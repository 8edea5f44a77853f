#!/usr/bin/env bash
# encore serve through the real binary and curl: every route, every failure path (401, 404,
# 405, 413, 422 naming the field, 424, 429, 503 timeout), concurrent clients against
# sequential single requests, a client that resets (and ones that half-close), the SIGTERM
# drain (/health 503 meanwhile, a half-sent request given 2 s) and an idle server's exit
# within 500 ms of SIGTERM. First the classifier routes (/predict, /rerank) on the task
# fixtures of tests/fixtures/heads, then the embedding routes on all-MiniLM-L6-v2 (skipped
# without it).
# Usage: serve.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
command -v curl >/dev/null || { echo "SKIPPED: curl is not installed"; exit 0; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -n 5 "$f" >&2; done; exit 1; }

# Starts a server for $model on a free loopback port; sets $base and $pid.
start_server() {
  local name=$1
  shift
  rm -f "$tmp/$name.port"
  "$enc" serve --model "$model" --port 0 --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do
    [ -s "$tmp/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || fail "server $name exited: $(cat "$tmp/$name.log")"
    sleep 0.1
  done
  [ -s "$tmp/$name.port" ] || fail "server $name did not start"
  base="http://127.0.0.1:$(cat "$tmp/$name.port")"
}

# check CODE METHOD PATH [BODY] [curl args...]: the status must be CODE; the body is in $tmp/body.
check() {
  local want=$1 method=$2 path=$3 data=${4:-}
  shift 3
  [ $# -gt 0 ] && shift
  local code
  if [ -n "$data" ]; then
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" "$base$path" -H 'Content-Type: application/json' \
      --data-binary "$data" "$@")
  else
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" "$base$path" "$@")
  fi
  [ "$code" = "$want" ] || fail "$method $path: expected $want, got $code: $(head -c 400 "$tmp/body")"
}
body_has() { grep -qF -- "$1" "$tmp/body" || fail "expected '$1' in: $(head -c 400 "$tmp/body")"; }
# stop_idle_server NAME: a server with no request to answer exits 0 within 500 ms of SIGTERM.
stop_idle_server() {
  local t0 ms
  t0=$(date +%s%N)
  kill -TERM "$pid"
  wait "$pid" || fail "server $1 did not exit 0 on SIGTERM"
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$ms" -lt 500 ] || fail "idle server $1 took $ms ms to exit after SIGTERM (limit 500)"
  echo "serve: idle server $1 exited $ms ms after SIGTERM"
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/body')); $1"; }

# ---- Server F: started, healthy, stopped.
model=$fx/heads/sequence-classification/model
start_server f
check 200 GET /health
stop_idle_server f

# An empty API key is refused before the model loads (it would have required "Bearer "),
# from the flag or from ENCORE_API_KEY; a key from ENCORE_API_KEY is required as --api-key's.
for how in flag env; do
  rc=0
  if [ $how = flag ]; then
    timeout 60 "$enc" serve --model "$model" --port 0 --api-key '' 2>"$tmp/key.err" || rc=$?
  else
    ENCORE_API_KEY= timeout 60 "$enc" serve --model "$model" --port 0 2>"$tmp/key.err" || rc=$?
  fi
  [ $rc = 2 ] || fail "empty API key ($how): exit $rc, expected 2: $(cat "$tmp/key.err")"
  grep -q "^encore serve: \(--api-key\|ENCORE_API_KEY\) .*empty" "$tmp/key.err" ||
    fail "empty API key ($how): $(cat "$tmp/key.err")"
done
ENCORE_API_KEY=k3y start_server h
check 401 POST /predict '{"inputs": "x"}' -D "$tmp/headers"
grep -qi "^WWW-Authenticate: Bearer" "$tmp/headers" || fail "401 without WWW-Authenticate: Bearer: $(cat "$tmp/headers")"
check 200 POST /predict '{"inputs": "x"}' -H "Authorization: Bearer k3y"
stop_idle_server h

# ---- Server G: SIGTERM with two requests half sent. One finishes during the drain: it is a
# GET /health, answered 503. The other never does: it gets 2 s (not the 60 s idle timeout),
# so the server exits 0 within 5 s of the signal.
start_server g
python3 - "$base" "$pid" >"$tmp/sigterm_sent" <<'PY' || fail "SIGTERM with half-sent requests"
import os, signal, socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
stalled = socket.create_connection((host, int(port)))
stalled.sendall(b"POST /embed HTTP/1.1\r\nHo")
health = socket.create_connection((host, int(port)))
health.sendall(b"GET /health HTTP/1.1\r\nHo")
time.sleep(0.5)
t0 = time.time()
os.kill(int(sys.argv[2]), signal.SIGTERM)
while time.time() - t0 < 5:  # draining once new connections are refused
    try:
        socket.create_connection((host, int(port))).close()
        time.sleep(0.05)
    except ConnectionRefusedError:
        break
health.sendall(b"st: x\r\n\r\n")
health.settimeout(10)
answer = health.recv(4096)
assert answer.startswith(b"HTTP/1.1 503") and b'"error_type":"unhealthy"' in answer, answer
stalled.settimeout(10)
try:
    assert stalled.recv(4096) == b"", "an answer to a request never sent whole"
except socket.timeout:
    sys.exit(f"the half-sent request still held the connection {time.time() - t0:.1f} s after SIGTERM")
print(int(t0 * 1e9))
PY
wait "$pid" || fail "server g did not exit 0 on SIGTERM"
ms=$((($(date +%s%N) - $(cat "$tmp/sigterm_sent")) / 1000000))
[ "$ms" -lt 5000 ] || fail "server g took $ms ms to exit after SIGTERM with a half-sent request (limit 5000)"
echo "serve: with a half-sent request, exited $ms ms after SIGTERM; /health answered 503 while draining"

# ---- Server D: a sequence classifier (3 labels); server E: a cross-encoder (one label).
# TEI's /predict and /rerank, with the scores of `encore classify` and `encore rerank`: the
# same floats, whatever else shared the batch.
model=$fx/heads/sequence-classification/model
start_server d --api-key s3cret --max-client-batch-size 4
auth=(-H "Authorization: Bearer s3cret")
check 200 GET /info "" "${auth[@]}"
json "assert d['model_type'] == {'classifier': {'id2label': {'0': 'negative', '1': 'neutral', '2': 'positive'}, \
'label2id': {'negative': 0, 'neutral': 1, 'positive': 2}}}, d['model_type']; assert d['max_input_length'] == 128"
t1="GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"
t2="Developers that use the GNU GPL protect your rights with two steps:"
t3="To prevent this, the GPL assures that patents cannot be used to render the program non-free."
# same_labels SERVED_JSON CLI_JSONL [LINE]: the same labels in the same order, float32-equal scores.
same_labels() {
  python3 - "$1" "$2" "${3:-0}" <<'PY' || fail "served predictions differ from encore classify"
import json, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
served = json.load(open(sys.argv[1]))
cli = json.loads(open(sys.argv[2]).read().splitlines()[int(sys.argv[3])])["labels"]
assert [p["label"] for p in served] == [p["label"] for p in cli], (served, cli)
assert [f32(p["score"]) for p in served] == [f32(p["score"]) for p in cli], (served, cli)
assert list(served[0]) == ["score", "label"], served[0]
PY
}
check 200 POST /predict "{\"inputs\": \"$t1\"}" "${auth[@]}"
cp "$tmp/body" "$tmp/predict_single.json"
"$enc" classify --model "$model" --all "$t1" >"$tmp/cli_single.jsonl"
same_labels "$tmp/predict_single.json" "$tmp/cli_single.jsonl"
check 200 POST /predict "{\"inputs\": [\"$t1\", \"$t2\"]}" "${auth[@]}"
printf '%s\t%s\n' "$t1" "$t2" | "$enc" classify --model "$model" --all --pairs >"$tmp/cli_pair.jsonl"
same_labels "$tmp/body" "$tmp/cli_pair.jsonl"
# A batch: one forward pass of its three sequences, as `encore classify` of the single text
# and `encore classify --pairs` of the two pairs (where every line must be a pair).
check 200 POST /predict "{\"inputs\": [[\"$t1\"], [\"$t1\", \"$t2\"], [\"$t3\", \"$t1\"]]}" "${auth[@]}"
python3 -c "import json; d=json.load(open('$tmp/body')); [json.dump(d[i], open('$tmp/batch%d.json' % i, 'w')) for i in range(3)]"
{
  "$enc" classify --model "$model" --all "$t1"
  printf '%s\t%s\n%s\t%s\n' "$t1" "$t2" "$t3" "$t1" | "$enc" classify --model "$model" --all --pairs
} >"$tmp/cli_batch.jsonl"
for i in 0 1 2; do same_labels "$tmp/batch$i.json" "$tmp/cli_batch.jsonl" $i; done
check 200 POST /predict "{\"inputs\": \"$t1\", \"raw_scores\": true}" "${auth[@]}"
"$enc" classify --model "$model" --all --function none "$t1" >"$tmp/cli_raw.jsonl"
same_labels "$tmp/body" "$tmp/cli_raw.jsonl"
# Failures on a classifier.
check 424 POST /rerank '{"query": "q", "texts": ["a"]}' "${auth[@]}"
body_has '{"error":"Backend error: model is not a re-ranker model","error_type":"backend"}'
check 424 POST /embed '{"inputs": "x"}' "${auth[@]}"
body_has 'Model is not an embedding model'
check 401 POST /predict '{"inputs": "x"}'
check 413 POST /predict '{"inputs": [["a"], ["b"], ["c"], ["d"], ["e"]]}' "${auth[@]}"
body_has 'batch size 5 > maximum allowed batch size 4'
long=$(python3 -c "print(' '.join(['license'] * 200))")
check 413 POST /predict "{\"inputs\": \"$long\"}" "${auth[@]}"
body_has 'must have less than 128 tokens'
check 200 POST /predict "{\"inputs\": [\"$long\", \"$t1\"], \"truncate\": true}" "${auth[@]}"
check 422 POST /predict '{"inputs": [["a"], 5]}' "${auth[@]}"
body_has '`inputs[1]` must be a list of one or two strings'
check 422 POST /predict '{"inputs": "a", "raw_scores": 1}' "${auth[@]}"
body_has '`raw_scores` must be a boolean'
# Concurrent clients get byte for byte what sequential single requests get.
python3 - "$base" <<'PY' || fail "concurrent /predict answers differ from sequential ones"
import json, sys, threading, urllib.request
base = sys.argv[1]
words = "the licenses for most software are designed to take away your freedom to share and change it".split()
bodies = []
for i in range(32):
    a = " ".join(words[i % 7:(i % 7) + 3 + i % 11]) + f" #{i}"
    bodies.append({"inputs": a} if i % 3 == 0 else {"inputs": [a, words[i % 17]]} if i % 3 == 1 else
                  {"inputs": [[a], [words[i % 17], a]]})
def predict(b):
    req = urllib.request.Request(base + "/predict", data=json.dumps(b).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()
sequential = [predict(b) for b in bodies]
concurrent = [None] * len(bodies)
def client(k):
    for i in range(k, len(bodies), 16):
        concurrent[i] = predict(bodies[i])
threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
for t in threads: t.start()
for t in threads: t.join()
bad = [i for i in range(len(bodies)) if concurrent[i] != sequential[i]]
assert not bad, f"requests {bad} differ: {concurrent[bad[0]]} vs {sequential[bad[0]]}"
print(f"serve: {len(bodies)} concurrent /predict answers byte-identical to sequential ones")
PY
check 200 GET /metrics
body_has 'encore_http_requests_total{route="/predict",status="200"}'
body_has 'encore_http_requests_total{route="/predict",status="413"}'
body_has 'encore_http_requests_total{route="/rerank",status="424"}'
stop_idle_server d

model=$fx/heads/cross-encoder/model
start_server e --max-client-batch-size 8
check 200 GET /info
json "assert d['model_type'] == {'reranker': {'id2label': {'0': 'LABEL_0'}, 'label2id': {'LABEL_0': 0}}}, d['model_type']"
q="You may not impose any further restrictions"
# same_ranking SERVED_JSON CLI_JSONL: the order and the float32 scores of `encore rerank`.
same_ranking() {
  python3 - "$1" "$2" <<'PY' || fail "served ranking differs from encore rerank"
import json, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
served = json.load(open(sys.argv[1]))
cli = json.loads(open(sys.argv[2]).readline())["ranking"]
assert [r["index"] for r in served] == [r["corpus_id"] for r in cli], (served, cli)
assert [f32(r["score"]) for r in served] == [f32(r["score"]) for r in cli], (served, cli)
PY
}
check 200 POST /rerank "{\"query\": \"$q\", \"texts\": [\"$t1\", \"$t2\", \"$t3\"], \"return_text\": true}"
cp "$tmp/body" "$tmp/rerank.json"
printf '%s\t%s\t%s\t%s\n' "$q" "$t1" "$t2" "$t3" | "$enc" rerank --model "$model" >"$tmp/cli_rerank.jsonl"
same_ranking "$tmp/rerank.json" "$tmp/cli_rerank.jsonl"
json "t=['$t1', '$t2', '$t3']; assert all(r['text'] == t[r['index']] for r in d) and list(d[0]) == ['index', 'text', 'score'], d"
check 200 POST /rerank "{\"query\": \"$q\", \"texts\": [\"$t1\", \"$t2\", \"$t3\"], \"raw_scores\": true}"
printf '%s\t%s\t%s\t%s\n' "$q" "$t1" "$t2" "$t3" | "$enc" rerank --model "$model" --raw-scores >"$tmp/cli_raw.jsonl"
same_ranking "$tmp/body" "$tmp/cli_raw.jsonl"
json "assert all('text' not in r for r in d)"
# /predict on a re-ranker: the pair's sigmoid, labelled from id2label.
check 200 POST /predict "{\"inputs\": [\"$q\", \"$t2\"]}"
python3 -c "import json; p=json.load(open('$tmp/body')); r=json.load(open('$tmp/rerank.json')); \
s=[x['score'] for x in r if x['index'] == 1]; assert len(p) == 1 and p[0]['label'] == 'LABEL_0' and abs(s[0] - p[0]['score']) <= 1e-6, (p, r)"
check 400 POST /rerank '{"query": "q", "texts": []}'
body_has '"error_type":"empty"'
check 413 POST /rerank "{\"query\": \"q\", \"texts\": [$(python3 -c "print(','.join(['\"d\"'] * 9))")]}"
body_has 'batch size 9 > maximum allowed batch size 8'
check 422 POST /rerank '{"query": "q", "texts": ["a", 2]}'
body_has '`texts[1]` must be a string'
check 200 GET /metrics
body_has 'encore_http_requests_total{route="/rerank",status="200"}'
stop_idle_server e

# ---- The embedding routes: all-MiniLM-L6-v2.
model=$(cd "$fx/../.." && pwd)/models/all-MiniLM-L6-v2
if [ ! -f "$model/model.safetensors" ]; then
  echo "cli serve: classifier checks passed; SKIPPED the rest: $model is absent (run scripts/fetch-model.sh)"
  exit 0
fi

# ---- Server A: an API key and small limits.
start_server a --api-key s3cret --max-client-batch-size 4 --payload-limit 100000
auth=(-H "Authorization: Bearer s3cret")

check 200 GET /health
check 200 GET /metrics
body_has "# TYPE encore_http_requests_total counter"
check 401 GET /info
body_has '"error_type":"unauthorized"'
check 401 POST /embed '{"inputs": "x"}' -H "Authorization: Bearer wrong"
check 401 POST /embed '{"inputs": "x"}' -H "Authorization: s3cret"
check 200 GET /info "" "${auth[@]}"
json "assert d['model_id'] == 'all-MiniLM-L6-v2' and d['max_input_length'] == 256 and d['dialect'] == 'bert-hf'; \
assert d['max_client_batch_size'] == 4 and d['model_type'] == {'embedding': {'pooling': 'mean'}} and d['version']"

# /embed: one string, a batch, token ids; normalized by default; dimensions.
check 200 POST /embed '{"inputs": "What is Deep Learning?"}' "${auth[@]}"
json "import math; assert len(d) == 1 and len(d[0]) == 384; assert abs(math.fsum(x*x for x in d[0]) - 1) < 1e-5"
cp "$tmp/body" "$tmp/single.json"
check 200 POST /embed '{"inputs": ["What is Deep Learning?", "second"], "normalize": false}' "${auth[@]}"
json "import math; assert len(d) == 2 and abs(math.fsum(x*x for x in d[0]) - 1) > 1e-3"
check 200 POST /embed '{"inputs": "What is Deep Learning?", "dimensions": 64}' "${auth[@]}"
json "import math; assert len(d[0]) == 64 and abs(math.fsum(x*x for x in d[0]) - 1) < 1e-5"
check 200 POST /tokenize '{"inputs": "What is Deep Learning?"}' "${auth[@]}"
json "t=d[0]; assert t[0]['special'] and t[0]['text'] == '[CLS]' and t[0]['start'] is None; \
assert t[1] == {'id': 2054, 'text': 'What', 'special': False, 'start': 0, 'stop': 4}, t[1]"
ids=$(python3 -c "import json; print(json.dumps([t['id'] for t in json.load(open('$tmp/body'))[0]]))")
check 200 POST /embed "{\"inputs\": $ids}" "${auth[@]}"
cmp -s "$tmp/body" "$tmp/single.json" || fail "token ids and text give different embeddings"
check 200 POST /decode "{\"ids\": $ids}" "${auth[@]}"
json "assert d == ['what is deep learning?'], d"
check 200 POST /decode "{\"ids\": [$ids, [101, 102]], \"skip_special_tokens\": false}" "${auth[@]}"
json "assert d[1] == '[CLS] [SEP]', d"
# The same numbers as `encore embed` (one pooling and normalization code path).
"$enc" embed --model "$model" "What is Deep Learning?" >"$tmp/cli.jsonl"
python3 -c "import json; a=json.load(open('$tmp/single.json'))[0]; b=json.loads(open('$tmp/cli.jsonl').readline())['embedding']; \
assert a == b, 'server and CLI differ'"

# /embed_all, /similarity, the default route, OpenAI.
check 200 POST /embed_all '{"inputs": ["hello world", "a b c d"]}' "${auth[@]}"
json "assert len(d) == 2 and len(d[0]) == 4 and len(d[1]) == 6 and len(d[0][0]) == 384"
check 200 POST /similarity '{"inputs": {"source_sentence": "A cat sits", "sentences": ["A kitten sits", "Stock markets fell"]}}' "${auth[@]}"
json "assert len(d) == 2 and d[0] > d[1] and -1 <= d[1] <= d[0] <= 1, d"
check 200 POST / '{"inputs": "What is Deep Learning?"}' "${auth[@]}"
cmp -s "$tmp/body" "$tmp/single.json" || fail "POST / differs from /embed"
check 200 POST /v1/embeddings '{"input": ["What is Deep Learning?", "x"], "model": "any"}' "${auth[@]}"
json "s=json.load(open('$tmp/single.json'))[0]; assert d['object'] == 'list' and d['model'] == 'all-MiniLM-L6-v2'; \
assert [e['index'] for e in d['data']] == [0, 1] and d['data'][0]['object'] == 'embedding'; \
assert d['data'][0]['embedding'] == s; assert d['usage'] == {'prompt_tokens': 10, 'total_tokens': 10}, d['usage']"
check 200 POST /v1/embeddings '{"input": "What is Deep Learning?", "encoding_format": "base64"}' "${auth[@]}"
json "import base64, struct; s=json.load(open('$tmp/single.json'))[0]; b=base64.b64decode(d['data'][0]['embedding']); \
v=struct.unpack('<384f', b); assert max(abs(x-y) for x, y in zip(v, s)) < 1e-7"
check 200 POST /v1/embeddings "{\"input\": [$ids]}" "${auth[@]}"
check 200 POST /v1/embeddings '{"input": "x", "dimensions": 8}' "${auth[@]}"
json "assert len(d['data'][0]['embedding']) == 8"

# Failures: TEI's statuses and error shapes, each naming what is wrong.
check 404 GET /nope
check 405 GET /embed
check 424 POST /predict '{"inputs": "x"}' "${auth[@]}"
body_has '"error_type":"backend"'
body_has 'not a classifier'
check 424 POST /rerank '{"query": "x", "texts": ["y"]}' "${auth[@]}"
body_has 're-ranker'
check 422 POST /embed '{"inputs": ' "${auth[@]}"
body_has 'invalid JSON'
check 422 POST /embed '{"inputs": 5}' "${auth[@]}"
body_has '`inputs`'
check 422 POST /embed '{"inputs": "x", "normalize": "yes"}' "${auth[@]}"
body_has '`normalize` must be a boolean'
check 422 POST /embed '{"inputs": ["x", {"a": 1}]}' "${auth[@]}"
body_has '`inputs[1]`'
check 422 POST /v1/embeddings '{"input": "x", "encoding_format": "hex"}' "${auth[@]}"
json "assert d['code'] == 422 and d['type'] == 'validation' and 'encoding_format' in d['message']"
check 422 POST /embed '{"inputs": [[101, 999999]]}' "${auth[@]}"
body_has '"error_type":"tokenizer"'
check 400 POST /embed '{"inputs": []}' "${auth[@]}"
body_has '"error_type":"empty"'
check 413 POST /embed '{"inputs": ""}' "${auth[@]}"
check 413 POST /embed '{"inputs": ["a", "b", "c", "d", "e"]}' "${auth[@]}"
body_has 'batch size 5 > maximum allowed batch size 4'
check 413 POST /embed '{"inputs": "x", "dimensions": 385}' "${auth[@]}"
long=$(python3 -c "print(' '.join(['word'] * 300))")
check 413 POST /embed "{\"inputs\": \"$long\"}" "${auth[@]}"
body_has 'must have less than 256 tokens. Given: 302'
check 200 POST /embed "{\"inputs\": \"$long\", \"truncate\": true}" "${auth[@]}"
check 200 POST /embed "{\"inputs\": \"$long\", \"truncate\": true, \"truncation_direction\": \"Left\"}" "${auth[@]}"
python3 -c "print('{\"inputs\": \"' + 'a' * 200000 + '\"}')" >"$tmp/big.json"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$base/embed" -H 'Content-Type: application/json' "${auth[@]}" \
  --data-binary @"$tmp/big.json")
[ "$code" = 413 ] || fail "payload over --payload-limit: expected 413, got $code"
body_has 'payload too large'
check 422 POST /embed "$(printf '{"inputs": "bad \xff byte"}')" "${auth[@]}"
# OpenAI's routes name their field `input` (TEI's is `inputs`), in OpenAI's error shape.
python3 -c "print('{\"input\": \"' + 'a' * 64001 + '\"}')" >"$tmp/chars.json"
openai_error() {  # CODE BODY MESSAGE
  for route in /v1/embeddings /embeddings; do
    check "$1" POST "$route" "$2" "${auth[@]}"
    json "assert d['code'] == $1 and '$3' in d['message'] and '\`inputs' not in d['message'], d"
  done
}
openai_error 400 '{"input": []}' '`input` cannot be empty'
openai_error 413 '{"input": ""}' '`input` cannot be empty'
openai_error 413 '{"input": ["x", []]}' '`input` cannot be empty'
openai_error 413 "{\"input\": \"$long\"}" '`input` must have less than 256 tokens. Given: 302'
openai_error 413 "$(cat "$tmp/chars.json")" '`input` must have less than 64000 characters. Given: 64001'
openai_error 413 '{"input": ["a", "b", "c", "d", "e"]}' 'batch size 5 > maximum allowed batch size 4'
openai_error 422 '{"input": 5}' '`input` must be a string'
openai_error 422 '{"input": ["x", {"a": 1}]}' '`input[1]` must be a string or a list of token ids'
openai_error 422 '{"model": "x"}' 'missing field `input`'
check 200 GET /health  # none of that hurt the server

# Concurrent clients get exactly what sequential single requests get.
python3 - "$base" <<'PY' || fail "concurrent answers differ from sequential ones"
import json, sys, threading, urllib.request
base = sys.argv[1]
words = "the licenses for most software are designed to take away your freedom to share and change it".split()
texts = [" ".join(words[i % 7:(i % 7) + 3 + i % 11]) + f" #{i}" for i in range(48)]
def embed(t):
    req = urllib.request.Request(base + "/embed", data=json.dumps({"inputs": t}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()
sequential = [embed(t) for t in texts]
concurrent = [None] * len(texts)
def client(k):
    for i in range(k, len(texts), 16):
        concurrent[i] = embed(texts[i])
threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
for t in threads: t.start()
for t in threads: t.join()
bad = [i for i in range(len(texts)) if concurrent[i] != sequential[i]]
assert not bad, f"inputs {bad} differ"
print(f"serve: {len(texts)} concurrent answers are byte-identical to sequential ones")
PY

# A client that resets its connection while its request waits is dropped (499 in the
# metrics); one that only half-closes (shutdown(SHUT_WR) after the request) gets its answer.
python3 - "$base" <<'PY' || fail "disconnect test"
import json, socket, struct, sys, threading
host, port = sys.argv[1].split("//")[1].split(":")
def request(body):
    return (b"POST /embed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
def answer(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b
busy_body = json.dumps({"inputs": [" ".join(["busy"] * 250)] * 4}).encode()
def post(reset_early):
    s = socket.create_connection((host, int(port)))
    s.sendall(request(busy_body))
    if reset_early:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    s.close()
busy = threading.Thread(target=post, args=(False,))
busy.start()
for _ in range(3):
    post(True)
busy.join()
answered = 0
for i in range(5):
    for raw in (request(json.dumps({"inputs": f"half-closed {i}"}).encode()), b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"):
        s = socket.create_connection((host, int(port)))
        s.settimeout(30)
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        answered += answer(s).startswith(b"HTTP/1.1 200")
        s.close()
assert answered == 10, f"half-closed clients: {answered} of 10 answered"
print("serve: 10 of 10 half-closed clients answered")
PY
sleep 0.5
check 200 GET /metrics
body_has 'encore_http_requests_total{route="/embed",status="499"}'
check 200 GET /health
stop_idle_server a

# ---- Server B: one request at a time (429 beyond it), then the SIGTERM drain. The drain
# timeout outlasts the heavy request in every build: it takes over 10 s (the default) in the
# ASan build, whose checks on every load of the float32 GEMM's loop slow it ~4x.
start_server b --max-concurrent-requests 1 --max-client-batch-size 64 --auto-truncate --drain-timeout 120
heavy="{\"inputs\": [$(python3 -c "print(','.join(['\"' + ' '.join(['drain'] * 300) + '\"'] * 32))")]}"
for i in $(seq 1 6); do
  curl -s -o "$tmp/c$i.body" -w '%{http_code}\n' "$base/embed" -H 'Content-Type: application/json' \
    --data-binary "$heavy" >"$tmp/c$i.code" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
codes=$(cat "$tmp"/c*.code | sort | uniq -c | tr -s ' ' | tr '\n' ';')
grep -q 429 "$tmp"/c*.code || fail "no 429 beyond --max-concurrent-requests 1: $codes"
grep -q 200 "$tmp"/c*.code || fail "no request succeeded: $codes"
grep -l 429 "$tmp"/c*.code | head -n 1 | sed 's/code$/body/' | xargs cat >"$tmp/body"
body_has '{"error":"Model is overloaded","error_type":"overloaded"}'
# SIGTERM while a request runs: it still gets its whole answer, then the server exits 0.
curl -s -o "$tmp/drain.body" -w '%{http_code}' "$base/embed" -H 'Content-Type: application/json' \
  --data-binary "$heavy" >"$tmp/drain.code" &
client=$!
sleep 0.3
kill -TERM "$pid"
wait "$client" || true
[ "$(cat "$tmp/drain.code")" = 200 ] || fail "in-flight request during SIGTERM: $(cat "$tmp/drain.code")"
python3 -c "import json; d=json.load(open('$tmp/drain.body')); assert len(d) == 32 and len(d[0]) == 384"
wait "$pid" || fail "server B did not exit 0 after draining"
curl -s -o /dev/null "$base/health" && fail "server B still accepts connections after SIGTERM"

# ---- Server C: a request timeout shorter than the work. The timed-out request's batch may
# still be computing (seconds): nobody waits for it, so neither does SIGTERM.
start_server c --request-timeout 0.02 --max-client-batch-size 64 --auto-truncate
check 503 POST /embed "$heavy"
body_has '"error_type":"timeout"'
check 200 GET /health
stop_idle_server c
grep -q "not finishing the batch of requests already answered" "$tmp/c.log" ||
  echo "serve: SKIPPED the exit during an abandoned batch: the batch had not started or had ended"
echo "cli serve: all checks passed"
