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
