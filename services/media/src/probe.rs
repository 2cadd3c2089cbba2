//! ffprobe: the facts of a video file (duration, codec, size, frame rate, bitrate).

use crate::store::videos::Facts;
use serde::Deserialize;
use std::path::Path;
use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The file is not a video ffprobe can read (truncated, corrupt, no video stream).
    #[error("{0}")]
    Unreadable(String),
    /// ffprobe itself could not run.
    #[error("ffprobe cannot run: {0}")]
    Tool(#[from] std::io::Error),
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
    #[serde(default)]
    tags: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
    bit_rate: Option<String>,
}

/// What ffprobe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub facts: Facts,
    pub has_audio: bool,
}

/// Probes `file`; a file without a video stream or a duration is unreadable.
pub async fn probe(ffprobe: &str, file: &Path) -> Result<Probe, ProbeError> {
    let output = Command::new(ffprobe)
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(file)
        .kill_on_drop(true)
        .output()
        .await?;
    if !output.status.success() {
        return Err(ProbeError::Unreadable(first_line(&output.stderr, "ffprobe cannot read the file")));
    }
    let parsed: Output = serde_json::from_slice(&output.stdout)
        .map_err(|e| ProbeError::Unreadable(format!("ffprobe's answer is not understood: {e}")))?;
    let has_audio = parsed.streams.iter().any(|s| s.codec_type.as_deref() == Some("audio"));
    Ok(Probe { facts: facts(parsed)?, has_audio })
}

fn facts(output: Output) -> Result<Facts, ProbeError> {
    let video = output
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or_else(|| ProbeError::Unreadable("the file has no video stream".into()))?;
    let format = output.format.ok_or_else(|| ProbeError::Unreadable("the file has no format".into()))?;
    let duration: f64 = format
        .duration
        .as_deref()
        .and_then(|d| d.parse().ok())
        .filter(|d: &f64| d.is_finite() && *d > 0.0)
        .ok_or_else(|| ProbeError::Unreadable("the video has no duration".into()))?;
    let (mut width, mut height) = (video.width, video.height);
    if rotated(video) {
        std::mem::swap(&mut width, &mut height);
    }
    if width.unwrap_or(0) <= 0 || height.unwrap_or(0) <= 0 {
        return Err(ProbeError::Unreadable("the video has no picture size".into()));
    }
    let fps = [&video.avg_frame_rate, &video.r_frame_rate].into_iter().flatten().find_map(|r| rate(r));
    Ok(Facts {
        duration_ms: Some((duration * 1000.0).round() as i64),
        codec: video.codec_name.clone(),
        width,
        height,
        fps,
        bitrate: format.bit_rate.as_deref().and_then(|b| b.parse().ok()),
    })
}

/// Phones record portrait video as landscape frames with a rotation: the displayed size swaps.
fn rotated(stream: &Stream) -> bool {
    let degrees = stream
        .side_data_list
        .iter()
        .find_map(|d| d.get("rotation").and_then(serde_json::Value::as_f64))
        .or_else(|| stream.tags.get("rotate").and_then(|r| r.as_str()?.parse().ok()));
    degrees.is_some_and(|d| (d.abs() as i64) % 180 == 90)
}

/// `"30000/1001"` → 29.97.
fn rate(text: &str) -> Option<f64> {
    let (num, den) = text.split_once('/').unwrap_or((text, "1"));
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    (den > 0.0 && num > 0.0).then(|| num / den)
}

/// The telling line of a tool's error output (an `Error …` or `… Invalid …` line, else the
/// last one), without ffmpeg's `[component @ 0x…]` prefix; `default` when there is none.
pub fn first_line(stderr: &[u8], default: &str) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| match l.trim().strip_prefix('[').and_then(|rest| rest.split_once("] ")) {
            Some((_, message)) => message.trim(),
            None => l.trim(),
        })
        .filter(|l| !l.is_empty())
        .collect();
    let telling = lines.iter().find(|l| l.starts_with("Error") || l.contains("Invalid data")).or(lines.last());
    telling.map_or_else(|| default.to_owned(), |l| l.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_come_from_the_video_stream_and_the_format() {
        let output: Output = serde_json::from_value(serde_json::json!({
            "streams": [
                {"codec_type": "audio", "codec_name": "aac"},
                {"codec_type": "video", "codec_name": "h264", "width": 1280, "height": 720,
                 "avg_frame_rate": "30000/1001", "r_frame_rate": "30/1"}
            ],
            "format": {"duration": "12.345000", "bit_rate": "2500000"}
        }))
        .unwrap();
        let facts = facts(output).unwrap();
        assert_eq!((facts.duration_ms, facts.width, facts.height), (Some(12_345), Some(1280), Some(720)));
        assert!((facts.fps.unwrap() - 29.97).abs() < 0.01);
        assert_eq!((facts.codec.as_deref(), facts.bitrate), (Some("h264"), Some(2_500_000)));
    }

    #[test]
    fn rotated_phone_videos_are_portrait() {
        let output: Output = serde_json::from_value(serde_json::json!({
            "streams": [{"codec_type": "video", "width": 1920, "height": 1080, "avg_frame_rate": "30/1",
                         "side_data_list": [{"rotation": -90}]}],
            "format": {"duration": "3.0"}
        }))
        .unwrap();
        let facts = facts(output).unwrap();
        assert_eq!((facts.width, facts.height), (Some(1080), Some(1920)));
    }

    #[test]
    fn audio_only_or_durationless_files_are_unreadable() {
        let audio: Output = serde_json::from_value(serde_json::json!({
            "streams": [{"codec_type": "audio"}], "format": {"duration": "3.0"}
        }))
        .unwrap();
        assert!(matches!(facts(audio), Err(ProbeError::Unreadable(_))));
        assert_eq!(rate("0/0"), None);
        let stderr = b"[h264 @ 0x56] Invalid NAL unit size (596 > 56).\nError while decoding stream #0:0: Invalid data found\nCannot determine format\n";
        assert_eq!(first_line(stderr, "x"), "Error while decoding stream #0:0: Invalid data found");
        assert_eq!(first_line(b"[mov @ 0x1] moov atom not found\n", "x"), "moov atom not found");
        assert_eq!(first_line(b"", "nothing"), "nothing");
    }
}
