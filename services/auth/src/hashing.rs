//! The password-hashing pool: a few threads (one per core unless configured), each hashing one
//! password at a time in memory it keeps while work is queued, behind a bounded queue whose
//! requests expire. A login storm therefore costs at most `threads × m_cost` of hashing memory
//! and answers 503 with `Retry-After` once the queue is full or a request waited too long,
//! where one blocking task per request held 19 MiB each (issue 18: 64 logins took 1.3 GB).

use crate::domain::password::{Memory, PasswordHasher};
use platform::ApiError;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a hashing thread is asked to do.
enum Work {
    Hash(String),
    /// Verify against the stored hash, or spend the same time when the account is unknown.
    Verify {
        password: String,
        stored: Option<String>,
    },
}

enum Done {
    Hashed(anyhow::Result<String>),
    Verified(bool),
}

struct Job {
    work: Work,
    expires_at: Instant,
    reply: oneshot::Sender<Option<Done>>,
}

#[derive(Clone)]
pub struct HashingPool {
    jobs: async_channel::Sender<Job>,
    queue_deadline: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Hashing threads; 0 means one per core.
    pub threads: usize,
    /// Requests waiting at most; more are refused at once.
    pub queue_capacity: usize,
    /// A request still queued after this long is refused.
    pub queue_deadline: Duration,
}

/// Seconds a refused client is told to wait.
const RETRY_AFTER_SECS: u64 = 1;

impl HashingPool {
    /// Starts the threads; they end when the last handle to the pool is dropped.
    pub fn start(hasher: PasswordHasher, settings: PoolSettings) -> std::io::Result<Self> {
        release_large_blocks_to_the_system();
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let (jobs, queue) = async_channel::bounded::<Job>(settings.queue_capacity.max(1));
        for index in 0..threads {
            let (queue, hasher) = (queue.clone(), hasher.clone());
            std::thread::Builder::new().name(format!("argon2-{index}")).spawn(move || work(&hasher, &queue))?;
        }
        Ok(Self { jobs, queue_deadline: settings.queue_deadline })
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        match self.run(Work::Hash(password)).await? {
            Done::Hashed(hash) => hash.map_err(ApiError::internal),
            Done::Verified(_) => Err(ApiError::internal("the hashing pool answered a hash with a verification")),
        }
    }

    /// Whether `password` matches `stored`; `None` (an unknown account) costs one verification
    /// too, so timing does not tell unknown accounts from wrong passwords.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, ApiError> {
        match self.run(Work::Verify { password, stored }).await? {
            Done::Verified(valid) => Ok(valid),
            Done::Hashed(_) => Err(ApiError::internal("the hashing pool answered a verification with a hash")),
        }
    }

    async fn run(&self, work: Work) -> Result<Done, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { work, expires_at: Instant::now() + self.queue_deadline, reply };
        self.jobs.try_send(job).map_err(|_| saturated())?;
        answer.await.ok().flatten().ok_or_else(saturated)
    }
}

fn saturated() -> ApiError {
    ApiError::unavailable("too many sign-ins at once, try again shortly").with_retry_after(RETRY_AFTER_SECS)
}

/// One hashing thread: keeps its memory while jobs wait, gives it back when the queue empties.
fn work(hasher: &PasswordHasher, queue: &async_channel::Receiver<Job>) {
    let mut memory = Memory::default();
    loop {
        if queue.is_empty() && memory.is_held() {
            memory.release();
        }
        let Ok(job) = queue.recv_blocking() else { return };
        // Expired requests are refused, and abandoned ones (the client left) skipped.
        if Instant::now() > job.expires_at || job.reply.is_closed() {
            let _ = job.reply.send(None);
            continue;
        }
        let done = match job.work {
            Work::Hash(password) => Done::Hashed(hasher.hash(&password, &mut memory)),
            Work::Verify { password, stored: Some(stored) } => {
                Done::Verified(hasher.verify(&password, &stored, &mut memory))
            }
            Work::Verify { password, stored: None } => {
                hasher.verify_nothing(&password, &mut memory);
                Done::Verified(false)
            }
        };
        let _ = job.reply.send(Some(done));
    }
}

/// glibc serves a freed large block's size from its heaps afterwards (the mmap threshold
/// rises to it), where a freed block may stay in the process for good; a fixed threshold keeps
/// every block of 1 MiB and more in its own mapping, returned to the system when freed.
fn release_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only changes the allocator's tuning; it is called once, before the
        // hashing threads start.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, queue_capacity: usize, queue_deadline: Duration) -> HashingPool {
        let hasher = PasswordHasher::new(1024, 1).unwrap();
        HashingPool::start(hasher, PoolSettings { threads, queue_capacity, queue_deadline }).unwrap()
    }

    #[tokio::test]
    async fn hashes_and_verifies() {
        let pool = pool(2, 8, Duration::from_secs(5));
        let hash = pool.hash("Shkaf2024".into()).await.unwrap();
        assert!(pool.verify("Shkaf2024".into(), Some(hash.clone())).await.unwrap());
        assert!(!pool.verify("Shkaf2025".into(), Some(hash)).await.unwrap());
        assert!(!pool.verify("Shkaf2024".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_503_with_retry_after() {
        let pool = pool(1, 1, Duration::from_secs(30));
        let attempts = (0..50).map(|_| pool.hash("Shkaf2024".into()));
        let results = futures_util::future::join_all(attempts).await;
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(!refused.is_empty(), "one thread and one queued request cannot take 50 at once");
        assert!(results.iter().any(Result::is_ok));
        for error in refused {
            assert_eq!(error.status.as_u16(), 503);
            assert_eq!(error.code, "service_unavailable");
            assert_eq!(error.retry_after, Some(RETRY_AFTER_SECS));
        }
    }

    #[tokio::test]
    async fn requests_that_waited_past_the_deadline_are_refused() {
        let pool = pool(1, 100, Duration::ZERO);
        let results = futures_util::future::join_all((0..20).map(|_| pool.hash("Shkaf2024".into()))).await;
        assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.status.as_u16() == 503)));
    }
}
