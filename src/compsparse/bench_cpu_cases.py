"""The candidates the CPU benchmark times: dense and CSR PyTorch, the numpy reference, the engine.

Every candidate is a zero-argument callable plus a description (``kind``, ``mode``, ``path``,
``threads``). Inputs are prepared outside the callables, so a timing covers the work only:

* **per layer**: the layer's Multiply-Route-Sum (conv or linear, no bias, pooling or k-WTA) on
  the input the layer really receives in the sparse-sparse network: a dense tensor (zeros where
  k-WTA dropped values) for PyTorch, the winners for the sparse-sparse kernels, the dense
  ReLU output before k-WTA for the sparse-dense kernels;
* **whole network**: features in, logits out, with everything between (pooling, ReLU or
  requantisation, k-WTA).

Book: chapter "Beyond the FPGA" (book/13_cpu.ipynb).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .costmodel import conv2d_macs, linear_macs
from .fast import FastNet
from .fast import kernels as K
from .fast.layout import (
    conv_dense_rows,
    conv_routed_rows,
    conv_taps,
    float32_rows_if_exact,
    linear_dense_rows,
    linear_routed_rows,
)
from .fast.net import _pool
from .fast.parallel import conv_ss_split, conv_taps_sd_split, split_threads_ok
from .kwta import SparseActivation
from .ops import conv2d, linear
from .packing import PackedKernels

__all__ = ["layer_macs", "layer_rows", "network_rows"]


def layer_macs(model) -> dict[str, dict]:
    """MACs per word of each layer of a QuantModel (its packing, and k of the layer before).

    conv1's input is dense, so its sparse-sparse count is its sparse-dense one.
    """
    out, k_prev = {}, None
    for i, layer in enumerate(model.layers):
        P = layer.weights
        if layer.kind == "conv2d":
            c_in, kh, kw = P.kernel_shape
            oh, ow = layer.acc_shape[1:]
            m = conv2d_macs(c_in, P.n_kernels, (kh, kw), (oh, ow), P.n_per_group, k_prev)
        else:
            m = linear_macs(P.kernel_shape[0], P.n_kernels, P.n_per_group, k_prev)
        out[layer.name] = m._asdict()
        nxt = model.layers[i + 1] if i + 1 < len(model.layers) else None
        if layer.k is None or nxt is None:
            k_prev = None
        elif layer.kind == "conv2d" and nxt.kind == "linear":  # k per pixel, then flattened
            k_prev = layer.k * int(np.prod(layer.out_shape[1:]))
        else:
            k_prev = layer.k
    return out


def _torch():
    import torch

    return torch


def _csr(w):
    """``w`` (2-D) as a torch CSR tensor (quietly: torch warns that CSR is in beta)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return w.to_sparse_csr()


def _with_threads(fn, threads):
    torch = _torch()

    def call():
        torch.set_num_threads(threads)
        return fn()

    return call


def _chunks(run_one, n, threads):
    """Run ``run_one(i)`` for ``i < n``; with ``threads > 1`` in chunks on a thread pool."""
    if threads <= 1 or n <= 1:

        def call():
            for i in range(n):
                run_one(i)

        return call
    parts = [c for c in np.array_split(np.arange(n), threads) if c.size]
    pool = _pool(len(parts))

    def loop(idx):
        for i in idx:
            run_one(i)

    def call():
        for f in [pool.submit(loop, p) for p in parts]:
            f.result()

    return call


def _split_threads(batch: int, threads: int) -> int:
    """Threads that share one word (batch 1 only, and only where launches are cheap)."""
    return threads if batch == 1 and threads > 1 and split_threads_ok() else 1


def _meta(kind, mode, path, threads, strategy=None):
    return {"kind": kind, "mode": mode, "path": path, "threads": threads, "strategy": strategy}


def _pixel_lists(a: SparseActivation, dtype):
    c, i, j = np.unravel_index(a.indices, a.shape)
    pix = i * a.shape[2] + j
    order = np.argsort(pix, kind="stable")
    counts = np.bincount(pix, minlength=a.shape[1] * a.shape[2])
    pstart = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return pstart, c[order].astype(np.int64), np.ascontiguousarray(a.values[order], dtype)


