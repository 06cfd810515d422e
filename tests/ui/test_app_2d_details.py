"""The 2D page's Training details switch (weight histograms, gradient norms) and its neuron picker
(one neuron's picture enlarged)."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from test_app_2d import charts, job, small, wait_idle


def trained(at: AppTest, hidden: str = "4,3") -> AppTest:
    small(at, hidden=hidden)
    at.button(key="2d:step").click().run()
    wait_idle(at)
    return at


def test_training_details_show_the_weights_and_the_gradient_norms(at):
    trained(at)
    assert {"weights", "gradients"}.isdisjoint(charts(at))          # off: nothing built
    at.toggle(key="2d:details").set_value(True).run()
    figures = charts(at)
    names = ["layer 1", "layer 2", "output"]
    assert [t["name"] for t in figures["weights"]["data"]] == names
    assert [t["type"] for t in figures["weights"]["data"]] == ["bar"] * 3
    gradients = figures["gradients"]
    assert [t["name"] for t in gradients["data"]] == names and gradients["layout"]["yaxis"]["type"] == "log"
    snap = job(at).snapshot()
    assert snap.grad_norms.shape == (1, 3)                         # one epoch, three weight layers
    assert not at.exception


def test_picking_a_neuron_shows_its_map_enlarged(at):
    trained(at)
    picker = at.selectbox(key="2d:neuron")
    assert picker.value == "(none)" and "neuron" not in charts(at)
    assert list(picker.options)[1:] == [f"layer {l}, neuron {n}" for l, size in ((1, 4), (2, 3)) for n in range(1, size + 1)]
    picker.select("layer 2, neuron 3").run()
    figure = charts(at)["neuron"]
    assert figure["data"][0]["type"] == "heatmap" and figure["layout"]["title"]["text"] == "Layer 2, neuron 3 (tanh)"
    text = " ".join(m.value for m in at.markdown)
    assert "activation: **tanh**" in text and "alive" in text
    assert not at.exception


def test_a_dead_neuron_is_called_dead():
    def script():
        import numpy as np
        from playground import config as cfg
        from playground.jobs import Snapshot
        from playground.ui import playground_2d
        config = cfg.Config(dataset="circle", hidden=(2,), activation=("relu",))
        maps = (np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))
        snap = Snapshot(config, status="paused", layer_sizes=(2, 2, 1), neuron_maps=maps,
                        weights=(np.ones((2, 2)), np.ones((1, 2))), dead_units=(np.array([False, True]),))
        playground_2d.neuron(snap, show_test=False)
    at = AppTest.from_function(script)
    at.session_state["2d:neuron"] = "layer 1, neuron 2"
    at.run()
    assert not at.exception
    assert "**dead**" in " ".join(m.value for m in at.markdown)
