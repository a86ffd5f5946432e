//! The image layout: a batch of images is an `N × (C·H·W)` matrix whose rows
//! are samples and whose columns run over channels, then rows, then columns
//! of each image (PyTorch's NCHW flattened per sample).

/// Channels, height and width of each image in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageShape {
    /// Channels.
    pub c: usize,
    /// Height in pixels.
    pub h: usize,
    /// Width in pixels.
    pub w: usize,
}

impl ImageShape {
    /// A `c × h × w` image shape.
    pub fn new(c: usize, h: usize, w: usize) -> Self {
        ImageShape { c, h, w }
    }

    /// Number of values per image: `c · h · w`.
    pub fn len(&self) -> usize {
        self.c * self.h * self.w
    }

    /// True when any dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column of pixel `(ch, y, x)` in the flattened layout.
    pub fn col(&self, ch: usize, y: usize, x: usize) -> usize {
        (ch * self.h + y) * self.w + x
    }
}
