"""The numbers behind every interval, checked against scipy and by hand (issue #23).

The primitives of :mod:`fer_avalanche.stats` (bootstrap, percentile interval, Student's t, Holm,
Wilson, the interval over units, the Pareto front) and the one-unit and over-units intervals of an
estimate, on both sides of their boundaries: 0 and ``n`` right, one and two units, one shared test
set or one each, even and odd degrees of freedom. Pure numpy, milliseconds each.
"""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from fer_avalanche.errors import ConfigError
from fer_avalanche.stats import (
    LEVEL,
    _cell_ci,
    _Estimate,
    _floor_sd,
    _units_ci,
    _units_p,
    as_float,
    bootstrap_accuracies,
    holm,
    pareto_front,
    percentile_interval,
    t_pvalue,
    t_quantile,
    units_interval,
    wilson_interval,
)

Z = 1.959963984540054
#: The first three draws of `_rng(0, "unit", 0, None, "src")` (numpy 2, PCG64), pinned.
PINNED_DRAWS = [388722920, 100949963, 206377192]


# ------------------------------------------------------------------------------ percentile interval
def test_percentile_interval_is_the_central_95_percent_and_other_levels():
    draws = np.arange(1001) / 1000
    assert percentile_interval(draws) == pytest.approx([0.025, 0.975])
    assert percentile_interval(draws, level=0.5) == pytest.approx([0.25, 0.75])
    assert LEVEL == 0.95


def test_percentile_interval_ignores_non_finite_draws_and_is_none_without_finite_ones():
    assert percentile_interval([np.nan, 0.0, 1.0, np.inf, -np.inf], level=0.0) == [0.5, 0.5]
    assert percentile_interval([np.nan, np.inf]) is None
    assert percentile_interval([]) is None


# ------------------------------------------------------------------------------ bootstrap
def test_bootstrap_draws_resample_the_images_with_replacement():
    correct = np.array([[1, 0, 0, 0]])
    draws = bootstrap_accuracies(correct, n_boot=4000, seed=1)[:, 0]
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    # the number of draws of image 0 is Binomial(4, 1/4): P(0) = 0.316, mean 1/4
    assert draws.mean() == pytest.approx(0.25, abs=0.01)
    assert (draws == 0).mean() == pytest.approx(0.75**4, abs=0.02)


def test_models_are_scored_on_the_same_resampled_images():
    correct = np.array([[1, 1, 0, 0, 1], [1, 1, 0, 0, 1], [0, 0, 1, 1, 0]])
    draws = bootstrap_accuracies(correct, n_boot=300, seed=2)
    assert np.array_equal(draws[:, 0], draws[:, 1])
    assert np.allclose(draws[:, 0] + draws[:, 2], 1.0)  # complementary answers on the same draw


def test_a_seed_and_a_generator_give_the_same_draws():
    correct = np.array([[1, 0, 1, 1, 0, 0, 1]])
    by_seed = bootstrap_accuracies(correct, n_boot=50, seed=7)
    by_generator = bootstrap_accuracies(correct, n_boot=50, seed=np.random.default_rng(7))
    assert np.array_equal(by_seed, by_generator)
    assert not np.array_equal(by_seed, bootstrap_accuracies(correct, n_boot=50, seed=8))
    assert bootstrap_accuracies(correct, n_boot=1).shape == (1, 1)


@pytest.mark.parametrize(
    ("correct", "n_boot", "match"),
    [
        (np.zeros((2, 0)), 10, r"^bootstrap_accuracies: expected \[models, images\] with images > 0, got \("),
        (np.zeros(3), 10, r"got \(3,\)$"),
        (np.zeros((1, 3)), 0, r"^bootstrap_accuracies: n_boot must be >= 1, got 0$"),
    ],
)  # fmt: skip
def test_bootstrap_refuses_bad_input_naming_it(correct, n_boot, match):
    with pytest.raises(ConfigError, match=match):
        bootstrap_accuracies(correct, n_boot=n_boot)


# ------------------------------------------------------------------------------ Student's t
@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 7, 10, 11, 29])
@pytest.mark.parametrize("q", [0.6, 0.9, 0.975, 0.995])
def test_t_quantile_is_scipys_for_odd_and_even_degrees_of_freedom(q, df):
    assert t_quantile(q, df) == pytest.approx(scipy_stats.t.ppf(q, df), rel=1e-9)


