//! The archive for people and the programs that read the web on their behalf: release,
//! programme and office pages as HTML readable without JavaScript, feeds, and the sitemap.
//! Each document is rendered from the store's rows and the base of its absolute links; none
//! knows HTTP, which `http/` adds (routes, validators, status codes).
//!
//! - `links`: the address of every document, absolute from the public base URL;
//! - `listing`: the newest releases matching some criteria, with their tags;
//! - `pages`: the HTML pages of a release, a programme and an office, and the 404 page
//!   (templates in `crates/api/templates/`).

pub mod links;
pub mod listing;
pub mod pages;
