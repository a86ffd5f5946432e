//! Where a population's members live while PBT drives them: moved to
//! whichever thread is free ([`Local`], members that are `Send`), or built
//! on a worker thread and kept there ([`Pinned`], members that are not
//! `Send`, such as a trainer of a `Sequential` model), driven by messages.

use super::{Member, member_error, panic_text};
use crate::{Error, ParamValues, Result};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

/// The operations a PBT round needs from a population.
pub(super) trait Pool {
    /// A saved member state, shareable between members.
    type Checkpoint;
    /// Sets member `i`'s hyperparameters.
    fn set(&mut self, i: usize, hyperparams: &ParamValues, at: u64) -> Result<()>;
    /// Trains every member `steps` steps; their scores, by member.
    fn train(&mut self, steps: u64, at: u64) -> Result<Vec<f64>>;
    /// Member `i`'s state.
    fn save(&mut self, i: usize, at: u64) -> Result<Self::Checkpoint>;
    /// Replaces member `i`'s state by `checkpoint`.
    fn load(&mut self, i: usize, checkpoint: &Self::Checkpoint, at: u64) -> Result<()>;
}

/// Runs `f` on a member, its error or panic a typed [`Error::Member`].
fn guarded<T, E: std::fmt::Display>(
    i: usize,
    at: u64,
    op: &'static str,
    f: impl FnOnce() -> std::result::Result<T, E>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(member_error(i, at, op, e)),
        Err(payload) => Err(member_error(i, at, op, panic_text(payload.as_ref()))),
    }
}

/// Members moved to whichever of `threads` scoped threads is free each round.
pub(super) struct Local<'p, M> {
    pub members: &'p mut [M],
    pub threads: usize,
}

impl<M: Member + Send> Pool for Local<'_, M> {
    type Checkpoint = M::Checkpoint;

    fn set(&mut self, i: usize, hyperparams: &ParamValues, at: u64) -> Result<()> {
        let m = &mut self.members[i];
        guarded(i, at, "set_hyperparams", || m.set_hyperparams(hyperparams))
    }

    fn train(&mut self, steps: u64, at: u64) -> Result<Vec<f64>> {
        let n = self.members.len();
        let queue = Mutex::new(self.members.iter_mut().enumerate());
        let results: Mutex<Vec<Option<Result<f64>>>> = Mutex::new((0..n).map(|_| None).collect());
        let work = || {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                let Some((i, member)) = next else { break };
                let outcome = guarded(i, at, "train", || member.train(steps));
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(outcome);
            }
        };
        let threads = self.threads.clamp(1, n.max(1));
        if threads == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        results
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::config("population", n, "a member was not trained")))
            })
            .collect()
    }

    fn save(&mut self, i: usize, at: u64) -> Result<M::Checkpoint> {
        let m = &mut self.members[i];
        guarded(i, at, "save", || m.save())
    }

    fn load(&mut self, i: usize, checkpoint: &M::Checkpoint, at: u64) -> Result<()> {
        let m = &mut self.members[i];
        guarded(i, at, "load", || m.load(checkpoint))
    }
}

/// A request to a worker thread, about its members.
pub(super) enum Cmd<C> {
    Set(usize, ParamValues, u64),
    Train(u64, u64),
    Save(usize, u64),
    Load(usize, Arc<C>, u64),
    Finish,
}

/// A worker's answer.
pub(super) enum Reply<C, R> {
    Unit(Result<()>),
    Scores(Vec<(usize, Result<f64>)>),
    Saved(Result<C>),
    Finished(Vec<(usize, R)>),
}

/// The coordinator's ends of one worker's channels: requests out, answers in.
pub(super) type Worker<C, R> = (Sender<Cmd<C>>, Receiver<Reply<C, R>>);

/// Members built on worker thread `i % threads` and kept there.
pub(super) struct Pinned<C, R> {
    pub n: usize,
    pub workers: Vec<Worker<C, R>>,
}

