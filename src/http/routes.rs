//! The route table: every route the server answers, with its handler and the methods it
//! serves. `configure` registers it and `route_list` lists it, so the two cannot disagree.
//!
//! Each row is a resource of its own, guarded by its methods, so no row shadows another
//! and the order of the rows does not matter (a test checks that no two rows of one method
//! match the same path). The xAPI rows live under `/xapi`, where every answer carries the
//! version header and an unknown resource gets a JSON 404.
//!
//! What a route needs shows in its handler's arguments: `Caller<Need>` or `Admin`
//! (`caller.rs`) on the gateway APIs, `XapiRequest` on the xAPI resources; About, the
//! OpenAPI document, the token endpoint and the operations routes (`/metrics`, `/health/…`)
//! take none.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{guard, web, FromRequest, Handler, HttpResponse, Responder, Route};

use super::activity_map;
use super::error::ApiError;
use super::opportunities;
use super::privacy;
use super::statements;
use super::ui;
use super::{about, admin, competency, connectors, documents, evidence, oauth, ops, people};
use super::{consistent_through, version_header};

/// The prefix of the xAPI resources.
const XAPI: &str = "/xapi";

/// Every route, one row per path and method (xAPI resources: one row per path).
#[rustfmt::skip] // One row a line reads as a table.
fn table() -> Vec<Row> {
    use Method as M;
    vec![
        // xAPI resources (the About resource needs no credentials).
        plain(&[M::GET, M::HEAD], "/xapi/about", about::get_about),
        xapi(&[M::GET, M::HEAD, M::PUT, M::POST], "/xapi/statements",
             web::to(statements::statements).wrap(from_fn(consistent_through))),
        xapi(DOCUMENT, "/xapi/activities/state", web::to(documents::state)),
        xapi(DOCUMENT, "/xapi/activities/profile", web::to(documents::activity_profile)),
        xapi(&[M::GET, M::HEAD], "/xapi/activities", web::to(documents::activities)),
        xapi(DOCUMENT, "/xapi/agents/profile", web::to(documents::agent_profile)),
        xapi(&[M::GET, M::HEAD], "/xapi/agents", web::to(documents::agents)),
        // OAuth 2.0 client credentials.
        plain(&[M::POST], "/oauth2/token", oauth::token),
        // Administration of tenants and credentials.
        plain(&[M::GET], "/api/v1/admin/tenants", admin::list_tenants),
        plain(&[M::POST], "/api/v1/admin/tenants", admin::create_tenant),
        plain(&[M::GET], "/api/v1/admin/tenants/{tenant}", admin::get_tenant),
        plain(&[M::GET], "/api/v1/admin/tenants/{tenant}/credentials", admin::list_credentials),
        plain(&[M::POST], "/api/v1/admin/tenants/{tenant}/credentials", admin::create_credential),
        plain(&[M::DELETE], "/api/v1/admin/tenants/{tenant}/credentials/{key}", admin::revoke_credential),
        // Privacy: export and erase a person, retention policies, audit records.
        plain(&[M::GET], "/api/v1/admin/people/export", privacy::export_person),
        plain(&[M::POST], "/api/v1/admin/people/erase", privacy::erase_person),
        plain(&[M::GET], "/api/v1/admin/audit", privacy::list_audit),
        plain(&[M::GET], "/api/v1/admin/retention", privacy::list_retention),
        plain(&[M::GET], "/api/v1/admin/retention/{id}", privacy::get_retention),
        plain(&[M::PUT], "/api/v1/admin/retention/{id}", privacy::put_retention),
        plain(&[M::DELETE], "/api/v1/admin/retention/{id}", privacy::delete_retention),
        plain(&[M::POST], "/api/v1/admin/retention/{id}/run", privacy::run_retention),
        // People and their identities.
        plain(&[M::GET], "/api/v1/people", people::person_of_agent),
        plain(&[M::POST], "/api/v1/people/link", people::link),
        plain(&[M::GET], "/api/v1/people/{id}", people::person),
        plain(&[M::DELETE], "/api/v1/people/{id}/identities", people::unlink),
        // Skill evidence.
        plain(&[M::GET], "/api/v1/openapi.json", evidence::openapi),
        plain(&[M::GET], "/api/v1/profiles", evidence::profile),
        plain(&[M::GET], "/api/v1/profiles/gaps", evidence::gaps),
        plain(&[M::GET], "/api/v1/competencies/{item}/experts", evidence::experts),
        plain(&[M::GET], "/api/v1/competencies/{item}/adjacent", evidence::adjacent),
        plain(&[M::GET], "/api/v1/competencies/{item}/activities", evidence::activities),
        plain(&[M::GET], "/api/v1/teams", evidence::list_teams),
        plain(&[M::POST], "/api/v1/teams", evidence::create_team),
        plain(&[M::GET], "/api/v1/teams/{id}", evidence::get_team),
        plain(&[M::PUT], "/api/v1/teams/{id}", evidence::put_team),
        plain(&[M::DELETE], "/api/v1/teams/{id}", evidence::delete_team),
        plain(&[M::GET], "/api/v1/teams/{id}/skills", evidence::team_skills),
        plain(&[M::GET], "/api/v1/evidence/stream", evidence::stream),
        // The learning-experience answers: opportunities, upskilling, recommendations.
        plain(&[M::GET], "/api/v1/opportunities", opportunities::list_opportunities),
        plain(&[M::POST], "/api/v1/opportunities", opportunities::create_opportunity),
        plain(&[M::GET], "/api/v1/opportunities/{id}", opportunities::get_opportunity),
        plain(&[M::PUT], "/api/v1/opportunities/{id}", opportunities::put_opportunity),
        plain(&[M::DELETE], "/api/v1/opportunities/{id}", opportunities::delete_opportunity),
        plain(&[M::GET], "/api/v1/opportunities/{id}/candidates", opportunities::candidates),
        plain(&[M::GET], "/api/v1/profiles/opportunities", opportunities::person_opportunities),
        plain(&[M::GET], "/api/v1/upskilling", opportunities::upskilling),
        plain(&[M::GET], "/api/v1/recommendations", opportunities::recommendations),
        // Competencies: statement tags, frameworks, tagging rules, retag jobs, the catalog.
        plain(&[M::GET], "/api/v1/statements/{id}/tags", competency::statement_tags),
        plain(&[M::GET], "/api/v1/frameworks", competency::list_frameworks),
        plain(&[M::POST], "/api/v1/frameworks", competency::create_framework),
        plain(&[M::GET], "/api/v1/frameworks/{id}", competency::get_framework),
        plain(&[M::PATCH], "/api/v1/frameworks/{id}", competency::patch_framework),
        plain(&[M::DELETE], "/api/v1/frameworks/{id}", competency::delete_framework),
        plain(&[M::GET], "/api/v1/tagging/rules", competency::list_rules),
        plain(&[M::POST], "/api/v1/tagging/rules", competency::create_rule),
        plain(&[M::GET], "/api/v1/tagging/rules/{id}", competency::get_rule),
        plain(&[M::PUT], "/api/v1/tagging/rules/{id}", competency::put_rule),
        plain(&[M::DELETE], "/api/v1/tagging/rules/{id}", competency::delete_rule),
        plain(&[M::POST], "/api/v1/tagging/retag", competency::retag),
        plain(&[M::GET], "/api/v1/tagging/jobs/{id}", competency::job),
        plain(&[M::GET], "/api/v1/catalog/activities", competency::catalog),
        plain(&[M::PUT], "/api/v1/catalog/activities", competency::put_alignments),
        plain(&[M::DELETE], "/api/v1/catalog/activities", competency::delete_alignments),
        // Activity equivalences: which ids count as one activity.
        plain(&[M::GET], "/api/v1/activity-equivalences", activity_map::list_equivalences),
        plain(&[M::PUT], "/api/v1/activity-equivalences", activity_map::put_equivalences),
        plain(&[M::DELETE], "/api/v1/activity-equivalences", activity_map::delete_equivalence),
        // Connectors: configuration, status, runs, a forwarder's dead letters.
        plain(&[M::GET], "/api/v1/connectors", connectors::list),
        plain(&[M::GET], "/api/v1/connectors/{id}", connectors::get),
        plain(&[M::PUT], "/api/v1/connectors/{id}", connectors::put),
        plain(&[M::DELETE], "/api/v1/connectors/{id}", connectors::delete),
        plain(&[M::POST], "/api/v1/connectors/{id}/run", connectors::run),
        plain(&[M::GET], "/api/v1/connectors/{id}/dead-letters", connectors::dead_letters),
        plain(&[M::POST], "/api/v1/connectors/{id}/dead-letters/replay", connectors::replay),
        // Operations: Prometheus metrics and health probes (no credentials).
        plain(&[M::GET], "/metrics", ops::metrics),
        plain(&[M::GET], "/health/live", ops::live),
        plain(&[M::GET], "/health/ready", ops::ready),
        // The evidence page: static, public, embedded (its data comes from /api/v1).
        plain(&[M::GET], "/ui", ui::redirect),
        plain(&[M::GET], "/ui/", ui::index),
        plain(&[M::GET], "/ui/assets/{name}", ui::asset),
    ]
}

