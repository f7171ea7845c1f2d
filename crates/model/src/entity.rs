//! One module per table. Relations are declared on the models so queries can join through
//! them; the tag tables repeat `published_on` to serve per-programme and per-office pages.

pub mod ingest_run;
pub mod office;
pub mod programme;
pub mod programme_office;
pub mod release;
pub mod release_change;
pub mod release_day_count;
pub mod release_office;
pub mod release_pair_day_count;
pub mod release_programme;
pub mod release_tag_day_count;
