#!/usr/bin/env python3
"""Write the small tokenizer.json fixtures of tests/check_tok.c.

Each is a hand-made model that exercises components (byte-level BPE,
SentencePiece-style BPE with byte_fallback, Split/Metaspace/Digits/NFC).
The expected ids in check_tok.c come from Hugging Face tokenizers 0.23.2
run on these files, not from metricsd.
"""
import json


def byte_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def base(model, pre=None, norm=None, added=()):
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": list(added), "normalizer": norm,
            "pre_tokenizer": pre, "post_processor": None, "decoder": None,
            "model": model}


def added(id_, content, special=True, normalized=False, lstrip=False,
          rstrip=False, single_word=False):
    return {"id": id_, "content": content, "single_word": single_word,
            "lstrip": lstrip, "rstrip": rstrip, "normalized": normalized,
            "special": special}


def bytelevel():
    bc = byte_chars()
    vocab = {bc[b]: i for i, b in enumerate(sorted(bc))}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "in"),
              ("1", "2"), ("12", "3"), ("Ġ", "Ġ"), ("'", "s"), ("o", "n"),
              ("Ġ", "on"), ("e", "s")]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    model = {"type": "BPE", "dropout": None, "unk_token": None,
             "continuing_subword_prefix": None, "end_of_word_suffix": None,
             "fuse_unk": False, "byte_fallback": False,
             "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]}
    pre = {"type": "ByteLevel", "add_prefix_space": False,
           "trim_offsets": True, "use_regex": True}
    toks = [added(len(vocab), "<|end|>"),
            added(len(vocab) + 1, "[X]", special=False, lstrip=True,
                  rstrip=True),
            added(len(vocab) + 2, "word", special=False, single_word=True)]
    return base(model, pre, None, toks)


def spm():
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for t in ["▁", "h", "e", "l", "o", "w", "r", "d", "a", "b", "é"]:
        vocab[t] = len(vocab)
    merges = [("▁", "h"), ("e", "l"), ("▁h", "el"), ("l", "o"),
              ("▁hel", "lo"), ("▁", "w"), ("o", "r"), ("▁w", "or"),
              ("l", "d"), ("▁wor", "ld")]
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>",
             "continuing_subword_prefix": None, "end_of_word_suffix": None,
             "fuse_unk": True, "byte_fallback": True,
             "vocab": vocab, "merges": [[a, b] for a, b in merges]}
    norm = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    return base(model, None, norm, [added(1, "<s>"), added(2, "</s>")])


def pieces():
    # Every character of a small alphabet is a token, no merges: the ids
    # show where the pre-tokenizers cut (ignore_merges finds whole words).
    chars = "abcdefghijklmnopqrstuvwxyz0123456789 ▁-.,!é"
    vocab = {c: i for i, c in enumerate(chars)}
    for w in ["ab", "▁ab", "12", "a-b", "▁a", "é."]:
        vocab[w] = len(vocab)
    model = {"type": "BPE", "dropout": None, "unk_token": None,
             "continuing_subword_prefix": None, "end_of_word_suffix": None,
             "fuse_unk": False, "byte_fallback": False,
             "ignore_merges": True, "vocab": vocab, "merges": []}
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": False},
        {"type": "Split", "pattern": {"String": "-"},
         "behavior": "MergedWithPrevious", "invert": False},
        {"type": "Split", "pattern": {"Regex": "\\p{P}"},
         "behavior": "MergedWithNext", "invert": False},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first",
         "split": True}]}
    norm = {"type": "NFC"}
    return base(model, pre, norm, [added(len(vocab), "é", special=False,
                                         normalized=True)])


for name, f in [("tok_bytelevel.json", bytelevel), ("tok_spm.json", spm),
                ("tok_pieces.json", pieces)]:
    with open(name, "w", encoding="utf-8") as out:
        json.dump(f(), out, ensure_ascii=False, indent=1)
        out.write("\n")
