//! The HTTP routes: the page and its assets (compiled in), the session API
//! and the event stream.
//!
//! | Route | What |
//! |---|---|
//! | `GET /` , `/app.js`, `/style.css` | the page |
//! | `GET /api/status` | live sessions and worker threads, the limits |
//! | `POST /api/sessions` | opens a session: `{id, limits}` |
//! | `PUT /api/sessions/{id}/config` | a [`SessionConfig`]: the points to draw |
//! | `POST /api/sessions/{id}/control` | `{"action": "start" \| "pause" \| "step" \| "reset"}` |
//! | `GET /api/sessions/{id}/events` | server-sent events, one [`Snapshot`](crate::session::Snapshot) each |
//! | `DELETE /api/sessions/{id}` | ends a session |
//!
//! Errors are JSON `{"error": message, "field": name or null}` with status
//! 400 (bad input), 404 (no such session), 409 (a second event stream),
//! 413 (a body over [`MAX_BODY`]), 503 (too many sessions, or busy).

use crate::config::{LIMITS, SessionConfig};
use crate::session::{ATTACH_TIMEOUT, Action, Sessions};
use crate::{Error, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The page.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The page's style sheet.
pub const STYLE_CSS: &str = include_str!("../assets/style.css");

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// Keep-alive comments on idle event streams (how fast a closed tab is noticed).
pub const KEEP_ALIVE: Duration = Duration::from_secs(2);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Error::NoSession(_) => StatusCode::NOT_FOUND,
            Error::AlreadyAttached(_) => StatusCode::CONFLICT,
            Error::TooManySessions { .. } | Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::WorkerGone => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({ "error": self.to_string(), "field": self.field() });
        (status, axum::Json(body)).into_response()
    }
}

/// The app: every route over `sessions`.
pub fn router(sessions: Arc<Sessions>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/api/status", get(status))
        .route("/api/sessions", post(create))
        .route("/api/sessions/{id}", axum::routing::delete(delete))
        .route("/api/sessions/{id}/config", put(configure))
        .route("/api/sessions/{id}/control", post(control))
        .route("/api/sessions/{id}/events", get(events))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(sessions)
}

/// Ends, every few seconds, the sessions whose page never attached.
pub async fn reaper(sessions: Arc<Sessions>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        sessions.reap(ATTACH_TIMEOUT);
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn status(State(s): State<Arc<Sessions>>) -> Response {
    axum::Json(json!({
        "sessions": s.count(),
        "workers": s.workers(),
        "max_sessions": s.max(),
        "limits": LIMITS,
    }))
    .into_response()
}

async fn create(State(s): State<Arc<Sessions>>) -> Result<Response> {
    let id = s.create()?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": id, "limits": LIMITS, "defaults": SessionConfig::default() })),
    )
        .into_response())
}

async fn delete(State(s): State<Arc<Sessions>>, Path(id): Path<String>) -> Result<StatusCode> {
    if s.remove(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NoSession(id))
    }
}

/// The body as text; a body over [`MAX_BODY`] or not UTF-8 is a typed error.
fn text(body: std::result::Result<Bytes, BytesRejection>) -> Result<String> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge { max: MAX_BODY }
        } else {
            Error::BadRequest(e.body_text())
        }
    })?;
    String::from_utf8(body.to_vec()).map_err(|_| Error::BadRequest("the body is not UTF-8".into()))
}

async fn configure(
    State(s): State<Arc<Sessions>>,
    Path(id): Path<String>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let config = SessionConfig::from_json(&text(body)?)?;
    let reply = s.configure(&id, config).await?;
    Ok(axum::Json(reply).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    action: Action,
}

async fn control(
    State(s): State<Arc<Sessions>>,
    Path(id): Path<String>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<StatusCode> {
    let body: ControlBody =
        serde_json::from_str(&text(body)?).map_err(|e| Error::BadRequest(e.to_string()))?;
    s.control(&id, body.action).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session's snapshots as server-sent events: the latest one on
/// connect, then each new one; snapshots published while the page was
/// busy are skipped (latest wins). When the page disconnects the stream is
/// dropped, and with it the session.
async fn events(
    State(s): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let (mut rx, detach) = s.attach(&id)?;
    rx.mark_changed();
    let stream = stream::unfold((rx, detach), |(mut rx, detach)| async move {
        rx.changed().await.ok()?;
        let text = rx.borrow_and_update().clone();
        Some((Ok(Event::default().data(&*text)), (rx, detach)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
