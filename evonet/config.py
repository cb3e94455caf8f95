"""Settings of an evolution run: one dataclass, TOML files, validation.

Precedence: built-in defaults, then a TOML file (--config), then command-line flags.
TOML keys are the field names below (mutation_rate = 0.1, hidden = [16, 16],
board = "10x10"); an unknown key is an error.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from evonet.budget import check_memory
from evonet.ga import GAConfig
from evonet.mlp import Topology
from evonet.rollout import GameSettings, rollout_bytes
from games.snake import MAX_HUNGER_FACTOR, MAX_SIDE, MIN_SIDE, N_OBS

GAMES = ("snake",)
# A checkpoint keeps one history record per generation in its metadata (about 300 bytes
# each); this bound keeps that within what loading accepts (evonet.archive.MAX_META_BYTES).
MAX_GENERATIONS = 200_000
MAX_SEED = 2**64 - 1
MAX_TOML_BYTES = 1 << 20  # a settings file is a few lines


def check_board(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` if the engine can play it, else ValueError saying why."""
    lo, hi = MIN_SIDE, MAX_SIDE
    if width < lo or height < lo:
        raise ValueError(f"the board must be at least {lo}x{lo}, got {width}x{height}")
    if width > hi or height > hi:
        raise ValueError(f"the board can be at most {hi}x{hi}, got {width}x{height}")
    return width, height


def check_hunger(hunger: int, width: int, height: int) -> int:
    """``hunger`` if it is 0 (the board's cell count) or at most ``MAX_HUNGER_FACTOR`` x the
    cells, so every game ends; else ValueError saying why."""
    most = MAX_HUNGER_FACTOR * width * height
    if not 0 <= hunger <= most:
        raise ValueError(
            f"hunger must be from 0 (the board's cell count) to {MAX_HUNGER_FACTOR} x the "
            f"board's cells ({most} on {width}x{height}), so every game ends; got {hunger}"
        )
    return hunger


