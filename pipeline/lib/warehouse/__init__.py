"""Warehouse layer: the core model, its checks and intake bounds, locks and the state of the warehouse file."""
