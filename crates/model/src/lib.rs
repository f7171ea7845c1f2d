//! The archive's data model: sea-orm entities for every table (`entity`) and the domain
//! rules shared by ingest and the API, such as how a release's stable id is derived
//! (`release_key`) and the two kinds of tag (`tag_kind`).

pub mod entity;
pub mod release_key;
pub mod tag_kind;

pub use release_key::{normalise_title, normalise_title_into, release_id};
pub use tag_kind::TagKind;
