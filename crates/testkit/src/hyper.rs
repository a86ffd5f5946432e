//! Reading a golden case's `hyper` object (or any spec object) key by key,
//! so that a key no harness reads fails the case instead of being ignored.

use crate::golden::number;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// A JSON object read field by field, typed, remembering which keys were read.
///
/// Every getter fails with a message naming the key when it is missing or of
/// the wrong type; [`Hyper::choice`], [`Hyper::expect`] and [`Hyper::null`]
/// fail on a value the harness does not support. [`Hyper::finish`] fails if
/// any key was never read, so a hyperparameter added to a golden file fails
/// every harness until one honours it. [`Hyper::read`] calls it for you.
///
/// # Examples
///
/// ```
/// use descent_testkit::Hyper;
/// use serde_json::json;
///
/// let v = json!({"lr": 0.1, "betas": [0.9, 0.999], "amsgrad": false});
/// let (lr, betas) = Hyper::read(&v, |h| {
///     h.expect("amsgrad", false)?;
///     Ok((h.f64("lr")?, h.pair_f64("betas")?))
/// })
/// .unwrap();
/// assert_eq!((lr, betas), (0.1, (0.9, 0.999)));
///
/// // A key nobody read fails.
/// let extra = json!({"lr": 0.1, "foreach": true});
/// let err = Hyper::read(&extra, |h| h.f64("lr")).unwrap_err();
/// assert!(err.contains("foreach"), "{err}");
/// ```
#[derive(Debug)]
pub struct Hyper<'a> {
    what: String,
    map: &'a Map<String, Value>,
    read: RefCell<BTreeSet<&'a str>>,
}

impl<'a> Hyper<'a> {
    /// Reads `v`, which must be an object; messages call it `hyper`.
    pub fn new(v: &'a Value) -> Result<Self, String> {
        Self::named(v, "hyper")
    }

    /// Reads `v`, which must be an object; messages call it `what`.
    pub fn named(v: &'a Value, what: impl Into<String>) -> Result<Self, String> {
        let what = what.into();
        let map = v
            .as_object()
            .ok_or_else(|| format!("`{what}` is not an object: {v}"))?;
        Ok(Hyper {
            what,
            map,
            read: RefCell::new(BTreeSet::new()),
        })
    }

    /// Runs `f` on `v`'s reader, then [`Hyper::finish`].
    pub fn read<T>(
        v: &'a Value,
        f: impl FnOnce(&Hyper<'a>) -> Result<T, String>,
    ) -> Result<T, String> {
        let h = Hyper::new(v)?;
        let out = f(&h)?;
        h.finish()?;
        Ok(out)
    }

    /// The raw value of `key`, marked as read.
    pub fn get(&self, key: &str) -> Result<&'a Value, String> {
        let (k, v) = self
            .map
            .get_key_value(key)
            .ok_or_else(|| format!("{} has no `{key}`", self.what))?;
        self.read.borrow_mut().insert(k.as_str());
        Ok(v)
    }

