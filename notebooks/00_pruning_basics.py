# %% [markdown] tags=[]
# # 00 · Pruning basics: sparsity, compression, FLOPs and the magnitude baselines
#
# This notebook opens the suite. It sets up the vocabulary the four paper notebooks share and builds the
# baselines they are measured against, on LeNet-300-100 and MNIST:
#
# | notebook | paper |
# |---|---|
# | `00_pruning_basics` (this one) | Han et al. 2015, *Learning both Weights and Connections* (the baseline) |
# | `01_gumbel_softmax_pruning` | Zhang et al. 2023, *Neural Network Pruning by Gradient Descent* |
# | `02_differentiable_thresholds` | Manessi et al. 2018, *Automated Pruning for Deep Neural Network Compression* |
# | `03_neural_network_relief` | Dekhovich et al. 2024, *Neural network relief* |
# | `04_neuron_pruning` | Wolfe et al. 2017, *The Incredible Shrinking Neural Network* |
# | `05_head_to_head` | all of the above on equal terms |
#
# **Run it** with `make reproduce NOTEBOOK=00` (profile `quick`, a few minutes on a laptop CPU) or from Jupyter.
# The `profile` parameter picks the schedule: `smoke` proves the code runs (CI, seconds, numbers meaningless),
# `quick` is the default, `paper` runs the longest schedule.
#
# What you will see: (1) what sparsity, compression and FLOPs mean, on a hand-built mask; (2) one dense
# LeNet-300-100, trained once and cached; (3) one-shot pruning without retraining, three ways; (4) Han et al.'s
# iterative prune-and-retrain down to about 8% of the weights, next to their published Table 2; (5) what pruning
# does to the weights; (6) the paper-versus-reproduction table, with 95% intervals.

# %% tags=["parameters"]
import os

profile = os.environ.get("PRUNING_PROFILE", "quick")  # smoke | quick | paper
seed = 0
device = "auto"  # auto | cpu | cuda | mps
oneshot_drop_pp = 1.0  # one-shot pruning "survives" a compression while validation accuracy is within this of dense
solutions = os.environ.get("PRUNING_SOLUTIONS") == "1"  # True: fill every exercise with its reference answer

# %% tags=["injected-parameters", "nbval-skip"]
# Parameters
profile = "quick"


# %% tags=[]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import pruning_lib as pl

PROFILES = {  # every schedule of this notebook; the dense model's and Han's schedules live in the library
    "smoke": dict(compressions=[2, 8, 64], han=pl.methods.han.schedule("lenet300", "smoke")),
    "quick": dict(compressions=[2, 4, 8, 16, 32, 64], han=pl.methods.han.schedule("lenet300", "quick")),
    "paper": dict(compressions=[2, 4, 8, 16, 32, 64], han=pl.methods.han.schedule("lenet300", "paper")),
}
pl.checks.check_range("oneshot_drop_pp", oneshot_drop_pp, 0.0, 100.0)
pl.checks.check_bool("solutions", solutions)
run = pl.setup_run("basics", profile, PROFILES, seed=seed, device=device,
                   params={"oneshot_drop_pp": oneshot_drop_pp, "solutions": solutions})
S = run.settings
pd.set_option("display.precision", 4)
S

# %% [markdown] tags=[]
# ## 1 · Vocabulary, on a mask you can count by hand
#
# A pruned network is a dense network whose weight tensors are multiplied by 0/1 **masks**. The suite stores
# masks the way `torch.nn.utils.prune` does: a pruned layer keeps `weight_orig` (trained) and `weight_mask` (a
# buffer), and recomputes `weight = weight_orig * weight_mask` before every forward pass. The gradient of a
# masked entry is therefore zero, and a mask stays applied through any amount of retraining.
#
# * **Remaining** (density) = nonzero / total; **sparsity** = 1 − density.
# * **Compression ratio** = total / nonzero. It is reported in two conventions: **weights only** (the prunable
#   Linear and Conv2d weight tensors) and **all parameters** (weights + biases, which are never pruned here).
#   Han et al.'s Table 1 counts all parameters; their per-layer Tables 2 and 3 count weights only.
# * **FLOPs** of a layer = 2 × weights × output positions per example (a multiply and an add per weight, as in
#   Han's tables). *Effective* FLOPs count only nonzero weights: a theoretical figure that real hardware only
#   approaches with sparse kernels or with whole neurons removed (notebook 05 measures it).
#
# Here is one Linear layer with 4 inputs and 3 outputs, keeping 3 of its 12 weights:

# %% tags=[]
# NBVAL_CHECK_OUTPUT
layer = torch.nn.Linear(4, 3)
with torch.no_grad():
    layer.weight.fill_(1.0), layer.bias.fill_(1.0)
