"""The CSV source's download: `url` and `sha256` with `path` empty, served from loopback by a real
HTTP server (tests/support/http_files.py), cached under $KERAS_HOME (a tmp dir here)."""

import hashlib
import importlib
import os
import threading
import time

import numpy as np
import pytest

from tests.support.helpers import HOUSING_CSV, raises_one_line
from tests.support.http_files import FileServer
from trainer.data.csv_source import CsvSource

needs_housing = pytest.mark.skipif(
    not os.path.isfile(HOUSING_CSV), reason="the housing table is not here: set TRAINER_HOUSING_CSV"
)

PUBLIC_URL = (
    "https://raw.githubusercontent.com/ageron/handson-ml2/master/datasets/housing/housing.csv"
)
PUBLIC_SHA256 = "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e"
HOUSING_CONFIGS = (
    "california_mlp",
    "california_wide_deep",
    "california_wide_deep_recipe",
    "california_wide_deep_subclassed",
    "california_wide_deep_two_inputs",
    "california_wide_deep_two_outputs",
)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache of this test's own; loopback reached directly, whatever proxy is set."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return home


@pytest.fixture
def small_csv(tmp_path):
    path = tmp_path / "served" / "small.csv"
    path.parent.mkdir()
    path.write_text("a,y\n" + "".join(f"{i},{i * 0.5}\n" for i in range(37)))
    return str(path)


def _sha256(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _housing(**args) -> CsvSource:
    return CsvSource(
        label="median_house_value", label_scale=1e-5, recipe="california_housing_8", **args
    )


def _small(**args) -> CsvSource:
    return CsvSource(label="y", split_seed=0, **args)


def _cached_files(home) -> list[str]:
    folder = home / "datasets"
    return sorted(os.listdir(folder)) if folder.is_dir() else []


def _splits_equal(a: CsvSource, b: CsvSource) -> bool:
    return all(
        np.array_equal(a._splits[s][i], b._splits[s][i])
        for s in ("train", "validation", "test")
        for i in (0, 1)
    )


@pytest.mark.parametrize("name", HOUSING_CONFIGS)
def test_every_housing_config_downloads_the_public_file_checked_by_its_hash(name):
    config = importlib.import_module(f"configs.{name}").get_config()
    assert config.data.source == "csv"
    assert config.data.args.path == ""  # A user's --config.data.args.path wins.
    assert config.data.args.url == PUBLIC_URL
    assert config.data.args.sha256 == PUBLIC_SHA256


@needs_housing
def test_the_tests_copy_of_the_housing_table_is_the_public_file():
    """What the tests serve is what the configs download: same bytes (1,423,529), same hash."""
    assert os.path.getsize(HOUSING_CSV) == 1_423_529
    assert _sha256(HOUSING_CSV) == PUBLIC_SHA256


@needs_housing
def test_housing_downloads_once_then_reads_the_cache_with_the_server_stopped(keras_home):
    with FileServer({"housing.csv": HOUSING_CSV}) as server:
        url = server.url("housing.csv")
        first = _housing(url=url, sha256=PUBLIC_SHA256)
        assert server.requests == ["/housing.csv"]
    sizes = {s: len(first._splits[s][0]) for s in ("train", "validation", "test")}
    assert sizes == {"train": 11610, "validation": 3870, "test": 5160}
    assert first.rows_with_missing == 207
    assert _cached_files(keras_home) == ["housing.csv"]  # No partial download left beside it.
    assert _sha256(keras_home / "datasets" / "housing.csv") == PUBLIC_SHA256

    again = _housing(url=url, sha256=PUBLIC_SHA256)  # The server is stopped: from the cache.
    assert _splits_equal(first, again)
    assert server.requests == ["/housing.csv"]


def test_a_path_wins_over_the_url_and_nothing_downloads(keras_home, small_csv):
    server = FileServer({"small.csv": small_csv})
    server.stop()  # Nothing answers: a download would fail.
    source = _small(path=small_csv, url=server.url("small.csv"), sha256="0" * 64)
    assert len(source._splits["train"][0]) > 0
    assert _cached_files(keras_home) == []


def test_a_wrong_sha256_fails_in_one_line_and_the_file_is_neither_used_nor_cached(
    keras_home, small_csv
):
    with FileServer({"small.csv": small_csv}) as server:
        wrong = "ab" * 32
        raises_one_line(
            lambda: _small(url=server.url("small.csv"), sha256=wrong),
            f"gave a file with sha256 {_sha256(small_csv)}, expected {wrong}",
            "the file was not used, nor cached",
            "--config.data.args.path=PATH/TO/small.csv",
        )
    assert _cached_files(keras_home) == []


def test_a_cached_file_that_does_not_match_is_downloaded_again(keras_home, small_csv):
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "small.csv").write_text("a,y\n1,2\n")  # Stale or cut short.
    with FileServer({"small.csv": small_csv}) as server:
        source = _small(url=server.url("small.csv"), sha256=_sha256(small_csv))
        assert server.requests == ["/small.csv"]
    assert _splits_equal(source, _small(path=small_csv))
    assert _sha256(keras_home / "datasets" / "small.csv") == _sha256(small_csv)


