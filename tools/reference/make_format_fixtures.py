#!/usr/bin/env python3
"""Generate the checkpoint-format fixtures under tests/fixtures/formats/ (see tests/fixtures/README.md).

The weights of a few core fixture models (tests/fixtures/core/*/model/model.safetensors),
written again the way their own ecosystems write them, so encore's readers can be checked
bit for bit against the safetensors copy:

  --part torch  (.venv-ref: torch 2.15, transformers 4.57.6)
    bert-hf-bin/          BertModel.save_pretrained(safe_serialization=False): pytorch_model.bin
    bert-hf-bin-legacy/   the same state_dict, torch.save(_use_new_zipfile_serialization=False)
    bert-hf-bin-sharded/  save_pretrained(max_shard_size=...): pytorch_model.bin.index.json + shards
    torch-pt/             nn.TransformerEncoder(...).state_dict() via torch.save as model.pt, + sidecar
    family/<fixture>-bin[-sharded]/  (--part family) a tests/fixtures/family model of each
                          architecture, save_pretrained(safe_serialization=False):
                          pytorch_model.bin, and for RoBERTa also sharded
    layouts/              layouts.pt and layouts-legacy.pt: every dtype, non-contiguous views,
                          storage offsets, tied tensors, an nn.Parameter, 0-d and empty tensors;
                          layouts.safetensors holds the expected (contiguous) values
  --part tf     (.venv-tf: tensorflow-cpu 2.21)
    bert-google-ckpt/     tf.compat.v1.train.Saver with Google's variable names
                          (bert/embeddings/word_embeddings, ...), plus AdamWeightDecayOptimizer
                          slots (<var>/adam_m, <var>/adam_v) for a few variables and global_step
    layouts-tf/           a two-shard bundle (two CPU devices, Saver(sharded=True)) with every
                          dtype encore reads and a string variable; expected.safetensors holds
                          the values (floats as F32, integers as I64)

Everything is CPU, fixed seeds. Usage: make_format_fixtures.py --part torch|tf [--out DIR]
"""

import argparse
import json
import os
import shutil
from collections import OrderedDict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "tests" / "fixtures" / "core"
HF_MODEL = CORE / "bert-hf-gelu-abs-h36" / "model"
GOOGLE_MODEL = CORE / "bert-google-erf-h36" / "model"
TORCH_MODEL = CORE / "torch-relu-pre-nobias-sf-d32" / "model"

# Variables that get fake optimizer slots in the Google bundle (small ones: keeps it small).
SLOTTED = ["bert/embeddings/LayerNorm/beta", "bert/embeddings/LayerNorm/gamma", "bert/pooler/dense/kernel"]


