"""Write ``registry.txt``: the sha256 and public URL of every data file :mod:`cnnc.datasets` can fetch.

Run from a checkout, with a copy of the public data folder (its layout is the registry's layout)::

    python -m cnnc.datasets._make_registry /path/to/shared/data

Every file in that folder (but the ``README.md`` files) is hashed; the files that exist only upstream are
added with the sha256 published next to the data (``_UPSTREAM_ONLY``). Keys are paths relative to
the data folder, so pointing ``CNNC_DATA_DIR`` at a copy of it makes every fetch local.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

from .._utils import sha256_file

GENELINK = "https://raw.githubusercontent.com/zpliulab/GENELink/4eb816af27f5fe0cb26f9230286401801b251129/Dataset/Benchmark%20Dataset"
BRIDGE_GRN = "https://raw.githubusercontent.com/haohaostats/bridge-grn/27d21d94f6f96f5d2a8a7b41d392cb12410e46ea/data/benchmark_datasets"
CNNC = "https://raw.githubusercontent.com/xiaoyeye/CNNC/f502cf6cc4d42427d6a090c78fb2d229c504efda/data"
SACHS = "https://raw.githubusercontent.com/FenTechSolutions/CausalDiscoveryToolbox/d0bc352534dcbfac19a84a1bb05f33fe311378d2/cdt/data/resources"
BEELINE_GSD = (
    "https://raw.githubusercontent.com/Murali-group/Beeline/37464085eb8a95d6cc6a3d3a3c649d36db6052ed/inputs/example/GSD"
)

# Public BEELINE files (bridge-grn's gzipped copies) that are not in the local data folder, with the
# sha256 published beside that folder. Keys are relative to ``beeline-genelink/``.
_UPSTREAM_ONLY = {
    "Specific/hHEP/TFs+500/BL--ExpressionData.csv.gz": "e3c5b4facb46d187a92b1404b556edcbdfae7c99ce306fa22c2df701b2aaca16",
    "Non-Specific/hHEP/TFs+500/BL--ExpressionData.csv.gz": "0d8c475cc78179ee129617e755e3c65b21fa31e206136a41e7c65e4e6fba5edb",
    "STRING/hHEP/TFs+500/BL--ExpressionData.csv.gz": "c215d2860ff0164228f9e1092d7b3ad6a674c4eb307973f912fd21f1d1e458d9",
    "Specific/hHEP/TFs+1000/BL--ExpressionData.csv.gz": "ec480368ad49253b04343ff3a8ffed1745f8267158ceff707a9c8a80715dd674",
    "Non-Specific/hHEP/TFs+1000/BL--ExpressionData.csv.gz": "2a78a51f406a408c32439172f6a8d4795f98f7d99171f349475f3eebb2b586b4",
    "STRING/hHEP/TFs+1000/BL--ExpressionData.csv.gz": "1227a5540ce8f38d99c57acca68f670b2e7b6d45768f723c28620c3882a5c72e",
    "Specific/mHSC-GM/TFs+500/BL--ExpressionData.csv.gz": "9819d8da7e447d3ccd88ee67956d2b2bcf14b115b406d8c263069dd192ebcc6d",
    "Non-Specific/mHSC-GM/TFs+500/BL--ExpressionData.csv.gz": "0ebe7622609d54dd683d1c4008841786f4175811d083e7d67cf80f1496fd12ab",
    "STRING/mHSC-GM/TFs+500/BL--ExpressionData.csv.gz": "f9db03d9a6c1def5f63af95bf6242eb8547e0172e8d0e97ed5de098033677810",
    "Specific/hHEP/TFs+500/BL--network.csv.gz": "d5354cb3d137686634b20cec07fbfc1f4a884179fd80a2d7278e39846946ef39",
    "Non-Specific/hHEP/TFs+500/BL--network.csv.gz": "9586277346fa0fdee8038ca41beaef8386e0792287abf20a8686190ab4059563",
    "STRING/hHEP/TFs+500/BL--network.csv.gz": "65462fb505e4e92d28c926c4abec3df4bd5fa0af8fe156772775cf5670449050",
    "Specific/hHEP/TFs+1000/BL--network.csv.gz": "b797fd3480f0fe853834c6137fc8cc0046885ed727befc66a683361cb29109bc",
    "Non-Specific/hHEP/TFs+1000/BL--network.csv.gz": "bbfaa94f0686544f415ec9ef581e820a01861ded7390e5c8c05b8f3f61609650",
    "STRING/hHEP/TFs+1000/BL--network.csv.gz": "7186fc9bd6a340a3aba45f3a6c9c3d5158878e6676e27fc3b95f27a0792c5ef8",
    "Specific/mHSC-GM/TFs+500/BL--network.csv.gz": "f1b9388a4fd0d166f8303094b0018ecee7b5f581f9751ec3ec2354ae9024c393",
    "Non-Specific/mHSC-GM/TFs+500/BL--network.csv.gz": "c8cd7ced548038633cfd39e0589414d706cb065ad9840b6f64665b26175769b9",
    "STRING/mHSC-GM/TFs+500/BL--network.csv.gz": "c043780088a28d7b8eddf0386bc93dccdfbb63912afc6266c44c0faca8a994f7",
}


def url_for(key: str) -> str:
    """Public URL of the file registered as ``key`` (a path relative to the data folder)."""
    top, _, rest = key.partition("/")
    if top == "beeline-genelink":
        network, cell, size, fname = rest.split("/")
        if fname.endswith(".gz"):  # bridge-grn's gzipped copy of GENELink's file
            return f"{BRIDGE_GRN}/{quote(f'{network} Dataset/{cell}/{size}/{fname}')}"
        return f"{GENELINK}/{quote(f'{network} Dataset/{cell}/{size}/{fname}')}"
    if top == "cnnc":
        return f"{CNNC}/{quote(rest)}"
    if key.startswith("beeline-example/GSD/"):
        return f"{BEELINE_GSD}/{quote(key.removeprefix('beeline-example/GSD/'))}"
    if top == "sachs":
        return f"{SACHS}/{quote(rest)}"
    if key in GENESETS:
        return GENESETS[key]
    msg = f"No public URL is known for {key!r}: add its source to cnnc.datasets._make_registry.url_for."
    raise ValueError(msg)


#: MSigDB Hallmark gene sets (CC BY 4.0), byte-identical public copies (see the data folder's genesets/README.md).
GENESETS = {
    "genesets/hallmark.human.gmt": "https://raw.githubusercontent.com/zqfang/GSEApy/"
    "08cb2b689def365f7dee1f5da50c49d3a149cf5a/tests/extdata/h.all.v7.0.symbols.gmt",
    "genesets/hallmark.mouse.gmt": "https://raw.githubusercontent.com/SysBioChalmers/Mouse-GEM/"
    "fc769ac1da421c4e4e9e1cf2a9aec3fe4f02ef6a/data/MSigDB/h.all.v7.0.symbols.mouse.gmt",
}
#: Folders of the data folder whose content ships inside the package instead (cnnc.datasets.tfs).
BUNDLED = ("tfs",)


def registry_lines(data_dir: Path) -> list[str]:
    """``key sha256 url`` lines for every file under ``data_dir`` plus the upstream-only files, sorted by key."""
    entries: dict[str, str] = {}
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if rel.parts[0] in BUNDLED:  # shipped with the package, never fetched
            continue
        if path.is_file() and path.name != "README.md":  # a folder's README describes its data
            entries[path.relative_to(data_dir).as_posix()] = sha256_file(path)
    for rel, digest in _UPSTREAM_ONLY.items():
        key = f"beeline-genelink/{rel}"
        if key in entries and entries[key] != digest:
            msg = f"{key}: local sha256 {entries[key]} differs from the published {digest}."
            raise ValueError(msg)
        entries[key] = digest
    return [f"{key} {digest} {url_for(key)}" for key, digest in sorted(entries.items())]


def main(argv: list[str] | None = None) -> None:
    """Write ``registry.txt`` beside this module from the data folder given on the command line."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.exit("usage: python -m cnnc.datasets._make_registry DATA_DIR")
    data_dir = Path(argv[0])
    if not data_dir.is_dir():
        sys.exit(f"{data_dir} is not a folder")
    lines = registry_lines(data_dir)
    out = Path(__file__).with_name("registry.txt")
    header = [
        "# cnnc.datasets registry: <path relative to the data folder> <sha256> <public URL>",
        "# Generated by `python -m cnnc.datasets._make_registry DATA_DIR`; do not edit by hand.",
    ]
    out.write_text("\n".join(header + lines) + "\n")
    print(f"wrote {len(lines)} entries to {out}")


if __name__ == "__main__":
    main()
