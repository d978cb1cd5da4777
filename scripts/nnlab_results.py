"""Load nnlab results files (format_version 2, and format 1 of nnlab 0.3)
into numpy, for notebooks and the plotting scripts. The format is
docs/results-format.md.

    import nnlab_results as nr
    res = nr.load("results/things-to-try/results.h5")
    res.format_version           # 1 or 2
    res.validation               # "none", "holdout" or "folds" ("none" for format 1)
    res.summary                  # structured array, one row per run (as /summary)
    res.swept                    # ["model.activation", "training.optimizer", ...]
    res.METRICS                  # the summary metrics this file has (format 1: its old columns)
    res.rank_metric              # val_acc with validation; else test_acc (format 1: final_test_acc)
    res.ranked_on_test           # True without validation: the ranking is a test-set selection
    res.configs()                # one dict per config point, best first: config, values, n_runs,
                                 # n_seeds, n_diverged, mean, std, n, runs, rank
    res.configs(metric="test_loss")   # ranked by another metric
    res.configs(ci="bootstrap")  # each entry also has ci {metric: (lo, hi)}, tied, p_value, test, n_pairs
    res.tie_test                 # after configs(): which test decided `tied` (nnlab summary's line)
    res.best_run()               # the run id plot_weights.py shows by default
    res.curves(17)               # {"train_loss": array, ...} of run 17 (val_* with validation)
    res.weights(17)              # [(W0, b0), (W1, b1), ...] after the last epoch trained;
                                 # which="best" at best_epoch (with validation), "init" (or init=True)
    res.aggregate(3)             # {"mean": {...}, "std": {...}, "attrs": {...}} of config point 3
    res.dataframe()              # the summary as a pandas DataFrame (needs pandas)

Config points are ranked as `nnlab summary` ranks them, so that "the best
10" is the same set everywhere: by the mean over their runs (seeds x folds)
of the metric, accuracies descending and everything else (losses, seconds,
epochs) ascending, equal means (to the last bit) by config id, lower first,
and config points without a finite value last. Means and standard
deviations skip non-finite values and use Welford's update in run order,
in Python floats, so that they are the same bits as nnlab's (numpy's
pairwise sum is not); the std is the sample one (n - 1), 0 for one value.
Errors are raised as NnlabError with a message meant for the user.
"""
import math
import os
import re
import sys

import numpy as np

try:
    import h5py
except ImportError as e:  # pragma: no cover
    raise SystemExit("nnlab_results needs h5py (Debian: python3-h5py)") from e

CURVES = ("train_loss", "test_loss", "train_acc", "test_acc")  # every run's curves, either format
VAL_CURVES = ("val_loss", "val_acc")                            # format 2 with validation only
# The /summary metrics of each format (res.METRICS is the file's own).
METRICS_1 = ("final_test_acc", "best_test_acc", "final_test_loss", "final_train_acc", "final_train_loss", "seconds")
METRICS_2 = ("val_acc", "val_loss", "test_acc", "test_loss", "final_val_acc", "final_val_loss", "final_test_acc",
             "final_test_loss", "final_train_acc", "final_train_loss", "best_epoch", "epochs_done", "seconds")
# Every metric of either format: what a script's --metric accepts before it has opened a file.
METRICS = METRICS_2 + tuple(m for m in METRICS_1 if m not in METRICS_2)
VALIDATION = ("none", "holdout", "folds")
FORMAT_VERSIONS = (1, 2)
# The line that says a ranking was made on the test set (as `nnlab summary` prints it).
RANKED_ON_TEST = "ranked on the test set: no validation split (dataset.validation_fraction or dataset.folds)"


class NnlabError(Exception):
    """A problem with the user's input: missing file, not a results file, unknown key."""


class NnlabWriteError(Exception):
    """An output that could not be written (a missing folder, no permission, disk full)."""


def _text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


# The true/false settings that can be swept (SET_BOOL in src/cfg.c), stored as 1 and 0.
SWITCHES = ("training.shuffle", "training.train_curves")


def value_text(v, key=None):
    """A swept value of setting `key` as nnlab prints it: strings as is,
    numbers shortest, switches as true and false."""
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if key in SWITCHES and v in (0, 1):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return "%.10g" % v
    return str(v)


def same_value(have, want):
    """A swept value's text against one given on the command line: numbers by
    value (0.20 is 0.2; true and false are 1 and 0 either side), anything else
    ignoring spaces ([200,100])."""
    have, want = ({"true": "1", "false": "0"}.get(v, v) for v in (have, want))
    if have == want:
        return True
    try:
        return float(have) == float(want)
    except ValueError:
        return have.replace(" ", "") == want.replace(" ", "")


def welford(values):
    """(mean, std, n) over the finite values, in their order, as nnlab
    computes them: Welford's update in float64, one value at a time
    (delta = v - mean; k += 1; mean += delta / k; m2 += delta * (v - mean)),
    std = sqrt(m2 / (k - 1)), 0 for one value; (nan, nan, 0) for none.
    A Python loop on purpose: numpy's sums are pairwise and differ in the
    last bits, and the ranking breaks ties by config id only when the means
    are equal to the last bit."""
    k, mean, m2 = 0, 0.0, 0.0
    for v in values:
        v = float(v)
        if not math.isfinite(v):
            continue
        delta = v - mean
        k += 1
        mean += delta / k
        m2 += delta * (v - mean)
    if k == 0:
        return math.nan, math.nan, 0
    return mean, (math.sqrt(m2 / (k - 1)) if k > 1 else 0.0), k


def mean_std(values):
    """Mean and sample std (n - 1) over the finite values, as welford(); (nan, nan) if none."""
    mean, std, _ = welford(values)
    return mean, std


def expected_max(values, n_max=None, higher=True):
    """Dodge et al. (2019): the expected best of n random draws, with
    replacement, from these values (one per config point; non-finite values
    left out), for n = 1..n_max (default: len of the finite values):
    E[max_n] = sum_i v_(i) ((i/N)^n - ((i-1)/N)^n) over the values sorted
    ascending, v_(1) <= ... <= v_(N). higher=False: the expected minimum
    (losses). Returns a float64 array of n_max values."""
    v = np.sort(np.asarray([float(x) for x in values if math.isfinite(float(x))], dtype=np.float64))
    if not higher:
        v = -v[::-1]
    big_n = len(v)
    if big_n == 0:
        raise NnlabError("expected_max: no finite value to draw from")
    n_max = big_n if n_max is None else int(n_max)
    i = np.arange(1, big_n + 1, dtype=np.float64)
    out = np.empty(n_max, dtype=np.float64)
    for n in range(1, n_max + 1):
        out[n - 1] = float(np.sum(v * ((i / big_n) ** n - ((i - 1) / big_n) ** n)))
    return out if higher else -out


# ---- statistics: the operations of src/stats.c, in the same order, for the same bits ----------------------------
#
# No scipy: math.lgamma is CPython's own and not C's, so log-gamma is
# Lanczos's approximation with Godfrey's coefficients in both; the
# incomplete beta function is Lentz's continued fraction (Numerical Recipes
# 6.4); exp, log and log1p are the C library's in both.

ALPHA = 0.05                   # the tests' level; intervals are 1 - ALPHA
BOOTSTRAP_RESAMPLES = 10000
RNG_BOOTSTRAP = 6              # src/rng.h: the stream purpose of resample b, rng_stream(b, RNG_BOOTSTRAP)
_LANCZOS = (0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
            -0.49191381609762019978, .33994649984811888699e-4, .46523628927048575665e-4, -.98374475304879564677e-4,
            .15808870322491248884e-3, -.21026444172410488319e-3, .21743961811521264320e-3, -.16431810653676389022e-3,
            .84418223983852743293e-4, -.26190838401581408670e-4, .36899182659531622704e-5)


def log_gamma(x):
    """log Gamma(x), x > 0 (stats_lgamma)."""
    total = 0.0
    for i in range(14, 0, -1):
        total += _LANCZOS[i] / (x + float(i))
    total += _LANCZOS[0]
    tmp = x + 4.7421875 + 0.5
    return (x + 0.5) * math.log(tmp) - tmp + math.log(2.5066282746310005 * total / x)