def _fast_layer(layer_f, layer_q, dense_in, sparse_in, batch, threads, split=1):
    """Engine candidates of one layer for ``batch`` words: {name: (callable, meta)}.

    ``split > 1`` (batch 1) adds conv candidates with the one word shared by ``split`` threads
    (:mod:`compsparse.fast.parallel`), named ``... split``.
    """
    out = {}
    for mode, layer, dins, sins in (
        ("float32", layer_f, dense_in["float32"], sparse_in["float32"]),
        ("int8", layer_q, dense_in["int8"], sparse_in["int8"]),
    ):
        P = layer.weights if mode == "int8" else layer.packed()
        wdt, adt = (np.int16, np.int32) if mode == "int8" else (np.float32, np.float32)
        if mode == "int8":  # its int8 values in int16 lanes, as FastNet holds them
            P = PackedKernels(P.values.astype(wdt), P.kernel_ids, P.n_per_group, P.n_kernels)
        n_pad = P.n_groups * P.n_per_group
        if layer.kind == "conv2d":
            _, kh, kw = P.kernel_shape
            h, w = layer.in_shape[1:]
            oh, ow = h - kh + 1, w - kw + 1
            T = conv_taps(P, (h, w))
            xs = [np.ascontiguousarray(x, wdt).ravel() for x in dins]
            bufs = [np.empty((P.n_kernels, (oh - 1) * w + ow), adt) for _ in range(batch)]
            sd = _chunks(
                lambda i, T=T, xs=xs, b=bufs: K.conv_taps_sd(
                    xs[i], T.start, T.offset, T.weight, b[i]
                ),
                batch,
                threads,
            )
            out[f"fast sparse-dense {mode}"] = (sd, _meta("fast", mode, "sparse-dense", threads))
            if split > 1:
                out[f"fast sparse-dense {mode} split"] = (
                    partial(conv_taps_sd_split, xs[0], T.start, T.offset, T.weight, bufs[0], split),
                    _meta("fast", mode, "sparse-dense", split),
                )
            if sins is None:
                continue
            lists = [_pixel_lists(a, wdt) for a in sins]
            accs = [np.empty((oh, ow * n_pad), adt) for _ in range(batch)]
            R, D = conv_routed_rows(P), conv_dense_rows(P)

            def routed(i, R=R, lists=lists, accs=accs, hw=(h, w), g=(kh, kw, n_pad)):
                K.conv_routed_ss(*lists[i], hw, R.values, R.route, *g, accs[i], 0, hw[0])

            def rows(i, D=D, lists=lists, accs=accs, hw=(h, w), g=(kh, kw, n_pad)):
                K.conv_dense_rows_ss(*lists[i], hw, D.values, *g, accs[i], 0, hw[0])

            if split > 1:
                acc_parts = np.empty((split, oh, ow * n_pad), adt)
                args = (*lists[0], (h, w))
                for strategy, vals, route in (
                    ("routed", R.values, R.route),
                    ("rows", D.values, np.zeros((0, 0), np.int16)),
                ):
                    ss_split = partial(
                        conv_ss_split, *args, vals, route, kh, kw, n_pad, acc_parts, split
                    )
                    out[f"fast sparse-sparse {mode} {strategy} split"] = (
                        ss_split,
                        _meta("fast", mode, "sparse-sparse", split, strategy),
                    )
        else:
            R, D = linear_routed_rows(P), linear_dense_rows(P)
            xs = [np.ascontiguousarray(x, wdt).ravel() for x in dins]
            ys = [np.empty(n_pad, adt) for _ in range(batch)]
            sd = _chunks(
                lambda i, R=R, xs=xs, ys=ys: K.linear_routed_sd(xs[i], R.values, R.route, ys[i]),
                batch,
                threads,
            )
            out[f"fast sparse-dense {mode}"] = (sd, _meta("fast", mode, "sparse-dense", threads))
            if sins is None:
                continue
            sp = [(a.indices, np.ascontiguousarray(a.values, wdt), a.nnz) for a in sins]
            R = float32_rows_if_exact(R, P)  # as FastNet runs it
            ydt = np.float32 if R.values.dtype == np.float32 else adt
            ys_routed = [np.empty(n_pad, ydt) for _ in range(batch)]

            def routed(i, R=R, sp=sp, ys=ys_routed):
                K.linear_routed_ss(*sp[i], R.values, R.route, ys[i])

            def rows(i, D=D, sp=sp, ys=ys):
                K.linear_dense_rows_ss(*sp[i], D.values, ys[i])

        for strategy, fn in (("routed", routed), ("rows", rows)):
            name = f"fast sparse-sparse {mode} {strategy}"
            meta = _meta("fast", mode, "sparse-sparse", threads, strategy)
            out[name] = (_chunks(fn, batch, threads), meta)
    return out


