//! Pure rules of the media service: what a file is by its bytes, the HLS ladder for a source,
//! the fields of a video, and the tus protocol's headers. No I/O; unit-tested here.

pub mod analysis;
pub mod container;
pub mod feed;
pub mod ladder;
pub mod tus;
pub mod video;
