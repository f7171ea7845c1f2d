//! `Release.related`: the releases most like a given one. Two SQL statements whatever the
//! archive's size: the release's own tags, then one statement that gathers a bounded set of
//! candidates through indexes, scores them and returns the best rows.
//!
//! **Candidates** (never the whole table): the most recent [`PER_TAG`] releases of each of the
//! release's programmes and of each office its text names (index `(tag_id, published_on,
//! release_id)` of the tag tables), and text matches. PostgreSQL: the most recent [`TEXT_HITS`]
//! releases sharing at least two of the title's words (GIN index on `search_vector`), ranked
//! below; SQLite: the best [`TEXT_HITS`] FTS5 matches of any of the title's words by `bm25`,
//! title weighted ten times the summary.
//!
//! **Score**: [`PROGRAMME_WEIGHT`] per shared programme, [`OFFICE_WEIGHT`] per shared office
//! that both releases name in their text (the publisher's tag, `matched_alias IS NULL`, is on
//! every release of a listing and counts for nothing), plus a text similarity in `[0, 1)`:
//! `ts_rank(search_vector, any title word, 32)` on PostgreSQL, `s / (1 + s)` with `s = -bm25`
//! on SQLite (0 for candidates outside the FTS5 top). Releases scoring 0 are left out; ties go to
//! the newer release, then the greater id, so the answer is the same every time.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement, Value};
use uuid::Uuid;

use model::entity::release;

use crate::error::ApiError;

/// Fewest and most related releases a client may ask for.
pub const MIN_RELATED: i32 = 1;
pub const MAX_RELATED: i32 = 20;
/// Related releases when the client does not say.
pub const DEFAULT_RELATED: i32 = 5;

/// Score of each programme shared with the release: more than any number of offices and text.
pub const PROGRAMME_WEIGHT: i64 = 100;
/// Score of each office both releases name: more than any text similarity (always below 1).
pub const OFFICE_WEIGHT: i64 = 10;

/// Candidates taken from each shared programme or office: its most recent taggings.
const PER_TAG: u32 = 60;
/// Candidates taken by text.
const TEXT_HITS: u32 = 120;
/// Title words used for the text candidates; the pairs of eight words are 28 alternatives.
const MAX_WORDS: usize = 8;