def test_t_quantile_of_infinite_degrees_of_freedom_is_the_normal():
    assert t_quantile(0.975, math.inf) == pytest.approx(Z, rel=1e-12)
    assert t_quantile(0.8, math.inf) == pytest.approx(scipy_stats.norm.ppf(0.8), rel=1e-9)


@pytest.mark.parametrize("q", [0.5, 1.0, 0.2])
def test_t_quantile_refuses_a_probability_outside_the_upper_half(q):
    with pytest.raises(ConfigError, match=rf"^t_quantile: q must be in \(0.5, 1\), got {q}$"):
        t_quantile(q, 3)


@pytest.mark.parametrize("df", [0, 2.5, -1])
def test_degrees_of_freedom_must_be_a_positive_integer(df):
    with pytest.raises(ConfigError, match=rf"degrees of freedom must be a positive integer, got {df}$"):
        t_pvalue(1.0, df)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 8, 9, math.inf])
@pytest.mark.parametrize("t", [0.3, -1.7, 2.5, 6.0])
def test_t_pvalue_is_scipys_two_sided_p_value(t, df):
    expected = 2 * (scipy_stats.norm.sf(abs(t)) if math.isinf(df) else scipy_stats.t.sf(abs(t), df))
    assert t_pvalue(t, df) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_t_pvalue_at_the_edges():
    assert t_pvalue(0.0, 3) == 1.0
    assert t_pvalue(math.inf, 3) == 0.0 and t_pvalue(-math.inf, 3) == 0.0
    assert math.isnan(t_pvalue(math.nan, 3))
    assert 0.0 <= t_pvalue(1e6, 2) < 1e-10  # never negative from rounding


# ------------------------------------------------------------------------------ Holm
def test_holm_multiplies_by_the_number_left_and_keeps_the_order():
    assert holm([0.04, 0.01, 0.02, 0.3]) == pytest.approx([0.08, 0.04, 0.06, 0.3])
    assert holm([0.2, 0.2]) == pytest.approx([0.4, 0.4])
    assert holm([0.001]) == [0.001]


def test_holm_skips_unknown_p_values_and_does_not_count_them():
    assert holm([None, 0.01, math.nan, 0.02]) == [None, pytest.approx(0.02), None, pytest.approx(0.02)]
    assert holm([0.6, 0.7]) == [1.0, 1.0]  # capped at 1


# ------------------------------------------------------------------------------ Wilson
@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (1, 1), (50, 67)])
def test_wilson_interval_is_the_score_interval(k, n):
    p = k / n
    center = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    assert wilson_interval(k, n) == pytest.approx([max(0.0, center - half), min(1.0, center + half)])
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo < hi <= 1.0


def test_wilson_interval_at_another_level_and_of_no_trial():
    lo, hi = wilson_interval(5, 10, level=0.5)
    z = scipy_stats.norm.ppf(0.75)
    assert hi - lo == pytest.approx(2 * z / (1 + z * z / 10) * math.sqrt(0.025 + z * z / 400))
    with pytest.raises(ConfigError, match=r"^wilson_interval: n must be >= 1, got 0$"):
        wilson_interval(0, 0)


# ------------------------------------------------------------------------------ over units
def test_two_units_use_one_degree_of_freedom():
    lo, hi = units_interval([0.4, 0.6], [0.0, 0.0])
    half = scipy_stats.t.ppf(0.975, 1) * math.sqrt(0.02 / 2)
    assert (lo, hi) == pytest.approx((0.5 - half, 0.5 + half))
    assert isinstance(lo, float)


def test_a_single_unit_is_refused():
    with pytest.raises(ConfigError, match=r"^units_interval: needs at least 2 units, got 1$"):
        units_interval([0.5], [0.01])


def test_units_interval_is_vectorised_over_leading_axes_and_broadcasts_the_variance():
    values = np.array([[0.5, 0.6, 0.7], [0.2, 0.2, 0.2]])
    lo, hi = units_interval(values, 0.0001, level=0.9)
    t = scipy_stats.t.ppf(0.95, 2)
    assert lo.shape == (2,)
    assert hi[0] - lo[0] == pytest.approx(2 * t * math.sqrt((0.01 + 0.0001) / 3))
    assert hi[1] - lo[1] == pytest.approx(2 * t * math.sqrt(0.0001 / 3))


