//! Moving data between host buffers and burn tensors (the one place that knows how), and the
//! affine layer both the MLPs and the minibatch kernels are made of.

use burn::tensor::{Device, Tensor, TensorData};

/// A tensor's values on the host, row-major.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("float tensor")
}

/// The single value of a one-element tensor.
pub fn scalar(t: Tensor<1>) -> f32 {
    to_vec(t)[0]
}

/// Host values `[rows, cols]` row-major as a tensor on `device`.
pub fn matrix(v: Vec<f32>, cols: usize, device: &Device) -> Tensor<2> {
    let rows = v.len() / cols.max(1);
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

/// One affine layer: `w` is `[in, out]`, `b` is `[1, out]`.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Weights `[in, out]`.
    pub w: Tensor<2>,
    /// Biases `[1, out]`.
    pub b: Tensor<2>,
}

/// Moves a constant onto the same autodiff context as a parameter.
pub(crate) trait AutodiffLike {
    fn autodiff_like(self, other: &Tensor<2>) -> Tensor<2>;
}

impl AutodiffLike for Tensor<2> {
    fn autodiff_like(self, other: &Tensor<2>) -> Tensor<2> {
        if other.is_autodiff() { self.autodiff() } else { self }
    }
}
