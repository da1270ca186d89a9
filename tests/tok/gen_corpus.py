#!/usr/bin/env python3
"""The tokenizer exactness corpus and the benchmark texts, deterministic.

  gen_corpus.py corpus        the exactness corpus: one JSON string per line
  gen_corpus.py bench MB      about MB megabytes of mixed prose and code,
                              texts of about 1k tokens, one JSON string a line

Everything comes from a fixed seed and the tables below, so two runs (on
any Python 3) print the same bytes. The corpus covers what issue 9 lists:
prose in Latin with diacritics, CJK, Arabic, Devanagari, Cyrillic and more;
emoji with ZWJ sequences, flags, skin tones; source code; runs of spaces,
tabs and newlines, trailing ones too; numbers of every length; contractions
in mixed case; the tokenizers' special tokens written literally; very long
words; the empty string; and tricky Unicode (combining marks, NFC and NFD
forms, U+FFFD, zero-width and bidi marks, other scripts' digits, case
folding traps, characters new in recent Unicode versions). It never
contains lone surrogates: every line is valid UTF-8 once decoded.
"""
import json
import random
import sys

SEED = 20261129

PROSE = {
    "en": "The quick brown fox jumps over the lazy dog. It wasn't the first "
          "time she'd seen the model answer in under 40 ms; they're "
          "measuring latency, throughput and tokens per second again.",
    "fr": "Élodie a reçu où ça déjà été: « Ça coûte 12,50 € ! » L'œuvre "
          "naïve du garçon façonné plaît à l'hôtel d'été.",
    "de": "Größere Äpfel schmecken süß, sagte der Bäcker in Düsseldorf. "
          "Die Straße heißt Übermorgen-Weg; Maßstäbe ändern sich.",
    "es": "¿Dónde está el niño? ¡Mañana comeremos jalapeños en Cádiz con "
          "la señora Muñoz!",
    "pt": "A comunicação não é só informação: é ação, coração e razão.",
    "pl": "Zażółć gęślą jaźń. Źdźbło trawy łączy się z chrząszczem.",
    "cs": "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "vi": "Tiếng Việt có dấu: Người ta nói rằng học tập là suốt đời.",
    "tr": "Işık ılık, İstanbul'da ağaçlar şöyle görünür; çok güzel.",
    "is": "Þú ert ótrúlega góð, sagði Ásgeir við Þórð í Reykjavík.",
    "ro": "Știința și țara își împart același destin.",
    "zh": "机器学习模型的延迟和吞吐量是衡量系统性能的重要指标。我们今天测试了新的分词器。",
    "zh_tw": "繁體中文的處理需要特別注意，例如「臺灣」與「台灣」。",
    "ja": "東京で新しいモデルを評価しました。ひらがなとカタカナ、そして漢字が混ざっています。",
    "ko": "안녕하세요. 토크나이저의 정확성을 검증하는 중입니다. 한국어 문장입니다.",
    "ar": "مرحبا بالعالم. هذا نص عربي لاختبار المحلل، مع أرقام ١٢٣ وعلامات ترقيم؟",
    "fa": "این یک متن فارسی است که با نیم‌فاصله نوشته شده است.",
    "he": "שלום עולם! זהו טקסט בעברית עם ניקוד: שָׁלוֹם.",
    "hi": "नमस्ते दुनिया। यह हिंदी में एक वाक्य है, जिसमें संख्याएँ १२३ भी हैं।",
    "mr": "मराठी भाषा सुंदर आहे; क्षत्रिय, ज्ञान आणि श्रद्धा.",
    "bn": "আমি বাংলায় গান গাই। এটি একটি পরীক্ষা।",
    "ta": "தமிழ் ஒரு பழமையான மொழி ஆகும்.",
    "th": "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ ซึ่งทำให้การตัดคำยาก",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "uk": "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів!",
    "bg": "Жълтата дюля беше щастлива, че пухът, който цъфна, замръзна.",
    "el": "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε!",
    "hy": "Բարեւ աշխարհ, սա հայերեն տեքստ է։",
    "ka": "გამარჯობა მსოფლიო, ეს ქართული ტექსტია.",
    "am": "ሰላም ለዓለም፤ ይህ የአማርኛ ጽሑፍ ነው።",
}

