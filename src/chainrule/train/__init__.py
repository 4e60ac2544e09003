"""How a network learns: optimizers, schedules, the step, the epoch loop, callbacks, history.

Built on `chainrule.nn`; it needs only what a network does (`chainrule.train.loop.Trainable`).
"""
