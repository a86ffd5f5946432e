//! [`Error`]: every member crate's error in one type, so an application
//! that uses several crates can use `?` across them without `anyhow`.

/// An error from any of descent's crates, each kept whole (match on the
/// variant, then on the crate's own error) and converted with `From`.
///
/// # Examples
///
/// ```
/// use descent::core::{ParamStore, Tags};
/// use descent::optim::{Sgd, SgdConfig};
/// use descent::schedule::StepLr;
/// use nalgebra::DMatrix;
///
/// fn build() -> Result<(), descent::Error> {
///     let mut store = ParamStore::<f32>::new();
///     store.register("w", Tags::WEIGHT, DMatrix::zeros(2, 2))?; // core
///     let _opt = SgdConfig::default().build(&store)?; // optim
///     let _sched = StepLr::new(0.1, 0, 0.5)?; // schedule: step_size 0 is refused
///     Ok(())
/// }
/// assert!(matches!(build(), Err(descent::Error::Schedule(_))));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From `descent-core` (the parameter store).
    #[error(transparent)]
    Core(#[from] descent_core::Error),
    /// A bad argument (name, value, reason) from `descent_core::range` or
    /// any place an [`ArgError`](descent_core::ArgError) is used on its own;
    /// each crate's error also wraps it, as its `Arg` variant.
    #[error(transparent)]
    Arg(#[from] descent_core::ArgError),
    /// No longer returned: the range checks return
    /// [`ArgError`](descent_core::ArgError), which is [`Error::Arg`].
    #[deprecated(since = "0.1.0", note = "no longer returned; match `Error::Arg`")]
    #[allow(deprecated)]
    #[error(transparent)]
    OutOfRange(descent_core::range::OutOfRange),
    /// From `descent-nn`.
    #[error(transparent)]
    Nn(#[from] descent_nn::Error),
    /// From `descent-optim`.
    #[error(transparent)]
    Optim(#[from] descent_optim::Error),
    /// From `descent-schedule`.
    #[error(transparent)]
    Schedule(#[from] descent_schedule::Error),
    /// From `descent-data`.
    #[error(transparent)]
    Data(#[from] descent_data::Error),
    /// From `descent-augment`.
    #[error(transparent)]
    Augment(#[from] descent_augment::Error),
    /// From `descent-regularize`.
    #[error(transparent)]
    Regularize(#[from] descent_regularize::Error),
    /// From `descent-hpo`.
    #[error(transparent)]
    Hpo(#[from] descent_hpo::Error),
    /// From `descent-train`.
    #[error(transparent)]
    Train(#[from] descent_train::Error),
}

#[allow(deprecated)]
impl From<descent_core::range::OutOfRange> for Error {
    fn from(e: descent_core::range::OutOfRange) -> Self {
        Error::Arg(e.into())
    }
}

/// `Result` with the facade's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