def test_on_their_own_test_sets_the_larger_of_the_two_variances_counts():
    # s^2 = 0.01 > v = 0.0004: the units' spread alone; s^2 = 0 < v: the images' alone
    lo, hi = units_interval([0.5, 0.6, 0.7], [0.0004] * 3, shared=False)
    assert hi - lo == pytest.approx(2 * scipy_stats.t.ppf(0.975, 2) * math.sqrt(0.01 / 3))


# ------------------------------------------------------------------------------ Pareto
def test_a_point_better_on_one_axis_and_equal_on_the_other_dominates():
    assert pareto_front([(0.5, 0.9), (0.6, 0.9), (0.6, 0.8)]) == [False, True, False]


def test_non_finite_points_are_never_on_the_front_and_dominate_nothing():
    assert pareto_front([(math.nan, 1.0), (0.5, 0.5), (math.inf, 2.0)]) == [False, True, False]
    assert pareto_front([(math.nan, math.nan)]) == [False]
    assert pareto_front([]) == []


def test_reference_points_dominate_without_being_reported():
    assert pareto_front([(0.2, 0.9), (0.4, 0.5)], reference=[(0.3, 1.0)]) == [False, True]
    assert pareto_front([(0.3, 1.0)], reference=[(0.3, 1.0)]) == [True]  # a tie is not beaten


def test_as_float_reads_numbers_and_nothing_else():
    assert as_float(3) == 3.0 and as_float("0.25") == 0.25
    assert all(math.isnan(as_float(v)) for v in (None, True, False, "n/a", [1]))


# ------------------------------------------------------------------------------ one estimate
def _acc(k, n, draws=None, test_set=("t", 1)):
    draws = np.full(50, k / n) if draws is None else np.asarray(draws, dtype=float)
    return _Estimate(k / n, draws, n, "acc", _floor_sd(n), test_set)


def test_an_accuracy_whose_draws_collapse_gets_the_wilson_interval():
    assert _cell_ci(_acc(20, 20)) == pytest.approx(wilson_interval(20, 20))
    assert _cell_ci(_acc(0, 20)) == pytest.approx(wilson_interval(0, 20))


def test_an_accuracy_whose_draws_are_wider_keeps_their_interval():
    draws = np.linspace(0.2, 0.8, 1001)
    assert _cell_ci(_acc(10, 20, draws)) == pytest.approx([0.215, 0.785])


def test_a_difference_that_collapses_gets_the_least_width_n_images_allow():
    a, b = _acc(15, 40), _acc(10, 40)
    diff = a - b
    assert (diff.kind, diff.n, diff.point) == ("diff", 40, pytest.approx(0.125))
    half = Z * Z / (40 + Z * Z)
    assert _cell_ci(diff) == pytest.approx([0.125 - half, 0.125 + half])


def test_a_difference_of_sizes_takes_the_smaller_and_the_wider_floor():
    diff = _acc(15, 40) - _acc(5, 20)
    assert diff.n == 20 and diff.floor == pytest.approx(_floor_sd(20))


def test_intervals_are_clipped_to_what_the_number_can_be():
    assert _cell_ci(_acc(20, 20, np.linspace(0.9, 1.3, 101)))[1] == 1.0
    diff = _Estimate(0.99, np.full(10, 0.99), 5, "diff", 0.3, None)
    assert _cell_ci(diff)[1] == 1.0 and _cell_ci(diff)[0] == pytest.approx(0.99 - Z * 0.3)
    ratio = _Estimate(0.05, np.full(10, 0.05), 5, "ratio", 0.3, None)
    assert _cell_ci(ratio)[0] == 0.0


def test_an_unknown_estimate_has_no_interval():
    assert _cell_ci(None) is None
    assert _cell_ci(_Estimate(math.nan, np.zeros(3), 5, "acc", 0.1)) is None
    assert _cell_ci(_Estimate(0.5, np.full(3, np.nan), 5, "acc", 0.1)) is None


