//! `/api/v2/chats/{id}/messages` and the read mark.

use crate::domain::MAX_MEDIA_BYTES;
use crate::messages::{self, Change, MediaDraft, Outgoing, Window};
use crate::state::AppState;
use crate::store::messages::Message;
use actix_multipart::Multipart;
use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use platform::error::FieldProblems;
use platform::http::form;
use platform::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use platform::{ApiError, AuthUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Messages before this sequence number, newest first (the default: from the end).
    #[param(minimum = 0)]
    pub before: Option<i64>,
    /// Messages after this sequence number, oldest first (catching up); with `before`, those
    /// between the two.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<Message>,
    /// More messages lie beyond the last item in the same direction.
    pub has_more: bool,
}

/// A text message. The seed's form, `{"content": "…", "type": "text"}`, is accepted too
/// (`content` for `text`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Not blank, at most `chat.text_limit` characters (4000 by default).
    #[serde(alias = "content")]
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
    /// `text` (files are sent as a multipart form).
    #[serde(rename = "type")]
    #[schema(pattern = "^text$")]
    pub kind: Option<String>,
    /// The client's id for the message: sending it again returns the first message.
    #[schema(pattern = "^[!-~]{1,64}$")]
    pub client_message_id: Option<String>,
}

/// A media message (multipart/form-data, the seed's form): a file and what it is.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SendMediaForm {
    /// The file: an image (JPEG, PNG, WebP; 5 MB), a voice note (Ogg, MP3, M4A, WebM; 5 MB),
    /// a video (mp4, mov, avi, webm; 9 MB) or any file (9 MB), decided by its content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// image, voice, video or file; the content must be of that kind (415 otherwise). Without
    /// it, the content decides.
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(image|voice|video|file)$")]
    kind: Option<String>,
    /// A caption (`content` is accepted too), at most `chat.text_limit` characters.
    #[schema(value_type = String, max_length = 4000)]
    text: Option<String>,
    /// The client's id for the message: sending it again returns the first message.
    #[schema(value_type = String, pattern = "^[!-~]{1,64}$")]
    client_message_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// Not blank, at most `chat.text_limit` characters (4000 by default).
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMark {
    /// Everything up to this sequence number has been read.
    #[schema(minimum = 0)]
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    /// The caller's read mark after the call (it never moves back).
    pub read_seq: i64,
}

/// A chat's messages by sequence number; deleted ones appear as tombstones.
#[utoipa::path(get, path = "/api/v2/chats/{id}/messages", tag = "chats", params(HistoryQuery), security(("bearer" = [])),
    responses((status = 200, body = History), (status = 400),
        (status = 404)))]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let mut problems = platform::error::FieldProblems::new();
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
    }
    if query.before.is_some_and(|s| s < 0) || query.after.is_some_and(|s| s < 0) {
        problems.add("before", "sequence numbers are not negative");
    }
    problems.finish()?;
    let window = match query.after {
        Some(after) => Window::After { after, before: query.before },
        None => Window::Before(query.before),
    };
    let (items, has_more) = messages::history(&state, &user, *id, window, limit).await?;
    Ok(HttpResponse::Ok().json(History { items, has_more }))
}

/// Sends a message: JSON for a text, a multipart form for a file (image, voice note, video,
/// or any file). 201 with the stored message, or 200 with the first one when the
/// `client_message_id` was used before. 403 `blocked` when either has blocked the other; 415
/// when a file is not the kind declared; 413 over the kind's limit.
#[utoipa::path(post, path = "/api/v2/chats/{id}/messages", tag = "chats",
    request_body(content((SendMessage = "application/json"), (SendMediaForm = "multipart/form-data",
        encoding(("file" = (content_type = "image/jpeg, image/png, image/webp, audio/ogg, audio/mpeg, audio/mp4, audio/webm, video/mp4, video/quicktime, video/x-msvideo, video/webm, application/pdf, application/octet-stream")))))),
    security(("bearer" = [])),
    responses((status = 201, body = Message), (status = 200, body = Message),
        (status = 400), (status = 403),
        (status = 404), (status = 413), (status = 415)))]
pub async fn send(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let (message, fresh) = if form::is_multipart(&request) {
        let draft = read_media_form(Multipart::new(request.headers(), payload)).await?;
        messages::send_media(&state, &user, *id, draft).await?
    } else {
        let body = platform::Json::<SendMessage>::from_request(&request, &mut payload.into_inner()).await?;
        if body.kind.as_deref().is_some_and(|kind| kind != "text") {
            let problem =
                "a JSON message is a text; images, voice notes, videos and files are sent as multipart/form-data";
            return Err(ApiError::validation([("type", problem.to_owned())]).into());
        }
        let outgoing = Outgoing::parse(&body.text, body.client_message_id.as_deref(), state.settings.text_limit)?;
        messages::send(&state, &user, *id, outgoing).await?
    };
    Ok(if fresh { HttpResponse::Created().json(message) } else { HttpResponse::Ok().json(message) })
}

