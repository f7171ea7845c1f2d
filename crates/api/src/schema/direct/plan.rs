//! A query document compiled into a plan: its operation's fields, by response key, in the
//! order it selects them, over the part of the schema whose fields are plain reads of what
//! the store returns. Anything else (fragments, other fields or directives, a key selected
//! twice, a subscription) leaves the document without a plan.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Pos};
use async_graphql_value::{ConstValue, Value};

use crate::ops::limits::Limits;

/// A compiled operation.
#[derive(Debug)]
pub struct Plan {
    /// The operation's name, for the request log.
    pub operation: Option<String>,
    pub variables: Vec<VariableSpec>,
    pub fields: Vec<Selected<RootField>>,
}

/// A variable the operation declares.
#[derive(Debug)]
pub struct VariableSpec {
    pub name: Name,
    /// `false` for a `!` type: a request must give it a value other than null (or a default must).
    pub nullable: bool,
    pub default: Option<ConstValue>,
}

/// A field under its response key, and the `@include`/`@skip` conditions it carries.
#[derive(Debug)]
pub struct Selected<F> {
    pub key: String,
    /// Where the field is in the document, for an error's `locations`.
    pub pos: Pos,
    pub field: F,
    pub conditions: Vec<Condition>,
}

/// `@include(if: value)` (`include` true) or `@skip(if: value)` (`include` false).
#[derive(Debug)]
pub struct Condition {
    pub value: Value,
    pub include: bool,
}

#[derive(Debug)]
pub enum RootField {
    Typename,
    Releases {
        arguments: Box<PageArguments>,
        selection: Vec<Selected<ConnectionField>>,
    },
    Release {
        slug: Value,
        selection: Vec<Selected<ReleaseField>>,
    },
    Facets {
        filter: Option<Value>,
        selection: Vec<Selected<FacetsField>>,
    },
}

/// The arguments of a `releases` field, as the document gives them.
#[derive(Debug, Default)]
pub struct PageArguments {
    pub filter: Option<Value>,
    pub order_by: Option<Value>,
    pub first: Option<Value>,
    pub after: Option<Value>,
    pub last: Option<Value>,
    pub before: Option<Value>,
}

#[derive(Debug)]
pub enum ConnectionField {
    Typename,
    TotalCount,
    Nodes(Vec<Selected<ReleaseField>>),
    Edges(Vec<Selected<EdgeField>>),
    PageInfo(Vec<Selected<PageInfoField>>),
}

#[derive(Debug)]
pub enum EdgeField {
    Typename,
    Cursor,
    Node(Vec<Selected<ReleaseField>>),
}

#[derive(Debug)]
pub enum PageInfoField {
    Typename,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

#[derive(Debug)]
pub enum ReleaseField {
    Typename,
    Id,
    Slug,
    Title,
    PublishedOn,
    Summary,
    ImageCredit,
    Highlight,
    Programmes(Vec<Selected<TagField>>),
    Offices(Vec<Selected<TagField>>),
    /// `related(first:)`: releases read without their tags, so only their own columns.
    Related {
        first: Option<Value>,
        selection: Vec<Selected<ReleaseField>>,
    },
}

/// A field of a programme or an office that is one of its columns.
#[derive(Debug)]
pub enum TagField {
    Typename,
    Id,
    Slug,
    Name,
    /// `Programme.acronym`.
    Acronym,
    /// `Programme.description`.
    Description,
    /// `Office.city`.
    City,
}

#[derive(Debug)]
pub enum FacetsField {
    Typename,
    Total,
    Years(Vec<Selected<CountField>>),
    Months(Vec<Selected<CountField>>),
    Programmes(Vec<Selected<CountField>>),
    Offices(Vec<Selected<CountField>>),
}

/// A field of a facet's bucket.
#[derive(Debug)]
pub enum CountField {
    Typename,
    Year,
    Month,
    Count,
    /// The bucket's programme or office.
    Tag(Vec<Selected<TagField>>),
}

/// The kinds of tag, for the fields only one of them has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Programme,
    Office,
}

