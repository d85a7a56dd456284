"""WiSE-FT: a weight-space ensemble of the baseline and the adapted network, chosen on validation.

Wortsman et al. (CVPR 2022): train once (here `retrain`, any named strategy as `base`), then use
theta(a) = (1 - a) * theta_baseline + a * theta_adapted. Every a in 0, 0.1, ..., 1 is evaluated on the
validation splits (never a test set); the largest a that keeps 95% of the baseline's source-validation
accuracy is kept. Interpolating costs evaluations, not training steps.

    python examples/wise_ft.py               # synthetic wild -> lab-a, about a minute on a CPU
    python examples/wise_ft.py --quick       # tiny sizes: a few seconds, a smoke test
    python examples/wise_ft.py --source-root ~/data/fer2013.csv --target-root ~/data/jaffe
"""

from common import parse_args, prepare

args = parse_args(__doc__)
ex = prepare(args)  # synthetic or real data, and the source-trained baseline
strategy = ex.strategy("wise-ft", base="retrain", val_sets=ex.val_sets)
strategy.train(ex.target_exp, eval_streams=[])
row = strategy.fer_row_extras({})
for point in row["alpha_curve"]:
    accs = "  ".join(f"{name} {acc:.3f}" for name, acc in point["val"].items())
    print(f"a = {point['alpha']:.1f}   validation: {accs}")
print(f"chosen a = {row['alpha']} (rule {row['wise_rule']}, mi_floor {row['mi_floor']})")
ex.report(strategy, "wise-ft")
