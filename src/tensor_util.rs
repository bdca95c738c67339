//! Moving data between host buffers and burn tensors: the one place that knows how.

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
