//! The archive for people and the programs that read the web on their behalf: release,
//! programme and office pages as HTML readable without JavaScript, feeds, and the sitemap.
//! Each document is rendered from the store's rows and the base of its absolute links; none
//! knows HTTP, which `http/` adds (routes, validators, status codes).
//!
//! - `links`: the address of every document, absolute from the public base URL;
//! - `listing`: the newest releases matching some criteria, with their tags;
//! - `query`: query strings checked strictly, with messages naming the parameter;
//! - `feed_query`: a feed's filters, checked as the API checks a `ReleaseFilter`;
//! - `feeds`: Atom, RSS and JSON Feed of the newest releases matching the filters;
//! - `pages`: the HTML pages of a release, a programme and an office, and the 404 page
//!   (templates in `crates/api/templates/`);
//! - `sitemap`: the sitemap index, its pages and `robots.txt`.

pub mod feed_query;
pub mod feeds;
pub mod links;
pub mod listing;
pub mod pages;
pub mod query;
pub mod sitemap;