def _beta_cf(a, b, x):
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    if abs(d) < 1e-300:
        d = 1e-300
    d = 1.0 / d
    h = d
    for m in range(1, 1001):
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < 1e-300:
            d = 1e-300
        c = 1.0 + aa / c
        if abs(c) < 1e-300:
            c = 1e-300
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < 1e-300:
            d = 1e-300
        c = 1.0 + aa / c
        if abs(c) < 1e-300:
            c = 1e-300
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def incomplete_beta(a, b, x):
    """The regularized incomplete beta function I_x(a, b) (stats_incbeta)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, 1.0 - x) / b


def t_sf(t, df):
    """Student t with df degrees of freedom: P(T > t)."""
    if math.isnan(t):
        return t
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


_T_PPF = {}


def t_ppf(p, df):
    """Student t: the p-quantile, by bisection on t_sf to the last bit (stats_t_ppf)."""
    if not 0.0 < p < 1.0:
        return math.nan
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    if (p, df) in _T_PPF:
        return _T_PPF[p, df]
    q, lo, hi = 1.0 - p, 0.0, 1.0
    while t_sf(hi, df) > q and hi < 1e300:
        lo, hi = hi, hi * 2.0
    for _ in range(2100):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if t_sf(mid, df) > q:
            lo = mid
        else:
            hi = mid
    _T_PPF[p, df] = hi
    return hi


def _two_sided(diff, se, df):
    if se == 0.0:  # no spread: the means are equal or they are not
        return (0.0 if diff == 0.0 else math.copysign(math.inf, diff)), df, (1.0 if diff == 0.0 else 0.0)
    t = diff / se
    return t, df, incomplete_beta(0.5 * df, 0.5, df / (df + t * t))


def welch_test(mean_a, std_a, n_a, mean_b, std_b, n_b):
    """Welch's two-sided t-test from each side's mean, sample std and n:
    (t, df, p) with the Welch-Satterthwaite df; None when an n is below 2."""
    if n_a < 2 or n_b < 2:
        return None
    va, vb = std_a * std_a / n_a, std_b * std_b / n_b
    spread = va * va / (n_a - 1) + vb * vb / (n_b - 1)
    df = (va + vb) * (va + vb) / spread if spread else math.nan  # no spread: no df (C's 0/0), and no t
    return _two_sided(mean_a - mean_b, math.sqrt(va + vb), df)


def paired_test(a, b):
    """The paired two-sided t-test of a - b (pairs with a non-finite value
    left out): (t, df, p, pairs used), or None for fewer than 2 pairs."""
    d = [x - y for x, y in zip(a, b) if math.isfinite(x) and math.isfinite(y)]
    mean, std, n = welford(d)
    if n < 2:
        return None
    return _two_sided(mean, std / math.sqrt(n), float(n - 1)) + (n,)


def t_interval(mean, std, n):
    """The 95% Student t interval of a mean: mean -+ t_{0.975, n-1} std / sqrt(n); (nan, nan) for n < 2."""
    if n < 2:
        return math.nan, math.nan
    half = t_ppf(1.0 - ALPHA / 2, float(n - 1)) * std / math.sqrt(n)
    return mean - half, mean + half


_U64 = np.uint64


def _splitmix64(x):
    """Vectorised rng_splitmix64: (new state, output) for uint64 arrays."""
    x = x + _U64(0x9e3779b97f4a7c15)
    z = (x ^ (x >> _U64(30))) * _U64(0xbf58476d1ce4e5b9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94d049bb133111eb)
    return x, z ^ (z >> _U64(31))


def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


_BOOTSTRAP_DRAWS = {}


def _bootstrap_draws(n):
    """Resample b's n indices, b = 0..9999, as src/stats.c draws them: a
    list of n arrays (draw j of every resample). Resample b has its own
    stream, rng_stream(b, RNG_BOOTSTRAP), so numpy runs the 10,000 streams
    side by side; each index is rng_below(n) (xoshiro256**, rejection)."""
    if n in _BOOTSTRAP_DRAWS:
        return _BOOTSTRAP_DRAWS[n]
    with np.errstate(over="ignore"):
        x = np.arange(BOOTSTRAP_RESAMPLES, dtype=np.uint64)         # rng_stream(seed = b, purpose)
        x, h = _splitmix64(x)
        x = h ^ _U64((RNG_BOOTSTRAP * 0xd1b54a32d192ed03) % (1 << 64))
        x, seed = _splitmix64(x)
        s = []
        for _ in range(4):                                           # rng_seed
            seed, out = _splitmix64(seed)
            s.append(out)
        threshold = _U64(((1 << 64) - n) % n)

        def next_u64(mask):
            s0, s1, s2, s3 = s
            result = _rotl(s1 * _U64(5), 7) * _U64(9)
            t = s1 << _U64(17)
            s2 = s2 ^ s0
            s3 = s3 ^ s1
            s1 = s1 ^ s2
            s0 = s0 ^ s3
            s2 = s2 ^ t
            s3 = _rotl(s3, 45)
            for i, new in enumerate((s0, s1, s2, s3)):
                s[i] = np.where(mask, new, s[i])
            return result

        draws = []
        for _ in range(n):
            want = np.ones(BOOTSTRAP_RESAMPLES, dtype=bool)
            value = np.zeros(BOOTSTRAP_RESAMPLES, dtype=np.uint64)
            while want.any():                                         # rng_below: reject below the threshold
                r = next_u64(want)
                ok = want & (r >= threshold)
                value = np.where(ok, r % _U64(n), value)
                want &= ~ok
            draws.append(value.astype(np.intp))
    _BOOTSTRAP_DRAWS[n] = draws
    return draws


def bootstrap_interval(values):
    """The 95% percentile bootstrap interval of the mean of the finite values
    (in their order), as nnlab summary --ci bootstrap computes it
    (stats_bootstrap_interval): 10,000 resamples, resample b's mean the sum
    of its n draws in draw order over n; of the sorted means, the 251st
    and the 9750th. (nan, nan) for fewer than 2 values."""
    v = np.asarray([float(x) for x in values if math.isfinite(float(x))], dtype=np.float64)
    n = len(v)
    if n < 2:
        return math.nan, math.nan
    total = np.zeros(BOOTSTRAP_RESAMPLES)
    for idx in _bootstrap_draws(n):
        total += v[idx]
    means = np.sort(total / n)
    k = int(BOOTSTRAP_RESAMPLES * ALPHA / 2)
    return float(means[k]), float(means[BOOTSTRAP_RESAMPLES - 1 - k])


def _config_list(entries, many):
    items = [("%s c%04d" % (e["experiment"], e["config"])) if many else "c%04d" % e["config"] for e in entries]
    return ", ".join(items[:5]) + (" and %d more" % (len(items) - 5) if len(items) > 5 else "")


def tie_note(ordered, metric):
    """The line under nnlab summary's table that says which test decided `tied` (as src/summary.c writes it)."""
    tested = [e for e in ordered[1:] if e["tied"] is not None]
    paired = [e["n_pairs"] for e in tested if e["test"] == "paired"]
    welch = sum(e["test"] == "welch" for e in tested)
    text = "tied: not significantly different from rank 1 on %s (" % metric
    if paired and min(paired) == max(paired):
        text += "paired t-test on %d shared (seed, fold) pairs" % paired[0]
    elif paired:
        text += "paired t-test on %d to %d shared (seed, fold) pairs" % (min(paired), max(paired))
    if paired and welch:
        text += " for %d points, " % len(paired)
    if welch:
        text += "Welch's t-test" + (" for the others" if paired else "")
    if not paired and not welch:
        text += "no other point could be tested"
    text += ", two-sided, alpha %.2f)" % ALPHA
    many = len({e.get("experiment") for e in ordered}) > 1
    short = [e for e in tested if e["test"] == "paired" and e["n_pairs"] < e["n_runs"]]
    if short:
        text += "; pairs with a non-finite value left out: " + ", ".join(
            "c%04d %d of %d" % (e["config"], e["n_pairs"], e["n_runs"]) for e in short[:5]) + (
            " and %d more" % (len(short) - 5) if len(short) > 5 else "")
    untestable = [e for e in ordered[1:] if e["tied"] is None and not e["pruned"]]
    if untestable:
        text += "; ? untestable, fewer than 2 values or pairs: " + _config_list(untestable, many)
    pruned = [e for e in ordered if e["pruned"]]
    if pruned:
        text += "; - not compared, pruned or paused by the search: " + _config_list(pruned, many)
    return text


def higher_is_better(metric):
    """Accuracies rank descending; losses, seconds and epochs ascending (as nnlab: '_acc' in the name)."""
    return "_acc" in metric


