//! The HTTP edge: the routes and their layers, GraphQL over HTTP, the response cache, the
//! explorer's and playground's static files, the feeds, the sitemap and `robots.txt`
//! (`syndication`), and one log line per request.

pub mod assets;
pub mod document;
pub mod entity_tag;
pub mod graphql_http;
pub mod graphql_sse;
pub mod graphql_ws;
pub mod pages;
pub mod public_url;
pub mod request_log;
pub mod response_cache;
pub mod routes;
pub mod server;
pub mod state;
pub mod syndication;
