from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pooch
import pytest
import requests

from cnnc.datasets import _registry
from cnnc.datasets._make_registry import _UPSTREAM_ONLY, BUNDLED, registry_lines
from cnnc.datasets._registry import fetch, registry

REGISTRY = registry()
UPSTREAM_ONLY = {f"beeline-genelink/{k}" for k in _UPSTREAM_ONLY}
LOCAL_KEYS = sorted(set(REGISTRY) - UPSTREAM_ONLY)
TF_KEY = "beeline-genelink/Specific/mDC/TFs+500/TF.csv"


def test_registry_file_is_in_sync_with_shared_data(shared_data):
    text = Path(_registry.__file__).with_name("registry.txt").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == registry_lines(shared_data)
    fetched = [p for p in shared_data.rglob("*") if p.is_file() and p.name != "README.md"]
    fetched = [p for p in fetched if p.relative_to(shared_data).parts[0] not in BUNDLED]
    assert len(LOCAL_KEYS) == len(fetched)


def test_upstream_hashes_match_the_data_readme(shared_data):
    readme = (shared_data / "README.md").read_text()
    listed = dict(re.findall(r"^\s*- `([^`]+\.gz)` ([0-9a-f]{64})\s*$", readme, flags=re.MULTILINE))
    assert len(listed) == 18
    for rel, digest in listed.items():
        key = f"beeline-genelink/{rel}"
        assert REGISTRY[key] == digest
        assert not (shared_data / key).exists()


def test_urls_follow_the_published_patterns():
    urls = _registry._load_registry()[1]
    assert urls["beeline-genelink/Specific/mDC/TFs+500/BL--ExpressionData.csv"] == (
        "https://raw.githubusercontent.com/zpliulab/GENELink/4eb816af27f5fe0cb26f9230286401801b251129/"
        "Dataset/Benchmark%20Dataset/Specific%20Dataset/mDC/TFs%2B500/BL--ExpressionData.csv"
    )
    assert urls["beeline-genelink/Non-Specific/mHSC-L/TFs+1000/BL--ExpressionData.csv.gz"] == (
        "https://raw.githubusercontent.com/haohaostats/bridge-grn/27d21d94f6f96f5d2a8a7b41d392cb12410e46ea/"
        "data/benchmark_datasets/Non-Specific%20Dataset/mHSC-L/TFs%2B1000/BL--ExpressionData.csv.gz"
    )
    assert urls["cnnc/mesc_gene_pairs_400_num.txt"] == (
        "https://raw.githubusercontent.com/xiaoyeye/CNNC/f502cf6cc4d42427d6a090c78fb2d229c504efda/data/"
        "mesc_gene_pairs_400_num.txt"
    )
    assert urls["beeline-example/GSD/ex1/PseudoTime.csv"] == (
        "https://raw.githubusercontent.com/Murali-group/Beeline/37464085eb8a95d6cc6a3d3a3c649d36db6052ed/"
        "inputs/example/GSD/ex1/PseudoTime.csv"
    )
    assert all(" " not in url and "+" not in url for url in urls.values())


@pytest.mark.parametrize("key", LOCAL_KEYS)
def test_local_file_is_fetched_in_place_and_loads(key, data_dir, no_download):
    path = fetch(key)
    assert path == data_dir / key
    table = pd.read_csv(path, sep="\t" if key.endswith(".txt") else ",")
    assert len(table) > 0


def test_unknown_key_lists_what_is_registered(data_dir, no_download):
    with pytest.raises(ValueError, match=r"not in cnnc's data registry.*TF\.csv") as info:
        fetch("beeline-genelink/Specific/hESC/TFs+500/BL--ExpressionData.csv.gz")
    assert "beeline-genelink/Specific/hESC/TFs+500/BL--network.csv" in str(info.value)
    with pytest.raises(ValueError, match="registered folders"):
        fetch("nowhere.csv")


def test_hash_mismatch_is_an_error_and_nothing_is_written(tmp_path, shared_data, monkeypatch, no_download):
    corrupt = tmp_path / TF_KEY
    corrupt.parent.mkdir(parents=True)
    shutil.copyfile(shared_data / TF_KEY, corrupt)
    with corrupt.open("ab") as f:
        f.write(b"99,XYZ,999\n")
    before = corrupt.read_bytes()
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"does not have the registered sha256.*CNNC_DATA_DIR"):
        fetch(TF_KEY)
    assert corrupt.read_bytes() == before
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [corrupt]


def _copy_from_shared(shared_data, calls):
    key_of = {url: key for key, url in _registry._load_registry()[1].items()}

    def download(self, url, output_file, pooch_obj, check_only=False):
        calls.append(url)
        shutil.copyfile(shared_data / key_of[url], output_file)

    return download


def test_missing_file_is_downloaded_and_verified(tmp_path, shared_data, monkeypatch):
    calls = []
    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", _copy_from_shared(shared_data, calls))
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path / "cache"))
    path = fetch(TF_KEY)
    assert path == tmp_path / "cache" / TF_KEY
    assert path.read_bytes() == (shared_data / TF_KEY).read_bytes()
    assert calls == [_registry._load_registry()[1][TF_KEY]]
    fetch(TF_KEY)  # now local: no second download
    assert len(calls) == 1


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    def wrong_bytes(self, url, output_file, pooch_obj, check_only=False):
        Path(output_file).write_bytes(b"not the file\n")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", wrong_bytes)
    monkeypatch.setattr(pooch.core.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"Could not fetch .*TF\.csv.*CNNC_DATA_DIR"):
        fetch(TF_KEY)
    assert list(tmp_path.iterdir()) == []


def test_network_error_is_explained(tmp_path, monkeypatch):
    def offline(self, url, output_file, pooch_obj, check_only=False):
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    monkeypatch.setattr(pooch.core.time, "sleep", lambda seconds: None)
    monkeypatch.setenv("CNNC_DATA_DIR", str(tmp_path))
    with pytest.raises(OSError, match=r"no route to host.*set CNNC_DATA_DIR"):
        fetch("beeline-genelink/STRING/hHEP/TFs+500/BL--network.csv.gz")
    assert list(tmp_path.iterdir()) == []


def test_session_points_cnnc_data_dir_somewhere(shared_data):
    # set by tests/conftest.py to the shared data folder unless the caller set it before the session
    assert os.environ.get("CNNC_DATA_DIR")
    assert Path(_registry.make_pooch().abspath).resolve() == Path(os.environ["CNNC_DATA_DIR"]).resolve()


def test_hallmark_sets_load_offline(shared_data):
    import cnnc

    human, mouse = cnnc.datasets.hallmark("human"), cnnc.datasets.hallmark("mouse")
    assert len(human) == len(mouse) == 50 and list(human) == list(mouse)
    assert "HALLMARK_INTERFERON_ALPHA_RESPONSE" in human and all(len(g) >= 32 for g in human.values())
    with pytest.raises(ValueError, match="human"):
        cnnc.datasets.hallmark("fly")