def test_the_image_variance_is_the_draws_floored_by_add_one_smoothing():
    spread = _acc(10, 20, np.linspace(0.0, 1.0, 11))
    assert spread.image_variance() == pytest.approx(np.linspace(0.0, 1.0, 11).var(ddof=1))
    assert _acc(20, 20).image_variance() == pytest.approx((21 / 22) * (1 / 22) / 20)
    # a difference of collapsed draws: one discordant image in n
    diff = _acc(15, 40) - _acc(10, 40)
    assert diff.image_variance() == pytest.approx((1 / 40) ** 2)
    one_draw = _acc(5, 10, [0.9])
    assert one_draw.image_variance() == pytest.approx((6 / 12) * (6 / 12) / 10)


# ------------------------------------------------------------------------------ over units
def test_one_unit_is_its_own_interval_several_the_t_interval():
    one = _acc(30, 60, np.linspace(0.3, 0.7, 1001))
    assert _units_ci([one]) == _cell_ci(one)
    three = [_acc(k, 100, np.full(20, k / 100), test_set=("t", k)) for k in (50, 60, 70)]
    lo, hi = _units_ci(three)
    v = [e.image_variance() for e in three]
    assert (lo, hi) == pytest.approx(units_interval([0.5, 0.6, 0.7], v, shared=False))
    shared = [_acc(k, 100) for k in (50, 60, 70)]
    assert _units_ci(shared) == pytest.approx(list(units_interval([0.5, 0.6, 0.7], v, shared=True)))


def test_over_units_an_unknown_or_missing_unit_gives_no_interval():
    assert _units_ci([]) is None
    assert _units_ci([_acc(5, 10), None]) is None
    assert _units_ci([_acc(5, 10), _Estimate(math.nan, np.zeros(3), 10, "acc", 0.1)]) is None
    assert _units_p([]) is None and _units_p([_acc(5, 10), None]) is None


def test_the_p_value_of_no_difference_over_units_and_for_one_unit():
    diffs = [_acc(k, 100) - _acc(50, 100) for k in (60, 62, 64)]
    points = np.array([0.10, 0.12, 0.14])
    v = np.mean([d.image_variance() for d in diffs])
    t = points.mean() / math.sqrt((points.var(ddof=1) + v) / 3)
    assert _units_p(diffs) == pytest.approx(t_pvalue(t, 2))
    one = _acc(60, 100) - _acc(50, 100)
    assert _units_p([one]) == pytest.approx(t_pvalue(0.1 / math.sqrt(one.image_variance()), math.inf))


# ------------------------------------------------------------------------------ boundaries the mutants found
def test_a_collapsed_accuracy_inside_the_range_gets_wilson_not_a_symmetric_floor():
    assert _cell_ci(_acc(10, 20)) == pytest.approx(wilson_interval(10, 20))


def test_the_level_reaches_one_unit_and_several_units_intervals():
    one = _acc(10, 20)
    assert _cell_ci(one, level=0.5) == pytest.approx(wilson_interval(10, 20, level=0.5))
    assert _units_ci([one], level=0.5) == _cell_ci(one, level=0.5)
    three = [_acc(k, 100) for k in (50, 60, 70)]
    v = [e.image_variance() for e in three]
    assert _units_ci(three, level=0.5) == pytest.approx(list(units_interval([0.5, 0.6, 0.7], v, level=0.5)))


def test_draws_are_pinned_by_the_seed_and_the_names_and_differ_between_names():
    from fer_avalanche.stats import _rng

    a = _rng(0, "unit", 0, None, "src").integers(0, 2**31, size=3).tolist()
    assert a == _rng(0, "unit", 0, None, "src").integers(0, 2**31, size=3).tolist()
    assert a != _rng(0, "unit", 0, None, "tgt").integers(0, 2**31, size=3).tolist()
    # pinned: a change to how names are hashed changes every published interval
    assert a == PINNED_DRAWS


def test_the_defaults_are_1000_draws_seeded_0():
    correct = np.array([[1, 0, 1]])
    draws = bootstrap_accuracies(correct)
    assert draws.shape == (1000, 1) and np.array_equal(draws, bootstrap_accuracies(correct, 1000, 0))


