//! `GET /api/v2/ws` (and `/ws`): the WebSocket upgrade (docs/realtime.md).

use crate::realtime::session;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use std::collections::BTreeMap;

/// At most this many chats in the `after` of the upgrade (more: a `resume` frame).
const MAX_AFTER: usize = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Connect {
    /// Resume positions, `<chat_id>:<seq>` separated by commas (`12:40,15:3`): every message
    /// after them is replayed before live frames.
    pub after: Option<String>,
}

/// Parses `12:40,15:3` into chat → last sequence number held.
pub fn parse_after(after: &str) -> Result<BTreeMap<i64, i64>, String> {
    let mut positions = BTreeMap::new();
    for item in after.split(',').filter(|item| !item.is_empty()) {
        let (chat, seq) = item.split_once(':').ok_or_else(|| format!("`{item}` is not <chat_id>:<seq>"))?;
        let chat: i64 = chat.parse().map_err(|_| format!("`{chat}` is not a chat id"))?;
        let seq: i64 = seq.parse().map_err(|_| format!("`{seq}` is not a sequence number"))?;
        if seq < 0 {
            return Err("sequence numbers are not negative".into());
        }
        positions.insert(chat, seq);
    }
    if positions.len() > MAX_AFTER {
        return Err(format!("at most {MAX_AFTER} chats; send a resume frame for more"));
    }
    Ok(positions)
}

/// Upgrades to a WebSocket: the token comes as `Authorization: Bearer` or the `access_token`
/// cookie (401 before the upgrade otherwise); see docs/realtime.md for frames and close codes.
#[utoipa::path(get, path = "/api/v2/ws", tag = "realtime", params(Connect), security(("bearer" = [])),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400)))]
pub async fn connect(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<Connect>,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let after = parse_after(query.after.as_deref().unwrap_or_default())
        .map_err(|problem| ApiError::validation([("after", problem)]))?;
    let (response, session, stream) = actix_ws::handle(&request, body)
        .map_err(|error| ApiError::bad_request("not_a_websocket", error.to_string()))?;
    let stream = stream.max_frame_size(state.settings.max_frame_bytes);
    actix_web::rt::spawn(session::run(state, user, session, stream, after));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::parse_after;

    #[test]
    fn resume_positions_parse_or_say_what_is_wrong() {
        assert_eq!(parse_after("12:40,15:3").unwrap().into_iter().collect::<Vec<_>>(), vec![(12, 40), (15, 3)]);
        assert!(parse_after("").unwrap().is_empty());
        assert!(parse_after("12").is_err());
        assert!(parse_after("x:1").is_err());
        assert!(parse_after("1:-1").is_err());
    }
}
