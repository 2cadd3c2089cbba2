//! Notification service through HTTP and Kafka, against the real PostgreSQL, NATS and Kafka,
//! with recording fakes of OneSignal and Mobizon and an SMTP sink (failing on purpose where a
//! test says so).

mod codes;
mod delivery;
mod email_tls;
mod helpers;
mod in_doubt;
mod inbox;
mod settings;