/// What the document resources (State, Activity Profile, Agent Profile) serve.
const DOCUMENT: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::PUT,
    Method::POST,
    Method::DELETE,
];

/// The methods any xAPI request can arrive with.
const XAPI_METHODS: &[Method] = DOCUMENT;

/// Registers the route table.
///
/// The xAPI scope goes first: a request is matched against the services in the order
/// they were registered, and each path with a `{…}` segment costs a regex run, so xAPI
/// requests, the bulk of the traffic, no longer try every gateway route first (half of
/// them have such a segment).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut xapi_scope = web::scope(XAPI)
        .wrap(from_fn(version_header))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such xAPI resource".into()))
        }));
    let mut gateway = Vec::new();
    for row in table() {
        match row.path.strip_prefix(XAPI) {
            Some(path) => xapi_scope = xapi_scope.service(row.resource(path)),
            None => gateway.push(row),
        }
    }
    cfg.service(xapi_scope);
    for row in gateway {
        let path = row.path;
        cfg.service(row.resource(path));
    }
}

/// Every (method, path) the server answers, paths in OpenAPI template form.
///
/// A POST in the alternate request syntax (`?method=`) reaches every xAPI resource; it is
/// a listed method in another form, so it is not listed again.
pub fn route_list() -> Vec<(Method, &'static str)> {
    table()
        .into_iter()
        .flat_map(|row| row.methods.into_iter().map(move |m| (m, row.path)))
        .collect()
}

