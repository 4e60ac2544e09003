"""The implementations the benchmarks race, each training the same network from the same weights.

Every contender is a class with ``setup(weights)`` (load the common initial weights), ``epoch()``
(train one pass over the batches the workload gives it) and ``loss()`` (the loss on a fixed
evaluation batch afterwards, to check that nobody was timed doing less work).
The network is a stack of Dense layers ``[(W, b), ...]`` with ReLU (or sigmoid) hidden layers
and a softmax (or sigmoid) output; the optimizer is plain SGD, SGD with momentum, or Adam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import chainrule as cr


@dataclass
class Workload:
    """What to train: data in batches, layer sizes, activations, loss and optimizer."""

    X: np.ndarray
    y: np.ndarray  # one-hot (softmax) or 0/1 column (sigmoid)
    sizes: list[int]
    hidden: str  # "relu" or "sigmoid"
    output: str  # "softmax" or "sigmoid"
    loss: str  # "categorical_crossentropy" or "half_sse"
    optimizer: str  # "sgd", "momentum" or "adam"
    lr: float
    batch_size: int | None  # None: full batch
    steps: int = 1  # full-batch steps per epoch() call
    bias: bool = True

    def batches(self):
        if self.batch_size is None:
            return [(self.X, self.y)]
        n = len(self.X)
        return [
            (self.X[s : s + self.batch_size], self.y[s : s + self.batch_size])
            for s in range(0, n, self.batch_size)
        ]

    def initial_weights(self, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng(seed)
        return [
            (
                (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(self.X.dtype),
                np.zeros(b, dtype=self.X.dtype),
            )
            for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ]


def reference_loss(workload: Workload, weights) -> float:
    """The workload's loss on its first 1000 rows, computed plainly in float64."""
    a = workload.X[:1000].astype(np.float64)
    for i, (W, b) in enumerate(weights):
        z = a @ W.astype(np.float64) + (b if workload.bias else 0.0)
        last = i == len(weights) - 1
        name = workload.output if last else workload.hidden
        if name == "relu":
            a = np.maximum(z, 0)
        elif name == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
    y = workload.y[:1000]
    if workload.loss == "categorical_crossentropy":
        return float(-np.mean(np.sum(y * np.log(np.clip(a, 1e-12, 1)), axis=1)))
    return float(0.5 * np.sum((y - a) ** 2))


class Chainrule:
    """chainrule's `fit` on the NumPy kernels."""

    name = "chainrule"
    backend = "numpy"

    def __init__(self, workload: Workload) -> None:
        self.w = workload

    def setup(self, weights) -> None:
        w = self.w
        layers = [
            cr.Dense(
                W.shape[0],
                W.shape[1],
                w.output if i == len(weights) - 1 else w.hidden,
                weights=W,
                biases=b if w.bias else None,
                bias=w.bias,
            )
            for i, (W, b) in enumerate(weights)
        ]
        self.net = cr.Network(layers, dtype=w.X.dtype)
        self.optimizer = {
            "sgd": lambda: cr.SGD(lr=w.lr),
            "momentum": lambda: cr.SGD(lr=w.lr, momentum=0.9),
            "adam": lambda: cr.Adam(lr=w.lr),
        }[w.optimizer]()

    def epoch(self) -> None:
        w = self.w
        cr.set_backend(self.backend)
        self.net.fit(
            w.X,
            w.y,
            loss=w.loss,
            optimizer=self.optimizer,
            epochs=w.steps,
            batch_size=w.batch_size,
            shuffle=False,
            metrics=[],
        )

    def weights(self):
        return [(layer.params["W"], layer.params.get("b")) for layer in self.net.layers]


class ChainruleNumba(Chainrule):
    """chainrule's `fit` on the Numba kernels (and, for small networks, the compiled chunk)."""

    name = "chainrule (numba)"
    backend = "numba"

    def __init__(self, workload: Workload) -> None:
        from chainrule.nn import kernels

        if not kernels.numba_installed():
            raise ImportError(name="numba")
        super().__init__(workload)


