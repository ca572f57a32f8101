"""Fixtures for cnnc.models: a small network trained for real on a separable synthetic task, an isolated registry,
and a local HTTP server that pooch downloads from."""

from __future__ import annotations

import copy
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnc.models import CNNC, Model, ModelSpec, _registry

CLASSES = ["none", "regulator->target", "target->regulator"]
TINY_ARCH = {"filters": [8, 16, 32], "dense": 64, "conv_dropout": 0.1, "dense_dropout": 0.2}


def pair_images(n_per_class: int, seed: int, *, n_cells: int = 300, bins: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """CNNC-style pair images of three separable kinds: independent genes, positive and negative dependence.

    Each image is the joint histogram of two genes' log expression over ``n_cells`` cells, transformed like
    CNNC's ``(log10(H / n + 1e-4) + 4) / 4``.
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in range(3):
        for _ in range(n_per_class):
            a = rng.normal(size=n_cells)
            noise = rng.normal(scale=0.3, size=n_cells)
            b = rng.normal(size=n_cells) if label == 0 else (a if label == 1 else -a) + noise
            h, _, _ = np.histogram2d(a, b, bins=bins)
            images.append((np.log10(h.T / n_cells + 1e-4) + 4) / 4)
            labels.append(label)
    x = np.asarray(images, dtype=np.float32)[:, None]
    y = np.asarray(labels, dtype=np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def fit(
    model: CNNC, x: np.ndarray, y: np.ndarray, *, steps: int = 30, batch_size: int = 64, seed: int = 0
) -> list[float]:
    """Adam on cross-entropy for ``steps`` mini-batches; returns the losses."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(yt), (batch_size,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


@contextmanager
def one_thread():
    """Run torch on one thread: on a loaded 2-core machine, two intra-op threads are up to 20× slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def synthetic():
    return {"train": pair_images(200, seed=1), "test": pair_images(60, seed=2)}


@pytest.fixture(scope="session")
def _trained(synthetic):
    torch.manual_seed(0)
    net = CNNC(**TINY_ARCH)
    x, y = synthetic["test"]
    with one_thread():
        losses = fit(net, *synthetic["train"])
        with torch.inference_mode():
            accuracy = float((net(torch.from_numpy(x)).argmax(1).numpy() == y).mean())
    spec = ModelSpec(
        name="tiny-synthetic",
        task="direction",
        classes=CLASSES,
        image={"bins": 32},
        architecture=net.config,
        species=["any"],
        training={"data": "synthetic pair images", "n_pairs": 600, "steps": 30, "seed": 0},
        metrics={"accuracy": accuracy, "first_loss": losses[0], "last_loss": losses[-1]},
    )
    return net, spec, losses, accuracy


@pytest.fixture
def trained_model(_trained) -> Model:
    """A fresh Model wrapping a copy of the session's trained network (tests may move or modify it)."""
    net, spec, _, _ = _trained
    return Model(copy.deepcopy(net), copy.deepcopy(spec))


@pytest.fixture
def training_record(_trained) -> dict:
    _, _, losses, accuracy = _trained
    return {"losses": losses, "accuracy": accuracy}


@pytest.fixture
def registry(monkeypatch, tmp_path):
    """An isolated copy of the registry and an empty model cache (CNNC_MODELS_DIR) for one test."""
    monkeypatch.setattr(_registry, "_REGISTRY", copy.deepcopy(_registry._get_registry()))
    cache = tmp_path / "cache"
    monkeypatch.setenv(_registry.ENV_CACHE, str(cache))
    return cache


class _Server:
    """Serves files from a folder, plus canned responses and dropped connections, on 127.0.0.1."""

    def __init__(self, root: Path):
        self.root = root
        self.canned: dict[str, tuple[int, str, bytes]] = {}
        self.cut: dict[str, tuple[bytes, int]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(server.root), **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if self.path in server.canned:
                    status, ctype, body = server.canned[self.path]
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path in server.cut:
                    body, n_sent = server.cut[self.path]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[:n_sent])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/{name}"


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    server = _Server(root)
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(timeout=5)
