#!/usr/bin/env bash
# encore serve's /v1/embeddings through the official OpenAI Python client (pinned in
# bench/requirements-serve.txt, installed in .venv-serve): float and base64 answers,
# token-array inputs, dimensions, and the client's error classes for 401 and 413.
# Usage: serve_openai.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
root=$(cd "$fx/../.." && pwd)
model=$root/models/all-MiniLM-L6-v2
py=$root/.venv-serve/bin/python
if [ ! -f "$model/model.safetensors" ]; then
  echo "SKIPPED: $model is absent (run scripts/fetch-model.sh)"
  exit 0
fi
if ! "$py" -c "import openai" 2>/dev/null; then
  echo "SKIPPED: no .venv-serve with the openai client (python3 -m venv .venv-serve &&" \
    ".venv-serve/bin/pip install -r bench/requirements-serve.txt)"
  exit 0
fi
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$enc" serve --model "$model" --port 0 --port-file "$tmp/port" --api-key s3cret --max-client-batch-size 8 \
  2>"$tmp/log" &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$tmp/port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/log"; exit 1; }
  sleep 0.1
done
base="http://127.0.0.1:$(cat "$tmp/port")"

"$py" - "$base" <<'PY'
import json, math, sys, urllib.request
import openai
base = sys.argv[1]
client = openai.OpenAI(base_url=base + "/v1", api_key="s3cret", max_retries=0)
texts = ["What is Deep Learning?", "A second, longer sentence about serving embeddings."]

def tei(texts):
    req = urllib.request.Request(base + "/embed", data=json.dumps({"inputs": texts}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"})
    return json.load(urllib.request.urlopen(req))

want = tei(texts)
# float
r = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts, encoding_format="float")
assert r.object == "list" and r.model == "all-MiniLM-L6-v2", r
assert [d.index for d in r.data] == [0, 1] and all(d.object == "embedding" for d in r.data)
assert [d.embedding for d in r.data] == want, "float embeddings differ from /embed"
assert r.usage.prompt_tokens == r.usage.total_tokens > 0
# The client's default (it asks for base64 and decodes it).
r = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts[0])
got = r.data[0].embedding
assert len(got) == 384 and max(abs(a - b) for a, b in zip(got, want[0])) < 1e-7, "base64 decoding differs"
# Token arrays (one list, and a batch of lists), and dimensions.
ids = [101, 2054, 2003, 2784, 4083, 1029, 102]
r = client.embeddings.create(model="m", input=ids, encoding_format="float")
assert r.data[0].embedding == want[0], "token ids give a different embedding"
r = client.embeddings.create(model="m", input=[ids, ids[:3] + [102]], encoding_format="float")
assert len(r.data) == 2 and r.usage.prompt_tokens == 11
r = client.embeddings.create(model="m", input=texts, dimensions=32, encoding_format="float")
assert all(len(d.embedding) == 32 and abs(math.fsum(x * x for x in d.embedding) - 1) < 1e-5 for d in r.data)
# Errors arrive as the client's exception classes with the status codes.
try:
    openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).embeddings.create(model="m", input="x")
    raise SystemExit("401 expected")
except openai.AuthenticationError as e:
    assert e.status_code == 401
try:
    client.embeddings.create(model="m", input=["x"] * 9)
    raise SystemExit("413 expected")
except openai.APIStatusError as e:
    assert e.status_code == 413 and "maximum allowed batch size 8" in str(e), e
try:
    client.embeddings.create(model="m", input=[])
    raise SystemExit("400 expected")
except openai.BadRequestError as e:
    assert e.status_code == 400
print(f"openai {openai.__version__}: float, base64, token ids, dimensions, 401, 413, 400 all as expected")
PY
kill -TERM "$pid"
wait "$pid"
pid=""
echo "cli serve_openai: all checks passed"