impl<C, R> Pinned<C, R> {
    fn ask(&self, i: usize, cmd: Cmd<C>) -> Result<Reply<C, R>> {
        let (tx, rx) = &self.workers[i % self.workers.len()];
        let gone = || Error::config("population", i, "the member's worker thread stopped");
        tx.send(cmd).map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())
    }

    fn unit(&self, i: usize, cmd: Cmd<C>) -> Result<()> {
        match self.ask(i, cmd)? {
            Reply::Unit(r) => r,
            _ => Err(Error::config(
                "population",
                i,
                "a worker answered out of turn",
            )),
        }
    }

    /// Ends every worker and collects what `finish` made of each member.
    pub fn finish(self) -> Result<Vec<R>> {
        let mut out: Vec<Option<R>> = (0..self.n).map(|_| None).collect();
        for w in 0..self.workers.len() {
            if let Reply::Finished(made) = self.ask(w, Cmd::Finish)? {
                for (i, r) in made {
                    out[i] = Some(r);
                }
            }
        }
        out.into_iter()
            .map(|r| r.ok_or_else(|| Error::config("population", self.n, "a member was lost")))
            .collect()
    }
}

impl<C, R> Pool for Pinned<C, R> {
    type Checkpoint = Arc<C>;

    fn set(&mut self, i: usize, hyperparams: &ParamValues, at: u64) -> Result<()> {
        self.unit(i, Cmd::Set(i, hyperparams.clone(), at))
    }

    fn train(&mut self, steps: u64, at: u64) -> Result<Vec<f64>> {
        let gone = || Error::config("population", self.n, "a worker thread stopped");
        // Every worker trains its members at once; then the answers, in order.
        for (tx, _) in &self.workers {
            tx.send(Cmd::Train(steps, at)).map_err(|_| gone())?;
        }
        let mut scores: Vec<Option<Result<f64>>> = (0..self.n).map(|_| None).collect();
        for (_, rx) in &self.workers {
            if let Reply::Scores(got) = rx.recv().map_err(|_| gone())? {
                for (i, s) in got {
                    scores[i] = Some(s);
                }
            }
        }
        scores
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Err(gone())))
            .collect()
    }

    fn save(&mut self, i: usize, at: u64) -> Result<Arc<C>> {
        match self.ask(i, Cmd::Save(i, at))? {
            Reply::Saved(r) => r.map(Arc::new),
            _ => Err(Error::config(
                "population",
                i,
                "a worker answered out of turn",
            )),
        }
    }

    fn load(&mut self, i: usize, checkpoint: &Arc<C>, at: u64) -> Result<()> {
        self.unit(i, Cmd::Load(i, Arc::clone(checkpoint), at))
    }
}

/// A worker thread's loop: builds members `ids` with `make`, then serves
/// requests until [`Cmd::Finish`], answering each on `tx`.
pub(super) fn serve<M: Member, R>(
    ids: Vec<usize>,
    make: &(dyn Fn(usize) -> std::result::Result<M, M::Error> + Sync),
    finish: &(dyn Fn(usize, M) -> R + Sync),
    rx: Receiver<Cmd<M::Checkpoint>>,
    tx: Sender<Reply<M::Checkpoint, R>>,
) -> Result<()> {
    let mut members = Vec::with_capacity(ids.len());
    for &i in &ids {
        members.push((i, guarded(i, 0, "build", || make(i))?));
    }
    let find = |members: &mut Vec<(usize, M)>, i: usize| -> Result<usize> {
        members
            .iter()
            .position(|(j, _)| *j == i)
            .ok_or_else(|| Error::config("population", i, "not a member of this worker"))
    };
    while let Ok(cmd) = rx.recv() {
        let reply = match cmd {
            Cmd::Set(i, h, at) => Reply::Unit(find(&mut members, i).and_then(|k| {
                let m = &mut members[k].1;
                guarded(i, at, "set_hyperparams", || m.set_hyperparams(&h))
            })),
            Cmd::Train(steps, at) => Reply::Scores(
                members
                    .iter_mut()
                    .map(|(i, m)| (*i, guarded(*i, at, "train", || m.train(steps))))
                    .collect(),
            ),
            Cmd::Save(i, at) => Reply::Saved(find(&mut members, i).and_then(|k| {
                let m = &mut members[k].1;
                guarded(i, at, "save", || m.save())
            })),
            Cmd::Load(i, c, at) => Reply::Unit(find(&mut members, i).and_then(|k| {
                let m = &mut members[k].1;
                guarded(i, at, "load", || m.load(&c))
            })),
            Cmd::Finish => {
                let made = members.drain(..).map(|(i, m)| (i, finish(i, m))).collect();
                let _ = tx.send(Reply::Finished(made));
                return Ok(());
            }
        };
        if tx.send(reply).is_err() {
            break;
        }
    }
    Ok(())
}
