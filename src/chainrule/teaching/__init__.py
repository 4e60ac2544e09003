"""Teaching instruments: the step trace, the gradient check, and plots.

Front ends built on the whole library; nothing below imports them.
"""
