//! [`ImageShape`]: channels, height and width of one image, the one type
//! every crate (tape, data, augmentation) uses for it.

use serde::{Deserialize, Serialize};

/// Channels, height and width of one image. Images are stored flat in
/// channel-major (`C × H × W`, row-major) order, so a batch of `N` images is
/// an `N × (C·H·W)` matrix or `N` such slices back to back (NCHW).
///
/// # Examples
///
/// ```
/// use descent_core::ImageShape;
///
/// let shape = ImageShape::new(3, 32, 32);
/// assert_eq!(shape.len(), 3072);
/// assert_eq!(shape.col(1, 0, 2), 32 * 32 + 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Channels (1 grey, 3 RGB, any count).
    pub c: usize,
    /// Height in pixels.
    pub h: usize,
    /// Width in pixels.
    pub w: usize,
}

impl ImageShape {
    /// A `c × h × w` image shape.
    pub const fn new(c: usize, h: usize, w: usize) -> Self {
        ImageShape { c, h, w }
    }

    /// Number of values per image: `c · h · w`.
    pub const fn len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// True when any dimension is zero.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixels per channel: `h · w`.
    pub const fn plane(&self) -> usize {
        self.h * self.w
    }

    /// Column of pixel `(ch, y, x)` in the flattened layout.
    pub const fn col(&self, ch: usize, y: usize, x: usize) -> usize {
        (ch * self.h + y) * self.w + x
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.c, self.h, self.w)
    }
}
