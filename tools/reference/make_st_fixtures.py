#!/usr/bin/env python3
"""sentence-transformers directories of every format generation, and their embeddings as the
current sentence-transformers computes them, for encore's module parity tests (tests/fixtures/st).

Three steps, each in the venv of the release it needs (make_st_fixtures.sh runs them all):

  base    (.venv-st, sentence-transformers 6.3): two tiny random BERT models with a cased
          WordPiece vocabulary trained on the licence texts Debian ships, as plain
          Hugging Face directories (config.json, model.safetensors, vocab.txt), in --work.
  save    (each generation's venv): builds sentence-transformers models from those with that
          release's own API and saves them with its own save(), so every file is exactly what
          that release writes: --generation st2 (2.7: sentence_transformers.models.* types,
          pooling_mode_* booleans, Asym), st5 (5.3: the same names, Router, StaticEmbedding),
          st6 (6.3: sentence_transformers.base.modules.* types, "pooling_mode").
  golden  (.venv-st): loads every saved directory with sentence-transformers 6.3 (the
          reference) and writes, next to each, cases.json (the encode() calls) and
          expected.safetensors (their outputs); texts.jsonl holds the inputs, in order.

Random weights come from torch.manual_seed, so a rerun writes the same directories.
"""
import argparse
import json
import os
import re
import shutil
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "st")

HIDDEN = 32

# Every torch.nn activation that builds without arguments and maps a row to a row.
ACTIVATIONS = ["Identity", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "RReLU", "PReLU", "ELU", "CELU", "SELU", "GELU",
               "Sigmoid", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "Hardtanh", "LogSigmoid", "Softplus",
               "Softshrink", "Hardshrink", "Softsign", "Tanhshrink", "GLU", "Softmax", "LogSoftmax", "Softmin"]


def licence_text():
    text = ""
    for name in ["GPL-3", "Apache-2.0", "LGPL-2.1", "MPL-2.0"]:
        path = os.path.join("/usr/share/common-licenses", name)
        if os.path.exists(path):
            text += open(path, encoding="utf-8").read()
    return text


