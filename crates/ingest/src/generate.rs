//! Writes synthetic press-release listings in the seed format, for load and performance tests:
//! titles and summaries are written from press-release patterns filled with themes, English
//! words, people, places, organisations, projects and events (`prose`), with the lengths of the
//! embedded seed listings and some of their sentences and headlines; catalogue aliases (plus
//! near-misses) appear at set rates. The same options give byte-identical files.

mod pools;
mod prose;

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufWriter, Write as _};
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use chrono::{Datelike, NaiveDate};
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};

use crate::catalogue::{Catalogue, CatalogueError};
use crate::parse::{ParseError, ParsedRelease, parse_listing};
use crate::tag::{TagError, Tagger};

/// Releases per listing file unless told otherwise.
pub const DEFAULT_RELEASES_PER_FILE: u64 = 50_000;

/// The vocabulary, embedded so that the output does not depend on the working directory (and
/// changes only when the seeds do).
const SEED_LISTINGS: [(&str, &str); 2] = [
    (
        "seeds/ilo-beijing-press-releases-2016-2017.txt",
        include_str!("../../../seeds/ilo-beijing-press-releases-2016-2017.txt"),
    ),
    (
        "seeds/ilo-beijing-press-releases-2020-2021.txt",
        include_str!("../../../seeds/ilo-beijing-press-releases-2020-2021.txt"),
    ),
];
const SEED_CATALOGUE: (&str, &str) = (
    "seeds/catalogue.toml",
    include_str!("../../../seeds/catalogue.toml"),
);

/// Heading line, introduction, and the two blank lines before the first item, as in the seeds.
const PREAMBLE: &str = "News and press releases\n\nThis is a list of official ILO press releases, \
    including those related to ILO activities in China and Mongolia. The most recent release can \
    be found on top.\n\n";

/// Dates run over these years; each file has days of its own, so there are at most as many
/// files as days.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2026;

/// Items per numbered section; a new year also starts a section, as in the seeds.
const SECTION_LEN: u32 = 20;

// Rates, in releases per thousand.
const NO_SUMMARY: u32 = 150;
const CREDIT: u32 = 100;
const ONE_PROGRAMME: u32 = 300;
const TWO_PROGRAMMES: u32 = 50;
const OFFICE: u32 = 100;
const NEAR_MISS: u32 = 100;
/// Share of releases dated like the release listed just before them (busy days).
const SAME_DAY: u32 = 200;
/// Share of mentions placed in the summary (when there is one) rather than the title.
const MENTION_IN_SUMMARY: u32 = 600;
/// Share of titles spliced from the seed headlines (the others are written by `prose`).
const SEED_TITLE: u32 = 150;
/// Share of summary sentences taken from the seed summaries.
const SEED_SENTENCE: u32 = 150;
/// Draws of a title for a day that already has it, before a number is added.
const TITLE_RETRIES: usize = 8;

/// Length in words of a title spliced from the seed headlines.
const MIN_TITLE_WORDS: usize = 4;
const MAX_TITLE_WORDS: usize = 10;
const HARD_MAX_TITLE_WORDS: usize = 18;

/// Sentences that sit next to a catalogue alias without being one: lowercase "score", bare
/// "collective bargaining", another ministry's Director-General, … Any that the catalogue does
/// tag is dropped when the vocabulary is built, so they never count as mentions.
const NEAR_MISSES: &[&str] = &[
    "Enterprises that score well in the assessment will receive follow-up visits.",
    "Each participating factory received a score for workplace cooperation.",
    "Participants discussed collective bargaining practices in their provinces.",
    "The Director-General of the provincial department opened the meeting.",
    "Mongolia's own decent work country programme was also presented.",
    "Speakers compared recent experiences from Latin America and Africa.",
    "A toolkit on quality apprenticeship was translated into Chinese.",
    "Delegates from Central Asia attended as observers.",
    "The new health and safety score card was tested in three hospitals.",
    "Experts from headquarters of the national federation joined online.",
];

/// A programme alias goes between the two halves.
const PROGRAMME_SENTENCES: &[(&str, &str)] = &[
    ("The activity is part of the ", " project."),
    ("It was organised under ", "."),
    (
        "Participants reviewed the progress of ",
        " and agreed on the next steps.",
    ),
    ("The training materials were developed by ", "."),
];
/// An office alias goes between the two halves.
const OFFICE_SENTENCES: &[(&str, &str)] = &[
    ("The meeting also drew on experience from ", "."),
    ("Contributions were received from ", "."),
    ("The results will be shared with ", "."),
];

