//! helpline's own web pages, served at `/` beside the API: `/login`, `/desk` (the agent desktop),
//! `/board` (the supervisor's wallboard) and `/reports`.
//!
//! The server renders each page's frame — the words in the person's language, the navigation their
//! role allows, the forms and empty tables — with [`maud`] (templates checked and escaped at compile
//! time, in `pages`); one small script of our own (`assets/app.js`, an ES module on the
//! browser's `fetch` and `EventSource`) fills them from the API and its live stream. The pages get
//! every figure, call and complaint through `/api/v1`, as any client would, with the same session
//! and the same role checks: the only thing the server looks at here is *who* is asking, to send
//! a stranger to `/login` and answer 403 to a role the page is not for. No framework, nothing
//! third-party in the browser, and the script and style sheet are compiled into the binary
//! (`include_str!`), so `cargo run` is still all it takes.
//!
//! Every page answer carries its own Content-Security-Policy (scripts, styles, fetches and media
//! from this origin only; no inline script or style), which the server's default (`default-src
//! 'none'`, for the API) leaves in place.

pub mod i18n;
mod pages;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tickets::Role;
use tickets::accounts::Principal;
use tickets::api::auth::Refusal;
use tickets::api::{Action, ApiState, Caller};
use tower_http::set_header::SetResponseHeaderLayer;

pub use i18n::Lang;

/// The policy of every page: this origin's script, styles, API and recordings; nothing inline,
/// no frames, forms posting only here.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The pages' routes, with the API's state (for the session check).
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/desk", get(desk))
        .route("/board", get(board))
        .route("/reports", get(reports))
        .route("/lang/{code}", get(set_lang))
        .route("/assets/{name}", get(asset))
        .route_layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        .with_state(state)
}

/// A page of the site, and what a role needs to open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Login,
    Desk,
    Board,
    Reports,
}

impl Page {
    /// The pages the navigation offers, in order.
    pub const NAVIGATION: [Page; 3] = [Page::Desk, Page::Board, Page::Reports];

    pub fn path(self) -> &'static str {
        match self {
            Page::Login => "/login",
            Page::Desk => "/desk",
            Page::Board => "/board",
            Page::Reports => "/reports",
        }
    }

    /// The page's name for the script (`data-page`).
    pub fn name(self) -> &'static str {
        match self {
            Page::Login => "login",
            Page::Desk => "desk",
            Page::Board => "board",
            Page::Reports => "reports",
        }
    }

    fn from_path(path: &str) -> Option<Page> {
        [Page::Login, Page::Desk, Page::Board, Page::Reports]
            .into_iter()
            .find(|p| p.path() == path)
    }

    /// What the API lets a role do that this page is for: the page is no use without it.
    fn needs(self) -> Option<Action> {
        match self {
            Page::Login => None,
            Page::Desk => Some(Action::TakeCalls),
            Page::Board => Some(Action::Supervise),
            Page::Reports => Some(Action::Stats),
        }
    }

    pub fn allowed(self, role: Role) -> bool {
        self.needs()
            .is_none_or(|action| tickets::api::allowed(role, action))
    }

    /// Where a role starts: the first page it may open.
    pub fn start_for(role: Role) -> Option<Page> {
        // A supervisor may take calls too, but their place is the board.
        let order = match role {
            Role::Agent => [Page::Desk, Page::Board, Page::Reports],
            _ => [Page::Board, Page::Desk, Page::Reports],
        };
        order.into_iter().find(|p| p.allowed(role))
    }
}

/// Who is looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub login: String,
    pub name: String,
    pub role: Role,
}

/// A request for a page: its language, and who asks (or why that could not be told).
#[derive(Debug)]
pub struct Visit {
    pub lang: Lang,
    pub who: Result<Viewer, Unknown>,
}

/// Why a visit has no viewer.
#[derive(Debug)]
pub enum Unknown {
    /// No session, or one that ended: to the login page.
    NotLoggedIn,
    /// Too many bad credentials from this address.
    Throttled(Response),
    /// The accounts could not be read (the database is away …).
    Unavailable,
}

impl FromRequestParts<ApiState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::of_request(&parts.headers);
        // Without a cookie or a bearer this is a plain 401, not a failed credential.
        let who = match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(viewer(&caller)),
            Err(Refusal::Throttled(wait)) => {
                Err(Unknown::Throttled(Refusal::Throttled(wait).into_response()))
            }
            Err(Refusal::Error(err)) if err.status() == StatusCode::UNAUTHORIZED => {
                Err(Unknown::NotLoggedIn)
            }
            Err(Refusal::Error(err)) => {
                tracing::warn!(status = %err.status(), error = err.message(), "a page could not tell who asked");
                Err(Unknown::Unavailable)
            }
        };
        Ok(Visit { lang, who })
    }
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let pairs = headers.get_all(header::COOKIE).into_iter();
    pairs
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .map(str::trim)
}

