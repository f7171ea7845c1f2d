#!/usr/bin/env python3
"""Draws the search benchmark's query set from a generated corpus, by a fixed rule.

    bench/search_set.py [--ingest BIN] [--seed 42] [--out bench/queries/search-set.tsv] CORPUS...

The corpus is read through `ingest --dry-run` (the releases ingest would load). A word is a
maximal run of ASCII letters, case-folded, of 3 letters or more and not an English stop word
(PostgreSQL's `english` list); a word's frequency is the number of releases whose title or
summary holds it. With N releases, and words drawn with a random generator seeded by `--seed`
from the candidates of each class:

| class    | n  | rule |
|----------|---:|------|
| frequent | 10 | the 10 most frequent words |
| middling | 10 | words in 0.1%–1% of the releases |
| rare     | 10 | words in 2–10 releases |
| two      | 10 | a frequent word and a middling one |
| phrase   |  5 | two consecutive words of a title, in 0.01%–1% of the releases as a pair, quoted |
| exclude  |  5 | a frequent word, minus a middling one (`word -other`) |
| misspelt |  5 | a middling word of 6+ letters with one edit (a swap, a letter dropped, doubled or changed) that is no word of the corpus |
| prefix   |  5 | the first 4–6 letters of a middling word, as typed |

Writes `class<TAB>search text` lines after a header of `#` comments that records the corpus and
the rule. Standard library only; about two minutes at 1,000,000 releases.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter

WORD = re.compile(r"[a-z]+")
# PostgreSQL's share/tsearch_data/english.stop.
STOP = set("""i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did doing a an
the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once
here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now""".split())


def releases(ingest, paths):
    command = [ingest, "--dry-run", *paths]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1 << 20) as proc:
        for line in proc.stdout:
            release = json.loads(line)
            yield release["title"], release.get("summary") or ""
    if proc.returncode:
        sys.exit(f"{' '.join(command)} failed with status {proc.returncode}")


def words_of(text):
    return [w for w in WORD.findall(text.lower()) if len(w) >= 3 and w not in STOP]


def misspell(word, rng, known):
    """One edit of `word` that is not a known word, or None."""
    for _ in range(50):
        at = rng.randrange(1, len(word) - 1)
        kind = rng.choice(["swap", "drop", "double", "change"])
        if kind == "swap":
            candidate = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif kind == "drop":
            candidate = word[:at] + word[at + 1 :]
        elif kind == "double":
            candidate = word[:at] + word[at] + word[at:]
        else:
            letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
            candidate = word[:at] + letter + word[at + 1 :]
        if candidate != word and candidate not in known:
            return candidate
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", default="target/release/ingest")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="bench/queries/search-set.tsv")
    parser.add_argument("corpus", nargs="+")
    args = parser.parse_args()

    frequency, pairs = Counter(), Counter()
    total = 0
    for title, summary in releases(args.ingest, args.corpus):
        total += 1
        frequency.update(set(words_of(title)) | set(words_of(summary)))
        title_words = words_of(title)
        pairs.update({(a, b) for a, b in zip(title_words, title_words[1:])})
    if total == 0:
        sys.exit("the corpus holds no release")
    rng = random.Random(args.seed)

    def among(low, high, n, source=frequency, longer_than=0):
        candidates = sorted(
            w for w, c in source.items()
            if low <= c <= high and (longer_than == 0 or len(w) > longer_than)
        )
        return rng.sample(candidates, min(n, len(candidates)))

    frequent = [w for w, _ in frequency.most_common(10)]
    middling = among(total // 1000, total // 100, 10)
    rare = among(2, 10, 10)
    two = [f"{rng.choice(frequent)} {m}" for m in among(total // 1000, total // 100, 10)]
    phrases = [f'"{a} {b}"' for a, b in among(max(2, total // 10000), total // 100, 5, source=pairs)]
    exclude = [f"{rng.choice(frequent)} -{m}" for m in among(total // 1000, total // 100, 5)]
    misspelt = []
    for word in among(total // 1000, total // 100, 20, longer_than=5):
        wrong = misspell(word, rng, frequency)
        if wrong and len(misspelt) < 5:
            misspelt.append(wrong)
    prefixes = [w[: rng.randint(4, 6)] for w in among(total // 1000, total // 100, 5, longer_than=6)]

    classes = [
        ("frequent", frequent), ("middling", middling), ("rare", rare), ("two", two),
        ("phrase", phrases), ("exclude", exclude), ("misspelt", misspelt), ("prefix", prefixes),
    ]
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(f"# The search benchmark's query set, drawn by bench/search_set.py --seed {args.seed} from\n")
        out.write(f"# {total:,} releases (ingest generate --releases {total} --seed 42 for the committed set).\n")
        out.write("# class<TAB>search text; the rule of each class is in the script's docstring.\n")
        for name, queries in classes:
            for query in queries:
                out.write(f"{name}\t{query}\n")
    for name, queries in classes:
        print(f"{name}: {len(queries)}", file=sys.stderr)


if __name__ == "__main__":
    main()
