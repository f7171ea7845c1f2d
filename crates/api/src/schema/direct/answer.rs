//! Runs a plan: its arguments coerced from the request's variables by the very `InputType`
//! code the schema uses, the same reads of the store the resolvers make, and the response
//! written straight to JSON in the order and under the keys the document selects. Whatever the
//! plan cannot answer exactly as the schema would (a value the schema would refuse, a cost
//! near the limit, an error from the store) is a `Fallback`: the request then runs through
//! the schema, which answers it properly.

use async_graphql::{InputType, Name, PathSegment, Variables};
use async_graphql_value::{ConstValue, Value};
use futures::future::try_join_all;

use model::entity::{office, programme, release};

use crate::error::{ApiError, ErrorCode};
use crate::ops::limits::Limits;
use crate::schema::connection::page_complexity;
use crate::schema::connection::{PageArgs, ReleaseConnection, ReleaseOrder, read_releases};
use crate::schema::cursor;
use crate::schema::direct::plan::{
    Condition, ConnectionField, CountField, EdgeField, FacetsField, PageArguments, PageInfoField,
    Plan, ReleaseField, RootField, Selected, TagField,
};
use crate::schema::facets::{ReleaseFacets, count_facets};
use crate::schema::filter::ReleaseFilter;
use crate::schema::node::GlobalId;
use crate::schema::release::{highlight, related_complexity};
use crate::store::Store;
use crate::store::criteria::Scope;
use crate::store::related::{DEFAULT_RELATED, MAX_RELATED, MIN_RELATED};
use crate::store::search::SearchQuery;
use crate::store::tags::TagSelection;

/// Why a plan left a request to the schema (for the debug log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback(pub &'static str);

/// What a plan made of a request.
#[derive(Debug)]
pub enum Planned {
    /// The response body, `{"data":{…}}`.
    Answered(Vec<u8>),
    /// The database could not be read (unreachable, or the statement timed out): the response
    /// the schema gives then, without asking the database a second time.
    Failed(async_graphql::Response),
}

/// Why a root field was not read.
enum Unread {
    Fallback(Fallback),
    /// The database failed, as `ApiError` says.
    Database(ApiError),
}

impl From<Fallback> for Unread {
    fn from(fallback: Fallback) -> Unread {
        Unread::Fallback(fallback)
    }
}

/// A store's failure: the database's own (unreachable, timed out) as such, anything else a
/// fallback, so that the schema words it.
fn unread(error: impl Into<ApiError>, why: &'static str) -> Unread {
    let error = error.into();
    match error.code() {
        ErrorCode::ServiceUnavailable | ErrorCode::Timeout => Unread::Database(error),
        _ => Unread::Fallback(Fallback(why)),
    }
}

/// The response of `plan` for `variables`, read from `store`.
pub async fn answer(
    plan: &Plan,
    variables: &Variables,
    store: &Store,
    limits: &Limits,
) -> Result<Planned, Fallback> {
    let values = Values::of(plan, variables)?;
    if cost(&values, &plan.fields)? > limits.max_cost {
        return Err(Fallback("the cost may exceed the limit"));
    }
    let reads = plan
        .fields
        .iter()
        .map(|selected| read_root(&values, selected, store));
    let read = match try_join_all(reads).await {
        Ok(read) => read,
        Err(Unread::Fallback(fallback)) => return Err(fallback),
        Err(Unread::Database(error)) => return failed(plan, error),
    };
    let mut out = Json(Vec::with_capacity(4096));
    out.raw("{\"data\":");
    let mut object = out.object();
    for (selected, read) in plan.fields.iter().zip(read) {
        let Some(read) = read else { continue };
        object.key(&mut out, &selected.key);
        match (&selected.field, read) {
            (RootField::Typename, _) => out.string("Query"),
            (RootField::Releases { selection, .. }, Read::Page(connection)) => {
                write_connection(&mut out, &values, selection, &connection)?;
            }
            (RootField::Release { selection, .. }, Read::Release(found)) => match found {
                None => out.raw("null"),
                Some(found) => write_release_fields(&mut out, &values, selection, &found)?,
            },
            (RootField::Facets { selection, .. }, Read::Facets(facets)) => {
                write_facets(&mut out, &values, selection, &facets)?;
            }
            _ => return Err(Fallback("a read that does not match its field")),
        }
    }
    object.end(&mut out);
    out.raw("}");
    Ok(Planned::Answered(out.0))
}