class NumpyLoop:
    """A careful, straightforward hand-written NumPy training loop (allocating as it goes)."""

    name = "numpy loop"

    def __init__(self, workload: Workload) -> None:
        self.w = workload

    def setup(self, weights) -> None:
        self.params = [(W.copy(), b.copy()) for W, b in weights]
        self.state = [
            (np.zeros_like(W), np.zeros_like(b), np.zeros_like(W), np.zeros_like(b)) for W, b in weights
        ]
        self.t = 0

    def epoch(self) -> None:
        w = self.w
        for _ in range(w.steps):
            for xb, yb in w.batches():
                self._step(xb, yb)

    def _step(self, xb, yb) -> None:
        w, params = self.w, self.params
        acts = [xb]
        for i, (W, b) in enumerate(params):
            z = acts[-1] @ W
            if w.bias:
                z += b
            if i < len(params) - 1:
                acts.append(np.maximum(z, 0) if w.hidden == "relu" else 1 / (1 + np.exp(-z)))
            elif w.output == "softmax":
                e = np.exp(z - z.max(axis=1, keepdims=True))
                acts.append(e / e.sum(axis=1, keepdims=True))
            else:
                acts.append(1 / (1 + np.exp(-z)))
        out = acts[-1]
        if w.loss == "categorical_crossentropy":
            delta = (out - yb) / len(xb)
        else:
            delta = (out - yb) * out * (1 - out)
        grads = []
        for i in range(len(params) - 1, -1, -1):
            W, _ = params[i]
            grads.append((acts[i].T @ delta, delta.sum(axis=0)))
            if i:
                back = delta @ W.T
                a = acts[i]
                delta = back * (a > 0) if w.hidden == "relu" else back * a * (1 - a)
        grads.reverse()
        self.t += 1
        for (W, b), (gW, gb), state in zip(params, grads, self.state, strict=True):
            if w.optimizer == "sgd":
                W -= w.lr * gW
                if w.bias:
                    b -= w.lr * gb
            elif w.optimizer == "momentum":
                vW, vb = state[0], state[1]
                vW *= 0.9
                vW += gW
                vb *= 0.9
                vb += gb
                W -= w.lr * vW
                b -= w.lr * vb
            else:
                for p, g, m, v in ((W, gW, state[0], state[2]), (b, gb, state[1], state[3])):
                    m *= 0.9
                    m += 0.1 * g
                    v *= 0.999
                    v += 0.001 * g * g
                    step = w.lr / (1 - 0.9**self.t)
                    p -= step * m / (np.sqrt(v / (1 - 0.999**self.t)) + 1e-8)

    def weights(self):
        return self.params


class SeedLoop:
    """Seed 000's own training loop, as the tutorial wrote it: the tightest hand-written code."""

    name = "seed tutorial's loop"

    def __init__(self, workload: Workload) -> None:
        self.w = workload

    def setup(self, weights) -> None:
        self.W01, self.W12 = (weights[0][0].copy(), weights[1][0].copy())

    def epoch(self) -> None:
        X, y, W01, W12 = self.w.X, self.w.y, self.W01, self.W12
        for _ in range(self.w.steps):
            layer_1 = 1 / (1 + np.exp(-np.dot(X, W01)))
            layer_2 = 1 / (1 + np.exp(-np.dot(layer_1, W12)))
            delta_2 = (y - layer_2) * (layer_2 * (1 - layer_2))
            delta_1 = np.dot(delta_2, W12.T) * (layer_1 * (1 - layer_1))
            W12 += np.dot(layer_1.T, delta_2)
            W01 += np.dot(X.T, delta_1)

    def weights(self):
        return [(self.W01, np.zeros(4)), (self.W12, np.zeros(1))]


