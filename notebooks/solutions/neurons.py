"""Reference answers to the exercises of notebook 04 (removing whole neurons). Try them yourself first."""

import torch

from pruning_lib.methods import neurons as nr


def bf_by_hand(net, X, T, k):
    """Exact change of the SSE when hidden neuron k of a one-hidden-layer sigmoid net is removed (output set to 0)."""
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    W2, b2 = net.layers[1].weight, net.layers[1].bias
    h = torch.sigmoid(X @ W1.T + b1)  # hidden outputs (N, n_hidden)
    a = h @ W2.T + b2  # output pre-activations (N, n_out)
    a_without = a - h[:, k : k + 1] * W2[:, k]  # neuron k's contribution taken out (a rank-1 change)
    E = 0.5 * (torch.sigmoid(a) - T).square().sum()
    E_without = 0.5 * (torch.sigmoid(a_without) - T).square().sum()
    return (E_without - E).item()


def taylor2_by_hand(net, X, T, k):
    """The paper's 2nd-order estimate of the SSE change for removing hidden neuron k of a one-hidden-layer net."""
    W1, b1 = net.layers[0].weight, net.layers[0].bias
    W2, b2 = net.layers[1].weight, net.layers[1].bias
    h = torch.sigmoid(X @ W1.T + b1)  # hidden outputs (N, n_hidden)
    o = torch.sigmoid(h @ W2.T + b2)  # net outputs (N, n_out)
    d1 = o * (1 - o)  # sigma'(a)
    d2 = d1 * (1 - 2 * o)  # sigma''(a)
    delta = (o - T) * d1  # dE_n/da
    s = d1.square() + (o - T) * d2  # d2E_n/da2
    g = delta @ W2[:, k]  # dE_n/dO_k (N,)
    H = s @ W2[:, k].square()  # d2E_n/dO_k2 (N,): exact, the output pre-activations are linear in h
    Ok = h[:, k]
    return (-(Ok * g) + 0.5 * Ok.square() * H).sum().item()


prediction = "different first neuron"


def rerank_order(net, X, T, n):
    """Global ids of the first n neurons that serial brute force removes, re-scoring after every removal."""
    masks = net.full_masks()
    ids = nr.neuron_ids(net.sizes)
    order = []
    for _ in range(n):
        scores = torch.cat(nr.bf_scores(net, X, T, masks))
        scores[order] = float("inf")  # removed neurons cannot go again
        k = int(scores.argmin())  # the first of equal minima: the lowest id
        layer, index = ids[k]
        masks[layer][index] = False
        order.append(k)
    return order
