//! The HLS ladder for a source: which renditions, at what size and bitrate.
//!
//! Modelled on PeerTube's VOD profile: rungs up to the source's resolution (the short side, so
//! that portrait videos get the same rungs as landscape ones), a target bitrate by resolution
//! and frame rate, never above the source's own bitrate, with `maxrate`/`bufsize` bounding the
//! peaks; libx264 `veryfast`, keyframes aligned to the segment length across rungs.

/// The rungs offered, by the short side of the picture, with their average bitrate at 30 fps
/// (bits per second).
const RUNGS: &[(u32, u64)] = &[(360, 800_000), (480, 1_200_000), (720, 2_500_000), (1080, 4_500_000)];

/// No rung is encoded below this bitrate, whatever the source's.
const MIN_BITRATE: u64 = 150_000;

/// The source as ffprobe sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Source {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Overall bitrate, when known.
    pub bitrate: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rung {
    /// `360p`, `720p` … (by the short side).
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate: u64,
    pub maxrate: u64,
    pub bufsize: u64,
}

/// The renditions to make of `source`: every rung up to its short side, or one at the
/// source's own size when it is smaller than the smallest rung.
pub fn ladder(source: &Source) -> Vec<Rung> {
    let short = source.width.min(source.height).max(2);
    let mut sides: Vec<(u32, u64)> = RUNGS.iter().copied().filter(|(side, _)| *side <= short).collect();
    if sides.is_empty() {
        sides.push((short, RUNGS[0].1 * u64::from(short) / u64::from(RUNGS[0].0)));
    }
    sides.into_iter().map(|(side, base)| rung(source, side, base)).collect()
}

fn rung(source: &Source, side: u32, base_bitrate: u64) -> Rung {
    let (width, height) = scaled(source.width, source.height, side);
    let fps_factor = if source.fps > 40.0 {
        1.4
    } else if source.fps > 0.0 && source.fps < 20.0 {
        0.7
    } else {
        1.0
    };
    let mut bitrate = (base_bitrate as f64 * fps_factor) as u64;
    if let Some(source_bitrate) = source.bitrate.filter(|b| *b > 0) {
        bitrate = bitrate.min(source_bitrate);
    }
    let bitrate = bitrate.max(MIN_BITRATE);
    Rung { name: format!("{side}p"), width, height, bitrate, maxrate: bitrate * 3 / 2, bufsize: bitrate * 2 }
}

/// The picture scaled so that its short side is `side`, both sides even (x264 needs them even).
fn scaled(width: u32, height: u32, side: u32) -> (u32, u32) {
    let even = |v: f64| ((v / 2.0).round() as u32 * 2).max(2);
    if width >= height {
        (even(f64::from(width) * f64::from(side) / f64::from(height.max(1))), even(f64::from(side)))
    } else {
        (even(f64::from(side)), even(f64::from(height) * f64::from(side) / f64::from(width.max(1))))
    }
}

/// Keyframe interval in frames for segments of `segment_secs` at `fps`.
pub fn keyframe_interval(fps: f64, segment_secs: u32) -> u32 {
    let fps = if fps.is_finite() && fps > 0.0 { fps } else { 30.0 };
    ((fps * f64::from(segment_secs)).round() as u32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(width: u32, height: u32) -> Source {
        Source { width, height, fps: 30.0, bitrate: None }
    }

    #[test]
    fn rungs_go_up_to_the_source_resolution() {
        let names: Vec<String> = ladder(&source(1920, 1080)).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["360p", "480p", "720p", "1080p"]);
        let names: Vec<String> = ladder(&source(1280, 720)).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["360p", "480p", "720p"]);
        let rung = &ladder(&source(1280, 720))[0];
        assert_eq!((rung.width, rung.height), (640, 360));
    }

    #[test]
    fn portrait_videos_keep_their_orientation() {
        let rungs = ladder(&source(720, 1280));
        assert_eq!(rungs.len(), 3);
        assert_eq!((rungs[2].width, rungs[2].height), (720, 1280));
        assert_eq!((rungs[0].width, rungs[0].height), (360, 640));
    }

    #[test]
    fn a_small_source_gets_one_rung_of_its_own_size() {
        let rungs = ladder(&source(320, 240));
        assert_eq!(rungs.len(), 1);
        assert_eq!((rungs[0].width, rungs[0].height, rungs[0].name.as_str()), (320, 240, "240p"));
    }

    #[test]
    fn bitrate_follows_frame_rate_and_never_exceeds_the_source() {
        let at30 = ladder(&source(1280, 720))[2].bitrate;
        let at60 = ladder(&Source { fps: 60.0, ..source(1280, 720) })[2].bitrate;
        assert!(at60 > at30);
        let capped = ladder(&Source { bitrate: Some(1_000_000), ..source(1280, 720) });
        assert!(capped.iter().all(|r| r.bitrate <= 1_000_000 && r.maxrate == r.bitrate * 3 / 2));
    }

    #[test]
    fn keyframes_align_with_segments() {
        assert_eq!(keyframe_interval(30.0, 4), 120);
        assert_eq!(keyframe_interval(23.976, 4), 96);
        assert_eq!(keyframe_interval(f64::NAN, 2), 60);
    }
}
