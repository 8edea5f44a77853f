"""Helpers shared by the fixture generators (make_core_fixtures.py, make_family_fixtures.py,
make_modernbert_fixtures.py, make_deberta_fixtures.py, make_modernbert_text_fixtures.py): seeded random
tensors, masks, writing safetensors and JSON, the check that the pinned reference versions are the ones
running, the common setup and report of a generator's main(), and, for the transformers encoders of
tests/fixtures/family (ModernBERT, DeBERTa-v2), what their fixtures have in common: the scaled-up
weights, save_pretrained + reload, the ragged / fully_masked / no_mask inputs, the body and head
fixture files. Everything here draws from the generator it is given, in the order the generators did
themselves: the fixtures are byte-identical to what they wrote before these helpers existed."""
import argparse
import hashlib
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import transformers
from safetensors.torch import save_file as torch_save_file

REPORT = []  # (model, case, text) lines the generators print at the end


def note(model, case, text):
    REPORT.append((model, case, text))


def gen(seed):
    return torch.Generator().manual_seed(seed)


def randn(shape, g, std=1.0):
    return torch.randn(shape, generator=g, dtype=torch.float32) * std


def randint(lo, hi, shape, g):
    return torch.randint(lo, hi, shape, generator=g, dtype=torch.int64)


def lengths_mask(lengths, seq_len):
    """1 for real positions (right padding), int64 [B,S]."""
    ar = torch.arange(seq_len)[None, :]
    return (ar < torch.tensor(lengths)[:, None]).to(torch.int64)


def compare_mask_from_keep(keep):
    """keep: [B,S] bool/int, 1 = real position. A row with no real position is compared everywhere
    (the reference's output there is well defined: see tests/fixtures/README.md, fully masked rows)."""
    keep = torch.as_tensor(keep).to(torch.bool).clone()
    empty = ~keep.any(dim=1)
    keep[empty] = True
    return keep.to(torch.uint8)


def save_tensors(path, tensors):
    clean = {k: v.detach().cpu().clone().contiguous() for k, v in tensors.items() if v is not None}
    torch_save_file(clean, str(path))


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")


def describe(tensors):
    return ", ".join(f"{k}{list(v.shape)}:{str(v.dtype).replace('torch.', '')}" for k, v in tensors.items()
                     if v is not None)


def check_versions(tool, requirements="requirements.txt", more=None):
    """The fixtures must come from the pinned reference packages: those of `requirements` (next to this
    file) among torch, transformers, safetensors, numpy and `more` ({package: version})."""
    import safetensors
    pins = {}
    for line in (Path(__file__).parent / requirements).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            k, v = line.split("==")
            pins[k.strip().lower()] = v.strip()
    have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__, **(more or {})}
    bad = [f"{k} {have[k]} (pinned {pins[k]})" for k in have if k in pins and have[k] != pins[k]]
    if bad:
        sys.exit(f"{tool}: wrong reference versions: " + ", ".join(bad))


# ----------------------------------------------------------------------------- a generator's main()


