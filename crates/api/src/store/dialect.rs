//! The one place that says how PostgreSQL and SQLite differ. Everything else in the store
//! builds the same sea-query statements for both and asks this module for the parts that are
//! not the same SQL:
//!
//! - **search**: PostgreSQL matches `release.search_vector` (a stored `tsvector`, GIN-indexed)
//!   against a `tsquery` and ranks with `ts_rank`; SQLite matches the FTS5 table `release_fts`
//!   by `rowid` and ranks with `bm25`, a title match counting ten times a summary one;
//! - **JSON tag lists**: PostgreSQL aggregates whole catalogue rows with `json_agg`; SQLite
//!   builds each object with `json_object` (and `json()` for columns it keeps as JSON text);
//! - **keyset positions**: PostgreSQL compares the row `(date, id)` with the cursor's, one
//!   index bound and a plan it keeps; SQLite spells the comparison out;
//! - **related releases' text candidates**: PostgreSQL takes the newest releases sharing two
//!   title words through the GIN index; SQLite the best FTS5 matches of any title word.

use sea_orm::sea_query::{
    Alias, BinOper, CommonTableExpression, Expr, ExprTrait, Func, IntoIden, JoinType, Order, Query,
    SelectStatement,
};
use sea_orm::{ColumnTrait, ColumnType, Condition, DbBackend, EntityTrait, IdenStatic, Iterable};
use uuid::Uuid;

use model::TagKind;
use model::entity::{office, programme, release};

use crate::store::StoreError;
use crate::store::search::SearchQuery;
use crate::store::tag_table::TagTable;

/// Text-search configuration of `release.search_vector` (see the search migration).
const TEXT_SEARCH_CONFIG: &str = "english";
/// The FTS5 table kept in step with `release` on SQLite.
const FTS_TABLE: &str = "release_fts";
/// SQLite's `bm25` weights of the FTS5 columns: title, summary.
const BM25_WEIGHTS: [f64; 2] = [10.0, 1.0];
/// `ts_rank` normalisation for related releases: rank / (rank + 1), so it stays below 1.
const RANK_BELOW_ONE: i32 = 32;

