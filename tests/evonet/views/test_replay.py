import numpy as np
import pytest

from evonet.evolution.files import load_network
from evonet.evolution.rollout import rollout
from evonet.games.base import episode_seeds
from evonet.games.snake import N_OBS, SnakeSpec
from evonet.nn import mlp
from evonet.storage.checkpoint import save_network
from evonet.views import panel
from evonet.views import replay as watch
from evonet.views import replay_snake as snake
from tests.helpers import ScriptedView, evonet_here

TOPO = mlp.Topology((N_OBS, 6, 3), "tanh", "linear")
THETA = mlp.init(TOPO, np.random.default_rng(0))


@pytest.fixture
def agent(rng):
    return watch.Agent(mlp.init(TOPO, rng), TOPO)


@pytest.mark.slow
def test_record_writes_a_gif_with_one_frame_per_state(tmp_path, agent):
    from PIL import Image

    game = SnakeSpec(board=(6, 6))
    n = snake.record_gif(agent, game, episodes=3, seed=1, path=tmp_path / "a.gif", fps=20)
    eps = snake.snake_replay(agent, game, 3, 1)
    expected = 0
    for i in range(3):  # replay the same games to count their states
        eps.start(i)
        while not eps.over:
            eps.step()
        expected += int(eps.game.env.steps[0]) + 1
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == n == expected
        assert im.info["duration"] == 50


def test_recorded_frames_are_the_rendered_states_in_one_palette(tmp_path, agent):
    from PIL import Image, ImageSequence

    game = SnakeSpec(board=(6, 6))
    n = snake.record_gif(agent, game, 1, 2, tmp_path / "a.gif", max_steps=3, scale=0.5)
    assert n == 4  # the start and three moves: max_steps cuts the game short
    # Render the same states again and map them the way Pillow's quantize does.
    from evonet.views import gif

    eps = snake.snake_replay(agent, game, 1, 2)
    source = snake.SnakePictures(eps, 32)
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == n
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            pixels = gif.packed(source(), 0.5)
            assert im.size == pixels.shape[::-1]
            if i == 0:
                palette = Image.new("P", (1, 1))
                kept, n = snake.recording_colours(), snake.SNAKE_COLOURS
                colours = gif.palette(gif.packed_rgb(pixels), kept, n)
                # The game's own colours are in it exactly: a small apple keeps its red.
                from evonet.games.snake.render.window import APPLE, HEAD

                assert {APPLE, HEAD} <= {tuple(int(v) for v in c) for c in colours}
                palette.putpalette(colours.tobytes())
            rgb = gif.packed_rgb(pixels)
            want = Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE)
            assert np.array_equal(np.asarray(frame.convert("RGB")), np.asarray(want.convert("RGB")))
            eps.step()


@pytest.mark.slow
def test_record_streams_into_a_temporary_file_renamed_when_complete(tmp_path, agent):
    path = tmp_path / "a.gif"
    sizes = []

    def on_frame(episode, step):
        assert not path.exists()  # nothing at the destination until the GIF is whole
        (tmp,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        sizes.append(tmp.stat().st_size)

    n = snake.record_gif(
        agent, SnakeSpec(board=(6, 6)), 2, 0, path, max_steps=40, on_frame=on_frame
    )
    assert len(sizes) == n and sizes == sorted(sizes)
    assert sizes[-1] > sizes[0] > 0  # written as it goes, not all at the end
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
    assert path.stat().st_size > sizes[-1] * 0.9


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_interrupted_record_keeps_the_old_file_and_leaves_no_temporary(tmp_path, agent, error):
    path = tmp_path / "a.gif"
    path.write_bytes(b"old")

    frames = []

    def on_frame(episode, step):
        frames.append(step)
        if len(frames) == 3:  # a game has at least two states, so this is mid-recording
            raise error()

    with pytest.raises(error):
        snake.record_gif(agent, SnakeSpec(board=(6, 6)), 2, 0, path, on_frame=on_frame)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]


