import numpy as np
import pytest

from evonet.games.gym import GymSpec
from evonet.nn import mlp
from evonet.views import panel
from evonet.views import replay_gym as gym
from evonet.views.replay import Agent

CART = GymSpec("gym:CartPole-v1")
TOPO = mlp.Topology((4, 5, 2), "tanh", "linear")


@pytest.fixture
def agent(rng):
    return Agent(mlp.init(TOPO, rng), TOPO)


def test_a_recording_shows_the_picture_the_hud_and_the_network_panel(tmp_path, agent):
    from PIL import Image, ImageSequence

    n = gym.record_gif(agent, CART, 1, 3, tmp_path / "a.gif", max_steps=4)
    assert n == 5  # the start and four moves
    replay = gym.gym_replay(agent, CART, 1, 3)
    pictures = gym.GymPictures(replay)
    replay.start(0)
    drawn = pictures()
    width, height = pictures.frames.frame_size((600, 400))  # CartPole renders 600x400
    assert drawn.shape == (height, width)
    _, board, side = pictures.frames.areas((width, height))
    with Image.open(tmp_path / "a.gif") as im:
        assert im.size == (width, height) and im.n_frames == n
        palette = np.array(im.getpalette(), np.uint8).reshape(-1, 3)
        first = np.asarray(next(ImageSequence.Iterator(im)).convert("RGB"))
    # The panel's background fills most of its side, CartPole's white most of the board
    # (to the palette's lookup, which tells colours apart to 4 levels a channel).
    def share(area, colour):
        x, y, w, h = area
        near = np.abs(first[y : y + h, x : x + w].astype(int) - colour).max(axis=-1) <= 4
        return near.mean()

    assert share(side, panel.BACKGROUND) > 0.5 and share(board, panel.BACKGROUND) < 0.1
    assert share(board, (255, 255, 255)) > 0.5 and share(side, (255, 255, 255)) < 0.1
    # Every activation colour is in the palette exactly: a neuron keeps its colour.
    kept = {tuple(int(v) for v in c) for c in palette}
    assert {tuple(int(v) for v in c) for c in panel.ACTIVATION_RAMP} <= kept
    replay.game.close()


@pytest.mark.parametrize(("env", "continuous"), [("CartPole-v1", False), ("Pendulum-v1", True)])
def test_the_panel_rings_a_chosen_action_only_when_actions_are_discrete(rng, env, continuous):
    from evonet.games.ui.window import import_pygame

    spec = GymSpec(f"gym:{env}")
    topo = mlp.Topology((spec.n_obs, 5, spec.action_space.n_outputs), "tanh", "linear")
    replay = gym.gym_replay(Agent(mlp.init(topo, rng), topo), spec, 1, 0, pictures=False)
    assert replay.agent.continuous is continuous
    pygame = import_pygame()
    pygame.font.init()
    draw = panel.network_panel(replay.agent, pygame, panel.label_font(pygame))
    surface = pygame.Surface((panel.PANEL_WIDTH, 300))
    draw(surface, (0, 0, panel.PANEL_WIDTH, 300))
    white = np.all(pygame.surfarray.array3d(surface) == 255, axis=-1)
    # White is the ring and the chosen action's label; nothing else in the panel is.
    assert bool(white.any()) == (not continuous)
    replay.game.close()