/// The bucket kinds of `releaseFacets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Year,
    Month,
    Programme,
    Office,
}

/// Why a document has no plan (kept for the debug log only).
type NotPlain = &'static str;

/// The plan of the operation `operation_name` of `document`, or why there is none. `limits`
/// bound the depth and the aliases as the schema's guard does; the cost, which depends on the
/// variables, is bounded when the plan runs.
pub fn compile(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &Limits,
) -> Result<Plan, NotPlain> {
    let (name, operation) = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => (None, operation),
        (DocumentOperations::Multiple(operations), Some(wanted)) => operations
            .iter()
            .find(|(name, _)| name.as_str() == wanted)
            .map(|(name, operation)| (Some(name), operation))
            .ok_or("no operation of that name")?,
        (DocumentOperations::Multiple(operations), None) => match operations.iter().next() {
            Some((name, operation)) if operations.len() == 1 => (Some(name), operation),
            _ => return Err("no operation chosen"),
        },
    };
    let operation = &operation.node;
    if operation.ty != OperationType::Query {
        return Err("not a query");
    }
    if !operation.directives.is_empty() {
        return Err("directives on the operation");
    }
    let mut variables = Vec::with_capacity(operation.variable_definitions.len());
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        if !definition.directives.is_empty() {
            return Err("directives on a variable");
        }
        variables.push(VariableSpec {
            name: definition.name.node.clone(),
            nullable: definition.var_type.node.nullable,
            default: definition
                .default_value
                .as_ref()
                .map(|value| value.node.clone()),
        });
    }
    let mut compiler = Compiler { aliases: 0 };
    let fields = compiler.root(&operation.selection_set.node)?;
    if compiler.aliases > limits.max_aliases {
        return Err("too many aliases");
    }
    if depth_of(&operation.selection_set.node) > limits.max_depth {
        return Err("too deep");
    }
    Ok(Plan {
        operation: name.map(|name| name.to_string()),
        variables,
        fields,
    })
}

struct Compiler {
    aliases: usize,
}

impl Compiler {
    /// The fields of `set`, each compiled by `compile` from its name, with their keys and
    /// conditions; a key selected twice, a fragment or an unknown directive has no plan.
    fn fields<F>(
        &mut self,
        set: &SelectionSet,
        mut compile: impl FnMut(&mut Self, &Field) -> Result<F, NotPlain>,
    ) -> Result<Vec<Selected<F>>, NotPlain> {
        let mut fields: Vec<Selected<F>> = Vec::with_capacity(set.items.len());
        for item in &set.items {
            let Selection::Field(field) = &item.node else {
                return Err("fragments");
            };
            let pos = field.pos;
            let field = &field.node;
            let key = field.response_key().node.as_str();
            if fields.iter().any(|selected| selected.key == key) {
                return Err("a response key selected twice");
            }
            if field.alias.is_some() {
                self.aliases += 1;
            }
            let mut conditions = Vec::new();
            for directive in &field.directives {
                let directive = &directive.node;
                let include = match directive.name.node.as_str() {
                    "include" => true,
                    "skip" => false,
                    _ => return Err("a directive other than @include and @skip"),
                };
                let [(argument, value)] = directive.arguments.as_slice() else {
                    return Err("a condition without its one argument");
                };
                if argument.node != "if" {
                    return Err("a condition without `if`");
                }
                conditions.push(Condition {
                    value: value.node.clone(),
                    include,
                });
            }
            fields.push(Selected {
                key: key.to_owned(),
                pos,
                field: compile(self, field)?,
                conditions,
            });
        }
        Ok(fields)
    }