WORDS_EN = (
    "the of and to in is that for it as was with be by on not he this are "
    "or his from at which but have an they you were her she there been one "
    "all we their has would when if so no will more can out up what about "
    "into them some could him time only new these two may then do first "
    "any my now such like our over man me even most made after also did "
    "many before must through back years where much your way well down "
    "should because each just those people how too little state good very "
    "make world still own see men work long get here between both life "
    "being under never day same another know while last might us great old "
    "year off come since against go came right used take three model token "
    "latency benchmark server request response stream throughput metric "
    "memory kernel thread queue buffer window vector matrix tensor layer "
    "attention decoder encoder prompt completion sample session error "
    "retry timeout cache shard replica cluster node socket frame packet"
).split()

CODE = [
    'int main(int argc, char **argv)\n{\n\tif (argc < 2) {\n\t\tfprintf(stderr, "usage: %s FILE\\n", argv[0]);\n\t\treturn 2;\n\t}\n\treturn 0;\n}\n',
    'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
    'const xs = [1, 2, 3].map((x) => x * 2);\nconsole.log(`doubled: ${xs.join(", ")}`);\n',
    'fn parse(s: &str) -> Result<u64, std::num::ParseIntError> {\n    s.trim().parse::<u64>()\n}\n',
    '#!/bin/sh\nset -eu\nfor f in "$@"; do\n  [ -f "$f" ] || continue\n  wc -l -- "$f"\ndone\n',
    '{"event_type": "sample.complete", "timestamp_ns": 1234567890, "data": {"output": ["Hello", " world"]}}',
    '<!DOCTYPE html>\n<html lang="en">\n  <body class="main">\n    <p>Hello &amp; welcome</p>\n  </body>\n</html>\n',
    'SELECT id, name, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE n > 10 GROUP BY id;\n',
    'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello, 世界")\n}\n',
    'template <typename T>\nstd::vector<T> twice(const std::vector<T>& v) {\n    std::vector<T> r; r.reserve(v.size() * 2);\n    for (auto& x : v) { r.push_back(x); r.push_back(x); }\n    return r;\n}\n',
    '    if (x != NULL && x->next == y) x->refcount += 1;   // trailing spaces   \n',
    'a = {"k": [1, 2.5, -3e10, true, null], \'s\': r"\\d+\\s*"}\nprint(f"{a!r:>20}")\n',
    '%define api.pure full\n%%\nexpr: expr \'+\' term { $$ = $1 + $3; } | term ;\n%%\n',
    '\\begin{equation}\n  E = mc^2 \\quad \\forall x \\in \\mathbb{R}\n\\end{equation}\n',
    'diff --git a/x.c b/x.c\n@@ -1,3 +1,3 @@\n-\tint n = 0;\n+\tsize_t n = 0;\n',
]

EMOJI = [
    "😀", "🙂", "🔥", "🚀", "❤️", "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿",
    "👨‍👩‍👧‍👦", "👩‍💻", "👩🏽‍💻", "🧑🏿‍🚀", "👨‍❤️‍💋‍👨", "🏳️‍🌈", "🏴‍☠️",
    "🇫🇷", "🇯🇵", "🇺🇸", "🇮🇳", "🇧🇷", "🇺🇦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "©️", "™️",
    "🫠", "🥲", "🤌🏽", "🧔‍♀️", "🐈‍⬛", "😶‍🌫️", "❤️‍🔥", "🫱🏻‍🫲🏿",
]

# Every tokenizer's real special and added tokens, and near misses.
SPECIALS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>",
    "<|finetune_right_pad_id|>", "<|reserved_special_token_0|>",
    "<|reserved_special_token_247|>", "<|endoftext|>", "<|im_start|>",
    "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|file_sep|>", "<think>", "</think>", "<tool_response>",
    "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
    "<｜Assistant｜>", "<|EOT|>", "<｜fim▁hole｜>", "<｜tool▁sep｜>",
    "<｜▁pad▁｜>", "<｜place▁holder▁no▁7｜>", "<s>", "</s>", "<unk>",
]
NEAR_MISSES = [
    "<|begin_of_text|", "|begin_of_text|>", "<|BEGIN_OF_TEXT|>",
    "< s>", "<s >", "<<s>>", "<//s>", "<|im_start|<|im_start|>",
    "<|endoftext|><|endoftext|>", "<think></think>", "<｜User｜ >",
    "<|reserved_special_token_999|>", "<|eot_id", "<|EOT|",
]

