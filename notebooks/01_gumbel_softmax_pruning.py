# %% [markdown] tags=[]
# # 01 · Gumbel-softmax pruning: learning which connections exist by gradient descent
#
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pruning-suite/pruning-suite/blob/main/notebooks/01_gumbel_softmax_pruning.ipynb)
#
# Zhang Zhang, Ruyi Tao, Jiang Zhang. *Neural Network Pruning by Gradient Descent*. arXiv:2311.12526 (2023);
# code: [github.com/3riccc/neural_pruning](https://github.com/3riccc/neural_pruning) (a toy tutorial only).
#
# The paper gives every connection of a network a learnable on/off **gate** and trains weights and gates
# together, from scratch, with plain stochastic gradient descent. A gate is a two-way choice (keep / drop)
# sampled with the **Gumbel-softmax** trick, so the sampled network is always exactly sparse, yet gradients
# still reach the gate's parameters. A penalty on the fraction of kept connections pushes gates shut. The
# paper claims that on MNIST the network keeps "high accuracy" with only **0.15% of its parameters**, and that
# the surviving graph is interpretable: one can read off which input features matter and along which
# pathways information flows.
#
# **What you will learn**
#
# * how the Gumbel-max trick draws an exact 0/1 mask, and how the straight-through estimator still sends a
#   gradient to the gate's logits (you will write both by hand and compare them with the library);
# * what the temperature τ does, and what it does not do, to a sampled mask;
# * how one penalty, the density D̂ of a sampled mask, trades accuracy for size, and how to sweep its weight λ
#   down to 0.15% of the weights of LeNet-300-100;
# * how to test a pruning claim fairly: baselines at the same size and training budget, several seeds, 95%
#   intervals, and controls for "the network picked the important pixels";
# * how to read the surviving graph: the pixels, and the strongest pixel-to-digit paths.
#
# **Run it** with `make reproduce NOTEBOOK=01` or from Jupyter. The `profile` parameter picks the schedule:
# `smoke` (tiny data subsets and a few hundred steps: it proves the code runs in seconds, its numbers mean
# nothing), `quick` (the default: full MNIST with shortened schedules, minutes on a laptop CPU) and `paper`
# (the longest schedule; a GPU helps). Reading and run times are printed just below the profile table.
#
# The notebook has four parts: (1) the method: Gumbel-max sampling, the straight-through gradient and what the
# temperature does, with four exercises; (2) experiment A, the authors' toy task, where the learned graph
# splits into the two independent sub-problems; (3) experiment B, LeNet-300-100 on MNIST, a sweep of the
# sparsity weight λ down to ≤ 0.15% of the weights, the headline run over several seeds against one-shot and
# gradual magnitude pruning at the same sizes and the same training budget, what the surviving pixels and
# pathways look like, and whether those pixels beat simple choices of as many pixels; (4) the paper next to our
# run, where every comparison carries a 95% interval and a verdict.

