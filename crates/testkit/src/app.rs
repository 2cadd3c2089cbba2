//! Running a service in-process on a free port, the way `main` runs it.

use platform::{Application, ShutdownHandle};

/// A service running on a tokio task; shut down gracefully when dropped.
pub struct TestApp {
    pub address: String,
    shutdown: ShutdownHandle,
}

impl TestApp {
    /// Starts `app` (built with port 0) and returns its address.
    pub fn start(app: Application) -> Self {
        let address = format!("http://127.0.0.1:{}", app.port());
        let shutdown = app.shutdown_handle();
        tokio::spawn(app.run_until_stopped());
        Self { address, shutdown }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.shutdown();
    }
}