TRICKY = [
    "e\u0301", "\u00e9", "Cafe\u0301 vs Caf\u00e9", "n\u0303o", "\u1100\u1161\u11a8",
    "\u212b ngstr\u00f6m \u00c5 A\u030a", "\ufb01ne \ufb02ow", "\u1e9b\u0323",
    "x\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
    "\ufffd", "a\ufffdb\ufffd\ufffd", "\u200b", "zero\u200bwidth\u200cjoin\u200dx",
    "\ufeffBOM at start", "\u200fRTL mark\u200e LTR", "\u202eright-to-left override\u202c",
    "\u2066isolate\u2069", "\u00a0nbsp\u00a0", "\u3000ideographic\u3000space",
    "line\u2028sep\u2029para", "nel\u0085here", "\u1680ogham", "\u180emongolian",
    "\u2009thin\u200ahair", "\u0000nul", "ctl\u0001\u0007\u001b[0m\u007f",
    "\ue000\uf8ff private", "\uffff\ufffe nonchars", "\U0001d400\U0001d41a math",
    "\U00020000\U0002a6d6 ext-b", "\U00031350 ext-h", "\U00011f04\U00011f05 kawi",
    "\U0001e4d0\U0001e4d1 nag mundari", "\U0001f6dc wireless", "\U0001fae8 shaking",
    "\u0663\u0664\u0665 arabic digits", "\u0967\u0968\u0969 devanagari digits",
    "\uff11\uff12\uff13\uff14 fullwidth", "x\u00b2+y\u00b3=z\u00b9", "\u00bd\u00bc\u2153",
    "\u2160\u2161\u216b roman", "\u2460\u2461\u2462 circled", "\U0001d7ce\U0001d7cf bold digits",
    "it'\u017f", "IT'\u017f'\u017f", "\u212aelvin", "stra\u00dfe STRASSE", "\u0130stanbul \u0131",
    "\u03a3\u03c3\u03c2", "don\u2019t won\u2019t", "\u02bcokina", "\u0bb8\u0bcd\u0bb0\u0bc0",
    "\u0915\u094d\u0937", "\u0644\u0627 \ufefb", "\u064a\u064e\u0651", "\u0e01\u0e34\u0e48",
    "\u1f00\u0345", "\u0041\u030a\u0301", "\u00c5\u0301", "\u0958", "\u2126\u03a9",
    "\uac00\u11a8 \u1100\u1161\u11a8", "\u0fb2\u0f80", "\u0f77",
]

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
SUBJECTS = ["it", "he", "she", "we", "they", "you", "I", "that", "there",
            "John", "o", "rock'n'roll"]


def mixcase(rng, s):
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in s)


def prose(rng, n):
    keys = sorted(PROSE)
    return " ".join(PROSE[rng.choice(keys)] for _ in range(n))


def english(rng, nwords):
    out = []
    cap = True
    for i in range(nwords):
        w = rng.choice(WORDS_EN)
        if cap:
            w = w.capitalize()
            cap = False
        out.append(w)
        r = rng.random()
        if r < 0.06:
            out[-1] += "."
            cap = True
        elif r < 0.10:
            out[-1] += ","
        elif r < 0.11:
            out[-1] += rng.choice(["'s", "'ll", "n't", "'re"])
        elif r < 0.13:
            out.append(str(rng.randrange(0, 10 ** rng.randrange(1, 7))))
        elif r < 0.135:
            out[-1] += "\n\n"
            cap = True
    return " ".join(out).replace("\n\n ", "\n\n")


def whitespace(rng):
    pieces = [" ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", "   ", "\t\t",
              "\u00a0", "\u3000", " \n", "\n "]
    s = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
    form = rng.randrange(5)
    if form == 0:
        return s
    if form == 1:
        return "word" + s
    if form == 2:
        return s + "word"
    if form == 3:
        return "a" + s + "b" + s
    return "line one" + s + "line two" + s + "}" + s


def number(rng, length):
    d = "".join(rng.choice("0123456789") for _ in range(length))
    form = rng.randrange(8)
    if form == 0:
        return d
    if form == 1:
        return " " + d
    if form == 2:
        return "x" + d + "y"
    if form == 3:
        return "-" + d + "." + d[::-1]
    if form == 4:
        return "{:,}".format(int(d))
    if form == 5:
        return "v" + ".".join(d[i:i + 2] for i in range(0, len(d), 2))
    if form == 6:
        return d + "%" + " " + d + "ms"
    return "0x" + d + " 1e" + d[:3]


def contraction(rng):
    parts = []
    for _ in range(rng.randrange(1, 5)):
        parts.append(mixcase(rng, rng.choice(SUBJECTS)) +
                     mixcase(rng, rng.choice(CONTRACTIONS)))
    s = " ".join(parts)
    if rng.random() < 0.3:
        s = mixcase(rng, rng.choice(CONTRACTIONS)) + " " + s
    if rng.random() < 0.2:
        s = s.replace("'", "\u2019")
    return s


