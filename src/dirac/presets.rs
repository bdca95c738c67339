//! Named Dirac-GAN setups for the Dirac-GAN view: each a method, an update rule and a few
//! sentences a teacher can read aloud. Every sentence rests on `Claim`s that the tests check
//! (`dirac_presets_keep_their_claims`), from the paper's start (1, 1), h = 0.2, 500 steps.

use super::{DiracGan, Method, Update};

/// What a preset's text says will happen, checked by the tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Claim {
    /// |(θ, ψ)| ends below `CONVERGED_BELOW`.
    Converges,
    /// It does not.
    DoesNotConverge,
    /// |(θ, ψ)| ends larger than it started.
    Grows,
    /// The Jacobian's eigenvalues at (0, 0) are a purely imaginary pair.
    ImaginaryEigenvalues,
    /// Both eigenvalues at (0, 0) are real and negative.
    RealNegativeEigenvalues,
    /// Both eigenvalues at (0, 0) have a negative real part.
    NegativeRealParts,
}

/// A Dirac-GAN preset: a method and update with a text and the claims its test checks.
#[derive(Clone, Debug)]
pub struct DiracPreset {
    /// The preset's name (`ganscope dirac --preset NAME`).
    pub name: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// The training method.
    pub method: Method,
    /// γ, when not the method's default.
    pub gamma: Option<f64>,
    /// Simultaneous, alternating or continuous.
    pub update: Update,
    /// What a teacher can read aloud (claims only what `claims` checks).
    pub explain: &'static str,
    /// What the test suite checks of it.
    pub claims: &'static [Claim],
}

impl DiracPreset {
    /// The Dirac-GAN this preset runs.
    pub fn gan(&self) -> DiracGan {
        let g = DiracGan::new(self.method);
        match self.gamma {
            Some(gamma) => g.with_gamma(gamma),
            None => g,
        }
    }
}

