#!/usr/bin/env python3
"""Convert a tiktoken rank file (r50k_base.tiktoken: one "base64 rank" line
per token) into a Hugging Face tokenizer.json for GPT-2.

Usage: r50k_to_tokenizer_json.py RANKFILE OUT.json

The vocab maps each token, written in GPT-2's byte-to-unicode form, to its
rank. The merges are derived from the ranks, not copied from anywhere: for
every token of two or more bytes, in rank order, run rank-based BPE on its
bytes using only the tokens of lower rank; that leaves exactly two parts,
and the pair is the token's merge. A token for which BPE does not end in
two parts is an error (the rank file would not be a BPE vocabulary).

The result is the byte-level BPE of GPT-2: ByteLevel pre-tokenizer with
the GPT-2 regex and no prefix space, and <|endoftext|> = 50256 as a
special added token. scripts/tokdeps runs this; tests/tok compares its
encodings with gpt-tokenizer's own r50k encoder.
"""
import base64
import json
import sys

EOT = "<|endoftext|>"
EOT_ID = 50256


def byte_to_unicode():
    """GPT-2's table: printable bytes map to themselves, the rest to 256+n."""
    keep = (list(range(ord("!"), ord("~") + 1)) +
            list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1)))
    table = {}
    n = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def split_by_bpe(token, ranks, limit):
    """Rank-based BPE of token's bytes with the tokens of rank < limit."""
    parts = [token[i:i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, at = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < limit and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        parts[at:at + 2] = [parts[at] + parts[at + 1]]
    return parts


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: r50k_to_tokenizer_json.py RANKFILE OUT\n")
        return 2
    ranks = {}
    with open(argv[1], "rb") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                sys.stderr.write("%s:%d: expected 'base64 rank'\n"
                                 % (argv[1], lineno))
                return 1
            tok, rank = base64.b64decode(fields[0], validate=True), int(fields[1])
            if tok in ranks:
                sys.stderr.write("%s:%d: duplicate token\n" % (argv[1], lineno))
                return 1
            ranks[tok] = rank
    by_rank = sorted(ranks.items(), key=lambda kv: kv[1])
    if [r for _, r in by_rank] != list(range(len(by_rank))):
        sys.stderr.write("%s: ranks are not 0..%d\n" % (argv[1], len(by_rank) - 1))
        return 1
    if len(by_rank) != EOT_ID:
        sys.stderr.write("%s: %d ranks, expected %d\n"
                         % (argv[1], len(by_rank), EOT_ID))
        return 1

    u = byte_to_unicode()

    def uni(b):
        return "".join(u[x] for x in b)

    vocab = {}
    merges = []
    for tok, rank in by_rank:
        vocab[uni(tok)] = rank
        if len(tok) < 2:
            continue
        parts = split_by_bpe(tok, ranks, rank)
        if len(parts) != 2:
            sys.stderr.write("%s: token %r (rank %d) is not a merge of two "
                             "lower-ranked tokens\n" % (argv[1], tok, rank))
            return 1
        merges.append(uni(parts[0]) + " " + uni(parts[1]))
    if len(vocab) != len(by_rank):
        sys.stderr.write("%s: two tokens map to one vocab string\n" % argv[1])
        return 1

    bytelevel = {"type": "ByteLevel", "add_prefix_space": False,
                 "trim_offsets": True, "use_regex": True}
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{
            "id": EOT_ID, "content": EOT, "single_word": False,
            "lstrip": False, "rstrip": False, "normalized": False,
            "special": True,
        }],
        "normalizer": None,
        "pre_tokenizer": bytelevel,
        "post_processor": dict(bytelevel),
        "decoder": dict(bytelevel),
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None,
            "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": False, "vocab": vocab, "merges": merges,
        },
    }
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
