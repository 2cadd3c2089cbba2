//! `POST /videos/{id}/analyze` and `GET /videos/{id}/analysis`.

use crate::analysis::{self, Analysis};
use crate::domain::analysis::AnalysisType;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use platform::{ApiError, AuthUser};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeBody {
    pub analysis_type: AnalysisType,
    #[serde(default)]
    pub options: AnalyzeOptions,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeOptions {
    /// Findings below this confidence are left out (0 to 1; default 0.5).
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence_threshold: Option<f64>,
}

/// Asks for an analysis of my processed video; it runs as a job (`status` goes queued →
/// running → done | failed) and every finding names the method that produced it.
#[utoipa::path(post, path = "/api/v2/videos/{id}/analyze", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = AnalyzeBody,
    responses((status = 202, body = Analysis), (status = 400),
              (status = 404), (status = 409)))]
pub async fn analyze(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
    body: platform::Json<AnalyzeBody>,
) -> Result<HttpResponse, ApiError> {
    let threshold = body.options.confidence_threshold.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::validation([("options.confidence_threshold", "between 0 and 1".to_owned())]));
    }
    let analysis = analysis::request(&state, user.id, *id, body.analysis_type, threshold).await?;
    Ok(HttpResponse::Accepted().json(analysis))
}

/// The analyses of my video, newest first.
#[utoipa::path(get, path = "/api/v2/videos/{id}/analysis", tag = "videos", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [Analysis]), (status = 404)))]
pub async fn analyses(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(analysis::list(&state, user.id, *id).await?))
}