/// The releases most like `release`, best first, at most `first` (1 to 20) of them.
pub async fn related_releases(
    db: &DatabaseConnection,
    release: &release::Model,
    first: i32,
) -> Result<Vec<release::Model>, ApiError> {
    if !(MIN_RELATED..=MAX_RELATED).contains(&first) {
        return Err(ApiError::RelatedCountOutOfRange(first));
    }
    let backend = db.get_database_backend();
    let tags = own_tags(db, backend, release.id).await?;
    let words = title_words(&release.title);
    let Some(statement) = related_statement(backend, release.id, &tags, &words, first)? else {
        return Ok(Vec::new());
    };
    Ok(release::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

/// The programmes of a release, and the offices its title or summary names.
#[derive(Debug, Default, PartialEq, Eq)]
struct OwnTags {
    programmes: Vec<i32>,
    offices: Vec<i32>,
}

/// Statement 1: the release's tags, in one query over both tag tables.
async fn own_tags(
    db: &DatabaseConnection,
    backend: DbBackend,
    id: Uuid,
) -> Result<OwnTags, ApiError> {
    let mut sql = SqlBuilder::new(backend);
    let sql_text = format!(
        "SELECT 'programme' AS kind, programme_id AS tag_id FROM release_programme \
         WHERE release_id = {} \
         UNION ALL \
         SELECT 'office' AS kind, office_id AS tag_id FROM release_office \
         WHERE release_id = {} AND matched_alias IS NOT NULL",
        sql.bind(id),
        sql.bind(id),
    );
    let rows = db.query_all_raw(sql.finish(sql_text)).await?;
    let mut tags = OwnTags::default();
    for row in rows {
        let kind: String = row.try_get("", "kind")?;
        let tag_id: i32 = row.try_get("", "tag_id")?;
        match kind.as_str() {
            "programme" => tags.programmes.push(tag_id),
            _ => tags.offices.push(tag_id),
        }
    }
    tags.programmes.sort_unstable();
    tags.offices.sort_unstable();
    Ok(tags)
}

/// Statement 2: candidates, scores and the best `first` rows; `None` when nothing can relate
/// (no programme, no office named, no usable title word).
fn related_statement(
    backend: DbBackend,
    id: Uuid,
    tags: &OwnTags,
    words: &[String],
    first: i32,
) -> Result<Option<Statement>, ApiError> {
    let postgres = match backend {
        DbBackend::Postgres => true,
        DbBackend::Sqlite => false,
        other => {
            return Err(ApiError::Internal(format!(
                "related releases are implemented for PostgreSQL and SQLite, not {other:?}"
            )));
        }
    };
    let mut sql = SqlBuilder::new(backend);
    let mut ctes: Vec<String> = Vec::new();
    let mut candidates: Vec<String> = Vec::new();

    // Text candidates. The words are letters and digits only (see `title_words`), so they are
    // written into the SQL as literals: PostgreSQL then plans with the query's real
    // selectivity (a bound parameter may get a generic plan that suits no query).
    let text_score = if words.is_empty() {
        "0".to_owned()
    } else if postgres {
        let any_word = words.join(" or ");
        let two_words = if words.len() == 1 {
            any_word.clone()
        } else {
            word_pairs(words).join(" or ")
        };
        candidates.push(format!(
            "SELECT release_id FROM (\
                SELECT id AS release_id FROM release \
                WHERE search_vector @@ websearch_to_tsquery('english', '{two_words}') \
                AND id <> {} \
                ORDER BY published_on DESC, id DESC LIMIT {TEXT_HITS}\
             ) AS text_candidate",
            sql.bind(id),
        ));
        format!("ts_rank(r.search_vector, websearch_to_tsquery('english', '{any_word}'), 32)")
    } else {
        let any_word = words
            .iter()
            .map(|word| format!("\"{word}\""))
            .collect::<Vec<_>>()
            .join(" OR ");
        ctes.push(format!(
            "text_hit (release_id, text_score) AS (\
                SELECT r.id, -m.rank / (1.0 - m.rank) FROM (\
                    SELECT rowid, bm25(release_fts, 10.0, 1.0) AS rank FROM release_fts \
                    WHERE release_fts MATCH '{any_word}' \
                    ORDER BY rank, rowid LIMIT {TEXT_HITS}\
                ) AS m JOIN release AS r ON r.rowid = m.rowid \
                WHERE r.id <> {}\
             )",
            sql.bind(id),
        ));
        candidates.push("SELECT release_id FROM text_hit".to_owned());
        "coalesce((SELECT th.text_score FROM text_hit AS th WHERE th.release_id = r.id), 0)"
            .to_owned()
    };

    // Tag candidates: the most recent taggings of each programme and office, straight from the
    // `(tag_id, published_on, release_id)` indexes. Offices are taken without the alias test
    // so that the scan stays bounded even for the publisher's office; the score applies it.
    for (table, column, ids) in [
        ("release_programme", "programme_id", &tags.programmes),
        ("release_office", "office_id", &tags.offices),
    ] {
        for &tag_id in ids {
            candidates.push(format!(
                "SELECT release_id FROM (\
                    SELECT release_id FROM {table} WHERE {column} = {} AND release_id <> {} \
                    ORDER BY published_on DESC, release_id DESC LIMIT {PER_TAG}\
                 ) AS {table}_{tag_id}",
                sql.bind(tag_id),
                sql.bind(id),
            ));
        }
    }
    if candidates.is_empty() {
        return Ok(None);
    }
    ctes.push(format!(
        "candidate (release_id) AS ({})",
        candidates.join(" UNION ")
    ));

    let shared_programmes = shared_count(
        &mut sql,
        "release_programme",
        "programme_id",
        "",
        &tags.programmes,
    );
    let shared_offices = shared_count(
        &mut sql,
        "release_office",
        "office_id",
        " AND t.matched_alias IS NOT NULL",
        &tags.offices,
    );
    let columns = "r.id, r.slug, r.title, r.published_on, r.summary, r.image_credit, \
                   r.source_file, r.source_line, r.created_at, r.updated_at";
    let sql_text = format!(
        "WITH {ctes} \
         SELECT * FROM (\
            SELECT {columns}, \
                {PROGRAMME_WEIGHT} * {shared_programmes} + {OFFICE_WEIGHT} * {shared_offices} \
                + {text_score} AS score \
            FROM candidate AS c JOIN release AS r ON r.id = c.release_id\
         ) AS scored \
         WHERE score > 0 \
         ORDER BY score DESC, published_on DESC, id DESC \
         LIMIT {first}",
        ctes = ctes.join(", "),
    );
    Ok(Some(sql.finish(sql_text)))
}

/// How many of `ids` the candidate `r` is tagged with in `table` (0 when `ids` is empty).
fn shared_count(
    sql: &mut SqlBuilder,
    table: &str,
    column: &str,
    extra: &str,
    ids: &[i32],
) -> String {
    if ids.is_empty() {
        return "0".to_owned();
    }
    let list = ids
        .iter()
        .map(|&tag_id| sql.bind(tag_id))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "(SELECT count(*) FROM {table} AS t WHERE t.release_id = r.id AND t.{column} IN ({list}){extra})"
    )
}

/// Every pair of `words` as "a b" (both words), for `websearch_to_tsquery`.
fn word_pairs(words: &[String]) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .flat_map(|(i, a)| words[i + 1..].iter().map(move |b| format!("{a} {b}")))
        .collect()
}

