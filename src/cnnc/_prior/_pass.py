"""One pass over the cells for a prediction: everything the context prior, the pair evidence and the null read.

A prediction needs, from the same cells: the Gram sums of the context prior (:class:`._gram.GramSums`), each scored
pair's cross product and co-detection count (its ``corr`` and ``n_cells``), each gene's range (constant genes) and
the cells the significance null permutes. :class:`DataPass` gathers all of them while the cells are read once: the
cross products are entries of the raw Gram matrix, the co-detections entries of the Gram matrix of the binarised
chunk (counted for the regulators' rows only), computed on the same dense chunks in the same loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ._gram import GramSums, dense_chunks, refuse_bad_values


@dataclass
class DataPass:
    """Sums of one pass over the cells (added chunk by chunk, in this process or on a cluster's workers).

    ``rows``: the genes whose co-detections with every gene are counted (``codetected``: ``len(rows) × genes``);
    ``low``/``high``: each gene's smallest and largest value; ``sample_cells``: the cells (sorted positions) whose
    rows of every gene are kept (``None``: none are).
    """

    gram: GramSums
    rows: np.ndarray
    codetected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sample_cells: np.ndarray | None = None
    _sample: list = field(default_factory=list, repr=False)

    @classmethod
    def zeros(cls, n_genes: int, kinds, rows, sample_cells=None) -> DataPass:
        """Empty sums.

        Co-detections of every gene when ``rows`` are half the genes or more: a symmetric product of all genes costs
        less than one of those rows.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if 2 * len(rows) >= n_genes:
            rows = np.arange(n_genes)
        return cls(
            GramSums.zeros(n_genes, ["raw", *(k for k in kinds if k != "raw")]),
            rows,
            np.zeros((len(rows), n_genes)),
            np.full(n_genes, np.inf),
            np.full(n_genes, -np.inf),
            None if sample_cells is None else np.asarray(sample_cells, dtype=np.int64),
        )

    @property
    def n_cells(self) -> int:
        return self.gram.n_cells

    def add(self, first: int, block, gene_names=None) -> None:
        """Add a cells × genes sparse block whose first cell is cell ``first`` of the data."""
        block = block.tocsc()
        refuse_bad_values(block, gene_names)
        if self.sample_cells is not None:
            cells = self.sample_cells
            inside = cells[(cells >= first) & (cells < first + block.shape[0])] - first
            if len(inside):
                self._sample.append((first, sparse.csr_matrix(block.tocsr()[inside])))
        for dense in dense_chunks(block):
            self.gram.add_dense(dense)
            hit = (dense > 0).astype(np.float32)
            # counts of one chunk are exact in float32 (fewer than 2**24 cells), and exact in the float64 total
            every = len(self.rows) == hit.shape[1]
            self.codetected += (hit if every else hit[:, self.rows]).T @ hit  # every gene: a symmetric product
            np.minimum(self.low, dense.min(axis=0), out=self.low)
            np.maximum(self.high, dense.max(axis=0), out=self.high)
        self.gram.n_cells += int(block.shape[0])

    def __add__(self, other: DataPass) -> DataPass:
        return DataPass(
            self.gram + other.gram,
            self.rows,
            self.codetected + other.codetected,
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
            self.sample_cells,
            [*self._sample, *other._sample],
        )

    def sample(self) -> sparse.csr_matrix:
        """The kept cells × every gene, in cell order (CSR)."""
        parts = [m for _, m in sorted(self._sample, key=lambda p: p[0])]
        if not parts:
            return sparse.csr_matrix((0, len(self.low)))
        return sparse.vstack(parts, format="csr")

    # A prediction hands each part on once it is read, so none outlives its use (scoring and the null come after).

    def take_gram(self) -> GramSums:
        """The Gram sums, handed over: the pass keeps no reference to them."""
        gram, self.gram = self.gram, None
        return gram

    def take_sample(self) -> sparse.csr_matrix:
        """:meth:`sample`, handed over: the pass keeps no reference to the kept rows."""
        out = self.sample()
        self._sample = []
        return out

    def drop_counts(self) -> None:
        """Forget the co-detection counts (once the pairs' counts are read)."""
        self.codetected = None

    def constant(self, genes: np.ndarray) -> np.ndarray:
        """Which of ``genes`` never vary over the cells."""
        return self.low[genes] == self.high[genes]

    def cross(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Each pair's sum over cells of the product of its genes' values (an entry of the raw Gram matrix)."""
        return self.gram.grams["raw"][a, b]

    def both(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Each pair's number of cells that detect both genes (``a`` among :attr:`rows`), int64."""
        row_of = np.full(len(self.low), -1, dtype=np.int64)
        row_of[self.rows] = np.arange(len(self.rows))
        pos = row_of[a]
        if (pos < 0).any():
            raise ValueError("A pair's first gene is not among the genes whose co-detections were counted.")
        return np.rint(self.codetected[pos, b]).astype(np.int64)
