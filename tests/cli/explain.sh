#!/usr/bin/env bash
# encore explain: the table, and a BERT layer re-run as a PyTorch layer (same result).
set -euo pipefail
enc=$1 fx=$2
out=$("$enc" explain)
echo "$out" | grep -q "layers.N.self_attn.out_proj.weight" || { echo "FAIL: table lacks out_proj"; exit 1; }
echo "$out" | grep -q "7087872 at H=768" || { echo "FAIL: parameter count"; exit 1; }
out=$("$enc" explain --model "$fx/core/bert-hf-gelu-abs-h36/model")
echo "$out" | grep -Eq "max \|difference\| over [0-9]+ outputs: 0 " || { echo "FAIL: $out" | tail -3; exit 1; }
# Google's tanh GELU has no TransformerEncoderLayer spelling: a clear error, exit 1.
set +e
err=$("$enc" explain --model "$(ls -d "$fx"/core/bert-google-tanh-*/model | head -n 1)" 2>&1 >/dev/null)
code=$?
set -e
[ "$code" -eq 1 ] && echo "$err" | grep -q "no nn.TransformerEncoderLayer spelling" || { echo "FAIL: $code $err"; exit 1; }
echo "cli explain: all checks passed"