def fresh(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ----------------------------------------------------------------------------- torch


def torch_part(out):
    import torch
    import torch.nn as nn
    from safetensors.torch import load_file, save_file
    from transformers import BertModel

    # HF: the model's own save_pretrained, as users' pytorch_model.bin files are made.
    model = BertModel.from_pretrained(HF_MODEL, attn_implementation="eager")
    d = fresh(out / "bert-hf-bin")
    model.save_pretrained(d, safe_serialization=False)
    for f in d.iterdir():
        if f.name not in ("config.json", "pytorch_model.bin"):
            f.unlink()
    d = fresh(out / "bert-hf-bin-sharded")
    model.save_pretrained(d, safe_serialization=False, max_shard_size="60KB")
    shards = sorted(f.name for f in d.glob("pytorch_model-*.bin"))
    assert len(shards) >= 2, shards
    d = fresh(out / "bert-hf-bin-legacy")
    shutil.copy(HF_MODEL / "config.json", d / "config.json")
    torch.save(model.state_dict(), d / "pytorch_model.bin", _use_new_zipfile_serialization=False)

    # PyTorch: a real TransformerEncoder's state_dict (with its _metadata), as model.pt.
    side = json.loads((TORCH_MODEL / "transformer_encoder.json").read_text())
    layer = nn.TransformerEncoderLayer(side["d_model"], side["nhead"], side["dim_feedforward"], side["dropout"],
                                       activation=side["activation"], layer_norm_eps=side["layer_norm_eps"],
                                       batch_first=side["batch_first"], norm_first=side["norm_first"],
                                       bias=side["bias"])
    norm = nn.LayerNorm(side["d_model"], eps=side["layer_norm_eps"], bias=side["bias"]) if side["final_norm"] else None
    encoder = nn.TransformerEncoder(layer, side["num_layers"], norm=norm, enable_nested_tensor=False)
    encoder.load_state_dict(load_file(TORCH_MODEL / "model.safetensors"), strict=True)
    d = fresh(out / "torch-pt")
    shutil.copy(TORCH_MODEL / "transformer_encoder.json", d / "transformer_encoder.json")
    torch.save(encoder.state_dict(), d / "model.pt")

    # Layouts: what a state_dict can hold beyond plain contiguous float32.
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 6, generator=g)
    cube = torch.randn(3, 4, 5, generator=g)
    sd = OrderedDict()
    sd["contiguous"] = base
    sd["tied"] = base                      # the same tensor object: a pickle memo reference
    sd["flat_view"] = base.view(24)        # same storage, another shape
    sd["transposed"] = base.t()            # strides (1, 6)
    sd["row"] = base[2]                    # storage offset 12
    sd["column"] = base[:, 1]              # offset 1, stride 6
    sd["block"] = base[1:3, 2:5]           # offset 8, strides (6, 1)
    sd["permuted"] = cube.permute(2, 0, 1)
    sd["f16"] = torch.randn(3, 5, generator=g).half()
    sd["bf16"] = torch.randn(5, 3, generator=g).bfloat16()
    sd["bf16_t"] = sd["bf16"].t()
    sd["f64"] = torch.randn(2, 3, generator=g).double()
    sd["i64"] = torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4)
    sd["i32"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 2, 300], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["parameter"] = nn.Parameter(torch.randn(2, 2, generator=g))  # _rebuild_parameter
    d = fresh(out / "layouts")
    torch.save(sd, d / "layouts.pt")
    torch.save(sd, d / "layouts-legacy.pt", _use_new_zipfile_serialization=False)
    save_file({k: v.detach().contiguous().clone() for k, v in sd.items()}, d / "layouts.safetensors")

    # Round trip through torch itself: the files load to exactly what was saved.
    for name in ("layouts.pt", "layouts-legacy.pt"):
        back = torch.load(d / name, weights_only=True)
        for k, v in sd.items():
            assert torch.equal(back[k], v.detach()), (name, k)


# ----------------------------------------------------------------------------- tf


