//! The loaders on the real sets in `../shared/datasets` (or `$DESCENT_DATA`,
//! or `/usr/share/datasets`): sizes, label histograms and a few pixel values
//! from the PROVENANCE files. A set that is not present is reported on
//! stderr as `SKIPPED`, naming it and every place looked, and fails the test
//! under `DESCENT_REQUIRE_DATA=1` (`descent_testkit::data`); the embedded
//! digits always run.

use descent_data::{
    Dataset, InMemory, SentimentSource, Split, cifar10_samples, digits, digits_from_dir,
    fashion_mnist, mnist, resolve, sentiment, sentiment_amazon_tsv,
};

/// Whether `set` is present; says clearly on stderr (uncaptured) when not,
/// and fails when data is required.
fn present(test: &str, set: &str) -> bool {
    match resolve(set, &[], None) {
        Ok(_) => true,
        Err(e) => {
            descent_testkit::data::absent(test, &e);
            false
        }
    }
}

fn histogram(data: &InMemory<f32>) -> Vec<usize> {
    let mut h = vec![0; data.schema().n_classes().unwrap()];
    for &l in data.class_labels().unwrap() {
        h[l] += 1;
    }
    h
}

fn first_labels(data: &InMemory<f32>) -> Vec<usize> {
    data.class_labels().unwrap()[..8].to_vec()
}

#[test]
fn embedded_digits_match_the_provenance_counts() {
    let data = digits::<f32>().unwrap();
    assert_eq!(data.len(), 1797);
    assert_eq!(
        histogram(&data),
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
}

#[test]
fn shared_digits_equal_the_embedded_copy() {
    if !present("shared_digits_equal_the_embedded_copy", "digits") {
        return;
    }
    assert_eq!(
        digits_from_dir::<f32>(None).unwrap(),
        digits::<f32>().unwrap()
    );
}

#[test]
fn mnist_has_the_standard_split_histograms_and_pixels() {
    if !present(
        "mnist_has_the_standard_split_histograms_and_pixels",
        "mnist",
    ) {
        return;
    }
    let train = mnist::<f32>(Split::Train, None).unwrap();
    assert_eq!(train.len(), 60_000);
    assert_eq!(train.schema().n_features, 784);
    assert_eq!(
        histogram(&train),
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    assert_eq!(first_labels(&train), [5, 0, 4, 1, 9, 2, 1, 3]);
    // Image 0 (a 5): first ink at pixels 152..155 = 3, 18, 18; 27525 ink in all.
    let row0 = train.features().row(0);
    assert_eq!(
        (row0[151], row0[152], row0[153], row0[154]),
        (0.0, 3.0, 18.0, 18.0)
    );
    assert_eq!(row0.sum(), 27525.0);

    let test = mnist::<f32>(Split::Test, None).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(
        histogram(&test),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(first_labels(&test), [7, 2, 1, 0, 4, 1, 4, 9]);
}

#[test]
fn fashion_mnist_train_count_comes_from_the_header() {
    if !present(
        "fashion_mnist_train_count_comes_from_the_header",
        "fashion-mnist",
    ) {
        return;
    }
    let train = fashion_mnist::<f32>(Split::Train, None).unwrap();
    // The shared copy holds 20,000 (header count); the Debian package 60,000.
    if train.len() == 20_000 {
        assert_eq!(
            histogram(&train),
            [1935, 2025, 1982, 2011, 1967, 2010, 2068, 2003, 1971, 2028]
        );
    } else {
        assert_eq!(train.len(), 60_000);
        assert_eq!(histogram(&train), [6000; 10]);
    }
    assert_eq!(first_labels(&train), [9, 0, 0, 3, 0, 2, 7, 2]);

    let test = fashion_mnist::<f32>(Split::Test, None).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(histogram(&test), [1000; 10]);
    assert_eq!(first_labels(&test), [9, 2, 1, 1, 6, 1, 4, 6]);
    let row0 = test.features().row(0);
    assert_eq!((row0[215], row0[216], row0.sum()), (3.0, 1.0, 33456.0));
}

#[test]
fn sentiment_has_1000_balanced_sentences_per_source() {
    if !present(
        "sentiment_has_1000_balanced_sentences_per_source",
        "sentiment-labelled-sentences",
    ) {
        return;
    }
    for source in SentimentSource::ALL {
        let s = sentiment(source, None).unwrap();
        assert_eq!(s.len(), 1000, "{source:?}");
        assert_eq!(
            s.labels.iter().filter(|&&l| l == 1).count(),
            500,
            "{source:?}"
        );
        assert!(s.texts.iter().all(|t| !t.is_empty()), "{source:?}");
    }
    let imdb = sentiment(SentimentSource::Imdb, None).unwrap();
    assert_eq!(
        imdb.texts[0],
        "A very, very, very slow-moving, aimless movie about a distressed, drifting young man.  "
    );
    assert_eq!(imdb.labels[0], 0);
}

#[test]
fn the_uci_tsv_equals_the_amazon_json() {
    if !present(
        "the_uci_tsv_equals_the_amazon_json",
        "sentiment-labelled-sentences",
    ) {
        return;
    }
    let tsv = sentiment_amazon_tsv(None).unwrap();
    assert_eq!(tsv.len(), 1000);
    assert_eq!(tsv, sentiment(SentimentSource::Amazon, None).unwrap());
}

#[test]
fn cifar_samples_are_20_rgb_images_labelled_by_file_name() {
    if !present(
        "cifar_samples_are_20_rgb_images_labelled_by_file_name",
        "cifar10-samples",
    ) {
        return;
    }
    let data = cifar10_samples::<f32>(None).unwrap();
    assert_eq!(data.len(), 20);
    assert_eq!(
        data.schema().image,
        Some(descent_data::ImageShape::new(3, 32, 32))
    );
    assert_eq!(
        data.class_labels().unwrap(),
        [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]
    );
    // Test image 0 (a cat): pixel (0, 0) is RGB (158, 112, 49), pixel (31, 31)
    // is (21, 67, 110); planar layout puts channel c at offset c·1024.
    let row0 = data.features().row(0);
    assert_eq!((row0[0], row0[1024], row0[2048]), (158.0, 112.0, 49.0));
    assert_eq!((row0[1023], row0[2047], row0[3071]), (21.0, 67.0, 110.0));
    assert_eq!(row0.sum(), 332_962.0);
}