class GemmFloor:
    """Only the matrix products one step needs, into preallocated outputs: the time to beat."""

    name = "GEMM floor"

    def __init__(self, workload: Workload) -> None:
        self.w = workload

    def setup(self, weights) -> None:
        self.params = [W.copy() for W, _ in weights]
        self.out: dict = {}

    def _buf(self, key, shape, dtype):
        buf = self.out.get(key)
        if buf is None or buf.shape != shape:
            buf = self.out[key] = np.empty(shape, dtype)
        return buf

    def epoch(self) -> None:
        for _ in range(self.w.steps):
            for xb, _ in self.w.batches():
                acts = [xb]
                for i, W in enumerate(self.params):
                    acts.append(
                        np.matmul(
                            acts[-1], W, out=self._buf(("a", i, len(xb)), (len(xb), W.shape[1]), W.dtype)
                        )
                    )
                delta = acts[-1]
                for i in range(len(self.params) - 1, -1, -1):
                    W = self.params[i]
                    np.matmul(acts[i].T, delta, out=self._buf(("g", i), W.shape, W.dtype))
                    if i:
                        delta = np.matmul(
                            delta, W.T, out=self._buf(("d", i, len(xb)), (len(xb), W.shape[0]), W.dtype)
                        )

    def weights(self):
        return None


class Torch:
    name = "PyTorch"

    def __init__(self, workload: Workload) -> None:
        import torch

        self.torch = torch
        self.w = workload
        self.batches = [
            (torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y)))
            for x, y in workload.batches()
        ]

    def setup(self, weights) -> None:
        torch, w = self.torch, self.w
        layers = []
        for i, (W, b) in enumerate(weights):
            dtype = torch.float32 if W.dtype == np.float32 else torch.float64
            linear = torch.nn.Linear(W.shape[0], W.shape[1], bias=w.bias, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T.copy()))
                if w.bias:
                    linear.bias.copy_(torch.from_numpy(b.copy()))
            layers.append(linear)
            if i < len(weights) - 1:
                layers.append(torch.nn.ReLU() if w.hidden == "relu" else torch.nn.Sigmoid())
            elif w.output == "sigmoid":
                layers.append(torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        params = self.model.parameters()
        self.optimizer = {
            "sgd": lambda: torch.optim.SGD(params, lr=w.lr),
            "momentum": lambda: torch.optim.SGD(params, lr=w.lr, momentum=0.9),
            "adam": lambda: torch.optim.Adam(params, lr=w.lr),
        }[w.optimizer]()
        if w.loss == "categorical_crossentropy":
            ce = torch.nn.CrossEntropyLoss()
            self.loss = lambda out, y: ce(out, y.argmax(dim=1))  # logits in, softmax inside
        else:
            self.loss = lambda out, y: 0.5 * ((out - y) ** 2).sum()

    def epoch(self) -> None:
        for _ in range(self.w.steps):
            for xb, yb in self.batches:
                self.optimizer.zero_grad(set_to_none=True)
                self.loss(self.model(xb), yb).backward()
                self.optimizer.step()

    def weights(self):
        linears = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return [
            (m.weight.detach().numpy().T, m.bias.detach().numpy() if m.bias is not None else None)
            for m in linears
        ]


class Sklearn:
    name = "scikit-learn"

    def __init__(self, workload: Workload) -> None:
        from sklearn.neural_network import MLPClassifier

        w = workload
        self.w = workload
        solver = "adam" if w.optimizer == "adam" else "sgd"
        self.template = MLPClassifier(
            hidden_layer_sizes=tuple(w.sizes[1:-1]),
            activation="relu" if w.hidden == "relu" else "logistic",
            solver=solver,
            alpha=0.0,
            batch_size=w.batch_size or len(w.X),
            learning_rate_init=w.lr,
            momentum=0.9 if w.optimizer == "momentum" else 0.0,
            nesterovs_momentum=False,
            shuffle=False,
            max_iter=w.steps,
            tol=0.0,
            n_iter_no_change=10**9,
        )
        self.labels = w.y.argmax(axis=1) if w.y.shape[1] > 1 else w.y[:, 0].astype(int)

    def setup(self, weights) -> None:
        import warnings

        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning

        model = self.model = clone(self.template)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            # builds the layers for all the classes; the weights are replaced just below
            model.partial_fit(self.w.X[:64], self.labels[:64], classes=np.unique(self.labels))
        model.set_params(warm_start=True)
        model.coefs_ = [W.copy() for W, _ in weights]
        model.intercepts_ = [b.copy() for _, b in weights]
        model.n_iter_ = 0  # fit(warm_start=True) makes a fresh optimizer for the timed epoch

    def epoch(self) -> None:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(self.w.X, self.labels)

    def weights(self):
        return list(zip(self.model.coefs_, self.model.intercepts_, strict=True))
