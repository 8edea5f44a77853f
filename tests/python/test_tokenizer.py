"""encore.Tokenizer against the goldens `tokenizers` wrote (tests/fixtures/tokenizer/*/golden.jsonl,
tools/reference/make_tokenizer_fixtures.py): ids, type ids, masks, words, offsets, tokens, decode."""

import json

import pytest

import encore
from conftest import FIXTURES

DIRS = sorted(p.parent.name for p in (FIXTURES / "tokenizer").glob("*/golden.jsonl"))


def plain_cases(name, limit=400):
    """The golden cases without truncation or padding settings (encode's defaults)."""
    out = []
    with open(FIXTURES / "tokenizer" / name / "golden.jsonl", encoding="utf-8") as f:
        for line in f:
            c = json.loads(line)
            if set(c["case"]) <= {"a", "b"}:
                out.append(c)
    return out[:limit]


@pytest.mark.parametrize("name", DIRS)
def test_matches_tokenizers(name):
    tok = encore.Tokenizer.from_file(str(FIXTURES / "tokenizer" / name / "tokenizer.json"))
    cases = plain_cases(name)
    assert cases, name
    for c in cases:
        e = tok.encode(c["case"]["a"], c["case"].get("b"))
        want = c["expected"]
        assert e.ids == want["ids"], c["case"]
        assert e.type_ids == want["types"], c["case"]
        assert e.attention_mask == want["attention"], c["case"]
        assert e.special_tokens_mask == want["special"], c["case"]
        assert e.word_ids == want["words"], c["case"]
        assert [list(o) for o in e.offsets] == want["offsets"], c["case"]
        assert e.tokens == want["tokens"], c["case"]
        assert tok.decode(e.ids) == want["decoded"], c["case"]
        assert tok.decode(e.ids, skip_special_tokens=False) == want["decoded_keep"], c["case"]
    singles = [c for c in cases if "b" not in c["case"]][:50]
    batch = tok.encode_batch([c["case"]["a"] for c in singles])
    assert [e.ids for e in batch] == [c["expected"]["ids"] for c in singles]


def test_from_pretrained_and_vocab_lookups():
    tok = encore.Tokenizer.from_pretrained(str(FIXTURES / "st" / "st2-pooling"))
    e = tok.encode("hello world", max_length=3)
    assert len(e) == 3
    assert tok.id_to_token(tok.token_to_id("[CLS]")) == "[CLS]"
    assert tok.token_to_id("surely-not-a-token") is None
    assert tok.get_vocab_size() > 0


def test_errors():
    with pytest.raises(FileNotFoundError):
        encore.Tokenizer.from_file("/no/such/tokenizer.json")
    tok = encore.Tokenizer.from_pretrained(str(FIXTURES / "st" / "st2-pooling"))
    with pytest.raises(TypeError):
        tok.encode(b"bytes")
    with pytest.raises(TypeError):
        tok.encode_batch(["ok", None])
    with pytest.raises((TypeError, ValueError)):
        tok.decode(["not", "ids"])
    with pytest.raises(ValueError):
        encore.Tokenizer.from_pretrained(str(FIXTURES / "st" / "st2-pooling"), flavour="nonsense")