def test_frame_counts_predict_the_recording(agent):
    game = SnakeSpec(board=(6, 6))
    counts = snake.frame_counts(agent, game, 3, 4, max_steps=10_000)
    eps = snake.snake_replay(agent, game, 3, 4)
    played = []
    for i in range(3):
        eps.start(i)
        while not eps.over:
            eps.step()
        played.append(int(eps.game.env.steps[0]) + 1)
    assert counts.tolist() == played
    capped = snake.frame_counts(agent, game, 3, 4, max_steps=2)
    assert capped.tolist() == [min(n, 3) for n in played]


def test_network_panel_draws_activations_and_the_chosen_action(agent):
    from evonet.games.snake.render.window import FrameRenderer

    eps = snake.snake_replay(agent, SnakeSpec(board=(8, 8)), 1, 0)
    renderer = FrameRenderer(eps.game.env, panel.PANEL_WIDTH)
    pygame = renderer.pygame
    renderer.panel = panel.network_panel(agent, pygame, pygame.font.Font(None, 18))
    surface = pygame.Surface(renderer.size(snake.cell_size(SnakeSpec(board=(8, 8)))))
    renderer.render(surface, 0)
    _, _, area = renderer.areas(surface.get_size())
    pos = panel.neuron_positions(TOPO.sizes, area)
    # Every neuron is filled with the colour of its activation.
    for layer, acts in enumerate(agent.activations):
        scale = max(float(np.abs(acts).max()), 1e-6) if layer == 2 else 1.0
        for (x, y), a in zip(pos[layer], acts, strict=True):
            assert tuple(surface.get_at((int(x), int(y))))[:3] == panel.activation_colour(a, scale)
    # The chosen action's output neuron wears a white ring.
    x, y = pos[-1][agent.action]
    ring = [tuple(surface.get_at((int(x) + dx, int(y)))[:3]) for dx in range(4, 14)]
    assert (255, 255, 255) in ring


def test_watch_keys_pause_step_speed_restart_quit(agent):
    eps = snake.snake_replay(agent, SnakeSpec(board=(10, 10)), 2, 0)
    view = ScriptedView(
        [
            ["pause"],
            [],
            ["step"],
            ["right"],
            ["faster"],
            ["pause"],
            [],
            ["restart"],
            ["slower", "slower"],
            ["quit"],
        ]
    )
    watch.watch_loop(view, eps, fps=10)
    assert "paused" in view.frames[0][0] and "paused" in view.frames[1][0]
    assert "20 fps" in view.frames[4][0]  # + doubles the speed, - halves it
    # paused: no move, then "n" and the right arrow step once each; unpaused: two more
    # moves; r restarts; two more frames, two more moves.
    assert eps.game.env.steps[0] == 2 and eps.game.env.alive[0]
    assert view.fps == pytest.approx(10 * 2 / 2 / 2)


def test_h_shows_the_keys_and_the_game_waits_until_it_is_hidden(agent):
    eps = snake.snake_replay(agent, SnakeSpec(board=(6, 6)), 1, 0)
    view = ScriptedView([[], ["help"], [], [], ["help"], [], ["quit"]])
    watch.watch_loop(view, eps, fps=10)
    assert all("h: keys" in extra for extra, _ in view.frames)  # the hint, always
    messages = [m for _, m in view.frames]
    assert messages[0] == [] and messages[1:4] == [watch.KEYS_HELP] * 3
    assert messages[4:] == [[], []] and eps.game.env.steps[0] == 3  # no move while shown
    assert keys_named("h") == keys_named("?") == "help"


def keys_named(char):
    from evonet.games.ui.keys import KEY_NAMES

    return KEY_NAMES[char]


