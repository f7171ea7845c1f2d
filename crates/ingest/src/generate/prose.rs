//! The words of generated releases. Titles and summaries are written from sentence patterns of
//! press releases whose slots take themes, English words, people, places, organisations,
//! projects and events:
//!
//! - English words come from `data/words-en.tsv` (vendored; see `data/README.md`), drawn with
//!   their frequency in English text, so a few are everywhere and most are rare;
//! - names are composed of parts (pinyin syllables, halves of Mongolian names, stems and endings)
//!   drawn by a Zipf law, so there is no last name: the longer the corpus, the more names it
//!   holds, as in real news (Heaps' law);
//! - lengths follow the seed listings: each title and summary is given a number of words drawn
//!   from the lengths of the seeds' titles and summaries.

use std::collections::HashSet;

use super::Dice;
use super::pools::*;

/// English nouns and adjectives, most frequent first: word, frequency in centibels below one,
/// `n` or `a` (tab-separated; see `data/README.md`).
const WORDS_EN: &str = include_str!("../../data/words-en.tsv");

/// A weighted choice among `len` items in constant time (Vose's alias method, in integers so
/// that draws are the same on every platform).
#[derive(Debug)]
pub(super) struct Alias {
    /// Per item: keep it when the low half of the draw is below the first number (out of 2^32;
    /// items always kept have `u32::MAX` and themselves as the other), else take the second.
    slots: Vec<(u32, u32)>,
}

impl Alias {
    /// `weights` must not be empty, nor all zero; each below 2^40, fewer than 2^20 of them.
    pub(super) fn new(weights: &[u64]) -> Alias {
        let len = weights.len().max(1);
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum::<u128>().max(1);
        let mut scaled: Vec<u128> = weights
            .iter()
            .map(|&w| u128::from(w) * len as u128)
            .collect();
        scaled.resize(len, total);
        let mut slots: Vec<(u32, u32)> = (0..len as u32).map(|i| (u32::MAX, i)).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..len).partition(|&i| scaled[i] < total);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            // Below 2^32, since scaled[s] < total.
            slots[s] = (((scaled[s] << 32) / total) as u32, l as u32);
            scaled[l] = scaled[l] + scaled[s] - total;
            if scaled[l] < total {
                large.pop();
                small.push(l);
            }
        }
        Alias { slots }
    }

    /// Zipf weights over ranks: the item of rank `r` (0-based) weighs `1 / (r + offset)`.
    pub(super) fn zipf(len: usize, offset: u64) -> Alias {
        let weights: Vec<u64> = (0..len as u64)
            .map(|r| (1u64 << 36) / (r + offset))
            .collect();
        Alias::new(&weights)
    }

    pub(super) fn draw(&self, dice: &mut Dice) -> usize {
        let r = dice.next_u64();
        let i = (((r >> 32) * self.slots.len() as u64) >> 32) as usize;
        let (keep, other) = self.slots[i];
        if (r as u32) < keep { i } else { other as usize }
    }
}

/// Strings with weights.
#[derive(Debug)]
pub(super) struct Pool {
    items: Vec<&'static str>,
    alias: Alias,
}

