//! How far a load has got, for whoever shows it. The library only reports; the `ingest` command
//! draws a progress bar (the `cli` feature implements [`Progress`] for indicatif's), while the
//! api and the tests pass [`NoProgress`].

/// Receives a load's progress, counted in releases.
pub trait Progress {
    /// The number of releases the run will go through, known once its input is scanned.
    fn set_length(&self, releases: u64);
    /// `releases` more have been written (or found unchanged).
    fn advance(&self, releases: u64);
    /// The load committed.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_length(&self, _releases: u64) {}
    fn advance(&self, _releases: u64) {}
    fn finish(&self) {}
}

/// The command line's bar: it fills as chunks are written and disappears once the load commits.
#[cfg(feature = "cli")]
impl Progress for indicatif::ProgressBar {
    fn set_length(&self, releases: u64) {
        indicatif::ProgressBar::set_length(self, releases);
    }
    fn advance(&self, releases: u64) {
        self.inc(releases);
    }
    fn finish(&self) {
        self.finish_and_clear();
    }
}
