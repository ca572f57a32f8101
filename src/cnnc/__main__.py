"""``python -m cnnc``: the command line of :mod:`cnnc._cli`; ``demo`` runs the main job offline on scanpy's PBMCs."""

from __future__ import annotations

import sys
from pathlib import Path

# Known regulator → target relations among the genes of scanpy's pbmc68k_reduced (PU.1/SPI1 drives myeloid
# genes, IRF8 MHC-II genes, GATA3 T-cell genes); used to pick pairs worth looking at, not for scoring.
PBMC_REGULATORS = ["SPI1", "IRF8", "IRF7", "IRF1", "GATA3", "JUNB", "FOS", "EGR1", "ID2"]
PBMC_EXAMPLE_PAIRS = [("SPI1", "LYZ"), ("SPI1", "S100A8"), ("IRF8", "CD74"), ("GATA3", "CD3E")]


def demo(out: Path, *, model: str = "default", top: int = 15) -> int:
    """Predict a regulatory network on real PBMCs with the default model; print and plot it."""
    import matplotlib

    matplotlib.use("agg")
    import scanpy as sc

    import cnnc

    sc.settings.verbosity = 2
    out.mkdir(parents=True, exist_ok=True)
    adata = sc.datasets.pbmc68k_reduced()  # ships inside scanpy: works offline; log-normalized values in .raw
    tfs = [g for g in PBMC_REGULATORS if g in adata.raw.var_names]
    print(f"PBMC data: {adata.n_obs} cells × {adata.raw.n_vars} genes; regulators: {', '.join(tfs)}")
    mdl = cnnc.models.load(model)  # read once: prediction, the card's training data and its edge score
    cnnc.tl.predict_interactions(adata, model=mdl, tfs=tfs, layer="raw")
    params = adata.uns["cnnc"]["params"]
    print(f"Scored {params['n_pairs']:,} regulator × gene pairs with model {params['model']!r}.")
    trained_on = _training_data(mdl)
    print(f"The model was trained on {trained_on or 'data not recorded in its card'}; these PBMCs were not part of it.")
    table = cnnc.get.edges(adata, top=top)
    meaning = (
        "1 - p_none, P(interaction either way)"
        if mdl.spec.edge_score == "interaction"
        else "p_ab, P(regulator → target)"
    )
    print(f"\nTop {top} predicted edges (score = {meaning}):")
    columns = ["regulator", "target", "score", "sign", "n_cells", "direction", "direction_evidence"]
    print(table[columns].to_string(index=False, float_format="%.3f"))
    print(
        "direction: 1 regulator → target, -1 the reverse, 0 undetermined; direction_evidence says what decided it "
        "(here 'regulator list': the target is not a regulator, so only the regulator can be the cause; 'none': two "
        "regulators and nothing measured says which way). sign: +1 the target rises with the regulator, -1 it falls."
    )
    if not params["images"]:
        print(
            "p_ab and p_ba are not computed (NaN): this model's pair images only split them, and that split was right "
            "0.50 of the time on unseen cell types; direction='images' computes them anyway."
        )

    cnnc.tl.pair_histograms(adata, PBMC_EXAMPLE_PAIRS, use_raw=True, key_added="cnnc_images")
    cnnc.pl.pair_histograms(adata, PBMC_EXAMPLE_PAIRS, key="cnnc_images", save=out / "pair_images.png", show=False)
    top_pairs = list(zip(table["regulator"][:4], table["target"][:4], strict=True))
    cnnc.pl.pair_histograms(adata, top_pairs, use_raw=True, save=out / "top_edges_images.png", show=False)
    cnnc.pl.network(adata, top=40, save=out / "network.png", show=False)
    print(f"\nFigures: {out / 'pair_images.png'}, {out / 'top_edges_images.png'}, {out / 'network.png'}")

    _score_on_beeline(mdl)
    return 0


def _score_on_beeline(model) -> None:  # a loaded cnnc.models.Model
    """Where a BEELINE data set is available locally, score the default model against its ground truth."""
    import cnnc
    from cnnc.datasets._registry import make_pooch

    key = "beeline-genelink/STRING/mHSC-L/TFs+500/BL--ExpressionData.csv.gz"
    if not (Path(make_pooch().abspath) / key).is_file():
        print(
            "\n(No cached BEELINE data: set CNNC_DATA_DIR to a copy of it to score the model against a ground truth.)"
        )
        return
    adata = cnnc.datasets.beeline("mHSC-L", "STRING", 500)
    seen = "mHSC-L" in _training_data(model)
    cnnc.tl.predict_interactions(adata, model=model, tfs=adata.uns["ground_truth"]["regulator"].unique().tolist())
    result = cnnc.tl.evaluate(adata, adata.uns["ground_truth"], per_regulator=False)
    row = result.loc["all"] if "all" in result.index else result.iloc[0]
    print(
        f"\nBEELINE mHSC-L STRING (TFs+500), every regulator × gene pair: AUROC {row['auroc']:.3f}, "
        f"AUPRC ratio {row['auprc_ratio']:.2f} (random = 1), early precision ratio {row['epr']:.2f}"
    )
    if seen:
        print(
            "This cell type was part of the model's training data, so these figures are in-sample; the model card "
            "(cnnc.models.info) and docs/benchmarks.md give its numbers on cell types it never saw."
        )


def _training_data(model) -> str:
    """The data sets a model was trained on, as its card lists them ("" when the card does not say)."""
    datasets = model.spec.training.get("datasets") or []
    return "; ".join(str(d) for d in datasets)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m cnnc`` (the same commands as ``cnnc``: see :mod:`cnnc._cli`)."""
    from ._cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