    /// Whether `key` is present (does not mark it read).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn bad(&self, key: &str, v: &Value, expected: &str) -> String {
        format!("{} `{key}` = {v} is not {expected}", self.what)
    }

    /// A number (`"inf"`, `"-inf"` and `"nan"` strings included).
    pub fn f64(&self, key: &str) -> Result<f64, String> {
        let v = self.get(key)?;
        number(v).ok_or_else(|| self.bad(key, v, "a number"))
    }

    /// A number, or `None` for null.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key)? {
            Value::Null => Ok(None),
            _ => self.f64(key).map(Some),
        }
    }

    /// A non-negative integer.
    pub fn u64(&self, key: &str) -> Result<u64, String> {
        let v = self.get(key)?;
        v.as_u64().ok_or_else(|| self.bad(key, v, "a count"))
    }

    /// A non-negative integer, or `None` for null.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key)? {
            Value::Null => Ok(None),
            _ => self.u64(key).map(Some),
        }
    }

    /// A non-negative integer as a `usize`.
    pub fn usize(&self, key: &str) -> Result<usize, String> {
        let n = self.u64(key)?;
        usize::try_from(n).map_err(|_| format!("{} `{key}` = {n} does not fit", self.what))
    }

    /// A non-negative integer as a `usize`, or `None` for null.
    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>, String> {
        match self.get(key)? {
            Value::Null => Ok(None),
            _ => self.usize(key).map(Some),
        }
    }

    /// An integer, possibly negative.
    pub fn i64(&self, key: &str) -> Result<i64, String> {
        let v = self.get(key)?;
        v.as_i64().ok_or_else(|| self.bad(key, v, "an integer"))
    }

    /// A boolean.
    pub fn bool(&self, key: &str) -> Result<bool, String> {
        let v = self.get(key)?;
        v.as_bool().ok_or_else(|| self.bad(key, v, "a bool"))
    }

    /// A string.
    pub fn str(&self, key: &str) -> Result<&'a str, String> {
        let v = self.get(key)?;
        v.as_str().ok_or_else(|| self.bad(key, v, "a string"))
    }

    /// A list.
    pub fn list(&self, key: &str) -> Result<&'a [Value], String> {
        let v = self.get(key)?;
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| self.bad(key, v, "a list"))
    }

    /// A list of non-negative integers.
    pub fn counts(&self, key: &str) -> Result<Vec<u64>, String> {
        let v = self.get(key)?;
        self.list(key)?
            .iter()
            .map(|x| {
                x.as_u64()
                    .ok_or_else(|| self.bad(key, v, "a list of counts"))
            })
            .collect()
    }

    /// A two-element list of numbers (`"betas": [0.9, 0.999]`).
    pub fn pair_f64(&self, key: &str) -> Result<(f64, f64), String> {
        let v = self.get(key)?;
        match self.list(key)? {
            [a, b] => match (number(a), number(b)) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(self.bad(key, v, "a pair of numbers")),
            },
            _ => Err(self.bad(key, v, "a pair of numbers")),
        }
    }

    /// A two-element list of counts (`"kernel_size": [3, 3]`).
    pub fn pair_usize(&self, key: &str) -> Result<(usize, usize), String> {
        let v = self.get(key)?;
        let count = |x: &Value| x.as_u64().and_then(|n| usize::try_from(n).ok());
        match self.list(key)? {
            [a, b] => match (count(a), count(b)) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err(self.bad(key, v, "a pair of counts")),
            },
            _ => Err(self.bad(key, v, "a pair of counts")),
        }
    }

    /// The value of `key` must be null: anything else is unsupported.
    pub fn null(&self, key: &str) -> Result<(), String> {
        match self.get(key)? {
            Value::Null => Ok(()),
            v => Err(format!(
                "unsupported {} `{key}` = {v} (only null is supported)",
                self.what
            )),
        }
    }

    /// The value of `key` must equal `want`: anything else is unsupported.
    pub fn expect(&self, key: &str, want: impl Into<Value>) -> Result<(), String> {
        let want = want.into();
        match self.get(key)? {
            v if *v == want => Ok(()),
            v => Err(format!(
                "unsupported {} `{key}` = {v} (only {want} is supported)",
                self.what
            )),
        }
    }

    /// The string value of `key`, mapped through `options`; a value not
    /// among them is unsupported.
    pub fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)]) -> Result<T, String> {
        let s = self.str(key)?;
        options
            .iter()
            .find(|(name, _)| *name == s)
            .map(|&(_, t)| t)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                format!(
                    "unsupported {} `{key}` = {s:?} (supported: {})",
                    self.what,
                    names.join(", ")
                )
            })
    }

    /// Fails when a key was never read: every hyperparameter must be honoured.
    pub fn finish(&self) -> Result<(), String> {
        let read = self.read.borrow();
        let unread: Vec<&str> = self
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| !read.contains(k))
            .collect();
        match unread.as_slice() {
            [] => Ok(()),
            keys => Err(format!(
                "unsupported {} keys {keys:?} (no harness reads them)",
                self.what
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Hyper;
    use serde_json::json;

    #[test]
    fn an_unread_key_fails_finish() {
        let v = json!({"lr": 0.1, "verbose": true});
        let h = Hyper::new(&v).unwrap();
        assert_eq!(h.f64("lr"), Ok(0.1));
        let err = h.finish().unwrap_err();
        assert!(err.contains("verbose") && !err.contains("lr"), "{err}");
        h.bool("verbose").unwrap();
        assert_eq!(h.finish(), Ok(()));
    }

    #[test]
    fn unsupported_values_and_wrong_types_fail_with_the_key() {
        let v = json!({
            "reduction": "batchmean", "weight": [1.0], "groups": 2,
            "n": -1, "pair": [1, 2, 3], "norm_type": "inf"
        });
        let h = Hyper::new(&v).unwrap();
        let e = h
            .choice("reduction", &[("mean", 0), ("sum", 1)])
            .unwrap_err();
        assert!(e.contains("batchmean") && e.contains("mean, sum"), "{e}");
        assert!(h.null("weight").unwrap_err().contains("weight"));
        assert!(h.expect("groups", 1).unwrap_err().contains("groups"));
        assert!(h.u64("n").unwrap_err().contains("`n`"));
        assert_eq!(h.i64("n"), Ok(-1));
        assert!(h.pair_usize("pair").is_err());
        assert_eq!(h.f64("norm_type"), Ok(f64::INFINITY));
        assert!(h.get("missing").unwrap_err().contains("missing"));
        assert!(Hyper::new(&json!([1])).is_err());
    }

    #[test]
    fn read_finishes_for_the_caller() {
        let v = json!({"a": 1, "b": null});
        assert_eq!(
            Hyper::read(&v, |h| Ok((h.u64("a")?, h.opt_u64("b")?))),
            Ok((1, None))
        );
        assert!(Hyper::read(&v, |h| h.u64("a")).is_err());
    }
}
