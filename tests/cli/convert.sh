#!/usr/bin/env bash
# encore convert through the real binary: conversions, round trips compared by `cmp` on
# `encore forward` outputs, and one-line errors.
# Usage: convert.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_error() {  # EXIT_CODE MESSAGE_REGEX -- command...
  local code=$1 pattern=$2; shift 3
  set +e
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local got=$?
  set -e
  [ "$got" -eq "$code" ] || fail "expected exit $code, got $got: $* :: $(cat "$tmp/stderr")"
  grep -Eq -- "$pattern" "$tmp/stderr" || fail "stderr of '$*' lacks /$pattern/: $(cat "$tmp/stderr")"
  if [ "$code" -eq 1 ]; then
    [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "error is not one line: $(cat "$tmp/stderr")"
  fi
}

fwd() {  # MODEL INPUT OUTPUT [extra...]
  local m=$1 i=$2 o=$3; shift 3
  "$enc" forward --model "$m" --input "$i" --output "$o" --all-hidden --threads 1 "$@" 2>/dev/null
}

# torch.save .bin -> HF safetensors: identical forward output files.
hf=$fx/core/bert-hf-gelu-abs-h36
"$enc" convert "$fx/formats/bert-hf-bin" "$tmp/hf" >"$tmp/log"
grep -q "bert-hf -> hf: 39 tensors" "$tmp/log" || fail "summary: $(cat "$tmp/log")"
fwd "$fx/formats/bert-hf-bin" "$hf/ragged.in.safetensors" "$tmp/a.safetensors"
fwd "$tmp/hf" "$hf/ragged.in.safetensors" "$tmp/b.safetensors"
cmp -s "$tmp/a.safetensors" "$tmp/b.safetensors" || fail "bin -> hf changed the forward output"

# Google TF checkpoint -> HF -> Google safetensors: identical forward outputs.
g=$fx/core/bert-google-erf-h36
"$enc" convert "$fx/formats/bert-google-ckpt" "$tmp/g-hf" --activation gelu_erf >/dev/null
grep -q '"hidden_act": "gelu"' "$tmp/g-hf/config.json" || fail "erf gelu not kept"
"$enc" convert "$tmp/g-hf" "$tmp/g-g" --to google-safetensors >"$tmp/log"
grep -q "note: .*gelu_erf" "$tmp/log" || fail "no erf note: $(cat "$tmp/log")"
fwd "$fx/formats/bert-google-ckpt" "$g/ragged.in.safetensors" "$tmp/a.safetensors" --activation gelu_erf
fwd "$tmp/g-g" "$g/ragged.in.safetensors" "$tmp/b.safetensors" --activation gelu_erf
cmp -s "$tmp/a.safetensors" "$tmp/b.safetensors" || fail "google -> hf -> google changed the forward output"
"$enc" convert "$fx/formats/bert-google-ckpt" "$tmp/g-tanh" >"$tmp/log"
grep -q '"hidden_act": "gelu_new"' "$tmp/g-tanh/config.json" || fail "Google gelu is not gelu_new"

# HF -> torch (encoder layers only, said so) -> HF --encoder-only.
"$enc" convert "$hf/model" "$tmp/t" --to torch >"$tmp/log"
grep -q "note: embeddings, pooler" "$tmp/log" || fail "torch export does not say what it dropped"
"$enc" inspect --model "$tmp/t" | grep -q "dialect:      torch" || fail "exported torch dir"
"$enc" convert "$tmp/t" "$tmp/t-hf" --encoder-only >/dev/null
[ -f "$tmp/t-hf/model.safetensors" ] || fail "encoder-only output"

# HF -> torch -> HF gives the model back: the torch directory keeps what its layout cannot
# hold in encore_source/, and the restored model computes what the original does. Without
# encore_source/ --to hf refuses with one line; --encoder-only writes the layers alone, and
# encore refuses to load that directory with one line.
"$enc" convert "$tmp/t" "$tmp/t-hf2" --to hf >"$tmp/log"
grep -q "note: restored the bert-hf model kept in encore_source/" "$tmp/log" || fail "round trip: $(cat "$tmp/log")"
"$enc" forward --model "$hf/model" --input "$hf/ragged.in.safetensors" --output "$tmp/fa.safetensors" >/dev/null
"$enc" forward --model "$tmp/t-hf2" --input "$hf/ragged.in.safetensors" --output "$tmp/fb.safetensors" >/dev/null
cmp -s "$tmp/fa.safetensors" "$tmp/fb.safetensors" || fail "HF -> torch -> HF computes differently"
cp -r "$tmp/t" "$tmp/t-bare" && rm -r "$tmp/t-bare/encore_source"
expect_error 1 "has no embeddings or pooler, so it cannot become a BERT model" -- \
  "$enc" convert "$tmp/t-bare" "$tmp/t-hf3" --to hf