/// Words too common in English to say what a release is about. PostgreSQL drops its own
/// stopwords too; FTS5 does not, so the list matters there.
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "all", "also", "and", "are", "been", "before", "between", "but",
    "can", "for", "from", "has", "have", "how", "into", "its", "more", "new", "not", "now", "off",
    "one", "our", "out", "over", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "under", "up", "was", "were", "what", "when", "where", "which",
    "while", "who", "why", "will", "with", "you", "your",
];

/// The title's distinct words, lower-cased, in title order: runs of letters and digits of at
/// least three characters, not all digits, not stopwords, at most [`MAX_WORDS`]. Only letters
/// and digits, so they can be quoted into SQL and FTS5 queries as they are.
fn title_words(title: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < 3
            || word.chars().all(|c| c.is_ascii_digit())
            || !word.chars().all(char::is_alphanumeric)
            || STOPWORDS.contains(&word.as_str())
            || words.contains(&word)
        {
            continue;
        }
        words.push(word);
        if words.len() == MAX_WORDS {
            break;
        }
    }
    words
}

/// SQL text with its bound values, each written as the backend's placeholder in order.
struct SqlBuilder {
    backend: DbBackend,
    values: Vec<Value>,
}

impl SqlBuilder {
    fn new(backend: DbBackend) -> SqlBuilder {
        SqlBuilder {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value` and returns its placeholder. SQLite's `?` are numbered by position, so
    /// placeholders must appear in the text in the order they were bound.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    fn finish(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_words_are_distinct_plain_and_meaningful() {
        assert_eq!(
            title_words("ILO Director-General: BRICS countries play a key role in the ILO’s work"),
            [
                "ilo",
                "director",
                "general",
                "brics",
                "countries",
                "play",
                "key",
                "role"
            ],
            "at most MAX_WORDS words, in title order"
        );
        assert_eq!(title_words("The 2017 UN report"), ["report"]);
        assert!(title_words("a b of to").is_empty());
        assert!(
            title_words("O'Brien; DROP TABLE \"x\"")
                .iter()
                .all(|w| { w.chars().all(char::is_alphanumeric) })
        );
        let many = (0..30)
            .map(|i| format!("word{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(title_words(&many).len(), MAX_WORDS);
    }

    #[test]
    fn pairs_cover_every_two_words_once() {
        let words: Vec<String> = ["a", "b", "c"].iter().map(|w| (*w).to_owned()).collect();
        assert_eq!(word_pairs(&words), ["a b", "a c", "b c"]);
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let mut postgres = SqlBuilder::new(DbBackend::Postgres);
        assert_eq!(
            (postgres.bind(1), postgres.bind(2)),
            ("$1".into(), "$2".into())
        );
        let mut sqlite = SqlBuilder::new(DbBackend::Sqlite);
        assert_eq!((sqlite.bind(1), sqlite.bind(2)), ("?".into(), "?".into()));
    }

    #[test]
    fn nothing_to_relate_by_is_no_statement() {
        let statement =
            related_statement(DbBackend::Sqlite, Uuid::nil(), &OwnTags::default(), &[], 5);
        assert!(matches!(statement, Ok(None)));
    }
}