def reference_setup(doc, default_out, tool, requirements="requirements.txt", more=None):
    """Parse --out (default default_out), check the pinned versions (check_versions), and fix what makes
    a rerun write identical bytes: one thread (a fixed reduction order), deterministic algorithms.
    Returns --out."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=default_out)
    args = ap.parse_args()
    check_versions(tool, requirements, more)
    transformers.logging.set_verbosity_error()  # "padding without attention_mask" etc. are intended
    torch.set_num_threads(1)  # fixed reduction order -> identical bytes on rerun
    torch.use_deterministic_algorithms(True)
    return args.out


def replace_dirs(root, prefix):
    """Remove root/<prefix>* (only the calling generator's directories: the rest of root is others')."""
    root.mkdir(parents=True, exist_ok=True)
    for old in sorted(root.glob(prefix + "*")):
        shutil.rmtree(old)


def print_report(summary, model_width, case_width):
    """The (model, case, inputs, outputs) table, then the REPORT lines."""
    print(f"\n{'model':{model_width}} {'case':{case_width}} inputs -> outputs")
    for m, c, inp, o in summary:
        print(f"{m:{model_width}} {c:{case_width}} {inp}\n{'':{model_width + case_width + 1}} -> {o}")
    print("\nChecks:")
    for m, c, t in REPORT:
        print(f"  {m} [{c}] {t}")


def print_digest(root, prefix=None):
    """The count, size and a sha256 over (relative path, bytes) of every file under root, or under its
    <prefix>* directories: what a rerun must reproduce."""
    tops = sorted(root.glob(prefix + "*")) if prefix else [root]
    files = sorted(f for d in tops for f in d.rglob("*") if f.is_file())
    total = sum(f.stat().st_size for f in files)
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    where = f"{root}/{prefix}*" if prefix else f"{root}"
    print(f"\n{len(files)} files under {where}: {total / 1e6:.2f} MB, sha256 {digest.hexdigest()}")


# ----------------------------------------------------------------------------- models


def fresh_dir(root, name):
    d = root / name
    d.mkdir(parents=True)
    return d


def init_scaled_(model, g, gain=lambda name: 1.0, adjust=None, embedding_std=lambda name: 0.5):
    """Scale up every parameter of a transformers model, in named_modules order: Linear and Conv1d weights
    N(0, (gain(name)/sqrt(fan_in))^2) (then adjust(name, weight) if given), their biases N(0, 0.1^2),
    LayerNorm gamma 1 + 0.2 N(0,1), beta 0.2 N(0,1), Embedding weights N(0, embedding_std(name)^2), any
    other parameter N(0, 0.1^2). A parameter shared by two modules (a MaskedLM decoder tied to the word
    embeddings) is drawn once, by the first module that owns it. Returns the names of the "other"
    parameters."""
    done = set()

    def fresh(p):
        if id(p) in done:
            return False
        done.add(id(p))
        return True

    with torch.no_grad():
        for mname, module in model.named_modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)):
                if fresh(module.weight):
                    fan_in = math.prod(module.weight.shape[1:])
                    w = randn(module.weight.shape, g, gain(mname) / math.sqrt(fan_in))
                    if adjust is not None:
                        adjust(mname, w)
                    module.weight.copy_(w)
                if module.bias is not None and fresh(module.bias):
                    module.bias.copy_(randn(module.bias.shape, g, 0.1))
            elif isinstance(module, nn.LayerNorm):
                if fresh(module.weight):
                    module.weight.copy_(1.0 + randn(module.weight.shape, g, 0.2))
                if module.bias is not None and fresh(module.bias):
                    module.bias.copy_(randn(module.bias.shape, g, 0.2))
            elif isinstance(module, nn.Embedding):
                if fresh(module.weight):
                    module.weight.copy_(randn(module.weight.shape, g, embedding_std(mname)))
        rest = []
        for pname, p in model.named_parameters():
            if fresh(p):
                p.copy_(randn(p.shape, g, 0.1))
                rest.append(pname)
    return rest


def save_pretrained_dir(d, model):
    """save_pretrained(safe_serialization=True) into d/model (through d/_save, moved in name order)."""
    tmp = d / "_save"
    model.save_pretrained(tmp, safe_serialization=True)
    (d / "model").mkdir(parents=True)
    for f in sorted(tmp.iterdir()):
        shutil.move(str(f), str(d / "model" / f.name))
    shutil.rmtree(tmp)


def reload_model(d, cls, **kwargs):
    """cls.from_pretrained(d/model) with the eager attention, as a user would load the saved fixture;
    every weight must be found and used."""
    loaded, info = cls.from_pretrained(d / "model", attn_implementation="eager", output_loading_info=True,
                                       **kwargs)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, (d.name, bad)
    return loaded


def assert_same_state(a, b, what):
    """a and b hold the same tensors under the same names (bit for bit)."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), what


def same_outputs(name, case, a, b):
    """The model as built and the reloaded one give identical outputs (bit for bit)."""
    assert a.keys() == b.keys(), (name, case)
    for k in a:
        assert torch.equal(a[k], b[k]), (name, case, k)


def scaled_diff(a, b, cmp):
    """max |a - b| / max(1, |b|) over the positions cmp ([B,S]) selects."""
    sel = cmp.to(torch.bool)
    return float(((a[sel] - b[sel]).abs() / b[sel].abs().clamp(min=1.0)).max())


# ----------------------------------------------------------------------------- body fixtures

BODY_OPTIONS = {"all_hidden": True, "attentions": True, "causal": False}


def real_ids(shape, vocab_size, pad, g):
    """Token ids uniform over the vocabulary without the pad id."""
    x = randint(0, vocab_size - 1, shape, g)
    return x + (x >= pad).to(torch.int64)