    fn root(&mut self, set: &SelectionSet) -> Result<Vec<Selected<RootField>>, NotPlain> {
        self.fields(set, |compiler, field| {
            Ok(match field.name.node.as_str() {
                "__typename" => leaf(field, RootField::Typename)?,
                "releases" => {
                    let mut arguments = PageArguments::default();
                    for (name, value) in &field.arguments {
                        let value = Some(value.node.clone());
                        match name.node.as_str() {
                            "filter" => arguments.filter = value,
                            "orderBy" => arguments.order_by = value,
                            "first" => arguments.first = value,
                            "after" => arguments.after = value,
                            "last" => arguments.last = value,
                            "before" => arguments.before = value,
                            _ => return Err("an unknown argument"),
                        }
                    }
                    RootField::Releases {
                        arguments: Box::new(arguments),
                        selection: compiler.connection(&field.selection_set.node)?,
                    }
                }
                "release" => {
                    let [(name, slug)] = field.arguments.as_slice() else {
                        return Err("`release` without its one argument");
                    };
                    if name.node != "slug" {
                        return Err("an unknown argument");
                    }
                    RootField::Release {
                        slug: slug.node.clone(),
                        selection: compiler.release(&field.selection_set.node, true)?,
                    }
                }
                "releaseFacets" => RootField::Facets {
                    filter: only_argument(field, "filter")?,
                    selection: compiler.facets(&field.selection_set.node)?,
                },
                _ => return Err("a root field without a plan"),
            })
        })
    }

    fn connection(
        &mut self,
        set: &SelectionSet,
    ) -> Result<Vec<Selected<ConnectionField>>, NotPlain> {
        self.fields(set, |compiler, field| {
            no_arguments(field)?;
            let set = &field.selection_set.node;
            Ok(match field.name.node.as_str() {
                "__typename" => leaf(field, ConnectionField::Typename)?,
                "totalCount" => leaf(field, ConnectionField::TotalCount)?,
                "nodes" => ConnectionField::Nodes(compiler.release(set, true)?),
                "edges" => ConnectionField::Edges(compiler.fields(set, |compiler, field| {
                    no_arguments(field)?;
                    Ok(match field.name.node.as_str() {
                        "__typename" => leaf(field, EdgeField::Typename)?,
                        "cursor" => leaf(field, EdgeField::Cursor)?,
                        "node" => {
                            EdgeField::Node(compiler.release(&field.selection_set.node, true)?)
                        }
                        _ => return Err("an edge field without a plan"),
                    })
                })?),
                "pageInfo" => ConnectionField::PageInfo(compiler.fields(set, |_, field| {
                    no_arguments(field)?;
                    leaf(
                        field,
                        match field.name.node.as_str() {
                            "__typename" => PageInfoField::Typename,
                            "hasNextPage" => PageInfoField::HasNextPage,
                            "hasPreviousPage" => PageInfoField::HasPreviousPage,
                            "startCursor" => PageInfoField::StartCursor,
                            "endCursor" => PageInfoField::EndCursor,
                            _ => return Err("an unknown field of PageInfo"),
                        },
                    )
                })?),
                _ => return Err("a connection field without a plan"),
            })
        })
    }

    /// A release's fields; `with_tags` false for releases read without their programmes and
    /// offices (`related`).
    fn release(
        &mut self,
        set: &SelectionSet,
        with_tags: bool,
    ) -> Result<Vec<Selected<ReleaseField>>, NotPlain> {
        self.fields(set, |compiler, field| {
            let name = field.name.node.as_str();
            if name == "related" {
                if !with_tags {
                    return Err("related releases of related releases");
                }
                return Ok(ReleaseField::Related {
                    first: only_argument(field, "first")?,
                    selection: compiler.release(&field.selection_set.node, false)?,
                });
            }
            no_arguments(field)?;
            let set = &field.selection_set.node;
            Ok(match name {
                "programmes" if with_tags => {
                    ReleaseField::Programmes(compiler.tag(set, Tag::Programme)?)
                }
                "offices" if with_tags => ReleaseField::Offices(compiler.tag(set, Tag::Office)?),
                _ => leaf(
                    field,
                    match name {
                        "__typename" => ReleaseField::Typename,
                        "id" => ReleaseField::Id,
                        "slug" => ReleaseField::Slug,
                        "title" => ReleaseField::Title,
                        "publishedOn" => ReleaseField::PublishedOn,
                        "summary" => ReleaseField::Summary,
                        "imageCredit" => ReleaseField::ImageCredit,
                        "highlight" => ReleaseField::Highlight,
                        _ => return Err("a release field without a plan"),
                    },
                )?,
            })
        })
    }

