//! The media service through HTTP, against the real PostgreSQL, Redis, NATS (JetStream),
//! Kafka, ffmpeg and (for S3) an S3-protocol server; test videos are made by ffmpeg.

mod analysis;
mod chunks;
mod feed;
mod files;
mod helpers;
mod multipart;
mod s3;
mod social;
mod tus;
mod views;
mod worker;