fn viewer(caller: &Caller) -> Viewer {
    let identity = caller.identity();
    match &identity.principal {
        Principal::User(user) => Viewer {
            login: user.login.clone(),
            name: user.display_name.clone(),
            role: identity.role,
        },
        _ => Viewer {
            login: String::new(),
            name: identity.actor(),
            role: identity.role,
        },
    }
}

impl Visit {
    /// The page for a viewer whose role may open it; a stranger goes to `/login` (the page's
    /// address kept to come back to), a role it is not for hears 403.
    fn page(self, page: Page) -> Response {
        let lang = self.lang;
        match self.who {
            Ok(viewer) if page.allowed(viewer.role) => {
                pages::page(lang, page, &viewer).into_response()
            }
            Ok(viewer) => {
                (StatusCode::FORBIDDEN, pages::forbidden(lang, page, &viewer)).into_response()
            }
            Err(unknown) => refused(lang, unknown, page),
        }
    }
}

/// The answer to a visit whose viewer is unknown.
fn refused(lang: Lang, unknown: Unknown, page: Page) -> Response {
    match unknown {
        Unknown::NotLoggedIn => {
            let mut response =
                Redirect::to(&format!("/login?next={}", page.path())).into_response();
            // A session that ended is forgotten, so the next page does not present it again.
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "helpline_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
                ),
            );
            response
        }
        Unknown::Throttled(response) => {
            let seconds = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("60")
                .to_owned();
            let mut page = (
                StatusCode::TOO_MANY_REQUESTS,
                pages::message(
                    lang,
                    lang.t("login.title"),
                    &lang.fill("login.throttled", &[("seconds", &seconds)]),
                ),
            )
                .into_response();
            if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, retry.clone());
            }
            page
        }
        Unknown::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            pages::message(
                lang,
                lang.t("unavailable.title"),
                lang.t("error.unavailable"),
            ),
        )
            .into_response(),
    }
}

async fn home(visit: Visit) -> Response {
    match visit.who {
        Ok(viewer) => match Page::start_for(viewer.role) {
            Some(page) => Redirect::to(page.path()).into_response(),
            None => (
                StatusCode::FORBIDDEN,
                pages::forbidden(visit.lang, Page::Desk, &viewer),
            )
                .into_response(),
        },
        Err(unknown) => refused(visit.lang, unknown, Page::Login),
    }
}

async fn login(headers: HeaderMap) -> Response {
    // Nobody needs to be known to log in: the session is not even looked at.
    pages::login(Lang::of_request(&headers)).into_response()
}

async fn desk(visit: Visit) -> Response {
    visit.page(Page::Desk)
}

async fn board(visit: Visit) -> Response {
    visit.page(Page::Board)
}

async fn reports(visit: Visit) -> Response {
    visit.page(Page::Reports)
}

#[derive(Debug, Deserialize)]
struct Back {
    back: Option<String>,
}

/// `/lang/hi?back=/desk`: remembers the language for a year and goes back to the page (one of
/// ours: never an address from elsewhere).
async fn set_lang(Path(code): Path<String>, Query(back): Query<Back>) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let to = back
        .back
        .as_deref()
        .and_then(Page::from_path)
        .map_or("/", Page::path);
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        i18n::LANG_COOKIE,
        lang.code()
    );
    let mut response = Redirect::to(to).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// An asset compiled into the binary.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
];

/// The version the pages put in the assets' addresses (`?v=`): a hash of their contents, so a
/// browser may keep them for good and still never run an old script with a new page.
pub fn assets_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        // FNV-1a: not for security, only to tell builds apart.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for asset in &ASSETS {
            for byte in asset.body.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    })
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // The address changes with the contents (`?v=`).
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_starts_where_it_works_and_is_kept_out_of_the_rest() {
        assert_eq!(Page::start_for(Role::Agent), Some(Page::Desk));
        assert_eq!(Page::start_for(Role::Supervisor), Some(Page::Board));
        assert_eq!(Page::start_for(Role::Admin), Some(Page::Board));
        assert_eq!(Page::start_for(Role::Officer), Some(Page::Reports));
        assert!(!Page::Board.allowed(Role::Officer));
        assert!(!Page::Desk.allowed(Role::Officer));
        assert!(!Page::Board.allowed(Role::Agent));
        assert!(!Page::Reports.allowed(Role::Agent));
        assert!(Page::Desk.allowed(Role::Supervisor));
        assert!(Page::Login.allowed(Role::Integration));
    }

    #[test]
    fn the_assets_version_is_stable_and_short() {
        assert_eq!(assets_version(), assets_version());
        assert_eq!(assets_version().len(), 16);
    }
}
