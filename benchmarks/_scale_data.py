"""Large scRNA-like data sets for the scale benchmarks, made from real BEELINE cells.

BEELINE's largest expression matrices have a few hundred cells, so larger data sets are drawn from them: every new
cell takes the log-expression profile of a real mDC cell (1,321 genes, TFs+1000) and of a real mHSC-L cell (692 genes,
TFs+1000), together 2,013 genes of which the first ``n_genes`` are kept. Each profile is turned back into expected
counts (``expm1``) and sampled as a droplet experiment would capture it: Poisson counts at a capture rate chosen so
about 18 % of values are nonzero (as in 10x data on variable genes), then ``log1p``. Gene-gene dependencies within
each source cell type are those of the real cells; the two blocks are independent. Values are float32 CSR.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

from ._beeline import use_shared_data

#: Expected counts are multiplied by this before Poisson sampling (gives ~18 % nonzero values).
CAPTURE = 0.005


def source_profiles() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Real log-expression of mDC and mHSC-L cells (cells × genes) and the gene names of both, in order."""
    import cnnc

    use_shared_data()
    blocks, names = [], []
    for cell in ("mDC", "mHSC-L"):
        adata = cnnc.datasets.beeline(cell, "STRING", 1000)
        x = adata.X.toarray() if sparse.issparse(adata.X) else np.asarray(adata.X)
        blocks.append(np.asarray(x, dtype=np.float64))
        names += [f"{g}_{cell}" for g in adata.var_names]
    return blocks[0], blocks[1], names


def cell_blocks(n_cells: int, n_genes: int = 2000, *, block: int = 50_000, seed: int = 0):
    """Yield ``(first_cell, csr_block)`` of the resampled data set, ``block`` cells at a time; also the gene names."""
    mdc, hsc, names = source_profiles()
    if n_genes > len(names):
        raise ValueError(f"at most {len(names)} genes are available, asked for {n_genes}")
    mean_mdc, mean_hsc = np.expm1(mdc) * CAPTURE, np.expm1(hsc) * CAPTURE
    rng = np.random.default_rng(seed)

    def blocks():
        for first in range(0, n_cells, block):
            m = min(block, n_cells - first)
            lam = np.hstack([mean_mdc[rng.integers(0, len(mdc), m)], mean_hsc[rng.integers(0, len(hsc), m)]])
            lam = lam[:, :n_genes] * rng.lognormal(0.0, 0.3, (m, 1))  # per-cell capture efficiency
            counts = rng.poisson(lam).astype(np.float32)
            yield first, sparse.csr_matrix(np.log1p(counts, out=counts))

    return blocks(), names[:n_genes]


def in_memory(n_cells: int, n_genes: int = 2000, seed: int = 0):
    """The resampled data set as an in-memory AnnData (CSR float32)."""
    import anndata as ad
    import pandas as pd

    it, names = cell_blocks(n_cells, n_genes, seed=seed)
    x = sparse.vstack([b for _, b in it], format="csr")
    return ad.AnnData(
        x,
        obs=pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)]),
        var=pd.DataFrame(index=names),
    )


def write_h5ad(path: Path, n_cells: int, n_genes: int = 2000, seed: int = 0) -> Path:
    """Write the resampled data set to an .h5ad file block by block (never all in memory); return the path."""
    import anndata as ad
    import h5py
    import pandas as pd
    from anndata.io import write_elem

    path = Path(path)
    if path.is_file():
        return path
    tmp = path.with_suffix(".partial")
    it, names = cell_blocks(n_cells, n_genes, seed=seed)
    with h5py.File(tmp, "w") as f:
        write_elem(f, "obs", pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)]))
        write_elem(f, "var", pd.DataFrame(index=names))
        g = f.create_group("X")
        g.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": (n_cells, n_genes)})
        data = g.create_dataset("data", (0,), dtype="float32", maxshape=(None,), chunks=(1 << 20,))
        indices = g.create_dataset("indices", (0,), dtype="int32", maxshape=(None,), chunks=(1 << 20,))
        indptr = [np.zeros(1, dtype=np.int64)]
        for _, blk in it:
            n0 = data.shape[0]
            data.resize((n0 + blk.nnz,))
            indices.resize((n0 + blk.nnz,))
            data[n0:] = blk.data
            indices[n0:] = blk.indices
            indptr.append(blk.indptr[1:].astype(np.int64) + n0)
        g.create_dataset("indptr", data=np.concatenate(indptr))
        for key in ("layers", "obsm", "varm", "obsp", "varp", "uns"):
            write_elem(f, key, {})
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
    ad.read_h5ad(tmp, backed="r").file.close()  # a well-formed AnnData file
    tmp.rename(path)
    return path


def whole_transcriptome(n_cells: int, n_genes: int = 30_000, *, block: int = 1_000, seed: int = 0):
    """A whole-transcriptome-sized data set (in-memory AnnData, CSR float32) from the same real cells.

    The 2,013 real gene profiles are used again and again: copy ``k`` draws its own source cells (so copies are
    independent of each other) and captures ``10^(-k/7)`` times fewer molecules, so the first genes are as dense as
    the variable genes above (~18 % nonzero) and later copies ever sparser, as lowly expressed genes are (~10 % nonzero
    overall at 30,000 genes). Gene names: ``<gene>_<cell type>_<copy>``.
    """
    import anndata as ad
    import pandas as pd

    mdc, hsc, names = source_profiles()
    base = [np.expm1(mdc) * CAPTURE, np.expm1(hsc) * CAPTURE]
    copies = -(-n_genes // len(names))
    rng = np.random.default_rng(seed)
    parts = []
    for first in range(0, n_cells, block):
        m = min(block, n_cells - first)
        efficiency = rng.lognormal(0.0, 0.3, (m, 1))
        lam = np.hstack([src[rng.integers(0, len(src), m)] * 10 ** (-k / 7) for k in range(copies) for src in base])[
            :, :n_genes
        ]
        counts = rng.poisson(lam * efficiency).astype(np.float32)
        parts.append(sparse.csr_matrix(np.log1p(counts, out=counts)))
    gene_names = [f"{g}_{k}" for k in range(copies) for g in names][:n_genes]
    return ad.AnnData(
        sparse.vstack(parts, format="csr"),
        obs=pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)]),
        var=pd.DataFrame(index=gene_names),
    )
