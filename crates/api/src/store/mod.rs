//! The read layer: every SQL statement the API runs, built with sea-query. Inputs are typed
//! (a resolved filter, a page request, a facet request), outputs are plain rows; nothing here
//! knows GraphQL or HTTP.
