#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the test fixtures (stdlib only).

Usage: make_seeds.py FIXTURES_DIR CORPUS_DIR  ->  CORPUS_DIR/{safetensors,torch_pickle,tf_bundle}/
"""
import struct
import sys
import zipfile
from pathlib import Path


def main():
    fixtures, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    dirs = {name: corpus / name for name in ("safetensors", "torch_pickle", "tf_bundle")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)

    def seed(target, name, data):
        (dirs[target] / name).write_bytes(data)

    # safetensors: the small ones (inputs, layouts), not the 100 KB models.
    for p in sorted(fixtures.rglob("*.safetensors")):
        if p.stat().st_size <= 16384:
            seed("safetensors", "-".join(p.relative_to(fixtures).parts), p.read_bytes())
    # torch: whole files, plus each zip's data.pkl on its own.
    for p in sorted(list(fixtures.glob("formats/**/*.pt")) + list(fixtures.glob("formats/**/*.bin"))):
        name = "-".join(p.relative_to(fixtures).parts)
        data = p.read_bytes()
        if len(data) <= 65536:
            seed("torch_pickle", name, data)
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                for entry in z.namelist():
                    if entry.endswith("/data.pkl"):
                        seed("torch_pickle", name + ".data.pkl", z.read(entry))
    # TensorFlow: 4-byte index length, index, shard 0.
    for index in sorted(fixtures.glob("formats/**/*.index")):
        prefix = str(index)[: -len(".index")]
        shard = sorted(Path(index.parent).glob(Path(prefix).name + ".data-00000-of-*"))[0]
        idx = index.read_bytes()
        seed("tf_bundle", "-".join(index.relative_to(fixtures).parts), struct.pack("<I", len(idx)) + idx + shard.read_bytes())
    for target, d in dirs.items():
        print(f"{target}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    main()
