//! What a loss or a penalty needs of a column of numbers (one per sample): written once over
//! this trait, they run on the host engine's dual numbers and on burn's autodiff tensors alike.

/// A column of per-row values with the elementwise maths the losses and penalties use.
pub trait Column: Clone {
    /// −x.
    fn neg(self) -> Self;
    /// x + y, elementwise.
    fn add(self, other: Self) -> Self;
    /// x + c.
    fn add_scalar(self, c: f32) -> Self;
    /// c·x.
    fn mul_scalar(self, c: f32) -> Self;
    /// x².
    fn square(self) -> Self;
    /// √x.
    fn sqrt(self) -> Self;
    /// ln(1 + eˣ), computed stably.
    fn softplus(self) -> Self;
    /// σ(x) = 1 / (1 + e^(−x)).
    fn sigmoid(self) -> Self;
    /// max(x, 0).
    fn relu(self) -> Self;
    /// The mean, read back to the host (for what the trainer records).
    fn mean_value(&self) -> f32;
}