keep = torch.tensor([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
toy = pl.masks.apply_masks(torch.nn.Sequential(layer), {"0": keep})
c = pl.metrics.counts(toy)
print(f"weights {c['weights_nonzero']}/{c['weights']} nonzero -> compression {c['compression_weights']:.1f}x")
print(f"all parameters {c['params_nonzero']}/{c['params']} nonzero -> compression {c['compression_params']:.1f}x")
print("effective weight matrix:\n", layer.weight.detach().int().numpy())
pl.metrics.layer_table(toy, (4,))[["layer", "weights", "nonzero", "remaining_pct", "flops_dense", "flops_effective"]]

# %% [markdown] tags=[]
# LeNet-300-100 is three such layers, 784 → 300 → 100 → 10 with ReLU. Its 266,610 parameters are 266,200
# weights and 410 biases; a dense forward pass costs 532,400 FLOPs per image, almost all of it in `fc1`:

# %% tags=[]
# NBVAL_CHECK_OUTPUT
pl.metrics.layer_table(pl.models.LeNet300100())

# %% [markdown] tags=[]
# ## 2 · The dense reference
#
# Every notebook starts from the same dense model per (network, profile, seed): `pl.dense.reference_model`
# trains it once with the recipe below on the project's MNIST split (55,000 training images, 5,000 held out for
# validation, the official 10,000 for test; pixels scaled to [0, 1]) and caches it under `cache/`, keyed by a
# hash of that recipe. A rerun loads it in milliseconds.

# %% tags=[]
print("recipe:", pl.dense.DENSE_RECIPE, "| epochs:", pl.dense.DENSE_EPOCHS["lenet300"][profile])
splits = pl.dense.profile_data(profile)
print("data:", splits.sizes())
with run.timed("dense"):
    dense, dense_info = pl.dense.reference_model("lenet300", profile, seed, run.device)
run.cache_hits["dense"] = dense_info["cache_hit"]
print(f"dense LeNet-300-100: test accuracy {dense_info['test_acc']:.2%}, validation {dense_info['val_acc']:.2%}, "
      f"{'loaded from cache' if dense_info['cache_hit'] else 'trained'} "
      f"({dense_info['train_seconds']:.0f} s of training, {dense_info['epoch_seconds']:.1f} s per epoch)")

# %% [markdown] tags=[]
# ## 3 · One-shot pruning without retraining
#
# The simplest pruning removes weights once and does not retrain. Three rules choose what to remove:
#
# * **global magnitude**: one threshold over all layers together; keeps the largest |w| wherever they are;
# * **layerwise magnitude**: the same fraction of every layer, keeping each layer's largest |w|;
# * **random**: the same fraction of every layer, chosen uniformly at random (the floor any method must beat).
#
# We sweep the compression ratio from 2× to 64× (weights only) and measure validation and test accuracy.

# %% [markdown] tags=[]
# ### Exercise 1 · Layerwise magnitude masks (coding, about 10 minutes)
#
# Write `layerwise_masks(model, fraction)`: for every `nn.Linear` of `model`, a bool mask of the weight's shape
# that drops the `fraction` of its weights with the smallest |w| and keeps the rest. The check below compares
# your masks with PyTorch's own `torch.nn.utils.prune.l1_unstructured` on a fresh LeNet-300-100, at two
# fractions. Hint: `torch.topk(..., largest=False)` finds the smallest values of a flattened tensor.

# %% tags=[]
def layerwise_masks(model, fraction):
    """{layer name: bool mask}: in every nn.Linear, drop the `fraction` of weights with the smallest |w|."""
    raise NotImplementedError  # your code here


if solutions:
    layerwise_masks = pl.exercises.solution("basics", "layerwise_masks")

# %% tags=["exercise"]
pl.exercises.basics.check_layerwise_masks(layerwise_masks)

# %% tags=[]
with run.timed("oneshot"):
    oneshot = pl.magnitude.oneshot_sweep(dense, S["compressions"], splits.test, val=splits.val)
oneshot.pivot(index="target_compression", columns="method", values="test_acc")

# %% tags=[]
fig = pl.plots.basics.oneshot_figure(oneshot, dense_info["test_acc"], profile)
run.save_figure(fig, "oneshot_curves")
plt.show()


# %% tags=[]
def survives(df, drop_pp=oneshot_drop_pp):
    """Largest compression at which validation accuracy stays within drop_pp points of dense (chosen on val)."""
    ok = df[100 * df["val_acc"] >= 100 * dense_info["val_acc"] - drop_pp]
    return float(ok["compression_weights"].max()) if len(ok) else None


oneshot_within_1pp = {m: survives(df) for m, df in oneshot.groupby("method", sort=False)}
print(f"largest compression within {oneshot_drop_pp:g} point(s) of dense on validation, without retraining:",
      {m: (f"{v:.0f}x" if v else "none") for m, v in oneshot_within_1pp.items()})

# %% [markdown] tags=[]
# Magnitude is a good proxy for importance: small weights can go first with little harm, while removing the
# same number of random weights destroys the network within a few halvings. A single global threshold beats a
# uniform per-layer fraction, because the layers are not equally redundant: `fc1` (235,200 weights reading
# mostly blank pixels) can lose far more than the 1,000-weight output layer. Without retraining, though, every
# rule breaks down well before the 12× that Han et al. report: the remaining weights must be adjusted.
#
# ## 4 · Han et al. 2015: iterative prune and retrain
#
# Han, Pool, Tran and Dally prune each layer at the threshold **q × std(W_layer)** (a "quality parameter" times
# the standard deviation of the layer's weights), retrain the survivors with the mask fixed, and repeat. Their
# LeNet-300-100 keeps 8% of the weights (22K of 267K parameters, 12×) at 1.59% test error. The paper publishes
# the fraction each layer keeps (Table 2) but not its iteration schedule, so the suite rebuilds it once, in
# `pl.methods.han.rebuilt`, and notebooks 00, 02 and 05 all show this one run, **Han et al. (rebuilt)**:
#
# * each layer ends at Han's published fraction (fc1 8%, fc2 9%, fc3 26%); iteration k of K keeps that
#   fraction^(k/K) of the layer's largest |w| (pruned weights stay pruned);
# * retraining after each step: SGD with momentum 0.9 and weight decay 5e-4 (L2, which Han found best after
#   pruning), cosine learning rate within each phase. Han retrain at 1/10 of their original Caffe rate; our
#   0.01 is 1/5 of our dense peak rate, a project choice;
# * the schedule (iterations × epochs, below) was chosen on the validation split among a few candidates with
#   the same order of budget; the test split only reports the result. The notebook's own one-shot rule,
#   `pl.magnitude.han_prune(mode="quality")`, is the other variant (one shared q per iteration).

# %% tags=[]
print("schedule:", S["han"])
with run.timed("han"):
    han, han_hist, han_summary = pl.methods.han.rebuilt("lenet300", profile, seed, run.device)
hit = han_summary["cache_hit"]
run.cache_hits["han"] = hit
pl.metrics.check_sparsity(han, han_summary["counts"]["weights_nonzero"], "Han (rebuilt) after reload")
print(pl.methods.han.NAME, "loaded from cache" if hit else "computed", f"in {han_summary['seconds']:.0f} s")
han_hist

# %% [markdown] tags=[]
# The per-layer result next to Han et al.'s published Table 2 (weights only):

# %% tags=[]
han_table = pl.metrics.layer_table(han)
published = pl.reference.han_table(2).set_index("layer")
per_layer = pd.DataFrame({
    "weights": han_table.set_index("layer")["weights"],
    "Han 2015: weights left %": published["weights_left_pct"],
    "reproduced: weights left %": han_table.set_index("layer")["remaining_pct"].round(2),
    "Han 2015: FLOP %": published["flop_pct"],
    "reproduced: FLOP %": han_table.set_index("layer")["flops_pct"].round(2),
})
han_counts = han_summary["counts"]
print(f"{pl.methods.han.NAME}: {han_counts['weights_nonzero']:,} of {han_counts['weights']:,} weights "
      f"({han_counts['weights_pct']:.2f}%, {han_counts['compression_weights']:.1f}x), all parameters "
      f"{han_counts['params_pct']:.2f}% ({han_counts['compression_params']:.1f}x); "
      f"test error {han_summary['test_error_pct']:.2f}% (dense {100 * (1 - dense_info['test_acc']):.2f}%), "
      f"validation error {han_summary['val_error_pct']:.2f}%, {han_summary['epochs']:g} epochs of retraining")
print("source:", published.attrs.get("source", pl.reference.HAN2015))
per_layer

# %% tags=[]
fig = pl.plots.basics.han_figure(per_layer, han_hist, dense_info["test_acc"])
run.save_figure(fig, "han_per_layer")
plt.show()

# %% [markdown] tags=[]
# ## 5 · What pruning does to the weights
#
# Magnitude pruning cuts a hole in the middle of each layer's weight distribution. Retraining then moves the
# survivors: the two remaining lobes spread out, as in Han et al.'s Figure 5.

# %% tags=[]
fig = pl.plots.basics.han_histograms(dense, han)
run.save_figure(fig, "weight_histograms")
plt.show()

# %% [markdown] tags=[]
# The first layer's weights can be drawn as 28 × 28 images, one per hidden unit. After pruning, each unit reads
# only a few pixels near the centre; the right-hand map counts, for every pixel, how many of the 300 units still
# read it: the border, blank in every digit, is cut off entirely (compare Han et al.'s Figure 4).

# %% tags=[]
fig, unread = pl.plots.basics.first_layer_figure(dense, han)
run.save_figure(fig, "first_layer_weights")
plt.show()
print(f"{unread} of 784 pixels are read by no first-layer unit after pruning")

# %% [markdown] tags=[]
# ## 6 · Paper versus reproduction
#
# Han et al.'s numbers come from `pl.reference` (Tables 1 and 2 of arXiv:1506.02626). Targets: dense accuracy
# ≥ 98.0% (the foundation issue) and Han's own result, 8% of the weights at ≤ 1.6% test error (issue 12; this
# notebook's earlier bar was a looser ≤ 1.8%). A test accuracy or error comes with its 95% Wilson interval over
# the 10,000 test images; against Han's published 1.59%, the verdict is *better* or *worse* only when the
# interval excludes it, and *tie* otherwise. A target that is missed is reported as missed.

# %% tags=[]
n_test = len(splits.test[1])
han_acc = 1 - han_summary["test_error_pct"] / 100
han_err = han_summary["test_error_pct"]
dense_acc = 100 * dense_info["test_acc"]
t1 = pl.reference.han_table(1).set_index("network").loc["LeNet-300-100"]
src = "Han et al. 2015, Tables 1-2"
graded = profile != "smoke"
target_err = pl.methods.han.TARGET_ERROR_PCT["lenet300"]
headline = [
    pl.report.headline("LeNet-300-100 dense test accuracy", dense_acc, id="dense_test_acc",
                       paper=100 - t1["error_ref_pct"], target="≥ 98.0%", unit="%",
                       interval=pl.stats.accuracy_interval([dense_info["test_acc"]], n_test),
                       met=(dense_acc >= 98.0) if graded else None, source=src),
    pl.report.headline("Han et al. (rebuilt): weights left", han_counts["weights_pct"], id="han_weights_pct",
                       paper=8.0, target="≤ 8.5%", unit="%",
                       met=(han_counts["weights_pct"] <= 8.5) if graded else None, source=src),
    pl.report.headline("Han et al. (rebuilt): test error", han_err, id="han_test_error", paper=t1["error_pruned_pct"],
                       target=f"≤ {target_err}%", unit="%", met=(han_err <= target_err) if graded else None,
                       interval=han_summary["test_error_interval"], verdict=han_summary["vs_published_error"],
                       versus="Han et al. 2015's 1.59%", source=src),
    pl.report.headline("Han et al. (rebuilt): compression (all parameters)", han_counts["compression_params"],
                       id="han_compression_params", paper=12.0, unit="×", source=src),
    pl.report.headline(f"one-shot global magnitude: compression within {oneshot_drop_pp:g} pp of dense (validation), "
                       "no retraining", oneshot_within_1pp["magnitude_global"], id="oneshot_global_within_drop",
                       unit="×", source="this notebook"),
]
pl.report.comparison_table(headline)

# %% [markdown] tags=[]
# ### Deviations and unknowns
#
# * **Dense training** [derived]: SGD, momentum 0.9, weight decay 5e-4, batch 64, cosine learning rate from 0.05,
#   on 55,000 of the 60,000 training images (5,000 are the suite's validation split). Han et al. used Caffe's
#   reference models (inverse-decay schedule on all 60,000 images), so the dense error differs slightly.
# * **Inputs** scaled to [0, 1] (Caffe's LeNet scales by 1/256: the same up to 0.4%).
# * **Iteration schedule** [unknown in the paper]: each layer goes geometrically to Han's published fraction over
#   K iterations (`pl.methods.han.SCHEDULE`, chosen on validation); retraining SGD at 0.01, cosine within each
#   phase (Han: 1/10 of the original rate). The quality-parameter variant (one shared q per iteration, stds
#   frozen at the dense model) is `pl.magnitude.han_prune(mode="quality")`.
# * Test error is reported at the end of the schedule (no best-checkpoint is kept, for any method in the suite),
#   with no model selection on the test set; one-shot "survival" is judged on the validation split.

# %% tags=[]
results = {
    "dense": {k: dense_info[k] for k in ("test_acc", "val_acc", "train_seconds", "epoch_seconds", "cache_hit")},
    "oneshot": oneshot.to_dict("records"),
    "oneshot_within_1pp": oneshot_within_1pp,
    "han": {**han_summary, "history": han_hist.to_dict("records"), "test_acc": han_acc},
    "pixels_unread": unread,
    "headline": headline,
}
pl.metrics.check_sparsity(han, sum(int(m.sum()) for m in pl.masks.get_masks(han).values()), "Han (rebuilt)")
figures = ["oneshot_curves", "han_per_layer", "weight_histograms", "first_layer_weights"]
path = run.write_results(results, figures=figures)  # written last: only a finished run replaces the figures
print(f"wrote {pl.paths.relpath(path)} and {len(figures)} figures; wall time {run.timings['total']:.0f} s")
