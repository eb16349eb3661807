"""Notebook 04's exercise checks accept the reference answers and reject wrong ones."""

import pytest
import torch

from pruning_lib.exercises import ExerciseError, neurons, solution


def stub(*args):
    raise NotImplementedError


def test_bf_by_hand():
    right = solution("neurons", "bf_by_hand")
    assert neurons.check_neuron_bf_by_hand(right) is True
    assert neurons.check_neuron_bf_by_hand(stub) is False

    def bias_kept(net, X, T, k):  # zeroes the incoming weights: the neuron still outputs sigma(b_k)
        W1, b1 = net.layers[0].weight.clone(), net.layers[0].bias
        W1[k] = 0
        W2, b2 = net.layers[1].weight, net.layers[1].bias
        E = lambda h: 0.5 * (torch.sigmoid(h @ W2.T + b2) - T).square().sum()  # noqa: E731
        return (E(torch.sigmoid(X @ W1.T + b1)) - E(torch.sigmoid(X @ net.layers[0].weight.T + b1))).item()

    with pytest.raises(ExerciseError, match="incoming weights"):
        neurons.check_neuron_bf_by_hand(bias_kept)
    with pytest.raises(ExerciseError, match="factor ½"):
        neurons.check_neuron_bf_by_hand(lambda net, X, T, k: 2 * right(net, X, T, k))
    with pytest.raises(ExerciseError, match="wrong sign"):
        neurons.check_neuron_bf_by_hand(lambda net, X, T, k: -right(net, X, T, k))
    with pytest.raises(ExerciseError, match="one number"):
        neurons.check_neuron_bf_by_hand(lambda net, X, T, k: torch.zeros(3))


def test_taylor2_by_hand():
    right = solution("neurons", "taylor2_by_hand")
    assert neurons.check_neuron_taylor2_by_hand(right) is True
    assert neurons.check_neuron_taylor2_by_hand(stub) is False
    bf = solution("neurons", "bf_by_hand")

    def first_order(net, X, T, k):
        h = torch.sigmoid(X @ net.layers[0].weight.T + net.layers[0].bias)
        o = torch.sigmoid(h @ net.layers[1].weight.T + net.layers[1].bias)
        return (-(h[:, k] * (((o - T) * o * (1 - o)) @ net.layers[1].weight[:, k]))).sum().item()

    def gauss_newton(net, X, T, k):  # drops (o - t) sigma'' from the output's second derivative
        h = torch.sigmoid(X @ net.layers[0].weight.T + net.layers[0].bias)
        o = torch.sigmoid(h @ net.layers[1].weight.T + net.layers[1].bias)
        H = (o * (1 - o)).square() @ net.layers[1].weight[:, k].square()
        return first_order(net, X, T, k) + 0.5 * (h[:, k].square() * H).sum().item()

    with pytest.raises(ExerciseError, match="1st-order estimate"):
        neurons.check_neuron_taylor2_by_hand(first_order)
    with pytest.raises(ExerciseError, match="wrong sign"):
        neurons.check_neuron_taylor2_by_hand(lambda *a: 2 * first_order(*a) - right(*a))
    with pytest.raises(ExerciseError, match="ΔE² of neuron"):
        neurons.check_neuron_taylor2_by_hand(gauss_newton)
    with pytest.raises(ExerciseError, match="ΔE² of neuron"):
        neurons.check_neuron_taylor2_by_hand(bf)  # the true change is not the estimate


def test_first_order_ranking_prediction():
    assert neurons.check_first_order_ranking_prediction(solution("neurons", "prediction")) is True
    assert neurons.check_first_order_ranking_prediction(None) is False
    with pytest.raises(ExerciseError, match="the measurement says"):
        neurons.check_first_order_ranking_prediction("same order")
    with pytest.raises(ExerciseError, match="should be one of"):
        neurons.check_first_order_ranking_prediction("yes")


def test_rerank_order():
    from pruning_lib.methods import neurons as nr

    assert neurons.check_rerank_order(solution("neurons", "rerank_order")) is True
    assert neurons.check_rerank_order(stub) is False

    def single_ranking(net, X, T, n):  # scores once (Algorithm I)
        return torch.argsort(torch.cat(nr.bf_scores(net, X, T)), stable=True)[:n].tolist()

    def never_excludes(net, X, T, n):  # removed neurons score 0 and can win again
        masks, ids, order = net.full_masks(), nr.neuron_ids(net.sizes), []
        for _ in range(n):
            k = int(torch.cat(nr.bf_scores(net, X, T, masks)).argmin())
            masks[ids[k][0]][ids[k][1]] = False
            order.append(k)
        return order

    with pytest.raises(ExerciseError, match="single ranking"):
        neurons.check_rerank_order(single_ranking)
    with pytest.raises(ExerciseError, match="removed twice"):
        neurons.check_rerank_order(never_excludes)
    with pytest.raises(ExerciseError, match="asked for"):
        neurons.check_rerank_order(lambda net, X, T, n: solution("neurons", "rerank_order")(net, X, T, n - 1))
