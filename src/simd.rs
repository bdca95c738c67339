//! Hot loops compiled for the CPU's wide vectors, picked at run time. The crate is built for
//! the baseline x86-64 (SSE2: 4 floats a vector) so that one binary runs on any machine; the
//! loops that are a step's elementwise work are compiled again for AVX2 (8 floats) and, where
//! it pays, AVX-512 (16), and the check is a cached load. Every version gives the same bits:
//! the same IEEE operations in the same order (Rust does not contract a·b + c into a fused
//! multiply-add).

/// `vectorised! { up_to avx512; [pub] fn name(args) -> T body }`: the function compiled as
/// written, for AVX2 and for AVX-512F, run in the widest version the CPU has. `up_to avx2`
/// stops at AVX2 — for loops written in 8 explicit lanes, which AVX-512 only slows (the
/// minibatch kernels' pairs: ≈ 9 % slower measured).
macro_rules! vectorised {
    (up_to avx2; $($f:tt)*) => { $crate::simd::vectorised!(@wide false; $($f)*); };
    (up_to avx512; $($f:tt)*) => { $crate::simd::vectorised!(@wide true; $($f)*); };
    (@wide $wide:literal; $(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[inline(always)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $wide && std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use vectorised;
