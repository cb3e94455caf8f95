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
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from evonet.fields import same_as, setting
from evonet.games import base as games
from evonet.games.base import GameSpec
from evonet.games.observed import Observed
from evonet.nn.mlp import Topology
from evonet.search.distribution import ESConfig
from evonet.search.ga import GAConfig
from evonet.search.strategies import strategy_class
from evonet.text import count, did_you_mean

# A run whose fitness is a Python function (evonet.run(fitness=...)), not a registered game.
CUSTOM = "custom"
# Settings a game may take (Snake's board and hunger); a game that takes none refuses them
# when they are not at their defaults.
# (observe, which any game takes, wraps the game: games.observed.)
GAME_OPTIONS = ("board", "hunger", "observation", "shield", "step_cost", "observe")
# A checkpoint keeps a history row per generation, and loading refuses more generations;
# version 1 kept them in its JSON metadata (about 300 bytes each), within what loading
# accepts (evonet.storage.archive.MAX_META_BYTES).
MAX_GENERATIONS = 200_000
# Any curriculum (or start of the late episodes) up to the most generations a run can have;
# one past a run's generations simply never ends (or starts).
MAX_CURRICULUM = 200_000
MAX_SEED = 2**64 - 1
MAX_CHAMPION_EPISODES = 100_000
MAX_TOML_BYTES = 1 << 20  # a settings file is a few lines
MAX_OBSERVE = 100_000  # observation entries a run may pick (a game's own size is checked too)


def parse_board(text: str) -> tuple[int, int]:
    """``"10x10"`` -> ``(10, 10)`` (width, height); ValueError naming the problem."""
    parts = text.lower().split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected WIDTHxHEIGHT like 10x10, got {text!r}") from None
    if len(text) > 40:  # the game checks the range; keep a huge number out of messages
        raise ValueError(f"board {text[:20]}...: far too large")
    return width, height


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


def parse_observe(text: str) -> tuple[int, ...]:
    """``"0,2"`` -> ``(0, 2)``, observation entries; an empty string means all of them
    (the game checks that each one exists)."""
    if text.strip() == "":
        return ()
    if len(text) > 10 * MAX_OBSERVE:
        raise ValueError(f"observe {text[:20]}...: far too many entries")
    try:
        entries = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise ValueError(
            f"expected comma-separated observation entries like 0,2, got {text[:60]!r}"
        ) from None
    if any(i < 0 for i in entries):
        raise ValueError(f"observation entries count from 0, got {text[:60]!r}")
    return entries


