"""encore.Model.forward: the reference outputs of tests/fixtures/core (transformers, Google BERT,
PyTorch), named tensors in and out, as `encore forward` has them."""

import json
import subprocess

import numpy as np
import pytest

import encore
from conftest import FIXTURES, read_safetensors, scaled_error

CORE = sorted(p.name for p in (FIXTURES / "core").iterdir() if (p / "cases.json").exists())


@pytest.mark.parametrize("name", CORE)
def test_forward_is_the_cpp_forward_and_the_reference(name, encore_binary, tmp_path):
    """Every output bitwise equal to `encore forward` (the C++ API); the final hidden states
    within 1e-5 of the reference's on the positions the fixture compares."""
    directory = FIXTURES / "core" / name
    cases = json.loads((directory / "cases.json").read_text())
    activation = cases.get("load_options", {}).get("activation")
    model = encore.Model(str(directory / "model"), activation=activation)
    assert model.dialect == cases["dialect"]
    for case in cases["cases"]:
        options = case["options"]
        flags = {"all_hidden": options.get("all_hidden", False), "attentions": options.get("attentions", False),
                 "causal": options.get("causal", False)}
        source = directory / f"{case['name']}.in.safetensors"
        got = model.forward(read_safetensors(source), **flags)
        out = tmp_path / f"{case['name']}.out.safetensors"
        subprocess.run([encore_binary, "forward", "--model", str(directory / "model"), "--input", str(source),
                        "--output", str(out)] + ["--" + k.replace("_", "-") for k, v in flags.items() if v]
                       + (["--activation", activation] if activation else []),
                       check=True, capture_output=True)
        cli = read_safetensors(out)
        assert sorted(got) == sorted(cli), (name, case["name"])
        for key in cli:
            assert got[key].dtype == np.float32 and np.array_equal(got[key], cli[key]), (name, case["name"], key)
        want = read_safetensors(directory / f"{case['name']}.out.safetensors")
        last = "last_hidden_state" if "last_hidden_state" in want else "sequence_output"
        if last in want and "compare_mask" in want:
            keep = want["compare_mask"].astype(bool)
            # A case's tolerance is for its fully masked sequences (tests/fixtures/README.md).
            assert scaled_error(got[last][keep], want[last][keep]) <= case.get("tolerance", 1e-5), (name, case["name"])


def test_outputs_are_numpy_and_inputs_are_checked():
    directory = FIXTURES / "core" / "bert-hf-gelu-abs-h36"
    model = encore.Model(str(directory / "model"))
    ids = np.array([[2, 5, 7, 3]], dtype=np.int64)
    out = model.forward({"input_ids": ids})
    assert out["last_hidden_state"].dtype == np.float32
    assert out["last_hidden_state"].shape[:2] == (1, 4)
    assert out["last_hidden_state"].flags["C_CONTIGUOUS"]
    same = model.forward({"input_ids": ids.astype(np.int32)})
    assert np.array_equal(same["last_hidden_state"], out["last_hidden_state"])
    strided = np.array([[2, 0, 5, 0, 7, 0, 3, 0]], dtype=np.int64)[:, ::2]
    assert np.array_equal(model.forward({"input_ids": strided})["last_hidden_state"], out["last_hidden_state"])
    with pytest.raises(ValueError, match="no_such_input"):
        model.forward({"input_ids": ids, "no_such_input": ids})
    with pytest.raises(ValueError):
        model.forward({"input_ids": np.array([[2, 99999]], dtype=np.int64)})
    with pytest.raises(ValueError):
        model.forward({"input_ids": np.array(["a", "b"])})
    with pytest.raises(TypeError):
        model.forward([ids])
    with pytest.raises(FileNotFoundError):
        encore.Model(str(directory / "nope"))
