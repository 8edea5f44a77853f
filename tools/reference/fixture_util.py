"""Helpers shared by the fixture generators (make_core_fixtures.py, make_family_fixtures.py):
seeded random tensors, masks, writing safetensors and JSON, and the check that the pinned
reference versions are the ones running."""
import json
import sys
from pathlib import Path

import numpy as np
import torch
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


def check_versions(tool):
    """The fixtures must come from the pinned reference packages."""
    import safetensors
    pins = {}
    for line in (Path(__file__).parent / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            k, v = line.split("==")
            pins[k.strip().lower()] = v.strip()
    have = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "safetensors": safetensors.__version__, "numpy": np.__version__}
    bad = [f"{k} {have[k]} (pinned {pins[k]})" for k in have if k in pins and have[k] != pins[k]]
    if bad:
        sys.exit(f"{tool}: wrong reference versions: " + ", ".join(bad))
