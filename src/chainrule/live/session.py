"""One playground session: the data, one `Network` and one optimizer, trained in a background thread.

Training goes through the library's own `Network.fit`, one epoch per call (the optimizer
instance keeps its state across calls); the seed of each epoch's shuffling and dropout is
derived from the session's seed and the epoch number, so a run does not depend on timing.
Frames for the page are built once and kept in a one-slot mailbox: a slow page skips frames
instead of queueing them. A pause stops training within a mini-batch: that epoch is dropped and
run again from the same state with the same seed on play, so pausing never changes the numbers.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import tempfile
import threading
import time
from typing import Any

import numpy as np

import chainrule as cr
import chainrule.live.config as cfg
import chainrule.live.features as feats
import chainrule.live.views as views
from chainrule.live.data import DataError, Prepared, builtin_frame, prepare, read_upload

FRAME_INTERVAL = 1 / 30  # at most 30 frames a second; each frame follows exactly `speed` epochs


class Session:
    """The state behind one playground page (shared by every open tab)."""

    def __init__(self, frame: Any = None, target: str | None = None, source: str = "") -> None:
        self.lock = threading.RLock()
        self.mailbox = views.Mailbox()
        self.config = dict(cfg.DEFAULTS)
        self.table, self.source = frame, source
        self.playing, self.message = False, None
        self.live = False  # the training thread's epoch runs (a pause then stops it mid-epoch)
        self.focus: tuple[int, int] | None = None
        self.data_version = 0
        self.csv_target = target
        if frame is not None:
            self.config = cfg.merge(self.config, {"dataset": "csv", "target": target})
        self._load_data()
        self.reset()

    # ------------------------------------------------------------------------ building
    def _load_data(self) -> None:
        c, plane, features = self.config, None, None
        if c["dataset"] == "csv":
            frame = self.table
        else:  # the raw x1, x2: the preprocessing derives the chosen features (chainrule.live.features)
            frame = builtin_frame(c["dataset"], c["n"], c["noise"], c["data_seed"])
            plane, features = frame[["x1", "x2"]].to_numpy(dtype=float), feats.check(c["features"])
        if frame is None:
            raise DataError("no table has been uploaded: choose a built-in data set or upload a CSV")
        task = None if c["task"] == "auto" else c["task"]
        self.data: Prepared = prepare(
            frame,
            c["target"],
            task=task,
            train_ratio=c["train_ratio"],
            seed=c["data_seed"],
            view=tuple(c["view"]) or None,
            held=c["held"],
            missing=c.get("missing", "refuse"),
            plane=plane,
            features=features,
        )
        if c["dataset"] == "csv":
            self.config["target"] = self.csv_target = self.data.prep.target
        else:
            self.config["target"] = None
        self.data_version += 1

    def reset(self) -> None:
        """A fresh network from the configured seed (the same starting weights every time)."""
        self._halt()
        with self.lock:
            d = self.data
            self.output, self.loss = cfg.output_and_loss(self.config, d.task, d.prep.n_outputs)
            self.net = cfg.build_network(self.config, d.X.shape[1], d.prep.n_outputs, self.output)
            self.optimizer, self.schedule = cfg.build_optimizer(self.config)
            self.epoch = 0
            self.history: dict[str, list[Any]] = {"loss": [], "val_loss": [], "metric": [], "val_metric": []}
            self.playing, self.message = False, None
            self.focus = None
            self._evaluate_start()
            self.publish()

    def _evaluate_start(self) -> None:
        """The epoch-0 point of the curves: the untrained network's loss and metric."""
        d, metric = self.data, self._metric_name()
        with np.errstate(all="ignore"):
            train = self.net.evaluate(d.X[d.train], d.y[d.train], loss=self.loss, metrics=[metric])
            test = self.net.evaluate(d.X[d.test], d.y[d.test], loss=self.loss, metrics=[metric])
        self._record(train["loss"], test["loss"], train[metric], test[metric], metric)

    def _metric_name(self) -> str:
        return "mse" if self.data.task == "regression" else "accuracy"

    def _record(self, loss: float, val_loss: float, metric: float, val_metric: float, name: str) -> None:
        if name == "mse":  # R^2 of the scaled target, which equals R^2 in the target's units
            d = self.data
            metric = 1.0 - metric / max(float(np.var(d.y[d.train, 0])), 1e-12)
            val_metric = 1.0 - val_metric / max(float(np.var(d.y[d.test, 0])), 1e-12)
        for key, value in zip(self.history, (loss, val_loss, metric, val_metric), strict=True):
            self.history[key].append(float(value))

    # ------------------------------------------------------------------------ commands
    def configure(self, changes: dict[str, Any]) -> None:
        """Apply settings from the page; data and network changes start a fresh run.

        A built-in data set can always be chosen, also after an upload (its target, task and view
        are its own); ``"csv"`` chooses the uploaded table again, with the target it had.
        """
        with self.lock:
            old = self.config
            changes = dict(changes)
            dataset = changes.get("dataset", old["dataset"])
            if dataset != old["dataset"]:
                if dataset == "csv" and self.table is None:
                    raise DataError("no table has been uploaded: upload a CSV first")
                changes.setdefault("target", self.csv_target if dataset == "csv" else None)
                changes.setdefault("view", [])
                changes.setdefault("held", -1)
                changes.setdefault("task", "auto")  # the new set's own task, not the last set's
            new = cfg.merge(old, changes)
            changed = {key for key in new if new[key] != old[key]}
            saved = dict(vars(self))  # a change that fails leaves the session exactly as it was
            self.config = new
            try:
                if changed & (cfg.DATA_KEYS | {"view", "held"}):
                    self._load_data()
                cfg.check(new, self.data)
                if changed & (cfg.DATA_KEYS | cfg.NETWORK_KEYS):
                    self.reset()
                    return
            except (DataError, cfg.ConfigError, ValueError, TypeError) as exc:
                vars(self).clear()
                vars(self).update(saved)
                if isinstance(exc, (DataError, cfg.ConfigError)):
                    raise
                raise DataError(f"cannot use these data or settings: {exc}") from None
            if changed & cfg.OPTIMIZER_KEYS:
                self.optimizer, self.schedule = cfg.build_optimizer(self.config)
            self.publish()

    def upload(self, data: bytes, filename: str, target: str | None = None) -> None:
        """Use an uploaded CSV table (read as ``chainrule train`` reads it)."""
        frame = read_upload(data, filename)
        with self.lock:
            old = self.table, self.source, self.config
            self.table, self.source = frame, filename
            changes = {"dataset": "csv", "target": target, "view": [], "task": "auto", "held": -1}
            try:
                self.config = cfg.merge(self.config, changes)
                self._load_data()  # always: a new table, even with the settings of the last one
            except DataError:
                self.table, self.source, self.config = old
                raise
            self.reset()

    def set_playing(self, playing: bool) -> None:
        """Play or pause (`_halt`; the training thread publishes the paused frame if this cannot)."""
        if not playing:
            self._halt()
            if self.lock.acquire(timeout=0.1):
                try:
                    self.publish()
                finally:
                    self.lock.release()
            return
        with self.lock:
            self.playing, self.message = True, None
            self.publish()

    def step(self) -> None:
        """Pause and train exactly one epoch."""
        self._halt()
        with self.lock:
            self.playing = False
            self.train_epoch()
            self.publish()

    def new_seed(self) -> None:
        self._halt()
        with self.lock:
            self.config["seed"] = (self.config["seed"] + 1) % 2**31
            self.reset()

    def set_focus(self, layer: int | None, unit: int | None) -> None:
        with self.lock:
            self.focus = None if layer is None or unit is None else (int(layer), int(unit))
            self.publish()

    # ------------------------------------------------------------------------ training
    def train_epoch(self, pausable: bool = False) -> bool:
        """One epoch through ``Network.fit``; False if it failed (paused, with a message) or was paused."""
        d, metric = self.data, self._metric_name()
        if self.schedule is not None:
            self.schedule.offset = self.epoch
        batch = self.config["batch_size"] or None
        self.live = pausable
        try:
            history = self.net.fit(
                d.X[d.train],
                d.y[d.train],
                loss=self.loss,
                optimizer=self.optimizer,
                epochs=1,
                batch_size=batch,
                validation_data=(d.X[d.test], d.y[d.test]),
                metrics=[metric],
                seed=(self.config["seed"] * 1_000_003 + self.epoch) % 2**32,
                callbacks=[cr.LambdaCallback(on_epoch_begin=self._check_pause)] if pausable else [],
            )
        except cr.DivergenceError as exc:
            self._stop(f"Training diverged and is paused; the network keeps its last finite weights. {exc}")
            return False
        except (cr.InputError, ValueError) as exc:
            self._stop(f"Cannot train with these settings: {exc}")
            return False
        finally:
            self.live = False
        if not history.epochs:  # paused mid-epoch: the network is as the epoch began
            return False
        self.epoch += 1
        logs = {key: values[-1] for key, values in history.history.items()}
        self._record(logs["loss"], logs["val_loss"], logs[metric], logs[f"val_{metric}"], metric)
        return True

    def _stop(self, text: str) -> None:
        self.playing = False
        self.message = {"kind": "error", "text": " ".join(text.split())}

    def _halt(self) -> None:
        """Stop playing, without the lock: a running epoch stops after its mini-batch, dropped."""
        self.playing = False
        if self.live:  # after `playing`: a run starting now sees it in `_check_pause`
            self.net.stop_training = True

    def _check_pause(self, epoch: int) -> None:
        """A pause that came as ``fit`` began (which clears ``stop_training``) stops this epoch."""
        if not self.playing:
            self.net.stop_training = True

    def run(self, stop: threading.Event) -> None:
        """The training thread: while playing, train ``speed`` epochs (the lock released between
        them; a pause stops one mid-epoch), publish the frame, repeat."""
        while not stop.is_set():
            if not self.playing:
                stop.wait(0.02)
                continue
            start = time.perf_counter()
            for _ in range(self.config["speed"]):
                with self.lock:
                    if not (self.playing and self.train_epoch(pausable=True)):
                        break
                if stop.is_set():
                    return
            self.publish()
            stop.wait(max(0.0, FRAME_INTERVAL - (time.perf_counter() - start)))

    # ------------------------------------------------------------------------ views
    def publish(self) -> None:
        """Build the current frame once and put it in the mailbox."""
        with self.lock:
            self.mailbox.put(json.dumps(self.frame(), allow_nan=False, separators=(",", ":")))

    def frame(self) -> dict[str, Any]:
        """What the page shows now (see ``GET /api/state``)."""
        with self.lock:
            last = {key: values[-1] for key, values in self.history.items()}
            return {
                "type": "frame",
                "epoch": self.epoch,
                "playing": self.playing,
                "loss": _finite(last["loss"]),
                "val_loss": _finite(last["val_loss"]),
                "metric_name": "r2" if self.data.task == "regression" else "accuracy",
                "metric": _finite(last["metric"]),
                "val_metric": _finite(last["val_metric"]),
                "lr": self.optimizer.lr,
                "message": self.message,
                "data_version": self.data_version,
                "task": self.data.task,
                "classes": self.data.prep.classes,
                "sizes": self.net.sizes,
                "output": self.output,
                "loss_name": self.loss,
                "shown": views.shown_units(self.net),
                "weights": views.weights(self.net),
                "config": self.config,
                "source": self.source,
                "history": {
                    "epoch": views.thin([float(e) for e in range(len(self.history["loss"]))]),
                    **{key: views.thin(values) for key, values in self.history.items()},
                },
                **views.pictures(self.data, self.net, self.focus),
            }

    def explain(self, split: str, index: int) -> dict[str, Any]:
        """`cr.trace_step` of one sample with the session's own optimizer: its state, step count,
        L2 and the rate its schedule gives the next epoch (a copy steps: nothing here changes)."""
        with self.lock:
            d = self.data
            if split == "any":  # a row named by number (the page's keyboard path): its own split
                split = "test" if index in set(d.test.tolist()) else "train"
            rows = d.test if split == "test" else d.train
            if not 0 <= index < len(d.X) or index not in set(rows.tolist()):
                raise DataError(f"there is no {split} sample number {index}")
            self.playing = False
            self.publish()
            trace = cr.trace_step(
                self.net,
                d.X[index : index + 1],
                d.y[index : index + 1],
                loss=self.loss,
                optimizer=self.next_optimizer(),
                apply=False,
            )
            row = {k: _plain(v) for k, v in d.row(index).items()}
            return {
                "split": split,
                "index": index,
                "row": row,
                "features": d.features,
                "trace": views.trace_json(trace, self.net),
            }

    def next_optimizer(self) -> cr.Optimizer:
        """A copy of the optimizer as the next training step finds it (the next epoch's rate)."""
        opt = copy.deepcopy(self.optimizer)
        if self.schedule is not None:
            opt.lr = float(self.schedule.base(self.epoch))
        return opt

    def model_metadata(self) -> dict[str, Any]:
        """Metadata stored in a downloaded model, as ``chainrule train`` stores it (its preprocessing
        under ``"preprocessing"``, its training summary under ``"training"``: what ``chainrule info``
        prints, and a built-in set's input features with their formulas of the raw x1, x2)."""
        with self.lock:
            c, last = self.config, {k: _finite(v[-1]) for k, v in self.history.items()}
            name = "r2" if self.data.task == "regression" else "accuracy"
            summary = {
                "data": self.source or f"playground:{c['dataset']}",
                "rows": len(self.data.X),
                "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "metrics": {
                    split: {"loss": last[f"{pre}loss"], name: last[f"{pre}metric"]}
                    for split, pre in (("train", ""), ("test", "val_"))
                },
                "features": None if self.data.plane is None else feats.formulas(self.data.features),
                "epochs_run": self.epoch,
                "optimizer": self.optimizer.config(),
                "batch_size": c["batch_size"] or None,
                "seed": c["seed"],
                "final": last,
                "playground": c,
            }
            return {"preprocessing": self.data.prep.to_dict(), "training": summary}

    def model_bytes(self, kind: str = "npz") -> bytes:
        """The model as a chainrule ``.npz`` or an ONNX graph: a `chainrule.TableModel` (the network
        with the table's preprocessing), so ``chainrule.load`` of the file predicts on raw rows."""
        with self.lock, tempfile.TemporaryDirectory(prefix="chainrule-playground-") as folder:
            path = os.path.join(folder, f"model.{kind}")
            metadata = self.model_metadata()
            model = cr.TableModel(self.net, self.data.prep)
            if kind == "onnx":
                cr.export_onnx(model, path)
            else:
                model.save(path, metadata={"training": metadata["training"]})
            with open(path, "rb") as stream:
                return stream.read()


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
