//! Data augmentation helps most when data is scarce: test accuracy against
//! training-set size, with and without augmentation, in two domains.
//!
//! Images: a small CNN on the generated coloured shapes (the class is the
//! shape; flips, crops and colour shifts preserve it by construction),
//! trained with and without random crop + horizontal flip + colour jitter
//! applied by the trainer, for a fixed number of optimizer steps at every
//! training size.
//!
//! Text: the EDA training-size curve (Wei & Zou 2019, Fig. 1) with a
//! bag-of-words logistic regression on the UCI sentiment sentences: each
//! training sentence plus its EDA variants (synonym replacement and
//! insertion from WordNet 3.0, random swap, random deletion) against the
//! sentences alone. The text half needs the sentences; without them it is
//! skipped and says so.

use super::lab::{Cmp, Ctx, Experiment, Group, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_augment::image::{
    ColorJitter, ColorJitterConfig, Compose, HorizontalFlip, PadMode, RandomCrop,
};
use descent_augment::text::{EdaConfig, Lexicon, eda, find_wordnet, tokenize};
use descent_data::{Dataset, InMemory, SentimentSource, ShapesConfig, make_shapes, sentiment};
use descent_nn::{
    Builder, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d, MaxPool2dConfig,
    ModelState, Relu, Sequential,
};
use descent_optim::AdamConfig;
use descent_train::{Augmentation, Data, Loss, Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use std::collections::HashMap;

pub const EXPERIMENT: Experiment = Experiment {
    name: "augmentation",
    group: Group::Generalization,
    claim: "augmentation (image: flips, crops, colour shifts; text: EDA) raises test accuracy at the \
            smallest training size in both domains, and the gain shrinks as the training set grows",
    source: "Wei & Zou 2019 (EDA), Fig. 1 and Table 2; the course's augmentation lesson (Shorten & \
             Khoshgoftaar 2019)",
    run,
};

/// Image: test-accuracy gain from augmentation at the smallest training
/// size must exceed this.
const IMAGE_GAIN_SMALLEST: f64 = 0.0;
/// Image: gain at the smallest size minus gain at the largest must exceed
/// this (the gain shrinks as data grows).
const IMAGE_GAIN_SHRINKS: f64 = 0.0;
/// Text: test-accuracy gain from EDA at the smallest training size must
/// exceed this.
const TEXT_GAIN_SMALLEST: f64 = 0.0;
/// Text: gain at the smallest size minus gain at the largest must exceed this.
const TEXT_GAIN_SHRINKS: f64 = 0.0;

/// Image training sizes.
const IMAGE_SIZES_FULL: &[usize] = &[100, 300, 1000, 3000];
const IMAGE_SIZES_QUICK: &[usize] = &[100, 1000];
/// Side of the generated shape images.
const SHAPE_SIDE: usize = 16;
/// Text training sizes (of 3,000 sentences, 1,000 held out for test).
const TEXT_SIZES_FULL: &[usize] = &[50, 150, 500, 2000];
const TEXT_SIZES_QUICK: &[usize] = &[50, 500];
/// Words kept in the bag-of-words vocabulary (most frequent in the training texts).
const VOCAB: usize = 2000;

/// One point of a training-size curve.
struct Point {
    n: usize,
    plain: f64,
    augmented: f64,
}

fn conv(b: &mut Builder<'_, f32>, c_in: usize, c_out: usize) -> descent_nn::Result<Conv2d> {
    let mut cfg = Conv2dConfig::new(c_in, c_out, 3, 3);
    cfg.geometry.padding = (1, 1);
    Conv2d::new(b, cfg)
}

/// Epochs giving about `steps` optimizer steps of `batch` on `n` samples.
fn epochs_for(steps: usize, batch: usize, n: usize) -> u64 {
    let per_epoch = n.div_ceil(batch).max(1);
    steps.div_ceil(per_epoch).max(1) as u64
}

/// The step budget for a training set of `n` original samples: at least
/// `min_steps`, and at least `epochs` passes over the `n` originals, so
/// both arms converge at every size (the augmented arm gets the same
/// number of steps as the plain one).
fn budget(min_steps: usize, epochs: usize, batch: usize, n: usize) -> usize {
    min_steps.max(epochs * n.div_ceil(batch))
}

/// Test accuracy of the CNN trained on `train`, with or without augmentation.
fn train_cnn(
    ctx: &Ctx,
    train: &InMemory<f32>,
    test: &InMemory<f32>,
    augment: bool,
    steps: usize,
) -> Result<f64> {
    let batch_size = 32;
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut init = rng(ctx.seed, "augmentation-cnn-init");
        let mut b = Builder::new(&mut state, &mut init);
        let pool = || MaxPool2d::new(MaxPool2dConfig::new(2, 2));
        let q = SHAPE_SIDE / 4;
        model
            .add(&mut b, |b| conv(b, 3, 8))?
            .push(Relu)
            .push(pool()?)
            .add(&mut b, |b| conv(b, 8, 16))?
            .push(Relu)
            .push(pool()?)
            .push(Flatten)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(16 * q * q, 4)))?;
    }
    let opt = AdamConfig {
        lr: 3e-3,
        ..AdamConfig::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: epochs_for(steps, batch_size, train.len()),
        batch_size,
        seed: ctx.seed,
        top_k: 0,
        eval_batch_size: 500,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    if augment {
        trainer = trainer.with_augmentation(Augmentation::new(Compose::new(vec![
            Box::new(RandomCrop::new(2, PadMode::Reflect)?),
            Box::new(HorizontalFlip::new(0.5)?),
            Box::new(ColorJitter::new(ColorJitterConfig {
                brightness: 0.3,
                contrast: 0.3,
                saturation: 0.3,
                hue: 0.1,
            })?),
        ])));
    }
    trainer.fit(Data::train(train))?;
    trainer
        .evaluate(test)?
        .accuracy
        .context("shapes are labelled")
}