def rank_key(value, tiebreak, metric):
    """The sort key of a config point (or run) whose mean (or value) of metric is
    `value`: best first, equal values (to the last bit) by `tiebreak` (config or
    run id) ascending, NaN last."""
    value = float(value)
    if math.isnan(value):
        return (1, 0.0, tiebreak)
    return (0, -value if higher_is_better(metric) else value, tiebreak)


def rank(entries, metric):
    """Config entries (of configs()) sorted best first, as nnlab summary sorts:
    config points that successive halving or Hyperband did not prune (or
    pause) first, then the pruned ones by the rung they reached, highest
    first; within each, by their mean of metric (rank_key)."""
    def key(e):
        pruned = e.get("pruned", False)
        return (pruned, -e.get("rung", 0) if pruned else 0) + rank_key(e["mean"][metric], e["config"], metric)
    return sorted(entries, key=key)


# ---- reading a file that may be damaged or crafted --------------------------------------------------------------
#
# Every object is checked before it is read: its kind (group or dataset), its
# rank and shape, its type, and its size in bytes against the file's own
# size. nnlab never compresses, so a dataset that claims more bytes than the
# whole file holds is damaged or crafted (HDF5 can declare a 149 GiB dataset
# it never stored, and reads its unwritten elements as fill values); reading
# it would take that much memory. Problems are NnlabError, one line naming
# the file.

# The largest config id nnlab writes (src/cfg.c allows 10^6 config points; nnlab summary refuses others too).
MAX_CONFIG = 999999
# HDF5's errors, and numpy's and h5py's on types they cannot convert: a damaged file, for the user.
_READ_ERRORS = (OSError, KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError)


def _kind_of(dt, want):
    """Whether dtype dt holds scalars of kind want: "int", "number" (int or
    float), "float", "text" or "value" (number or text)."""
    if dt.names or dt.subdtype is not None:
        return False
    if h5py.check_string_dtype(dt) is not None:
        return want in ("text", "value")
    return dt.kind in {"int": "iu", "number": "iuf", "float": "f", "value": "iuf"}.get(want, "")


_WANT = {"int": "integers", "number": "numbers", "float": "floating-point numbers", "text": "text",
         "value": "numbers or text"}


def _describe(dt):
    """What dtype dt holds, in words."""
    if dt.names:
        return "a compound of %d members" % len(dt.names)
    if dt.subdtype is not None:
        return "arrays of shape %s" % (dt.subdtype[1],)
    if h5py.check_string_dtype(dt) is not None:
        return "text"
    if dt.kind in "iu":
        return "integers"
    if dt.kind == "f":
        return "floating-point numbers"
    if dt.kind == "b":
        return "booleans"
    return "values of type %s" % dt


def _shape_text(shape):
    if shape is None:
        return "no dataspace"
    if shape == ():
        return "a scalar"
    return "shape (%s)" % ", ".join(map(str, shape))