def parse_board(text: str) -> tuple[int, int]:
    """``"10x10"`` -> ``(10, 10)`` (width, height); ValueError naming the problem."""
    parts = text.lower().split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected WIDTHxHEIGHT like 10x10, got {text!r}") from None
    return check_board(width, height)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"16,16"`` -> ``(16, 16)``; an empty string means no hidden layer."""
    if text.strip() == "":
        return ()
    try:
        sizes = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ValueError(f"expected comma-separated layer sizes like 10,25, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be positive, got {text!r}")
    return sizes


def setting(default: Any, doc: str) -> Any:
    """A config field whose help text is kept beside it (and reused by the CLI)."""
    return field(default=default, metadata={"help": doc})


@dataclass(frozen=True)
class EvolveConfig:
    """Everything that defines an evolution run."""

    game: str = setting("snake", "The game to learn; only snake for now.")
    generations: int = setting(
        200, "Generations to run (a resumed run counts from generation 0 of the original)."
    )
    population: int = setting(300, "P, genomes per generation.")
    elite: int = setting(6, "Best genomes copied unchanged into the next generation.")
    parents: int = setting(
        30, "Parents are drawn from the best parents genomes (truncation selection)."
    )
    selection: str = setting("truncation", "truncation or tournament.")
    tournament_size: int = setting(3, 'Contestants per tournament when selection is "tournament".')
    mutation_rate: float = setting(0.1, "Probability that a gene gets Gaussian noise.")
    mutation_sigma: float = setting(0.2, "Standard deviation of the mutation noise.")
    sigma_decay: float = setting(1.0, "Sigma is multiplied by this every generation.")
    sigma_min: float = setting(0.0, "Lower bound of the decayed sigma.")
    hidden: tuple[int, ...] = setting(
        (16, 16), "Hidden layer sizes of the network (input 32 observations, output 3 actions)."
    )
    activation: str = setting("tanh", "Hidden activation: tanh, relu or sigmoid.")
    episodes: int = setting(
        4, "E, episodes per genome per generation; every genome plays the same E seeds."
    )
    board: tuple[int, int] = setting((10, 10), "Board width and height.")
    hunger: int = setting(0, "Steps without an apple before a game ends; 0 means width * height.")
    seed: int = setting(
        0, "Seed of the initial population, the GA's randomness and the episode seeds."
    )
    time_limit: float = setting(
        0.0, "Stop after this many seconds (checked between generations); 0 for no limit."
    )
    checkpoint_every: int = setting(
        10, "Write latest.npz every this many generations (and always at the end)."
    )
    out: str = setting(
        "checkpoints/snake", "Run folder: latest.npz, best.npz, history.csv, fitness.png."
    )

    # Settings that cannot change results, so a resumed run may change them.
    RESUMABLE = frozenset({"generations", "time_limit", "checkpoint_every", "out"})

    def ga(self) -> GAConfig:
        return GAConfig(
            population=self.population,
            elite=self.elite,
            parents=self.parents,
            selection=self.selection,
            tournament_size=self.tournament_size,
            mutation_rate=self.mutation_rate,
            mutation_sigma=self.mutation_sigma,
            sigma_decay=self.sigma_decay,
            sigma_min=self.sigma_min,
        )

    def topology(self) -> Topology:
        return Topology((N_OBS, *self.hidden, 3), self.activation, "linear")

    def game_settings(self) -> GameSettings:
        return GameSettings(self.board[0], self.board[1], self.hunger or None)

    def memory_bytes(self) -> int:
        """An upper estimate of the memory one generation needs (breeding plus rollout)."""
        topo = self.topology()
        return self.ga().memory_bytes(topo.n_params) + rollout_bytes(
            self.population, self.episodes, topo, self.game_settings()
        )

    def validate(self, memory: bool = True) -> None:
        """Raise ValueError naming the first impossible setting.

        Checks types (whole numbers are ints, not bools or floats), ranges, and (unless
        ``memory`` is False) that one generation's arrays fit in this machine's memory,
        before anything is allocated.
        """
        for f in fields(self):
            _check_type(f.name, getattr(self, f.name), f.default)
        if self.game not in GAMES:
            raise ValueError(f"unknown game {self.game!r}; choose from {GAMES}")
        for name in ("generations", "episodes", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.generations > MAX_GENERATIONS:
            raise ValueError(
                f"generations can be at most {MAX_GENERATIONS:,} per run, got {self.generations}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be from 0 to 2**64 - 1, got {self.seed}")
        check_hunger(self.hunger, *check_board(*self.board))
        if not (math.isfinite(self.time_limit) and self.time_limit >= 0):
            raise ValueError(f"time limit must be a finite number >= 0, got {self.time_limit}")
        topo = self.topology()  # Topology checks the layer sizes and the activation
        self.ga().validate()
        if not memory:
            return
        w, h = self.board
        check_memory(
            self.memory_bytes(),
            f"population {self.population} x {self.episodes} episodes with a "
            f"{'-'.join(map(str, topo.sizes))} network on {w}x{h}",
            "lower --population, --episodes or --hidden",
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["hidden"], d["board"] = list(self.hidden), list(self.board)
        return d

    def differences(self, other: EvolveConfig) -> list[str]:
        """name: mine -> other for every setting that differs and changes results."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if k not in self.RESUMABLE and a[k] != b[k]]


FIELD_NAMES = frozenset(f.name for f in fields(EvolveConfig))


def _check_type(name: str, value: Any, default: Any) -> None:
    """Values of the Python API and of files have the type of the field's default."""
    if isinstance(default, tuple):
        ok = isinstance(value, tuple) and all(_is_int(v) for v in value)
        if ok and name == "board":
            ok = len(value) == 2
        if not ok:
            raise ValueError(f"{name} must be a tuple of whole numbers, got {value!r}")
    elif isinstance(default, bool) or isinstance(default, str):
        if not isinstance(value, type(default)):
            raise ValueError(f"{name} must be {type(default).__name__}, got {value!r}")
    elif isinstance(default, int):
        if not _is_int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")