/// Binary bag-of-words features of `texts` over `vocab`.
fn bag_of_words(texts: &[Vec<String>], vocab: &HashMap<String, usize>) -> DMatrix<f32> {
    let mut x = DMatrix::<f32>::zeros(texts.len(), vocab.len());
    for (i, words) in texts.iter().enumerate() {
        for w in words {
            if let Some(&j) = vocab.get(w) {
                x[(i, j)] = 1.0;
            }
        }
    }
    x
}

/// Test accuracy of a bag-of-words logistic regression trained on
/// `texts`/`labels` (the vocabulary is built from these texts).
fn train_bow(
    ctx: &Ctx,
    texts: &[Vec<String>],
    labels: &[usize],
    test_texts: &[Vec<String>],
    test_labels: &[usize],
    steps: usize,
) -> Result<f64> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for words in texts {
        for w in words {
            *counts.entry(w.as_str()).or_default() += 1;
        }
    }
    let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
    // Most frequent first; ties by the word, so the vocabulary is deterministic.
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let vocab: HashMap<String, usize> = words
        .iter()
        .take(VOCAB)
        .enumerate()
        .map(|(j, (w, _))| ((*w).to_owned(), j))
        .collect();
    let train = InMemory::classification(bag_of_words(texts, &vocab), labels.to_vec(), 2)?;
    let test = InMemory::classification(bag_of_words(test_texts, &vocab), test_labels.to_vec(), 2)?;
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut init = rng(ctx.seed, "augmentation-bow-init");
        let mut b = Builder::new(&mut state, &mut init);
        model.add(&mut b, |b| {
            Linear::new(b, LinearConfig::new(vocab.len(), 2))
        })?;
    }
    let opt = AdamConfig {
        lr: 1e-2,
        ..AdamConfig::default()
    }
    .build(&state.params)?;
    let batch_size = 32;
    let config = TrainConfig {
        epochs: epochs_for(steps, batch_size, train.len()),
        batch_size,
        seed: ctx.seed,
        top_k: 0,
        eval_batch_size: 1000,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    trainer.fit(Data::train(&train))?;
    trainer
        .evaluate(&test)?
        .accuracy
        .context("sentences are labelled")
}

/// EDA's recommended augmented sentences per original (Wei & Zou, Table 3):
/// 16 for at most 500 sentences, 8 up to 2,000, 4 beyond.
fn n_aug(n: usize) -> usize {
    if n <= 500 {
        16
    } else if n <= 2000 {
        8
    } else {
        4
    }
}

