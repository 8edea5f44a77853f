#!/usr/bin/env bash
# encore explain: the table; a model's differences from BERT; its layer re-run as a PyTorch
# layer where one can compute it (same result), and the reason where none can.
set -euo pipefail
enc=$1 fx=$2
out=$("$enc" explain)
echo "$out" | grep -q "layers.N.self_attn.out_proj.weight" || { echo "FAIL: table lacks out_proj"; exit 1; }
echo "$out" | grep -q "7087872 at H=768" || { echo "FAIL: parameter count"; exit 1; }
echo "$out" | grep -q "encoder.layer.N.attention.attn.{query,key,value}.weight" || { echo "FAIL: table lacks mpnet"; exit 1; }
out=$("$enc" explain --model "$fx/core/bert-hf-gelu-abs-h36/model")
echo "$out" | grep -Eq "max \|difference\| over [0-9]+ outputs: 0 " || { echo "FAIL: $out" | tail -3; exit 1; }
echo "$out" | grep -q "nothing: this is BERT" || { echo "FAIL: BERT differs from BERT: $out"; exit 1; }
# RoBERTa: its differences, and its layer is a TransformerEncoderLayer.
out=$("$enc" explain --model "$fx/family/roberta-gelu-h36-pool/model")
echo "$out" | grep -q "positions .*numbered from the ids" || { echo "FAIL: roberta positions: $out"; exit 1; }
echo "$out" | grep -Eq "max \|difference\| over [0-9]+ outputs: 0 " || { echo "FAIL: roberta: $out" | tail -3; exit 1; }
# MPNet's bias, ALBERT's groups, Google's tanh GELU: no TransformerEncoderLayer; the reason, exit 0.
for m in family/mpnet-gelu-h36-pool/model:"relative position scores" \
         family/albert-gelu-e24-h32-g2i2/model:"several layers deep" \
         "$(cd "$fx" && ls -d core/bert-google-tanh-*/model | head -n 1)":"its activation is gelu_tanh"; do
  out=$("$enc" explain --model "$fx/${m%%:*}") || { echo "FAIL: explain ${m%%:*} exited $?"; exit 1; }
  echo "$out" | grep -q "no PyTorch TransformerEncoderLayer comparison: .*${m#*:}" || { echo "FAIL: ${m%%:*}: $out" | tail -3; exit 1; }
done
out=$("$enc" explain --model "$fx/family/albert-gelu-e24-h32-g2i2/model")
echo "$out" | grep -q "E=24, then a Linear E -> H" || { echo "FAIL: albert embeddings: $out"; exit 1; }
echo "cli explain: all checks passed"