def test_watch_plays_all_episodes_and_reports_scores(agent):
    eps = snake.snake_replay(agent, SnakeSpec(board=(6, 6)), 2, 0)
    view = ScriptedView([[]] * 3000)
    scores = watch.watch_loop(view, eps, fps=1000, max_frames=3000)
    assert len(scores) == 2
    assert "r: replay" in view.frames[-1][1][1]


def test_watching_plays_exactly_the_games_evolution_scored():
    # Evolution plays Snake in one compiled loop (its own forward pass); the watched games,
    # one at a time through the agent, must be those very games, move for move.
    theta, topo, _ = load_network(watch.shipped_champion())
    game, seeds = SnakeSpec(), episode_seeds(11, 3)
    scored = rollout(theta[None], topo, game, seeds)
    eps = snake.snake_replay(watch.Agent(theta, topo), game, 3, 11)
    assert eps.agent.compiled  # it forwards as the rollout does
    played = []
    for index in range(3):
        eps.start(index)
        while not eps.over:
            eps.step()
        played.append((eps.game.score, eps.game.steps))
    expected = zip(scored.episode_score[0], scored.episode_steps[0], strict=True)
    assert played == [(score, steps) for score, steps in expected]


def test_watching_a_partly_observed_game_plays_the_games_evolution_scored(rng):
    from evonet.games import base
    from evonet.games.observed import Observed

    game = Observed(base.make("snake", board=(6, 6)), tuple(range(8, 30)))
    topo = mlp.Topology((game.n_obs, 8, 3))
    theta = mlp.init(topo, rng, n=1, dtype=np.float32)[0]
    seeds = episode_seeds(4, 3)
    scored = rollout(theta[None], topo, game, seeds)
    eps = snake.snake_replay(watch.Agent(theta, topo), game, 3, 4)
    played = []
    for index in range(3):
        eps.start(index)
        while not eps.over:
            eps.step()
        played.append(eps.game.steps)
    assert played == list(scored.episode_steps[0])
    assert eps.agent.input_labels[0] == "apple fwd"  # the panel names what it sees


@pytest.mark.parametrize("recurrent", [False, True])  # a compiled forward pass, and numpy's
def test_watching_a_shielded_snake_plays_the_games_evolution_scored(rng, recurrent):
    game = SnakeSpec(board=(6, 6), shield=True)
    topo = mlp.Topology((N_OBS, 8, 3), network="rnn" if recurrent else "mlp")
    theta = mlp.init(topo, rng, n=1, dtype=np.float32)[0]
    theta[-2] += 3.0  # the output layer's biases come last: mostly straight on, into walls
    seeds = episode_seeds(9, 4)
    scored = rollout(theta[None], topo, game, seeds)
    eps = snake.snake_replay(watch.Agent(theta, topo), game, 4, 9)
    played, rings, stepped_in = [], set(), 0
    for index in range(4):
        eps.start(index)
        while not eps.over:
            rings.add(eps.agent.action == eps.action)
            overruled = np.argmax(eps.agent.activations[-1]) != eps.action
            assert eps.agent.overruled == overruled  # the panel says "(the shield's)"
            stepped_in += int(overruled)
            eps.step()
        played.append((eps.game.score, eps.game.steps))
    expected = zip(scored.episode_score[0], scored.episode_steps[0], strict=True)
    assert played == [(score, steps) for score, steps in expected]
    assert stepped_in > 0  # the shield took another move than the network's best
    assert rings == {True}  # and the panel rings the move taken


def test_default_target_prefers_the_newest_run(tmp_path):
    import os

    assert watch.default_target(tmp_path) == watch.shipped_champion()
    (tmp_path / "snake-champion.npz").write_bytes(b"x")
    assert watch.default_target(tmp_path) == tmp_path / "snake-champion.npz"
    for i, name in enumerate(("old", "new")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "best.npz").write_bytes(b"x")
        os.utime(tmp_path / name / "best.npz", (1000 + i, 1000 + i))
    assert watch.default_target(tmp_path) == tmp_path / "new" / "best.npz"