/// A backend the archive runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn of(backend: DbBackend) -> Result<Dialect, StoreError> {
        match backend {
            DbBackend::Postgres => Ok(Dialect::Postgres),
            DbBackend::Sqlite => Ok(Dialect::Sqlite),
            other => Err(StoreError::UnsupportedBackend(other)),
        }
    }

    pub fn backend(self) -> DbBackend {
        match self {
            Dialect::Postgres => DbBackend::Postgres,
            Dialect::Sqlite => DbBackend::Sqlite,
        }
    }

    /// Rows strictly past the position `(date, id)` in the order of the `keys` columns: later
    /// when `later`, earlier otherwise.
    ///
    /// PostgreSQL compares rows: one bound of the `(published_on, id)` index, and a statement
    /// whose generic plan costs what a custom one does, so a prepared page is planned once per
    /// connection instead of on every execution (spelled out, the generic plan estimates twice
    /// the custom one's cost and PostgreSQL re-plans every page, about a quarter of a
    /// millisecond each). SQLite gets the comparison spelled out, with the redundant `date >=`
    /// (or `<=`) as its index bound: the OR alone bounds nothing.
    pub fn past(
        self,
        (date, id): (Expr, Expr),
        (at_date, at_id): (chrono::NaiveDate, Uuid),
        later: bool,
    ) -> Condition {
        if self == Dialect::Postgres {
            let keys = Expr::tuple([date, id]);
            let at = Expr::tuple([Expr::val(at_date), Expr::val(at_id)]);
            return Condition::all().add(if later { keys.gt(at) } else { keys.lt(at) });
        }
        let (date_bound, date_past, id_past) = if later {
            (
                date.clone().gte(at_date),
                date.clone().gt(at_date),
                id.gt(at_id),
            )
        } else {
            (
                date.clone().lte(at_date),
                date.clone().lt(at_date),
                id.lt(at_id),
            )
        };
        Condition::all().add(date_bound).add(
            Condition::any()
                .add(date_past)
                .add(Condition::all().add(date.eq(at_date)).add(id_past)),
        )
    }

    /// The condition on `release` selecting the releases `search` matches. On PostgreSQL it is
    /// on the bare column, so the GIN index serves it.
    pub fn matches(self, search: &SearchQuery) -> Expr {
        match self {
            Dialect::Postgres => {
                release_col(SEARCH_VECTOR).binary(BinOper::Custom("@@"), tsquery(search))
            }
            Dialect::Sqlite => release_col(ROWID).in_subquery(
                Query::select()
                    .column(ROWID)
                    .from(FTS_TABLE)
                    .and_where(fts_match(search.fts5()))
                    .take(),
            ),
        }
    }

    /// How well a matching release matches `search`, higher is better, as a double. The same
    /// expression serves in SELECT, WHERE and ORDER BY, so a rank read from one page compares
    /// exactly equal to itself on the next.
    pub fn rank(self, search: &SearchQuery) -> Expr {
        match self {
            Dialect::Postgres => Expr::from(
                Func::cust("ts_rank")
                    .arg(release_col(SEARCH_VECTOR))
                    .arg(tsquery(search)),
            )
            .cast_as("float8"),
            Dialect::Sqlite => Expr::SubQuery(
                None,
                Box::new(
                    Query::select()
                        .expr(bm25().mul(-1.0))
                        .from(FTS_TABLE)
                        .and_where(fts_match(search.fts5()))
                        .and_where(
                            Expr::col((Alias::new(FTS_TABLE), Alias::new(ROWID)))
                                .eq(release_col(ROWID)),
                        )
                        .take()
                        .into(),
                ),
            ),
        }
    }

    /// A correlated subquery: the JSON array of the `kind` catalogue rows that the outer
    /// `release` row is tagged with, by name; an empty array when there are none.
    pub fn tag_list(self, kind: TagKind) -> Expr {
        match kind {
            TagKind::Programme => self.tag_list_of::<programme::Entity>(
                kind,
                programme::Column::Name,
                programme::Column::Id,
            ),
            TagKind::Office => {
                self.tag_list_of::<office::Entity>(kind, office::Column::Name, office::Column::Id)
            }
        }
    }

    fn tag_list_of<E: EntityTrait>(self, kind: TagKind, name: E::Column, id: E::Column) -> Expr {
        let tags = TagTable::of(kind);
        let entity = E::default();
        let join = Expr::col((entity, id)).equals((tags.table.clone(), tags.tag_id.clone()));
        let (name, id) = (Expr::col((entity, name)), Expr::col((entity, id)));
        let list = match self {
            Dialect::Postgres => Func::coalesce([
                Expr::cust_with_exprs(
                    "json_agg($1 ORDER BY $2, $3)",
                    [Expr::col(entity.into_iden()), name, id],
                ),
                Expr::Constant("[]".into()).cast_as("json"),
            ])
            .into(),
            Dialect::Sqlite => {
                let fields = E::Column::iter().flat_map(|column| {
                    let value = Expr::col((entity, column));
                    let value = match column.def().get_column_type() {
                        // Kept as JSON text: `json()` embeds it as JSON, not as a string.
                        ColumnType::Json | ColumnType::JsonBinary => {
                            Func::cust("json").arg(value).into()
                        }
                        _ => value,
                    };
                    [Expr::Constant(column.as_str().into()), value]
                });
                let object = Expr::from(Func::cust("json_object").args(fields));
                // sea-query's slots follow the backend's placeholders: `?` on SQLite.
                Expr::cust_with_exprs("json_group_array(? ORDER BY ?, ?)", [object, name, id])
            }
        };
        Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .expr(list)
                    .from(tags.table.clone())
                    .inner_join(entity, join)
                    .and_where(
                        tags.release_col()
                            .equals((release::Entity, release::Column::Id)),
                    )
                    .take()
                    .into(),
            ),
        )
    }

    /// What `Release.related` takes from the text of release `id`'s title `words` (letters
    /// and digits only, at least one): a CTE it needs (SQLite), the statement listing candidate
    /// ids in a column `release_id`, and the text similarity in `[0, 1)` of the candidate
    /// release aliased `candidate`.
    ///
    /// The words are written into the SQL as literals rather than bound: PostgreSQL then plans
    /// with the query's real selectivity (a bound parameter may get a generic plan that suits
    /// no query).
    pub fn related_text(self, id: Uuid, words: &[String], candidate: &str) -> RelatedText {
        match self {
            Dialect::Postgres => {
                let any_word = words.join(" or ");
                let two_words = if words.len() == 1 {
                    any_word.clone()
                } else {
                    word_pairs(words).join(" or ")
                };
                let newest_matches = Query::select()
                    .expr_as(
                        Expr::col((release::Entity, release::Column::Id)),
                        Alias::new(RELEASE_ID),
                    )
                    .from(release::Entity)
                    .and_where(release_col(SEARCH_VECTOR).binary(
                        BinOper::Custom("@@"),
                        websearch(Expr::Constant(two_words.into())),
                    ))
                    .and_where(Expr::col((release::Entity, release::Column::Id)).ne(id))
                    .order_by((release::Entity, release::Column::PublishedOn), Order::Desc)
                    .order_by((release::Entity, release::Column::Id), Order::Desc)
                    .limit(TEXT_HITS)
                    .take();
                RelatedText {
                    cte: None,
                    candidates: Query::select()
                        .column(Alias::new(RELEASE_ID))
                        .from_subquery(newest_matches, Alias::new("text_candidate"))
                        .take(),
                    score: Func::cust("ts_rank")
                        .arg(Expr::col((
                            Alias::new(candidate),
                            Alias::new(SEARCH_VECTOR),
                        )))
                        .arg(websearch(Expr::Constant(any_word.into())))
                        .arg(RANK_BELOW_ONE)
                        .into(),
                }
            }
            Dialect::Sqlite => {
                let any_word = words
                    .iter()
                    .map(|word| format!("\"{word}\""))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let (hits, best, matched) = (
                    Alias::new("text_hit"),
                    Alias::new("best"),
                    Alias::new("matched"),
                );
                let rank = Alias::new("rank");
                let text_score = Alias::new("text_score");
                let best_matches = Query::select()
                    .column(ROWID)
                    .expr_as(bm25(), rank.clone())
                    .from(FTS_TABLE)
                    .and_where(
                        Expr::col(Alias::new(FTS_TABLE))
                            .binary(BinOper::Custom("MATCH"), Expr::Constant(any_word.into())),
                    )
                    .order_by(rank.clone(), Order::Asc)
                    .order_by(Alias::new(ROWID), Order::Asc)
                    .limit(TEXT_HITS)
                    .take();
                // bm25 is negative, better matches more so: -s / (1 - s) maps it into [0, 1).
                let s = Expr::col((best.clone(), rank));
                let score = s.clone().mul(-1.0).div(Expr::val(1.0).sub(s));
                let cte = Query::select()
                    .expr_as(
                        Expr::col((matched.clone(), release::Column::Id)),
                        Alias::new(RELEASE_ID),
                    )
                    .expr_as(score, text_score.clone())
                    .from_subquery(best_matches, best.clone())
                    .join_as(
                        JoinType::InnerJoin,
                        release::Entity,
                        matched.clone(),
                        Expr::col((matched.clone(), Alias::new(ROWID)))
                            .equals((best, Alias::new(ROWID))),
                    )
                    .and_where(Expr::col((matched, release::Column::Id)).ne(id))
                    .take();
                let score_of_candidate = Query::select()
                    .column((hits.clone(), text_score))
                    .from(hits.clone())
                    .and_where(
                        Expr::col((hits.clone(), Alias::new(RELEASE_ID)))
                            .equals((Alias::new(candidate), release::Column::Id)),
                    )
                    .take();
                RelatedText {
                    cte: Some(
                        CommonTableExpression::new()
                            .query(cte)
                            .table_name(hits.clone())
                            .to_owned(),
                    ),
                    candidates: Query::select()
                        .column(Alias::new(RELEASE_ID))
                        .from(hits)
                        .take(),
                    score: Func::coalesce([
                        Expr::SubQuery(None, Box::new(score_of_candidate.into())),
                        Expr::val(0.0),
                    ])
                    .into(),
                }
            }
        }
    }
}