def texts():
    sentences = [s.strip() for s in re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", licence_text()))
                 if 20 <= len(s.strip()) <= 300]
    out = sentences[:: max(1, len(sentences) // 12)][:12]
    out += ["", "   ", "a", "Hello, World!", "ΟΔΟΣ ΚΑΙ ΛΟΓΟΣ", "Ünïcödé Straße İstanbul", "naïve café — ﬁne 🙂",
            "[CLS] literal [SEP] tokens", "query: already prompted", "中文字符和 English mixed",
            " ".join(sentences[200:215])]  # far past max_seq_length: truncated
    return out


# ---------------------------------------------------------------------------------------
# base


def make_base(work):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel

    os.makedirs(work, exist_ok=True)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=700, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator([licence_text()] + texts(), trainer)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    for name, seed in [("base-a", 1), ("base-b", 2)]:
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8") as f:
            f.writelines(token + "\n" for token, _ in vocab)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": False, "model_max_length": 40}, f)
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=len(vocab), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=40, type_vocab_size=2)
        BertModel(config, add_pooling_layer=False).eval().save_pretrained(d, safe_serialization=True)
    print(f"base models in {work}: vocabulary {len(vocab)}", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# save


def dense(models, n_in, n_out, activation, seed, **kwargs):
    torch.manual_seed(seed)
    d = models.Dense(n_in, n_out, activation_function=activation, **kwargs)
    with torch.no_grad():  # spread the inputs of the activations over [-4, 4]
        d.linear.weight.normal_(0.0, 2.5 / n_in ** 0.5)
        if d.linear.bias is not None:
            d.linear.bias.normal_(0.0, 0.5)
    return d


def save(model, name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save(path)
    for junk in ["README.md"]:  # model cards carry dates and versions, nothing encore reads
        if os.path.exists(os.path.join(path, junk)):
            os.remove(os.path.join(path, junk))
    print(f"saved {name}", file=sys.stderr)


def save_st2(work):
    from sentence_transformers import SentenceTransformer, models

    a = os.path.join(work, "base-a")
    # The silent wrong vector: Transformer -> Pooling -> Dense -> Normalize, old keys;
    # do_lower_case on a cased vocabulary.
    t = models.Transformer(a, max_seq_length=24, do_lower_case=True)
    save(SentenceTransformer(modules=[t, models.Pooling(HIDDEN, "mean"), dense(models, HIDDEN, 16, torch.nn.Tanh(), 10),
                                      models.Normalize()], device="cpu"), "st2-dense")
    t = models.Transformer(a, max_seq_length=24)
    pooling = models.Pooling(HIDDEN, pooling_mode_cls_token=True, pooling_mode_max_tokens=True,
                             pooling_mode_mean_tokens=False, pooling_mode_mean_sqrt_len_tokens=True)
    save(SentenceTransformer(modules=[t, pooling], device="cpu"), "st2-pooling")
    t = models.Transformer(a)
    asym = models.Asym({"query": [dense(models, HIDDEN, 16, torch.nn.ReLU(), 11)],
                        "doc": [dense(models, HIDDEN, 16, torch.nn.Identity(), 12, bias=False)]})
    save(SentenceTransformer(modules=[t, models.Pooling(HIDDEN, "mean"), asym, models.Normalize()], device="cpu"),
         "st2-asym")
    t = models.Transformer(a, max_seq_length=32)
    torch.manual_seed(13)
    norm = models.LayerNorm(HIDDEN)
    with torch.no_grad():
        norm.norm.weight.normal_(1.0, 0.2)
        norm.norm.bias.normal_(0.0, 0.2)
    save(SentenceTransformer(modules=[t, models.Pooling(HIDDEN, "weightedmean"), models.Dropout(0.3), norm,
                                      dense(models, HIDDEN, 24, torch.nn.GELU(), 14, bias=False)], device="cpu"),
         "st2-layernorm")


def save_st5(work):
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer

    a, b = os.path.join(work, "base-a"), os.path.join(work, "base-b")
    # A dual encoder: different Transformers per route, prompts picked by encode_query /
    # encode_document.
    router = models.Router.for_query_document(
        query_modules=[models.Transformer(a, max_seq_length=16), models.Pooling(HIDDEN, "cls"),
                       dense(models, HIDDEN, 20, torch.nn.SiLU(), 20)],
        document_modules=[models.Transformer(b), models.Pooling(HIDDEN, "mean"),
                          dense(models, HIDDEN, 20, torch.nn.Tanh(), 21)])
    save(SentenceTransformer(modules=[router, models.Normalize()], device="cpu",
                             prompts={"query": "query: ", "document": "passage: "}), "st5-router")
    # Every pooling mode at once, prompt tokens excluded, a default prompt, dot similarity.
    t = models.Transformer(a, max_seq_length=20)
    pooling = models.Pooling(HIDDEN, pooling_mode_cls_token=True, pooling_mode_max_tokens=True,
                             pooling_mode_mean_tokens=True, pooling_mode_mean_sqrt_len_tokens=True,
                             pooling_mode_weightedmean_tokens=True, pooling_mode_lasttoken=True, include_prompt=False)
    save(SentenceTransformer(modules=[t, pooling], device="cpu", similarity_fn_name="dot",
                             prompts={"query": "query: ", "passage": "passage: the text that follows "},
                             default_prompt_name="query"), "st5-prompts")
    # A static embedding model (model2vec style) on the same WordPiece tokenizer.
    tmp = os.path.join(work, "tok-a")
    from transformers import AutoTokenizer
    AutoTokenizer.from_pretrained(a).save_pretrained(tmp)
    torch.manual_seed(22)
    static = models.StaticEmbedding(Tokenizer.from_file(os.path.join(tmp, "tokenizer.json")), embedding_dim=16)
    save(SentenceTransformer(modules=[static, models.Normalize()], device="cpu", prompts={"query": "find: "}),
         "st5-static")


def save_st6(work):
    from sentence_transformers import SentenceTransformer, models
    from sentence_transformers.base.modules import Router

    a = os.path.join(work, "base-a")
    # Every activation Dense can name: one route each, after one Transformer and Pooling.
    routes = {}
    for i, name in enumerate(ACTIVATIONS):
        act = getattr(torch.nn, name)()
        if name == "PReLU":
            with torch.no_grad():
                act.weight.fill_(-0.3)
        n_out = 32 if name == "GLU" else 16
        routes[name] = [dense(models, HIDDEN, n_out, act, 100 + i)]
    routes["residual"] = [dense(models, HIDDEN, HIDDEN, torch.nn.Tanh(), 200, use_residual=True)]
    routes["residual-projected"] = [dense(models, HIDDEN, 16, torch.nn.ReLU(), 201, use_residual=True)]
    router = Router(routes, default_route="Tanh")
    save(SentenceTransformer(modules=[models.Transformer(a, max_seq_length=24), models.Pooling(HIDDEN, "mean"), router],
                             device="cpu"), "st6-activations")
    # Modules on token embeddings before Pooling, LayerNorm after; truncate_dim and
    # euclidean similarity in config_sentence_transformers.json. (Not do_lower_case: 6.3
    # saves it only into tokenizer.json's normalizer, which transformers 5 ignores on load
    # for a BertTokenizer; st2-dense covers do_lower_case.)
    t = models.Transformer(a, max_seq_length=28)
    token_dense = dense(models, HIDDEN, 24, torch.nn.GELU(), 30, module_input_name="token_embeddings")
    torch.manual_seed(31)
    norm = models.LayerNorm(48)
    save(SentenceTransformer(modules=[t, token_dense, models.Normalize(module_input_name="token_embeddings"),
                                      models.Pooling(24, ["mean", "max"]), norm,
                                      dense(models, 48, 20, torch.nn.Tanh(), 32), models.Normalize()],
                             device="cpu", similarity_fn_name="euclidean", truncate_dim=12), "st6-tokens")
    # model2vec's own weight layout (embeddings, mapping, weights) in a StaticEmbedding
    # directory: StaticEmbedding.load folds it into one row per token.
    src = os.path.join(OUT, "st5-static")
    dst = os.path.join(OUT, "st6-static-model2vec")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    from safetensors.torch import load_file, save_file
    weights_file = os.path.join(dst, "model.safetensors")  # StaticEmbedding saves in the root
    table = load_file(weights_file)["embedding.weight"]
    g = torch.Generator().manual_seed(40)
    mapping = torch.randint(0, 300, (table.shape[0],), generator=g)
    weights = torch.rand(table.shape[0], generator=g) + 0.5
    save_file({"embeddings": table[:300].contiguous(), "mapping": mapping, "weights": weights}, weights_file)
    print("saved st6-static-model2vec", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# golden


def cases_for(name, model):
    """The encode() calls each directory is checked with: (key, request, options, kwargs)."""
    cases = [("default", {}, {}, {})]
    if name == "st2-dense":
        cases += [("dims8", {}, {"dimensions": 8}, {"truncate_dim": 8}),
                  ("dims8.normalized", {}, {"dimensions": 8, "normalize": True},
                   {"truncate_dim": 8, "normalize_embeddings": True})]
    if name == "st2-asym":
        cases += [(task, {"task": task}, {}, {"task": task}) for task in ["query", "doc"]]
    if name == "st5-router":
        cases += [("query", {"task": "query"}, {}, {"method": "encode_query"}),
                  ("document", {"task": "document"}, {}, {"method": "encode_document"}),
                  ("query.prompt", {"task": "query", "prompt": "q: "}, {}, {"method": "encode_query", "prompt": "q: "})]
    if name == "st5-prompts":
        cases += [("passage", {"prompt_name": "passage"}, {}, {"prompt_name": "passage"}),
                  ("literal", {"prompt": "Represent this sentence: "}, {}, {"prompt": "Represent this sentence: "}),
                  ("no-prompt", {"prompt": ""}, {}, {"prompt": ""})]
    if name in ("st5-static", "st6-static-model2vec"):
        cases += [("query", {"prompt_name": "query"}, {}, {"prompt_name": "query"})]
    if name == "st6-activations":
        cases += [(f"route.{r}", {"task": r}, {}, {"task": r}) for r in ACTIVATIONS + ["residual", "residual-projected"]]
    if name == "st6-tokens":
        cases += [("full", {}, {"dimensions": 20}, {"truncate_dim": 20})]
    return cases


def golden():
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    import sentence_transformers
    import transformers

    inputs = texts()
    with open(os.path.join(OUT, "texts.jsonl"), "w", encoding="utf-8") as f:
        for t in inputs:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    for name in sorted(os.listdir(OUT)):
        path = os.path.join(OUT, name)
        if not os.path.isdir(path):
            continue
        model = SentenceTransformer(path, device="cpu")
        expected, listed = {}, []
        for key, request, options, kwargs in cases_for(name, model):
            kwargs = dict(kwargs)
            method = getattr(model, kwargs.pop("method", "encode"))
            expected[key] = method(inputs, batch_size=8, convert_to_numpy=True, **kwargs).astype(np.float32)
            listed.append({"key": key, "request": request, "options": options,
                           "reference": f"{method.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"})
        default = torch.from_numpy(expected["default"])
        expected["similarity"] = model.similarity(default[:1], default[1:]).numpy().astype(np.float32)[0]
        if name == "st6-tokens":  # output_value="token_embeddings", every text's rows concatenated
            tokens = model.encode(inputs, batch_size=8, output_value="token_embeddings")
            expected["tokens"] = torch.cat(tokens).numpy().astype(np.float32)
            expected["tokens.lengths"] = np.array([len(t) for t in tokens], dtype=np.int64)
        save_file(expected, os.path.join(path, "expected.safetensors"))
        with open(os.path.join(path, "cases.json"), "w") as f:
            json.dump({"reference": f"sentence-transformers {sentence_transformers.__version__}, transformers "
                                    f"{transformers.__version__}, torch {torch.__version__.split('+')[0]}",
                       "similarity_fn_name": model.similarity_fn_name, "cases": listed}, f, indent=1)
        print(f"golden {name}: {len(listed)} cases, {len(inputs)} texts", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["base", "save", "golden"])
    p.add_argument("--work", default=os.path.join(ROOT, ".cache", "st-fixtures"))
    p.add_argument("--generation", choices=["st2", "st5", "st6"])
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.step == "base":
        make_base(args.work)
    elif args.step == "save":
        os.makedirs(OUT, exist_ok=True)
        {"st2": save_st2, "st5": save_st5, "st6": save_st6}[args.generation](args.work)
    else:
        golden()


if __name__ == "__main__":
    main()