/// Every Dirac-GAN preset, in menu order.
pub const PRESETS: &[DiracPreset] = &[
    DiracPreset {
        name: "dirac-gan",
        title: "The plain GAN spirals away (simultaneous steps)",
        method: Method::Gan,
        gamma: None,
        update: Update::Simultaneous,
        explain: "The data is a single point at 0; the generator is a single point at θ; the \
discriminator is the line D(x) = ψ·x. The only equilibrium is the centre, (0, 0). But the \
arrows turn around it instead of pointing at it: at the centre the Jacobian's eigenvalues are \
±i/2, on the imaginary axis. Taking both steps at once, the pair spirals outwards: after 500 \
steps it is further from the centre than where it started.",
        claims: &[Claim::ImaginaryEigenvalues, Claim::Grows, Claim::DoesNotConverge],
    },
    DiracPreset {
        name: "dirac-gan-alt",
        title: "The plain GAN circles forever (alternating steps)",
        method: Method::Gan,
        gamma: None,
        update: Update::Alternating { d_steps: 1 },
        explain: "The same GAN, now the generator moves first and the discriminator answers. \
The spiral closes into a loop: the generator overshoots the data, the discriminator flips its \
slope, the generator overshoots back. After 500 steps it has not converged.",
        claims: &[Claim::DoesNotConverge],
    },
    DiracPreset {
        name: "dirac-wgan",
        title: "WGAN does not converge either",
        method: Method::Wgan,
        gamma: None,
        update: Update::Alternating { d_steps: 5 },
        explain: "The Wasserstein GAN with ψ clipped to [−1, 1], the discriminator taking five \
steps per generator step. Its eigenvalues at the centre are on the imaginary axis too, and the \
clipping does not pull it in: after 500 steps it has not converged.",
        claims: &[Claim::ImaginaryEigenvalues, Claim::DoesNotConverge],
    },
    DiracPreset {
        name: "dirac-wgan-gp",
        title: "WGAN-GP with five D steps does not converge",
        method: Method::WganGp,
        gamma: None,
        update: Update::Alternating { d_steps: 5 },
        explain: "WGAN-GP pulls the discriminator's slope towards |ψ| = 1, not towards 0. At the \
data, a slope of 1 is exactly what keeps pushing the generator past it: with five \
discriminator steps per generator step it has not converged after 500 steps.",
        claims: &[Claim::DoesNotConverge],
    },
    DiracPreset {
        name: "dirac-noise",
        title: "Instance noise converges",
        method: Method::InstanceNoise,
        gamma: None,
        update: Update::Simultaneous,
        explain: "Blur both the data and the fakes with Gaussian noise (σ = 0.7). The \
discriminator now sees two overlapping clouds, so it cannot make its slope arbitrarily steep, \
and the spiral turns inwards: the pair converges to the centre.",
        claims: &[Claim::Converges],
    },
    DiracPreset {
        name: "dirac-gp",
        title: "A zero-centred gradient penalty converges",
        method: Method::GradPenalty,
        gamma: Some(0.3),
        update: Update::Simultaneous,
        explain: "Charge the discriminator γ/2·|∂D/∂x|² at the data (R1, γ = 0.3): a slope at \
the data costs it, so ψ is pulled towards 0. The eigenvalues at the centre get a negative real \
part and the spiral turns inwards: the pair converges. In two dimensions this is the r1 preset.",
        claims: &[Claim::NegativeRealParts, Claim::Converges],
    },
    DiracPreset {
        name: "dirac-gp-critical",
        title: "At the critical γ the spiral becomes a straight path",
        method: Method::GradPenalty,
        gamma: Some(1.0),
        update: Update::Simultaneous,
        explain: "The same penalty at γ = 1 = 2·f'(0): the two eigenvalues at the centre meet on \
the real axis and are both negative. The pair no longer circles: it heads for the centre and \
converges. Drag γ below 1 and watch the eigenvalues split into a complex pair again.",
        claims: &[Claim::RealNegativeEigenvalues, Claim::Converges],
    },
    DiracPreset {
        name: "dirac-consensus",
        title: "Consensus optimisation converges",
        method: Method::Consensus,
        gamma: None,
        update: Update::Simultaneous,
        explain: "Both players also descend ½|v|², the squared length of the field (γ = 1). \
That term points towards the places where the field vanishes — the centre — and the pair \
converges.",
        claims: &[Claim::Converges],
    },
];

/// The preset called `name`.
pub fn get(name: &str) -> Option<&'static DiracPreset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::super::{H, START, STEPS, norm};
    use super::*;

    #[test]
    fn dirac_presets_keep_their_claims() {
        for p in PRESETS {
            let gan = p.gan();
            let path = gan.trajectory(START, p.update, H, STEPS);
            let end = norm(*path.last().expect("points"));
            let eig = gan.eigenvalues_at_equilibrium().unwrap_or([(f64::NAN, f64::NAN); 2]);
            for c in p.claims {
                let holds = match c {
                    Claim::Converges => end < super::super::CONVERGED_BELOW,
                    Claim::DoesNotConverge => end >= super::super::CONVERGED_BELOW,
                    Claim::Grows => end > norm(START),
                    Claim::ImaginaryEigenvalues => eig.iter().all(|e| e.0.abs() < 1e-6 && e.1.abs() > 1e-3),
                    Claim::RealNegativeEigenvalues => eig.iter().all(|e| e.1.abs() < 1e-3 && e.0 < 0.0),
                    Claim::NegativeRealParts => eig.iter().all(|e| e.0 < -1e-3),
                };
                assert!(holds, "{}: {c:?} fails (|(θ, ψ)| ends at {end}, eigenvalues {eig:?})", p.name);
            }
            assert!(p.claims.iter().any(|c| matches!(c, Claim::Converges | Claim::DoesNotConverge)), "{}", p.name);
        }
    }
}
