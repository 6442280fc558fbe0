"""Figures of the book, drawn from data that code produced.

One submodule per topic (``viz.packing``, ``viz.training``, ...); import the one you need. Every
function returns a matplotlib figure (or a kernel-free HTML animation) and has a test. Nothing in
the package imports ``viz``.
"""
