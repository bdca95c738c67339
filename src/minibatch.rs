//! Minibatch discrimination (Salimans et al. 2016, "Improved techniques for training GANs",
//! §3.2): D compares every sample with the others of its batch, so a batch whose samples all
//! look alike — a collapsed generator's — is easy to reject. Built from burn tensor ops (the
//! burn engine; the host fast path's is `engine/host_kernels.rs`), with ∂D/∂x through it by
//! hand as for the rest of D (`nets.rs`).

use crate::tensor_util::{AutodiffLike, Layer};
use burn::tensor::Tensor;

/// Minibatch discrimination (Salimans et al. 2016, §3.2). The last hidden features f(x_i) ∈ R^A
/// are multiplied by a learned T ∈ R^{A×B×C} into B rows of C numbers, M_i; kernel b compares
/// sample i with every other sample j of its batch, c_b(i, j) = exp(−‖M_{i,b} − M_{j,b}‖₁), and
/// D's last layer also sees o_b(x_i) = Σ_{j≠i} c_b(i, j) + bias_b. A collapsed batch, whose
/// samples all look alike, has large o: D can tell it from a real one, which a one-sample D
/// cannot. T is `[A, B·C]` and the bias `[1, B]`, stored as the layer after the MLP's.
#[derive(Clone, Debug)]
pub struct MinibatchKernels {
    /// Number of kernels B.
    pub kernels: usize,
    /// Numbers per kernel C.
    pub dim: usize,
    /// M of the generator's latest training batch (at most [`REFERENCE_ROWS`] rows) and that
    /// batch's number of rows: a point judged outside a batch (the surface, the arrows) is
    /// judged as one more sample of that batch.
    pub reference: Option<(Tensor<2>, usize)>,
}

/// Rows of the latest fake batch kept as the reference for points judged outside a batch.
pub const REFERENCE_ROWS: usize = 64;

/// What a forward keeps of minibatch discrimination for ∂D/∂x: this set's M, the rows it was
/// compared with, the weight on the sums, and T as used.
pub struct KernelTrace {
    pub(crate) m: Tensor<2>,
    pub(crate) r: Tensor<2>,
    pub(crate) scale: f32,
    pub(crate) t: Tensor<2>,
}

/// Rows compared at once (the pairwise differences are `rows × others × B·C` numbers).
const CHUNK: usize = 256;

impl MinibatchKernels {
    /// Σ_j exp(−‖M_{i,b} − R_{j,b}‖₁) for every row i of `m` and kernel b: `[rows, B]`.
    fn kernel_sums(&self, m: Tensor<2>, r: Tensor<2>) -> Tensor<2> {
        let (rows, others, bc) = (m.dims()[0], r.dims()[0], self.kernels * self.dim);
        let r = r.reshape([1, others, bc]);
        let chunks = (0..rows).step_by(CHUNK).map(|s| {
            let e = (s + CHUNK).min(rows);
            let diff = m.clone().slice([s..e, 0..bc]).reshape([e - s, 1, bc]).sub(r.clone());
            let l1 = diff.abs().reshape([e - s, others, self.kernels, self.dim]).sum_dim(3);
            l1.neg().exp().sum_dim(1).reshape([e - s, self.kernels])
        });
        Tensor::cat(chunks.collect(), 0)
    }

    /// o(x) for hidden features `h` (`[rows, A]`) with T and bias `t`: compared within the
    /// batch (`batch_stats`) or with the reference batch.
    pub(crate) fn features(&self, h: Tensor<2>, t: &Layer, batch_stats: bool) -> (Tensor<2>, Option<KernelTrace>) {
        let rows = h.dims()[0];
        let m = h.clone().matmul(t.w.clone());
        let (sums, trace) = if batch_stats {
            // Row i meets itself once, at distance 0: exp(0) = 1 to take away.
            let sums = self.kernel_sums(m.clone(), m.clone()).sub_scalar(1.0);
            (sums, Some(KernelTrace { m: m.clone(), r: m, scale: 1.0, t: t.w.clone() }))
        } else if let Some((r, batch_rows)) = &self.reference {
            // A batch's row is compared with batch_rows − 1 others; the reference holds fewer.
            let scale = (batch_rows.saturating_sub(1)) as f32 / r.dims()[0] as f32;
            let r = r.clone().autodiff_like(&m);
            let sums = self.kernel_sums(m.clone(), r.clone()).mul_scalar(scale);
            (sums, Some(KernelTrace { m, r, scale, t: t.w.clone() }))
        } else {
            // No batch seen yet (a fresh or just-loaded D): no other sample to compare with.
            (Tensor::zeros([rows, self.kernels], &h.device()), None)
        };
        (sums.add(t.b.clone()), trace)
    }

    /// ∂(Σ_i w_o · o(x_i))/∂M_i with the rows compared against held fixed: `[rows, B·C]`.
    pub(crate) fn grad_m(&self, k: &KernelTrace, w_o: Tensor<2>) -> Tensor<2> {
        let (rows, others, bc) = (k.m.dims()[0], k.r.dims()[0], self.kernels * self.dim);
        let r = k.r.clone().reshape([1, others, bc]);
        let w_o = w_o.reshape([1, self.kernels, 1]).mul_scalar(-k.scale);
        let chunks = (0..rows).step_by(CHUNK).map(|s| {
            let e = (s + CHUNK).min(rows);
            let diff = k.m.clone().slice([s..e, 0..bc]).reshape([e - s, 1, bc]).sub(r.clone());
            let shape = [e - s, others, self.kernels, self.dim];
            let sign = diff.clone().detach().sign().reshape(shape);
            let c = diff.abs().reshape(shape).sum_dim(3).neg().exp(); // [rows, others, B, 1]
            // d exp(−Σ|d|)/dM = −c · sign(d), summed over the others.
            let g = c.mul(sign).sum_dim(1).reshape([e - s, self.kernels, self.dim]);
            g.mul(w_o.clone()).reshape([e - s, bc])
        });
        Tensor::cat(chunks.collect(), 0)
    }
}