/// The schema's response to a database failure under the plan's one root field: the error at
/// the field, and `data` null (or the field null, for `release`, which may be).
fn failed(plan: &Plan, error: ApiError) -> Result<Planned, Fallback> {
    let [selected] = plan.fields.as_slice() else {
        return Err(Fallback(
            "a database failure under one of several root fields",
        ));
    };
    let mut server_error = async_graphql::Error::from(error).into_server_error(selected.pos);
    server_error.path = vec![PathSegment::Field(selected.key.clone())];
    let data = match selected.field {
        RootField::Release { .. } => {
            async_graphql::Value::from_json(serde_json::json!({ selected.key.as_str(): null }))
                .map_err(|_| Fallback("a response key that is no JSON key"))?
        }
        _ => async_graphql::Value::Null,
    };
    let mut response = async_graphql::Response::new(data);
    response.errors = vec![server_error];
    Ok(Planned::Failed(response))
}

/// The variables of one request, checked against the operation's declarations as the schema's
/// validation checks them.
struct Values<'a> {
    given: &'a Variables,
    plan: &'a Plan,
}

impl<'a> Values<'a> {
    fn of(plan: &'a Plan, given: &'a Variables) -> Result<Values<'a>, Fallback> {
        if given
            .keys()
            .any(|name| !plan.variables.iter().any(|spec| spec.name == *name))
        {
            return Err(Fallback("a variable the operation does not declare"));
        }
        for spec in &plan.variables {
            let null = match given.get(&spec.name) {
                Some(value) => *value == ConstValue::Null,
                None => spec.default.is_none(),
            };
            if null && !spec.nullable {
                return Err(Fallback("a required variable without a value"));
            }
        }
        Ok(Values { given, plan })
    }

    fn variable(&self, name: &Name) -> Result<ConstValue, Fallback> {
        if let Some(value) = self.given.get(name) {
            return Ok(value.clone());
        }
        let spec = self
            .plan
            .variables
            .iter()
            .find(|spec| spec.name == *name)
            .ok_or(Fallback("an undeclared variable"))?;
        Ok(spec.default.clone().unwrap_or(ConstValue::Null))
    }

    fn constant(&self, value: &Value) -> Result<ConstValue, Fallback> {
        value.clone().into_const_with(|name| self.variable(&name))
    }

    /// An optional argument, coerced as the schema coerces it.
    fn argument<T: InputType>(&self, value: Option<&Value>) -> Result<Option<T>, Fallback> {
        let Some(value) = value else { return Ok(None) };
        <Option<T>>::parse(Some(self.constant(value)?))
            .map_err(|_| Fallback("an argument the schema would refuse"))
    }

    /// A filter, refused (as validation refuses it) when it names a field the type lacks.
    fn filter(&self, value: Option<&Value>) -> Result<Option<ReleaseFilter>, Fallback> {
        let Some(value) = value else { return Ok(None) };
        let value = self.constant(value)?;
        if let ConstValue::Object(given) = &value {
            let ConstValue::Object(known) = ReleaseFilter::default().to_value() else {
                return Err(Fallback("a filter that is not an object"));
            };
            if given.keys().any(|name| !known.contains_key(name)) {
                return Err(Fallback("an unknown field in a filter"));
            }
        }
        <Option<ReleaseFilter>>::parse(Some(value))
            .map_err(|_| Fallback("a filter the schema would refuse"))
    }

    fn holds(&self, conditions: &[Condition]) -> Result<bool, Fallback> {
        for condition in conditions {
            // The schema does not apply a variable's default to `@include`/`@skip` (it leaves
            // the field out), which a plan does not imitate.
            if let Value::Variable(name) = &condition.value
                && self.given.get(name).is_none()
            {
                return Err(Fallback(
                    "a condition on a variable the request does not give",
                ));
            }
            let ConstValue::Boolean(value) = self.constant(&condition.value)? else {
                return Err(Fallback("a condition that is not a boolean"));
            };
            if value != condition.include {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// An upper bound of what the schema's validation counts as the operation's cost: every field
/// counts, whatever its conditions, and a page as many times as it can hold releases.
fn cost(values: &Values, fields: &[Selected<RootField>]) -> Result<usize, Fallback> {
    let mut total = 0usize;
    for selected in fields {
        total = total.saturating_add(match &selected.field {
            RootField::Typename => 1,
            RootField::Releases {
                arguments,
                selection,
            } => {
                let first = values.argument::<i32>(arguments.first.as_ref())?;
                let last = values.argument::<i32>(arguments.last.as_ref())?;
                page_complexity(first, last, connection_cost(values, selection)?)
            }
            RootField::Release { selection, .. } => 1 + release_cost(values, selection)?,
            RootField::Facets { selection, .. } => 1 + facets_cost(selection),
        });
    }
    Ok(total)
}

fn connection_cost(
    values: &Values,
    fields: &[Selected<ConnectionField>],
) -> Result<usize, Fallback> {
    let mut total = 0usize;
    for selected in fields {
        total = total.saturating_add(match &selected.field {
            ConnectionField::Typename | ConnectionField::TotalCount => 1,
            ConnectionField::Nodes(selection) => 1 + release_cost(values, selection)?,
            ConnectionField::Edges(selection) => {
                let mut edge = 0usize;
                for field in selection {
                    edge = edge.saturating_add(match &field.field {
                        EdgeField::Typename | EdgeField::Cursor => 1,
                        EdgeField::Node(selection) => 1 + release_cost(values, selection)?,
                    });
                }
                1 + edge
            }
            ConnectionField::PageInfo(selection) => 1 + selection.len(),
        });
    }
    Ok(total)
}

fn release_cost(values: &Values, fields: &[Selected<ReleaseField>]) -> Result<usize, Fallback> {
    let mut total = 0usize;
    for selected in fields {
        total = total.saturating_add(match &selected.field {
            ReleaseField::Programmes(selection) | ReleaseField::Offices(selection) => {
                1 + selection.len()
            }
            ReleaseField::Related { first, selection } => {
                let first = values
                    .argument::<i32>(first.as_ref())?
                    .unwrap_or(DEFAULT_RELATED);
                related_complexity(first, release_cost(values, selection)?)
            }
            _ => 1,
        });
    }
    Ok(total)
}

fn facets_cost(fields: &[Selected<FacetsField>]) -> usize {
    fields
        .iter()
        .map(|selected| match &selected.field {
            FacetsField::Typename | FacetsField::Total => 1,
            FacetsField::Years(selection)
            | FacetsField::Months(selection)
            | FacetsField::Programmes(selection)
            | FacetsField::Offices(selection) => {
                1 + selection
                    .iter()
                    .map(|bucket| match &bucket.field {
                        CountField::Tag(tag) => 1 + tag.len(),
                        _ => 1,
                    })
                    .sum::<usize>()
            }
        })
        .sum()
}

/// What a root field read.
enum Read {
    Typename,
    Page(ReleaseConnection),
    Release(Option<FoundRelease>),
    Facets(ReleaseFacets),
}

/// A release read by slug, with its tags and, when selected, its related releases.
struct FoundRelease {
    release: release::Model,
    programmes: Option<Vec<programme::Model>>,
    offices: Option<Vec<office::Model>>,
    related: Option<Vec<release::Model>>,
}

/// The reads of a root field, or `None` when its conditions leave it out.
async fn read_root(
    values: &Values<'_>,
    selected: &Selected<RootField>,
    store: &Store,
) -> Result<Option<Read>, Unread> {
    if !values.holds(&selected.conditions)? {
        return Ok(None);
    }
    let read = match &selected.field {
        RootField::Typename => Read::Typename,
        RootField::Releases {
            arguments,
            selection,
        } => Read::Page(read_page(values, arguments, selection, store).await?),
        RootField::Release { slug, selection } => {
            let slug = values
                .argument::<String>(Some(slug))?
                .ok_or(Fallback("a null slug"))?;
            let tags = TagSelection {
                programmes: selection
                    .iter()
                    .any(|field| matches!(field.field, ReleaseField::Programmes(_))),
                offices: selection
                    .iter()
                    .any(|field| matches!(field.field, ReleaseField::Offices(_))),
            };
            let found = store
                .release_by_slug(&slug, tags)
                .await
                .map_err(|error| unread(error, "the store failed"))?;
            match found {
                None => Read::Release(None),
                Some((release, tags)) => {
                    let related = read_related(values, selection, &release, store).await?;
                    Read::Release(Some(FoundRelease {
                        release,
                        programmes: tags.programmes,
                        offices: tags.offices,
                        related,
                    }))
                }
            }
        }
        RootField::Facets { filter, .. } => {
            let filter = values.filter(filter.as_ref())?;
            Read::Facets(
                count_facets(store, filter)
                    .await
                    .map_err(|error| unread(error, "the facets failed"))?,
            )
        }
    };
    Ok(Some(read))
}

async fn read_page(
    values: &Values<'_>,
    arguments: &PageArguments,
    selection: &[Selected<ConnectionField>],
    store: &Store,
) -> Result<ReleaseConnection, Unread> {
    let filter = values
        .filter(arguments.filter.as_ref())?
        .unwrap_or_default();
    let order = values
        .argument::<ReleaseOrder>(arguments.order_by.as_ref())?
        .unwrap_or_default();
    let page = PageArgs {
        first: values.argument(arguments.first.as_ref())?,
        after: values.argument(arguments.after.as_ref())?,
        last: values.argument(arguments.last.as_ref())?,
        before: values.argument(arguments.before.as_ref())?,
    };
    let count_total = selection
        .iter()
        .any(|field| matches!(field.field, ConnectionField::TotalCount));
    let mut tags = TagSelection {
        programmes: false,
        offices: false,
    };
    for field in selection {
        let releases: Vec<&[Selected<ReleaseField>]> = match &field.field {
            ConnectionField::Nodes(selection) => vec![selection],
            ConnectionField::Edges(edge) => edge
                .iter()
                .filter_map(|field| match &field.field {
                    EdgeField::Node(selection) => Some(selection.as_slice()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for release in releases {
            for field in release {
                match field.field {
                    ReleaseField::Programmes(_) => tags.programmes = true,
                    ReleaseField::Offices(_) => tags.offices = true,
                    ReleaseField::Related { .. } => {
                        return Err(Fallback("related releases of every release of a page").into());
                    }
                    _ => {}
                }
            }
        }
    }
    read_releases(
        store,
        Scope::Archive,
        filter,
        order,
        page,
        count_total,
        tags,
    )
    .await
    .map_err(|error| unread(error, "the page failed"))
}

/// The related releases of `release`, when the selection asks for them.
async fn read_related(
    values: &Values<'_>,
    selection: &[Selected<ReleaseField>],
    release: &release::Model,
    store: &Store,
) -> Result<Option<Vec<release::Model>>, Unread> {
    let mut asked = None;
    for field in selection {
        if let ReleaseField::Related { first, .. } = &field.field
            && values.holds(&field.conditions)?
        {
            asked = Some(first);
        }
    }
    let Some(first) = asked else {
        return Ok(None);
    };
    let first = values
        .argument::<i32>(first.as_ref())?
        .unwrap_or(DEFAULT_RELATED);
    if !(MIN_RELATED..=MAX_RELATED).contains(&first) {
        return Err(Fallback("a count of related releases out of range").into());
    }
    let first = u64::from(first.unsigned_abs());
    store
        .related(release.id, &release.title, first)
        .await
        .map(Some)
        .map_err(|error| unread(error, "the related releases failed"))
}

fn write_connection(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<ConnectionField>],
    connection: &ReleaseConnection,
) -> Result<(), Fallback> {
    let search = connection.search.as_deref();
    write_object(out, values, selection, |out, field| {
        match field {
            ConnectionField::Typename => out.string("ReleaseConnection"),
            ConnectionField::TotalCount => {
                let total = connection
                    .total_count
                    .ok_or(Fallback("a total that was not counted"))?;
                out.number(total);
            }
            ConnectionField::Nodes(fields) => {
                let mut list = out.list();
                for row in &connection.rows {
                    list.item(out);
                    let found = PageRelease { row, search };
                    write_release_fields(out, values, fields, &found)?;
                }
                list.end(out);
            }
            ConnectionField::Edges(fields) => {
                let mut list = out.list();
                for row in &connection.rows {
                    list.item(out);
                    write_object(out, values, fields, |out, field| {
                        match field {
                            EdgeField::Typename => out.string("ReleaseEdge"),
                            EdgeField::Cursor => out.string(&cursor::encode(row.position())),
                            EdgeField::Node(fields) => {
                                let found = PageRelease { row, search };
                                write_release_fields(out, values, fields, &found)?;
                            }
                        }
                        Ok(())
                    })?;
                }
                list.end(out);
            }
            ConnectionField::PageInfo(fields) => {
                let info = &connection.page_info;
                write_object(out, values, fields, |out, field| {
                    match field {
                        PageInfoField::Typename => out.string("PageInfo"),
                        PageInfoField::HasNextPage => out.boolean(info.has_next_page),
                        PageInfoField::HasPreviousPage => out.boolean(info.has_previous_page),
                        PageInfoField::StartCursor => out.optional(info.start_cursor.as_deref()),
                        PageInfoField::EndCursor => out.optional(info.end_cursor.as_deref()),
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    })
}

/// What a release's fields are read from.
trait ReleaseSource {
    fn release(&self) -> &release::Model;
    fn search(&self) -> Option<&SearchQuery>;
    fn programmes(&self) -> Option<&[programme::Model]>;
    fn offices(&self) -> Option<&[office::Model]>;
    fn related(&self) -> Option<&[release::Model]>;
}

struct PageRelease<'a> {
    row: &'a crate::store::page::PageRow,
    search: Option<&'a SearchQuery>,
}

impl ReleaseSource for PageRelease<'_> {
    fn release(&self) -> &release::Model {
        &self.row.release
    }
    fn search(&self) -> Option<&SearchQuery> {
        self.search
    }
    fn programmes(&self) -> Option<&[programme::Model]> {
        self.row.tags.programmes.as_deref()
    }
    fn offices(&self) -> Option<&[office::Model]> {
        self.row.tags.offices.as_deref()
    }
    fn related(&self) -> Option<&[release::Model]> {
        None
    }
}

impl ReleaseSource for FoundRelease {
    fn release(&self) -> &release::Model {
        &self.release
    }
    fn search(&self) -> Option<&SearchQuery> {
        None
    }
    fn programmes(&self) -> Option<&[programme::Model]> {
        self.programmes.as_deref()
    }
    fn offices(&self) -> Option<&[office::Model]> {
        self.offices.as_deref()
    }
    fn related(&self) -> Option<&[release::Model]> {
        self.related.as_deref()
    }
}

/// A related release: its own columns only.
struct Related<'a>(&'a release::Model);

impl ReleaseSource for Related<'_> {
    fn release(&self) -> &release::Model {
        self.0
    }
    fn search(&self) -> Option<&SearchQuery> {
        None
    }
    fn programmes(&self) -> Option<&[programme::Model]> {
        None
    }
    fn offices(&self) -> Option<&[office::Model]> {
        None
    }
    fn related(&self) -> Option<&[release::Model]> {
        None
    }
}

fn write_release_fields(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<ReleaseField>],
    source: &dyn ReleaseSource,
) -> Result<(), Fallback> {
    let release = source.release();
    write_object(out, values, selection, |out, field| {
        match field {
            ReleaseField::Typename => out.string("Release"),
            ReleaseField::Id => out.string(GlobalId::Release(release.id).encode().as_str()),
            ReleaseField::Slug => out.string(&release.slug),
            ReleaseField::Title => out.string(&release.title),
            ReleaseField::PublishedOn => {
                out.string(&release.published_on.format("%Y-%m-%d").to_string());
            }
            ReleaseField::Summary => out.optional(release.summary.as_deref()),
            ReleaseField::ImageCredit => out.optional(release.image_credit.as_deref()),
            ReleaseField::Highlight => match source.search() {
                Some(search) => out.string(&highlight(search, release)),
                None => out.raw("null"),
            },
            ReleaseField::Programmes(fields) => {
                let programmes = source
                    .programmes()
                    .ok_or(Fallback("programmes not read with the release"))?;
                let mut list = out.list();
                for programme in programmes {
                    list.item(out);
                    write_tag(out, values, fields, &TagColumns::of_programme(programme))?;
                }
                list.end(out);
            }
            ReleaseField::Offices(fields) => {
                let offices = source
                    .offices()
                    .ok_or(Fallback("offices not read with the release"))?;
                let mut list = out.list();
                for office in offices {
                    list.item(out);
                    write_tag(out, values, fields, &TagColumns::of_office(office))?;
                }
                list.end(out);
            }
            ReleaseField::Related { selection, .. } => {
                let related = source
                    .related()
                    .ok_or(Fallback("related releases not read"))?;
                let mut list = out.list();
                for release in related {
                    list.item(out);
                    write_release_fields(out, values, selection, &Related(release))?;
                }
                list.end(out);
            }
        }
        Ok(())
    })
}

/// The columns of a programme or an office that `TagField`s read.
struct TagColumns<'a> {
    typename: &'static str,
    id: GlobalId,
    slug: &'a str,
    name: &'a str,
    acronym: Option<&'a str>,
    description: Option<&'a str>,
    city: Option<&'a str>,
}

impl<'a> TagColumns<'a> {
    fn of_programme(programme: &'a programme::Model) -> TagColumns<'a> {
        TagColumns {
            typename: "Programme",
            id: GlobalId::Programme(programme.slug.clone()),
            slug: &programme.slug,
            name: &programme.name,
            acronym: programme.acronym.as_deref(),
            description: programme.description.as_deref(),
            city: None,
        }
    }

    fn of_office(office: &'a office::Model) -> TagColumns<'a> {
        TagColumns {
            typename: "Office",
            id: GlobalId::Office(office.slug.clone()),
            slug: &office.slug,
            name: &office.name,
            acronym: None,
            description: None,
            city: office.city.as_deref(),
        }
    }
}

fn write_tag(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<TagField>],
    tag: &TagColumns,
) -> Result<(), Fallback> {
    write_object(out, values, selection, |out, field| {
        match field {
            TagField::Typename => out.string(tag.typename),
            TagField::Id => out.string(tag.id.clone().encode().as_str()),
            TagField::Slug => out.string(tag.slug),
            TagField::Name => out.string(tag.name),
            TagField::Acronym => out.optional(tag.acronym),
            TagField::Description => out.optional(tag.description),
            TagField::City => out.optional(tag.city),
        }
        Ok(())
    })
}

fn write_facets(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<FacetsField>],
    facets: &ReleaseFacets,
) -> Result<(), Fallback> {
    write_object(out, values, selection, |out, field| {
        match field {
            FacetsField::Typename => out.string("ReleaseFacets"),
            FacetsField::Total => out.number(facets.total),
            FacetsField::Years(fields) => {
                let buckets = facets.years.iter().map(|bucket| Bucket {
                    typename: "YearCount",
                    year: Some(bucket.year),
                    month: None,
                    tag: None,
                    count: bucket.count,
                });
                write_buckets(out, values, fields, buckets)?;
            }
            FacetsField::Months(fields) => {
                let buckets = facets.months.iter().map(|bucket| Bucket {
                    typename: "MonthCount",
                    year: Some(bucket.year),
                    month: Some(bucket.month),
                    tag: None,
                    count: bucket.count,
                });
                write_buckets(out, values, fields, buckets)?;
            }
            FacetsField::Programmes(fields) => {
                let buckets = facets.programmes.iter().map(|bucket| Bucket {
                    typename: "ProgrammeCount",
                    year: None,
                    month: None,
                    tag: Some(TagColumns::of_programme(&bucket.programme.0)),
                    count: bucket.count,
                });
                write_buckets(out, values, fields, buckets)?;
            }
            FacetsField::Offices(fields) => {
                let buckets = facets.offices.iter().map(|bucket| Bucket {
                    typename: "OfficeCount",
                    year: None,
                    month: None,
                    tag: Some(TagColumns::of_office(&bucket.office.0)),
                    count: bucket.count,
                });
                write_buckets(out, values, fields, buckets)?;
            }
        }
        Ok(())
    })
}

/// One bucket of a facet, whichever its kind.
struct Bucket<'a> {
    typename: &'static str,
    year: Option<i32>,
    month: Option<i32>,
    tag: Option<TagColumns<'a>>,
    count: i64,
}

fn write_buckets<'a>(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<CountField>],
    buckets: impl Iterator<Item = Bucket<'a>>,
) -> Result<(), Fallback> {
    let mut list = out.list();
    for bucket in buckets {
        list.item(out);
        write_object(out, values, selection, |out, field| {
            match field {
                CountField::Typename => out.string(bucket.typename),
                CountField::Count => out.number(bucket.count),
                CountField::Year => {
                    out.number(bucket.year.ok_or(Fallback("a bucket without a year"))?)
                }
                CountField::Month => {
                    out.number(bucket.month.ok_or(Fallback("a bucket without a month"))?);
                }
                CountField::Tag(fields) => {
                    let tag = bucket
                        .tag
                        .as_ref()
                        .ok_or(Fallback("a bucket without its tag"))?;
                    write_tag(out, values, fields, tag)?;
                }
            }
            Ok(())
        })?;
    }
    list.end(out);
    Ok(())
}

/// An object of the fields of `selection` whose conditions hold, in the document's order under
/// their response keys, each value written by `write`.
fn write_object<F>(
    out: &mut Json,
    values: &Values,
    selection: &[Selected<F>],
    mut write: impl FnMut(&mut Json, &F) -> Result<(), Fallback>,
) -> Result<(), Fallback> {
    let mut object = out.object();
    for selected in selection {
        if !values.holds(&selected.conditions)? {
            continue;
        }
        object.key(out, &selected.key);
        write(out, &selected.field)?;
    }
    object.end(out);
    Ok(())
}

/// A JSON text written as serde_json writes async-graphql's responses: no spaces, strings
/// escaped by serde_json itself.
struct Json(Vec<u8>);

/// An object being written: whether a member needs a comma before it.
struct Members {
    any: bool,
}

/// A list being written.
struct Items {
    any: bool,
}

impl Json {
    fn raw(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    fn string(&mut self, text: &str) {
        // Writing into a Vec cannot fail, and a &str always serialises.
        let _ = serde_json::to_writer(&mut self.0, text);
    }

    fn optional(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.raw("null"),
        }
    }

    fn number(&mut self, number: impl serde::Serialize) {
        // An integer always serialises.
        let _ = serde_json::to_writer(&mut self.0, &number);
    }

    fn boolean(&mut self, value: bool) {
        self.raw(if value { "true" } else { "false" });
    }

    fn object(&mut self) -> Members {
        self.0.push(b'{');
        Members { any: false }
    }

    fn list(&mut self) -> Items {
        self.0.push(b'[');
        Items { any: false }
    }
}

impl Members {
    fn key(&mut self, out: &mut Json, key: &str) {
        if std::mem::replace(&mut self.any, true) {
            out.0.push(b',');
        }
        out.string(key);
        out.0.push(b':');
    }

    fn end(self, out: &mut Json) {
        out.0.push(b'}');
    }
}

impl Items {
    fn item(&mut self, out: &mut Json) {
        if std::mem::replace(&mut self.any, true) {
            out.0.push(b',');
        }
    }

    fn end(self, out: &mut Json) {
        out.0.push(b']');
    }
}
