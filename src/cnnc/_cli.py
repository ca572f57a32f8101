"""Command line: ``cnnc predict``, ``cnnc train``, ``cnnc demo``, ``cnnc --version`` (also ``python -m cnnc``).

For pipelines (Snakemake, Nextflow): read an ``.h5ad`` or ``.h5mu`` file, write the results into a copy of it
(or in place) and/or an edge table (``.csv``, ``.tsv``, ``.parquet``). Errors are printed as one line on stderr
with exit status 1 (2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from pathlib import Path

from ._validate import check_groups_need_groupby
from ._version import __version__

INPUT_SUFFIXES = (".h5ad", ".h5mu")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")


class CliError(Exception):
    """A problem with the user's input, reported without a traceback."""


#: Suffixes that mark a --tfs/--targets value as a file name (a gene is never called "regulators.txt").
LIST_SUFFIXES = (".txt", ".tsv", ".csv", ".lst", ".list", ".gz")
#: Parameters of the Python functions named in their messages, and the options that set them here.
OPTIONS = {
    "key_added": "--key-added",
    "min_cells": "--min-cells",
    "batch_size": "--batch-size",
    "chunk_cells": "--chunk-cells",
    "groupby": "--groupby",
    "groups": "--groups",
    "use_raw": "--use-raw",
    "layer": "--layer",
    "tfs": "--tfs",
    "targets": "--targets",
    "epochs": "--epochs",
    "folds": "--folds",
    "top": "--top",
}


def _as_options(message: str) -> str:
    """A message of the Python API in the words of the command line: ``key_added=`` becomes ``--key-added``."""
    for name, option in OPTIONS.items():
        message = re.sub(rf"(?<![\w.\[\'-]){name}=(?=\S)", f"{option} ", message)
        if "_" in name:  # a bare parameter name (plain words such as "groups" stay)
            message = re.sub(rf"(?<![\w.\[\'-]){name}(?![\w(\'=])", option, message)
    return message


def _genes(value: str | None) -> str | list[str] | None:
    """``--tfs``/``--targets``: a species (human, mouse), a file with one gene a line, or a comma-separated list."""
    if value is None:
        return None
    if value.strip().lower() in ("human", "mouse"):
        return value.strip().lower()
    path = Path(value)
    looks_like_file = os.sep in value or "/" in value or value.lower().endswith(LIST_SUFFIXES)
    if looks_like_file and not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise CliError(
            f"{value}: the gene list file {what}. Pass an existing file with one gene a line, 'human' or 'mouse', or "
            "the genes themselves as GENE1,GENE2,..."
        )
    if path.is_file():
        names = [line.split(",")[0].split("\t")[0].strip() for line in path.read_text().splitlines()]
        names = [n for n in names if n and not n.startswith("#")]
        if not names:
            raise CliError(
                f"{value}: the gene list file is empty: write one gene a line (lines starting # are skipped)."
            )
        return names
    names = [g.strip() for g in value.split(",") if g.strip()]
    if not names:
        raise CliError(
            f"No gene names in {value!r}: pass GENE1,GENE2,..., a file with one gene a line, or human/mouse."
        )
    return names


def _intervention_targets(value: str | None) -> dict | None:
    """``--intervention-targets``: a CSV/TSV file of ``condition,target[,acts_on]`` rows.

    A target empty or ``none``: an observational condition; ``acts_on``: ``level`` (the default) or ``activity``.
    """
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise CliError(
            f"--intervention-targets {value}: no such file (expected condition,target[,acts_on] rows, CSV or TSV)."
        )
    mapping: dict[str, list[str] | None] = {}
    kinds: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.replace("\t", ",").split(",")]
        if len(fields) not in (2, 3):
            raise CliError(
                f"{value}, line {number}: expected condition, target and optionally acts_on (level or activity), "
                f"got {line!r}."
            )
        label, target = fields[:2]
        if number == 1 and label.lower() == "condition":
            continue  # a header
        if len(fields) == 3 and fields[2]:
            if kinds.setdefault(label, fields[2]) != fields[2]:
                raise CliError(f"{value}, line {number}: condition {label!r} is given two acts_on values.")
        if target.lower() in ("", "none"):
            mapping.setdefault(label, None)
        else:
            mapping[label] = [*(mapping.get(label) or []), target]
    if not mapping:
        raise CliError(f"{value}: no condition,target rows.")
    # what a condition acts on travels in the mapping's dict form (checked, with its error, by the tools)
    return {k: {"targets": v, "acts_on": kinds[k]} if k in kinds else v for k, v in mapping.items()}