/// Text candidates of related releases (see [`Dialect::related_text`]).
#[derive(Debug, Clone)]
pub struct RelatedText {
    pub cte: Option<CommonTableExpression>,
    pub candidates: SelectStatement,
    pub score: Expr,
}

/// Candidates taken by text for related releases.
pub const TEXT_HITS: u64 = 120;
/// The id column of candidate lists.
pub const RELEASE_ID: &str = "release_id";
/// PostgreSQL's stored `tsvector` of a release (title weight A, summary B); not an entity
/// column, since SQLite has none.
const SEARCH_VECTOR: &str = "search_vector";
/// SQLite's implicit row id, which links `release` and `release_fts`.
const ROWID: &str = "rowid";

fn release_col(column: &'static str) -> Expr {
    Expr::col((release::Entity, Alias::new(column)))
}

/// `websearch_to_tsquery('english', text)`.
fn websearch(text: Expr) -> Expr {
    Func::cust("websearch_to_tsquery")
        .arg(Expr::Constant(TEXT_SEARCH_CONFIG.into()))
        .arg(text)
        .into()
}

/// The tsquery of `search`: the whole search, OR'ed with the rest of the last group AND the
/// word being typed as a prefix (`simple`: a word still being typed is neither stemmed nor
/// dropped as a stop word). Without the rest, the prefix alone (no empty tsquery, which
/// PostgreSQL would log a notice for).
fn tsquery(search: &SearchQuery) -> Expr {
    let whole = websearch(Expr::val(search.websearch_text()));
    let Some((prefix, rest)) = search.typed_prefix() else {
        return whole;
    };
    let prefix: Expr = Func::cust("to_tsquery")
        .arg(Expr::Constant("simple".into()))
        .arg(Expr::val(prefix))
        .into();
    let typed = match rest {
        None => prefix,
        Some(rest) => websearch(Expr::val(rest)).binary(BinOper::Custom("&&"), prefix),
    };
    whole.binary(BinOper::Custom("||"), typed)
}