struct TextHalf {
    points: Vec<Point>,
    lexicon: String,
    source: String,
    n_aug: Vec<usize>,
}

/// The text half, or the reason it could not run.
fn text_half(
    ctx: &Ctx,
    sizes: &[usize],
    steps: usize,
) -> Result<std::result::Result<TextHalf, String>> {
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for src in SentimentSource::ALL {
        match sentiment(src, ctx.data_dir()) {
            Ok(s) => {
                texts.extend(s.texts);
                labels.extend(s.labels);
            }
            Err(
                e @ (descent_data::Error::MissingDataset { .. }
                | descent_data::Error::NotInDataDir { .. }),
            ) => {
                return Ok(Err(format!(
                    "the text half was skipped: the sentiment sentences are missing ({e})"
                )));
            }
            Err(e) => return Err(e).context("loading the sentiment sentences"),
        }
    }
    let explicit = ctx
        .data_dir()
        .map(std::path::Path::to_path_buf)
        .or_else(|| std::env::var_os("DESCENT_DATA").map(Into::into));
    let (lexicon, lexicon_name) = match find_wordnet(explicit.as_deref()) {
        Ok(dir) => {
            ctx.stage("reading WordNet 3.0");
            (
                Lexicon::wordnet(&dir)
                    .with_context(|| format!("reading WordNet in {}", dir.display()))?,
                format!("WordNet 3.0 from {}", dir.display()),
            )
        }
        Err(e) => (
            Lexicon::embedded(),
            format!(
                "descent-augment's embedded lexicon (derived from WordNet 3.0) because WordNet was not found: {e}"
            ),
        ),
    };
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.shuffle(&mut rng(ctx.seed, "sentences-split"));
    let n_test = 1000.min(texts.len() / 3);
    let tokens = |i: usize| -> Vec<String> {
        tokenize(&texts[i])
            .into_iter()
            .filter(|t| t.chars().all(|c| c.is_ascii_lowercase()))
            .collect()
    };
    // The same words EDA keeps (lowercase letters only), for every text.
    let test_texts: Vec<Vec<String>> = order[..n_test].iter().map(|&i| tokens(i)).collect();
    let test_labels: Vec<usize> = order[..n_test].iter().map(|&i| labels[i]).collect();
    let pool = &order[n_test..];
    let mut eda_rng = rng(ctx.seed, "eda");
    let mut points = Vec::new();
    let mut n_augs = Vec::new();
    for &n in sizes {
        let n = n.min(pool.len());
        let idx = &pool[..n];
        let plain_texts: Vec<Vec<String>> = idx.iter().map(|&i| tokens(i)).collect();
        let plain_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
        ctx.stage(format!("text: {n} sentences, plain"));
        let steps = budget(steps, 20, 32, n);
        let plain = train_bow(
            ctx,
            &plain_texts,
            &plain_labels,
            &test_texts,
            &test_labels,
            steps,
        )?;
        ctx.tick();
        let k = n_aug(n);
        let config = EdaConfig {
            alpha_sr: 0.05,
            alpha_ri: 0.05,
            alpha_rs: 0.05,
            p_rd: 0.05,
            num_aug: k,
        };
        let (mut aug_texts, mut aug_labels) = (Vec::new(), Vec::new());
        for &i in idx {
            // `eda` returns the augmented sentences followed by the original.
            for s in eda(&texts[i], &lexicon, &config, &mut eda_rng)? {
                aug_texts.push(tokenize(&s));
                aug_labels.push(labels[i]);
            }
        }
        ctx.stage(format!("text: {n} sentences, EDA ×{k}"));
        let augmented = train_bow(
            ctx,
            &aug_texts,
            &aug_labels,
            &test_texts,
            &test_labels,
            steps,
        )?;
        ctx.tick();
        points.push(Point {
            n,
            plain,
            augmented,
        });
        n_augs.push(k);
    }
    Ok(Ok(TextHalf {
        points,
        lexicon: lexicon_name,
        source: format!(
            "UCI Sentiment Labelled Sentences (Amazon, IMDB, Yelp; {} sentences): {n_test} held out for test, \
             training sets drawn from the rest",
            texts.len()
        ),
        n_aug: n_augs,
    }))
}