def _read(path: Path, mod: str | None):
    """The data object to write back, and the AnnData to compute on."""
    if not path.is_file():
        raise CliError(f"{path}: no such file. Check the path (relative paths start in the current folder).")
    suffix = path.suffix.lower()
    if suffix == ".h5ad":
        import anndata

        if mod is not None:
            raise CliError("--mod selects a modality of an .h5mu file; an .h5ad file has none: drop --mod.")
        adata = _read_file(anndata.read_h5ad, path)
        return adata, adata
    if suffix == ".h5mu":
        import mudata

        mdata = _read_file(mudata.read_h5mu, path)
        modalities = list(mdata.mod.keys())
        if mod is None:
            if "rna" in mdata.mod:
                mod = "rna"
            elif len(modalities) == 1:
                mod = modalities[0]
            else:
                raise CliError(f"{path} has the modalities {modalities}: pick the expression with --mod.")
        if mod not in mdata.mod:
            raise CliError(f"{path} has no modality {mod!r}; its modalities are {modalities}.")
        return mdata, mdata.mod[mod]
    raise CliError(f"{path}: expected an {' or '.join(INPUT_SUFFIXES)} file, got {suffix or 'no suffix'!r}.")


def _read_file(reader, path: Path):
    """Read ``path`` with ``reader``; a file that is not what its suffix says is reported in one line."""
    try:
        return reader(path)
    except (OSError, KeyError, ValueError) as error:
        raise CliError(
            f"{path}: cannot be read as an {path.suffix} file ({error}). Is it complete, and written by "
            f"{'anndata' if path.suffix.lower() == '.h5ad' else 'mudata'}? Write it again, e.g. adata.write_h5ad(...)."
        ) from None


