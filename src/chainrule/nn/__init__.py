"""The maths of a network: activations, initialisers, losses, metrics, input checks, layers.

Nothing here knows about training or files; `chainrule.train` and `chainrule.io` build on it.
"""