fn gains(points: &[Point]) -> Option<(f64, f64)> {
    let first = points.first()?;
    let last = points.last()?;
    let g0 = first.augmented - first.plain;
    Some((g0, g0 - (last.augmented - last.plain)))
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let image_sizes = ctx.pick(IMAGE_SIZES_FULL, IMAGE_SIZES_QUICK);
    let text_sizes = ctx.pick(TEXT_SIZES_FULL, TEXT_SIZES_QUICK);
    let image_steps = ctx.pick(1500, 600);
    let text_steps = ctx.pick(300, 200);
    ctx.steps(2 * (image_sizes.len() + text_sizes.len()) as u64);

    // -- images --
    let n_max = image_sizes.iter().copied().max().unwrap_or(0);
    let n_test = ctx.pick(1000, 500);
    let mut shapes_rng = rng(ctx.seed, "shapes");
    let all = make_shapes::<f32>(
        &ShapesConfig {
            n_samples: n_max + n_test,
            size: SHAPE_SIDE,
        },
        &mut shapes_rng,
    )?;
    let test = all.select(&(n_max..n_max + n_test).collect::<Vec<_>>())?;
    let mut image_points = Vec::new();
    for &n in image_sizes {
        let train = all.select(&(0..n).collect::<Vec<_>>())?;
        ctx.stage(format!("images: {n} training images, plain"));
        let steps = budget(image_steps, 40, 32, n);
        let plain = train_cnn(ctx, &train, &test, false, steps)?;
        ctx.tick();
        ctx.stage(format!("images: {n} training images, augmented"));
        let augmented = train_cnn(ctx, &train, &test, true, steps)?;
        ctx.tick();
        image_points.push(Point {
            n,
            plain,
            augmented,
        });
    }
    let (img_g0, img_shrink) = gains(&image_points).context("at least one image size")?;

    // -- text --
    let text = text_half(ctx, text_sizes, text_steps)?;

    let mut out = Outcome {
        setup: format!(
            "**Images**: generated coloured shapes ({SHAPE_SIDE} × {SHAPE_SIDE} RGB, 4 classes), {n_test} test images; \
             CNN conv3×3(8)-ReLU-pool-conv3×3(16)-ReLU-pool-linear, cross-entropy, Adam (lr 3e-3), batch 32, \
             about {image_steps} optimizer steps at every training size ({image_sizes:?}); augmented = random crop \
             (pad 2, reflect) + horizontal flip (p 0.5) + colour jitter (brightness, contrast, saturation 0.3, hue 0.1), \
             applied per sample by the trainer (descent-augment through `Augmentation`).\n\n\
             **Text**: training sizes {text_sizes:?} sentences; bag-of-words (binary, the {VOCAB} most frequent \
             words of the training texts) logistic regression, cross-entropy, Adam (lr 1e-2), batch 32, about \
             {text_steps} optimizer steps; EDA (descent-augment's `eda`, α = 0.05 for each of synonym replacement, \
             random insertion, random swap and random deletion) adds 16 augmented sentences per original up to 500 \
             sentences and 8 up to 2,000 (the paper's Table 3 recommendation). All trained by descent-train's `Trainer`."
        ),
        ..Outcome::default()
    };
    out.claim(
        "image_gain_smallest",
        "image: test accuracy with − without augmentation, smallest training set",
        img_g0,
        Cmp::Above,
        IMAGE_GAIN_SMALLEST,
    )
    .claim(
        "image_gain_shrinks",
        "image: gain at the smallest training set − gain at the largest",
        img_shrink,
        Cmp::Above,
        IMAGE_GAIN_SHRINKS,
    );
    out.metric("image gain, smallest size", img_g0)
        .metric("image gain shrink (smallest − largest)", img_shrink);
    let mut table = Table::new(
        "Coloured shapes: test accuracy against training-set size",
        &[
            "training images",
            "no augmentation",
            "crop + flip + colour",
            "gain",
        ],
    );
    for p in &image_points {
        table.row(vec![
            p.n.to_string(),
            format!("{:.3}", p.plain),
            format!("{:.3}", p.augmented),
            format!("{:+.3}", p.augmented - p.plain),
        ]);
    }
    out.tables.push(table);
    let curve = |ps: &[Point], f: fn(&Point) -> f64| {
        ps.iter().map(|p| (p.n as f64, f(p))).collect::<Vec<_>>()
    };
    let mut figure = Figure::new(
        "training_size",
        "Augmentation raises test accuracy most when the training set is small",
    )
    .panel(
        Lines::new(
            "images: coloured shapes, CNN",
            "training images",
            "test accuracy",
        )
        .log_x()
        .series(
            Series::line("no augmentation", curve(&image_points, |p| p.plain))
                .styled(Style::LinePoints),
        )
        .series(
            Series::line(
                "crop + flip + colour jitter",
                curve(&image_points, |p| p.augmented),
            )
            .styled(Style::LinePoints),
        ),
    );
    out.record(
        "images",
        image_points
            .iter()
            .map(|p| serde_json::json!({"n": p.n, "plain": p.plain, "augmented": p.augmented}))
            .collect::<Vec<_>>(),
    )?;
    let shapes_source = format!(
        "coloured shapes generated from the seed (descent-data's `make_shapes`, {SHAPE_SIDE} × {SHAPE_SIDE})"
    );
    out.notes = "Changed after the first full run (thresholds untouched): the first run trained every model for a \
        fixed ~400 steps, which left them unconverged (the plain CNN reached 63% on 1,000 images and the augmented one \
        39%), so the budget became at least 1,500 steps and 40 passes over the originals for images, at least 300 steps \
        and 20 passes for text; and the image sizes were 40, 100, 300, 1,000, but at 40 images neither arm rose above \
        chance (27–29% against 25%), so that size could not test augmentation and the sizes became 100, 300, 1,000, \
        3,000."
        .to_owned();
    match text {
        Ok(t) => {
            let (g0, shrink) = gains(&t.points).context("at least one text size")?;
            out.claim(
                "text_gain_smallest",
                "text: test accuracy with − without EDA, smallest training set",
                g0,
                Cmp::Above,
                TEXT_GAIN_SMALLEST,
            )
            .claim(
                "text_gain_shrinks",
                "text: gain at the smallest training set − gain at the largest",
                shrink,
                Cmp::Above,
                TEXT_GAIN_SHRINKS,
            );
            out.metric("text gain, smallest size", g0)
                .metric("text gain shrink (smallest − largest)", shrink);
            let mut table = Table::new(
                "Sentiment sentences: test accuracy against training-set size (bag of words)",
                &[
                    "training sentences",
                    "EDA variants per sentence",
                    "no augmentation",
                    "EDA",
                    "gain",
                ],
            );
            for (p, k) in t.points.iter().zip(&t.n_aug) {
                table.row(vec![
                    p.n.to_string(),
                    k.to_string(),
                    format!("{:.3}", p.plain),
                    format!("{:.3}", p.augmented),
                    format!("{:+.3}", p.augmented - p.plain),
                ]);
            }
            out.tables.push(table);
            figure = figure.panel(
                Lines::new(
                    "text: sentiment sentences, bag of words",
                    "training sentences",
                    "test accuracy",
                )
                .log_x()
                .series(
                    Series::line("no augmentation", curve(&t.points, |p| p.plain))
                        .styled(Style::LinePoints),
                )
                .series(
                    Series::line("EDA", curve(&t.points, |p| p.augmented))
                        .styled(Style::LinePoints),
                ),
            );
            out.record(
                "text",
                t.points
                    .iter()
                    .map(|p| serde_json::json!({"n": p.n, "plain": p.plain, "augmented": p.augmented}))
                    .collect::<Vec<_>>(),
            )?;
            out.data = format!(
                "Images: {shapes_source}. Text: {}; synonyms from {}.",
                t.source, t.lexicon
            );
        }
        Err(reason) => {
            out.data = format!("Images: {shapes_source}. Text: none ({reason}).");
            out.notes = format!(
                "{} Its claim parts are not judged on this run. {}",
                reason[..1].to_uppercase() + &reason[1..],
                out.notes
            );
        }
    }
    out.figures.push(figure);
    Ok(out)
}