def test_watch_picks_the_champion_for_the_board_asked_for(tmp_path):
    import os

    from evonet.evolution.config import game_from_meta
    from evonet.evolution.files import load_network

    for board in [(10, 10), (20, 20), (6, 6), (16, 16), (32, 32), (64, 64)]:
        path = watch.default_target(tmp_path, board)
        nearest = min(watch.SHIPPED, key=lambda b: abs(b[0] * b[1] - board[0] * board[1]))
        assert path == watch.shipped_champion(nearest)
        _, _, meta = load_network(path)  # and the file was evolved on that board
        assert game_from_meta(meta["info"]["config"]).board == nearest
    # A run of the user's on the asked board wins over the shipped one; others do not.
    for i, (name, board) in enumerate([("b20", (20, 20)), ("b8", (8, 8)), ("bad", None)]):
        (tmp_path / name).mkdir()
        target = tmp_path / name / "best.npz"
        if board is None:
            target.write_bytes(b"not a network")
        else:
            save_network(target, THETA, TOPO, {"config": {"game": "snake", "board": list(board)}})
        os.utime(target, (1000 + i, 1000 + i))
    assert watch.default_target(tmp_path, (20, 20)) == tmp_path / "b20" / "best.npz"
    assert watch.default_target(tmp_path, (8, 8)) == tmp_path / "b8" / "best.npz"
    assert watch.default_target(tmp_path, (12, 12)) == watch.shipped_champion((10, 10))
    assert watch.default_target(tmp_path) == tmp_path / "bad" / "best.npz"  # the newest


def test_shipped_champions_are_packaged_and_match_the_repository_copies():
    from pathlib import Path

    for board, name in watch.SHIPPED.items():
        repo = Path(__file__).parents[3] / "checkpoints" / name
        packaged = watch.shipped_champion(board)
        assert packaged.exists() and packaged.name == name
        if repo.exists():  # in a source checkout the two must be the same file
            assert repo.read_bytes() == packaged.read_bytes()


@pytest.mark.slow
def test_watch_command_records_with_a_progress_bar_and_rejects_bad_files(tmp_path):
    r = evonet_here(
        "watch", "--record", "champ.GIF", "--episodes", "2", "--max-steps", "20", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "champ.GIF").read_bytes()[:6] == b"GIF89a"  # any case of .gif
    # tqdm's bar counts frames towards the exact total (the champion outlives 20 moves).
    assert "/42 [" in r.stderr and "frame/s" in r.stderr
    assert r.stderr.splitlines()[-1] == "evonet: wrote champ.GIF (42 frames, 2 games)"
    r = evonet_here("watch", "nope.npz", cwd=tmp_path)
    assert r.returncode == 2 and "nope.npz: no such file" in r.stderr
    r = evonet_here("watch", "--record", "no/such/dir/x.gif", cwd=tmp_path)
    assert r.returncode == 2 and "--record" in r.stderr