impl Pool {
    /// Ranked items (duplicates dropped), weighted `1 / (rank + offset)`.
    fn zipf(items: &[&'static str], offset: u64, keep: impl Fn(&str) -> bool) -> Pool {
        let mut seen = HashSet::new();
        let items: Vec<&'static str> = items
            .iter()
            .copied()
            .filter(|item| seen.insert(*item) && keep(item))
            .collect();
        let alias = Alias::zipf(items.len(), offset);
        Pool { items, alias }
    }

    fn weighted(items: Vec<(&'static str, u64)>) -> Pool {
        let weights: Vec<u64> = items.iter().map(|&(_, w)| w).collect();
        Pool {
            alias: Alias::new(&weights),
            items: items.into_iter().map(|(item, _)| item).collect(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    fn pick(&self, dice: &mut Dice) -> &'static str {
        self.items
            .get(self.alias.draw(dice))
            .copied()
            .unwrap_or("work")
    }
}

/// Words of `text`, as the parser and search see them (runs of non-whitespace).
pub(super) fn word_count(text: &str) -> usize {
    text.split_ascii_whitespace().count()
}

/// The English words of the vendored list, by part of speech.
struct English {
    nouns: Pool,
    adjectives: Pool,
}

impl English {
    fn build(keep: &impl Fn(&str) -> bool) -> English {
        // 10^(1/100): one centibel. Weights are products of it (exactly rounded multiplications,
        // so the same everywhere), relative to the rarest bucket the list has (800 cB).
        const CENTIBEL: f64 = 1.023_292_992_280_754;
        let mut scale = vec![1.0f64; 801];
        for cb in (0..800).rev() {
            scale[cb] = scale[cb + 1] * CENTIBEL;
        }
        let (mut nouns, mut adjectives) = (Vec::new(), Vec::new());
        for line in WORDS_EN.lines() {
            let mut fields = line.split('\t');
            let (Some(word), Some(cb), Some(pos)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Some(&weight) = cb.parse::<usize>().ok().and_then(|cb| scale.get(cb)) else {
                continue;
            };
            if !keep(word) {
                continue;
            }
            let weight = weight as u64 + 1;
            match pos {
                "a" => adjectives.push((word, weight)),
                _ => nouns.push((word, weight)),
            }
        }
        English {
            nouns: Pool::weighted(nouns),
            adjectives: Pool::weighted(adjectives),
        }
    }
}

/// Everything that generated text draws from.
pub(super) struct Prose {
    english: English,
    themes: Pool,
    syllables: Pool,
    surnames: Pool,
    mongolian_heads: Pool,
    mongolian_tails: Pool,
    foreign_given: Pool,
    foreign_family: Pool,
    family_stems: Pool,
    family_endings: Pool,
    cities: Pool,
    provinces: Pool,
    place_heads: Pool,
    place_tails: Pool,
    national_bodies: Pool,
    local_bodies: Pool,
    industries: Pool,
    company_forms: Pool,
    events: Pool,
    named_events: Pool,
    units: Pool,
    roles: Pool,
    verbs: Pool,
    publications: Pool,
    /// Acronyms the catalogue tags: a made-up project never takes one.
    reserved_acronyms: Vec<String>,
    /// Word counts of the seed titles and summaries: the lengths to aim at.
    pub(super) title_lengths: Vec<usize>,
    pub(super) summary_lengths: Vec<usize>,
}

impl std::fmt::Debug for Prose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prose")
            .field("nouns", &self.english.nouns.len())
            .field("adjectives", &self.english.adjectives.len())
            .finish_non_exhaustive()
    }
}

impl Prose {
    /// `keep` drops any entry that the catalogue would tag (checked once, here).
    pub(super) fn build(
        keep: impl Fn(&str) -> bool,
        reserved_acronyms: Vec<String>,
        title_lengths: Vec<usize>,
        summary_lengths: Vec<usize>,
    ) -> Prose {
        let all = |_: &str| true;
        Prose {
            english: English::build(&keep),
            themes: Pool::zipf(THEMES, 2, &keep),
            syllables: Pool::zipf(SYLLABLES, 3, all),
            surnames: Pool::zipf(SURNAMES, 1, &keep),
            mongolian_heads: Pool::zipf(MONGOLIAN_HEADS, 2, all),
            mongolian_tails: Pool::zipf(MONGOLIAN_TAILS, 2, all),
            foreign_given: Pool::zipf(FOREIGN_GIVEN, 3, &keep),
            foreign_family: Pool::zipf(FOREIGN_FAMILY, 3, &keep),
            family_stems: Pool::zipf(FAMILY_STEMS, 3, all),
            family_endings: Pool::zipf(FAMILY_ENDINGS, 3, all),
            cities: Pool::zipf(CITIES, 1, &keep),
            provinces: Pool::zipf(PROVINCES, 2, &keep),
            place_heads: Pool::zipf(MONGOLIAN_PLACE_HEADS, 2, all),
            place_tails: Pool::zipf(MONGOLIAN_PLACE_TAILS, 2, all),
            national_bodies: Pool::zipf(NATIONAL_BODIES, 2, &keep),
            local_bodies: Pool::zipf(LOCAL_BODIES, 2, &keep),
            industries: Pool::zipf(INDUSTRIES, 2, &keep),
            company_forms: Pool::zipf(COMPANY_FORMS, 2, &keep),
            events: Pool::zipf(EVENTS, 2, &keep),
            named_events: Pool::zipf(NAMED_EVENTS, 2, &keep),
            units: Pool::zipf(UNITS, 2, &keep),
            roles: Pool::zipf(ROLES, 2, &keep),
            verbs: Pool::zipf(VERBS, 2, &keep),
            publications: Pool::zipf(PUBLICATIONS, 2, &keep),
            reserved_acronyms,
            title_lengths,
            summary_lengths,
        }
    }

    /// A made-up name of two or three pinyin syllables (`Huarong`, `Jinxinda`).
    fn compound(&self, dice: &mut Dice, syllables: usize, out: &mut String) {
        let start = out.len();
        for _ in 0..syllables {
            out.push_str(self.syllables.pick(dice));
        }
        capitalise_at(out, start);
    }

    /// A person: `Zhang Xiaoming`, `B. Batbayar`, `Ms. Anna Lindberg`.
    fn person(&self, dice: &mut Dice, out: &mut String) {
        let honorific = match dice.below(10) {
            0 => "Ms. ",
            1 => "Mr. ",
            2 => "Dr. ",
            _ => "",
        };
        out.push_str(honorific);
        match dice.below(100) {
            0..55 => {
                out.push_str(self.surnames.pick(dice));
                out.push(' ');
                let syllables = if dice.per_mille(250) { 1 } else { 2 };
                self.compound(dice, syllables, out);
            }
            55..80 => {
                out.push(char::from(b'A' + dice.below(26) as u8));
                out.push_str(". ");
                out.push_str(self.mongolian_heads.pick(dice));
                out.push_str(self.mongolian_tails.pick(dice));
            }
            _ => {
                out.push_str(self.foreign_given.pick(dice));
                out.push(' ');
                if dice.per_mille(500) {
                    out.push_str(self.foreign_family.pick(dice));
                } else {
                    out.push_str(self.family_stems.pick(dice));
                    out.push_str(self.family_endings.pick(dice));
                }
            }
        }
    }

    /// A city, county, district or soum.
    fn place(&self, dice: &mut Dice, out: &mut String) {
        match dice.below(100) {
            0..65 => out.push_str(self.cities.pick(dice)),
            65..85 => {
                self.compound(dice, 2, out);
                out.push_str(if dice.per_mille(600) {
                    " County"
                } else {
                    " District"
                });
            }
            _ => {
                out.push_str(self.place_heads.pick(dice));
                out.push_str(self.place_tails.pick(dice));
                out.push_str(" soum");
            }
        }
    }

    fn province(&self, dice: &mut Dice, out: &mut String) {
        out.push_str(self.provinces.pick(dice));
    }

    /// An organisation, without an article.
    fn organisation(&self, dice: &mut Dice, out: &mut String) {
        match dice.below(100) {
            0..35 => out.push_str(self.national_bodies.pick(dice)),
            35..65 => {
                if dice.per_mille(500) {
                    self.province(dice, out);
                } else {
                    out.push_str(self.cities.pick(dice));
                }
                out.push(' ');
                out.push_str(self.local_bodies.pick(dice));
            }
            65..90 => {
                let syllables = 2 + dice.below(2) as usize;
                self.compound(dice, syllables, out);
                out.push(' ');
                out.push_str(self.industries.pick(dice));
                out.push(' ');
                out.push_str(self.company_forms.pick(dice));
            }
            _ => {
                let syllables = 2 + dice.below(2) as usize;
                self.compound(dice, syllables, out);
                out.push_str(if dice.per_mille(500) {
                    " Foundation"
                } else {
                    " Social Enterprise"
                });
            }
        }
    }

    /// An English noun phrase of about one or two words: `[adjective] noun`.
    fn english_phrase(&self, dice: &mut Dice, words: usize, out: &mut String) {
        if words >= 2 && dice.per_mille(600) {
            out.push_str(self.english.adjectives.pick(dice));
            out.push(' ');
        }
        out.push_str(self.english.nouns.pick(dice));
    }

    /// A topic of about `words` words (at least one): themes and English noun phrases joined by
    /// `and`, `for`, `of` or `in`.
    fn topic(&self, dice: &mut Dice, words: usize, out: &mut String) {
        let words = words.clamp(1, 12);
        let start = out.len();
        let mut written = 0;
        while written < words {
            if written > 0 {
                out.push_str(match dice.below(6) {
                    0..3 => " and ",
                    3 => " for ",
                    4 => " of ",
                    _ => " in ",
                });
                written += 1;
            }
            let left = words.saturating_sub(written).max(1);
            let before = out.len();
            if dice.per_mille(400) {
                out.push_str(self.themes.pick(dice));
            } else {
                self.english_phrase(dice, left.min(2), out);
            }
            written += word_count(&out[before..]);
        }
        debug_assert!(out.len() > start);
    }

    /// A project's name: `the Green Skills for Rural Youth project`, sometimes with an acronym.
    fn project(&self, dice: &mut Dice, out: &mut String) {
        out.push_str("the ");
        let start = out.len();
        let words = 2 + dice.index(3);
        self.topic(dice, words, out);
        title_case(out, start);
        out.push_str(" project");
        if dice.per_mille(400) {
            let acronym: String = out[start..]
                .split_ascii_whitespace()
                .filter(|w| w.len() > 3)
                .filter_map(|w| w.chars().next())
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_uppercase())
                .collect();
            if acronym.len() >= 2 && !self.reserved_acronyms.contains(&acronym) {
                out.push_str(" (");
                out.push_str(&acronym);
                out.push(')');
            }
        }
    }

    /// An event: `the third Chengdu Job Fair` or `a workshop`.
    fn named_event(&self, dice: &mut Dice, year: i32, out: &mut String) {
        out.push_str("the ");
        match dice.below(3) {
            0 => {
                let ordinal = *dice.pick::<&str>(ORDINALS);
                out.push_str(ordinal);
                out.push(' ');
                self.place(dice, out);
            }
            1 => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("{year} "));
                self.province(dice, out);
            }
            _ => self.compound(dice, 2, out),
        }
        out.push(' ');
        out.push_str(self.named_events.pick(dice));
    }