def _bytes_text(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d bytes" % n


class Results:
    """An open results.h5; use as a context manager or call close()."""

    def __init__(self, path):
        if os.path.isdir(path):
            path = os.path.join(path, "results.h5")
            if not os.path.exists(path):
                raise NnlabError("%s: no such file (the folder holds no results.h5)" % path)
        if not os.path.exists(path):
            raise NnlabError("%s: no such file" % path)
        self.path = path
        self._run_files = {}  # path -> open h5py.File of the run files results.h5 links to
        self._sizes = {}      # h5py file name -> its size in bytes: what any one value in it may take
        self._in_run = ""     # the run file of the objects a message names ("/run/..."), as results.h5 links it
        try:
            self.size = os.path.getsize(path)
        except OSError as e:
            raise NnlabError("%s: cannot read (%s)" % (path, e.strerror or e)) from None
        if self.size == 0:
            raise NnlabError("%s: not an HDF5 file (it is empty)" % path)
        try:
            self.file = h5py.File(path, "r")
        except _READ_ERRORS as e:
            raise NnlabError("%s: not an HDF5 file (%s)" % (path, e)) from None
        try:
            self._open()
        except BaseException:
            self.file.close()
            raise

    # ---- checked access ----------------------------------------------------------

    def _fail(self, what, why):
        if self._in_run and (what == "/run" or what.startswith(("/run/", "/run "))):
            what = self._in_run + ":" + what
        raise NnlabError("%s: %s %s" % (self.path, what, why))

    def _limit(self, obj):
        """The bytes any one value of obj may take: the size of the file it is in."""
        try:
            return self._sizes.get(obj.file.filename, self.size)
        except _READ_ERRORS:
            return self.size

    def _child(self, group, name, run=None):
        """group[name]: None when there is no such object (or a dangling link);
        NnlabError if the file cannot say or the link leads to another file
        (but for run `run`'s link to its run file, see _linked_run)."""
        where = "%s/%s" % (group.name.rstrip("/"), name)
        try:
            link = group.get(name, getlink=True)
            if link is None:
                return None
            if isinstance(link, h5py.ExternalLink) and run is not None:
                return self._linked_run(run, link)
            if isinstance(link, h5py.ExternalLink):
                self._fail(where, "is a link to another file (%s)" % link.filename)
            if name not in group:  # a soft link to nothing
                return None
            return group[name]
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot read %s (%s)" % (self.path, where, e)) from None

    def _group(self, parent, name, missing):
        """The group parent/name; NnlabError(missing) without it, or if it is not a group."""
        g = self._child(parent, name)
        if g is None:
            raise NnlabError("%s: %s" % (self.path, missing))
        if not isinstance(g, h5py.Group):
            self._fail(g.name, "is not a group")
        return g

    def _names(self, group):
        try:
            return list(group.keys())
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot list %s (%s)" % (self.path, group.name, e)) from None

    def _dataset(self, d, want, rank, rows=False):
        """Check d before reading it: a dataset of `rank` dimensions holding
        `want` (see _kind_of; None: any type), all of it stored, and no more
        bytes than the file holds. Returns its size in bytes. rows: say rows
        in messages (a table), not the shape."""
        if not isinstance(d, h5py.Dataset):
            self._fail(d.name, "is not a dataset")
        try:
            shape, dt, stored = d.shape, d.dtype, d.id.get_storage_size()
            size = max(dt.itemsize, d.id.get_type().get_size(), 1)
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot read %s (%s)" % (self.path, d.name, e)) from None
        if shape is None or len(shape) != rank:
            self._fail(d.name, "has %s, not %d dimension%s" % (_shape_text(shape), rank, "" if rank == 1 else "s"))
        if want is not None and not _kind_of(dt, want):
            self._fail(d.name, "holds %s, not %s" % (_describe(dt), _WANT[want]))
        n = math.prod(shape)
        what = "%d rows" % n if rows else _shape_text(shape)
        limit = self._limit(d)
        if n * size > limit:
            self._fail(d.name, "claims %s of %d bytes (%s), more than the file's %s hold (a damaged or crafted file)"
                       % (what, size, _bytes_text(n * size), _bytes_text(limit)))
        if n > 0 and stored == 0:
            self._fail(d.name, "has %s but none of it is stored (a damaged or crafted file)" % what)
        return n * size

    def _read(self, d):
        try:
            return d[()]
        except (MemoryError,) + _READ_ERRORS as e:
            raise NnlabError("%s: cannot read %s (%s)" % (self.path, d.name, e or type(e).__name__)) from None

    def _read_all(self, checked, what):
        """Read [(dataset, bytes of _dataset)], if together they fit in the file."""
        total = sum(n for _, n in checked)
        limit = self._limit(checked[0][0]) if checked else self.size
        if total > limit:
            self._fail(what, "claim %s together, more than the file's %s hold (a damaged or crafted file)"
                       % (_bytes_text(total), _bytes_text(limit)))
        return [self._read(d) for d, _ in checked]

    def _attr(self, obj, name, want=None):
        """Attribute name of obj, None when it is not there. want: "text" (a
        string), "int" (an integer, or a float with an integral value),
        "texts" (a list of strings), None (anything)."""
        where = "attribute %s" % name if obj.name == "/" else "%s attribute %s" % (obj.name, name)
        try:
            if name not in obj.attrs:
                return None
            a = obj.attrs.get_id(name)
            shape, dt = a.shape, a.dtype
            n = math.prod(shape) if shape is not None else 0
            if n * max(dt.itemsize, 1) > self._limit(obj):
                self._fail(where, "claims more bytes than the file holds (a damaged or crafted file)")
            text = h5py.check_string_dtype(dt) is not None and not dt.names and dt.subdtype is None
            if want == "text" and not (text and shape in ((), (1,))):
                self._fail(where, "is %s of %s, not a string" % (_shape_text(shape), _describe(dt)))
            if want == "texts" and not (text and shape is not None and len(shape) == 1):
                self._fail(where, "is %s of %s, not a list of strings" % (_shape_text(shape), _describe(dt)))
            if want == "int" and not (shape in ((), (1,)) and _kind_of(dt, "number")):
                self._fail(where, "is %s of %s, not an integer" % (_shape_text(shape), _describe(dt)))
            v = obj.attrs[name]
        except NnlabError:
            raise
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot read %s (%s)" % (self.path, where, e)) from None
        if want == "text":
            return _text(np.asarray(v).reshape(-1)[0])
        if want == "texts":
            return [_text(x) for x in v]
        if want == "int":
            x = np.asarray(v).reshape(-1)[0]
            if x.dtype.kind == "f":
                if not (math.isfinite(x) and float(x).is_integer()):
                    self._fail(where, "is %r, not an integer" % float(x))
            return int(x)
        return v

    # ---- opening -----------------------------------------------------------------

    def _open(self):
        path, f = self.path, self.file
        fmt = self._attr(f, "format")
        if fmt is not None and not isinstance(fmt, (str, bytes)):
            raise NnlabError("%s: not an nnlab results file (its format attribute is not text)" % path)
        fmt = "" if fmt is None else _text(fmt)
        if fmt == "nnlab-run":
            raise NnlabError("%s: one run's file; give the experiment's results.h5, or its output folder" % path)
        if fmt != "nnlab-results":
            raise NnlabError("%s: not an nnlab results file" % path)
        version = self._attr(f, "format_version", "int")
        self.format_version = 0 if version is None else version  # none is 0, as nnlab reads it: refused
        if self.format_version not in FORMAT_VERSIONS:
            raise NnlabError("%s: results format_version %d; this loader reads %s%s"
                             % (path, self.format_version, " and ".join(map(str, FORMAT_VERSIONS)),
                                " (a newer nnlab wrote it)" if self.format_version > FORMAT_VERSIONS[-1] else ""))
        self.METRICS = METRICS_2 if self.format_version == 2 else METRICS_1
        self.validation = self._validation()
        self.CURVES = CURVES + (VAL_CURVES if self.validation != "none" else ())
        self.summary = self._read_summary()
        self.tie_test = None  # configs() sets it: the line that says which test decided `tied`
        self.swept = [n for n in self.summary.dtype.names if "." in n]
        self.name = self._attr(f, "name", "text") or ""
        self.experiment = self._attr(f, "experiment", "text") or ""
        self._read_data()

    def _validation(self):
        if self.format_version == 1:
            return "none"
        v = self._attr(self.file, "validation", "text")
        v = "none" if v is None else v  # not written: none, as nnlab summary takes it
        if v not in VALIDATION:
            raise NnlabError("%s: unknown validation '%s' (known: %s)" % (self.path, v, ", ".join(VALIDATION)))
        return v

    def _read_summary(self):
        """/summary, checked: a table of rows with the columns of its format,
        each of its type, no more rows than the file holds, and config ids
        nnlab can write."""
        path = self.path
        d = self._child(self.file, "summary")
        if d is None:
            raise NnlabError("%s: no /summary table" % path)
        if not isinstance(d, h5py.Dataset):
            raise NnlabError("%s: /summary is not a table (a group)" % path)
        try:
            dt, shape = d.dtype, d.shape
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot read /summary (%s)" % (path, e)) from None
        if not dt.names:
            raise NnlabError("%s: /summary is not a table: it holds %s, not rows of named columns"
                             % (path, _describe(dt)))
        if shape is None or len(shape) != 1:
            raise NnlabError("%s: /summary is not a table: it has %s, not one row per run" % (path, _shape_text(shape)))
        want = dict.fromkeys(dt.names, "value")
        want.update({"seed": "int", "fold": "int"})
        want.update(dict.fromkeys(self.METRICS, "number"))
        want.update({"run": "int", "config": "int", "status": "text"})
        for col in ("run", "config", "status") + self.METRICS:
            if col not in dt.names:
                raise NnlabError("%s: /summary lacks the %s column (format_version %d)"
                                 % (path, col, self.format_version))
        for col in dt.names:
            if col in want and not _kind_of(dt.fields[col][0], want[col]):
                raise NnlabError("%s: /summary column %s holds %s, not %s"
                                 % (path, col, _describe(dt.fields[col][0]), _WANT[want[col]]))
        self._dataset(d, None, 1, rows=True)
        summary = self._read(d)
        config = summary["config"]
        bad = np.flatnonzero((config < 0) | (config > MAX_CONFIG))
        if bad.size:
            raise NnlabError("%s: /summary row %d: config %d is not a config point's id (0..%d)"
                             % (path, bad[0], config[bad[0]], MAX_CONFIG))
        return summary

    def _read_data(self):
        """/data's class names and sizes (when there is a /data, as nnlab writes)."""
        self.class_names = self.n_features = self.n_classes = None
        data = self._child(self.file, "data")
        if data is None:
            return
        if not isinstance(data, h5py.Group):
            raise NnlabError("%s: /data is not a group" % self.path)
        for key in ("n_features", "n_classes"):
            n = self._attr(data, key, "int")
            if n is not None and n < 1:
                self._fail("/data attribute " + key, "is %d, not a count" % n)
            setattr(self, key, n)
        names = self._attr(data, "class_names", "texts")  # CSV labels that were names
        if names is not None and self.n_classes is not None and len(names) != self.n_classes:
            self._fail("/data attribute class_names", "holds %d names for %d classes" % (len(names), self.n_classes))
        self.class_names = names

    def close(self):
        for f in self._run_files.values():
            f.close()
        self._run_files = {}
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- ranking ---------------------------------------------------------------

    @property
    def rank_metric(self):
        """The metric config points are ranked by: val_acc with validation,
        else test_acc (format 1: final_test_acc)."""
        if self.format_version == 1:
            return "final_test_acc"
        return "test_acc" if self.validation == "none" else "val_acc"

    @property
    def ranked_on_test(self):
        """True when the file has no validation split, so that its ranking
        (by rank_metric) selects on the test set; scripts then print RANKED_ON_TEST."""
        return self.validation == "none"

    def on_test(self, metric=None):
        """Whether ranking by metric (default rank_metric) is the test-set
        selection RANKED_ON_TEST names: a test metric, and no validation split."""
        return self.ranked_on_test and "test" in (metric or self.rank_metric)

    def note_ranking(self, metric=None, file=None):
        """Print RANKED_ON_TEST to stderr (or file) if on_test(metric); returns whether it did."""
        if not self.on_test(metric):
            return False
        print(RANKED_ON_TEST, file=file or sys.stderr)
        return True

    def check_metric(self, metric):
        """NnlabError unless metric is a /summary metric of this file."""
        if metric in self.METRICS:
            return metric
        if self.format_version == 1 and metric in METRICS_2:
            why = " (format 1, from nnlab 0.3: no validation, and test metrics only at the last epoch)"
        elif metric == "best_test_acc":
            why = " (the test curve's maximum, a test-set selection, is gone in format 2; test_acc is at best_epoch)"
        else:
            why = ""
        raise NnlabError("%s: no metric %s in a format %d file%s; metrics: %s"
                         % (self.path, metric, self.format_version, why, ", ".join(self.METRICS)))

    def check_swept(self, key):
        if key not in self.swept:
            raise NnlabError("%s: '%s' was not swept in this experiment; swept: %s"
                             % (self.path, key, ", ".join(self.swept) or "nothing"))

    def where_rows(self, where):
        """A mask of the summary rows whose swept values match `where` {key: text}
        (same_value); NnlabError naming the values there are if none does."""
        keep = np.ones(len(self.summary), dtype=bool)
        for key, want in where.items():
            self.check_swept(key)
            keep &= np.array([same_value(value_text(v, key), want) for v in self.summary[key]], dtype=bool)
        if where and not keep.any():
            known = "; ".join("%s takes %s" % (k, ", ".join(dict.fromkeys(value_text(v, k) for v in self.summary[k])))
                              for k in where)
            raise NnlabError("%s: no config point matches %s (%s)"
                             % (self.path, " ".join("%s=%s" % kv for kv in where.items()), known))
        return keep

    def configs(self, where=None, metric=None, ranked=True, ci="t"):
        """One dict per config point, best first by the mean of metric
        (default rank_metric; ranked=False: in config order): config,
        values {key: text}, n_runs (seeds x folds), n_seeds (distinct
        seeds), n_diverged, pruned (successive halving stopped it: a run
        pruned or paused), rung (the highest its runs reached; 0 without
        search rungs), mean {metric: ...}, std {metric: ...}, n {metric:
        finite values}, runs (summary row indices, in run order) and rank
        (1 = best, among the points kept). `where` {key: text} keeps matching
        points. Means and stds are nnlab's bits (welford, in run order).

        As nnlab summary's columns (the same bits): ci {metric: (lo, hi)},
        the 95% interval of the mean (ci="t": Student t; "bootstrap": the
        seeded percentile bootstrap; (nan, nan) for n < 2); tied (True: not
        significantly different from rank 1 on metric, rank 1 itself too;
        False: significantly worse; None: not testable, or pruned), p_value
        (None without a test), test ("paired", "welch" or None) and n_pairs.
        self.tie_test says which test was used. With an `experiment` column
        (load_many), runs pair only within one experiment."""
        if ci not in ("t", "bootstrap"):
            raise NnlabError("ci is 't' or 'bootstrap', not %r" % (ci,))
        metric = self.check_metric(metric or self.rank_metric)
        s = self.summary
        if len(s) == 0:
            raise NnlabError("%s: /summary holds no runs" % self.path)
        keep = self.where_rows(where or {})
        status = [_text(v) for v in s["status"]]
        out = []
        order = np.argsort(s["config"], kind="stable")  # within a config point, row order is run order
        starts = np.flatnonzero(np.diff(s["config"][order], prepend=np.int64(-1)))
        for rows in np.split(order, starts[1:]):
            c = s["config"][rows[0]]
            if not keep[rows[0]]:
                continue
            first = s[rows[0]]
            values = {k: value_text(first[k], k) for k in self.swept}
            seeds = s["seed"][rows] if "seed" in s.dtype.names else rows
            entry = {"config": int(c), "values": values, "n_runs": len(rows), "n_seeds": len(set(seeds.tolist())),
                     "runs": rows, "n_diverged": sum(status[i] == "diverged" for i in rows),
                     "pruned": any(status[i] in ("pruned", "paused") for i in rows),
                     "rung": int(max(s["rung"][rows])) if "rung" in s.dtype.names else 0,
                     "mean": {}, "std": {}, "n": {}, "ci": {}}
            if "experiment" in s.dtype.names:
                entry["experiment"] = _text(first["experiment"])
            for m in self.METRICS:
                entry["mean"][m], entry["std"][m], entry["n"][m] = welford(s[m][rows])
                entry["ci"][m] = (t_interval(entry["mean"][m], entry["std"][m], entry["n"][m]) if ci == "t"
                                  else bootstrap_interval(s[m][rows]))
                if ci == "t" and "_acc" in m and entry["n"][m] >= 2:  # an accuracy's interval stays within [0, 1]
                    lo, hi = entry["ci"][m]
                    entry["ci"][m] = (max(lo, 0.0), min(hi, 1.0))
            out.append(entry)
        ordered = rank(out, metric)
        for i, e in enumerate(ordered):
            e["rank"] = i + 1
        self._tie_tests(ordered, metric)
        return ordered if ranked else out

    def _run_keys(self, rows):
        """(seed, fold) of each of these summary rows, or None when the file has no seed column to pair by."""
        s = self.summary
        if "seed" not in s.dtype.names or s.dtype["seed"].kind not in "iu":
            return None
        folds = s["fold"][rows] if "fold" in s.dtype.names and s.dtype["fold"].kind in "iu" else [0] * len(rows)
        return [(int(a), int(b)) for a, b in zip(s["seed"][rows], folds)]

    def _tie_tests(self, ordered, metric):
        """Each entry's tied, p_value, test and n_pairs against ordered[0]
        (as src/summary.c's tie_test), and self.tie_test."""
        s = self.summary
        top = ordered[0] if ordered else None
        for e in ordered:
            e.update(tied=None, p_value=None, test=None, n_pairs=0)
            if e["pruned"]:
                continue
            if e is top:
                e["tied"] = True
                continue
            keys_top, keys = self._run_keys(top["runs"]), self._run_keys(e["runs"])
            paired = (keys is not None and e.get("experiment") == top.get("experiment") and len(keys) == len(keys_top)
                      and len(set(keys_top)) == len(keys_top) and set(keys) == set(keys_top))
            if paired:
                where = {k: row for k, row in zip(keys, e["runs"])}
                a = [float(s[metric][i]) for i in top["runs"]]
                b = [float(s[metric][where[k]]) for k in keys_top]
                r = paired_test(a, b)
                e["test"] = "paired"
                e["n_pairs"] = sum(math.isfinite(x) and math.isfinite(y) for x, y in zip(a, b))
            else:
                r = welch_test(top["mean"][metric], top["std"][metric], top["n"][metric],
                               e["mean"][metric], e["std"][metric], e["n"][metric])
                e["test"] = "welch"
            if r is None or math.isnan(r[2]):  # NaN: a spread that underflows, no degrees of freedom
                continue
            e["p_value"] = r[2]
            e["tied"] = r[2] >= ALPHA
        self.tie_test = tie_note(ordered, metric)

    def best_run(self, where=None, metric=None):
        """The run shown for 'the best': in the best config point (configs()
        ranking by metric, default rank_metric), its run with the best value
        of metric (equal values: the lower run id; NaN last)."""
        metric = metric or self.rank_metric
        best = self.configs(where, metric)[0]
        runs = self.summary["run"][best["runs"]]
        values = self.summary[metric][best["runs"]]
        return int(min(zip(values, runs), key=lambda vr: rank_key(vr[0], int(vr[1]), metric))[1])

    def require_values(self, metric, rows):
        """Raise NnlabError unless some of these summary rows have a value of metric."""
        self.check_metric(metric)
        if not np.isfinite(self.summary[metric][rows].astype(float)).any():
            if "train" in metric:
                hint = " (the runs have training.train_curves: false)"
            elif "val" in metric and self.validation == "none":
                hint = " (no validation split: dataset.validation_fraction or dataset.folds)"
            else:
                hint = ""
            raise NnlabError("%s: no run has a value of %s%s" % (self.path, metric, hint))

    # ---- runs and config points -----------------------------------------------

    def run_group(self, run):
        run = int(run)
        runs = self._child(self.file, "runs")
        if runs is not None and not isinstance(runs, h5py.Group):
            self._fail("/runs", "is not a group")
        g = None if runs is None else self._child(runs, "r%06d" % run, run)
        if g is None:
            raise NnlabError("%s: no run %d" % (self.path, run))
        if not isinstance(g, h5py.Group):
            self._fail(g.name, "is not a group")
        return g

    def _linked_run(self, run, link):
        """/run of the run file that /runs/rNNNNNN links to (results.h5 keeps
        each run's data once, in runs/rNNNNNN.h5 beside it). Opened here from
        results.h5's folder, not by HDF5's search, which falls back to the
        current folder and could find another experiment's run file of the
        same name; then checked to be this experiment's run. nnlab itself
        also checks its checksum (nnlab merge, nnlab predict)."""
        want, where = "runs/r%06d.h5" % run, "/runs/r%06d" % run
        if link.filename != want or link.path != "/run":
            self._fail(where, "is a link to another file (%s:%s), not to its run file %s"
                       % (link.filename, link.path, want))
        path = os.path.join(os.path.dirname(self.path), want)
        f = self._run_files.get(path)
        if f is None:
            if not os.path.isfile(path):
                raise NnlabError("%s: run %d's file %s is missing (results.h5 links to the run files beside it: "
                                 "copy or move the whole output folder, not results.h5 alone)" % (self.path, run, path))
            try:
                size = os.path.getsize(path)
                f = h5py.File(path, "r")
            except _READ_ERRORS as e:
                raise NnlabError("%s: run %d's file %s is not an HDF5 file (%s)" % (self.path, run, path, e)) from None
            self._run_files[path], self._sizes[f.filename] = f, size
        self._in_run = want
        g = self._child(f, "run")
        if not isinstance(g, h5py.Group):
            raise NnlabError("%s: run %d's file %s holds no run" % (self.path, run, path))
        fingerprint, have = self._attr(self.file, "fingerprint", "text"), self._attr(g, "fingerprint", "text")
        if self._attr(g, "run", "int") != run or (fingerprint is not None and have != fingerprint):
            raise NnlabError("%s: run %d's file %s is not the one results.h5 was merged from (another run or "
                             "experiment: nnlab merge the folder again)" % (self.path, run, path))
        return g

    def run_attr(self, run, name, want="int"):
        """Attribute name of run (see _attr: "int", "text"), None when the run has none."""
        return self._attr(self.run_group(run), name, want)

    def _curves(self, g, names, length=None, why=None):
        """{curve: float array} of group g: every curve in names, each one-dimensional
        with `length` entries (why: where that number comes from; None: as many as
        the first curve), checked before reading."""
        checked = []
        for k in names:
            d = self._child(g, k)
            if d is None:
                self._fail(g.name, "lacks the curve %s" % k)
            checked.append((d, self._dataset(d, "float", 1)))
            if length is None:
                length, why = d.shape[0], "as %s" % k
            if d.shape[0] < 1:
                self._fail(d.name, "is empty (a curve has one entry per epoch and one before training)")
            if d.shape[0] != length:
                self._fail(d.name, "has %d entries, not %d %s" % (d.shape[0], length, why))
        return dict(zip(names, self._read_all(checked, g.name)))

    def curves(self, run):
        """{curve: float64 [epochs + 1]} of a run: CURVES, and VAL_CURVES with
        validation. NaN after the run stopped (early stop, divergence)."""
        g = self.run_group(run)
        c = self._group(g, "curves", "run %d has no curves" % int(run))
        names = list(self.CURVES) + [k for k in VAL_CURVES if k not in self.CURVES and self._child(c, k) is not None]
        epochs = self._attr(g, "training.epochs", "int")
        if epochs is not None and epochs < 1:
            self._fail(g.name + " attribute training.epochs", "is %d, not a number of epochs" % epochs)
        return self._curves(c, names, None if epochs is None else epochs + 1, "(training.epochs + 1)")

    WEIGHTS = {"final": "weights", "best": "best", "init": "init"}

    def has_weights(self, run, which):
        return self.WEIGHTS.get(which) is not None and self._child(self.run_group(run), self.WEIGHTS[which]) is not None

    def weights(self, run, which="final", init=False):
        """[(W0, b0), (W1, b1), ...] of a run: which="final" after the last
        epoch trained (weights/), "best" at best_epoch (best/, with validation
        only), "init" at initialisation (init=True says the same). Checked:
        W float (inputs, units), b float (units), each layer's inputs the
        previous layer's units, the first layer's the data's features and the
        last layer's units its classes."""
        if init:
            which = "init"
        if which not in self.WEIGHTS:
            raise NnlabError("weights: which must be one of %s, not '%s'" % (", ".join(self.WEIGHTS), which))
        run = int(run)
        why = " (only with validation: the weights at best_epoch)" if which == "best" else ""
        rg = self.run_group(run)
        if self._child(rg, self.WEIGHTS[which]) is None:  # not kept (storage:)? say so
            kept, init = self._attr(rg, "storage.keep_weights", "text"), self._attr(rg, "storage.keep_init", "int")
            if self._attr(rg, "storage.keep_pruned", "int") == 0:
                why = " (pruned by successive halving: not kept, storage.keep_pruned: false)"
            elif which == "init" and init == 0:
                why = " (not kept: storage.keep_init: false)"
            elif kept is not None and kept != "all" and (which == "final" or kept in ("final", "none")):
                why = " (not kept: storage.keep_weights: %s)" % kept
        g = self._group(rg, self.WEIGHTS[which], "run %d has no %s weights%s" % (run, which, why))
        names = self._names(g)
        ids = sorted(int(n[5:]) for n in names if re.fullmatch(r"layer(0|[1-9][0-9]{0,5})", n))
        if not names or len(ids) != len(names) or ids != list(range(len(ids))):
            self._fail(g.name, "does not hold layer0 to layer%d and nothing else (it holds %s)"
                       % (max(len(names) - 1, 0), ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "")
                          if names else "nothing"))
        checked, units = [], self.n_features
        for i in ids:
            layer = self._group(g, "layer%d" % i, "")
            W, b = self._child(layer, "W"), self._child(layer, "b")
            for name, d in (("W", W), ("b", b)):
                if d is None:
                    self._fail(layer.name, "lacks %s" % name)
            checked += [(W, self._dataset(W, "float", 2)), (b, self._dataset(b, "float", 1))]
            n_in, n_out = W.shape
            if n_in < 1 or n_out < 1:
                self._fail(W.name, "has %s: no weights" % _shape_text(W.shape))
            if units is not None and n_in != units:
                self._fail(W.name, "has %s: %d inputs, but %s" % (
                    _shape_text(W.shape), n_in, "the data has %d features" % units if i == 0
                    else "layer%d has %d units" % (i - 1, units)))
            if b.shape != (n_out,):
                self._fail(b.name, "has %s, not (%d) as W's %d units" % (_shape_text(b.shape), n_out, n_out))
            units = n_out
        if self.n_classes is not None and units != self.n_classes:
            self._fail(checked[-2][0].name, "has %d units, but the data has %d classes" % (units, self.n_classes))
        arrays = self._read_all(checked, g.name)
        return list(zip(arrays[0::2], arrays[1::2]))

    def aggregate(self, config):
        """{"mean": {curve: ...}, "std": {curve: ...}, "attrs": {...}} of a config point."""
        config = int(config)
        agg = self._child(self.file, "aggregate")
        if agg is not None and not isinstance(agg, h5py.Group):
            self._fail("/aggregate", "is not a group")
        g = None if agg is None else self._child(agg, "c%04d" % config)
        if g is None:
            raise NnlabError("%s: no config point %d" % (self.path, config))
        if not isinstance(g, h5py.Group):
            self._fail(g.name, "is not a group")
        mean = self._group(g, "mean", "config point %d has no mean curves (%s/mean)" % (config, g.name))
        std = self._group(g, "std", "config point %d has no std curves (%s/std)" % (config, g.name))
        names = list(self.CURVES) + [k for k in VAL_CURVES if k not in self.CURVES and self._child(mean, k) is not None]
        m = self._curves(mean, names)
        s = self._curves(std, names, len(m[names[0]]), "as mean/%s" % names[0])
        attrs = {}
        for key in self._attr_names(g):
            attrs[key] = self._attr(g, key)
        return {"mean": m, "std": s, "attrs": attrs}

    def _attr_names(self, obj):
        try:
            return list(obj.attrs.keys())
        except _READ_ERRORS as e:
            raise NnlabError("%s: cannot list the attributes of %s (%s)" % (self.path, obj.name, e)) from None

    def dataframe(self):
        try:
            import pandas as pd
        except ImportError:
            raise NnlabError("dataframe() needs pandas; res.summary is the same table as a numpy array") from None
        df = pd.DataFrame(self.summary)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(_text)
        return df