# %% tags=[]
# In Colab: fetch the suite, install it and MNIST; anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    suite = "/content/pruning-suite"
    subprocess.run(["git", "clone", "-q", "https://github.com/pruning-suite/pruning-suite", suite], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", suite], check=True)
    subprocess.run([sys.executable, "-m", "pruning_lib.data"], check=True, cwd=suite)
    sys.path.insert(0, suite)

# %% tags=["parameters"]
import os

profile = os.environ.get("PRUNING_PROFILE", "quick")  # smoke | quick | paper
seed = 0  # the method's runs use seed 2050 + seed (2050 is the authors' seed); the dense reference uses seed
device = "auto"  # auto | cpu | cuda | mps
jobs = int(os.environ.get("PRUNING_JOBS", "0"))  # parallel workers for the plans of MNIST runs (0: one per core)
tau = 3.0  # temperature of the forward mask's straight-through gradient (authors: 3, no annealing)
tau_density = 1.0  # temperature of the independent density sample D_hat (authors: 1, PyTorch's default)
lr = 0.01  # Adam learning rate for weights, biases and gate logits together (authors' code: 0.01)
toy_lambda = 0.01  # sparsity weight of the toy task (authors' tutorial)
strict_targets = False  # True: the last cell raises when a target we set is missed (make reproduce then fails)
solutions = os.environ.get("PRUNING_SOLUTIONS") in ("1", "true")  # True: fill every exercise with its reference answer

# %% tags=["injected-parameters", "nbval-skip"]
# Parameters
profile = "quick"


# %% tags=[]
import json
import math
import time

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F

import pruning_lib as pl
from pruning_lib.methods import gumbel as G

PROFILES = {  # every schedule of this notebook; the dense reference's own schedule lives in pl.dense
    # seeds: runs of the headline λ; the magnitude baselines and the pixel controls get mnist_epochs (matched)
    "smoke": dict(toy_steps=300, toy_seeds=[0], mnist_epochs=1, lambdas=[1.0, 30.0], max_extra=1, seeds=2,
                  sample_repeats=2),
    # quick: the λ grid and the epochs were calibrated once on this profile (section 3) and are frozen here
    "quick": dict(toy_steps=7500, toy_seeds=[0], mnist_epochs=10, lambdas=[0.3, 3.0, 30.0, 100.0],
                  max_extra=1, seeds=3, sample_repeats=10),
    "paper": dict(toy_steps=7500, toy_seeds=[0, 1, 2, 3, 4], mnist_epochs=30,
                  lambdas=[0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0], max_extra=3, seeds=3, sample_repeats=10),
}

# %% tags=[]
pl.timings.about("01_gumbel_softmax_pruning")

# %% tags=[]
for name, value in [("tau", tau), ("tau_density", tau_density)]:
    pl.checks.check_range(name, value, 0.01, 100.0)
pl.checks.check_range("lr", lr, 1e-6, 1.0)
pl.checks.check_range("toy_lambda", toy_lambda, 0.0, 100.0)
pl.checks.check_bool("strict_targets", strict_targets)
pl.checks.check_bool("solutions", solutions)
pl.checks.check_range("jobs", jobs, 0, 64, integer=True)  # 0: automatic
run = pl.setup_run("gumbel", profile, PROFILES, seed=seed, device=device,
                   params=dict(tau=tau, tau_density=tau_density, lr=lr, toy_lambda=toy_lambda,
                               strict_targets=strict_targets, solutions=solutions, jobs=jobs))
S = run.settings
method_seed = 2050 + seed
targets_apply = profile != "smoke"  # the smoke profile's numbers mean nothing: no target is judged there
BUDGET_KEPT = 399  # 0.15% of LeNet-300-100's 266,200 weights, rounded down
pd.set_option("display.precision", 4)
S

# %% [markdown] tags=[]
# ## 1 · The method
#
# ### Gates with two logits
#
# Every weight w_ij of every `nn.Linear` layer, the output layer included, gets a gate m_ij ∈ {0, 1} and two
# logits θ_ij = (θ0, θ1): channel 0 means "keep", channel 1 "drop". The layer computes h = φ((W ⊙ m) h_prev + b);
# biases are never gated. A gate is **sampled** with the Gumbel-max trick: draw two independent Gumbel(0, 1)
# noises G0, G1 and keep the connection if θ0 + G0 ≥ θ1 + G1. This picks "keep" with probability exactly
# softmax(θ)_0 = σ(θ0 − θ1), so the mask is a genuine random 0/1 sample.
#
# ### Exercise 1 · The Gumbel-max hard sample by hand (coding, about 5 minutes)
#
# Write `gumbel_max_keep(theta, gumbels)`: `theta` holds the logits of n gates as a (2, n) tensor (row 0 keep,
# row 1 drop), `gumbels` two Gumbel(0, 1) noises per gate in the same layout. Return a 0/1 float tensor of
# shape (n,): 1 where "keep" wins the race. The check compares your mask with the library's sampler
# (`GumbelGate.sample`) fed the same noise, on 400 gates, 8 of them exact ties. Hint: the paper's rule is an
# argmax over θ + G, and a tie keeps.

# %% tags=[]
def gumbel_max_keep(theta, gumbels):
    """1 where channel 0 (keep) wins the Gumbel-max race θ0 + G0 ≥ θ1 + G1 (a tie keeps), else 0."""
    raise NotImplementedError  # your code here


if solutions:
    gumbel_max_keep = pl.exercises.solution("gumbel", "gumbel_max_keep")

# %% tags=["exercise"]
pl.exercises.gumbel.check_gumbel_max_keep(gumbel_max_keep)

# %% [markdown] tags=[]
# ### The straight-through gradient and the temperature τ
#
# The argmax has no useful gradient. The **Gumbel-softmax** relaxation replaces it by
# y = softmax((θ + G)/τ), a smooth point on the simplex; the *straight-through* ("hard") version uses the exact
# 0/1 sample in the forward pass and the gradient of y in the backward pass
# (`F.gumbel_softmax(θ, τ, hard=True)`). The temperature τ sits inside the softmax. The authors use τ = 3 for
# the mask, fixed, with no annealing.
#
# ### Exercise 2 · What τ does to the keep-probability (predict, then measure, about 3 minutes)
#
# A gate with keep-probability σ(θ0 − θ1) = 0.8 is sampled 20,000 times with the straight-through hard sample,
# at τ = 0.3, 3 and 10. Does the fraction of draws that keep it rise, fall, or stay unchanged as τ grows? Set
# `tau_prediction` to `"rises"`, `"falls"` or `"unchanged"`, then run the check: it measures the three
# fractions and explains the answer. Hint: look at which quantity the forward pass returns.

# %% tags=[]
tau_prediction = None  # "rises" | "falls" | "unchanged"
if solutions:
    tau_prediction = pl.exercises.solution("gumbel", "tau_prediction")

# %% tags=["exercise"]
pl.exercises.gumbel.check_tau_prediction(tau_prediction)

# %% [markdown] tags=[]
# The picture: 8 × 24 gates whose keep-probability grows from left to right, one draw of the noise. The soft
# samples change with τ, the hard sample does not; over many draws each gate is kept with probability σ(θ0 − θ1)
# whatever τ is, while the slope of the straight-through gradient is what τ controls.

# %% tags=[]
# 8 x 24 gates, one draw of the noise L: soft samples per τ, the hard sample, P(keep) and the slope against τ
fig = pl.plots.gumbel.temperature_figure(taus=(0.3, 1.0, 3.0, 10.0))
run.save_figure(fig, "lecture_masks_vs_temperature")
plt.show()

# %% [markdown] tags=[]
# So **τ changes only the gradient, never the sampled mask**: small τ makes the soft sample nearly binary and
# its gradient large but concentrated near the decision boundary; large τ spreads a small gradient over many
# gates.
#
# ### One number per gate
#
# With two channels everything depends on Δ = θ0 − θ1 and on L = G0 − G1, which is a standard **logistic**
# variable (L = log u − log(1 − u) for one uniform u). The hard sample is 1[Δ + L ≥ 0] and channel 0 of the
# soft sample is σ((Δ + L)/τ): the same distribution and the same straight-through gradient as
# `F.gumbel_softmax`, with one random number per weight instead of two and no softmax over a size-2 axis.
# `pruning_lib.methods.gumbel` implements it this way (it is several times faster) and its tests check that it
# reproduces `F.gumbel_softmax` sample for sample and gradient for gradient. The same check in a few lines:
# with the noise `F.gumbel_softmax` would draw, the binary form gives the identical mask and the identical
# gradient on the logits.

# %% tags=["nbval-check-output"]
gate = G.GumbelGate((30, 20), tau=3.0)
logits = gate.logits.detach().clone().contiguous().requires_grad_()
torch.manual_seed(11)
gumbels = -torch.empty_like(logits).exponential_().log()  # what F.gumbel_softmax draws internally
torch.manual_seed(11)
reference = F.gumbel_softmax(logits, tau=3.0, hard=True)[..., 0]
binary_form = gate.sample(3.0, noise=gumbels[..., 0] - gumbels[..., 1])
upstream = torch.randn(30, 20)
(reference * upstream).sum().backward()
(binary_form * upstream).sum().backward()
print("identical masks:", torch.equal(binary_form.detach(), reference.detach()))
print("gradients agree (|diff| < 1e-6):", bool((gate.theta.grad.movedim(0, -1) - logits.grad).abs().max() < 1e-6))

# %% [markdown] tags=[]
# ### Exercise 3 · The straight-through gradient by hand (formula against autograd, about 10 minutes)
#
# The forward pass returns the hard sample m = 1[Δ + L ≥ 0]; the backward pass pretends it returned the soft
# sample s = σ((Δ + L)/τ). Write `straight_through_grad(delta, noise, tau, upstream)`: the gradient of
# Σ upstream · m with respect to Δ, as a tensor of Δ's shape, from the formula (no autograd). The check runs
# autograd through the library's sampler on a 4 × 6 tensor at τ = 0.5 and τ = 3 and compares. Hint: the
# chain rule through z ↦ σ(z/τ), and σ'(x) = σ(x)(1 − σ(x)).

# %% tags=[]
def straight_through_grad(delta, noise, tau, upstream):
    """d/dΔ of Σ upstream · m, for the hard sample m = 1[Δ + L ≥ 0] with the straight-through gradient at τ."""
    raise NotImplementedError  # your code here


if solutions:
    straight_through_grad = pl.exercises.solution("gumbel", "straight_through_grad")

# %% tags=["exercise"]
pl.exercises.gumbel.check_straight_through_grad(straight_through_grad)

# %% [markdown] tags=[]
# ### The loss and the extraction
#
# The density penalty is D̂ = (1/N) Σ m′_ij over all N gated weights, where m′ is an *independent* hard sample
# at τ = 1 (not the forward mask), again with its straight-through gradient. The loss is
# task loss + λ·D̂, and one Adam optimiser updates weights, biases and gate logits together from a random
# start: no pre-training, no separate pruning phase. At the end the mask is the argmax M* = 1[θ0 ≥ θ1] (a tie
# keeps) and the network W ⊙ M* is used **without any retraining**.
#
# ### Exercise 4 · The density penalty D̂ by hand (coding, about 10 minutes)
#
# Write `density_penalty(gates, noises)`: given the gates of a network (a list of `GumbelGate`, one per layer)
# and one logistic noise tensor L per gate, return D̂ as a 0-d tensor that carries the straight-through
# gradient to every gate's logits. The check builds the authors' 4-10-10-2 toy network (three layers of 40,
# 100 and 20 gates), replays the noise the library's `sampled_density` draws, and compares the value and the
# gradient on every gate. Hint: `gate.sample(tau=1.0, noise=L)` is one layer's hard sample, `gate.numel()` its
# number of gates; D̂ averages over all N gates, not over layers.

# %% tags=[]
def density_penalty(gates, noises):
    """D̂: the kept fraction of one hard sample per gate at τ = 1, over all N gated weights, with its gradient."""
    raise NotImplementedError  # your code here


if solutions:
    density_penalty = pl.exercises.solution("gumbel", "density_penalty")

# %% tags=["exercise"]
pl.exercises.gumbel.check_density_penalty(density_penalty)

# %% [markdown] tags=[]
# In the library a gate is a `torch.nn.utils.parametrize` parametrization of `Linear.weight`: `GumbelGate`
# holds the logits and a mode, `"sample"` (a fresh hard mask at every forward pass, for training), `"argmax"`
# (M*) or `"dense"` (no mask). `G.gate_linears(model)` gates every Linear; `G.export_pruned(model)` returns an
# ordinary model whose weights are W ⊙ M*, expressed as `torch.nn.utils.prune` masks like every other method
# of this suite. Gated LeNet-300-100 has N = 266,200 gates (its 410 biases are not gated), so the paper's
# "0.15% of the parameters" means at most 399 kept weights: the biases alone are 0.154% of all 266,610
# parameters, so the claim can only count the gated weights. Both conventions are reported below.

# %% tags=["nbval-check-output"]
lenet, lenet_gates = G.lenet300_gated(seed=method_seed)
print("gated layers:", [(g.layer, tuple(g.logits.shape)) for g in lenet_gates])
print(f"gated weights N = {G.n_gated(lenet_gates):,}; biases (never gated) = "
      f"{sum(m.bias.numel() for m in pl.masks.prunable_layers(lenet).values())}")
print(f"budget: {BUDGET_KEPT} weights = {100 * BUDGET_KEPT / 266_200:.3f}% of the weights; "
      f"compression {266_200 / BUDGET_KEPT:.1f}x (weights only), {266_610 / (BUDGET_KEPT + 410):.1f}x (all parameters)")
toy_net, toy_gates = G.toy_model()
print(f"toy 4-10-10-2 network: N = {G.n_gated(toy_gates)} gated weights, 22 biases")
del lenet, lenet_gates, toy_net, toy_gates


# %% [markdown] tags=[]
# ## 2 · Experiment A: the authors' toy task
#
# Four inputs x1..x4 ~ U(−1, 1) and two targets, y1 = 3 sin((x1 − x2)²) and y2 = (x3 + x4)³: two independent
# sub-problems in one network. The authors' tutorial trains a 4-10-10-2 SiLU network, all three layers gated,
# with L1 loss + 0.01·D̂, full-batch Adam (lr 0.01), τ = 3 / 1, for 7,500 steps from seed 2050, with their
# initialisation (W and gate logits N(0, 1)·2/fan_in, biases 2/fan_in). If the gates work, the kept graph
# should split into two disconnected parts, {x1, x2} → y1 and {x3, x4} → y2. Their committed run kept 18 of 160
# connections (last logged D̂ = 0.1125). The split is checked programmatically: the graph of *effective* edges
# (those on some input → output path) must have exactly two components with an output, y1's holding exactly
# {x1, x2} and y2's exactly {x3, x4}, with a path from each of those inputs to its output.

# %% tags=[]
def toy_run(s):
    """Train the toy from seed s (cached); returns (gated model in argmax mode, history)."""
    cfg = {"steps": S["toy_steps"], "seed": s, "lam": toy_lambda, "lr": lr, "tau": tau,
           "tau_density": tau_density}

    def compute():
        model, hist, _ = G.train_toy(S["toy_steps"], seed=s, lam=toy_lambda, lr=lr, tau=tau,
                                     tau_density=tau_density)
        return {"state": model.state_dict(), "history": hist}

    payload, _ = run.cached(f"toy_seed_{s}", "gumbel-toy", cfg, compute, version=G.VERSION)
    model, _ = G.toy_model(s, tau)
    model.load_state_dict(payload["state"])
    G.set_mode(model, "argmax")
    return model, pd.DataFrame(payload["history"])


# %% tags=[]
def toy_summary(model):
    """Kept / effective edges, split checks, sign symmetry of one toy model."""
    masks = G.argmax_masks(model)
    check, raw = G.split_check(masks), G.split_check(masks, effective=False)
    w1 = G.gated_weights(model)["1"]
    return {"kept": sum(int(m.sum()) for m in masks.values()),
            "effective": sum(int(m.sum()) for m in G.effective_edges(masks)),
            "split_ok": check["ok"], "split_ok_raw": raw["ok"], "check": check,
            "sign_symmetry": G.sign_symmetry(w1, G.effective_edges(masks)[0])}


# %% tags=[]
toy_seeds = [method_seed + s for s in S["toy_seeds"]]
with run.timed("toy"):
    toy_model, toy_hist = toy_run(toy_seeds[0])
toy = toy_summary(toy_model)
toy_last = toy_hist.iloc[-1]
print(f"seed {toy_seeds[0]}, {S['toy_steps']} steps: kept {toy['kept']} of 160 edges "
      f"(argmax density {toy['kept'] / 160:.4f}), {toy['effective']} effective; last D_hat {toy_last['dhat']:.4f}")
print(f"test MSE: argmax mask {toy_last['test_mse_argmax']:.4f}, sampled mask {toy_last['test_mse_sampled']:.4f}")
print(f"split check (effective edges): {toy['split_ok']}; on the raw kept graph: {toy['split_ok_raw']}; "
      f"components with an output: inputs {toy['check']['inputs_per_component']}, "
      f"outputs {toy['check']['outputs_per_component']}, edges {toy['check']['edges_per_component']}")
print("sign symmetry (first-layer units fed by both inputs of a pair):", toy["sign_symmetry"])

# %% tags=[]
# training loss, test MSE (sampled and argmax mask) and the three densities against the step
fig = pl.plots.gumbel.toy_training_figure(toy_hist, toy_seeds[0], toy_lambda, tau, tau_density)
run.save_figure(fig, "toy_training")
plt.show()

# %% [markdown] tags=[]
# The kept graph, inputs at the bottom and outputs at the top. Edges are coloured by their signed weight
# (red positive, blue negative, centred at 0); units are ordered automatically, y1's component left and y2's
# right, then by the mean position of their neighbours, unused units at the right end. Since y1 depends on
# x1 − x2 and y2 on x3 + x4, one expects first-layer units that read x1 and x2 with opposite signs and units
# that read x3 and x4 with the same sign ("feature symmetry" in the paper).

# %% tags=[]
# the kept graph of the toy run, inputs at the bottom, edges coloured by signed weight
fig = pl.plots.gumbel.toy_pathways_figure(toy_model, toy["kept"], toy["split_ok"])
run.save_figure(fig, "toy_pathways")
plt.show()

# %% tags=[]
seeds_split_ok = {toy_seeds[0]: toy["split_ok"]}
for s in toy_seeds[1:]:  # paper profile: the same run from four more seeds
    with run.timed(f"toy_seed_{s}"):
        m, _ = toy_run(s)
    summary = toy_summary(m)
    seeds_split_ok[s] = summary["split_ok"]
    print(f"seed {s}: kept {summary['kept']}, split {summary['split_ok']}")
print("split check per seed:", seeds_split_ok)

# %% [markdown] tags=[]
# ## 3 · Experiment B: LeNet-300-100 on MNIST
#
# The paper's MNIST setting is not published. This notebook uses the only public code's recipe: a 784-300-100-10
# ReLU network with every Linear gated, cross-entropy + λ·D̂, Adam with lr 0.01 on weights, biases and gate
# logits together, constant learning rate, minibatches of 128, τ = 3 / 1, PyTorch's default initialisation of
# W and b (gate logits as in the authors' code), pixels in [0, 1] without normalisation (so background pixels
# are exactly 0 and their edges get no task gradient), trained from scratch. The runs of all λ start from the
# same seed (2050 + `seed`), so they differ only in λ. Every number reported uses the argmax mask and no
# retraining; sampled masks are reported next to it.
#
# **How the λ grid was chosen.** Because D̂ is a mean over all gated weights, the toy's λ = 0.01 does not carry
# over. The grid was calibrated once, on the quick profile (full MNIST, shortened schedules), by *density
# only*: a log grid whose densest run keeps several percent of the weights and whose sparsest keeps fewer than
# 399, frozen in the profile table above as {0.3, 3, 30, 100} (the refinement below adds a fifth λ; λ = 0.1, 1 and 10 of an earlier, finer grid
# were left out to save time). The density still falls, slowly, after several epochs, so the number of epochs
# matters: our first cost estimate suggested 4, but calibration showed that about 8 are needed to reach 399
# weights, and the quick profile uses 10.
#
# **Landing near the budget, choosing on validation.** A refinement rule may add runs (one in the quick
# profile): if the smallest λ that keeps ≤ 399 weights keeps fewer than 80% of that, it runs the λ at which log(kept), interpolated
# linearly in log(λ) between that run and the next smaller λ, reaches 90% of 399; if no λ reaches 399, it runs
# √10 times the largest (`G.refine_lambda`; it reads only the kept counts). The **headline run** is the one with
# the best *validation* accuracy among the runs with ≤ 399 weights (`G.headline_lambda`); that λ is then trained
# from more seeds. Nothing here is chosen on the test split: test accuracies are only reported.

# %% tags=[]
splits = pl.dense.profile_data(profile)
print("data:", splits.sizes(), "| epochs per λ:", S["mnist_epochs"], "| grid:", S["lambdas"])

# %% [markdown] tags=[]
# ### What the gates cost
#
# One epoch of dense LeNet-300-100 and one of the gated network, the same loop, the same batches and the same
# Adam, timed now on this machine (the gated step draws two masks of 266,200 gates and updates three times as
# many parameters):

# %% tags=[]
with run.timed("epoch_cost"):
    cost = G.epoch_seconds(splits.train, lr=lr, seed=method_seed, device=run.device)
print(f"one epoch: dense {cost['dense']:.2f} s, gated {cost['gated']:.2f} s -> gated / dense = {cost['ratio']:.2f}x "
      f"({torch.get_num_threads()} threads)")

# %% [markdown] tags=[]
# ### The λ sweep
#
# Each run is cached under `cache/gumbel-mnist/` by a hash of its settings, so a rerun (and notebook 05) loads
# it instead of training again: `G.cached_lenet300(lam, profile, epochs=..., seed=...)`. The library checks
# every run's kept count against its history after training and again after each reload from the cache
# (`pl.metrics.check_sparsity`: a lost mask raises). Next to the test accuracy, each run's accuracy on the
# validation split is measured: the only data any choice below reads.
#
# The runs themselves are planned ahead, stage by stage: `run.plan` takes a list of tasks (`G.tasks`: the λ
# grid here; the headline seeds, the baselines and the pixel controls further down, once the choices they
# depend on are made), prints its size and estimated cost, runs the tasks (in parallel with `jobs` workers: one
# per CPU core by default, through submitit) and caches them; the cells then read the cache. A run's
# recorded seconds depend on how many ran beside it; the gated-epoch cost above is measured alone.

# %% tags=[]
mnist, mnist_times = {}, []


def run_lambda(lam, s=method_seed):
    """Train (or load) one λ from seed s: pruned model, history, kept count, validation accuracy, seconds."""
    t0 = time.perf_counter()
    model, hist, hit = G.cached_lenet300(lam, profile, epochs=S["mnist_epochs"], seed=s, device=run.device,
                                         splits=splits, sample_repeats=S["sample_repeats"], lr=lr, tau=tau,
                                         tau_density=tau_density)
    run.cache_hits[f"mnist_lambda_{lam:g}" + ("" if s == method_seed else f"_seed_{s}")] = hit
    last = hist.iloc[-1]
    out = {"model": model, "history": hist, "kept": int(last["kept"]), "seed": s, "hit": hit,
           "val_acc": pl.train.evaluate(model, *splits.val)["acc"], "seconds": round(time.perf_counter() - t0, 2)}
    print(f"λ = {lam:<8g} seed {s}: kept {out['kept']:>7,} ({100 * last['density_argmax']:.3f}%), accuracy "
          f"{100 * out['val_acc']:.2f}% validation / {100 * last['acc_argmax']:.2f}% test (argmax), "
          f"{100 * last['acc_sampled_mean']:.2f}% test (sampled), "
          f"{'cached' if hit else f'{hist.seconds.sum():.0f} s'}")
    return out


# %% tags=[]
RECIPE = dict(sample_repeats=S["sample_repeats"], lr=lr, tau=tau, tau_density=tau_density)  # run_lambda's recipe
run.plan("grid", [G.tasks.mnist_task(lam, profile, epochs=S["mnist_epochs"], seed=method_seed, device=run.device,
                                    **RECIPE) for lam in S["lambdas"]], jobs)
with run.timed("mnist"):
    for lam in S["lambdas"]:
        mnist[lam] = run_lambda(lam)
        mnist_times.append(mnist[lam]["seconds"])
    for _ in range(S["max_extra"]):  # the refinement rule reads only the kept counts
        lam = G.refine_lambda({k: r["kept"] for k, r in mnist.items()}, BUDGET_KEPT)
        if lam is None or lam in mnist:
            break
        print("refinement: adding λ =", lam)
        mnist[lam] = run_lambda(lam)
        mnist_times.append(mnist[lam]["seconds"])


# %% tags=[]
def run_row(lam):
    """One line of results.json's mnist_runs for the run of λ."""
    model, hist = mnist[lam]["model"], mnist[lam]["history"]
    masks = pl.masks.get_masks(model)
    eff = G.effective_edges(masks)
    c = pl.metrics.counts(model)
    last = hist.iloc[-1]
    kept = int(last["kept"])
    assert c["weights_nonzero"] == kept, (c["weights_nonzero"], kept)  # the exported model has exactly M*
    return {"lambda": lam, "epochs": int(last["epoch"]), "kept": kept,
            "effective_kept": int(sum(int(m.sum()) for m in eff)),
            "density_weights_pct": c["weights_pct"], "density_all_pct": 100 * (kept + 410) / c["params"],
            "compression_weights": c["compression_weights"], "compression_all": c["params"] / (kept + 410),
            "val_acc": mnist[lam]["val_acc"],
            "acc_argmax": float(last["acc_argmax"]), "acc_sampled_mean": float(last["acc_sampled_mean"]),
            "acc_sampled_std": float(last["acc_sampled_std"]),
            "selected_pixels": int(masks["fc1"].any(0).sum()),
            "effective_selected_pixels": int(eff[0].any(0).sum()),
            "dhat_initial": float(hist["dhat_last"].iloc[0]), "dhat_last": float(last["dhat_last"]),
            "density_expected": float(last["density_expected"]),
            "seconds_per_epoch": float(hist["seconds"].iloc[1:].mean())}


# %% tags=[]
runs = pd.DataFrame([run_row(lam) for lam in sorted(mnist)])
assert all(abs(d - 0.5) < 0.1 for d in runs["dhat_initial"]), "initial D_hat should be about 0.5"
# the headline: best validation accuracy among the runs within the budget (else the sparsest run)
head_lam = G.headline_lambda(dict(zip(runs["lambda"], runs["kept"])), dict(zip(runs["lambda"], runs["val_acc"])),
                             BUDGET_KEPT)
head = runs.set_index("lambda").loc[head_lam]
print(f"headline (best validation accuracy among the runs with ≤ {BUDGET_KEPT} weights): λ = {head_lam:g}, "
      f"{int(head['kept'])} weights kept ({head['density_weights_pct']:.3f}%), validation accuracy "
      f"{100 * head['val_acc']:.2f}%" + ("" if head["kept"] <= BUDGET_KEPT else " (no run met the budget: the sparsest)"))
runs[["lambda", "kept", "effective_kept", "density_weights_pct", "compression_weights", "compression_all",
      "val_acc", "acc_argmax", "acc_sampled_mean", "acc_sampled_std", "selected_pixels", "seconds_per_epoch"]]

# %% [markdown] tags=[]
# ### The headline λ over several seeds
#
# The chosen λ is trained again from further seeds (2050 + `seed` + 1, + 2, ...), with nothing else changed.
# The test accuracy is reported as the mean over seeds with a 95% Student-t interval (3 or more seeds; the
# spread between seeds includes the test-set noise); with 2 seeds (the smoke profile, tiny subsets) the interval is Wilson's over the
# pooled predictions, with one seed Wilson's over the test images (`pl.stats.accuracy_interval`). The size
# target (≤ 399 weights) must hold for every seed, and the accuracy target is met only when the whole 95%
# interval lies at or above it.

# %% tags=[]
head_seeds = [method_seed + i for i in range(S["seeds"])]
run.plan("seeds", [G.tasks.mnist_task(head_lam, profile, epochs=S["mnist_epochs"], seed=s, device=run.device, **RECIPE)
                   for s in head_seeds[1:]]
         + [G.tasks.baseline_task("magnitude", profile, k, epochs=S["mnist_epochs"], seed=seed, dense_seed=seed,
                                 device=run.device) for k in runs["kept"]], jobs)  # the baselines of the grid too
with run.timed("headline_seeds"):
    seed_runs = {method_seed: mnist[head_lam]}
    for s in head_seeds[1:]:
        seed_runs[s] = run_lambda(head_lam, s)
n_test = len(splits.test[1])
seed_table = pd.DataFrame([{"seed": s, "kept": r["kept"], "val_acc": r["val_acc"],
                            "acc_argmax": float(r["history"]["acc_argmax"].iloc[-1]),
                            "acc_sampled_mean": float(r["history"]["acc_sampled_mean"].iloc[-1]),
                            "selected_pixels": int(pl.masks.get_masks(r["model"])["fc1"].any(0).sum())}
                           for s, r in seed_runs.items()])
gumbel_iv = pl.stats.accuracy_interval(seed_table["acc_argmax"], n_test)
kept_iv = pl.stats.mean_interval(seed_table["kept"])
meets_budget = bool((seed_table["kept"] <= BUDGET_KEPT).all())
head_acc = 100 * seed_table["acc_argmax"].mean()
print(f"λ = {head_lam:g} over {len(head_seeds)} seed(s): kept {seed_table['kept'].tolist()} "
      f"(every seed ≤ {BUDGET_KEPT}: {meets_budget}); test accuracy (argmax) {head_acc:.2f}%, "
      f"95% interval {pl.report.fmt_interval(gumbel_iv, '%')}")
seed_table

# %% [markdown] tags=[]
# ### Did the gates settle?
#
# The extracted mask M* reads only the sign of θ0 − θ1, so it is a faithful summary of training only if the gates
# have made up their minds, with keep-probabilities σ(θ0 − θ1) near 0 or 1. Panel (a) shows the histogram of the
# toy run's 160 keep-probabilities (its cached model keeps the gate logits). The cached MNIST runs keep only the
# extracted mask and their training history, so panel (b) uses the history: the expected number of kept
# weights, the sum of the 266,200 keep-probabilities, next to the number M* keeps, per epoch and seed. When
# every gate sits near 0 or 1 the two counts coincide; a gap counts the gates that are still undecided.

# %% tags=[]
# (a) the toy's gate keep-probabilities; (b) expected against argmax kept weights per epoch, headline λ, per seed
fig = pl.plots.gumbel.gate_settling_figure(G.gates_of(toy_model), {s: r["history"] for s, r in seed_runs.items()},
                                           266_200, head_lam)
run.save_figure(fig, "gate_keep_probabilities")
plt.show()
toy_p = torch.cat([torch.sigmoid(g.delta().detach()).flatten() for g in G.gates_of(toy_model)])
last_rows = [r["history"].iloc[-1] for r in seed_runs.values()]
print(f"toy: {int(((toy_p < 0.05) | (toy_p > 0.95)).sum())} of {len(toy_p)} gates within 0.05 of 0 or 1; MNIST, "
      "last epoch, expected / argmax kept: "
      + ", ".join(f"{266_200 * h['density_expected']:.0f} / {int(h['kept'])}" for h in last_rows))

# %% [markdown] tags=[]
# ### Baselines at the same sizes and the same training budget
#
# Two magnitude baselines start from the canonical dense LeNet-300-100 of this suite (`pl.dense.reference_model`,
# SGD; the same for every notebook) and get **the same number of epochs as a Gumbel run** (`mnist_epochs`):
#
# * **global magnitude + fine-tuning**: one-shot global magnitude pruning to *exactly* the kept count of a
#   Gumbel run, biases unpruned, then Adam fine-tuning (lr 10⁻³, batch 128) with the mask fixed; accuracies
#   before and after fine-tuning are reported as they come, even where a digit has lost every path;
# * **gradual magnitude pruning** (Zhu & Gupta 2017, `METHODS["gradual"]`): the sparsity follows their cubic
#   schedule while the network trains, the standard train-while-pruning baseline, at the headline sizes.
#
# At the headline λ each baseline is run once per Gumbel seed, at that seed's kept count (fine-tuning seed
# `seed` + i); elsewhere once. The budget is matched in epochs after the starting point, and it still favours
# the baselines: they start from a dense network that was itself trained (its epochs are shown), while every
# Gumbel run starts from a random initialisation and is never retrained. A verdict says "better" or "worse"
# only when the two 95% intervals separate; otherwise it is a tie.

# %% tags=[]
budget_epochs = S["mnist_epochs"]
with run.timed("dense_reference"):
    dense, dense_info = pl.dense.reference_model("lenet300", profile, seed, run.device)
run.cache_hits["dense"] = dense_info["cache_hit"]
dense_epochs = pl.dense.reference_config("lenet300", profile, seed)["epochs"]


def magnitude_row(k, s):
    """Global magnitude to k weights, before and after `budget_epochs` of fine-tuning (seed s)."""
    model, secs, hit = G.magnitude_run(dense, k, splits.train, epochs=budget_epochs, seed=s)
    run.cache_hits[f"magnitude_k{k}_seed_{s}"] = hit
    oneshot = pl.masks.apply_masks(pl.masks.clone(dense), pl.magnitude.global_magnitude_masks(dense, int(k)))
    return {"kept": int(k), "seed": s, "epochs": budget_epochs,
            "acc_pruned": pl.train.evaluate(oneshot, *splits.test)["acc"],
            "val_acc": pl.train.evaluate(model, *splits.val)["acc"],
            "acc_finetuned": pl.train.evaluate(model, *splits.test)["acc"], "seconds": secs}


# %% tags=[]
run.plan("baselines", [G.tasks.baseline_task(kind, profile, seed_runs[s]["kept"], epochs=budget_epochs, seed=seed + i,
                                            dense_seed=seed, device=run.device)
                       for i, s in enumerate(head_seeds) for kind in ("magnitude", "gradual")], jobs)
with run.timed("baseline"):
    baseline = pd.DataFrame([magnitude_row(k, seed) for k in runs["kept"]])
    at_head = []
    for i, s in enumerate(head_seeds):
        k = seed_runs[s]["kept"]
        mag = magnitude_row(k, seed + i)
        (pt,) = pl.methods.registry.METHODS["gradual"].points(dense, splits, values=[266_200 / k],
                                                              budget=budget_epochs, seed=seed + i)
        pl.metrics.check_sparsity(pt.model, k, f"gradual at {k} weights")
        run.cache_hits[f"gradual_k{k}_seed_{seed + i}"] = pt.cache_hit
        at_head.append({"gumbel_seed": s, "kept": k, "gumbel": float(seed_table.set_index("seed").loc[s, "acc_argmax"]),
                        "magnitude": mag["acc_finetuned"], "gradual": pl.train.evaluate(pt.model, *splits.test)["acc"],
                        "gradual_val": pl.train.evaluate(pt.model, *splits.val)["acc"], "gradual_seconds": pt.seconds})
at_head = pd.DataFrame(at_head)

# %% tags=[]
dense_acc = dense_info["test_acc"]
mag_iv = pl.stats.accuracy_interval(at_head["magnitude"], n_test)
grad_iv = pl.stats.accuracy_interval(at_head["gradual"], n_test)
mag_verdict = pl.stats.compare(mag_iv, gumbel_iv)  # the baseline versus the Gumbel gates
grad_verdict = pl.stats.compare(grad_iv, gumbel_iv)
budget_table = pd.DataFrame([
    {"method": "Gumbel gates (argmax mask, no retraining)", "starts from": "random initialisation",
     "training epochs": budget_epochs, "dense epochs before": 0},
    {"method": "global magnitude + Adam fine-tuning", "starts from": "dense reference",
     "training epochs": budget_epochs, "dense epochs before": dense_epochs},
    {"method": "gradual magnitude (Zhu & Gupta)", "starts from": "dense reference",
     "training epochs": budget_epochs, "dense epochs before": dense_epochs},
]).assign(**{"weights kept (mean)": at_head["kept"].mean(), "seeds": len(at_head),
             "test accuracy (mean, %)": [100 * at_head[c].mean() for c in ("gumbel", "magnitude", "gradual")],
             "95% interval": [pl.report.fmt_interval(iv, "%") for iv in (gumbel_iv, mag_iv, grad_iv)],
             "verdict vs Gumbel": ["-", mag_verdict, grad_verdict]})
print(f"dense reference ({dense_epochs} epochs): test accuracy {100 * dense_acc:.2f}%")
for name, v in [("global magnitude + fine-tuning", mag_verdict), ("gradual magnitude", grad_verdict)]:
    print(f"{name} against the Gumbel gates at the headline size, {budget_epochs} epochs each: "
          + ("a tie: the 95% intervals overlap" if v == "tie" else f"{v}: the 95% intervals separate"))
budget_table

# %% tags=[]
# test accuracy (argmax and sampled masks) and argmax density per epoch, one colour per λ
fig = pl.plots.gumbel.lambda_training_figure({lam: r["history"] for lam, r in mnist.items()}, head_lam, profile,
                                             BUDGET_KEPT)
run.save_figure(fig, "mnist_training")
plt.show()

# %% tags=[]
# one point per λ (argmax and sampled masks) against magnitude pruning at the same kept counts and budget
fig = pl.plots.gumbel.lambda_pareto_figure(
    runs, baseline, dense_acc, BUDGET_KEPT, epochs=budget_epochs,
    headline={f"Gumbel gates, λ = {head_lam:g} ({len(at_head)} seeds)": (at_head["kept"].mean(), head_acc, gumbel_iv),
              f"gradual magnitude ({len(at_head)} seeds)": (at_head["kept"].mean(), 100 * at_head["gradual"].mean(),
                                                           grad_iv)})
run.save_figure(fig, "mnist_pareto")
plt.show()

# %% [markdown] tags=[]
# ### What the pruned network looks at
#
# In the headline run, a pixel is *selected* if at least one of its 300 first-layer connections survives. The
# left map counts the surviving first-layer edges per pixel; the right one shows the selected pixels over the
# mean training digit. Pixels that are 0 in every image never get a task gradient, so the density penalty
# closes all their gates.

# %% tags=[]
hm = mnist[head_lam]["model"]
head_masks = pl.masks.get_masks(hm)
head_eff = G.effective_edges(head_masks)
fig = pl.plots.gumbel.pixel_selection_figure(head_masks, head_eff, splits.train[0], head_lam)
run.save_figure(fig, "mnist_feature_importance")
plt.show()
print(f"selected pixels: {int(head_masks['fc1'].any(0).sum())}; "
      f"effective selected pixels: {int(head_eff[0].any(0).sum())}")

# %% [markdown] tags=[]
# ### Are these pixels better than simple choices? Two controls
#
# The claim that the pruned network "picks a few representative features" needs a control: would the same
# number of pixels, chosen without any learning, do as well? Three pixel sets of the same size n: the effective
# pixels of the headline run (those on a pixel-to-digit path), the n pixels with the largest variance over the
# training images, and n pixels drawn at random among those that are not blank in every training image. Each
# set is retrained the same way, at the headline run's kept count: the dense reference's first layer is cut to
# the set's columns, then gradual magnitude pruning (as above, `mnist_epochs` epochs) trains it down to the
# kept count (`G.pixel_run`). The difference in test accuracy between the Gumbel pixels and a control is paired
# (the same test images, `pl.stats.paired_difference`); "better" needs its 95% interval above 0.

# %% tags=[]
head_k = int(head["kept"])
gumbel_pixels = torch.nonzero(head_eff[0].any(0)).flatten()
if len(gumbel_pixels) == 0:  # no pixel reaches a digit (smoke): use the pixels with any kept edge
    gumbel_pixels = torch.nonzero(head_masks["fc1"].any(0)).flatten()
n_pix = len(gumbel_pixels)
pixel_sets = {"Gumbel pixels": gumbel_pixels, "top-variance pixels": G.top_variance_pixels(splits.train[0], n_pix),
              "random pixels": G.random_pixels(splits.train[0], n_pix, seed=seed)}
control_k = min(head_k, G.pixel_capacity(dense, n_pix))

# %% tags=[]
run.plan("pixel_controls", [G.tasks.pixel_task(name, profile, pix, control_k, epochs=budget_epochs, seed=seed,
                                              device=run.device) for name, pix in pixel_sets.items()], jobs)
with run.timed("pixel_controls"):
    controls, control_correct = [], {}
    for name, pix in pixel_sets.items():
        model, secs, hit = G.pixel_run(dense, pix, control_k, splits.train, epochs=budget_epochs, seed=seed)
        run.cache_hits[f"pixel_control_{name.split()[0].lower()}"] = hit
        control_correct[name] = pl.train.correct(model, *splits.test).numpy()
        controls.append({"pixels": name, "n": n_pix, "kept": control_k, "epochs": budget_epochs,
                         "overlap_with_gumbel": len(set(pix.tolist()) & set(gumbel_pixels.tolist())),
                         "val_acc": pl.train.evaluate(model, *splits.val)["acc"],
                         "acc": float(control_correct[name].mean()), "seconds": secs})
controls = pd.DataFrame(controls)

# %% tags=[]
pixel_diffs = {name: pl.stats.paired_difference(control_correct["Gumbel pixels"], control_correct[name])
               for name in ("top-variance pixels", "random pixels")}
pixel_verdicts = {name: pl.stats.against_value(iv, 0.0) for name, iv in pixel_diffs.items()}
for name, iv in pixel_diffs.items():
    d = 100 * (control_correct["Gumbel pixels"].mean() - control_correct[name].mean())
    print(f"Gumbel pixels minus {name}: {d:+.2f} pp, 95% interval {pl.report.fmt_interval(iv, 'pp')} -> "
          + ("a tie" if pixel_verdicts[name] == "tie" else f"the Gumbel pixels are {pixel_verdicts[name]}"))
controls

# %% [markdown] tags=[]
# ### The strongest pathways
#
# The whole effective graph of the headline run has far too many edges to follow by eye. So we draw,
# for every digit, only its few **strongest paths** pixel → first hidden layer → second hidden layer → digit,
# where the strength of a path is the product of |w| along its three edges (how much a unit change of the pixel
# moves the digit's score along that path when both hidden units are active). They are found exactly, by a
# k-best search over the layers (`G.graph.top_paths`). Edge width grows with |w|, red edges are positive and
# blue ones negative, units are ordered by the barycentre of their neighbours, and pixels are labelled
# (row, column).

# %% tags=[]
# the 3 strongest pixel -> h1 -> h2 -> digit paths into each digit, edge width by |w|, colour by sign
fig = pl.plots.gumbel.digit_pathways_figure(hm, head_masks, head_eff, head_lam, int(head["kept"]), k=3)
run.save_figure(fig, "mnist_pathways")
plt.show()
head_weights = [m.weight.detach() for m in pl.masks.prunable_layers(hm).values()]
strongest = pd.DataFrame([{"digit": p["output"], "pixel (row, col)": (p["units"][0] // 28, p["units"][0] % 28),
                           "h1 unit": p["units"][1], "h2 unit": p["units"][2], "strength": p["strength"],
                           "sign": "+" if p["sign"] > 0 else "−"}
                          for p in G.graph.top_paths(head_weights, head_eff, k=1)])
strongest  # the single strongest path into each digit

# %% [markdown] tags=[]
# Per digit c, the pixels with at least one path to c's output (colour = number of paths P[i, c], with
# P = A1·A2·A3 the product of the 0/1 adjacency matrices of the effective graph) over the mean image of that
# digit in grey.

# %% tags=[]
P = G.path_counts(head_eff)
fig = pl.plots.gumbel.class_pathways_figure(P, *splits.train, head_lam)
run.save_figure(fig, "mnist_class_pathways")
plt.show()
digits_reached = int((P.sum(0) > 0).sum())
print(f"{digits_reached} of 10 digits have at least one path from a pixel; "
      f"{len(G.components(head_eff))} connected component(s) of effective edges")

# %% [markdown] tags=[]
# ## 4 · The paper next to our run
#
# The paper gives no MNIST accuracy, only "high accuracy" at 0.15% of the parameters, so the targets below are
# the ones we set: on the toy, an argmax density ≤ 0.15 and the programmatic split; on MNIST, ≤ 399 weights (our
# reading of the paper's 0.15%, for every seed) at a test accuracy ≥ 90% with the shortened schedule of the
# quick profile, or ≥ 93% with the paper profile's longer one, using the argmax mask and no retraining, with the
# whole 95% interval over seeds at or above the target, from a sweep of ≥ 5 λ whose densities span about 10%
# (here: the densest run keeps ≥ 5%) down to ≤ 0.15%; a gated epoch at most 2× a dense one (a ratio measured
# once, on this machine: it varies between machines); and the whole notebook within 8 minutes on 2 cores in
# the quick profile. The "paper" column holds only the paper's own number (0.15%) and, labelled as such, the
# authors' code's toy output (D̂ = 0.1125, 18 edges), which is a reference, not a target. The rows that compare
# carry a 95% interval and a verdict (better / tie / worse against the named reference). In the smoke profile
# (tiny subsets) no target is judged.

# %% tags=[]
toy_density = toy["kept"] / 160
acc_target = 93.0 if profile == "paper" else 90.0
dens = runs["density_weights_pct"]
sweep_ok = len(runs) >= 5 and dens.max() >= 5.0 and dens.min() <= 0.15
elapsed = time.perf_counter() - run.started
code_src = "authors' code (3riccc/neural_pruning tutorial notebook, committed output), not the paper"
claims = pl.reference.ZHANG2023_CLAIMS
nseeds = f"{len(head_seeds)} seed{'s' * (len(head_seeds) > 1)}"
versus = f"Gumbel gates, λ = {head_lam:g}, {nseeds}, {budget_epochs} epochs from scratch"

# %% tags=[]
headline = [
    pl.report.headline("toy: argmax density (kept of 160); the paper column is the authors' code's last D̂",
                       toy_density, id="toy_density", paper=claims["toy_density_last"], target="≤ 0.15",
                       met=(toy_density <= 0.15) if targets_apply else None, source=code_src),
    pl.report.headline("toy: graph splits into {x1,x2}→y1 and {x3,x4}→y2", toy["split_ok"], id="toy_split",
                       paper=True, target="split", met=toy["split_ok"] if targets_apply else None,
                       source="authors' repository (pathway figure); the split check of section 2"),
    pl.report.headline(f"MNIST headline: weights kept (mean of {nseeds}); target = our reading of 0.15%",
                       float(seed_table["kept"].mean()), id="mnist_kept", target=f"≤ {BUDGET_KEPT} every seed",
                       interval=kept_iv, met=meets_budget if targets_apply else None,
                       source="0.15% of 266,200 weights, rounded down (derived from the abstract)"),
    pl.report.headline("MNIST headline: weights kept (% of weights, headline seed)",
                       float(head["density_weights_pct"]), id="mnist_kept_pct", paper=claims["mnist_params_pct"],
                       unit="%", source="Zhang et al. 2023 (arXiv:2311.12526), abstract: 0.15% of the parameters"),
    pl.report.headline(f"MNIST headline: test accuracy, argmax mask, no retraining (mean of {nseeds})", head_acc,
                       id="mnist_acc", target=f"≥ {acc_target:g}% (whole interval)", unit="%", interval=gumbel_iv,
                       met=(meets_budget and gumbel_iv[0] >= acc_target) if targets_apply else None,
                       source='the paper: "high accuracy", no number; the target is the one we set'),
]

# %% tags=[]
headline += [
    pl.report.headline(f"MNIST headline: test accuracy, sampled masks (mean of {nseeds})",
                       100 * seed_table["acc_sampled_mean"].mean(), id="mnist_acc_sampled", unit="%",
                       source="this notebook"),
    pl.report.headline("MNIST headline: compression (all parameters, headline seed)", float(head["compression_all"]),
                       id="mnist_compression_all", unit="×", source="this notebook"),
    pl.report.headline(f"global magnitude + fine-tuning, {budget_epochs} epochs, at the Gumbel seeds' sizes: test "
                       "accuracy", 100 * at_head["magnitude"].mean(), id="magnitude_at_headline", unit="%",
                       interval=mag_iv, verdict=mag_verdict, versus=versus, source="this notebook"),
    pl.report.headline(f"gradual magnitude (Zhu & Gupta), {budget_epochs} epochs, at the Gumbel seeds' sizes: test "
                       "accuracy", 100 * at_head["gradual"].mean(), id="gradual_at_headline", unit="%",
                       interval=grad_iv, verdict=grad_verdict, versus=versus, source="this notebook"),
    *[pl.report.headline(f"feature control: the headline's {n_pix} pixels minus {n_pix} {name}, each retrained to "
                         f"{control_k} weights ({budget_epochs} epochs): test accuracy", 100 * (
                             control_correct["Gumbel pixels"].mean() - control_correct[name].mean()),
                         id="pixels_vs_" + name.split()[0].replace("-", "_"), unit="pp",
                         interval=pixel_diffs[name], verdict=pixel_verdicts[name], versus=f"{n_pix} {name}",
                         source="this notebook (paired over the test images)")
      for name in pixel_diffs],
]

# %% tags=[]
headline += [
    pl.report.headline("λ sweep: runs; densest % / sparsest %", f"{len(runs)}; {dens.max():.2f}% / {dens.min():.3f}%",
                       id="lambda_sweep", target="≥ 5; ≥ 5% / ≤ 0.15%", met=sweep_ok if targets_apply else None,
                       source="the sweep we set"),
    pl.report.headline("gated epoch / dense epoch (same loop, measured once in this run; varies by machine)",
                       cost["ratio"], id="gated_epoch_cost_ratio", target="≤ 2×", unit="×",
                       met=(cost["ratio"] <= 2.0) if targets_apply else None, source="the cost target we set"),
    pl.report.headline("notebook wall time (min)", elapsed / 60, id="wall_time_min", target="≤ 8 (quick profile)",
                       met=(elapsed <= 480) if profile == "quick" else None, source="the time budget we set",
                       volatile=True),
]
pl.report.comparison_table(headline)

# %% [markdown] tags=[]
# ## What we learned
#
# * A Gumbel-max gate draws an exact 0/1 mask, so every network seen in training is genuinely sparse; the
#   straight-through estimator still hands each gate a gradient. The temperature τ shapes only that gradient:
#   the keep-probability of a gate is σ(θ0 − θ1) at every τ.
# * One penalty, the density D̂ of an independent sampled mask, is enough to steer the size: sweeping its weight
#   λ takes LeNet-300-100 from a few percent of its weights down to about the paper's 0.15%, from scratch and
#   without any retraining (the sweep's row in the table above gives this run's numbers).
# * On the authors' toy task the surviving graph is readable: the split check tells whether it separates the two
#   independent sub-problems.
# * At 0.15% of the weights, whether the gates beat magnitude pruning given the same training budget, and
#   whether their pixels beat simple choices of as many pixels, is decided by the 95% intervals printed below,
#   not by eye; the printout also says whether each target we set was met in this run.

# %% tags=[]
print(f"toy: {toy['kept']} of 160 connections kept; the graph splits into the two sub-problems: {toy['split_ok']}")
print(f"MNIST, λ = {head_lam:g}: {seed_table['kept'].mean():.0f} weights kept on average over {nseeds} "
      f"({100 * seed_table['kept'].mean() / 266_200:.3f}% of the weights), test accuracy {head_acc:.2f}% "
      f"(95% interval {pl.report.fmt_interval(gumbel_iv, '%')}), argmax mask, no retraining")
for name, v in [("global magnitude + fine-tuning", mag_verdict), ("gradual magnitude", grad_verdict)]:
    print(f"{name} at the same sizes and budget, compared with the gates: {v}"
          + (" (the 95% intervals overlap)" if v == "tie" else " (the 95% intervals separate)"))
for name, v in pixel_verdicts.items():
    print(f"the Gumbel pixels against {name}: {v}")
print(f"{digits_reached} of 10 digits are reached by a path from a pixel")
if targets_apply:
    met = [r for r in headline if r["met"] is not None and not r["volatile"]]
    print(f"targets we set: {sum(bool(r['met']) for r in met)} of {len(met)} met")

# %% [markdown] tags=[]
# ## Deviations from the paper
#
# * **Every MNIST hyperparameter is unknown** (optimizer, learning rate, batch, epochs, λ, τ, preprocessing,
#   activation): the paper does not state them and its code covers only the toy. This notebook uses the toy
#   code's recipe (Adam 0.01 on everything, τ = 3 / 1, no annealing) with minibatches of 128, ReLU, constant
#   learning rate and the epochs of the profile; the λ grid is our choice, calibrated by density on the quick profile
#   (full MNIST, shortened schedules).
# * **The paper's MNIST accuracy is unknown**, and so is whether it uses the argmax or a sampled mask; both are
#   reported, the targets use the argmax mask. "0.15% of the parameters" is read as gated weights (≤ 399), since
#   the 410 biases alone are 0.154% of all parameters: 399 is our number, not the paper's.
# * **Initialisation**: the toy uses the authors' (W and gate logits N(0, 1)·2/fan_in, biases 2/fan_in); MNIST
#   uses PyTorch's default for W and b (`init="authors"` restores the code's, whose first-layer weight std
#   0.0026 is 8× below PyTorch's) and the authors' for the gate logits.
# * **Data**: MNIST pixels in [0, 1] without mean/std normalisation; training on the suite's 55,000-image split,
#   with the 5,000 held-out images as the validation split on which every choice is made; the smoke profile uses
#   small stratified subsets.
# * **Implementation**: the two-logit Gumbel-softmax is computed in its equivalent binary form (one logistic
#   draw per weight), tested against `F.gumbel_softmax`; `nn.Linear` stores W as (out, in) where the authors'
#   code uses (in, out), so the random streams differ and no run matches the authors' numbers bit for bit.
#   Evaluation with sampled masks uses a private random stream, so it never changes a training run.
# * **Schedule**: 10 epochs per λ in the quick profile, where our first plan said 4 (its own calibration showed
#   that about 8 are needed to reach 399 weights). The quick grid is {0.3, 3, 30, 100} plus the refinement λ:
#   λ = 0.1, 1 and 10 of the earlier grid were dropped to make room, within the 8 minutes, for the extra seeds,
#   the matched-budget baselines and the pixel controls (the sweep target checks that ≥ 5 λ still span ≥ 5% to
#   ≤ 0.15% of the weights).
# * **Refinement and headline** (changed from our first plan): the refinement λ interpolates log(kept) against
#   log(λ) between the two runs that bracket 399 weights, aiming at 90% of the budget, and runs whenever the
#   best run within the budget keeps fewer than 80% of it (the first rule fired only below 266 weights, so a
#   headline far below the budget could stand). The headline is the run with the best *validation* accuracy
#   among those within the budget (the first plan: the largest kept count), then trained from more seeds; no
#   choice reads the test split.
# * **Baselines**: magnitude pruning starts from the suite's canonical dense model (SGD), not from a dense model
#   trained with Adam, and both baselines get the Gumbel runs' number of epochs on top of the dense model's own
#   training (see the budget table); the Gumbel runs themselves are never fine-tuned. The pixel controls use one
#   seed and one draw of random pixels.
# * **Figures** are our design (the paper's five figures are unknown apart from the framework diagram and the
#   toy pathway figure); pathway colours are centred at 0 and units are ordered automatically, where the authors
#   used an uncentred map and hand-placed neurons. The MNIST pathway figure shows only the strongest paths per
#   digit, our choice for readability. The keep-probability histogram covers the toy only: the cached
#   MNIST runs keep the extracted mask, not the gate logits.
# * The final cell lists every target we set that was missed; it raises only with `strict_targets=True`, so that
#   `make reproduce` finishes and rewrites the figures even when a target is missed. The wall-time budget
#   depends on the machine and is not judged there; the epoch-cost ratio is judged although it, too, varies
#   between machines.

# %% [markdown] tags=[]
# The next cell checks the targets we set (quick and paper profiles; none is judged in the smoke profile) and
# lists any that were missed, with the measured value in the table above. With `strict_targets=True` it raises.

# %% tags=[]
missed = [f"{r['quantity']}: measured {pl.report.fmt(r['measured'], r['unit'])}, target {r['target']}"
          for r in headline if r["met"] is False and not r["volatile"]]
if not targets_apply:
    print("smoke profile (tiny subsets, numbers meaningless): no target is judged")
elif missed:
    print(f"MISSED ({profile}):\n  " + "\n  ".join(missed))
else:
    print("every target we set was met")
# with strict_targets, a missed target stops the run before results.json is written (the last cell)

# %% tags=[]
results = {
    "timings_s": {"mnist_runs": mnist_times},
    "toy": {"kept": toy["kept"], "density_argmax": toy_density, "density_sampled_last": float(toy_last["dhat"]),
            "test_mse_argmax": float(toy_last["test_mse_argmax"]),
            "test_mse_sampled": float(toy_last["test_mse_sampled"]), "split_ok": toy["split_ok"],
            "split_ok_raw": toy["split_ok_raw"], "edges_per_component": toy["check"]["edges_per_component"],
            "effective_kept": toy["effective"], "sign_symmetry": toy["sign_symmetry"],
            "seeds_split_ok": {str(k): v for k, v in seeds_split_ok.items()}, "steps": S["toy_steps"]},
    "mnist_runs": runs.to_dict("records"),
    "mnist_histories": {f"{lam:g}": {k: list(v.values()) for k, v in json.loads(mnist[lam]["history"].to_json()).items()}
                        for lam in sorted(mnist)},  # per-epoch histories (to_json writes NaN as null)
    "mnist_headline": {"lambda": head_lam, "kept": int(head["kept"]), "seeds": head_seeds,
                       "kept_per_seed": seed_table["kept"].tolist(), "acc_argmax": float(seed_table["acc_argmax"].mean()),
                       "acc_argmax_interval_pct": list(gumbel_iv), "acc_argmax_per_seed": seed_table["acc_argmax"].tolist(),
                       "val_acc_per_seed": seed_table["val_acc"].tolist(),
                       "acc_sampled_mean": float(seed_table["acc_sampled_mean"].mean()), "meets_budget": meets_budget,
                       "strongest_paths": strongest.to_dict("records")},
}

# %% tags=[]
results |= {
    "baseline": baseline.to_dict("records"),
    "baselines_at_headline": {"epochs": budget_epochs, "dense_epochs": dense_epochs, "rows": at_head.to_dict("records"),
                              "magnitude_interval_pct": list(mag_iv), "gradual_interval_pct": list(grad_iv),
                              "magnitude_verdict": mag_verdict, "gradual_verdict": grad_verdict},
    "pixel_controls": {"rows": controls.to_dict("records"),
                       "differences_pp": {k: list(v) for k, v in pixel_diffs.items()}, "verdicts": pixel_verdicts},
    "toy_keep_probabilities_settled": int(((toy_p < 0.05) | (toy_p > 0.95)).sum()),
    "dense_acc": dense_acc,
    "epoch_cost_s": cost,
    "headline": headline,
}
figures = ["lecture_masks_vs_temperature", "toy_training", "toy_pathways", "mnist_training", "mnist_pareto",
           "gate_keep_probabilities", "mnist_feature_importance", "mnist_pathways", "mnist_class_pathways"]

# %% tags=[]
doc = pl.files.jsonable(results)  # checked before it is written: a failed check keeps the old outputs
assert {"timings_s", "toy", "mnist_runs", "mnist_headline", "baseline", "dense_acc"} <= set(doc)
assert {"toy", "mnist_runs", "baseline"} <= {*doc["timings_s"], *run.timings}
assert {"kept", "density_argmax", "density_sampled_last", "test_mse_argmax", "test_mse_sampled", "split_ok",
        "split_ok_raw", "edges_per_component", "sign_symmetry", "seeds_split_ok"} <= set(doc["toy"])
assert all({"lambda", "epochs", "kept", "effective_kept", "density_weights_pct", "density_all_pct",
            "compression_weights", "compression_all", "acc_argmax", "acc_sampled_mean", "acc_sampled_std",
            "selected_pixels"} <= set(r) for r in doc["mnist_runs"])
assert {"lambda", "kept", "acc_argmax", "acc_sampled_mean", "meets_budget"} <= set(doc["mnist_headline"])
assert all({"kept", "acc_pruned", "acc_finetuned"} <= set(r) for r in doc["baseline"])
assert not (strict_targets and missed), f"targets missed ({profile}): {missed}"
path = run.write_results(results, figures=figures)  # written last: only a finished run replaces the figures
print(f"wrote {pl.paths.relpath(path)} and {len(figures)} figures; wall time {run.timings['total']:.0f} s")
