//! `Release.related`: the releases most like a given one. Two statements whatever the
//! archive's size: the release's own tags, then one statement that gathers a bounded set of
//! candidates through indexes, scores them and returns the best rows.
//!
//! **Candidates** (never the whole table): the most recent [`PER_TAG`] releases of each of the
//! release's programmes and of each office its text names (index `(tag_id, published_on,
//! release_id)` of the tag tables), and text matches of the title's words (see
//! `Dialect::related_text`: PostgreSQL, the newest releases sharing two of them; SQLite, the
//! best FTS5 matches of any).
//!
//! **Score**: [`PROGRAMME_WEIGHT`] per shared programme, [`OFFICE_WEIGHT`] per shared office
//! that both releases name in their text (the publisher's tag, `matched_alias IS NULL`, is on
//! every release of a listing and counts for nothing), plus a text similarity in `[0, 1)`.
//! Releases scoring 0 are left out; ties go to the newer release, then the greater id, so the
//! answer is the same every time.

use sea_orm::sea_query::{
    Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, Func, JoinType, Order, Query,
    SelectStatement, UnionType, WithClause,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Iterable, Statement};
use uuid::Uuid;

use model::TagKind;
use model::entity::release;

use crate::store::dialect::RELEASE_ID;
use crate::store::tag_table::TagTable;
use crate::store::{Dialect, Store, StoreError};

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
const PER_TAG: u64 = 60;
/// Title words used for the text candidates; the pairs of eight words are 28 alternatives.
const MAX_WORDS: usize = 8;

/// The candidate release in the scoring statement.
const CANDIDATE: &str = "r";

/// The programmes of a release, and the offices its title or summary names.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct OwnTags {
    pub(crate) programmes: Vec<i32>,
    pub(crate) offices: Vec<i32>,
}

impl OwnTags {
    fn of(&self, kind: TagKind) -> &[i32] {
        match kind {
            TagKind::Programme => &self.programmes,
            TagKind::Office => &self.offices,
        }
    }
}

impl Store {
    /// The releases most like `release` (id and title), best first, at most `first` of them.
    pub async fn related(
        &self,
        id: Uuid,
        title: &str,
        first: u64,
    ) -> Result<Vec<release::Model>, StoreError> {
        let dialect = self.dialect()?;
        let tags = self.own_tags(dialect, id).await?;
        let words = title_words(title);
        let Some(statement) = related_statement(dialect, id, &tags, &words, first) else {
            return Ok(Vec::new());
        };
        Ok(release::Entity::find()
            .from_raw_sql(statement)
            .all(self.db())
            .await?)
    }

    /// Statement 1: the release's tags, in one query over both tag tables.
    async fn own_tags(&self, dialect: Dialect, id: Uuid) -> Result<OwnTags, StoreError> {
        let rows = self
            .db()
            .query_all_raw(dialect.backend().build(&own_tags_query(id)))
            .await?;
        let mut tags = OwnTags::default();
        for row in rows {
            let code: i16 = row.try_get("", "kind")?;
            let tag_id: i32 = row.try_get("", "tag_id")?;
            match TagKind::from_code(code) {
                Some(TagKind::Programme) => tags.programmes.push(tag_id),
                Some(TagKind::Office) => tags.offices.push(tag_id),
                None => {
                    return Err(DbErr::Type(format!("unknown tag kind {code}")).into());
                }
            }
        }
        tags.programmes.sort_unstable();
        tags.offices.sort_unstable();
        Ok(tags)
    }
}

/// `SELECT 1 AS kind, programme_id AS tag_id FROM release_programme WHERE release_id = ?
/// UNION ALL SELECT 2, office_id FROM release_office WHERE release_id = ? AND matched_alias IS
/// NOT NULL`: kinds as [`TagKind::code`].
pub(crate) fn own_tags_query(id: Uuid) -> SelectStatement {
    let select = |kind: TagKind| {
        let table = TagTable::of(kind);
        let mut query = Query::select();
        query
            .expr_as(Expr::val(kind.code()), Alias::new("kind"))
            .expr_as(table.tag_col(), Alias::new("tag_id"))
            .from(table.table.clone())
            .and_where(table.release_col().eq(id));
        if kind == TagKind::Office {
            query.and_where(table.col(&table.matched_alias).is_not_null());
        }
        query
    };
    select(TagKind::Programme)
        .union(UnionType::All, select(TagKind::Office))
        .take()
}