def load(path):
    """Open a results.h5 file (or an output folder holding one)."""
    return Results(path)


def parse_where(items):
    """["model.activation=relu", ...] -> {"model.activation": "relu"}."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise NnlabError("--where expects KEY=VALUE, got '%s'" % item)
        k, v = item.split("=", 1)
        out[k] = v
    return out


def varying(entries):
    """The swept keys whose values differ among these config entries."""
    if not entries:
        return []
    keys = list(entries[0]["values"])
    return [k for k in keys if len({e["values"][k] for e in entries}) > 1]


def label(entry, keys=None):
    """'activation=relu l2=0.001' for a config entry (all swept keys, or `keys`)."""
    keys = entry["values"].keys() if keys is None else keys
    return " ".join("%s=%s" % (k.split(".")[-1], entry["values"][k]) for k in keys) or "c%04d" % entry["config"]


def save_figure(fig, path, dpi=120):
    """Write a matplotlib figure to path, whole or not at all: to a temporary
    file beside it, then renamed. The format is path's extension (png
    without one, which is then added, as matplotlib does). Returns the path
    written. Raises NnlabError for an unknown format, NnlabWriteError when
    the file cannot be written."""
    ext = os.path.splitext(path)[1][1:].lower()
    if not ext:
        ext, path = "png", path + ".png"
    supported = fig.canvas.get_supported_filetypes()
    if ext not in supported:
        raise NnlabError("%s: unknown image format '%s'; use one of %s" % (path, ext, ", ".join(sorted(supported))))
    tmp = os.path.join(os.path.dirname(path) or ".", ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        fig.savefig(tmp, dpi=dpi, format=ext)
        os.replace(tmp, path)
    except OSError as e:
        raise NnlabWriteError("%s: cannot write: %s" % (path, e.strerror or e)) from None
    finally:  # whatever failed, no partial file stays behind
        if os.path.lexists(tmp):
            os.remove(tmp)
    return path


def run_main(main):
    """Run a script's main(), turning NnlabError into 'error: ...' and exit 2
    (bad input), NnlabWriteError into the same and exit 1 (as nnlab does).
    The message is one line (HDF5's texts quoted in it may hold newlines)."""
    try:
        main()
    except NnlabError as e:
        print("error: %s" % " ".join(str(e).split("\n")), file=sys.stderr)
        sys.exit(2)
    except NnlabWriteError as e:
        print("error: %s" % " ".join(str(e).split("\n")), file=sys.stderr)
        sys.exit(1)


# ---- several experiments as one: load_many ----------------------------------------------------------------------
#
# The plot scripts and notebooks read several results files as one table. The combined object is a Results built from the
# concatenated /summary arrays (so configs(), best_run(), where_rows() are
# Results' own), with run and config ids offset per experiment and curves,
# weights and aggregates read from the file each run came from.

# The sections of a resolved experiment whose settings can differ between experiments (and then become columns).
SETTING_SECTIONS = ("dataset", "model", "training", "search")
# Settings that say where, not what: never a column.
NOT_SETTINGS = ("dataset.path", "dataset.test_path", "search.space")


def _yaml_text(text):
    """A scalar or flow value of the resolved YAML as nnlab writes it: a trailing comment and quotes taken off."""
    text = text.strip()
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text[1:]
    return text.split(" #", 1)[0].strip()


def _flow_items(text):
    """[(key, value text)] of a flow mapping '{a: 1, b: [2, 3]}' (its top level)."""
    inner = text[1:text.rfind("}")] if "}" in text else text[1:]
    parts, cur, depth = [], "", 0
    for ch in inner:
        depth += (ch in "[{") - (ch in "]}")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [(k.strip(), v.strip()) for k, sep, v in (p.partition(":") for p in parts) if sep]


def resolved_settings(text):
    """{dotted key: value text} of a resolved experiment's settings (the
    sections SETTING_SECTIONS, nested flow mappings flattened:
    training.lr_schedule.type), as nnlab writes the resolved YAML: a section
    at column 0, its settings two spaces in. Swept settings are comments
    there ("# hidden: swept, see grid") and so are absent. A file without a
    search block has search.method grid."""
    out, section = {}, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            key, _, rest = line.partition(":")
            section = key.strip() if key.strip() in SETTING_SECTIONS else None
            if section and rest.strip().startswith("{"):
                out.update(("%s.%s" % (section, k), _yaml_text(v)) for k, v in _flow_items(rest.strip()))
            continue
        m = re.fullmatch(r"  ([A-Za-z_][A-Za-z0-9_]*):(.*)", line.rstrip())
        if section is None or not m:
            continue
        key, value = "%s.%s" % (section, m.group(1)), m.group(2).strip()
        if value.startswith("{"):
            out.update(("%s.%s" % (key, k), _yaml_text(v)) for k, v in _flow_items(value))
        elif value:
            out[key] = _yaml_text(value)
    if text.strip():
        out.setdefault("search.method", "grid")
    return {k: v for k, v in out.items() if k not in NOT_SETTINGS and not k.startswith(NOT_SETTINGS)}


def _column(texts):
    """A numpy column of setting values given as text: int64 when every one is
    an integer, float64 when every one is a number, else text."""
    try:
        ints = [int(t) for t in texts]
        return np.array(ints, dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(t) for t in texts], dtype=np.float64)
    except ValueError:
        return np.array([t.encode() for t in texts], dtype=object)