/// One row of the table.
struct Row {
    path: &'static str,
    /// The methods served; HEAD only where it is answered.
    methods: Vec<Method>,
    route: Route,
    kind: Kind,
}

enum Kind {
    /// Only the listed methods reach the handler; others fall through to a 404.
    Plain,
    /// Every xAPI method reaches the handler, since a POST may carry another one in the
    /// alternate request syntax; [`super::XapiRequest`] answers an unlisted one with a 400
    /// naming the methods served ([`Served`]). Other methods get a 405.
    Xapi,
}

/// The methods an xAPI resource serves, kept with its resource for the request extractor.
pub struct Served {
    pub methods: Vec<Method>,
    /// The resource's name in messages, e.g. `statements`.
    pub noun: &'static str,
}

impl Row {
    /// The row as a resource at `path` (relative to its scope).
    fn resource(self, path: &str) -> actix_web::Resource {
        match self.kind {
            Kind::Plain => web::resource(path)
                .app_data(ops::RouteTemplate(self.path))
                .guard(methods_guard(&self.methods))
                .route(self.route),
            Kind::Xapi => web::resource(path)
                .app_data(ops::RouteTemplate(self.path))
                .app_data(Served {
                    noun: self.path.rsplit('/').next().unwrap_or(self.path),
                    methods: self.methods,
                })
                .route(self.route.guard(methods_guard(XAPI_METHODS))),
        }
    }
}

/// A guard admitting `methods` (one method guard each, so a 405 names them in `Allow`).
fn methods_guard(methods: &[Method]) -> guard::AnyGuard {
    let none = guard::Any(guard::fn_guard(|_| false));
    methods
        .iter()
        .fold(none, |any, m| any.or(guard::Method(m.clone())))
}

/// A gateway row: a handler answering exactly `methods`.
fn plain<F, Args>(methods: &[Method], path: &'static str, handler: F) -> Row
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Row {
        path,
        methods: methods.to_vec(),
        route: web::to(handler),
        kind: Kind::Plain,
    }
}

/// An xAPI resource row serving `methods`.
fn xapi(methods: &[Method], path: &'static str, route: Route) -> Row {
    Row {
        path,
        methods: methods.to_vec(),
        route,
        kind: Kind::Xapi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether one concrete path can match both templates.
    fn overlap(a: &str, b: &str) -> bool {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
        a.len() == b.len()
            && a.iter()
                .zip(&b)
                .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
    }

    /// The order of the rows does not matter: no two rows that one request method reaches
    /// can match the same path (xAPI rows are reached by every xAPI method).
    #[test]
    fn no_two_rows_match_one_request() {
        let rows = table();
        let reached = |r: &Row| match r.kind {
            Kind::Plain => r.methods.clone(),
            Kind::Xapi => XAPI_METHODS.to_vec(),
        };
        for (i, a) in rows.iter().enumerate() {
            for b in &rows[i + 1..] {
                let shared = reached(a).iter().any(|m| reached(b).contains(m));
                assert!(
                    !(shared && overlap(a.path, b.path)),
                    "{} and {} both answer one request",
                    a.path,
                    b.path
                );
            }
        }
    }

    /// Every (method, path) pair is listed once, and HEAD only where it is served: on the
    /// xAPI resources.
    #[test]
    fn the_route_list_names_every_route_once() {
        let list = route_list();
        let mut unique = list.clone();
        unique.sort_by(|a, b| (a.1, a.0.as_str()).cmp(&(b.1, b.0.as_str())));
        unique.dedup();
        assert_eq!(unique.len(), list.len());
        assert!(list
            .iter()
            .filter(|(m, _)| *m == Method::HEAD)
            .all(|(_, p)| p.starts_with("/xapi/")));
        assert!(list.contains(&(Method::PATCH, "/api/v1/frameworks/{id}")));
    }
}
