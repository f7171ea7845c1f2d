//! A release's programmes and offices read in the very statement that reads the release: each
//! row carries its tag lists as JSON, which prime the request's loader. A page of releases with
//! their tags, or one release by slug, is then one statement instead of three.

use async_graphql::Context;
use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, EntityTrait, QueryResult, QuerySelect, Select};
use serde::Deserialize;
use uuid::Uuid;

use model::entity::{office, programme};

use crate::error::ApiError;
use crate::schema::data_loader;
use crate::schema::loaders::{OfficesOfRelease, ProgrammesOfRelease};

const PROGRAMMES_COLUMN: &str = "embedded_programmes";
const OFFICES_COLUMN: &str = "embedded_offices";

/// Which tag lists the client selected under the releases being read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagSelection {
    pub programmes: bool,
    pub offices: bool,
}

impl TagSelection {
    /// The tags of the releases of `ctx`'s field, as its selection set asks for them through
    /// `path` (e.g. `["nodes"]` for a connection, `[]` for a single release).
    pub fn of_field(ctx: &Context<'_>, paths: &[&[&str]]) -> TagSelection {
        let selected = |field: &str| {
            paths.iter().any(|path| {
                path.iter()
                    .fold(ctx.look_ahead(), |at, step| at.field(step))
                    .field(field)
                    .exists()
            })
        };
        TagSelection {
            programmes: selected("programmes"),
            offices: selected("offices"),
        }
    }

    /// `query` with a JSON column per selected tag list of each release, in the order the
    /// loaders give (by name).
    pub fn add_columns<E: EntityTrait>(self, query: Select<E>, backend: DbBackend) -> Select<E> {
        let mut query = query;
        if self.programmes {
            query = query.expr_as(Expr::cust(programmes_json(backend)), PROGRAMMES_COLUMN);
        }
        if self.offices {
            query = query.expr_as(Expr::cust(offices_json(backend)), OFFICES_COLUMN);
        }
        query
    }
}

fn programmes_json(backend: DbBackend) -> String {
    let fields = "'id', p.id, 'slug', p.slug, 'name', p.name, 'acronym', p.acronym, \
                  'description', p.description";
    let from = "FROM release_programme AS rp JOIN programme AS p ON p.id = rp.programme_id \
                WHERE rp.release_id = \"release\".\"id\"";
    aggregate(backend, fields, "p.name, p.id", from)
}

fn offices_json(backend: DbBackend) -> String {
    let countries = match backend {
        // SQLite keeps JSON as text; `json()` embeds it as JSON rather than as a string.
        DbBackend::Sqlite => "json(o.countries)",
        _ => "o.countries",
    };
    let fields = format!(
        "'id', o.id, 'slug', o.slug, 'name', o.name, 'acronym', o.acronym, \
         'description', o.description, 'city', o.city, 'countries', {countries}"
    );
    let from = "FROM release_office AS ro JOIN office AS o ON o.id = ro.office_id \
                WHERE ro.release_id = \"release\".\"id\"";
    aggregate(backend, &fields, "o.name, o.id", from)
}

/// A correlated subquery giving a JSON array of objects of `fields`, ordered by `order`; an
/// empty array when there are none.
fn aggregate(backend: DbBackend, fields: &str, order: &str, from: &str) -> String {
    match backend {
        DbBackend::Sqlite => {
            format!("(SELECT json_group_array(json_object({fields}) ORDER BY {order}) {from})")
        }
        _ => format!(
            "(SELECT coalesce(json_agg(json_build_object({fields}) ORDER BY {order}), '[]'::json) \
             {from})"
        ),
    }
}

/// The tag lists read with one release; `None` for a list that was not selected.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedTags {
    programmes: Option<Vec<programme::Model>>,
    offices: Option<Vec<office::Model>>,
}

#[derive(Debug, Deserialize)]
struct ProgrammeJson {
    id: i32,
    slug: String,
    name: String,
    acronym: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OfficeJson {
    id: i32,
    slug: String,
    name: String,
    acronym: Option<String>,
    description: Option<String>,
    city: Option<String>,
    countries: serde_json::Value,
}

impl EmbeddedTags {
    /// The tag columns of `row`, those that `selection` added. A column that cannot be read
    /// is left out, so its resolver loads the tags itself: never wrong, only slower.
    pub fn read(row: &QueryResult, selection: TagSelection) -> EmbeddedTags {
        EmbeddedTags {
            programmes: selection
                .programmes
                .then(|| decode_column::<ProgrammeJson, _>(row, PROGRAMMES_COLUMN))
                .flatten(),
            offices: selection
                .offices
                .then(|| decode_column::<OfficeJson, _>(row, OFFICES_COLUMN))
                .flatten(),
        }
    }
}

/// The JSON array in column `name` of `row`, as models; `None` (and a warning) when it cannot
/// be read.
fn decode_column<J, M>(row: &QueryResult, name: &str) -> Option<Vec<M>>
where
    J: serde::de::DeserializeOwned + Into<M>,
{
    let decoded = row
        .try_get::<serde_json::Value>("", name)
        .map_err(|error| error.to_string())
        .and_then(|value| {
            serde_json::from_value::<Vec<J>>(value).map_err(|error| error.to_string())
        });
    match decoded {
        Ok(list) => Some(list.into_iter().map(Into::into).collect()),
        Err(error) => {
            tracing::warn!(%error, column = name, "embedded tags unreadable");
            None
        }
    }
}

impl From<ProgrammeJson> for programme::Model {
    fn from(p: ProgrammeJson) -> Self {
        programme::Model {
            id: p.id,
            slug: p.slug,
            name: p.name,
            acronym: p.acronym,
            description: p.description,
        }
    }
}

impl From<OfficeJson> for office::Model {
    fn from(o: OfficeJson) -> Self {
        office::Model {
            id: o.id,
            slug: o.slug,
            name: o.name,
            acronym: o.acronym,
            description: o.description,
            city: o.city,
            countries: o.countries,
        }
    }
}

/// Puts the tags read with `releases` into the request's loader, where the `programmes` and
/// `offices` resolvers of those releases find them.
pub async fn prime(
    ctx: &Context<'_>,
    releases: impl IntoIterator<Item = (Uuid, EmbeddedTags)>,
) -> Result<(), ApiError> {
    let mut programmes = Vec::new();
    let mut offices = Vec::new();
    for (id, tags) in releases {
        if let Some(list) = tags.programmes {
            programmes.push((ProgrammesOfRelease(id), list));
        }
        if let Some(list) = tags.offices {
            offices.push((OfficesOfRelease(id), list));
        }
    }
    let loader = data_loader(ctx)?;
    if !programmes.is_empty() {
        loader.feed_many(programmes).await;
    }
    if !offices.is_empty() {
        loader.feed_many(offices).await;
    }
    Ok(())
}