expect_error 1 "encoder layers only \(encore convert --encoder-only\), no embeddings" -- "$enc" inspect --model "$tmp/t-hf"

# A sentence-transformers model (all-MiniLM-L6-v2: Transformer at "", 1_Pooling, Normalize)
# stays one: --to hf copies its files unchanged and embeds the same numbers; through
# google-safetensors and back too; through torch and back too (encore_source/); dropped only
# when asked.
st=$(cd "$fx/../.." && pwd)/models/all-MiniLM-L6-v2
if [ -f "$st/model.safetensors" ]; then
  text="encore keeps the sentence-transformers modules"
  same_embedding() {  # DIR: `encore embed` gives the original model's numbers
    "$enc" embed --model "$1" "$text" >"$tmp/emb.b.jsonl"
    python3 - "$tmp/emb.a.jsonl" "$tmp/emb.b.jsonl" <<'PY' || fail "embedding of $1 differs from the original's"
import json, math, sys
a, b = (json.loads(open(p).readline())["embedding"] for p in sys.argv[1:])
assert len(a) == 384 and abs(math.fsum(x * x for x in a) - 1) < 1e-5, "original not mean-pooled and normalized"
assert a == b, f"max |diff| {max(abs(x - y) for x, y in zip(a, b))}"
PY
  }
  "$enc" embed --model "$st" "$text" >"$tmp/emb.a.jsonl"
  "$enc" convert "$st" "$tmp/st-hf" --to hf >"$tmp/log"
  for f in modules.json sentence_bert_config.json config_sentence_transformers.json 1_Pooling/config.json \
    tokenizer.json tokenizer_config.json vocab.txt special_tokens_map.json; do
    cmp -s "$st/$f" "$tmp/st-hf/$f" || fail "--to hf did not copy $f unchanged"
  done
  same_embedding "$tmp/st-hf"
  "$enc" convert "$st" "$tmp/st-g" --to google-safetensors >"$tmp/log"
  grep -q "note: sentence-transformers files kept" "$tmp/log" || fail "google: $(cat "$tmp/log")"
  "$enc" convert "$tmp/st-g" "$tmp/st-g-hf" --to hf --activation gelu_erf >/dev/null
  cmp -s "$st/1_Pooling/config.json" "$tmp/st-g-hf/1_Pooling/config.json" || fail "1_Pooling lost through Google"
  same_embedding "$tmp/st-g-hf"
  "$enc" convert "$st" "$tmp/st-t" --to torch >/dev/null
  "$enc" convert "$tmp/st-t" "$tmp/st-t-hf" --to hf >/dev/null
  same_embedding "$tmp/st-t-hf"
  "$enc" convert "$st" "$tmp/st-t2" --to torch --drop-sentence-transformers >"$tmp/log"
  grep -q "note: sentence-transformers files not written (--drop-sentence-transformers): 'modules.json'" "$tmp/log" ||
    fail "dropping is not said: $(cat "$tmp/log")"
  [ ! -e "$tmp/st-t2/encore_source/modules.json" ] || fail "--drop-sentence-transformers kept modules.json"
else
  echo "convert.sh: SKIPPED the sentence-transformers checks: $st is absent (run scripts/fetch-model.sh)"
fi

# Usage errors: exit 2.
expect_error 2 "expected SRC and DST" -- "$enc" convert "$hf/model"
expect_error 2 "unknown conversion target 'onnx'" -- "$enc" convert "$hf/model" "$tmp/x" --to onnx
expect_error 2 "unknown option --bogus" -- "$enc" convert "$hf/model" "$tmp/x" --bogus

# Bad input: exit 1, one line, nothing written.
expect_error 1 "nope: not a directory" -- "$enc" convert "$tmp/nope" "$tmp/x"
mkdir "$tmp/junk" && echo x >"$tmp/junk/model.onnx"
expect_error 1 "not a model directory" -- "$enc" convert "$tmp/junk" "$tmp/x"
expect_error 1 "exists and is not empty \(--force" -- "$enc" convert "$hf/model" "$tmp/junk"
expect_error 1 "no nn.TransformerEncoderLayer spelling" -- "$enc" convert "$fx/core/bert-google-tanh-h40/model" \
  "$tmp/x" --to torch
expect_error 1 "--encoder-only" -- "$enc" convert "$tmp/t-bare" "$tmp/x"
[ ! -e "$tmp/x" ] || fail "a failed conversion left $tmp/x"
"$enc" convert "$hf/model" "$tmp/junk" --force >/dev/null
[ ! -e "$tmp/junk/model.onnx" ] && [ -f "$tmp/junk/config.json" ] || fail "--force did not replace"
[ -z "$(ls -A "$tmp" | grep encore-convert || true)" ] || fail "temporary directory left behind"
echo "convert.sh: ok"