def special(rng):
    toks = SPECIALS + NEAR_MISSES
    out = []
    for _ in range(rng.randrange(1, 5)):
        out.append(rng.choice(toks))
        out.append(rng.choice(["", " ", "  ", "\n", "Hello", " world ",
                               "user\n", "x", "\u00e9", "你好"]))
    return "".join(out)


def code(rng):
    s = rng.choice(CODE)
    if rng.random() < 0.3:
        s = s.replace("\t", "    ")
    if rng.random() < 0.2:
        s = s.replace("\n", "\r\n")
    if rng.random() < 0.3:
        s += rng.choice(CODE)
    return s


def long_words():
    rng = random.Random(SEED + 1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "a" * 10000,
        "ab" * 5000,
        "".join(rng.choice(letters) for _ in range(10000)),
        "Supercalifragilistic" * 500,
        "9" * 10000,
        " " * 10000,
        "\n" * 3000,
        "\u4e00\u4e8c\u4e09" * 1700,
        "\U0001f600" * 2500,
        "\u00e9" * 5000,
        "e\u0301" * 3000,
        "https://example.com/" + "/".join("seg%d" % i for i in range(1200)),
        "".join(rng.choice(letters + letters.upper() + "0123456789+/") for _ in range(10000)),
        "\u0905" * 4000,
    ]


def corpus():
    rng = random.Random(SEED)
    out = ["", " ", "\n", "a", "A", "'s", "'S", "  \n", "\t", "\r\n"]
    out += [chr(c) for c in range(0x20, 0x7f)]
    out += list(PROSE.values())
    out += EMOJI + SPECIALS + NEAR_MISSES + TRICKY
    out += long_words()
    for _ in range(250):
        out.append(prose(rng, rng.randrange(1, 4)))
    for _ in range(250):
        out.append(english(rng, rng.randrange(1, 120)))
    for _ in range(150):
        out.append(" ".join(rng.choice(EMOJI) for _ in range(rng.randrange(1, 6))) +
                   rng.choice(["", " ok", "!", "\n", "\u200d", "🏻"]))
    for _ in range(200):
        out.append(code(rng))
    for _ in range(200):
        out.append(whitespace(rng))
    for length in range(1, 81):
        for _ in range(2):
            out.append(number(rng, length))
    for _ in range(150):
        out.append(contraction(rng))
    for _ in range(150):
        out.append(special(rng))
    for _ in range(150):
        t = rng.choice(TRICKY)
        out.append(rng.choice(["", "word ", " ", "A"]) + t +
                   rng.choice(["", " word", ".", "\n"]))
    # Mixtures: pieces of everything, glued without separators or with.
    makers = [lambda: prose(rng, 1), lambda: english(rng, 8),
              lambda: code(rng), lambda: whitespace(rng),
              lambda: number(rng, rng.randrange(1, 20)),
              lambda: contraction(rng), lambda: special(rng),
              lambda: rng.choice(TRICKY), lambda: rng.choice(EMOJI)]
    for _ in range(400):
        k = rng.randrange(2, 6)
        sep = rng.choice(["", " ", "\n"])
        out.append(sep.join(rng.choice(makers)() for _ in range(k)))
    # What the exactness test relies on, checked where it is made.
    assert len(out) >= 2000, len(out)
    assert "" in out and max(len(t) for t in out) >= 10000
    for t in SPECIALS + EMOJI + TRICKY:
        assert t in out, t
    for t in out:
        t.encode("utf-8")       # no lone surrogates
    return out


def bench(mb):
    rng = random.Random(SEED + 2)
    budget = int(mb * 1000 * 1000)
    out = []
    while budget > 0:
        r = rng.random()
        if r < 0.55:
            t = english(rng, rng.randrange(800, 1300))
        elif r < 0.8:
            t = "".join(code(rng) for _ in range(rng.randrange(10, 18)))
        else:
            t = prose(rng, rng.randrange(10, 24))
        out.append(t)
        budget -= len(t.encode("utf-8"))
    return out


def main(argv):
    if len(argv) == 2 and argv[1] == "corpus":
        texts = corpus()
    elif len(argv) == 3 and argv[1] == "bench":
        texts = bench(float(argv[2]))
    else:
        sys.stderr.write("usage: gen_corpus.py corpus | bench MB\n")
        return 2
    w = sys.stdout.buffer
    esc = random.Random(SEED + 3)
    for t in texts:
        # Most lines carry raw UTF-8, some only \\u escapes (surrogate
        # pairs for astral characters): both are JSON strings.
        ascii_only = esc.random() < 0.15
        w.write(json.dumps(t, ensure_ascii=ascii_only).encode("utf-8") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