@pytest.mark.slow
def test_killed_record_leaves_no_temporary_file(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "x.gif").write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-m", "evonet", "watch", "--record", "x.gif", "--episodes", "1"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".x.gif.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the recording ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
        proc.stderr.close()
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]
    assert (tmp_path / "x.gif").read_bytes() == b"old"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--record", "out.png"], "--record out.png: can only write an animated GIF"),
        (["--record", "out"], "use a name ending in .gif"),
        (["--record", "x.gif", "--fps", "60"], "at most 50 frames per second"),
        (["--fps", "1e-300"], "--fps: must be from 1 to 240"),
        (["--fps", "241"], "--fps"),
        (["--fps", "nan"], "--fps"),
        (["--record", "x.gif", "--scale", "1000"], "--scale: must be from 0.1 to 4"),
        (["--record", "x.gif", "--scale", "1e300"], "--scale"),
        (["--record", "x.gif", "--scale", "inf"], "--scale"),
        (["--record", "x.gif", "--scale", "nan"], "--scale"),
        (["--record", "x.gif", "--scale", "0.01"], "--scale"),
        (["--record", "x.gif", "--episodes", "1000000000"], "--episodes: must be from 1 to"),
        (["--record", "x.gif", "--max-steps", "0"], "--max-steps"),
        (["--record", "x.gif", "--max-steps", "1" + "0" * 30], "--max-steps: must be from 1 to"),
    ],
)
def test_bad_watch_flags_are_one_line_exit_2_and_create_nothing(tmp_path, args, needle):
    r = evonet_here("watch", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert list(tmp_path.iterdir()) == []


def test_frame_progress_corrects_a_wrong_prediction():
    from evonet.cli.watch import FrameProgress

    class Bar:
        total, n = 0, 0

        def update(self, k):
            self.n += k

        def refresh(self):
            pass

    bar = Bar()
    bar.total = 3 + 4 + 2
    progress = FrameProgress(bar, [3, 4, 2])
    for step in range(5):  # game 0 runs two frames longer than predicted
        progress(0, step)
    assert bar.total == 5 + 4 + 2
    for step in range(2):  # game 1 ends two frames early: known once game 2 starts
        progress(1, step)
    progress(2, 0)
    assert bar.total == 5 + 2 + 2
    progress.finish()  # game 2 ended after one frame
    assert bar.total == bar.n == 5 + 2 + 1


@pytest.mark.parametrize("hidden", [(6,), (40, 40), (100, 100), (1000,)])
def test_the_panel_draws_each_neurons_strongest_inputs(rng, hidden):
    """Each shown neuron's three strongest incoming connections from the shown neurons,
    thicker the stronger; a layer wider than MAX_SHOWN shows its strongest neurons."""
    from evonet.games.snake.render.window import FrameRenderer

    topo = mlp.Topology((N_OBS, *hidden, 3))
    agent = watch.Agent(mlp.init(topo, rng), topo)
    eps = snake.snake_replay(agent, SnakeSpec(board=(6, 6)), 1, 0)
    renderer = FrameRenderer(eps.game.env, panel.PANEL_WIDTH)
    pygame = renderer.pygame
    renderer.panel = panel.network_panel(agent, pygame, panel.label_font(pygame))
    renderer.render(pygame.Surface(renderer.size(40)), 0)  # draws without error
    edges, shown = renderer.panel.edges, renderer.panel.shown
    for layer, (w, _) in enumerate(mlp.unflatten(agent.theta, topo)):
        assert len(shown[layer]) == min(topo.sizes[layer], panel.MAX_SHOWN)
        src = shown[layer]
        mags = np.abs(w)  # (n_in, n_out)
        for j in shown[layer + 1]:
            drawn = {e[1]: e[4] for e in edges if e[0] == layer and e[2] == j}
            best = src[np.argsort(-mags[src, j], kind="stable")[:3]]
            assert set(drawn) == set(best.tolist())
            strongest = int(src[np.argmax(mags[src, j])])
            assert drawn[strongest] == max(drawn.values()) and 1 <= min(drawn.values())
    if max(hidden) > panel.MAX_SHOWN:
        # The summary keeps the neurons with the most weight in and out.
        w_in, w_out = mlp.unflatten(agent.theta, topo)[0][0], mlp.unflatten(agent.theta, topo)[1][0]
        strength = (w_in**2).sum(axis=0) + (w_out**2).sum(axis=1)
        assert strength[shown[1]].min() >= np.delete(strength, shown[1]).max()


def test_colours_of_many_values_match_one_at_a_time():
    values = np.array([-3, -1, -0.3, 0, 0.2, 0.9, 5, np.nan, np.inf, -np.inf])
    for scale in (1.0, 0.5, 0.0):
        expected = [panel.activation_colour(v, scale) for v in values]
        assert panel.activation_colours(values, scale).tolist() == [list(c) for c in expected]
