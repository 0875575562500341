"""GKE accelerators: GPU types (node label `cloud.google.com/gke-accelerator`) and TPU slices.

The names are the values GKE puts on its node labels, so `--gpu_type` and `--tpu_type` are what
`kubectl get nodes -L cloud.google.com/gke-accelerator,cloud.google.com/gke-tpu-accelerator`
prints. From GKE's "Plan TPUs in GKE" and the Cloud TPU pages of each version (v4, v5e, v5p,
v6e, Ironwood), and the GPU machine types of Compute Engine.
"""

import dataclasses
import math

GPU_RESOURCE = "nvidia.com/gpu"
GPU_NODE_LABEL = "cloud.google.com/gke-accelerator"
TPU_RESOURCE = "google.com/tpu"
TPU_NODE_LABEL = "cloud.google.com/gke-tpu-accelerator"
TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"

# The most GPUs one node of each type has (its largest machine type): more per pod never schedules.
GPUS_PER_NODE = {
    "nvidia-tesla-t4": 4,
    "nvidia-tesla-p4": 4,
    "nvidia-tesla-p100": 4,
    "nvidia-tesla-v100": 8,
    "nvidia-l4": 8,
    "nvidia-tesla-a100": 16,
    "nvidia-a100-80gb": 8,
    "nvidia-h100-80gb": 8,
    "nvidia-h100-mega-80gb": 8,
    "nvidia-h200-141gb": 8,
    "nvidia-b200": 8,
    "nvidia-gb200": 4,
}


@dataclasses.dataclass(frozen=True)
class TpuFamily:
    """One TPU version as GKE names it: its topologies and how many chips a host has."""

    dimensions: int  # 2 for v5e and v6e (a 2D torus), 3 for v4, v5p and Ironwood.
    chips_per_host: int  # On each host of a multi-host slice.
    single_host: tuple[str, ...]  # Topologies that fit one host (that host has all the chips).
    multi_host: tuple[str, ...] = ()  # Listed for 2D families; 3D ones follow _valid_3d.


TPU_FAMILIES = {
    "tpu-v4-podslice": TpuFamily(3, 4, single_host=("2x2x1",)),
    "tpu-v5p-slice": TpuFamily(3, 4, single_host=("2x2x1",)),
    # 2x4 also exists as two 4-chip hosts (GKE API only); this renders the one 8-chip host.
    "tpu-v5-lite-podslice": TpuFamily(
        2, 4, single_host=("1x1", "2x2", "2x4"), multi_host=("4x4", "4x8", "8x8", "8x16", "16x16")
    ),
    "tpu-v6e-slice": TpuFamily(
        2, 4, single_host=("1x1", "2x2", "2x4"), multi_host=("4x4", "4x8", "8x8", "8x16", "16x16")
    ),
    "tpu7x": TpuFamily(3, 4, single_host=("1x1x1", "2x2x1")),
}

# 3D slices below one cube (4x4x4) that are not multiples of 4 on every side.
_SMALL_3D = ("2x2x2", "2x2x4", "2x4x4")


@dataclasses.dataclass(frozen=True)
class TpuSlice:
    tpu_type: str
    topology: str
    chips: int
    hosts: int

    @property
    def chips_per_host(self) -> int:
        return self.chips // self.hosts

    @property
    def multi_host(self) -> bool:
        return self.hosts > 1


def tpu_slice(tpu_type: str, topology: str) -> TpuSlice:
    """The slice of `tpu_type` with `topology`; ValueError names the valid ones."""
    family = TPU_FAMILIES.get(tpu_type)
    if family is None:
        raise ValueError(
            f"--tpu_type={tpu_type!r} is not a GKE TPU type: use one of "
            f"{', '.join(sorted(TPU_FAMILIES))} (node label {TPU_NODE_LABEL})."
        )
    sides = _sides(topology)
    if sides is None or len(sides) != family.dimensions:
        example = family.single_host[-1]
        raise ValueError(
            f"--tpu_topology={topology!r} must be {family.dimensions} sides like {example} for "
            f"{tpu_type}."
        )
    chips = math.prod(sides)
    if topology in family.single_host:
        return TpuSlice(tpu_type, topology, chips=chips, hosts=1)
    valid = topology in family.multi_host if family.dimensions == 2 else _valid_3d(sides)
    if not valid:
        known = family.single_host + (family.multi_host or _SMALL_3D + ("4x4x4", "4x4x8", "..."))
        raise ValueError(
            f"--tpu_topology={topology} is not a {tpu_type} topology: use one of "
            f"{', '.join(known)} (3D sides in ascending order, multiples of 4 from 4x4x4 on)."
        )
    return TpuSlice(tpu_type, topology, chips=chips, hosts=chips // family.chips_per_host)


def _sides(topology: str) -> list[int] | None:
    parts = topology.split("x")
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        return None
    return [int(part) for part in parts]


def _valid_3d(sides: list[int]) -> bool:
    if sides != sorted(sides):
        return False
    return "x".join(map(str, sides)) in _SMALL_3D or all(side % 4 == 0 for side in sides)