/// What to generate, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of releases in all, at least 1.
    pub releases: u64,
    /// Seed of the random stream; together with the other options it fixes every byte.
    pub seed: u64,
    /// Folder for `generated-0001.txt`, …; created if missing.
    pub out: PathBuf,
    /// Most releases per listing file, at least 1.
    pub releases_per_file: u64,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateReport {
    pub releases: u64,
    /// The listing files, newest releases first.
    pub files: Vec<PathBuf>,
    /// Total size of the files.
    pub bytes: u64,
    pub out: PathBuf,
}

impl fmt::Display for GenerateReport {
    /// `1000000 releases in 20 files (312.4 MB) written to /tmp/gen` (1 MB = 10^6 bytes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files = self.files.len();
        write!(
            f,
            "{} releases in {files} {} ({:.1} MB) written to {}",
            self.releases,
            if files == 1 { "file" } else { "files" },
            self.bytes as f64 / 1e6,
            self.out.display()
        )
    }
}

/// Why a corpus could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("nothing to generate: the number of releases must be at least 1")]
    NoReleases,
    #[error("the number of releases per file must be at least 1")]
    NoReleasesPerFile,
    #[error(
        "{files} files are too many: each file covers days of its own, and {FIRST_YEAR}-{LAST_YEAR} \
         has {days} days; allow more releases per file"
    )]
    TooManyFiles { files: u64, days: u64 },
    #[error("cannot create {}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot read the folder {}", path.display())]
    ReadDir { path: PathBuf, source: io::Error },
    #[error("cannot write {}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot remove the stale listing {}", path.display())]
    RemoveStale { path: PathBuf, source: io::Error },
    /// The embedded seed listings do not parse (a build problem, not a user error).
    #[error("embedded vocabulary")]
    Vocabulary(#[from] ParseError),
    #[error("embedded catalogue")]
    Catalogue(#[from] CatalogueError),
    #[error("embedded catalogue: invalid alias")]
    Tagger(#[from] TagError),
}

/// Writes `options.releases` releases into `generated-0001.txt`, … under `options.out`, at most
/// `options.releases_per_file` per file, and removes `generated-NNNN.txt` files left there by an
/// earlier, larger run (so that the folder is exactly the corpus).
///
/// Determinism: file `i` (0-based) draws from a ChaCha8 stream (`rand::rngs::ChaCha8Rng`, whose
/// output is fixed by the algorithm) keyed by `seed` and `i` in little-endian followed by a fixed
/// tag; every range is drawn by multiplying one `u32` by the range's length (no rejection), so
/// the bytes depend only on the options and the embedded seeds. Files are written in parallel.
///
/// Dates run newest first over 2000-01-01..=2026-12-31, each file covering its proportional
/// slice of that range (at least one day, and no day is in two files); a fifth of the releases
/// share the previous release's day.
///
/// No two releases have the same date and title (the release id): a day's releases are all in
/// one file, written one after the other, and each title is checked against the titles the day
/// already has (64-bit hashes of `model::normalise_title`, the normalisation of the release id;
/// a hash that is taken means the title is drawn again, even when only the hashes agree). After
/// `TITLE_RETRIES` draws the title gets ` (2)`, ` (3)`, … until one is free.
pub fn generate(options: &GenerateOptions) -> Result<GenerateReport, GenerateError> {
    if options.releases == 0 {
        return Err(GenerateError::NoReleases);
    }
    if options.releases_per_file == 0 {
        return Err(GenerateError::NoReleasesPerFile);
    }
    let file_count = options.releases.div_ceil(options.releases_per_file);
    let vocabulary = Vocabulary::build()?;
    let days = vocabulary.days.len() as u64;
    if file_count > days {
        return Err(GenerateError::TooManyFiles {
            files: file_count,
            days,
        });
    }

    fs::create_dir_all(&options.out).map_err(|source| GenerateError::CreateDir {
        path: options.out.clone(),
        source,
    })?;
    // Zero-padded so that name order is release order (`find_listings` sorts by name).
    let width = file_count.to_string().len().max(4);
    let paths: Vec<PathBuf> = (1..=file_count)
        .map(|n| options.out.join(format!("generated-{n:0width$}.txt")))
        .collect();

    let plan = Plan {
        releases: options.releases,
        per_file: options.releases_per_file,
        seed: options.seed,
    };
    let bytes = write_all_files(&vocabulary, &plan, &paths)?;
    remove_stale(&options.out, &paths)?;
    Ok(GenerateReport {
        releases: options.releases,
        files: paths,
        bytes,
        out: options.out.clone(),
    })
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    releases: u64,
    per_file: u64,
    seed: u64,
}

/// Hands files out to one thread per core; returns the total size written.
fn write_all_files(
    vocabulary: &Vocabulary,
    plan: &Plan,
    paths: &[PathBuf],
) -> Result<u64, GenerateError> {
    let threads = thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(paths.len());
    let next = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let worker = || -> Result<u64, GenerateError> {
        let mut bytes = 0;
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = usize::try_from(index).ok().and_then(|i| paths.get(i)) else {
                break;
            };
            match write_listing(vocabulary, plan, index, path) {
                Ok(written) => bytes += written,
                Err(source) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(GenerateError::Write {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        Ok(bytes)
    };
    let results: Vec<Result<u64, GenerateError>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.into_iter().sum()
}

/// Removes `generated-<digits>.txt` files in `out` that this run did not write.
fn remove_stale(out: &Path, written: &[PathBuf]) -> Result<(), GenerateError> {
    let read_error = |source| GenerateError::ReadDir {
        path: out.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(out).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let stale = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_prefix("generated-"))
            .and_then(|rest| rest.strip_suffix(".txt"))
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        if stale && path.is_file() && !written.contains(&path) {
            fs::remove_file(&path).map_err(|source| GenerateError::RemoveStale {
                path: path.clone(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Writes file `index` (0-based) of the corpus; returns its size.
fn write_listing(vocabulary: &Vocabulary, plan: &Plan, index: u64, path: &Path) -> io::Result<u64> {
    let mut dice = Dice::for_file(plan.seed, index);
    let dates = file_dates(&mut dice, plan, index, vocabulary.days.len());

    let file = File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(PREAMBLE.as_bytes())?;
    let mut draft = Draft::default();
    let mut number = 0;
    let mut previous_year = None;
    let mut previous_day = None;
    let mut day_titles: HashSet<u64> = HashSet::new();
    for day_index in dates {
        let day = &vocabulary.days[day_index];
        if number > 0 && (number == SECTION_LEN || previous_year != Some(day.year)) {
            out.write_all(b"\n")?;
            number = 0;
        }
        number += 1;
        previous_year = Some(day.year);
        if previous_day != Some(day_index) {
            day_titles.clear();
            previous_day = Some(day_index);
        }
        vocabulary.draft(&mut dice, day.year, &mut draft);
        vocabulary.make_title_unique(&mut dice, day.year, &mut draft, &mut day_titles);

        write!(out, "\n  {number}. ")?;
        if draft.has_credit {
            out.write_all(draft.credit.as_bytes())?;
            out.write_all(b"\n\n    ")?;
        }
        out.write_all(draft.title.as_bytes())?;
        out.write_all(b"\n\n    ")?;
        out.write_all(day.text.as_bytes())?;
        out.write_all(b"\n")?;
        if draft.has_summary {
            out.write_all(b"\n    ")?;
            out.write_all(draft.summary.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(file.metadata()?.len())
}

/// Day indexes (into `Vocabulary::days`) of the file's releases, newest first. File `index`
/// covers its proportional slice of the date range, so the files together run newest first.
fn file_dates(dice: &mut Dice, plan: &Plan, index: u64, days: usize) -> Vec<usize> {
    let days = days as u128;
    let start = index * plan.per_file;
    let count = plan.per_file.min(plan.releases - start);
    let end = start + count;
    // Days back from the last day, [from, to).
    let from = u128::from(start) * days / u128::from(plan.releases);
    let to = (u128::from(end) * days / u128::from(plan.releases)).max(from + 1);
    let (from, span) = (from as u32, (to - from) as u32);
    let mut back: Vec<u32> = (0..count).map(|_| from + dice.below(span)).collect();
    back.sort_unstable();
    for i in 1..back.len() {
        if dice.per_mille(SAME_DAY) {
            back[i] = back[i - 1];
        }
    }
    let last = days as usize - 1;
    back.into_iter().map(|b| last - b as usize).collect()
}

/// The file's random stream, with the few ways this module draws from it.
#[derive(Debug)]
struct Dice(ChaCha8Rng);

impl Dice {
    fn for_file(seed: u64, file: u64) -> Dice {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&file.to_le_bytes());
        key[16..].copy_from_slice(b"ilo-archive/gen1");
        Dice(ChaCha8Rng::from_seed(key))
    }

    /// Uniform in `0..n` (up to a bias of n / 2^32), for `n >= 1`.
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n)) >> 32) as u32
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u32) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    fn per_mille(&mut self, rate: u32) -> bool {
        self.below(1000) < rate
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A part of a summary, in order.
#[derive(Debug, Clone, Copy)]
enum Piece<'v> {
    Sentence(&'v str),
    /// `Draft::written[start..end]`.
    Written(usize, usize),
    Programme(usize, &'v str),
    Office(usize, &'v str),
}

impl Piece<'_> {
    /// Its words, for the pieces that are not written yet.
    fn words(&self) -> usize {
        match *self {
            Piece::Sentence(text) => prose::word_count(text),
            Piece::Written(..) => 0,
            Piece::Programme(template, alias) => {
                let (before, after) = PROGRAMME_SENTENCES[template];
                prose::word_count(before) + prose::word_count(alias) + prose::word_count(after)
            }
            Piece::Office(template, alias) => {
                let (before, after) = OFFICE_SENTENCES[template];
                prose::word_count(before) + prose::word_count(alias) + prose::word_count(after)
            }
        }
    }
}

/// One release being composed; its buffers are reused from release to release.
#[derive(Debug, Default)]
struct Draft<'v> {
    title: String,
    summary: String,
    credit: String,
    has_summary: bool,
    has_credit: bool,
    pieces: Vec<Piece<'v>>,
    /// Mentions and near-misses, placed among the pieces once they are written.
    extras: Vec<Piece<'v>>,
    /// The sentences written by `prose`, one after the other.
    written: String,
    title_prefix: Option<&'v str>,
    title_suffix: Vec<&'v str>,
    /// For the normalised title.
    scratch: String,
    /// For the part of a pattern that follows its topic.
    tail: String,
}

#[derive(Debug)]
struct Day {
    /// As listed: `07 June 2021`.
    text: String,
    year: i32,
}

/// Everything the generator draws from, built once from the embedded seeds and catalogue.
#[derive(Debug)]
struct Vocabulary {
    titles: Chain,
    /// Per seed summary, its sentences that mention no programme and no office but the
    /// publisher (summaries left without any are dropped).
    summaries: Vec<Vec<String>>,
    near_misses: Vec<&'static str>,
    /// Per programme, its aliases and acronym.
    programmes: Vec<Vec<String>>,
    /// Per office other than the publisher, its aliases and acronym.
    offices: Vec<Vec<String>>,
    /// `T.Aljibe` of `© T.Aljibe / AFP 2023`.
    photographers: Vec<String>,
    /// `AFP` of the same, and single owners such as `ILO`.
    agencies: Vec<String>,
    /// Every day of 2000-01-01..=2026-12-31, oldest first.
    days: Vec<Day>,
    prose: prose::Prose,
}

impl Vocabulary {
    fn build() -> Result<Vocabulary, GenerateError> {
        let catalogue = Catalogue::from_toml_str(SEED_CATALOGUE.1, Path::new(SEED_CATALOGUE.0))?;
        let tagger = Tagger::new(&catalogue)?;
        let publisher = catalogue.listings.default_office.as_str();
        let untagged = |text: &str| {
            let tags = tagger.tag_release(text, None, publisher);
            tags.programmes.is_empty() && tags.offices.iter().all(|tag| tag.slug == publisher)
        };

        let mut releases: Vec<ParsedRelease> = Vec::new();
        for (name, text) in SEED_LISTINGS {
            releases.extend(parse_listing(Path::new(name), text.as_bytes())?);
        }

        let titles = Chain::build(
            releases
                .iter()
                .map(|release| release.title.as_str())
                .filter(|title| {
                    untagged(title) && !starts_like_item(title) && balanced_quotes(title)
                }),
        );
        let summaries: Vec<Vec<String>> = releases
            .iter()
            .filter_map(|release| release.summary.as_deref())
            .map(|summary| {
                sentences(summary)
                    .into_iter()
                    .filter(|sentence| {
                        sentence.split_whitespace().count() >= 4
                            && !starts_like_item(sentence)
                            && balanced_quotes(sentence)
                            && untagged(sentence)
                    })
                    .map(|sentence| {
                        let mut sentence = sentence.to_owned();
                        if !sentence.ends_with(['.', '!', '?', '"', '”']) {
                            sentence.push('.');
                        }
                        sentence
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|sentences| !sentences.is_empty())
            .collect();
        let near_misses = NEAR_MISSES
            .iter()
            .copied()
            .filter(|sentence| untagged(sentence))
            .collect();

        let mentions = |aliases: &[String], acronym: Option<&String>| -> Vec<String> {
            aliases
                .iter()
                .chain(acronym)
                .map(|alias| alias.trim().to_owned())
                .filter(|alias| !alias.is_empty() && !starts_like_item(alias))
                .collect()
        };
        let programmes = catalogue
            .programmes
            .iter()
            .map(|p| mentions(&p.aliases, p.acronym.as_ref()))
            .filter(|m| !m.is_empty())
            .collect();
        let offices = catalogue
            .offices
            .iter()
            .filter(|o| o.slug != publisher)
            .map(|o| mentions(&o.aliases, o.acronym.as_ref()))
            .filter(|m| !m.is_empty())
            .collect();

        let mut photographers = Vec::new();
        let mut agencies = Vec::new();
        for credit in releases.iter().filter_map(|r| r.image_credit.as_deref()) {
            // `© Name / Agency 2023` or `© Owner 2023`: drop the sign and the year.
            let credit = credit.trim_start_matches('©').trim();
            let credit = credit
                .rsplit_once(' ')
                .filter(|(_, year)| year.bytes().all(|b| b.is_ascii_digit()))
                .map_or(credit, |(rest, _)| rest);
            let (photographer, agency) = match credit.split_once(" / ") {
                Some((photographer, agency)) => (Some(photographer.trim()), agency.trim()),
                None => (None, credit),
            };
            for (pool, item) in [
                (&mut photographers, photographer),
                (&mut agencies, Some(agency)),
            ] {
                if let Some(item) = item.filter(|i| !i.is_empty())
                    && !pool.iter().any(|known: &String| known == item)
                {
                    pool.push(item.to_owned());
                }
            }
        }
        if agencies.is_empty() {
            agencies.push("ILO".to_owned());
        }

        let (first, last) = (FIRST_DAY, LAST_DAY);
        let days = first
            .iter_days()
            .take_while(|day| *day <= last)
            .map(|day| Day {
                text: day.format("%d %B %Y").to_string(),
                year: day.year(),
            })
            .collect();

        // What the catalogue matches case-sensitively (acronyms, aliases in capitals): made-up
        // acronyms must not be one of these.
        let reserved_acronyms = catalogue
            .programmes
            .iter()
            .map(|p| (&p.aliases, &p.acronym))
            .chain(catalogue.offices.iter().map(|o| (&o.aliases, &o.acronym)))
            .flat_map(|(aliases, acronym)| aliases.iter().chain(acronym))
            .filter(|alias| !alias.chars().any(char::is_lowercase))
            .map(|alias| alias.trim().to_owned())
            .collect();
        let title_lengths = releases
            .iter()
            .map(|r| prose::word_count(&r.title))
            .collect();
        let summary_lengths = releases
            .iter()
            .filter_map(|r| r.summary.as_deref())
            .map(prose::word_count)
            .collect();
        let prose =
            prose::Prose::build(untagged, reserved_acronyms, title_lengths, summary_lengths);

        Ok(Vocabulary {
            titles,
            summaries,
            near_misses,
            programmes,
            offices,
            photographers,
            agencies,
            days,
            prose,
        })
    }

    /// Composes one release of `year` into `draft`.
    fn draft<'v>(&'v self, dice: &mut Dice, year: i32, draft: &mut Draft<'v>) {
        draft.has_summary = !dice.per_mille(NO_SUMMARY);
        draft.has_credit = dice.per_mille(CREDIT);
        draft.pieces.clear();
        draft.extras.clear();
        draft.written.clear();
        draft.title_suffix.clear();
        draft.title_prefix = None;

        if dice.per_mille(OFFICE) && !self.offices.is_empty() {
            let office = dice.pick(&self.offices);
            let alias = dice.pick(office).as_str();
            if draft.has_summary && dice.per_mille(MENTION_IN_SUMMARY) {
                let piece = Piece::Office(dice.index(OFFICE_SENTENCES.len()), alias);
                draft.extras.push(piece);
            } else {
                draft.title_prefix = Some(alias);
            }
        }

        let roll = dice.below(1000);
        let mentioned = match roll {
            r if r < TWO_PROGRAMMES => 2,
            r if r < TWO_PROGRAMMES + ONE_PROGRAMME => 1,
            _ => 0,
        }
        .min(self.programmes.len());
        let first = dice.index(self.programmes.len().max(1));
        for n in 0..mentioned {
            // The second programme is a different one.
            let programme = match n {
                0 => first,
                _ => (first + 1 + dice.index(self.programmes.len() - 1)) % self.programmes.len(),
            };
            let alias = dice.pick(&self.programmes[programme]).as_str();
            if draft.has_summary && dice.per_mille(MENTION_IN_SUMMARY) {
                let piece = Piece::Programme(dice.index(PROGRAMME_SENTENCES.len()), alias);
                draft.extras.push(piece);
            } else if draft.title_prefix.is_none() && dice.per_mille(500) {
                draft.title_prefix = Some(alias);
            } else {
                draft.title_suffix.push(alias);
            }
        }

        if draft.has_summary && dice.per_mille(NEAR_MISS) && !self.near_misses.is_empty() {
            let &sentence = dice.pick(&self.near_misses);
            draft.extras.push(Piece::Sentence(sentence));
        }

        if draft.has_summary {
            // Sentences up to a seed summary's length, counting the mentions to come.
            let target = self.prose.summary_length(dice);
            let mut words: usize = draft.extras.iter().map(Piece::words).sum();
            while words < target || draft.pieces.is_empty() {
                let left = target - words.min(target);
                if dice.per_mille(SEED_SENTENCE) && !self.summaries.is_empty() {
                    let summary = dice.pick(&self.summaries);
                    let sentence = dice.pick(summary).as_str();
                    words += prose::word_count(sentence);
                    draft.pieces.push(Piece::Sentence(sentence));
                } else {
                    if !draft.written.is_empty() {
                        draft.written.push(' ');
                    }
                    let start = draft.written.len();
                    let wanted = left.clamp(10, 30);
                    self.prose
                        .sentence(dice, year, wanted, &mut draft.written, &mut draft.tail);
                    let added = prose::word_count(&draft.written[start..]);
                    // A last sentence much longer than the room left is dropped: the summary
                    // ends a little short rather than long.
                    if !draft.pieces.is_empty() && added > left + 4 {
                        draft.written.truncate(start);
                        break;
                    }
                    words += added;
                    draft
                        .pieces
                        .push(Piece::Written(start, draft.written.len()));
                }
            }
            let extras = std::mem::take(&mut draft.extras);
            for piece in &extras {
                insert_piece(dice, &mut draft.pieces, *piece);
            }
            draft.extras = extras;
        }

        self.compose_title(dice, year, draft);

        let summary = &mut draft.summary;
        summary.clear();
        for (n, piece) in draft.pieces.iter().enumerate() {
            if n > 0 {
                summary.push(' ');
            }
            let (before, middle, after) = match *piece {
                Piece::Sentence(sentence) => ("", sentence, ""),
                Piece::Written(start, end) => ("", &draft.written[start..end], ""),
                Piece::Programme(template, alias) => {
                    let (before, after) = PROGRAMME_SENTENCES[template];
                    (before, alias, after)
                }
                Piece::Office(template, alias) => {
                    let (before, after) = OFFICE_SENTENCES[template];
                    (before, alias, after)
                }
            };
            summary.push_str(before);
            summary.push_str(middle);
            summary.push_str(after);
        }

        let credit = &mut draft.credit;
        credit.clear();
        if draft.has_credit {
            credit.push_str("© ");
            if !self.photographers.is_empty() && dice.per_mille(600) {
                credit.push_str(dice.pick(&self.photographers).as_str());
                credit.push_str(" / ");
            }
            credit.push_str(dice.pick(&self.agencies).as_str());
            let _ = write!(credit, " {year}");
        }
    }

    /// Writes the title: `[alias: ]body[ under alias[ and alias]]`, about a seed title's length.
    fn compose_title(&self, dice: &mut Dice, year: i32, draft: &mut Draft<'_>) {
        let title = &mut draft.title;
        title.clear();
        if let Some(alias) = draft.title_prefix {
            title.push_str(alias);
            title.push_str(": ");
        }
        let body_start = title.len();
        let mut suffix_words = 0;
        for alias in &draft.title_suffix {
            suffix_words += 1 + prose::word_count(alias);
        }
        if dice.per_mille(SEED_TITLE) {
            // Splicing titles can leave a quote open; a few more tries all but rule that out.
            for _ in 0..4 {
                title.truncate(body_start);
                self.titles.generate(dice, title);
                if balanced_quotes(&title[body_start..]) {
                    break;
                }
            }
        } else {
            let wanted = self
                .prose
                .title_length(dice)
                .saturating_sub(prose::word_count(title) + suffix_words)
                .max(4);
            // Patterns with long names can overshoot: a few tries for one that fits.
            for _ in 0..6 {
                title.truncate(body_start);
                self.prose.title(dice, year, wanted, title, &mut draft.tail);
                if prose::word_count(&title[body_start..]) <= wanted {
                    break;
                }
            }
        }
        for (n, alias) in draft.title_suffix.iter().enumerate() {
            title.push_str(if n == 0 { " under " } else { " and " });
            title.push_str(alias);
        }
    }

    /// Draws the title again while its day already has it (see `generate`), and records it.
    fn make_title_unique(
        &self,
        dice: &mut Dice,
        year: i32,
        draft: &mut Draft<'_>,
        day_titles: &mut HashSet<u64>,
    ) {
        for _ in 0..TITLE_RETRIES {
            if day_titles.insert(title_hash(&draft.title, &mut draft.scratch)) {
                return;
            }
            self.compose_title(dice, year, draft);
        }
        let base_len = draft.title.len();
        for n in 2u64.. {
            draft.title.truncate(base_len);
            let _ = write!(draft.title, " ({n})");
            if day_titles.insert(title_hash(&draft.title, &mut draft.scratch)) {
                return;
            }
        }
    }
}

/// The hash of what the release id sees of a title.
fn title_hash(title: &str, scratch: &mut String) -> u64 {
    scratch.clear();
    model::normalise_title_into(title, scratch);
    let mut hasher = DefaultHasher::new();
    scratch.hash(&mut hasher);
    hasher.finish()
}

fn insert_piece<'v>(dice: &mut Dice, pieces: &mut Vec<Piece<'v>>, piece: Piece<'v>) {
    let at = dice.index(pieces.len() + 1);
    pieces.insert(at, piece);
}

/// A word-level Markov chain of order 2 over the seed titles: new headlines that splice seed
/// titles where two of them share two consecutive words, so they keep the seeds' wording and
/// lengths.
#[derive(Debug, Default)]
struct Chain {
    words: Vec<String>,
    /// Per state (two consecutive words of a seed title), the word it ends with.
    state_word: Vec<u32>,
    /// Per state, the states that follow it in the seeds (repeated by frequency), `END` where a
    /// title ends.
    next: Vec<Vec<u32>>,
    /// States that begin a seed title.
    starts: Vec<u32>,
}

/// The end of a title, and the (virtual) word before its first one.
const END: u32 = u32::MAX;
/// Used when no seed title is usable, so that the generator still works.
const FALLBACK_TITLE: &str = "Press release of the ILO Office for China and Mongolia";

impl Chain {
    fn build<'a>(titles: impl Iterator<Item = &'a str>) -> Chain {
        let mut chain = Chain::default();
        let mut word_ids: HashMap<&'a str, u32> = HashMap::new();
        let mut state_ids: HashMap<(u32, u32), u32> = HashMap::new();
        for title in titles {
            let mut previous: Option<u32> = None;
            let mut previous_word = END;
            for word in title.split_whitespace() {
                let word_id = *word_ids.entry(word).or_insert_with(|| {
                    chain.words.push(word.to_owned());
                    chain.words.len() as u32 - 1
                });
                let state = *state_ids
                    .entry((previous_word, word_id))
                    .or_insert_with(|| {
                        chain.state_word.push(word_id);
                        chain.next.push(Vec::new());
                        chain.state_word.len() as u32 - 1
                    });
                match previous {
                    Some(previous) => chain.next[previous as usize].push(state),
                    None => chain.starts.push(state),
                }
                previous = Some(state);
                previous_word = word_id;
            }
            if let Some(previous) = previous {
                chain.next[previous as usize].push(END);
            }
        }
        if chain.starts.is_empty() {
            return Chain::build(std::iter::once(FALLBACK_TITLE));
        }
        chain
    }

    /// Appends a title of `MIN_TITLE_WORDS` words or more to `out`; it ends where a seed title
    /// ends, preferably once it has `MAX_TITLE_WORDS`, at the latest at `HARD_MAX_TITLE_WORDS`.
    fn generate(&self, dice: &mut Dice, out: &mut String) {
        let mut state = *dice.pick(&self.starts);
        let mut len = 0;
        loop {
            if len > 0 {
                out.push(' ');
            }
            out.push_str(&self.words[self.state_word[state as usize] as usize]);
            len += 1;
            let successors = &self.next[state as usize];
            if successors.is_empty()
                || len >= HARD_MAX_TITLE_WORDS
                || (len >= MAX_TITLE_WORDS && successors.contains(&END))
            {
                break;
            }
            let mut candidate = *dice.pick(successors);
            if candidate == END {
                if len >= MIN_TITLE_WORDS {
                    break;
                }
                // Too short: go on with a state that does not end the title, if there is one.
                let continuing = successors.iter().filter(|&&s| s != END).count();
                if continuing == 0 {
                    break;
                }
                let nth = dice.index(continuing);
                match successors.iter().filter(|&&s| s != END).nth(nth) {
                    Some(&next) => candidate = next,
                    None => break,
                }
            }
            state = candidate;
        }
    }
}

/// Splits prose into sentences: at `.`, `!` or `?` (and a closing quote) followed by a space
/// and a capital or an opening quote, except after initials or a title.
fn sentences(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if !matches!(c, '.' | '!' | '?') || at < start {
            continue;
        }
        let mut end = at + c.len_utf8();
        if let Some(quote) = text[end..]
            .chars()
            .next()
            .filter(|q| matches!(q, '"' | '”'))
        {
            end += quote.len_utf8();
        }
        let Some(rest) = text[end..].strip_prefix(' ') else {
            continue;
        };
        if !rest
            .chars()
            .next()
            .is_some_and(|n| n.is_uppercase() || matches!(n, '"' | '“'))
        {
            continue;
        }
        let last_word = text[start..at].rsplit(' ').next().unwrap_or("");
        // `T.` and `J.P.` are initials, `Ms.` a title: no sentence ends there.
        if last_word.chars().count() <= 1
            || last_word.contains('.')
            || matches!(last_word, "Mr" | "Ms" | "Mrs" | "Dr" | "No")
        {
            continue;
        }
        found.push(text[start..end].trim());
        start = end + 1;
    }
    let tail = text[start.min(text.len())..].trim();
    if !tail.is_empty() {
        found.push(tail);
    }
    found
}

/// Whether every opening quote is closed (splicing seed text must not leave one open).
fn balanced_quotes(text: &str) -> bool {
    let count = |quote: char| text.chars().filter(|&c| c == quote).count();
    count('"') % 2 == 0 && count('“') == count('”')
}

/// Whether a line would be read as an item (`12. …`) by the parser.
fn starts_like_item(text: &str) -> bool {
    let text = text.trim_start();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && text[digits..]
            .strip_prefix('.')
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// The first day of `FIRST_YEAR` and the last of `LAST_YEAR`, checked when compiling.
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1) {
    Some(day) => day,
    None => panic!("FIRST_YEAR has no 1 January"),
};
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(LAST_YEAR, 12, 31) {
    Some(day) => day,
    None => panic!("LAST_YEAR has no 31 December"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences() {
        assert_eq!(
            sentences("On 9 March 2017, the ILO met. T. Aljibe said “yes.” Then 3.4 million left"),
            vec![
                "On 9 March 2017, the ILO met.",
                "T. Aljibe said “yes.”",
                "Then 3.4 million left"
            ]
        );
        assert_eq!(sentences("One. Two!"), vec!["One.", "Two!"]);
    }

    #[test]
    fn item_like_lines() {
        assert!(starts_like_item("12. Title"));
        assert!(starts_like_item("3."));
        assert!(!starts_like_item("3.4 million"));
        assert!(!starts_like_item("2nd Seminar"));
    }

    #[test]
    fn vocabulary_has_every_pool() {
        let vocabulary = Vocabulary::build().map_err(|e| e.to_string());
        let vocabulary = vocabulary.as_ref();
        assert!(vocabulary.is_ok_and(|v| {
            v.titles.starts.len() > 20
                && v.summaries.len() > 20
                && v.near_misses.len() >= 8
                && v.programmes.len() == 9
                && v.offices.len() == 3
                && v.days.len() == 9862
                && v.prose.title_lengths.len() == 40
                && v.prose.summary_lengths.len() == 34
        }));
    }

    #[test]
    fn alias_draws_follow_the_weights() {
        let alias = prose::Alias::new(&[1, 0, 3, 6]);
        let mut dice = Dice::for_file(1, 0);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[alias.draw(&mut dice)] += 1;
        }
        assert_eq!(counts[1], 0, "a weight of zero is never drawn");
        for (count, weight) in [(counts[0], 1.0), (counts[2], 3.0), (counts[3], 6.0)] {
            let share = f64::from(count) / 100_000.0;
            assert!((share - weight / 10.0).abs() < 0.01, "{counts:?}");
        }
    }

    #[test]
    fn titles_of_a_day_are_made_unique() {
        let vocabulary = Vocabulary::build().map_err(|e| e.to_string());
        let Ok(vocabulary) = vocabulary.as_ref() else {
            panic!("{vocabulary:?}");
        };
        let mut dice = Dice::for_file(5, 0);
        let mut draft = Draft::default();
        let mut day_titles = HashSet::new();
        let mut seen = HashSet::new();
        for _ in 0..2_000 {
            vocabulary.draft(&mut dice, 2020, &mut draft);
            // Every title starts out as one already taken: the check must still find a new one.
            draft.title.clear();
            draft.title.push_str("Workshop held in Beijing");
            vocabulary.make_title_unique(&mut dice, 2020, &mut draft, &mut day_titles);
            assert!(
                seen.insert(model::normalise_title(&draft.title)),
                "{} twice",
                draft.title
            );
        }
    }
}