def _flat(a: SparseActivation, layer) -> SparseActivation:
    """The winners in the layer's input shape (conv2's (c, h, w) flattens for linear1)."""
    shape = tuple(layer.in_shape)
    return a if a.shape == shape else SparseActivation(a.indices, a.values, shape)


def layer_rows(f_ss, q_ss, features, batch, threads, numpy_ref=True) -> list[dict]:
    """One row per layer: {name, batch, macs, candidates{name: (callable, meta)}}."""
    torch = _torch()
    F = torch.nn.functional
    runs_f = [f_ss.forward_layers(x) for x in features[:batch]]
    runs_q = [q_ss.forward_layers(x) for x in features[:batch]]
    macs = layer_macs(q_ss)
    rows = []
    for li, (lf, lq) in enumerate(zip(f_ss.layers, q_ss.layers, strict=True)):
        P = lf.packed()
        w_dense = torch.from_numpy(P.unpack().astype(np.float32))
        if li == 0:
            dense_f = [r[0]["input"].astype(np.float32) for r in runs_f]
            dense_q = [np.asarray(r[0].input) for r in runs_q]
            sparse_f = sparse_q = None
            torch_in = dense_f
        else:
            dense_f = [np.asarray(r[li - 1]["out"], np.float32) for r in runs_f]
            dense_q = [np.asarray(r[li - 1].out) for r in runs_q]
            sparse_f = [_flat(r[li - 1]["active"], lf) for r in runs_f]
            sparse_q = [_flat(r[li - 1].active, lq) for r in runs_q]
            torch_in = [a.to_dense().astype(np.float32) for a in sparse_f]
        tx = torch.from_numpy(np.stack([x.reshape(lf.in_shape) for x in torch_in]))
        if lf.kind == "conv2d":
            wcsr = _csr(w_dense.reshape(len(w_dense), -1))
            kh = P.kernel_shape[1]

            def dense(tx=tx, w=w_dense):
                with torch.no_grad():
                    return F.conv2d(tx, w)

            def csr(tx=tx, w=wcsr, kh=kh):
                with torch.no_grad():
                    cols = F.unfold(tx, kh)  # (B, c*kh*kw, L)
                    cols = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)
                    return torch.sparse.mm(w, cols)

            ref_inputs = sparse_f if sparse_f is not None else dense_f

            def ref(xs=ref_inputs, P=P):
                for x in xs:
                    conv2d(x, P)
        else:
            wcsr = _csr(w_dense)

            def dense(tx=tx, w=w_dense):
                with torch.no_grad():
                    return F.linear(tx, w)

            def csr(tx=tx, w=wcsr):
                with torch.no_grad():
                    return torch.sparse.mm(w, tx.T)

            ref_inputs = sparse_f

            def ref(xs=ref_inputs, P=P):
                for x in xs:
                    linear(x, P)

        cands = {}
        for t in sorted({1, threads}):
            cands[f"torch dense float32 ({t}t)"] = (
                _with_threads(dense, t),
                _meta("torch", "float32", "dense", t),
            )
        cands["torch CSR float32"] = (
            _with_threads(csr, threads),
            _meta("torch", "float32", "csr", threads),
        )
        if numpy_ref:
            path = "sparse-dense" if sparse_f is None else "sparse-sparse"
            cands["numpy reference"] = (ref, _meta("numpy", "float32", path, 1))
        fast = _fast_layer(
            lf,
            lq,
            {"float32": dense_f, "int8": dense_q},
            {"float32": sparse_f, "int8": sparse_q},
            batch,
            threads if batch > 1 else 1,
            split=_split_threads(batch, threads),
        )
        cands.update(fast)
        rows.append(
            {
                "scope": "layer",
                "name": lf.name,
                "batch": batch,
                "macs": macs[lf.name],
                "candidates": cands,
            }
        )
    return rows


