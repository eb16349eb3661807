"""Notebook 04's plan (`nr.experiments`): one task per net and per run, and a filled cache that the loops only hit."""

from conftest import mnist_or_skip

from pruning_lib import cache, jobs
from pruning_lib.methods.neurons import experiments as ex

TINY = dict(cos_n=200, cos_nets=[[1, 3, 1], [1, 3, 3, 1]], cos_epochs=1, shape_draw=400, shape_test=200,
            shape_net=[2, 3, 3, 1], shape_epochs=1, mnist_train=300, mnist_test=100,
            mnist_nets=[[784, 4, 10], [784, 3, 3, 10]], mnist_epochs=1, digit_net=[784, 4, 2],
            digit_max_epochs=1, mnist_seeds=2)  # fmt: skip


def test_plan_lists_every_net_and_run_once():
    nets, runs = ex.net_tasks(TINY, 0, "cpu"), ex.prune_tasks(TINY, 0, "cpu", 2**12)
    assert len(nets) == 9 + 2  # nine nets, the two MNIST nets on a second seed
    per_net = {"cosine": 5, "shape": 5, "digit": 5, "mnist": 10}  # Alg. II: BF, 2 x 2 Taylor; MNIST + Alg. I
    count_runs = 2 * 6  # the second seed of each MNIST net: Alg. II and Alg. I brute force, no Alg. I Taylor
    expected = sum(per_net[fam] for fam, _ in ex.layout(TINY).values()) + count_runs
    assert len(runs) == expected and len({t.name for t in runs}) == expected
    names = {t.name for t in nets}
    assert all(len(t.needs) == 1 and t.needs[0] in names for t in runs)
    assert all(t.cost > 0 for t in nets + runs)
    big = {**TINY, "mnist_train": 60_000, "mnist_nets": [[784, 100, 10], [784, 50, 50, 10]]}
    cost = {t.name: t.cost for t in ex.prune_tasks(big, 0, "cpu", 2**12)}
    full, count = "prune mnist_100 seed 0 {}", "prune mnist_100 seed 1 {}"
    assert (
        cost[full.format("rerank/bf")]
        > cost[full.format("rerank/taylor1/paper")]
        > cost[full.format("single/bf")]
    )
    assert cost[count.format("rerank/bf")] < cost[full.format("rerank/bf")]  # a count run stops early
    jobs.resolve(nets[0].fn), jobs.resolve(runs[0].fn)


def test_the_plan_fills_the_cache_the_notebook_reads(tmp_path, monkeypatch):
    mnist_or_skip()
    monkeypatch.setenv("PRUNING_CACHE", str(tmp_path))
    ran = jobs.run_tasks(ex.net_tasks(TINY, 0, "cpu") + ex.prune_tasks(TINY, 0, "cpu", 2**12), jobs=1)
    assert len(ran) == 11 + 67
    all_nets = ex.nets(TINY, ex.data_sets(TINY, 0, "cpu"))
    for n, (fam, _, _) in all_nets.items():
        for s in ex.seeds(TINY, 0)[n]:
            net, _, hit = ex.train_net(n, TINY, all_nets, s, "cpu")
            assert hit, (n, s)
            for sch, c, v in ex.runs_of(fam, s, 0):
                r, hit = ex.prune_run(n, TINY, all_nets, net, s, 0, sch, c, v, 2**12)
                assert hit and len(r.order) >= 1, (n, s, sch, c, v)
    assert cache.cache_dir() == tmp_path