    fn tag(&mut self, set: &SelectionSet, tag: Tag) -> Result<Vec<Selected<TagField>>, NotPlain> {
        self.fields(set, |_, field| {
            no_arguments(field)?;
            leaf(
                field,
                match (field.name.node.as_str(), tag) {
                    ("__typename", _) => TagField::Typename,
                    ("id", _) => TagField::Id,
                    ("slug", _) => TagField::Slug,
                    ("name", _) => TagField::Name,
                    ("acronym", Tag::Programme) => TagField::Acronym,
                    ("description", Tag::Programme) => TagField::Description,
                    ("city", Tag::Office) => TagField::City,
                    _ => return Err("a tag field without a plan"),
                },
            )
        })
    }

    fn facets(&mut self, set: &SelectionSet) -> Result<Vec<Selected<FacetsField>>, NotPlain> {
        self.fields(set, |compiler, field| {
            no_arguments(field)?;
            let set = &field.selection_set.node;
            Ok(match field.name.node.as_str() {
                "__typename" => leaf(field, FacetsField::Typename)?,
                "total" => leaf(field, FacetsField::Total)?,
                "years" => FacetsField::Years(compiler.bucket(set, Bucket::Year)?),
                "months" => FacetsField::Months(compiler.bucket(set, Bucket::Month)?),
                "programmes" => FacetsField::Programmes(compiler.bucket(set, Bucket::Programme)?),
                "offices" => FacetsField::Offices(compiler.bucket(set, Bucket::Office)?),
                _ => return Err("a facet without a plan"),
            })
        })
    }

    fn bucket(
        &mut self,
        set: &SelectionSet,
        bucket: Bucket,
    ) -> Result<Vec<Selected<CountField>>, NotPlain> {
        self.fields(set, |compiler, field| {
            no_arguments(field)?;
            let set = &field.selection_set.node;
            Ok(match (field.name.node.as_str(), bucket) {
                ("programme", Bucket::Programme) => {
                    CountField::Tag(compiler.tag(set, Tag::Programme)?)
                }
                ("office", Bucket::Office) => CountField::Tag(compiler.tag(set, Tag::Office)?),
                (name, _) => leaf(
                    field,
                    match (name, bucket) {
                        ("__typename", _) => CountField::Typename,
                        ("count", _) => CountField::Count,
                        ("year", Bucket::Year | Bucket::Month) => CountField::Year,
                        ("month", Bucket::Month) => CountField::Month,
                        _ => return Err("a bucket field without a plan"),
                    },
                )?,
            })
        })
    }
}

/// `compiled` for a field that must have no sub-selection.
fn leaf<F>(field: &Field, compiled: F) -> Result<F, NotPlain> {
    if field.selection_set.node.items.is_empty() {
        Ok(compiled)
    } else {
        Err("a selection under a leaf")
    }
}

fn no_arguments(field: &Field) -> Result<(), NotPlain> {
    if field.arguments.is_empty() {
        Ok(())
    } else {
        Err("arguments on a field that takes none")
    }
}

/// The value of a field's only possible argument, `name`, when given.
fn only_argument(field: &Field, name: &str) -> Result<Option<Value>, NotPlain> {
    match field.arguments.as_slice() {
        [] => Ok(None),
        [(argument, value)] if argument.node == name => Ok(Some(value.node.clone())),
        _ => Err("an unknown argument"),
    }
}

/// How deeply `set` nests fields, counted as the schema's validation counts them.
fn depth_of(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => 1 + depth_of(&field.node.selection_set.node),
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => usize::MAX,
        })
        .max()
        .unwrap_or(0)
}
