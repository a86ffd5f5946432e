//! descent playground: a small network learns a 2-D data set in the browser
//! while the student changes the data, the network, the optimizer, the
//! schedule and the regularizers — on descent's real [`Trainer`], not a toy
//! copy of it.
//!
//! The binary `descent-playground` serves one page on `127.0.0.1`; its HTML,
//! JavaScript and CSS are compiled into the binary ([`server::INDEX_HTML`]).
//! Each browser tab opens a [`session`]: its own worker thread that owns the
//! tab's trainers (one, or two in compare mode on the same data and seed)
//! and publishes snapshots — losses, learning rate, weights' norm and the
//! decision boundary over a grid — into a latest-value slot that the page
//! reads as server-sent events. Training never waits for the page: a slow
//! tab simply skips snapshots. A tab that disconnects ends its session and
//! its thread.
//!
//! # Code map
//!
//! - [`config`]: what the page sends, its bounds ([`config::Limits`]) and validation.
//! - [`data`]: the data sets (two moons, spirals, circles, XOR, Gaussian
//!   blobs), the train/test split and label noise.
//! - [`run`]: a configuration as a [`Trainer`], one epoch at a time, and its
//!   [`run::RunSnapshot`].
//! - [`session`]: the per-tab worker thread and the registry of sessions.
//! - [`server`]: the HTTP routes (axum).
//! - `assets/`: the page, compiled in with `include_str!`; `e2e/`: the
//!   headless-Chromium test `.ci/playground.sh` runs.
//!
//! It depends on descent-train (and core, autodiff, nn, optim, schedule,
//! data, regularize), axum and tokio; nothing depends on it (the root
//! `tests/tidy.rs`).
//!
//! Invariant: every size a page can ask for is bounded ([`config::LIMITS`]:
//! points, layers, width, epochs, classes; sessions; request bodies), and a
//! bad value is a typed [`Error`] naming its field, never a panic.
//!
//! [`Trainer`]: descent_train::Trainer

pub mod config;
pub mod data;
mod error;
pub mod run;
pub mod server;
pub mod session;

pub use error::{Error, Result};
