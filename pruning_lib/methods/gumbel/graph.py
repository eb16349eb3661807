"""Graph analysis of the kept connections (Zhang, Tao, Zhang 2023: interpretability, features and pathways).

A_l = M*_l^T as 0/1 matrices (in x out); path counts P = A_1 A_2 ... A_L (inputs x outputs). An edge is
*effective* if it lies on an input -> output path. Here also the toy's programmatic split check, the first
layer's pixel importance and sign symmetry, the unit order used to draw the kept graph, and the strongest
paths into each output (`top_paths`, drawn as the readable version of the pathway figure).
"""

from __future__ import annotations

import numpy as np
import torch

from ...checks import check_range


def mask_list(masks) -> list[torch.Tensor]:
    """Masks as a list of bool (out x in) tensors in layer order (from a dict or a list)."""
    ms = list(masks.values()) if isinstance(masks, dict) else list(masks)
    return [m.detach().cpu().bool() for m in ms]


def effective_edges(masks) -> list[torch.Tensor]:
    """Kept edges that lie on some input -> output path (source reachable from an input, target reaching an output)."""
    ms = mask_list(masks)
    if not ms:
        return []
    fwd = [torch.ones(ms[0].shape[1], dtype=torch.bool)]
    for m in ms:
        fwd.append((m.double() @ fwd[-1].double()) > 0)
    bwd = [torch.ones(ms[-1].shape[0], dtype=torch.bool)]
    for m in reversed(ms):
        bwd.insert(0, (m.double().T @ bwd[0].double()) > 0)
    return [m & bwd[i + 1][:, None] & fwd[i][None, :] for i, m in enumerate(ms)]


def path_counts(masks) -> torch.Tensor:
    """P = A_1 A_2 ... A_L with A_l = M_l^T: the number of input -> output paths (inputs x outputs, int64)."""
    ms = mask_list(masks)
    p = ms[0].double().T
    for m in ms[1:]:
        p = p @ m.double().T
    return p.round().long()


def components(masks) -> list[dict]:
    """Connected components of the undirected graph of the given edges (nodes = (layer, unit)), largest first.

    Each: {"nodes": {layer: [units]}, "inputs": [...], "outputs": [...], "edges": int}; isolated units are left out.
    """
    ms = mask_list(masks)
    if not ms:
        return []
    sizes = [ms[0].shape[1]] + [m.shape[0] for m in ms]
    offsets = np.cumsum([0] + sizes)
    parent = list(range(int(offsets[-1])))

    def find(a):
        """The root of node a (with path halving)."""
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    edges = []
    for layer, m in enumerate(ms):
        idx = torch.nonzero(m).numpy()
        for out_u, in_u in idx:
            a, b = int(offsets[layer] + in_u), int(offsets[layer + 1] + out_u)
            edges.append(a)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    touched = set()
    for layer, m in enumerate(ms):
        touched.update(int(offsets[layer] + u) for u in torch.nonzero(m.any(0)).flatten().tolist())
        touched.update(int(offsets[layer + 1] + u) for u in torch.nonzero(m.any(1)).flatten().tolist())
    comps: dict[int, dict] = {}
    for node in sorted(touched):
        layer = int(np.searchsorted(offsets, node, side="right") - 1)
        c = comps.setdefault(find(node), {"nodes": {}, "inputs": [], "outputs": [], "edges": 0})
        c["nodes"].setdefault(layer, []).append(node - int(offsets[layer]))
    for a in edges:
        comps[find(a)]["edges"] += 1
    last = len(ms)
    for c in comps.values():
        c["inputs"] = c["nodes"].get(0, [])
        c["outputs"] = c["nodes"].get(last, [])
    return sorted(comps.values(), key=lambda c: (-c["edges"], c["outputs"], c["inputs"]))


def split_check(masks, groups=((0, 1), (2, 3)), effective: bool = True) -> dict:
    """The toy's split check: one component per output, output j fed by exactly the inputs groups[j], all paths.

    Pass iff (1) exactly len(groups) components contain an output, (2) output j's component holds exactly the
    inputs groups[j], (3) every input of groups[j] has a path to output j. On effective edges by default.
    """
    ms = effective_edges(masks) if effective else mask_list(masks)
    comps = components(ms)
    with_output = [c for c in comps if c["outputs"]]
    p = path_counts(ms)
    ok = len(with_output) == len(groups)
    for j, group in enumerate(groups):
        mine = [c for c in with_output if j in c["outputs"]]
        ok = ok and len(mine) == 1 and sorted(mine[0]["inputs"]) == sorted(group)
        ok = ok and all(p[i, j] > 0 for i in group)
    return {
        "ok": bool(ok),
        "components_with_output": len(with_output),
        "edges_per_component": [c["edges"] for c in with_output],
        "inputs_per_component": [c["inputs"] for c in with_output],
        "outputs_per_component": [c["outputs"] for c in with_output],
    }


def pixel_importance(mask1: torch.Tensor, shape=(28, 28)) -> torch.Tensor:
    """Kept first-layer edges per input pixel (the first layer's mask summed over hidden units), as an image."""
    return mask1.detach().cpu().long().sum(0).reshape(shape)