def _torch_net(f_model, kwta: bool, csr: bool):
    """The float model in PyTorch, weights unpacked (dense) or CSR; k-WTA by topk if asked."""
    torch = _torch()
    F = torch.nn.functional
    ws = [torch.from_numpy(ly.packed().unpack().astype(np.float32)) for ly in f_model.layers]
    bs = [torch.from_numpy(ly.bias.astype(np.float32)) for ly in f_model.layers]
    wcsr = [_csr(w.reshape(len(w), -1)) for w in ws]
    off, std = np.float32(f_model.input_offset), np.float32(f_model.input_std)

    def keep_topk(y, k, dim):
        idx = torch.topk(y, k, dim=dim).indices
        return torch.zeros_like(y).scatter_(dim, idx, y.gather(dim, idx))

    def layer(i, y):
        ly = f_model.layers[i]
        if ly.kind == "conv2d":
            if csr:
                b, kh = y.shape[0], ws[i].shape[2]
                cols = F.unfold(y, kh)
                oh = y.shape[2] - kh + 1
                z = torch.sparse.mm(wcsr[i], cols.permute(1, 0, 2).reshape(cols.shape[1], -1))
                z = z.reshape(len(ws[i]), b, oh, -1).permute(1, 0, 2, 3) + bs[i][:, None, None]
            else:
                z = F.conv2d(y, ws[i], bs[i])
            z = F.max_pool2d(z, ly.pool) if ly.pool > 1 else z
        else:
            y = y.flatten(1)
            z = (torch.sparse.mm(wcsr[i], y.T).T + bs[i]) if csr else F.linear(y, ws[i], bs[i])
        if not ly.relu:
            return z
        z = torch.relu(z)
        if kwta and ly.k is not None:
            z = keep_topk(z, ly.k, 1)  # conv: per pixel over channels; linear: over units
        return z

    def net(x):
        with torch.no_grad():
            y = (x - off) / std
            for i in range(len(f_model.layers)):
                y = layer(i, y)
            return y

    return net


def network_rows(models, features, batch, threads, numpy_ref=True) -> dict:
    """The whole-network row for ``batch`` words: {name, batch, macs, candidates}."""
    torch = _torch()
    f_ss, q_ss, f_sd, q_sd = models
    x = np.ascontiguousarray(features[:batch], np.float32)
    tx = torch.from_numpy(x[:, None].copy())
    cands = {}
    for t in sorted({1, threads}):
        for kwta, label in ((False, "torch dense float32"), (True, "torch dense+k-WTA float32")):
            net = _torch_net(f_ss, kwta, csr=False)
            cands[f"{label} ({t}t)"] = (
                _with_threads(lambda net=net: net(tx), t),
                _meta("torch", "float32", "dense", t),
            )
    csr_net = _torch_net(f_ss, False, csr=True)
    cands["torch CSR float32"] = (
        _with_threads(lambda: csr_net(tx), threads),
        _meta("torch", "float32", "csr", threads),
    )
    if numpy_ref:
        cands["numpy reference float"] = (
            lambda: [f_ss.forward_layers(w) for w in x],
            _meta("numpy", "float64", "sparse-sparse", 1),
        )
        cands["numpy reference int8"] = (
            lambda: [q_ss.forward_layers(w) for w in x],
            _meta("numpy", "int8", "sparse-sparse", 1),
        )
    t_fast = threads if batch > 1 else 1
    engines = []
    for mode, f_model, q_model, path in (
        ("float32", f_sd, q_sd, "sparse-dense"),
        ("int8", f_sd, q_sd, "sparse-dense"),
        ("float32", f_ss, q_ss, "sparse-sparse"),
        ("int8", f_ss, q_ss, "sparse-sparse"),
    ):
        strategies = ["auto"] if path == "sparse-dense" else ["auto", "routed", "rows"]
        for s in strategies:
            net = (
                FastNet.from_quant(q_model, s) if mode == "int8" else FastNet.from_float(f_model, s)
            )
            name = f"fast {path} {mode}" + ("" if path == "sparse-dense" else f" {s}")
            engines.append((name, net, mode, path))
    split = _split_threads(batch, threads)
    for name, net, mode, path in engines:
        strategy = None if path == "sparse-dense" else "+".join(net.strategies)
        if t_fast == 1:
            bufs, out = net.buffers(), np.empty((batch, len(net.arrays["b4"])), net.acc_dtype)
            fn = net.bind(x, bufs, out)
        else:

            def fn(net=net):
                return net.logits(x, threads=t_fast)

        cands[name] = (fn, _meta("fast", mode, path, t_fast, strategy))
        if split > 1 and (path == "sparse-dense" or name.endswith("auto")):
            bufs, out = net.buffers(split), np.empty((1, len(net.arrays["b4"])), net.acc_dtype)
            cands[f"{name} split"] = (
                net.bind(x, bufs, out, split),
                _meta("fast", mode, path, split, strategy),
            )
    per_layer = layer_macs(q_ss).values()
    macs = {k: sum(m[k] for m in per_layer) for k in ("dense", "sparse_dense", "sparse_sparse")}
    return {
        "scope": "network",
        "name": "network",
        "batch": batch,
        "macs": macs,
        "candidates": cands,
    }
