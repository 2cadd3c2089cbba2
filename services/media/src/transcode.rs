//! The ffmpeg commands of the worker: three thumbnails from a representative frame, and the
//! HLS ladder with its master playlist in one encoding pass.

use crate::domain::ladder::{self, Rung, Source};
use crate::probe::first_line;
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// `vec![a.to_string(), b.to_string(), …]`: an argument list from strings of any kind.
macro_rules! strings {
    ($($item:expr),* $(,)?) => { vec![$(($item).to_string()),*] };
}

/// The seed's thumbnail sizes.
pub const THUMBNAILS: &[(&str, u32, u32)] = &[("small", 320, 180), ("medium", 640, 360), ("large", 1280, 720)];

/// ffmpeg could not make the outputs of this input (it cannot decode it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TranscodeError(pub String);

/// The arguments that make the thumbnails of `input` in `dir` (`small.jpg`, `medium.jpg`,
/// `large.jpg`): a frame chosen by ffmpeg's `thumbnail` filter (the most representative of a
/// batch, so not a black fade-in) from a quarter into the video, letterboxed to each size.
pub fn thumbnail_args(input: &Path, dir: &Path, duration_secs: f64) -> Vec<String> {
    let start = (duration_secs * 0.25).clamp(0.0, 5.0);
    let mut graph = format!("[0:v]thumbnail=30,split={}", THUMBNAILS.len());
    for (i, _) in THUMBNAILS.iter().enumerate() {
        graph.push_str(&format!("[t{i}]"));
    }
    for (i, (_, w, h)) in THUMBNAILS.iter().enumerate() {
        graph.push_str(&format!(
            ";[t{i}]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1[o{i}]"
        ));
    }
    let mut args: Vec<String> = strings!["-v", "error", "-y", "-ss", format!("{start:.3}"), "-i"];
    args.push(input.display().to_string());
    args.extend(["-filter_complex".to_owned(), graph]);
    for (i, (name, _, _)) in THUMBNAILS.iter().enumerate() {
        args.extend(strings![
            "-map",
            format!("[o{i}]"),
            "-frames:v",
            "1",
            "-q:v",
            "3",
            dir.join(format!("{name}.jpg")).display()
        ]);
    }
    args
}

/// The arguments that encode `input` into the HLS ladder under `dir`: `dir/master.m3u8` and
/// `dir/<rung>/index.m3u8` with its `seg_NNN.ts` segments. libx264 `veryfast`, the same
/// keyframe interval on every rung (segments align), no scene-cut keyframes.
pub fn hls_args(
    input: &Path,
    dir: &Path,
    source: &Source,
    rungs: &[Rung],
    has_audio: bool,
    segment_secs: u32,
) -> Vec<String> {
    let gop = ladder::keyframe_interval(source.fps, segment_secs).to_string();
    let mut graph = format!("[0:v]split={}", rungs.len());
    for i in 0..rungs.len() {
        graph.push_str(&format!("[s{i}]"));
    }
    for (i, rung) in rungs.iter().enumerate() {
        graph.push_str(&format!(";[s{i}]scale={}:{}:flags=bicubic,setsar=1[v{i}]", rung.width, rung.height));
    }
    let mut args: Vec<String> = strings!["-v", "error", "-y", "-i"];
    args.push(input.display().to_string());
    args.extend(["-filter_complex".to_owned(), graph]);
    let mut stream_map = Vec::new();
    for (i, rung) in rungs.iter().enumerate() {
        args.extend([
            "-map".to_owned(),
            format!("[v{i}]"),
            format!("-c:v:{i}"),
            "libx264".to_owned(),
            format!("-b:v:{i}"),
            rung.bitrate.to_string(),
            format!("-maxrate:v:{i}"),
            rung.maxrate.to_string(),
            format!("-bufsize:v:{i}"),
            rung.bufsize.to_string(),
        ]);
        if has_audio {
            args.extend(["-map".to_owned(), "0:a:0".to_owned()]);
            stream_map.push(format!("v:{i},a:{i},name:{}", rung.name));
        } else {
            stream_map.push(format!("v:{i},name:{}", rung.name));
        }
    }
    args.extend(strings![
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        gop,
        "-keyint_min",
        gop,
        "-sc_threshold",
        "0",
        "-force_key_frames",
        format!("expr:gte(t,n_forced*{segment_secs})"),
    ]);
    if has_audio {
        args.extend(strings!["-c:a", "aac", "-b:a", "128k", "-ac", "2"]);
    }
    args.extend(strings![
        "-f",
        "hls",
        "-hls_time",
        segment_secs,
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_filename",
        dir.join("%v").join("seg_%03d.ts").display(),
        "-master_pl_name",
        "master.m3u8",
        "-var_stream_map",
        stream_map.join(" "),
        dir.join("%v").join("index.m3u8").display(),
    ]);
    args
}

/// Runs ffmpeg with `args`; a failure carries the first line ffmpeg printed.
pub async fn run(ffmpeg: &str, args: &[String]) -> Result<(), TranscodeError> {
    let output = Command::new(ffmpeg)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| TranscodeError(format!("ffmpeg cannot run: {e}")))?;
    if output.status.success() { Ok(()) } else { Err(TranscodeError(first_line(&output.stderr, "ffmpeg failed"))) }
}

/// Every file under `dir`, with its path relative to `dir`.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                let relative = relative.to_string_lossy().replace('\\', "/");
                found.push((path.clone(), relative));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_is_one_command_with_aligned_keyframes() {
        let source = Source { width: 1280, height: 720, fps: 25.0, bitrate: None };
        let rungs = ladder::ladder(&source);
        let args = hls_args(Path::new("in.mp4"), Path::new("out"), &source, &rungs, true, 4).join(" ");
        assert!(args.contains("-g 100 -keyint_min 100 -sc_threshold 0"), "{args}");
        assert!(args.contains("v:0,a:0,name:360p v:1,a:1,name:480p v:2,a:2,name:720p"), "{args}");
        assert!(args.contains("-preset veryfast"));
        let silent = hls_args(Path::new("in.mp4"), Path::new("out"), &source, &rungs[..1], false, 4).join(" ");
        assert!(silent.contains("-var_stream_map v:0,name:360p") && !silent.contains("aac"), "{silent}");
    }

    #[test]
    fn thumbnails_start_into_the_video() {
        let args = thumbnail_args(Path::new("in.mp4"), Path::new("out"), 8.0).join(" ");
        assert!(args.contains("-ss 2.000"), "{args}");
        assert!(args.contains("scale=320:180") && args.contains("out/large.jpg"));
    }
}
