import numpy as np

from cnnc._engine import _source
from cnnc._engine._images import PairImager
from cnnc._scoring import _local, score_pairs


def _count_passes(monkeypatch):
    passes = []
    original = _source.ExpressionSource.iter_blocks

    def counting(self, genes):
        passes.append(1)
        yield from original(self, genes)

    monkeypatch.setattr(_source.ExpressionSource, "iter_blocks", counting)
    return passes


def test_uncached_codes_use_few_passes_and_same_scores(gsd, tiny_model, monkeypatch):
    x = np.asarray(gsd.X)
    genes = np.arange(gsd.n_vars)
    a = np.repeat(genes, len(genes))
    b = np.tile(genes, len(genes))
    params = tiny_model.spec.image_params
    cached = score_pairs(PairImager(x, genes, params, chunk_cells=500), a, b, tiny_model, batch_size=16)

    passes = _count_passes(monkeypatch)
    # 361 pairs in batches of 16 would re-read the cells 23 times (x2 orientations); big batches need one pass
    monkeypatch.setattr(_local, "UNCACHED_IMAGE_BYTES", 200 * 32 * 32 * 4 * 2)
    imager = PairImager(x, genes, params, chunk_cells=500, cache=False)
    n_scan = len(passes)
    uncached = score_pairs(imager, a, b, tiny_model, batch_size=16)
    np.testing.assert_allclose(uncached, cached, atol=1e-6)
    assert len(passes) - n_scan == 2  # ceil(361 / 200) image batches, one pass each