def common_case(name, vocab_size, max_len, pad, g):
    """The inputs of the cases every body fixture has, and the real positions ([B,S]). Padded positions
    hold the pad id (as a tokenizer writes them), real tokens never do.
      ragged        lengths 1, 7, 33, max_len, right padding
      fully_masked  S = 9: row 0 length 6, rows 1 and 2 attention_mask all zeros (row 1 real ids, row 2
                    all pad ids); compared everywhere
      no_mask       S = 10, no attention_mask; position 4 holds the pad id"""
    if name == "ragged":
        am = lengths_mask([1, 7, 33, max_len], max_len)
        ids = torch.where(am == 1, real_ids((4, max_len), vocab_size, pad, g), pad)
        return dict(input_ids=ids, attention_mask=am), am
    if name == "fully_masked":
        S = 9
        am = lengths_mask([6, 0, 0], S)
        ids = real_ids((3, S), vocab_size, pad, g)
        ids[0, 6:] = pad
        ids[2, :] = pad
        return dict(input_ids=ids, attention_mask=am), am
    if name == "no_mask":
        S = 10
        ids = real_ids((1, S), vocab_size, pad, g)
        ids[0, 4] = pad  # without a mask a pad id is an ordinary token
        return dict(input_ids=ids), torch.ones(1, S)
    raise ValueError(name)


def body_outputs(out):
    """A base model's ModelOutput (output_hidden_states, output_attentions) as named tensors."""
    res = {"last_hidden_state": out.last_hidden_state}
    for i, h in enumerate(out.hidden_states):
        res[f"hidden_states.{i}"] = h
    for i, a in enumerate(out.attentions):
        res[f"attentions.{i}"] = a
    return res


def write_body(d, name, cases_in, run, model, built, check, summary, header):
    """Run and write the cases of a body fixture. For each (case, inputs, compare_mask, note) of cases_in:
    the outputs of run(model, inputs, output_hidden_states=True, output_attentions=True) (the built model
    must give the same bits), + compare_mask, finite; check(case, inputs, outputs) (asserts and notes);
    <case>.in.safetensors, <case>.out.safetensors. Then cases.json: header ({model_type, model_class,
    model_kwargs, reference}), the output names (the same in every case) and the cases."""
    cases, outputs = [], None
    for case, inp, cmp, text in cases_in:
        res = body_outputs(run(model, inp, output_hidden_states=True, output_attentions=True))
        same_outputs(name, case, res,
                     body_outputs(run(built, inp, output_hidden_states=True, output_attentions=True)))
        res["compare_mask"] = cmp
        assert all(torch.isfinite(v.float()).all() for v in res.values()), (name, case)
        check(case, inp, res)
        names_here = [k for k in res if k != "compare_mask"]
        assert outputs is None or names_here == outputs, (name, case)
        outputs = names_here
        save_tensors(d / f"{case}.in.safetensors", inp)
        save_tensors(d / f"{case}.out.safetensors", res)
        cases.append({"name": case, "options": dict(BODY_OPTIONS), "note": text})
        summary.append((name, case, describe(inp),
                        describe({k: res[k] for k in ("last_hidden_state", "attentions.0")})))
    write_json(d / "cases.json", dict(header, outputs=outputs, cases=cases))


# ----------------------------------------------------------------------------- head fixtures


def head_inputs(vocab_size, pad, cls, sep, g):
    """Three sequences, lengths 12, 7, 3 (right padding with the pad id), [CLS] first and [SEP] last."""
    B, S = 3, 12
    ids = randint(5, vocab_size, (B, S), g)
    mask = torch.zeros(B, S, dtype=torch.int64)
    for b, n in enumerate([12, 7, 3]):
        mask[b, :n] = 1
        ids[b, 0] = cls
        ids[b, n - 1] = sep
        ids[b, n:] = pad
    return {"input_ids": ids, "attention_mask": mask}


def head_outputs(out):
    return {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}


def run_head(name, run, model, built, inp):
    """The tensor outputs of run(model, inp) (the built model must give the same bits), + compare_mask
    (the attention_mask), finite. Returns them and the sorted output names."""
    res = head_outputs(run(model, inp))
    same_outputs(name, "ragged", res, head_outputs(run(built, inp)))
    outputs = sorted(res)
    res["compare_mask"] = inp["attention_mask"].to(torch.uint8)
    assert all(torch.isfinite(v.float()).all() for v in res.values()), name
    return res, outputs


def shapes_of(res, names):
    return ", ".join(f"{k} {list(res[k].shape)}" for k in names)


def write_head(d, name, inp, res, outputs, text, summary, header):
    """ragged.in/out.safetensors and cases.json: header ({model_type, model_class, head, reference}),
    the output names and the one case, ragged, with its note."""
    save_tensors(d / "ragged.in.safetensors", inp)
    save_tensors(d / "ragged.out.safetensors", res)
    write_json(d / "cases.json", dict(header, outputs=outputs, cases=[{"name": "ragged", "note": text}]))
    summary.append((name, "ragged", describe(inp), shapes_of(res, outputs)))
