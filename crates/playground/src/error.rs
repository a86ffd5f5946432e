//! The playground's error: what was wrong with a request, or what failed in
//! the library while building or training a run.

/// Everything that can go wrong in the playground.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration field is out of bounds or inconsistent.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as the page names it (`net.hidden`, `optim.lr`, ...).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request body is not the JSON the endpoint expects.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// The request body is larger than the server accepts.
    #[error("the request body is over {max} bytes")]
    TooLarge {
        /// The limit, in bytes.
        max: usize,
    },
    /// No session has this id (it was never created or has ended).
    #[error("no session `{0}`: it ended (tab closed or idle) or never existed")]
    NoSession(String),
    /// The session already has a page reading its event stream.
    #[error("session `{0}` already has an event stream")]
    AlreadyAttached(String),
    /// The server holds as many sessions as it allows.
    #[error("the server already runs {max} sessions, its limit; close another tab and retry")]
    TooManySessions {
        /// The limit.
        max: usize,
    },
    /// A control arrived before any configuration.
    #[error("no configuration yet: send one before `{0}`")]
    NotConfigured(String),
    /// The session's command queue is full (the page sends faster than it trains).
    #[error("the session is busy; retry in a moment")]
    Busy,
    /// The session's worker thread is gone.
    #[error("the session's training thread has ended")]
    WorkerGone,
    /// The training loop refused the configuration or failed.
    #[error(transparent)]
    Train(#[from] descent_train::Error),
    /// A data set could not be generated.
    #[error(transparent)]
    Data(#[from] descent_data::Error),
    /// A layer could not be built.
    #[error(transparent)]
    Nn(#[from] descent_nn::Error),
    /// The optimizer refused its arguments.
    #[error(transparent)]
    Optim(#[from] descent_optim::Error),
    /// The schedule refused its arguments.
    #[error(transparent)]
    Schedule(#[from] descent_schedule::Error),
    /// A penalty refused its arguments.
    #[error(transparent)]
    Regularize(#[from] descent_regularize::Error),
}

impl Error {
    /// An [`Error::Invalid`] of `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The configuration field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The playground's result.
pub type Result<T> = std::result::Result<T, Error>;