    /// Writes a title core of about `words` words into `out`; `tail` is scratch space.
    pub(super) fn title(
        &self,
        dice: &mut Dice,
        year: i32,
        words: usize,
        out: &mut String,
        tail: &mut String,
    ) {
        let start = out.len();
        // Everything but the topic first (into `tail` when it follows the topic), then the
        // topic sized to what is left.
        tail.clear();
        let template = dice.below(13);
        match template {
            11 => {
                tail.push(' ');
                tail.push_str(self.events.pick(dice));
                tail.push_str(" in ");
                self.place(dice, tail);
            }
            12 => {
                self.place(dice, out);
                out.push_str(" hosts ");
                tail.push(' ');
                tail.push_str(self.events.pick(dice));
            }
            0 => {
                capitalised(self.events.pick(dice), out);
                out.push_str(" on ");
                tail.push_str(" held in ");
                self.place(dice, tail);
            }
            1 => {
                self.organisation(dice, out);
                out.push_str(" and ");
                self.organisation(dice, out);
                out.push_str(" sign agreement on ");
            }
            2 => {
                let ordinal = *dice.pick::<&str>(ORDINALS);
                capitalised(ordinal, out);
                out.push(' ');
                out.push_str(self.events.pick(dice));
                out.push_str(" on ");
                tail.push_str(" opens in ");
                self.place(dice, tail);
            }
            3 => {
                self.person(dice, out);
                out.push_str(" visits ");
                self.place(dice, out);
                out.push_str(" to discuss ");
            }
            4 => {
                out.push_str("Launch of ");
                self.project(dice, out);
                out.push_str(" on ");
                tail.push_str(" in ");
                self.province(dice, tail);
            }
            5 => {
                out.push_str("New ");
                out.push_str(self.publications.pick(dice));
                out.push_str(" on ");
                tail.push_str(" released in ");
                self.place(dice, tail);
            }
            6 => {
                self.place(dice, out);
                out.push(' ');
                out.push_str(self.events.pick(dice));
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!(" brings together {} ", 12 + dice.below(488)),
                );
                out.push_str(self.units.pick(dice));
                out.push_str(" on ");
            }
            7 => {
                self.organisation(dice, out);
                out.push_str(" hosts ");
                out.push_str(self.events.pick(dice));
                out.push_str(" on ");
            }
            8 => {
                tail.push_str(": ");
                tail.push_str(self.events.pick(dice));
                tail.push_str(" for ");
                tail.push_str(self.units.pick(dice));
                tail.push_str(" in ");
                self.province(dice, tail);
            }
            9 => {
                out.push_str("ILO and ");
                self.organisation(dice, out);
                out.push_str(" discuss ");
            }
            _ => {
                self.named_event(dice, year, out);
                out.push_str(" focuses on ");
            }
        }
        let fixed = word_count(&out[start..]) + word_count(tail);
        self.topic(dice, words.saturating_sub(fixed), out);
        out.push_str(tail);
        capitalise_at(out, start);
    }

    /// Appends one summary sentence of about `words` words; `tail` is scratch space.
    pub(super) fn sentence(
        &self,
        dice: &mut Dice,
        year: i32,
        words: usize,
        out: &mut String,
        tail: &mut String,
    ) {
        let start = out.len();
        tail.clear();
        match dice.below(13) {
            0 => {
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!(
                        "On {} {} {year}, the ",
                        1 + dice.below(28),
                        *dice.pick(MONTHS)
                    ),
                );
                self.organisation(dice, out);
                out.push_str(" and the ");
                self.organisation(dice, out);
                out.push_str(" held a ");
                out.push_str(self.events.pick(dice));
                out.push_str(" on ");
                tail.push_str(" in ");
                self.place(dice, tail);
                tail.push_str(", ");
                self.province(dice, tail);
                tail.push('.');
            }
            1 => {
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!("More than {} ", 10 * (2 + dice.below(60))),
                );
                out.push_str(self.units.pick(dice));
                out.push_str(" from ");
                self.organisation(dice, out);
                out.push_str(" and ");
                self.organisation(dice, out);
                out.push_str(" took part in discussions on ");
                tail.push('.');
            }
            2 => {
                out.push_str("“We will continue to ");
                out.push_str(self.verbs.pick(dice));
                out.push(' ');
                tail.push_str(",” said ");
                self.person(dice, tail);
                tail.push_str(", ");
                tail.push_str(self.roles.pick(dice));
                tail.push(' ');
                self.organisation(dice, tail);
                tail.push('.');
            }
            3 => {
                self.person(dice, out);
                out.push_str(", ");
                out.push_str(self.roles.pick(dice));
                out.push(' ');
                self.organisation(dice, out);
                out.push_str(", presented a ");
                out.push_str(self.publications.pick(dice));
                out.push_str(" on ");
                tail.push('.');
            }
            4 => {
                out.push_str("The project has reached ");
                let _ = std::fmt::Write::write_fmt(out, format_args!("{} ", 20 + dice.below(2000)));
                out.push_str(self.units.pick(dice));
                out.push_str(" in ");
                self.place(dice, out);
                out.push_str(" and ");
                self.place(dice, out);
                out.push_str(" with training on ");
                let _ = std::fmt::Write::write_fmt(
                    tail,
                    format_args!(" since {}.", year - dice.below(4) as i32),
                );
            }
            5 => {
                out.push_str("Participants discussed ");
                let before = out.len();
                self.topic(dice, 2, out);
                out.push_str(", ");
                let used = word_count(&out[before..]);
                self.topic(dice, words.saturating_sub(used + 4) / 2, out);
                out.push_str(" and ");
                tail.push('.');
            }
            6 => {
                out.push_str("The ");
                out.push_str(self.events.pick(dice));
                out.push_str(" was organised by the ");
                self.organisation(dice, out);
                out.push_str(" with support from ");
                self.project(dice, out);
                out.push_str(", which works on ");
                tail.push('.');
            }
            7 => {
                out.push_str("The ");
                out.push_str(self.publications.pick(dice));
                out.push_str(" finds that ");
                tail.push_str(" remains a key challenge for ");
                tail.push_str(self.units.pick(dice));
                tail.push_str(" in ");
                self.province(dice, tail);
                tail.push('.');
            }
            8 => {
                out.push_str("A ");
                out.push_str(self.english.adjectives.pick(dice));
                out.push(' ');
                out.push_str(self.publications.pick(dice));
                out.push_str(" on ");
                tail.push_str(" was also presented by ");
                self.person(dice, tail);
                tail.push_str(" of the ");
                self.organisation(dice, tail);
                tail.push('.');
            }
            9 => {
                self.named_event(dice, year, out);
                capitalise_at(out, start);
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!(" will take place in {} {}", *dice.pick(MONTHS), year + 1),
                );
                out.push_str(" and will focus on ");
                tail.push('.');
            }
            10 => {
                out.push_str("According to the ");
                self.organisation(dice, out);
                out.push_str(", ");
                tail.push_str(" improved in ");
                let _ = std::fmt::Write::write_fmt(tail, format_args!("{} ", 2 + dice.below(40)));
                tail.push_str(if dice.per_mille(500) {
                    "counties of "
                } else {
                    "cities of "
                });
                self.province(dice, tail);
                tail.push_str(" last year.");
            }
            11 => {
                self.person(dice, out);
                out.push_str(" and ");
                self.person(dice, out);
                out.push_str(" shared experiences from ");
                self.place(dice, out);
                out.push_str(" on ");
                tail.push('.');
            }
            _ => {
                self.project(dice, out);
                capitalise_at(out, start);
                let _ = std::fmt::Write::write_fmt(
                    out,
                    format_args!(
                        " will run until {} and covers ",
                        year + 1 + dice.below(4) as i32
                    ),
                );
                tail.push('.');
            }
        }
        let fixed = word_count(&out[start..]) + word_count(tail);
        self.topic(dice, words.saturating_sub(fixed).min(8), out);
        out.push_str(tail);
        capitalise_at(out, start);
    }

    /// A title length: one of the seed titles', at random.
    pub(super) fn title_length(&self, dice: &mut Dice) -> usize {
        self.title_lengths
            .get(dice.index(self.title_lengths.len()))
            .copied()
            .unwrap_or(11)
    }

    /// A summary length: one of the seed summaries', give or take a tenth.
    pub(super) fn summary_length(&self, dice: &mut Dice) -> usize {
        let base = self
            .summary_lengths
            .get(dice.index(self.summary_lengths.len()))
            .copied()
            .unwrap_or(35);
        (base * (90 + dice.below(21) as usize) / 100).max(8)
    }
}

fn capitalised(word: &str, out: &mut String) {
    let start = out.len();
    out.push_str(word);
    capitalise_at(out, start);
}

/// Upper-cases the ASCII letter at byte `at`, if there is one (in place).
fn capitalise_at(out: &mut str, at: usize) {
    if let Some(first) = out.get_mut(at..at + 1) {
        first.make_ascii_uppercase();
    }
}

/// Capitalises every word of `out[from..]` but the small ones (`and`, `of`, …).
fn title_case(out: &mut str, from: usize) {
    let mut at = from;
    while at < out.len() {
        let rest = &out[at..];
        let word_len = rest.find(' ').unwrap_or(rest.len());
        let word = &rest[..word_len];
        if !matches!(word, "and" | "of" | "for" | "in" | "the" | "a" | "on") {
            capitalise_at(out, at);
        }
        at += word_len + 1;
    }
}