class ManyResults(Results):
    """Several results files as one Results (see load_many): summary has the
    columns `experiment`, `orig_run` and `orig_config`; run and config ids
    are offset to be unique. curves(), weights(), aggregate(), run_attr()
    and has_weights() read the file the run or config point came from."""

    def __init__(self, parts):
        self.parts = parts
        self._run_files, self._sizes, self._in_run = {}, {}, ""  # Results' own; every read goes to a part
        self.path = ", ".join(r.path for r in parts)
        metrics = {r.rank_metric for r in parts}
        if len(metrics) > 1:
            raise NnlabError("%s: these experiments are ranked on different metrics (%s): one has no validation "
                             "split or is a format 1 file; compare experiments that rank alike" % (
                                 self.path, ", ".join("%s: %s" % (r.path, r.rank_metric) for r in parts)))
        self.format_version = parts[0].format_version
        if any(r.format_version != self.format_version for r in parts):
            raise NnlabError("%s: format 1 and format 2 files cannot be combined" % self.path)
        self.METRICS = parts[0].METRICS
        kinds = {r.validation for r in parts}
        self.validation = "folds" if "folds" in kinds else kinds.pop()
        self.CURVES = CURVES + (VAL_CURVES if self.validation != "none" else ())
        self.names = self._experiment_names()
        self.name = " vs ".join(self.names)
        self.experiment = ""
        for key in ("n_features", "n_classes"):
            values = {getattr(r, key) for r in parts}
            setattr(self, key, values.pop() if len(values) == 1 else None)
        names = {tuple(r.class_names) if r.class_names else None for r in parts}
        self.class_names = list(names.pop() or []) or None if len(names) == 1 else None
        self.size = max(r.size for r in parts)
        self._combine()

    def _experiment_names(self):
        """Each part's name; equal names get their folder's name (and a number if that is equal too)."""
        names = [r.name or os.path.basename(os.path.dirname(os.path.abspath(r.path))) for r in self.parts]
        for i, r in enumerate(self.parts):
            if names.count(names[i]) > 1 or not names[i]:
                folder = os.path.basename(os.path.dirname(os.path.abspath(r.path)))
                names[i] = "%s (%s)" % (names[i], folder) if names[i] != folder else folder
        for i in range(len(names)):
            if names.count(names[i]) > 1:
                names[i] = "%s #%d" % (names[i], i + 1)
        return names

    def _combine(self):
        parts = self.parts
        settings = [resolved_settings(r.experiment) for r in parts]
        swept = []
        for r in parts:
            swept += [k for k in r.swept if k not in swept]
        # settings not swept anywhere, with a different value (or none) in some experiment
        differ = []
        for k in dict.fromkeys(k for s in settings for k in s):
            if k not in swept and len({s.get(k) for s in settings}) > 1:
                differ.append(k)
        self.differ = differ
        self.swept = ["experiment"] + swept + differ
        columns = {}   # name -> list of per-part arrays
        self._run_of, self._config_of = [], []  # global id -> (part, original id)
        run_off = config_off = 0
        for p, (r, s) in enumerate(zip(parts, settings)):
            n = len(r.summary)
            for name in r.summary.dtype.names:
                if name not in swept:
                    columns.setdefault(name, [None] * len(parts))[p] = r.summary[name]
            columns.setdefault("experiment", [None] * len(parts))[p] = np.array([self.names[p].encode()] * n,
                                                                               dtype=object)
            columns.setdefault("orig_run", [None] * len(parts))[p] = r.summary["run"].astype(np.int64)
            columns.setdefault("orig_config", [None] * len(parts))[p] = r.summary["config"].astype(np.int64)
            for k in swept + differ:
                if k in r.summary.dtype.names:
                    texts = [value_text(v, k) for v in r.summary[k]]
                else:
                    texts = [s.get(k, "")] * n  # not swept here: the experiment's one value ("" without one)
                columns.setdefault(k, [None] * len(parts))[p] = texts
            runs, configs = r.summary["run"].astype(np.int64), r.summary["config"].astype(np.int64)
            columns["run"][p] = runs + run_off
            columns["config"][p] = configs + config_off
            top_run = int(runs.max()) + 1 if n else 0
            top_config = int(configs.max()) + 1 if n else 0
            self._run_of += [(p, i) for i in range(top_run)]
            self._config_of += [(p, i) for i in range(top_config)]
            run_off += top_run
            config_off += top_config
        fields = []
        for name, pieces in columns.items():
            if name in swept + differ:
                arr = _column(sum(pieces, []))
            elif any(x is None for x in pieces):  # a column some parts lack (rung, fold): NaN, 0 or ""
                kind = next(x for x in pieces if x is not None)
                fill = {"f": np.nan, "i": 0, "u": 0}.get(kind.dtype.kind, b"")
                arr = np.concatenate([x if x is not None else np.full(len(r.summary), fill, dtype=kind.dtype)
                                      for x, r in zip(pieces, parts)])
            else:
                arr = np.concatenate([np.asarray(x, dtype=object) if x.dtype.kind in "OSU" else x for x in pieces])
            if arr.dtype.kind in "OSU":
                arr = np.array([_text(v).encode() for v in arr], dtype=object)
            fields.append((name, arr))
        dt = np.dtype([(name, h5py.string_dtype() if a.dtype == object else a.dtype) for name, a in fields])
        summary = np.empty(len(fields[0][1]), dtype=dt)
        for name, a in fields:
            summary[name] = a
        self.summary = summary

    def _part(self, of, i, what):
        """(Results, original id) of combined id i in the map `of` (_run_of or _config_of)."""
        i = int(i)
        if not 0 <= i < len(of):
            raise NnlabError("%s: no %s %d" % (self.path, what, i))
        p, orig = of[i]
        return self.parts[p], orig

    def part_run(self, run):
        """(Results, original run id) of a combined run id."""
        return self._part(self._run_of, run, "run")

    def part_config(self, config):
        """(Results, original config id) of a combined config id."""
        return self._part(self._config_of, config, "config point")

    def experiment_of(self, run):
        """The experiment name of a combined run id."""
        return self.names[self.parts.index(self.part_run(run)[0])]

    def run_group(self, run):
        r, orig = self.part_run(run)
        return r.run_group(orig)

    def run_attr(self, run, name, want="int"):
        r, orig = self.part_run(run)
        return r.run_attr(orig, name, want)

    def curves(self, run):
        r, orig = self.part_run(run)
        return r.curves(orig)

    def has_weights(self, run, which):
        r, orig = self.part_run(run)
        return r.has_weights(orig, which)

    def weights(self, run, which="final", init=False):
        r, orig = self.part_run(run)
        return r.weights(orig, which, init)

    def aggregate(self, config):
        r, orig = self.part_config(config)
        return r.aggregate(orig)

    def close(self):
        for r in self.parts:
            r.close()


