//! Composition: `Compose`, `RandomApply`, `OneOf`, `RandomOrder`.
//!
//! A composite gives its `i`-th child the context `ctx.child(i)`, so each
//! child's draws depend only on the sample and the child's position.

use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape};
use crate::ArgError;
use crate::error::check_prob;
use crate::{Error, OpCtx, Result};
use rand::RngExt;

/// A boxed op.
pub type BoxedOp = Box<dyn ImageAugment>;

/// Applies every op in order (torchvision `Compose`).
pub struct Compose {
    ops: Vec<BoxedOp>,
}

impl Compose {
    /// A sequence of ops.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{Compose, HorizontalFlip, PadMode, RandomCrop};
    ///
    /// let pipeline = Compose::new(vec![
    ///     Box::new(RandomCrop::new(4, PadMode::Constant(0.0))?),
    ///     Box::new(HorizontalFlip::new(0.5)?),
    /// ]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(ops: Vec<BoxedOp>) -> Self {
        Compose { ops }
    }
}

impl ImageAugment for Compose {
    fn spec(&self) -> Option<OpSpec> {
        self.ops
            .iter()
            .map(|o| o.spec())
            .collect::<Option<Vec<_>>>()
            .map(|ops| OpSpec::Compose { ops })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        for (i, op) in self.ops.iter().enumerate() {
            op.draw(ctx.child(i), dims, emit);
        }
    }
}

/// Applies an op with probability `p` (torchvision `RandomApply`).
pub struct RandomApply {
    op: BoxedOp,
    p: f64,
}

impl RandomApply {
    /// `op` with probability `p`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{RandomApply, RandomGrayscale};
    ///
    /// let maybe = RandomApply::new(Box::new(RandomGrayscale::new(1.0)?), 0.2)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(op: BoxedOp, p: f64) -> Result<Self> {
        check_prob("p", p)?;
        Ok(RandomApply { op, p })
    }
}

impl ImageAugment for RandomApply {
    fn spec(&self) -> Option<OpSpec> {
        self.op.spec().map(|op| OpSpec::RandomApply {
            op: Box::new(op),
            p: self.p,
        })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        if ctx.rng().random_bool(self.p) {
            self.op.draw(ctx.child(0), dims, emit);
        }
    }
}

/// Applies one op chosen uniformly (albumentations `OneOf`, torchvision `RandomChoice`).
pub struct OneOf {
    ops: Vec<BoxedOp>,
}

impl OneOf {
    /// One of `ops`, which must not be empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{HorizontalFlip, OneOf, VerticalFlip};
    ///
    /// let one = OneOf::new(vec![Box::new(HorizontalFlip::new(1.0)?), Box::new(VerticalFlip::new(1.0)?)])?;
    /// assert!(OneOf::new(vec![]).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(ops: Vec<BoxedOp>) -> Result<Self> {
        if ops.is_empty() {
            return Err(Error::Arg(ArgError::new("ops", 0, "needs at least one op")));
        }
        Ok(OneOf { ops })
    }
}

impl ImageAugment for OneOf {
    fn spec(&self) -> Option<OpSpec> {
        self.ops
            .iter()
            .map(|o| o.spec())
            .collect::<Option<Vec<_>>>()
            .map(|ops| OpSpec::OneOf { ops })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let i = ctx.rng().random_range(0..self.ops.len());
        self.ops[i].draw(ctx.child(i), dims, emit);
    }
}

/// The most ops a [`RandomOrder`] holds (its permutation lives on the stack).
pub const MAX_RANDOM_ORDER: usize = 32;

/// Applies every op in a random order (torchvision `RandomOrder`).
pub struct RandomOrder {
    ops: Vec<BoxedOp>,
}

impl RandomOrder {
    /// `ops` in a random order; at most [`MAX_RANDOM_ORDER`] of them.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{HorizontalFlip, RandomOrder, RandomGrayscale};
    ///
    /// let shuffled = RandomOrder::new(vec![Box::new(HorizontalFlip::new(0.5)?), Box::new(RandomGrayscale::new(0.5)?)])?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(ops: Vec<BoxedOp>) -> Result<Self> {
        if ops.len() > MAX_RANDOM_ORDER {
            return Err(Error::Arg(ArgError::new(
                "ops",
                ops.len(),
                "RandomOrder holds at most 32 ops",
            )));
        }
        Ok(RandomOrder { ops })
    }
}

impl ImageAugment for RandomOrder {
    fn spec(&self) -> Option<OpSpec> {
        self.ops
            .iter()
            .map(|o| o.spec())
            .collect::<Option<Vec<_>>>()
            .map(|ops| OpSpec::RandomOrder { ops })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let n = self.ops.len();
        let mut order = [0usize; MAX_RANDOM_ORDER];
        for (i, o) in order.iter_mut().enumerate().take(n) {
            *o = i;
        }
        let mut rng = ctx.rng();
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for &i in &order[..n] {
            self.ops[i].draw(ctx.child(i), dims, emit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleKey;
    use crate::image::{HorizontalFlip, VerticalFlip};

    fn flips() -> Vec<BoxedOp> {
        vec![
            Box::new(HorizontalFlip::new(1.0).unwrap()),
            Box::new(VerticalFlip::new(1.0).unwrap()),
        ]
    }

    #[test]
    fn composites_emit_their_children_params() {
        let dims = ImageShape::new(1, 2, 2);
        let key = SampleKey::new(1, 2, 3);
        let all = Compose::new(flips()).params(key, dims);
        assert_eq!(
            all,
            [
                DrawnParams::HFlip { flip: true },
                DrawnParams::VFlip { flip: true }
            ]
        );
        assert_eq!(OneOf::new(flips()).unwrap().params(key, dims).len(), 1);
        let mut order = RandomOrder::new(flips()).unwrap().params(key, dims);
        order.sort_by_key(|p| matches!(p, DrawnParams::VFlip { .. }));
        assert_eq!(order, all);
        assert!(
            RandomApply::new(Box::new(Compose::new(flips())), 0.0)
                .unwrap()
                .params(key, dims)
                .is_empty()
        );
        assert_eq!(
            RandomApply::new(Box::new(Compose::new(flips())), 1.0)
                .unwrap()
                .params(key, dims),
            all
        );
    }

    #[test]
    fn one_of_picks_every_op_over_many_samples() {
        let one = OneOf::new(flips()).unwrap();
        let dims = ImageShape::new(1, 2, 2);
        let h = (0..200)
            .filter(|&i| {
                matches!(
                    one.params(SampleKey::new(0, 0, i), dims)[0],
                    DrawnParams::HFlip { .. }
                )
            })
            .count();
        assert!((60..140).contains(&h), "{h} of 200 horizontal");
    }
}