def game_from_meta(settings: Any) -> GameSettings:
    """The board and hunger recorded with a saved network (its run's config), checked.

    ``settings`` is a table with optional ``board`` (two whole numbers; 10x10 if absent)
    and ``hunger`` (a whole number; 0 if absent). Raises ValueError naming the problem.
    """
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise ValueError(f"config must be a table, got {type(settings).__name__}")
    board = settings.get("board", [10, 10])
    if not (isinstance(board, list) and len(board) == 2 and all(_is_int(v) for v in board)):
        raise ValueError(f"board must be two whole numbers, got {board!r}")
    width, height = check_board(*board)
    hunger = settings.get("hunger", 0)
    if hunger is None:
        hunger = 0
    if not _is_int(hunger):
        raise ValueError(f"hunger must be a whole number, got {hunger!r}")
    check_hunger(hunger, width, height)
    return GameSettings(width, height, hunger or None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def coerce(name: str, value: Any) -> Any:
    """A TOML or JSON value for field name, converted and type-checked."""
    if name not in FIELD_NAMES:
        known = ", ".join(sorted(FIELD_NAMES))
        raise ValueError(f"unknown setting {name!r} (known: {known})")
    default = getattr(EvolveConfig, name, None)
    if name == "hidden":
        if isinstance(value, str):
            return parse_hidden(value)
        if not isinstance(value, list):
            raise ValueError(f"hidden must be a list like [16, 16], got {value!r}")
        return tuple(_int(name, v) for v in value)
    if name == "board":
        if isinstance(value, str):
            return parse_board(value)
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f'board must look like "10x10", got {value!r}')
        return (_int(name, value[0]), _int(name, value[1]))
    if isinstance(default, int):
        return _int(name, value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {value!r}")
    return value


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return value


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Settings from a TOML file, converted; raises ValueError naming file and problem."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise ValueError(f"{path}: is not a regular file")  # a pipe could block forever
        with open(path, "rb") as f:
            text = f.read(MAX_TOML_BYTES + 1)
        if len(text) > MAX_TOML_BYTES:
            raise ValueError(f"{path}: a settings file is at most {MAX_TOML_BYTES} bytes")
        raw = tomllib.loads(text.decode("utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a TOML file") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot be read: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid TOML: nested too deeply") from None
    try:
        return {k: coerce(k, v) for k, v in raw.items()}
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def build(file_settings: dict[str, Any], flag_settings: dict[str, Any]) -> EvolveConfig:
    """Defaults, overridden by the file, overridden by flags (None means "not given")."""
    merged = {**file_settings, **{k: v for k, v in flag_settings.items() if v is not None}}
    cfg = EvolveConfig(**merged)
    cfg.validate()
    return cfg


def from_dict(d: Any, memory: bool = True) -> EvolveConfig:
    """The config stored in a file's metadata, validated.

    Stricter than a TOML file: every setting must be present (a missing seed would
    silently become 0 and play other episodes), and each must already have its JSON type
    (whole numbers as integers, ``hidden`` and ``board`` as lists of integers). With
    ``memory`` False the run's memory budget is not checked (for reading only its best
    genome). Raises ValueError naming the problem.
    """
    if not isinstance(d, dict):
        raise ValueError(f"config must be a table of settings, got {type(d).__name__}")
    missing, unknown = sorted(FIELD_NAMES - d.keys()), sorted(d.keys() - FIELD_NAMES)
    if missing or unknown:
        raise ValueError(
            "; ".join(
                p
                for p in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(map(str, unknown))}" if unknown else "",
                )
                if p
            )
        )
    values: dict[str, Any] = {}
    for f in fields(EvolveConfig):
        v = d[f.name]
        if isinstance(f.default, tuple):
            if not isinstance(v, list):
                raise ValueError(f"{f.name} must be a list of whole numbers, got {v!r}")
            v = tuple(v)
        values[f.name] = v
    cfg = EvolveConfig(**values)
    cfg.validate(memory)
    return cfg
