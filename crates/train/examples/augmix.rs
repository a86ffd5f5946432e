//! AugMix training as in Hendrycks et al. 2020 (`augmix/cifar.py`): each
//! step sends the clean batch and two AugMix views of it through the model,
//! and minimizes cross-entropy on the clean logits plus the Jensen–Shannon
//! consistency of the three softmaxes (λ = 12):
//!
//! ```text
//! loss = CE(z_clean, y) + 12/3 · Σ_k KL(p_k ‖ clamp(M, 1e-7, 1)),  M = mean of the three softmaxes
//! ```
//!
//! torchvision's `AugMix` (here `descent_augment::image::AugMix`) makes one
//! view; the two views are two independent draws, keyed by two seeds. The
//! three passes run on one tape, so the gradient of the shared weights sums
//! over them (the paper concatenates the three batches into one pass, which
//! differs only for batch norm's statistics; this model has none).
//!
//! The model is a small MLP on 800 generated 16×16 shapes, so the point is
//! the step, not the accuracy. `--quick` runs one short epoch.
//!
//! ```sh
//! cargo run --release -p descent-train --example augmix
//! ```

use descent_augment::image::{AugMix, AugMixConfig};
use descent_autodiff::{CrossEntropyConfig, JsConsistencyConfig, Tape};
use descent_data::{Dataset, ShapesConfig, make_shapes};
use descent_nn::{
    Builder, Ctx, Flatten, Linear, LinearConfig, Mode, ModelState, Module, Relu, Sequential,
};
use descent_optim::AdamConfig;
use descent_train::seed::{self, Purpose};
use descent_train::{Augmentation, input};
use rand::seq::SliceRandom;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run_seed = 0;
    let quick = std::env::args().any(|a| a == "--quick");
    let (n_samples, epochs, batch_size) = if quick { (96, 1, 32) } else { (800, 8, 32) };
    let mut rng = seed::rng(run_seed, Purpose::Split);
    let data = make_shapes::<f32>(
        &ShapesConfig {
            n_samples,
            size: 16,
        },
        &mut rng,
    )?;
    let dims = data.schema().image.ok_or("shapes are images")?;

    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut init = seed::rng(run_seed, Purpose::Init);
        let mut b = Builder::new(&mut state, &mut init);
        model
            .push(Flatten)
            .add(&mut b, |b| {
                Linear::new(b, LinearConfig::new(dims.len(), 64))
            })?
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 4)))?;
    }
    let mut opt = AdamConfig {
        lr: 1e-3,
        ..AdamConfig::default()
    }
    .build(&state.params)?;
    // torchvision's AugMix defaults: severity 3, width 3, depth 1–3, α = 1.
    let mut augmix = Augmentation::new(AugMix::new(AugMixConfig::default())?);
    let aug_seed = seed::derive(run_seed, Purpose::Augment);
    let mut tape = Tape::<f32>::new();
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut shuffle = seed::rng(run_seed, Purpose::Shuffle);
    for epoch in 0..epochs {
        order.shuffle(&mut shuffle);
        let (mut ce_sum, mut js_sum, mut steps) = (0.0, 0.0, 0);
        for chunk in order.chunks(batch_size) {
            let clean = data.batch(chunk);
            // Two independent AugMix views of the same images: the draws are
            // keyed by (seed, epoch, index), so the views take the "epochs"
            // 2e and 2e + 1.
            let (mut view1, mut view2) = (clean.clone(), clean.clone());
            augmix.apply(&mut view1, None, aug_seed, 2 * epoch)?;
            augmix.apply(&mut view2, None, aug_seed, 2 * epoch + 1)?;

            state.params.zero_grad();
            tape.reset();
            let mut dropout = seed::stream_rng(run_seed, Purpose::Dropout, steps);
            let (ce, js) = {
                let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut dropout);
                let z_clean = model.forward(&mut ctx, input(&tape, &clean));
                let z1 = model.forward(&mut ctx, input(&tape, &view1));
                let z2 = model.forward(&mut ctx, input(&tape, &view2));
                let ce = z_clean.cross_entropy(&clean.labels, &CrossEntropyConfig::default());
                let js = z_clean.js_consistency(&[z1, z2], &JsConsistencyConfig::default());
                tape.backward(ce + js, &mut state.params);
                (ce.item(), js.item())
            };
            opt.step(&mut state.params)?;
            ce_sum += f64::from(ce);
            js_sum += f64::from(js);
            steps += 1;
        }
        println!(
            "epoch {epoch}: cross-entropy {:.4}, JS consistency {:.4}",
            ce_sum / steps as f64,
            js_sum / steps as f64
        );
    }
    Ok(())
}