/// The file of a media message, for the chat's participants (404 for anyone else, and once
/// the message is deleted). Images, voice notes and videos are shown inline; other files are
/// downloads under the name they were sent with.
#[utoipa::path(get, path = "/api/v2/chats/{id}/media/{name}", tag = "chats", security(("bearer" = [])),
    params(("name" = String, Path, description = "the file's name in the message's `media_url`")),
    responses((status = 200, description = "the file, with its content type", content_type = "application/octet-stream"),
        (status = 404)))]
pub async fn media(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (chat_id, name) = path.into_inner();
    let (message, bytes) = messages::media(&state, &user, chat_id, &name).await?;
    let disposition = match (message.kind.as_str(), message.media_name.as_deref()) {
        ("file", Some(file_name)) => ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file_name.as_bytes().to_vec(),
            })],
        },
        ("file", None) => ContentDisposition { disposition: DispositionType::Attachment, parameters: vec![] },
        _ => ContentDisposition { disposition: DispositionType::Inline, parameters: vec![] },
    };
    Ok(HttpResponse::Ok()
        .content_type(message.media_type.unwrap_or_else(|| "application/octet-stream".to_owned()))
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(bytes))
}

/// The media form's fields. An unknown field or a second file is 400 and a file over every
/// kind's limit 413, once the body is read to its end (so that the client reads the answer).
async fn read_media_form(mut fields: Multipart) -> Result<MediaDraft, ApiError> {
    let mut draft =
        MediaDraft { kind: None, file: Bytes::new(), file_name: None, caption: None, client_message_id: None };
    let (mut file, mut failure, mut problems) = (None, None::<ApiError>, FieldProblems::new());
    while let Some(field) = fields.next().await {
        let mut field = field.map_err(form::error)?;
        let name = field.name().unwrap_or_default().to_owned();
        if failure.is_some() {
            form::discard(&mut field).await?;
        } else if name == "file" && file.is_none() {
            draft.file_name = form::file_name(&field);
            file = form::read_field(&mut field, MAX_MEDIA_BYTES).await?;
            if file.is_none() {
                let limit = MAX_MEDIA_BYTES / (1024 * 1024);
                failure = Some(ApiError::payload_too_large(format!("a file may be at most {limit} MB")));
            }
        } else if let Some(field_name) =
            ["type", "text", "content", "client_message_id"].into_iter().find(|n| *n == name)
        {
            let slot = match field_name {
                "type" => &mut draft.kind,
                "client_message_id" => &mut draft.client_message_id,
                _ => &mut draft.caption,
            };
            match form::read_text(&mut field, form::MAX_TEXT_FIELD_BYTES).await? {
                Ok(value) => *slot = Some(value),
                Err(problem) => problems.add(if field_name == "content" { "text" } else { field_name }, problem),
            }
        } else {
            form::discard(&mut field).await?;
            let problem =
                if name == "file" { "one file per message".to_owned() } else { format!("unknown field `{name}`") };
            failure = Some(ApiError::bad_request("invalid_multipart", problem));
        }
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    match file {
        Some(bytes) => draft.file = bytes,
        None => problems.add("file", "a media message needs a file"),
    }
    problems.finish()?;
    Ok(draft)
}

/// Edits one's own text message within the edit window (409 `edit_window_passed` after it).
#[utoipa::path(patch, path = "/api/v2/chats/{id}/messages/{message_id}", tag = "chats", request_body = EditMessage,
    security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 400),
        (status = 403), (status = 404),
        (status = 409)))]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
    body: platform::Json<EditMessage>,
) -> Result<HttpResponse, ApiError> {
    let (chat_id, message_id) = path.into_inner();
    let text = crate::domain::message_text(&body.text, state.settings.text_limit)
        .map_err(|problem| ApiError::validation([("text", problem)]))?;
    let message = messages::change(&state, &user, chat_id, message_id, Change::Edit(text)).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Deletes one's own message within the edit window: it stays in history as a tombstone.
#[utoipa::path(delete, path = "/api/v2/chats/{id}/messages/{message_id}", tag = "chats", security(("bearer" = [])),
    responses((status = 200, body = Message), (status = 403),
        (status = 404), (status = 409)))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (chat_id, message_id) = path.into_inner();
    let message = messages::change(&state, &user, chat_id, message_id, Change::Delete).await?;
    Ok(HttpResponse::Ok().json(message))
}

/// Moves the caller's read mark forward (a smaller `seq` changes nothing); the partner sees a
/// `read` frame.
#[utoipa::path(post, path = "/api/v2/chats/{id}/read", tag = "chats", request_body = ReadMark, security(("bearer" = [])),
    responses((status = 200, body = ReadState), (status = 400),
        (status = 404)))]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<ReadMark>,
) -> Result<HttpResponse, ApiError> {
    let read_seq = messages::read(&state, &user, *id, body.seq).await?;
    Ok(HttpResponse::Ok().json(ReadState { read_seq }))
}