def test_two_units_use_the_t_with_one_degree_of_freedom_for_the_p_value():
    diffs = [_acc(k, 100) - _acc(50, 100) for k in (60, 64)]
    points = np.array([0.10, 0.14])
    v = np.mean([d.image_variance() for d in diffs])
    t = points.mean() / math.sqrt((points.var(ddof=1) + v) / 2)
    assert _units_p(diffs) == pytest.approx(t_pvalue(t, 1))


def test_units_on_their_own_test_sets_take_the_larger_variance_for_the_p_value():
    diffs = [_acc(k, 100, test_set=("t", k)) - _acc(50, 100, test_set=("t", k)) for k in (60, 62, 70)]
    points = np.array([0.10, 0.12, 0.20])
    v = np.mean([d.image_variance() for d in diffs])
    t = points.mean() / math.sqrt(max(points.var(ddof=1), v) / 3)
    assert _units_p(diffs) == pytest.approx(t_pvalue(t, 2))


def test_a_difference_with_no_variance_at_all_is_certain():
    zero = _Estimate(0.0, np.zeros(4), 0, "diff", 0.0)
    assert _units_p([zero]) == 1.0
    assert _units_p([_Estimate(0.2, np.full(4, 0.2), 0, "diff", 0.0)]) == 0.0


def test_the_image_variance_of_two_draws_and_of_tiny_test_sets():
    assert _acc(1, 2, [0.0, 1.0]).image_variance() == pytest.approx(0.5)
    assert _Estimate(0.0, np.zeros(1), 0, "diff", 0.3).image_variance() == pytest.approx(0.09)
    one = _Estimate(0.0, np.zeros(1), 1, "diff", _floor_sd(1, 2.0))
    assert one.image_variance() == pytest.approx(4.0)


def test_a_difference_keeps_its_test_set_and_a_ratio_difference_its_kind():
    a, b = _acc(15, 40, test_set=("t", 7)), _acc(10, 40, test_set=("t", 7))
    assert (a - b).test_set == ("t", 7)
    ratio = _Estimate(1.2, np.full(5, 1.2), 40, "ratio", 0.1, ("s", 1))
    assert (ratio - _Estimate(1.0, np.full(5, 1.0), 40, "ratio", 0.1, ("s", 1))).kind == "ratio-diff"


def test_units_of_an_unknown_test_set_count_as_shared():
    from fer_avalanche.stats import _scope, _shared

    assert _shared(
        [_acc(5, 10, test_set=None), _acc(5, 10, test_set=("t", 1)), _acc(5, 10, test_set=("t", 1))]
    )
    assert not _shared([_acc(5, 10, test_set=("t", 1)), _acc(5, 10, test_set=("t", 2))])
    assert (_scope(1), _scope(2)) == ("images", "units")


def test_the_mean_of_no_known_value_is_none():
    from fer_avalanche.stats import _mean

    assert _mean([None, "n/a"]) is None and _mean([1, None, 2]) == 1.5


def test_units_interval_over_rows_uses_each_rows_own_mean_and_variance():
    values = np.array([[0.5, 0.6, 0.7], [0.2, 0.2, 0.2]])
    variances = np.array([[0.0, 0.0, 0.0], [0.0003, 0.0003, 0.0003]])
    lo, hi = units_interval(values, variances)
    t = scipy_stats.t.ppf(0.975, 2)
    assert (lo + hi) / 2 == pytest.approx([0.6, 0.2])
    assert hi - lo == pytest.approx([2 * t * math.sqrt(0.01 / 3), 2 * t * math.sqrt(0.0003 / 3)])


def test_the_level_reaches_the_percentile_interval_of_spread_draws():
    spread = _acc(10, 20, np.linspace(0.2, 0.8, 1001))
    assert _cell_ci(spread, level=0.5) == pytest.approx([0.35, 0.65])


def test_two_units_on_their_own_test_sets_take_the_larger_variance_for_the_p_value():
    diffs = [_acc(k, 100, test_set=("t", k)) - _acc(50, 100, test_set=("t", k)) for k in (60, 70)]
    points = np.array([0.10, 0.20])
    v = np.mean([d.image_variance() for d in diffs])
    t = points.mean() / math.sqrt(max(points.var(ddof=1), v) / 2)
    assert _units_p(diffs) == pytest.approx(t_pvalue(t, 1))
