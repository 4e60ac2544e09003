"""Seed 001's worked step in plain NumPy, every number printed, then the same step by chainrule.

The documentation build runs this file; the guide "One backpropagation step, every number"
shows this code and what it printed.
"""

import numpy as np

import chainrule as cr


def lesson_step() -> dict[str, np.ndarray]:
    """The lesson's step, written as the lesson writes it (row vectors, no biases)."""
    x = np.array([0.5, 0.1, -0.2])
    target = 0.6
    learnrate = 0.5
    weights_input_hidden = np.array([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])
    weights_hidden_output = np.array([0.1, -0.3])

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    # forward
    hidden_in = x @ weights_input_hidden  # z1
    hidden_out = sigmoid(hidden_in)  # a1
    output_in = hidden_out @ weights_hidden_output  # z2
    output = sigmoid(output_in)  # a2
    # backward: the error term of each layer (the lesson's sign: target - output)
    error = target - output
    output_error_term = error * output * (1 - output)
    hidden_error_term = output_error_term * weights_hidden_output * hidden_out * (1 - hidden_out)
    # the weight changes
    delta_w_h_o = learnrate * output_error_term * hidden_out
    delta_w_i_h = learnrate * hidden_error_term * x[:, None]
    return {
        "x": x,
        "z1": hidden_in,
        "a1": hidden_out,
        "z2": np.array(output_in),
        "a2": np.array(output),
        "error": np.array(error),
        "loss": np.array(0.5 * error**2),
        "output_error_term": np.array(output_error_term),
        "hidden_error_term": hidden_error_term,
        "dw_ho": delta_w_h_o,
        "dW_ih": delta_w_i_h,
    }


def chainrule_step() -> cr.StepTrace:
    """The same step with chainrule: a 3-2-1 sigmoid network, no biases, SGD with lr 0.5."""
    net = cr.Network(
        [
            cr.Dense(3, 2, "sigmoid", bias=False, weights=[[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]),
            cr.Dense(2, 1, "sigmoid", bias=False, weights=[[0.1], [-0.3]]),
        ]
    )
    return cr.trace_step(net, [0.5, 0.1, -0.2], [0.6], loss="half_sse", optimizer=cr.SGD(lr=0.5))


if __name__ == "__main__":
    numbers = lesson_step()
    for name, value in numbers.items():
        print(f"{name:17s} = {np.array2string(np.asarray(value), precision=8)}")
    trace = chainrule_step()
    print()
    print("chainrule, change in W2 (hidden -> output):", trace.layers[1].changes["W"].ravel())
    print("chainrule, change in W1 (input -> hidden):")
    print(trace.layers[0].changes["W"])
    same = np.allclose(trace.layers[1].changes["W"].ravel(), numbers["dw_ho"], rtol=1e-12) and np.allclose(
        trace.layers[0].changes["W"], numbers["dW_ih"], rtol=1e-12
    )
    print("chainrule's weight changes equal the lesson's:", same)
