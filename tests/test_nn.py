"""torch layers and the speech network: masks, k-WTA, float model == packed-ops pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import compsparse as cs  # noqa: E402
from compsparse.nn import GSCNet, KWinners, MaskedConv2d, MaskedLinear, kwinners_mask  # noqa: E402
from compsparse.nn.model import net_config  # noqa: E402

torch.set_num_threads(2)
VARIANTS = ["dense", "sparse-dense", "sparse-sparse"]
TINY = dict(in_hw=16, channels=(8, 8), hidden=24, n_classes=4)


def tiny(variant: str, seed: int = 0) -> GSCNet:
    sparse = variant != "dense"
    return GSCNet(
        net_config(
            variant,
            seed=seed,
            n_per_group=(2, 4, 4, 1) if sparse else (1, 1, 1, 1),
            k=(3, 3, 6) if variant == "sparse-sparse" else None,
            **TINY,
        )
    )


def test_masks_are_complementary_and_weights_zero_outside():
    conv = MaskedConv2d(6, 8, 5, n_per_group=4, seed=3)
    want = cs.complementary_masks(8, (6, 5, 5), 4, seed=3)
    assert np.array_equal(conv.mask.numpy(), want)
    assert torch.all(conv.weight[~conv.mask] == 0)
    assert conv.weight_sparsity() == pytest.approx(0.75)
    lin = MaskedLinear(40, 10, n_per_group=5, seed=1)
    assert lin.mask.sum() == 40 * 10 // 5 and lin.weight_sparsity() == pytest.approx(0.8)
    cs.pack(lin.masked_weight().detach().numpy(), 5)  # packs without collision


def test_pruned_weights_stay_zero_under_sgd_with_momentum_and_decay():
    lin = MaskedLinear(30, 6, n_per_group=3, seed=0)
    opt = torch.optim.SGD(lin.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
    mask = lin.mask.clone()
    for _ in range(5):
        loss = lin(torch.randn(8, 30)).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        assert torch.all(lin.weight.grad[~mask] == 0)
        opt.step()
    assert torch.equal(lin.mask, mask)
    assert torch.all(lin.weight[~mask] == 0) and torch.all(lin.weight[mask] != 0)


@given(st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_kwinners_mask_equals_cs_kwta_with_ties(seed, k):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 8, 3, 2)).astype(np.float32)  # many ties
    got = kwinners_mask(torch.from_numpy(x), k).numpy()
    for n in range(2):
        assert np.array_equal(np.flatnonzero(got[n]), cs.kwta(x[n], k, axis=0).indices)
    flat = x.reshape(2, -1)
    got = kwinners_mask(torch.from_numpy(flat), k).numpy()
    for n in range(2):
        assert np.array_equal(np.flatnonzero(got[n]), cs.kwta(flat[n], k).indices)


def test_kwinners_exact_k_gradients_and_duty_cycles():
    kw = KWinners(6, 2, boost_strength=0.0, duty_cycle_period=1000)
    x = torch.tensor([[1.0, 5.0, 5.0, 5.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    x.requires_grad_(True)
    kw.train()
    y = kw(x)
    assert y.detach().tolist() == [[0, 5, 5, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
    y.sum().backward()
    assert x.grad.tolist() == [[0, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]]  # winners only
    assert kw.duty_cycle.tolist() == [0.5, 1.0, 0.5, 0.0, 0.0, 0.0]
    kw.eval()
    kw(torch.ones(3, 6))
    assert kw.duty_cycle.tolist() == [0.5, 1.0, 0.5, 0.0, 0.0, 0.0]  # eval: no update


def test_local_kwinners_duty_cycle_per_channel_and_boosting():
    kw = KWinners(3, 1, boost_strength=0.0)
    kw.train()
    x = torch.tensor([[[[3.0, 0.0]], [[2.0, 1.0]], [[1.0, 0.5]]]])  # (1, 3, 1, 2)
    assert kw(x)[0, :, 0].tolist() == [[3, 0], [0, 1], [0, 0]]
    assert kw.duty_cycle.tolist() == [0.5, 0.5, 0.0]
    # a strong boost lets the never-winning channel 2 win where values are close
    kw.boost_strength.fill_(20.0)
    y = kw(torch.tensor([[[[1.0]], [[1.0]], [[0.9]]]]))
    assert y.flatten().tolist() == pytest.approx([0.0, 0.0, 0.9])
    kw.eval()  # inference never boosts
    assert kw(torch.tensor([[[[1.0]], [[1.0]], [[0.9]]]])).flatten().tolist() == [1, 0, 0]


def test_full_network_matches_the_paper_budget():
    for variant in VARIANTS:
        net = GSCNet(net_config(variant))
        owned = net.nonzero_weights()
        positions = sum(m.mask.numel() for m in net.masked_layers())
        assert positions == 1600 + 102400 + 2400000 + 18000
        if variant == "dense":
            assert owned == positions
        else:
            assert owned == 800 + 12800 + 96000 + 18000 == 127600
            # the measured sparsity of every layer is the configured 1 - 1/n
            for m in net.masked_layers():
                assert m.weight_sparsity() == pytest.approx(1 - 1 / m.n_per_group)
        logits = net(torch.zeros(2, 32, 32))
        assert logits.shape == (2, 12)
    net = GSCNet(net_config("sparse-sparse"))
    assert [(m.n, m.k) for m in net.kwinners()] == [(64, 7), (64, 7), (1500, 150)]
    split = GSCNet(net_config("sparse-sparse", n_per_group=(2, 4, 30, 1)))
    assert split.nonzero_weights() == 800 + 102400 // 4 + 2400000 // 30 + 18000 == 124400


@pytest.mark.parametrize("variant", VARIANTS)
def test_torch_model_equals_packed_ops_pipeline(variant):
    net = tiny(variant)
    net.input_offset.fill_(-40.0)
    net.input_std.fill_(15.0)
    x = torch.rand(32, 16, 16) * -80
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(3):  # move the weights and batch-norm statistics away from their init
        loss = net(x).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        want = net(x[:6]).double().numpy()
    fm = net.to_float_model()
    np.testing.assert_allclose(fm.logits(x[:6].numpy()), want, rtol=1e-4, atol=1e-4)
    for i in range(6):
        steps = fm.forward_layers(x[i].numpy())  # cs.conv2d / cs.linear / cs.kwta, packed
        np.testing.assert_allclose(steps[-1]["acc"], want[i], rtol=1e-5, atol=1e-5)
        if variant == "sparse-sparse":
            assert all(isinstance(s["input"], cs.SparseActivation) for s in steps[1:])
            assert [s["input"].nnz for s in steps[1:]] == [3 * 6 * 6, 3 * 1 * 1, 6]
        else:
            assert all(isinstance(s["input"], np.ndarray) for s in steps)


def test_folded_layers_keep_the_masks():
    net = tiny("sparse-sparse")
    net.eval()
    fm = net.to_float_model()
    for layer, module in zip(fm.layers, net.masked_layers(), strict=True):
        assert np.array_equal(layer.mask, module.mask.numpy())
        assert np.all(layer.weight[~layer.mask] == 0)
        P = layer.packed()
        assert P.n_groups == -(-layer.weight.shape[0] // layer.n_per_group)


def test_affine_batch_norm_folds_exactly_even_with_negative_scales():
    net = GSCNet(
        net_config("sparse-sparse", n_per_group=(2, 4, 4, 1), k=(3, 3, 6), bn_affine=True, **TINY)
    )
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for bn in (net.bn1, net.bn2, net.bn3):
            bn.weight.copy_(torch.randn(bn.weight.shape, generator=gen))  # some negative
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen))
            bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=gen))
            bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=gen) + 0.5)
    net.eval()
    x = torch.rand(4, 16, 16) * -80
    with torch.no_grad():
        want = net(x).double().numpy()
    fm = net.to_float_model()
    np.testing.assert_allclose(fm.logits(x.numpy()), want, rtol=1e-4, atol=1e-4)
