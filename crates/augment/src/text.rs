//! Text augmentation.
