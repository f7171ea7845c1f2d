#!/usr/bin/env python3
"""Builds words-en.tsv, the English word list that `ingest generate` draws from.

    pip download --no-deps wordfreq==3.1.1 -d /tmp/words
    cd /tmp/words && apt-get download wamerican wordnet-base && for p in *.deb; do dpkg -x $p .; done
    pip install msgpack
    crates/ingest/data/make-words-en.py /tmp/words/wordfreq-3.1.1-py3-none-any.whl \
        /tmp/words/usr/share/dict/american-english /tmp/words/usr/share/wordnet \
        > crates/ingest/data/words-en.tsv

Keeps the words of wordfreq's large English list (frequencies from Wikipedia, subtitles, news,
books, web text) that are lowercase letters only, are also words of the Debian `wamerican`
dictionary (SCOWL size 50: drops names, slang and typos) and are nouns or adjectives in WordNet
3.0 (Debian `wordnet-base`; a plural counts as its noun), minus the 300 most frequent words of
English (function words, which the generator's patterns supply) and a short list of vulgar words;
most frequent first. Each line: the word; its frequency in centibels below one (wordfreq's own
unit: the word's share of all English words is 10^(-cB/100)); `n` for a noun, `a` for an
adjective (one that WordNet gives at least as many adjective senses as noun senses).
"""

import gzip
import re
import sys
import zipfile

import msgpack

# The most frequent words of English (articles, pronouns, auxiliaries, ...): the sentence patterns
# of the generator supply these.
FUNCTION_WORDS = 300

# Vulgar words and slurs, and the words that begin with these stems: nothing a press release says.
BLOCKED_STEMS = ("fuck", "shit", "cunt", "nigg", "fagg", "whor", "slut", "puss", "asshole",
                 "bitch", "wank", "twat", "dildo", "porn", "boob", "tits")
BLOCKED = {"dick", "dicks", "cock", "cocks", "rape", "raped", "rapes", "rapist", "rapists",
           "raping", "chink", "chinks", "dyke", "dykes", "retard", "retarded", "retards",
           "piss", "pissed", "crap", "crappy", "damn", "damned", "penis", "vagina", "sexy",
           "horny", "butt", "butts", "bastard", "bastards", "hell", "jerk", "screw", "screwed",
           "orgasm", "orgasms", "erotic", "erotica", "masturbation", "nude", "naked", "sperm",
           "semen", "anal", "genital", "genitals", "hooker", "hookers", "stripper", "strippers",
           "boner", "kinky", "incest", "pedophile", "pedophiles", "prostitute", "prostitutes"}


def senses(wordnet: str, pos: str) -> dict:
    """Lemma -> number of synsets, from WordNet's index.noun, index.adj, ..."""
    found = {}
    with open(f"{wordnet}/index.{pos}", encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith(" "):
                fields = line.split()
                found[fields[0]] = int(fields[2])
    return found


def plural_of(word: str, nouns: dict) -> bool:
    if len(word) < 5:
        return False
    if word.endswith("ies") and word[:-3] + "y" in nouns:
        return True
    if word.endswith("es") and word[:-2] in nouns and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return True
    return word.endswith("s") and not word.endswith("ss") and word[:-1] in nouns


def main(wheel: str, dictionary: str, wordnet: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packed = gzip.decompress(archive.read("wordfreq/data/large_en.msgpack.gz"))
    buckets = msgpack.unpackb(packed, raw=False, strict_map_key=False)
    header, buckets = buckets[0], buckets[1:]
    assert header == {"format": "cB", "version": 1}, header
    with open(dictionary, encoding="utf-8") as lines:
        known = {line.strip() for line in lines if re.fullmatch("[a-z]+", line.strip())}
    nouns, adjectives = senses(wordnet, "noun"), senses(wordnet, "adj")
    out = sys.stdout
    rank = 0
    for centibels, words in enumerate(buckets):
        for word in words:
            rank += 1
            if rank <= FUNCTION_WORDS or len(word) < 3:
                continue
            if word not in known or word in BLOCKED or word.startswith(BLOCKED_STEMS):
                continue
            if adjectives.get(word, 0) >= max(nouns.get(word, 0), 1):
                pos = "a"
            elif word in nouns or plural_of(word, nouns):
                pos = "n"
            else:
                continue
            out.write(f"{word}\t{centibels}\t{pos}\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
