"""parity: the running XOR of a bit stream, learned through time by a recurrent network
and out of reach of a feed-forward one."""

import numpy as np

from evonet.nn import mlp
from evonet.train.fit import fit
from evonet.train.tasks import parity
from evonet.train.tasks.registry import TASKS
from tests.helpers import evonet_here, last_json


def test_the_split_holds_every_sequence_once_with_its_running_parity():
    data = parity.make_data(np.random.default_rng(0))
    x = np.concatenate([data.x, data.x_val, data.x_test])  # (256, 8, 1)
    codes = {tuple(row) for row in x[..., 0]}
    assert x.shape == (256, 8, 1) and len(codes) == 256
    bits = (data.x_test[..., 0] + 1) / 2
    assert np.array_equal(data.y_test[..., 0], np.cumsum(bits, axis=1) % 2)


def train(network, seed=0):
    task = TASKS["parity"]
    rng = np.random.default_rng(seed)
    data = task.make_data(rng)
    topo = task.topology(network=network)
    res = fit(mlp.init(topo, rng), topo, data.x, data.y, task.config, rng, *data.val)
    return task.metrics(res.theta, topo, data)


def test_a_gru_learns_parity_on_held_out_sequences_and_an_mlp_cannot():
    gru = train("gru")
    assert gru["solved"] and gru["accuracy"] >= 0.99 and gru["sequences"] >= 0.95
    flat = train("mlp")  # sees one bit: the running parity is a coin toss to it
    assert not flat["solved"] and flat["accuracy"] < 0.7


def test_the_command_trains_parity_and_reports_its_held_out_accuracy(tmp_path):
    r = evonet_here("train", "parity", "--network", "rnn", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert out["accuracy"] >= 0.99, out
