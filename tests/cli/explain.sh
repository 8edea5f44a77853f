#!/usr/bin/env bash
# encore explain: the table; a model's differences from BERT; its layer re-run as a PyTorch
# layer where one can compute it (same result), and the reason where none can.
set -euo pipefail
enc=$1 fx=$2
out=$("$enc" explain)
grep -q "layers.N.self_attn.out_proj.weight" <<<"$out" || { echo "FAIL: table lacks out_proj"; exit 1; }
grep -q "7087872 at H=768" <<<"$out" || { echo "FAIL: parameter count"; exit 1; }
grep -q "encoder.layer.N.attention.attn.{query,key,value}.weight" <<<"$out" || { echo "FAIL: table lacks mpnet"; exit 1; }
out=$("$enc" explain --model "$fx/core/bert-hf-gelu-abs-h36/model")
grep -Eq "max \|difference\| over [0-9]+ outputs: 0 " <<<"$out" || { echo "FAIL: $out" | tail -3; exit 1; }
grep -q "nothing: this is BERT" <<<"$out" || { echo "FAIL: BERT differs from BERT: $out"; exit 1; }
# RoBERTa: its differences, and its layer is a TransformerEncoderLayer.
out=$("$enc" explain --model "$fx/family/roberta-gelu-h36-pool/model")
grep -q "positions .*numbered from the ids" <<<"$out" || { echo "FAIL: roberta positions: $out"; exit 1; }
grep -Eq "max \|difference\| over [0-9]+ outputs: 0 " <<<"$out" || { echo "FAIL: roberta: $out" | tail -3; exit 1; }
# MPNet's bias, ALBERT's groups, Google's tanh GELU: no TransformerEncoderLayer; the reason, exit 0.
for m in family/mpnet-gelu-h36-pool/model:"relative position scores" \
         family/albert-gelu-e24-h32-g2i2/model:"several layers deep" \
         "$(cd "$fx" && ls -d core/bert-google-tanh-*/model | head -n 1)":"its activation is gelu_tanh"; do
  out=$("$enc" explain --model "$fx/${m%%:*}") || { echo "FAIL: explain ${m%%:*} exited $?"; exit 1; }
  grep -q "no PyTorch TransformerEncoderLayer comparison: .*${m#*:}" <<<"$out" || { echo "FAIL: ${m%%:*}: $out" | tail -3; exit 1; }
done
out=$("$enc" explain --model "$fx/family/albert-gelu-e24-h32-g2i2/model")
grep -q "E=24, then a Linear E -> H" <<<"$out" || { echo "FAIL: albert embeddings: $out"; exit 1; }
echo "cli explain: all checks passed"