def test_offline_fails_in_one_line_naming_both_ways(keras_home, small_csv):
    server = FileServer({"small.csv": small_csv})
    server.stop()
    cached = keras_home / "datasets" / "small.csv"
    raises_one_line(
        lambda: _small(url=server.url("small.csv"), sha256=_sha256(small_csv)),
        f"Cannot download {server.url('small.csv')} (config.data.args.url)",
        f"connect once (the file is then cached at {cached}",
        "or pass --config.data.args.path=PATH/TO/small.csv",
    )
    with FileServer({}) as empty:  # Up, but without the file: a 404, said the same way.
        raises_one_line(
            lambda: _small(url=empty.url("small.csv")),
            "HTTP 404 File not found",
            f"cached at {cached}",
            "--config.data.args.path=PATH/TO/small.csv",
        )
    assert _cached_files(keras_home) == []


def test_bad_download_arguments_are_one_line_each(keras_home):
    raises_one_line(
        lambda: _small(), "config.data.args.path is empty and config.data.args.url is not set"
    )
    raises_one_line(
        lambda: _small(url="http://127.0.0.1:9/x.csv", sha256="abc"),
        "config.data.args.sha256='abc' is not a SHA-256",
    )
    raises_one_line(lambda: _small(url="http://127.0.0.1:9/"), "names no file")


def test_a_worker_that_starts_during_another_ones_download_reads_a_whole_file(keras_home, tmp_path):
    """Workers build their data each in their own process, so two may download into one cache at
    once: while the first is still downloading (slowly here), the second must not take the part
    written so far for the cached file. Unchecked (no sha256), it would read it as it is.
    (Threads here stand for the processes: each download has a name of its own either way.)"""
    big = tmp_path / "served" / "big.csv"
    big.parent.mkdir()
    big.write_text("a,y\n" + "".join(f"{i},{i % 7}\n" for i in range(60_000)))  # 10 chunks.
    sources, errors = {}, []
    with FileServer({"big.csv": str(big)}, chunk_delay_s=0.05) as server:

        def build(name):
            try:
                sources[name] = _small(url=server.url("big.csv"))
            except Exception as e:  # Reported below.
                errors.append(e)

        first = threading.Thread(target=build, args=("first",))
        first.start()
        while not server.requests:
            time.sleep(0.01)
        time.sleep(0.15)  # Part of the file is written.
        build("second")
        first.join()
    assert errors == []
    assert _splits_equal(sources["first"], sources["second"])
    rows = sum(len(sources["second"]._splits[s][0]) for s in ("train", "validation", "test"))
    assert rows == 60_000
    assert _cached_files(keras_home) == ["big.csv"]
    assert _sha256(keras_home / "datasets" / "big.csv") == _sha256(big)