def tf_part(out):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    from safetensors.numpy import load_file, save_file

    tf.compat.v1.disable_eager_execution()

    def save(prefix, variables, shard_devices=1):
        """variables: {checkpoint name: (numpy value, tf dtype, device index)}."""
        graph = tf.Graph()
        with graph.as_default():
            var_list = {}
            for name, (value, dtype, device) in variables.items():
                with tf.device(f"/cpu:{device}"):
                    init = tf.constant(value) if dtype == tf.string else tf.cast(tf.constant(value), dtype)
                    # The op name is free; the Saver's dict key is the checkpoint name.
                    var_list[name] = tf.compat.v1.Variable(init, name=f"v{len(var_list)}")
            saver = tf.compat.v1.train.Saver(var_list, sharded=shard_devices > 1)
            config = tf.compat.v1.ConfigProto(device_count={"CPU": shard_devices})
            with tf.compat.v1.Session(graph=graph, config=config) as s:
                s.run(tf.compat.v1.global_variables_initializer())
                saver.save(s, str(prefix), write_meta_graph=False, write_state=False)

    # Google BERT: the core fixture's weights under Google's names, plus training state.
    weights = load_file(GOOGLE_MODEL / "model.safetensors")
    d = fresh(out / "bert-google-ckpt")
    shutil.copy(GOOGLE_MODEL / "bert_config.json", d / "bert_config.json")
    rng = np.random.default_rng(11)
    variables = {name: (value, tf.float32, 0) for name, value in weights.items()}
    for name in SLOTTED:
        shape = weights[name].shape
        variables[name + "/adam_m"] = (rng.standard_normal(shape).astype(np.float32), tf.float32, 0)
        variables[name + "/adam_v"] = (rng.random(shape).astype(np.float32), tf.float32, 0)
    variables["global_step"] = (np.int64(1000), tf.int64, 0)
    save(d / "bert_model.ckpt", variables)
    reader = tf.train.load_checkpoint(str(d / "bert_model.ckpt"))
    for name, value in weights.items():
        assert np.array_equal(reader.get_tensor(name), value), name

    # Layouts: each dtype, a string variable (not weights: readers skip it), two shards.
    d = fresh(out / "layouts-tf")
    f = rng.standard_normal((3, 4)).astype(np.float32)
    variables = {
        "f32": (f, tf.float32, 0),
        "f64": (rng.standard_normal((2, 2)), tf.float64, 1),
        "f16": (f, tf.float16, 0),
        "bf16": (f, tf.bfloat16, 1),
        "i32": (np.arange(-4, 4, dtype=np.int32), tf.int32, 0),
        "i64": (np.array([[-(2**40), 5]], dtype=np.int64), tf.int64, 1),
        "scalar": (np.float32(2.5), tf.float32, 0),
        "empty": (np.zeros((0, 2), np.float32), tf.float32, 1),
        "text": (np.array([b"not", b"weights"]), tf.string, 0),
        "scope/nested/name": (np.float32([1, 2]), tf.float32, 1),
    }
    save(d / "model.ckpt", variables, shard_devices=2)
    assert (d / "model.ckpt.data-00001-of-00002").exists(), sorted(p.name for p in d.iterdir())
    reader = tf.train.load_checkpoint(str(d / "model.ckpt"))
    expected = {}
    for name in variables:
        if name == "text":
            continue
        v = reader.get_tensor(name)
        expected[name] = np.asarray(v, np.int64 if np.issubdtype(v.dtype, np.integer) else np.float32)
    save_file(expected, d / "expected.safetensors")


# One model of each architecture of tests/fixtures/family (a base model and a task head).
FAMILY_BIN = ["roberta-gelu-h36-pool", "roberta-head-sequence-classification", "xlm-roberta-gelu-h48-pool",
              "distilbert-gelu-learned-h36", "electra-gelu-e24-h36", "albert-gelu-e24-h32-g2i2",
              "mpnet-gelu-h36-pool"]


def family_part(out):
    """The family fixtures' models as users' pytorch_model.bin files are made: the class the
    config names, save_pretrained(safe_serialization=False); RoBERTa also in shards."""
    import transformers
    family = REPO / "tests" / "fixtures" / "family"
    for name in FAMILY_BIN:
        src = family / name / "model"
        cls = getattr(transformers, json.loads((src / "config.json").read_text())["architectures"][0])
        model = cls.from_pretrained(src, attn_implementation="eager")
        variants = [("-bin", {})] + ([("-bin-sharded", {"max_shard_size": "30KB"})] if name == FAMILY_BIN[0] else [])
        for suffix, kw in variants:
            d = fresh(out / "family" / (name + suffix))
            model.save_pretrained(d, safe_serialization=False, **kw)
            for f in d.iterdir():
                if f.name == "generation_config.json":
                    f.unlink()
            if kw:
                assert len(list(d.glob("pytorch_model-*.bin"))) >= 2, name


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["torch", "tf", "family"], required=True)
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "formats")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    {"torch": torch_part, "tf": tf_part, "family": family_part}[args.part](args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.part}: wrote {args.out} ({total // 1024} KB in all)")


if __name__ == "__main__":
    main()