def load_many(paths):
    """Several results files (or output folders) as one Results-like object
    (ManyResults): summary gains an `experiment` column (each file's name;
    equal names get their folder's) and `orig_run`/`orig_config` (the ids in
    its own file); `run` and `config` are offset per file so that no two
    collide; swept is `experiment`, the union of the files' swept settings,
    then every setting of the resolved experiments (dataset, model,
    training, search) whose value differs between them. One path: load(path).
    NnlabError when the files rank on different metrics (one has no
    validation split)."""
    paths = list(paths)
    if not paths:
        raise NnlabError("no results file given")
    if len(paths) == 1:
        return load(paths[0])
    parts = []
    try:
        for p in paths:
            parts.append(load(p))
        return ManyResults(parts)
    except BaseException:
        for r in parts:
            r.close()
        raise


# ---- what the plot scripts share: several inputs, provenance, --style paper -------------------------------------

STYLES = ("screen", "paper")
PAPER_WIDTH = 3.3  # inches: one column of a two-column paper
# --style paper: fonts embedded as TrueType (Type 42, not Type 3), 8-9 pt at the printed size, thin lines.
PAPER_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none", "font.size": 8, "axes.titlesize": 8,
            "axes.labelsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8,
            "figure.titlesize": 9, "lines.linewidth": 0.9, "lines.markersize": 3, "axes.linewidth": 0.5,
            "grid.linewidth": 0.4, "xtick.major.width": 0.5, "ytick.major.width": 0.5, "xtick.major.size": 2.5,
            "ytick.major.size": 2.5, "patch.linewidth": 0.5, "legend.frameon": False, "legend.handlelength": 1.5,
            "savefig.pad_inches": 0.01}


