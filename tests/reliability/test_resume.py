"""Guarantee 3 (resuming): a checkpoint checks itself and the call that resumes it.

A checkpoint stores the loss, the optimizer's full configuration, the batch size, shuffling,
sample count, validation setting, sample weighting and seed. A resume that differs in any of
them raises `ModelFileError` naming each difference and changes nothing, unless the caller
names the setting in ``resume_overrides``. A stored optimizer state that does not fit (slot
names, keys, shapes, finiteness, step count, rate) raises `ModelFileError` too.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.io.checkpoints import read_checkpoint
from chainrule.io.model_file import HEADER_KEY

RNG = np.random.default_rng(3)
X = RNG.normal(size=(40, 4))
Y = cr.one_hot((X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5), 3)
BASE = dict(loss="categorical_crossentropy", batch_size=8, seed=1)


def network(seed=0):
    return cr.Network([cr.Dense(4, 6, "tanh"), cr.Dense(6, 3, "softmax")], seed=seed)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "run.npz"
    network().fit(X, Y, optimizer=cr.Adam(lr=0.01), epochs=2, **BASE, callbacks=[cr.ModelCheckpoint(path)])
    return path


def weights_of(net):
    return [{k: v.copy() for k, v in layer.items()} for layer in net.get_weights()]


def assert_unchanged(net, before):
    for got, want in zip(net.get_weights(), before, strict=True):
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


# (what differs, fit's keyword arguments changed, the names the message must contain)
MISMATCHES = [
    ("loss", dict(loss="mse"), ["loss="]),
    ("learning rate", dict(optimizer=lambda: cr.Adam(lr=0.02)), ["lr=0.01 in the checkpoint, 0.02 now"]),
    ("beta1", dict(optimizer=lambda: cr.Adam(lr=0.01, beta1=0.8)), ["beta1="]),
    ("weight decay", dict(optimizer=lambda: cr.Adam(lr=0.01, weight_decay=1e-4)), ["weight_decay="]),
    ("a schedule for a rate", dict(optimizer=lambda: cr.Adam(lr=cr.StepDecay(0.01))), ["lr="]),
    ("batch size", dict(batch_size=16), ["batch_size=8 in the checkpoint, 16 now"]),
    ("full batch", dict(batch_size=None), ["batch_size="]),
    ("shuffling", dict(shuffle=False), ["shuffle="]),
    ("data size", dict(X=X[:30], Y=Y[:30]), ["samples=40 in the checkpoint, 30 now"]),
    (
        "validation split",
        dict(validation_split=0.25),
        ["validation_split=", "validation_samples=", "samples="],
    ),
    (
        "validation data",
        dict(validation_data=(X[:5], Y[:5])),
        ["validation_samples=0 in the checkpoint, 5 now"],
    ),
    ("sample weights", dict(sample_weight=np.ones(40)), ["sample_weight="]),
    ("seed", dict(seed=2), ["seed="]),
    ("two at once", dict(batch_size=4, loss="mse"), ["batch_size=", "loss="]),
]


@pytest.mark.parametrize(("changes", "names"), [m[1:] for m in MISMATCHES], ids=[m[0] for m in MISMATCHES])
def test_a_resume_with_other_settings_is_refused_and_changes_nothing(checkpoint, changes, names):
    changes = dict(changes)
    make_optimizer = changes.pop("optimizer", lambda: cr.Adam(lr=0.01))
    data = (changes.pop("X", X), changes.pop("Y", Y))
    net, opt = network(seed=9), make_optimizer()
    before = weights_of(net)
    with pytest.raises(cr.ModelFileError) as info:
        net.fit(*data, optimizer=opt, epochs=4, **{**BASE, **changes}, resume_from=checkpoint)
    for name in names:
        assert name in str(info.value)
    assert "resume_overrides" in str(info.value) or "loss" in changes
    assert_unchanged(net, before)
    assert opt.iterations == 0 and not opt.state_arrays()


def test_the_same_settings_resume(checkpoint):
    net = network(seed=9)
    history = net.fit(X, Y, optimizer=cr.Adam(lr=0.01), epochs=3, **BASE, resume_from=checkpoint)
    assert history.epochs == 3


def test_an_explicit_learning_rate_is_kept_when_overridden(checkpoint):
    net, opt = network(seed=9), cr.Adam(lr=0.003)
    history = net.fit(X, Y, optimizer=opt, epochs=4, **BASE, resume_from=checkpoint, resume_overrides={"lr"})
    assert history["lr"] == [0.01, 0.01, 0.003, 0.003]
    assert opt.lr == 0.003


def test_more_data_on_purpose(checkpoint):
    more = np.vstack([X, X[:10]]), np.vstack([Y, Y[:10]])
    net = network(seed=9)
    net.fit(
        *more,
        optimizer=cr.Adam(lr=0.01),
        epochs=3,
        **BASE,
        resume_from=checkpoint,
        resume_overrides={"samples"},
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"loss"}, "cannot be overridden"), ({"optimizer"}, "cannot be overridden"), ({"colour"}, "cannot be")],
)
def test_overrides_are_checked(checkpoint, overrides, message):
    with pytest.raises(ValueError, match=message):
        network().fit(
            X,
            Y,
            optimizer=cr.Adam(lr=0.01),
            epochs=3,
            **BASE,
            resume_from=checkpoint,
            resume_overrides=overrides,
        )


def test_the_checkpoints_reduced_rate_is_restored(tmp_path):
    path = tmp_path / "plateau.npz"
    opt = cr.SGD(lr=0.1)
    plateau = cr.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=100.0)  # never "improves"
    network().fit(X, Y, optimizer=opt, epochs=3, **BASE, callbacks=[plateau, cr.ModelCheckpoint(path)])
    assert opt.lr < 0.1
    resumed = cr.SGD(lr=0.1)
    network().fit(X, Y, optimizer=resumed, epochs=3, **BASE, resume_from=path)
    assert resumed.lr == opt.lr  # same configured rate: the run continues at its current one


def rewrite(source, target, change_arrays=None, change_header=None):
    """Copy a checkpoint, editing its arrays and/or its JSON header."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop(HEADER_KEY).tobytes())
    if change_arrays:
        change_arrays(arrays)
    if change_header:
        change_header(header)
    arrays[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(target, "wb") as f:
        np.savez(f, **arrays)
    return target


def drop(name):
    return lambda arrays: arrays.pop(name)


def rename(old, new):
    return lambda arrays: arrays.update({new: arrays.pop(old)})


def poison(name):
    def change(arrays):
        arrays[name] = arrays[name].copy()
        arrays[name].flat[0] = np.nan

    return change


def set_optimizer(key, value):
    return lambda header: header["checkpoint"]["optimizer"].update({key: value})


CORRUPTIONS = [
    ("a missing slot", dict(change_arrays=drop("optimizer:1.b:m")), "missing"),
    ("an unknown key", dict(change_arrays=rename("optimizer:0.W:v", "optimizer:0.W:velocity")), "velocity"),
    ("NaN in the state", dict(change_arrays=poison("optimizer:0.W:m")), "NaN"),
    ("a wrong shape", dict(change_arrays=lambda a: a.update({"optimizer:0.W:m": np.zeros((6, 4))})), "shape"),
    (
        "a state array of no slot",
        dict(change_arrays=lambda a: a.update({"optimizer:7.W:m": np.zeros(2)})),
        "belong",
    ),
    ("negative steps", dict(change_header=set_optimizer("iterations", -3)), "iterations"),
    ("a NaN rate", dict(change_header=set_optimizer("lr", "nan")), "lr"),
    (
        "no state after steps",
        dict(change_arrays=lambda a: [a.pop(k) for k in list(a) if "optimizer:" in k]),
        "missing",
    ),
    (
        "history of mixed lengths",
        dict(change_header=lambda h: h["checkpoint"]["history"]["loss"].pop()),
        "lengths",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_a_corrupt_optimizer_state_is_refused(checkpoint, tmp_path, edit, message):
    bad = rewrite(checkpoint, tmp_path / "bad.npz", **edit)
    net, opt = network(seed=9), cr.Adam(lr=0.01)
    before = weights_of(net)
    with pytest.raises(cr.ModelFileError, match=message):
        net.fit(X, Y, optimizer=opt, epochs=4, **BASE, resume_from=bad)
    assert_unchanged(net, before)
    assert not opt.state_arrays()


def test_the_rewrite_helper_keeps_a_valid_checkpoint_valid(checkpoint, tmp_path):
    """The corruptions above are what make those files fail, not the copying."""
    copy = rewrite(checkpoint, tmp_path / "copy.npz")
    network().fit(X, Y, optimizer=cr.Adam(lr=0.01), epochs=3, **BASE, resume_from=copy)


def strict_json(raw):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(raw, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_strict_json(tmp_path):
    net = network()
    run = cr.TrainingRun(5, settings={"loss": "mse"})
    run.history.append({"loss": math.inf, "val_loss": math.nan})
    run.history.append({"loss": 1.5, "val_loss": -math.inf})
    path = tmp_path / "c.npz"
    cr.save_checkpoint(path, net, cr.SGD(lr=0.1), run)
    cr.save(net, tmp_path / "m.npz", metadata={"best": np.float32("inf"), "curve": np.array([1.0, np.nan])})
    for file in (path, tmp_path / "m.npz"):
        with np.load(file, allow_pickle=False) as archive:
            strict_json(archive[HEADER_KEY].tobytes())
    assert cr.load(tmp_path / "m.npz").metadata == {"best": "inf", "curve": [1.0, "nan"]}
    restored = read_checkpoint(path, network(), cr.SGD(lr=0.1))[0].history
    assert restored["loss"] == [math.inf, 1.5]
    assert math.isnan(restored["val_loss"][0]) and restored["val_loss"][1] == -math.inf


def test_a_checkpoint_of_a_run_with_an_infinite_log_is_written(tmp_path):
    path = tmp_path / "c.npz"

    class InfiniteLog(cr.Callback):
        def on_epoch_end(self, epoch, logs):
            logs["ratio"] = math.inf  # a user's metric that overflowed

    network().fit(
        X, Y, optimizer="sgd", epochs=1, **BASE, callbacks=[InfiniteLog(), cr.ModelCheckpoint(path)]
    )
    assert cr.load(path).metadata["logs"]["ratio"] == "inf"