def _write_data(data, path: Path) -> None:
    """Write the AnnData/MuData to ``path`` through a temporary file (safe when ``path`` is the input)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=path.suffix, delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        data.write(tmp_path)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _write_table(table, path: Path) -> None:
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        try:
            table.to_parquet(path, index=False)
        except ImportError as error:
            raise CliError(
                f"Writing {path.name} needs a Parquet engine ({error}): pip install pyarrow, or write a .csv/.tsv."
            ) from None
    elif suffix in (".csv", ".tsv"):
        table.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    else:
        raise CliError(f"--edges {path}: expected a {', '.join(TABLE_SUFFIXES)} file.")


def _check_outputs(args, input_suffix: str) -> None:
    if args.edges is None:
        ignored = [o for o, given in (("--top", args.top is not None), ("--network", args.network)) if given]
        if ignored:
            raise CliError(f"{' and '.join(ignored)} shape the edge table: pass --edges TABLE, or drop them.")
    if args.top is not None and args.top < 1:
        raise CliError(f"--top must be an integer >= 1 (edges written per group), got {args.top}: pass e.g. --top 100.")
    check_groups_need_groupby(args.groups, args.groupby, option="--groups", by="--groupby")
    if args.output is None and args.edges is None:
        raise CliError("Nothing to write: pass -o/--output (results in a copy of the data) and/or --edges TABLE.")
    if args.output is not None and args.output.suffix.lower() != input_suffix:
        raise CliError(f"-o {args.output}: write the same format as the input ({input_suffix}).")
    if args.edges is not None and args.edges.suffix.lower() not in TABLE_SUFFIXES:
        raise CliError(f"--edges {args.edges}: expected a {', '.join(TABLE_SUFFIXES)} file.")


def _layer(layer: str | None, use_raw: bool | None) -> str | None:
    """``--layer`` and ``--use-raw`` as one ``layer=`` (``"raw"``: ``.raw``, ``"X"``: ``.X``)."""
    if layer is not None and use_raw:
        raise CliError("--layer and --use-raw yes both name the values: pass one of them.")
    return layer if layer is not None or use_raw is None else ("raw" if use_raw else "X")


def predict(args) -> int:
    """``cnnc predict``."""
    import cnnc

    _check_outputs(args, args.input.suffix.lower())
    data, adata = _read(args.input, args.mod)
    use_raw = {"auto": None, "yes": True, "no": False}[args.use_raw]
    groups = None if args.groups is None else [g.strip() for g in args.groups.split(",") if g.strip()]
    cnnc.tl.predict_interactions(
        adata,
        model=args.model,
        tfs=_genes(args.tfs),
        targets=_genes(args.targets),
        layer=_layer(args.layer, use_raw),
        groupby=args.groupby if groups is None else (args.groupby, groups),
        interventions=args.interventions,
        control=None if args.control is None else [c.strip() for c in args.control.split(",") if c.strip()],
        intervention_targets=_intervention_targets(args.intervention_targets),
        time_key=args.time_key,
        settings=cnnc.tl.ScoringSettings(
            min_cells=args.min_cells,
            direction=args.direction,
            batch_size=args.batch_size,
            chunk_cells=args.chunk_cells,
            precision=args.precision,
        ),
        key_added=args.key_added,
    )
    params = adata.uns[args.key_added]["params"]
    written = []
    if args.edges is not None:
        table = cnnc.get.edges(adata, key=args.key_added, top=args.top, max_q=args.max_q, network=args.network)
        _write_table(table, args.edges)
        written.append(f"{len(table):,} edges to {args.edges}")
    if args.output is not None:
        _write_data(data, args.output)
        written.append(f"results to {args.output} (uns[{args.key_added!r}], varp)")
    print(
        f"cnnc {__version__}: scored {params['n_pairs']:,} pairs with model {params['model']!r}; wrote {'; '.join(written)}"
    )
    return 0


def train(args) -> int:
    """``cnnc train``."""
    import pandas as pd

    import cnnc

    if args.output.suffix.lower() != ".safetensors":
        raise CliError(f"-o {args.output}: models are saved as .safetensors files.")
    if not args.truth.is_file():
        raise CliError(f"--truth {args.truth}: no such file. Check the path of the table of known edges.")
    try:
        truth = pd.read_csv(args.truth, sep=None, engine="python")
    except (ValueError, OSError, pd.errors.ParserError, csv.Error) as error:
        raise CliError(
            f"--truth {args.truth}: cannot be read as a CSV/TSV table ({error}). Give a table with a header and "
            "regulator,target columns."
        ) from None
    _, adata = _read(args.input, args.mod)
    use_raw = {"auto": None, "yes": True, "no": False}[args.use_raw]
    tfs = _genes(args.tfs)
    if isinstance(tfs, str):
        tfs = cnnc.datasets.tfs(tfs)
    features = [f.strip() for f in args.features.split(",") if f.strip()] if args.features else ()
    model = cnnc.tl.train(
        adata,
        truth,
        tfs=tfs,
        folds=args.folds,
        epochs=args.epochs,
        features=features,
        layer=args.layer,
        use_raw=use_raw,
        random_state=args.random_state if args.seed is None else args.seed,
        name=args.name,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    path = model.save(args.output)
    line = f"cnnc {__version__}: trained model {model.name!r}; saved to {path}"
    if args.folds >= 2 and "cnnc_cv" in adata.uns:
        metrics = cnnc.tl.evaluate(adata, truth, key="cnnc_cv", per_regulator=False)
        line += f"; cross-validated AUROC {metrics.loc['all', 'auroc']:.3f}"
    print(line)
    return 0


def _input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="an .h5ad or .h5mu file of log-normalized expression")
    p.add_argument("--mod", help="modality of an .h5mu file (default: 'rna', or the only one)")
    p.add_argument("--layer", help="layer holding the log-normalized expression (default: X)")
    p.add_argument(
        "--use-raw",
        choices=("auto", "yes", "no"),
        default="auto",
        help="read .raw (auto: when present and no --layer; scanpy's rule)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``cnnc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="cnnc", description="Gene regulatory networks from single-cell expression with CNNC models."
    )
    parser.add_argument("--version", action="version", version=f"cnnc {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    parser.add_argument(
        "--n-jobs",
        type=int,
        help="threads for the compiled kernels and torch (sets sc.settings.n_jobs; -1: every core; default: scanpy's)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{predict,train,demo}")
    _add_predict(sub)
    _add_train(sub)
    _add_demo(sub)
    return parser


def _add_predict(sub) -> None:
    """``cnnc predict``: the data, what to score, how to write the edges and how to run the model."""
    p = sub.add_parser("predict", help="predict a regulatory network and write it into the file and/or a table")
    _input_options(p)
    p.add_argument("-o", "--output", type=Path, help="write the data with the results (may be the input file)")
    p.add_argument("--edges", type=Path, help="write the edge table (.csv, .tsv or .parquet)")
    p.add_argument(
        "--tfs",
        help="regulators: 'human' or 'mouse' (bundled TF lists), a file with one gene a line, or GENE1,GENE2,... "
        "(default: var['is_tf'] or uns['tfs'] of the data)",
    )
    p.add_argument("--targets", help="targets: a file or GENE1,GENE2,... (default: every gene)")
    p.add_argument("--model", default="default", help="registry name or .safetensors file (default: %(default)s)")
    p.add_argument("--min-cells", type=int, default=10, help="cells co-expressing a pair to score it (%(default)s)")
    p.add_argument("--groupby", help="obs column: one network per category")
    p.add_argument("--groups", help="with --groupby, the categories to score: A,B,...")
    p.add_argument("--interventions", help="obs column of each cell's condition or guide: direction from perturbations")
    p.add_argument("--control", help="with --interventions, the label(s) of unperturbed cells: A,B,...")
    p.add_argument(
        "--intervention-targets",
        help="with --interventions, a CSV/TSV of condition,target[,acts_on] rows (acts_on: level, the default, or "
        "activity; default: a label names its perturbed gene)",
    )
    p.add_argument(
        "--direction",
        choices=("auto", "images"),
        default="auto",
        help="'auto': pair images only where they add measured value (the default model: none, p_ab/p_ba are NaN); "
        "'images': always compute them (default: %(default)s)",
    )
    p.add_argument(
        "--time-key", help="numeric obs column (pseudotime or collection time): direction of regulator pairs from time"
    )
    p.add_argument("--key-added", default="cnnc", help="key in uns/varp (default: %(default)s)")
    p.add_argument("--top", type=int, help="with --edges, write the top edges only (per group)")
    p.add_argument(
        "--max-q",
        type=float,
        help="with --edges, write edges with q-value <= MAX_Q only (Benjamini-Hochberg; e.g. 0.05), before --top",
    )
    p.add_argument("--network", action="store_true", help="with --edges, write decoupler's source/target/weight")
    p.add_argument("--batch-size", type=int, default=1024, help="pairs per batch of images (%(default)s)")
    p.add_argument("--chunk-cells", type=int, help="cells read at a time (bounds memory; default: 20,000)")
    p.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default="float32",
        help="float32 (exact) or bfloat16 (about twice as fast on CPUs with bf16 units) (%(default)s)",
    )
    p.set_defaults(run=predict)


def _add_train(sub) -> None:
    """``cnnc train``: the data, the known edges, the model file and the training settings."""
    t = sub.add_parser("train", help="train a model on known edges and save it")
    _input_options(t)
    t.add_argument("--truth", type=Path, required=True, help="known edges: CSV/TSV with regulator,target columns")
    t.add_argument("-o", "--output", type=Path, required=True, help="the model file to write (.safetensors)")
    t.add_argument("--tfs", help="use the edges of these regulators only: 'human', 'mouse', a file or A,B,...")
    t.add_argument("--folds", type=int, default=3, help="regulator-disjoint cross-validation folds, 0 to skip")
    t.add_argument("--epochs", type=int, default=30, help="training epochs, at most (early stopping) (%(default)s)")
    t.add_argument("--features", help="extra per-pair inputs, e.g. z_context,abs_pearson")
    t.add_argument(
        "--random-state", type=int, default=0, help="seed of negatives, splits and initialisation (%(default)s)"
    )
    t.add_argument("--seed", type=int, help="deprecated name of --random-state")
    t.add_argument("--name", default="custom", help="the model's name")
    t.set_defaults(run=train)


def _add_demo(sub) -> None:
    """``cnnc demo``: where to write, which model, how many edges."""
    d = sub.add_parser("demo", help="predict a network on scanpy's bundled PBMCs with the default model")
    d.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("CNNC_DEMO_OUT", "cnnc_output")),
        help="folder for the demo's table and figures (default: %(default)s, or $CNNC_DEMO_OUT)",
    )
    d.add_argument("--model", default="default", help="registry name or .safetensors file (default: %(default)s)")
    d.add_argument("--top", type=int, default=15, help="edges to print and draw (%(default)s)")
    d.set_defaults(run=None)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cnnc`` and ``python -m cnnc``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_jobs is not None:
        import scanpy as sc

        sc.settings.n_jobs = args.n_jobs
    if args.command == "demo":
        args.run = _demo
    import scanpy as sc

    sc.settings.verbosity = 1 if args.quiet else 2
    try:
        return args.run(args)
    except CliError as error:
        print(f"cnnc {args.command}: error: {error}", file=sys.stderr)
    except (ValueError, KeyError, TypeError, FileNotFoundError, OSError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"cnnc {args.command}: error: {_as_options(str(message))}", file=sys.stderr)
    return 1


def _demo(args) -> int:
    """``cnnc demo``, its options checked before the data are read."""
    from .__main__ import demo

    if args.top < 1:
        raise CliError(f"--top must be an integer >= 1 (edges printed), got {args.top}: pass e.g. --top 15.")
    if args.out.exists() and not args.out.is_dir():
        raise CliError(f"--out {args.out} is a file: the figures go into a folder. Pass a folder (made when missing).")
    return demo(args.out, model=args.model, top=args.top)
