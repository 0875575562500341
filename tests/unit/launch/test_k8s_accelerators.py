"""TPU slices have the chips and hosts Cloud TPU documents for each topology."""

import pytest

from launch.k8s.accelerators import TPU_FAMILIES, tpu_slice


@pytest.mark.parametrize(
    "tpu_type, topology, chips, hosts",
    [
        ("tpu-v5-lite-podslice", "1x1", 1, 1),
        ("tpu-v5-lite-podslice", "2x4", 8, 1),  # One 8-chip host (ct5lp-hightpu-8t).
        ("tpu-v5-lite-podslice", "4x4", 16, 4),
        ("tpu-v6e-slice", "16x16", 256, 64),
        ("tpu-v5p-slice", "2x2x1", 4, 1),
        ("tpu-v5p-slice", "2x2x2", 8, 2),
        ("tpu-v5p-slice", "2x4x4", 32, 8),
        ("tpu-v5p-slice", "16x16x24", 6144, 1536),
        ("tpu-v4-podslice", "4x4x4", 64, 16),
        ("tpu7x", "1x1x1", 1, 1),
        ("tpu7x", "2x2x4", 16, 4),
    ],
)
def test_chips_and_hosts_follow_the_topology(tpu_type, topology, chips, hosts):
    found = tpu_slice(tpu_type, topology)
    assert (found.chips, found.hosts, found.multi_host) == (chips, hosts, hosts > 1)
    assert found.chips_per_host * found.hosts == chips


def test_every_listed_topology_is_accepted():
    for tpu_type, family in TPU_FAMILIES.items():
        for topology in family.single_host + family.multi_host:
            assert tpu_slice(tpu_type, topology).topology == topology