/// `"release_fts" MATCH <fts5 expression>`.
fn fts_match(expression: String) -> Expr {
    Expr::col(Alias::new(FTS_TABLE)).binary(BinOper::Custom("MATCH"), Expr::val(expression))
}

/// `bm25("release_fts", 10.0, 1.0)`: lower (more negative) is better.
fn bm25() -> Expr {
    Func::cust("bm25")
        .arg(Expr::col(Alias::new(FTS_TABLE)))
        .arg(Expr::Constant(BM25_WEIGHTS[0].into()))
        .arg(Expr::Constant(BM25_WEIGHTS[1].into()))
        .into()
}

/// Every pair of `words` as "a b" (both words), for `websearch_to_tsquery`.
fn word_pairs(words: &[String]) -> Vec<String> {
    words
        .iter()
        .enumerate()
        .flat_map(|(i, a)| words[i + 1..].iter().map(move |b| format!("{a} {b}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_cover_every_two_words_once() {
        let words: Vec<String> = ["a", "b", "c"].iter().map(|w| (*w).to_owned()).collect();
        assert_eq!(word_pairs(&words), ["a b", "a c", "b c"]);
    }

    #[test]
    fn only_postgres_and_sqlite_are_served() {
        assert_eq!(Dialect::of(DbBackend::Sqlite).ok(), Some(Dialect::Sqlite));
        assert!(Dialect::of(DbBackend::MySql).is_err());
    }
}