@dataclass(frozen=True)
class EvolveConfig:
    """Everything that defines an evolution run; frozen (change it with
    ``dataclasses.replace``).

    The field defaults are Snake's. For another game use :meth:`for_game`, which starts
    from that game's own defaults (:data:`GAME_DEFAULTS`): ``EvolveConfig.for_game(
    "gym:CartPole-v1", seed=3)``. ``game="custom"`` is a Python fitness function (see
    :func:`evonet.run`). :meth:`validate` checks everything before anything is allocated.
    """

    game: str = setting(
        "snake", "The game to learn: snake, or gym:ENV_ID for an installed Gymnasium environment."
    )
    generations: int = setting(
        500, "Generations to run (a resumed run counts from generation 0 of the original)."
    )
    strategy: str = setting(
        "ga",
        "Search strategy: ga (the genetic algorithm), or an evolution strategy: openai-es, "
        "pgpe, snes or cma-es.",
    )
    population: int = same_as(GAConfig, "population")
    elite: int = same_as(GAConfig, "elite")
    parents: int = same_as(GAConfig, "parents")
    selection: str = same_as(GAConfig, "selection")
    tournament_size: int = same_as(GAConfig, "tournament_size")
    mutation_rate: float = same_as(GAConfig, "mutation_rate")
    mutation_sigma: float = same_as(GAConfig, "mutation_sigma")
    sigma_decay: float = same_as(GAConfig, "sigma_decay")
    sigma_min: float = same_as(GAConfig, "sigma_min")
    sigma: float = setting(
        0.0,
        "Evolution strategies: initial standard deviation of the search distribution; 0: "
        "the strategy's own default.",
    )
    learning_rate: float = setting(
        0.0,
        "Evolution strategies: step size of the mean (Adam's for openai-es, ClipUp's for "
        "pgpe, with a speed limit of twice it, the natural gradient's for snes; cma-es has "
        "none); 0: the strategy's own default.",
    )
    obs_norm: bool = setting(
        False,
        "Normalise each observation by the running mean and standard deviation of those the "
        "evaluated episodes saw (updated between generations, folded into the first layer "
        "of every network that plays or is saved).",
    )
    hidden: tuple[int, ...] = setting(
        (16, 16), "Hidden layer sizes; the game sets the input and output sizes."
    )
    activation: str = setting("tanh", "Hidden activation: tanh, relu or sigmoid.")
    network: str = setting(
        "mlp",
        "Network kind: mlp (feed-forward), rnn (Elman) or gru (gated recurrent units); a "
        "recurrent network's hidden layers keep a memory through each episode.",
    )
    episodes: int = setting(
        4, "E, episodes per genome per generation; every genome plays the same E seeds."
    )
    late_episodes: int = setting(
        64,
        "Episodes per genome from generation --late-from on (0: --episodes throughout): "
        "late in a run most elites win every one of a few episodes, and only more of them "
        "tell a genome that wins nine games in ten from one that wins all but one in a "
        "hundred.",
    )
    late_from: int = setting(350, "The first generation that plays --late-episodes.")
    board_episodes: int = setting(
        0,
        "Snake: on a board of more than 10x10 cells, the late episodes a genome plays once "
        "the curriculum ends, in place of --late-episodes (raced the same way), as games "
        "on the big board are longer; 0: --late-episodes.",
    )
    late_share: float = setting(
        0.2,
        "Racing: the share of the population that plays the rest of --late-episodes, the "
        "best on its first --episodes, and never fewer than --parents; the others rank "
        "below them. 1 plays every genome on them all. The GA with truncation selection "
        "only: an evolution strategy weighs every genome's score.",
    )
    board: tuple[int, int] = setting((10, 10), "Snake: board width and height, 4 to 64 each.")
    hunger: int = setting(
        0, "Snake: steps without an apple before a game ends; 0 means width * height."
    )
    observation: int = setting(
        2,
        "Snake: observation layout; 2 adds the room after each move (flood fill) to the "
        "32 ray, heading, apple, length and hunger features of layout 1; 3 is 2 with the "
        "room on a log scale.",
    )
    shield: bool = setting(
        False,
        "Snake: never take a move into death while another move lives (the network's best "
        "living move instead; the room features say which moves die), in evolution and "
        "wherever the network plays.",
    )
    observe: tuple[int, ...] = setting(
        (),
        "Only these entries of the game's observation (0-based, e.g. 0,2) reach the network; "
        "the rest stay hidden (partial observation, for networks with memory); empty: all.",
    )
    step_cost: float = setting(
        0.0,
        "Gymnasium: fitness less this much per step played (the score, the return, is "
        "unchanged); takes out an alive bonus that pays a policy for standing still.",
    )
    curriculum: int = setting(
        500,
        "Generations played first on the game's easier version, when it has one: Snake on a "
        "board with more cells than 10x10 plays 10x10, where games are short, and its "
        "scale-free observations carry what it learned to the run's board, where the "
        "champion is picked; 0 plays the run's board from the start.",
    )
    seed: int = setting(
        0, "Seed of the initial population, the GA's randomness and the episode seeds."
    )
    champion_episodes: int = setting(
        500,
        "Episodes that pick the champion (best.npz) when a run ends: the last generation's "
        "elites and the best genome so far play them, and the one that wins the most of "
        "them (then: the best mean fitness) is the champion; 0 keeps the best genome so far.",
    )
    champion_heats: int = setting(
        10,
        "GA: episodes the last generation's children play first; the best --parents of them "
        "join the elites and the best genome so far on --champion-episodes (0: the children "
        "take no part).",
    )
    time_limit: float = setting(
        0.0, "Stop after this many seconds (checked between generations); 0 for no limit."
    )
    checkpoint_every: int = setting(
        10, "Write latest.npz every this many generations (and always at the end)."
    )
    out: str = setting(
        "",
        "Run folder: latest.npz, best.npz, history.csv, fitness.png; "
        "empty: checkpoints/GAME (checkpoints/snake, checkpoints/gym-CartPole-v1).",
    )

    # Settings that cannot change results, so a resumed run may change them.
    RESUMABLE = frozenset(
        {
            "generations",
            "time_limit",
            "checkpoint_every",
            "out",
            "champion_episodes",
            "champion_heats",
        }
    )

    def episodes_at(self, generation: int) -> int:
        """Episodes each genome plays in generation ``generation``: on a big Snake board
        after the curriculum, :attr:`board_episodes` (when set); else :attr:`late_episodes`
        from :attr:`late_from` on (when set), else :attr:`episodes`."""
        if self.board_episodes and generation >= self.curriculum and self.has_curriculum:
            return self.board_episodes
        if self.late_episodes and generation >= self.late_from:
            return self.late_episodes
        return self.episodes

    def raced(self, generation: int) -> int:
        """How many genomes play every episode of generation ``generation`` when it is a
        race (:attr:`late_share`): the best on its first :attr:`episodes`, at least the
        ``parents`` and ``elite`` that selection takes from them. 0 when every genome
        plays them all."""
        if self.strategy != "ga" or self.selection != "truncation" or self.late_share >= 1:
            return 0
        if self.episodes_at(generation) <= self.episodes:
            return 0
        # Rounded first: 0.34 * 300 is 102.00000000000001 in floating point, and its ceiling
        # would race 103 genomes where the share says 102.
        share = math.ceil(round(self.late_share * self.population, 9))
        top = max(share, self.parents, self.elite)
        return top if top < self.population else 0

    def late_text(self, generation: int | None = None) -> str:
        """What a genome plays in generation ``generation`` (default: :attr:`late_from`),
        in words for people: ``each genome plays 32 episodes``, or in a race ``the best
        100 of 300 genomes on their first 4 episodes play 32``."""
        gen = self.late_from if generation is None else generation
        episodes, top = self.episodes_at(gen), self.raced(gen)
        if not top:
            return f"each genome plays {count(episodes, 'episode')}"
        return (
            f"the best {top} of {self.population} genomes on their first "
            f"{count(self.episodes, 'episode')} play {episodes}"
        )

    @property
    def most_episodes(self) -> int:
        """The most episodes a genome plays in any generation (what memory must hold)."""
        return max(self.episodes, self.late_episodes, self.board_episodes)

    @property
    def has_curriculum(self) -> bool:
        """Whether the game has an easier version to play first: Snake on a board of more
        cells than :data:`CURRICULUM_CELLS` (as :meth:`GameSpec.easier` says)."""
        return big_snake_board(self.game, self.board)

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

    def search(self) -> GAConfig | ESConfig:
        """The settings of the run's strategy (:attr:`strategy`): the GA's, or an evolution
        strategy's with :attr:`population`, and :attr:`sigma` and :attr:`learning_rate`
        where they are given."""
        if self.strategy == "ga":
            return self.ga()
        cls = strategy_class(self.strategy).config_class
        given: dict[str, Any] = {"population": self.population}
        if self.sigma:
            given["sigma"] = self.sigma
        if self.learning_rate:
            if "learning_rate" not in cls.__dataclass_fields__:
                raise ValueError(f"{self.strategy} has no learning rate (leave it at 0)")
            given["learning_rate"] = self.learning_rate
            if "max_speed" in cls.__dataclass_fields__:  # ClipUp's rule of thumb
                given["max_speed"] = 2 * self.learning_rate
        return cls(**given)

    def run_folder(self) -> str:
        """:attr:`out`, or the game's default folder ``checkpoints/GAME`` (``:`` and other
        characters a file name should not hold become ``-``)."""
        if self.out:
            return self.out
        return "checkpoints/" + "".join(c if c.isalnum() or c in "-_." else "-" for c in self.game)

    @classmethod
    def for_game(cls, game: str = "snake", **settings: Any) -> EvolveConfig:
        """The settings for ``game``: its defaults (:data:`GAME_DEFAULTS`, and
        :data:`MEMORY_DEFAULTS` for a recurrent ``network``) overridden by
        ``settings``; a ``population`` given without ``elite`` or ``parents`` brings them
        along in proportion (:func:`follow_population`). Not yet validated (see
        :meth:`validate`)."""
        own = game_defaults(game, str(settings.get("network", "mlp")), settings.get("board"))
        scaled = follow_population({**_DEFAULTS, **own}, settings)
        return cls(**{**own, **scaled, **settings, "game": game})

    def game_spec(self) -> GameSpec:
        """The game from the registry, with this run's game settings (and only the
        observation entries :attr:`observe` reaching the network).

        Raises ValueError naming the problem (unknown game, a setting it refuses, a
        missing optional package).
        """
        if self.game == CUSTOM:
            raise ValueError(f"game {CUSTOM!r} is a Python fitness function, not a game")
        options = {k: getattr(self, k) for k in GAME_OPTIONS if getattr(self, k) != _DEFAULTS[k]}
        observe = options.pop("observe", ())
        game = games.make(self.game, **options)
        return Observed(game, observe) if observe else game

    def topology(self, game: GameSpec | None = None, io: tuple[int, int] | None = None) -> Topology:
        """The network: inputs and outputs from the game (or ``io = (inputs, outputs)``
        for a fitness function), hidden layers from :attr:`hidden`, the kind from
        :attr:`network`."""
        if io is None:
            game = game or self.game_spec()
            io = (game.n_obs, game.n_outputs)
        return Topology((io[0], *self.hidden, io[1]), self.activation, "linear", self.network)

    def validate(self, io: tuple[int, int] | None = None) -> None:
        """Raise ValueError naming the first impossible setting.

        Checks types (whole numbers are ints, not bools or floats), ranges, the game and
        its settings, and the network they make. A ``custom`` run (a fitness function)
        passes its network's ``io = (inputs, outputs)``. Whether one generation fits in
        this machine's memory is a question about the run
        (:func:`evonet.evolution.run.check_fits`), asked before anything is allocated.
        """
        for f in fields(self):
            _check_type(f.name, getattr(self, f.name), f.default)
        if self.game == CUSTOM:
            if io is None:
                raise ValueError(
                    f"game {CUSTOM!r} needs a fitness function: use evonet.run(fitness=..., io=...)"
                )
            game = None
            for k in (*GAME_OPTIONS, "obs_norm"):
                if getattr(self, k) != _DEFAULTS[k]:
                    raise ValueError(f"a fitness function has no setting {k!r}")
        else:
            game, io = self.game_spec(), None
        self._validate_schedule()
        if self.generations > MAX_GENERATIONS:
            raise ValueError(
                f"generations can be at most {MAX_GENERATIONS:,} per run, got {self.generations}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be from 0 to 2**64 - 1, got {self.seed}")
        if not (math.isfinite(self.time_limit) and self.time_limit >= 0):
            raise ValueError(f"time limit must be a finite number >= 0, got {self.time_limit}")
        self.topology(game, io)  # Topology checks the layer sizes and the activation
        for name in ("sigma", "learning_rate"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"{name.replace('_', ' ')} must be >= 0, got {value}")
        self.search().validate()

    def _validate_schedule(self) -> None:
        """The ranges of what each generation plays, and of the champion's pick."""
        if not 0 <= self.champion_episodes <= MAX_CHAMPION_EPISODES:
            raise ValueError(
                f"champion episodes must be from 0 to {MAX_CHAMPION_EPISODES:,}, "
                f"got {self.champion_episodes}"
            )
        if not 0 <= self.champion_heats <= MAX_CHAMPION_EPISODES:
            raise ValueError(
                f"champion heats must be from 0 to {MAX_CHAMPION_EPISODES:,} episodes, "
                f"got {self.champion_heats}"
            )
        if not 0 <= self.curriculum <= MAX_CURRICULUM:
            raise ValueError(
                f"curriculum must be from 0 to {MAX_CURRICULUM:,} generations, "
                f"got {self.curriculum}"
            )
        for name in ("generations", "episodes", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.late_episodes < 0:
            raise ValueError(f"late episodes must be 0 (off) or more, got {self.late_episodes}")
        if self.board_episodes < 0:
            raise ValueError(f"board episodes must be 0 (off) or more, got {self.board_episodes}")
        if self.board_episodes and not self.has_curriculum:
            raise ValueError(
                "board episodes are for Snake on a board of more than 10x10 cells, which "
                "plays 10x10 first (--curriculum)"
            )
        if not (math.isfinite(self.late_share) and 0 < self.late_share <= 1):
            raise ValueError(f"late share must be above 0 and at most 1, got {self.late_share}")
        if not 0 <= self.late_from <= MAX_CURRICULUM:
            raise ValueError(
                f"late from must be a generation from 0 to {MAX_CURRICULUM:,}, "
                f"got {self.late_from}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings (tuples become lists)."""
        d = dataclasses.asdict(self)
        for name in ("hidden", "board", "observe"):
            d[name] = list(d[name])
        return d

    def differences(self, other: EvolveConfig) -> list[str]:
        """name: mine -> other for every setting that differs and changes results."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a if k not in self.RESUMABLE and a[k] != b[k]]


FIELD_NAMES = frozenset(f.name for f in fields(EvolveConfig))
_DEFAULTS = {f.name: f.default for f in fields(EvolveConfig)}

# Per-game defaults: what the plain command uses for a game, over the Snake-tuned ones
# above. Each row was chosen by experiment (benchmarks/gym.py measures them).
GAME_DEFAULTS: dict[str, dict[str, Any]] = {
    # A fitness function has no episodes, so nothing to play more of late in a run.
    CUSTOM: {"generations": 350, "late_episodes": 0},
    "gym:": {  # any Gymnasium environment without its own row
        "population": 64,
        "elite": 4,
        "parents": 16,
        "hidden": (16,),
        "episodes": 3,
        "mutation_sigma": 0.2,
        "mutation_rate": 0.2,
        "generations": 100,
        "late_episodes": 0,
        "champion_episodes": 100,
        "champion_heats": 0,
    },
    "gym:CartPole-v1": {"generations": 30, "episodes": 16, "hidden": (8,)},
    "gym:Acrobot-v1": {"generations": 30, "episodes": 3, "hidden": (16,)},
    # SNES solved it on every seed tried with under a third of the GA's episodes
    # (docs/strategies.md); the GA's own settings for it are on docs/gymnasium.md.
    "gym:LunarLander-v3": {
        "strategy": "snes",
        "episodes": 3,
        "hidden": (32, 32),
        "generations": 100,
    },
    # A linear policy on normalised observations, as in ARS (Mania et al. 2018); HalfCheetah
    # starts every episode near one pose, so one episode a genome measures it.
    "gym:HalfCheetah-v5": {
        "strategy": "snes",
        "hidden": (),
        "obs_norm": True,
        "episodes": 1,
        "generations": 400,
    },
    # As HalfCheetah, less the alive bonus: Hopper pays 1 a step for staying up, and a
    # policy that stands still earns 1,000 an episode, a trap that ARS takes away too.
    "gym:Hopper-v5": {
        "strategy": "snes",
        "hidden": (),
        "obs_norm": True,
        "episodes": 1,
        "step_cost": 1.0,
        "generations": 500,
    },
    # A walker needs more than a linear policy (with HalfCheetah's settings it did not
    # learn to walk): two hidden layers on normalised observations. The run that chose
    # them (seed 0) stopped at generation 717 by its time limit; this repeats it
    # (docs/strategies.md).
    "gym:BipedalWalker-v3": {
        "strategy": "snes",
        "hidden": (32, 32),
        "obs_norm": True,
        "episodes": 1,
        "generations": 717,
    },
}


# Per-game defaults of recurrent networks (network rnn or gru), over the game's row: a
# network with memory has more to learn (CartPole's velocities, from positions alone), so
# it plays more generations (docs/memory.md measures them).
MEMORY_DEFAULTS: dict[str, dict[str, Any]] = {
    "gym:CartPole-v1": {"generations": 100},
}


# Snake on a board with more cells than 10x10 evolves on 10x10 for 500 generations (the
# curriculum): what they learn there carries over to 20x20, while a generation on the
# big board costs ten times as much (docs/benchmarks.md, "Snake on 20x20"). The
# champion's pick plays the big board, where the children of the last
# generation differ far more than on 10x10: 30 heats a child and 200 episodes for the
# finalists, fewer than 10x10's 500 since a 20x20 game is over ten times as long.
BIG_BOARD_DEFAULTS: dict[str, Any] = {"champion_episodes": 200, "champion_heats": 30}
# Up to 20x20, 20 generations on the big board itself after the 10x10 ones teach what
# 10x10 cannot: each genome plays 4 of its games and the best fifth 16, a quarter of
# 10x10's late 64 as each game is about four times as long. On larger boards a generation
# there costs too much for the run's time (docs/benchmarks.md, "Snake on 20x20").
BOARD_TAIL_DEFAULTS: dict[str, Any] = {"generations": 520, "board_episodes": 16}
BOARD_TAIL_CELLS = 400  # the most cells a board may have to play the tail (20x20)
CURRICULUM_CELLS = 100  # Snake's curriculum board, 10x10 (games.snake.spec.CURRICULUM_BOARD)


def big_snake_board(game: str, board: Any) -> bool:
    """Whether ``game`` is Snake on a ``board`` (width, height) of more cells than its
    10x10 curriculum board (and so plays 10x10 first)."""
    if game != "snake" or not isinstance(board, (tuple, list)) or len(board) != 2:
        return False
    return all(_is_int(v) for v in board) and board[0] * board[1] > CURRICULUM_CELLS


def game_defaults(game: str, network: str = "mlp", board: Any = None) -> dict[str, Any]:
    """The settings that differ from :class:`EvolveConfig`'s defaults for ``game``: its
    family's row (``gym:``), then its own row, then for a recurrent ``network`` its row of
    :data:`MEMORY_DEFAULTS`; for Snake on a ``board`` of more than 10x10 cells,
    :data:`BIG_BOARD_DEFAULTS`, and up to :data:`BOARD_TAIL_CELLS` cells
    :data:`BOARD_TAIL_DEFAULTS`."""
    out: dict[str, Any] = {}
    if big_snake_board(game, board):
        out.update(BIG_BOARD_DEFAULTS)
        if board[0] * board[1] <= BOARD_TAIL_CELLS:
            out.update(BOARD_TAIL_DEFAULTS)
    for prefix in ("gym:",):
        if game.startswith(prefix):
            out.update(GAME_DEFAULTS[prefix])
    out.update(GAME_DEFAULTS.get(game, {}))
    if network != "mlp":
        out.update(MEMORY_DEFAULTS.get(game, {}))
    return out


def follow_population(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``elite`` and ``parents`` for a ``population`` given without them: the defaults'
    shares of the default population, rounded, at least 1 elite and 2 parents, and never
    more than the population allows. Exactly the defaults at the default population, so
    the plain command's runs are unchanged; empty when there is nothing to scale."""
    population = given.get("population")
    if not _is_int(population) or population < 2:
        return {}  # validate() says what is wrong with it
    base = defaults["population"]
    out: dict[str, Any] = {}
    if "elite" not in given:
        share = round(population * defaults["elite"] / base)
        out["elite"] = min(population - 1, max(1 if defaults["elite"] else 0, share))
    if "parents" not in given:
        out["parents"] = min(population, max(2, round(population * defaults["parents"] / base)))
    return out


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


def game_from_meta(settings: Any) -> GameSpec:
    """The game recorded with a saved network (its run's config), checked.

    ``settings`` is a table with optional ``game`` (``snake`` if absent), ``board`` and
    ``hunger``. Raises ValueError naming the problem.
    """
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise ValueError(f"config must be a table, got {type(settings).__name__}")
    game = settings.get("game", "snake")
    if not isinstance(game, str):
        raise ValueError(f"game must be a name like snake, got {type(game).__name__}")
    if game == CUSTOM:
        raise ValueError("it was evolved on a Python fitness function, not a game")
    board = settings.get("board", [10, 10])
    if not (isinstance(board, list) and len(board) == 2 and all(_is_int(v) for v in board)):
        raise ValueError(f"board must be two whole numbers, got {board!r}")
    hunger = settings.get("hunger", 0)
    if hunger is None:
        hunger = 0
    if not _is_int(hunger):
        raise ValueError(f"hunger must be a whole number, got {hunger!r}")
    observation = saved_settings(settings).get("observation", _DEFAULTS["observation"])
    if not _is_int(observation):
        raise ValueError(f"observation must be a whole number, got {observation!r}")
    step_cost = saved_settings(settings)["step_cost"]
    _check_type("step_cost", step_cost, 0.0)
    observe = saved_settings(settings)["observe"]
    if not (isinstance(observe, list) and len(observe) <= MAX_OBSERVE):
        raise ValueError(f"observe must be a list of observation entries, got {observe!r}"[:200])
    shield = saved_settings(settings).get("shield", False)
    _check_type("shield", shield, False)
    options = {"board": tuple(board), "hunger": hunger, "observation": observation}
    if shield:  # a setting of Snake's only
        options["shield"] = shield
    cfg = EvolveConfig.for_game(game, **options, step_cost=float(step_cost), observe=tuple(observe))
    return cfg.game_spec()


def saved_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A saved config with the settings it predates filled in, as the code that wrote it
    played: Snake networks saved before observation layouts were numbered read layout 1
    (no room features), other games have no layout; and runs from before champions were
    picked keep their best genome so far, before curricula played their board from the
    start, and before board episodes played the same late episodes on the big board."""
    before = {
        "observation": 1 if settings.get("game", "snake") == "snake" else _DEFAULTS["observation"],
        "champion_episodes": 0,  # the best genome so far was the champion
        "champion_heats": 0,  # the elites and the best so far were the only candidates
        "curriculum": 0,  # every generation played the run's board
        "strategy": "ga",  # the only one there was
        "obs_norm": False,
        "sigma": 0.0,
        "learning_rate": 0.0,
        "step_cost": 0.0,  # fitness was the return
        "observe": [],  # networks saw every observation entry
        "shield": False,  # networks took every move they chose
        "network": "mlp",  # every network was feed-forward
        "late_episodes": 0,  # every generation played the same episodes
        "late_from": 0,
        "late_share": 1.0,  # every genome played every late episode
        "board_episodes": 0,  # a big board played the late episodes of 10x10
    }
    return {**before, **settings}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def coerce(name: str, value: Any) -> Any:
    """A TOML or JSON value for field name, converted and type-checked."""
    if name not in FIELD_NAMES:
        known = ", ".join(sorted(FIELD_NAMES))
        hint = did_you_mean(str(name), FIELD_NAMES)
        raise ValueError(f"unknown setting {name!r}{hint}; known: {known}")
    default = getattr(EvolveConfig, name, None)
    if name == "hidden":
        if isinstance(value, str):
            return parse_hidden(value)
        if not isinstance(value, list):
            raise ValueError(f"hidden must be a list like [16, 16], got {value!r}")
        return tuple(_int(name, v) for v in value)
    if name == "observe":
        if isinstance(value, str):
            return parse_observe(value)
        if not isinstance(value, list) or len(value) > MAX_OBSERVE:
            raise ValueError(f"observe must be a list like [0, 2], got {value!r}"[:200])
        return tuple(_int(name, v) for v in value)
    if name == "board":
        if isinstance(value, str):
            return parse_board(value)
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f'board must look like "10x10", got {value!r}')
        return (_int(name, value[0]), _int(name, value[1]))
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
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
    game = merged.pop("game", "snake")
    if not isinstance(game, str):
        raise ValueError(f"game must be text, got {game!r}")
    cfg = EvolveConfig.for_game(game, **merged)
    cfg.validate()
    return cfg


def from_dict(d: Any, io: tuple[int, int] | None = None) -> EvolveConfig:
    """The config stored in a file's metadata, validated.

    Stricter than a TOML file: every setting must be present (a missing seed would
    silently become 0 and play other episodes), and each must already have its JSON type
    (whole numbers as integers, ``hidden`` and ``board`` as lists of integers). Raises
    ValueError naming the problem.
    """
    if not isinstance(d, dict):
        raise ValueError(f"config must be a table of settings, got {type(d).__name__}")
    d = saved_settings(d)
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
    cfg.validate(io)
    return cfg