/// Statement 2: candidates, scores and the best `first` rows; `None` when nothing can relate
/// (no programme, no office named, no usable title word).
pub(crate) fn related_statement(
    dialect: Dialect,
    id: Uuid,
    tags: &OwnTags,
    words: &[String],
    first: u64,
) -> Option<Statement> {
    let mut with = WithClause::new();
    let mut candidates: Vec<SelectStatement> = Vec::new();
    let text_score = if words.is_empty() {
        Expr::val(0.0)
    } else {
        let text = dialect.related_text(id, words, CANDIDATE);
        if let Some(cte) = text.cte {
            with.cte(cte);
        }
        candidates.push(text.candidates);
        text.score
    };
    // The most recent taggings of each programme and office, straight from the
    // `(tag_id, published_on, release_id)` indexes. Offices are taken without the alias test
    // so that the scan stays bounded even for the publisher's office; the score applies it.
    for kind in TagKind::ALL {
        let table = TagTable::of(kind);
        for &tag_id in tags.of(kind) {
            let newest = Query::select()
                .expr_as(table.release_col(), Alias::new(RELEASE_ID))
                .from(table.table.clone())
                .and_where(table.tag_col().eq(tag_id))
                .and_where(table.release_col().ne(id))
                .order_by_expr(table.date_col(), Order::Desc)
                .order_by_expr(table.release_col(), Order::Desc)
                .limit(PER_TAG)
                .take();
            candidates.push(
                Query::select()
                    .column(Alias::new(RELEASE_ID))
                    .from_subquery(newest, Alias::new(format!("{}_{tag_id}", kind.as_str())))
                    .take(),
            );
        }
    }
    let mut candidates = candidates.into_iter();
    let mut all = candidates.next()?;
    for candidate in candidates {
        all.union(UnionType::Distinct, candidate);
    }
    let candidate_table = Alias::new("candidate");
    with.cte(
        CommonTableExpression::new()
            .query(all)
            .column(Alias::new(RELEASE_ID))
            .table_name(candidate_table.clone())
            .to_owned(),
    );

    let r = Alias::new(CANDIDATE);
    let score = Alias::new("score");
    let scored = Query::select()
        .columns(release::Column::iter().map(|column| (r.clone(), column)))
        .expr_as(
            Expr::val(PROGRAMME_WEIGHT)
                .mul(shared(TagKind::Programme, tags))
                .add(Expr::val(OFFICE_WEIGHT).mul(shared(TagKind::Office, tags)))
                .add(text_score),
            score.clone(),
        )
        .from_as(candidate_table.clone(), Alias::new("c"))
        .join_as(
            JoinType::InnerJoin,
            release::Entity,
            r.clone(),
            Expr::col((r.clone(), release::Column::Id))
                .equals((Alias::new("c"), Alias::new(RELEASE_ID))),
        )
        .take();
    let best = Query::select()
        .column(Asterisk)
        .from_subquery(scored, Alias::new("scored"))
        .and_where(Expr::col(score.clone()).gt(0))
        .order_by(score, Order::Desc)
        .order_by(release::Column::PublishedOn, Order::Desc)
        .order_by(release::Column::Id, Order::Desc)
        .limit(first)
        .take();
    Some(dialect.backend().build(&best.with(with)))
}

/// How many of the release's `kind` tags the candidate carries (only offices named in its
/// text); 0 without such tags.
fn shared(kind: TagKind, tags: &OwnTags) -> Expr {
    let ids = tags.of(kind);
    if ids.is_empty() {
        return Expr::val(0);
    }
    let table = TagTable::of(kind);
    let t = Alias::new("t");
    let mut count = Query::select();
    count
        .expr(Func::count(Expr::col(Asterisk)))
        .from_as(table.table.clone(), t.clone())
        .and_where(
            Expr::col((t.clone(), table.release_id.clone()))
                .equals((Alias::new(CANDIDATE), release::Column::Id)),
        )
        .and_where(Expr::col((t.clone(), table.tag_id.clone())).is_in(ids.iter().copied()));
    if kind == TagKind::Office {
        count.and_where(Expr::col((t, table.matched_alias.clone())).is_not_null());
    }
    Expr::SubQuery(None, Box::new(count.into()))
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
/// and digits, so they can be written into search expressions as they are.
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
    fn nothing_to_relate_by_is_no_statement() {
        let statement =
            related_statement(Dialect::Sqlite, Uuid::nil(), &OwnTags::default(), &[], 5);
        assert!(statement.is_none());
    }
}