def add_inputs(parser, output_required=True, output_default=None):
    """The arguments every plot script takes: RESULTS... (files or folders),
    -o/--output and --style."""
    parser.add_argument("results", nargs="+",
                        help="results.h5 (or the output folder holding it); several are drawn together (load_many)")
    parser.add_argument("-o", "--output", required=output_required, default=output_default,
                        help="image file: .png, .pdf or .svg (--style paper without an extension: .pdf)")
    parser.add_argument("--style", choices=STYLES, default="screen",
                        help="paper: a vector PDF one column wide (%.1f in), fonts embedded, 8-9 pt, thin lines"
                             % PAPER_WIDTH)


def output_path(path, style):
    """-o as given; in the paper style a name without an extension gets .pdf."""
    if style == "paper" and not os.path.splitext(path)[1]:
        return path + ".pdf"
    return path


def pyplot(style="screen"):
    """matplotlib.pyplot on the Agg backend, with the style's settings."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcdefaults()
    if style == "paper":
        plt.rcParams.update(PAPER_RC)
    return plt


def figsize(style, width, height):
    """(width, height) in inches: as given on screen; in the paper style
    PAPER_WIDTH wide, the height scaled with it (at least 1.6 in)."""
    if style != "paper":
        return width, height
    return PAPER_WIDTH, max(1.6, height * PAPER_WIDTH / width)


def overrides(res):
    """[(experiment name, [KEY=VALUE texts])] of the command-line overrides
    that made the file(s), as each records them in its root attribute
    `overrides` (nnlab writes one string, an override per line; a list of
    strings, or one string of them separated by spaces, are read too); files
    that record none are left out."""
    parts = getattr(res, "parts", [res])
    names = getattr(res, "names", [res.name])
    out = []
    for r, name in zip(parts, names):
        v = r._attr(r.file, "overrides")
        if v is None:
            continue
        texts = [_text(x) for x in np.asarray(v).reshape(-1)]
        if len(texts) == 1:
            texts = texts[0].splitlines() if "\n" in texts[0] else texts[0].split()
        if texts:
            out.append((name, texts))
    return out


def provenance(res, where=None, extra=()):
    """The line every title ends with: the experiment(s), the --where filters
    and the command-line overrides that produced the file(s)."""
    names = getattr(res, "names", None) or [res.name or os.path.basename(os.path.dirname(os.path.abspath(res.path)))]
    text = " vs ".join(names)
    if where:
        text += "; where " + ", ".join("%s=%s" % kv for kv in where.items())
    ov = overrides(res)
    if len(names) == 1 and ov:
        text += "; overrides " + " ".join(ov[0][1])
    elif ov:
        text += "; overrides " + ", ".join("%s: %s" % (name, " ".join(t)) for name, t in ov)
    return "; ".join([text] + [e for e in extra if e])


def wrap(text, style, width=None):
    """Text broken into lines that fit the figure (characters per line: about
    the figure's width in points over 4.4 for 8-9 pt text)."""
    import textwrap
    chars = int((width or (PAPER_WIDTH if style == "paper" else 9.0)) * 72 / (5.0 if style == "paper" else 6.0))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def save_styled(fig, path, style):
    """save_figure for the scripts: the paper style as a vector file at
    PAPER_WIDTH (never a cropped page), the screen style at 120 dpi."""
    return save_figure(fig, output_path(path, style), dpi=300 if style == "paper" else 120)


def label_keys(res, entries):
    """The keys that tell these config entries apart in a legend: varying(),
    less the settings that differ between experiments when the experiment's
    name already says which (load_many's res.differ)."""
    keys = varying(entries)
    if "experiment" in keys:
        keys = [k for k in keys if k not in getattr(res, "differ", ())]
    return keys


def _short(text):
    """A value's text with a sampled real (0.1063609726) to 3 significant digits."""
    try:
        v = float(text)
    except ValueError:
        return text
    return text if v.is_integer() or len(text) <= 6 else "%.3g" % v


def entry_label(entry, keys):
    """label() with the experiment's name first (without 'experiment='), sampled reals to 3 significant digits."""
    rest = [k for k in keys if k != "experiment"]
    text = " ".join("%s=%s" % (k.split(".")[-1], _short(entry["values"][k])) for k in rest)
    if "experiment" in keys:
        return "%s: %s" % (entry["values"]["experiment"], text) if text else entry["values"]["experiment"]
    return text or label(entry, keys)
