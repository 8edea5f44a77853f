#!/usr/bin/env bash
# encore forward / inspect through the real binary: the CLI contract and its errors.
# Usage: forward.sh ENCORE_BINARY FIXTURES_DIR
set -euo pipefail
enc=$1 fx=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_error EXIT_CODE MESSAGE_REGEX -- command...: one-line error naming the problem.
expect_error() {
  local code=$1 pattern=$2; shift 3
  set +e
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local got=$?
  set -e
  [ "$got" -eq "$code" ] || fail "expected exit $code, got $got: $* :: $(cat "$tmp/stderr")"
  grep -Eq "$pattern" "$tmp/stderr" || fail "stderr of '$*' lacks /$pattern/: $(cat "$tmp/stderr")"
  if [ "$code" -eq 1 ]; then
    [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "error is not one line: $(cat "$tmp/stderr")"
  fi
}

hf=$fx/core/bert-hf-gelu-abs-h36
torch=$fx/core/torch-relu-post-sf-d36

# The contract: outputs named like the reference, for each dialect.
"$enc" forward --model "$hf/model" --input "$hf/ragged.in.safetensors" --output "$tmp/o.safetensors" \
  --all-hidden --attentions --threads 2
for name in last_hidden_state pooler_output hidden_states.0 hidden_states.2 attentions.1; do
  grep -aq "\"$name\"" "$tmp/o.safetensors" || fail "forward output lacks $name"
done
g=$(ls -d "$fx"/core/bert-google-tanh-* | head -n 1)
"$enc" forward --model "$g/model" --input "$g/ragged.in.safetensors" --output "$tmp/g.safetensors" --all-hidden
for name in sequence_output pooled_output embedding_output all_encoder_layers.0; do
  grep -aq "\"$name\"" "$tmp/g.safetensors" || fail "google output lacks $name"
done
"$enc" forward --model "$torch/model" --input "$torch/causal.in.safetensors" --output "$tmp/t.safetensors" \
  --causal --all-hidden
grep -aq '"layers.0"' "$tmp/t.safetensors" || fail "torch output lacks layers.0"
"$enc" inspect --model "$torch/model" | grep -q "dialect:      torch" || fail "inspect dialect"

# Usage errors: exit 2.
expect_error 2 "model is required" -- "$enc" forward --input x --output y
expect_error 2 "unknown option --bogus" -- "$enc" forward --bogus
expect_error 2 "unknown command" -- "$enc" frobnicate

# Bad input: exit 1, one line naming the problem.
expect_error 1 "nope: not a directory" -- "$enc" forward --model "$tmp/nope" --input x --output y
expect_error 1 "missing.safetensors: cannot open" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/missing.safetensors" --output "$tmp/x"
printf 'garbage!more' >"$tmp/short.safetensors"
expect_error 1 "short.safetensors: safetensors header length" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/short.safetensors" --output "$tmp/x"

# Inputs that lie: ids out of vocabulary, token types out of range, too long, wrong shape.
python_free_inputs() {  # writes a safetensors file from a JSON header and raw little-endian int64s
  local out=$1 header=$2; shift 2
  local n=${#header}
  printf "$(printf '\\x%02x' $((n & 255)) $(((n >> 8) & 255)) 0 0 0 0 0 0)" >"$out"
  printf '%s' "$header" >>"$out"
  for v in "$@"; do printf "$(printf '\\x%02x' $((v & 255)) $(((v >> 8) & 255)) $(((v >> 16) & 255)) 0 0 0 0 0)" >>"$out"; done
}
python_free_inputs "$tmp/oov.safetensors" '{"input_ids":{"dtype":"I64","shape":[1,3],"data_offsets":[0,24]}}' 1 2 99999
expect_error 1 "input_ids\[0\]\[2\] = 99999 is out of the vocabulary range" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/oov.safetensors" --output "$tmp/x"
python_free_inputs "$tmp/tt.safetensors" \
  '{"input_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},"token_type_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[16,32]}}' 1 2 0 7
expect_error 1 "token_type_ids\[0\]\[1\] = 7 is out of range" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/tt.safetensors" --output "$tmp/x"
python_free_inputs "$tmp/float_ids.safetensors" '{"input_ids":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}' 0
expect_error 1 "input_ids must have an integer dtype, got F32" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/float_ids.safetensors" --output "$tmp/x"
python_free_inputs "$tmp/shape.safetensors" '{"input_ids":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}}' 1 2 3
expect_error 1 "input_ids must be \[batch, seq\]" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/shape.safetensors" --output "$tmp/x"
python_free_inputs "$tmp/lie.safetensors" '{"input_ids":{"dtype":"I64","shape":[1,9],"data_offsets":[0,24]}}' 1 2 3
expect_error 1 "input_ids': data_offsets span 24 bytes but I64 \[1, 9\] needs 72" -- "$enc" forward \
  --model "$hf/model" --input "$tmp/lie.safetensors" --output "$tmp/x"
max=$(grep -o '"max_position_embeddings": *[0-9]*' "$hf/model/config.json" | grep -o '[0-9]*$')
n=$((max + 1)); ids=(); for ((i = 0; i < n; i++)); do ids+=(1); done
python_free_inputs "$tmp/long.safetensors" "{\"input_ids\":{\"dtype\":\"I64\",\"shape\":[1,$n],\"data_offsets\":[0,$((8 * n))]}}" "${ids[@]}"
expect_error 1 "sequence length $n exceeds max_position_embeddings $max" -- "$enc" forward --model "$hf/model" \
  --input "$tmp/long.safetensors" --output "$tmp/x"
expect_error 1 "unknown input 'src'" -- "$enc" forward --model "$hf/model" --input "$torch/ragged.in.safetensors" \
  --output "$tmp/x"

# A model whose weights disagree with its config.
cp -r "$hf/model" "$tmp/badmodel"
sed -i 's/"intermediate_size": *[0-9]*/"intermediate_size": 17/' "$tmp/badmodel/config.json"
expect_error 1 "model.safetensors: tensor 'encoder.layer.0.intermediate.dense.weight' has shape" -- \
  "$enc" inspect --model "$tmp/badmodel"
echo "cli forward: all checks passed"