def sign_symmetry(weight1: torch.Tensor, mask1: torch.Tensor) -> dict:
    """First-layer units fed by both x1 and x2 (and how many with opposite signs), and by x3 and x4 (same sign)."""
    w = (weight1.detach().cpu() * mask1.cpu()).numpy()
    both12 = (w[:, 0] != 0) & (w[:, 1] != 0)
    both34 = (w[:, 2] != 0) & (w[:, 3] != 0)
    return {
        "units_x1_x2": int(both12.sum()),
        "units_x1_x2_opposite_sign": int((both12 & (np.sign(w[:, 0]) != np.sign(w[:, 1]))).sum()),
        "units_x3_x4": int(both34.sum()),
        "units_x3_x4_same_sign": int((both34 & (np.sign(w[:, 2]) == np.sign(w[:, 3]))).sum()),
    }


def layer_orders(masks, sweeps: int = 4, drop_unused: bool = False) -> list[list[int]]:
    """Left-to-right unit order per layer: by the lowest output a unit's component holds, then by the barycentre
    of its neighbours (a few up and down sweeps). Outputs keep their order; units without a path to an output
    go to the right end, and units without any edge are dropped when `drop_unused` (outputs are always kept).
    """
    ms = mask_list(masks)
    last = len(ms)
    sizes = [ms[0].shape[1]] + [m.shape[0] for m in ms]
    rank = [np.full(n, np.inf) for n in sizes]
    rank[last] = np.arange(sizes[last], dtype=float)
    for c in components(ms):
        if c["outputs"]:
            for layer, units in c["nodes"].items():
                if layer < last:
                    rank[layer][units] = float(min(c["outputs"]))
    pos = [np.linspace(0.0, 1.0, n) for n in sizes]
    mats = [m.numpy().astype(float) for m in ms]  # layer l: out(l + 1) x in(l)
    for _ in range(sweeps):
        for layer in list(range(last - 1, -1, -1)) + list(range(1, last)):
            num, deg = mats[layer].T @ pos[layer + 1], mats[layer].sum(0)
            if layer > 0:
                num, deg = num + mats[layer - 1] @ pos[layer - 1], deg + mats[layer - 1].sum(1)
            bary = np.where(deg > 0, num / np.maximum(deg, 1), pos[layer])
            order = np.lexsort((bary, rank[layer]))
            pos[layer][order] = np.linspace(0.0, 1.0, len(order))
    orders = []
    for layer in range(last + 1):
        order = [int(u) for u in np.argsort(pos[layer], kind="stable")]
        if drop_unused and layer < last:
            used = mats[layer].sum(0) > 0
            if layer > 0:
                used |= mats[layer - 1].sum(1) > 0
            order = [u for u in order if used[u]]
        orders.append(order)
    return orders


def top_paths(weights, masks, k: int = 3) -> list[dict]:
    """The k strongest input -> output paths into every output, strength = product of |w| over the path's edges.

    A k-best dynamic programme over the layers (only kept edges, and only paths of nonzero strength). Each path:
    {"output", "rank" (0 = strongest), "units" (one unit per layer, input first), "strength", "sign" (+1 / -1,
    the product of the edges' signs)}; strongest first within each output, outputs in order.
    """
    check_range("k", k, 1, integer=True)
    ms = mask_list(masks)
    ws = [w.detach().cpu().double() for w in (weights.values() if isinstance(weights, dict) else weights)]
    score = torch.zeros(ms[0].shape[1], k, dtype=torch.float64)
    score[:, 0] = 1.0  # one empty path of strength 1 starts at every input; 0 marks "no path"
    backs = []
    for m, w in zip(ms, ws):
        cand = ((w.abs() * m)[:, :, None] * score[None]).reshape(m.shape[0], -1)  # out x (in * k)
        val, idx = cand.topk(min(k, cand.shape[1]), dim=1)
        score = torch.zeros(m.shape[0], k, dtype=torch.float64)
        score[:, : val.shape[1]] = val
        back = torch.zeros(m.shape[0], k, 2, dtype=torch.long)
        back[:, : val.shape[1], 0], back[:, : val.shape[1], 1] = idx // k, idx % k
        backs.append(back)
    paths = []
    for out in range(score.shape[0]):
        for rank in range(k):
            if score[out, rank] <= 0:
                break
            units, unit, r = [out], out, rank
            for back in reversed(backs):
                unit, r = (int(v) for v in back[unit, r])
                units.insert(0, unit)
            sign = int(np.prod([np.sign(float(w[b, a])) for w, a, b in zip(ws, units, units[1:])]))
            paths.append({"output": out, "rank": rank, "units": tuple(units),
                          "strength": float(score[out, rank]), "sign": sign})  # fmt: skip
    return paths


def path_masks(paths, masks) -> list[torch.Tensor]:
    """Bool masks (shaped like `masks`, layer order) holding exactly the edges of the given paths."""
    out = [torch.zeros_like(m) for m in mask_list(masks)]
    for p in paths:
        for layer, (a, b) in enumerate(zip(p["units"], p["units"][1:])):
            out[layer][b, a] = True
    return out
