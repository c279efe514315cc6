"""Every training method learns: on a small generated split its best exit beats the majority class clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exitflow.exits import BOOST_WEIGHT, combine
from exitflow.models import ModelConfig, MultiExitNet, ResidualMlpBlock
from exitflow.pipeline import model_config, prepare, train_config
from exitflow.train import TrainConfig, exit_accuracy, jei_exit_weights, jei_gate_targets, train


def _majority(y: np.ndarray) -> float:
    return float(np.bincount(y).max() / len(y))


@pytest.mark.parametrize("method", ["joint", "boost", "consistent", "jei"])
def test_method_trains_above_chance_on_features(small_features, method: str) -> None:
    p = prepare(small_features)
    model = train(
        model_config(small_features),
        TrainConfig(method=method, epochs=4, batch_size=64, seed=3),
        p.x["train"],
        p.y["train"],
        p.x["val"],
        p.y["val"],
    )
    acc = exit_accuracy(model, p.x["test"], p.y["test"])
    assert max(acc) >= _majority(p.y["test"]) + 0.15, f"{method}: per-exit test accuracy {acc}"


def test_cnn_trains_above_chance_on_windows(small_sensor) -> None:
    p = prepare(small_sensor)
    model = train(
        model_config(small_sensor, [8, 16, 16, 16]),
        TrainConfig(method="boost", epochs=4, batch_size=64),
        p.x["train"],
        p.y["train"],
        p.x["val"],
        p.y["val"],
    )
    acc = exit_accuracy(model, p.x["test"], p.y["test"])
    assert acc[-1] >= _majority(p.y["test"]) + 0.08, f"per-exit test accuracy {acc}"


def test_boost_combination_and_stop_gradient() -> None:
    f = [torch.randn(4, 5, requires_grad=True) for _ in range(3)]
    out = combine(f, "boost", detach_prev=True)
    torch.testing.assert_close(out[2], f[2] + BOOST_WEIGHT * (f[1] + BOOST_WEIGHT * f[0]))
    out[2].sum().backward()
    assert f[0].grad is None and f[1].grad is None  # earlier logits are not trained by a later loss
    assert f[2].grad is not None


def test_boost_gradient_rescaling_averages_the_losses() -> None:
    """With rescaling, stage 0 receives the mean (not the sum) of the gradients of the losses behind it."""
    torch.manual_seed(0)
    net = MultiExitNet(ModelConfig("mlp", [6], 3, widths=[4, 4, 4, 4], dropout=0.0))
    x = torch.randn(8, 6)

    def grad_of_stage0(rescale: bool) -> torch.Tensor:
        net.zero_grad()
        net.grad_rescale = rescale
        net.train()
        sum(z.sum() for z in net(x)).backward()
        return net.stages[0][0].weight.grad.clone()

    plain, rescaled = grad_of_stage0(False), grad_of_stage0(True)
    # Head j's gradient reaches stage 0 through trunk scales prod_{i<j} (N-i-1)/(N-i) = (N-j)/N and its own
    # head scale 1/(N-j): every head contributes 1/N of its gradient, so stage 0 sees the mean over heads.
    torch.testing.assert_close(rescaled, plain / 4)
    net.grad_rescale = False


def test_jei_targets_and_exit_weights() -> None:
    ce = torch.tensor([[0.1, 2.0], [0.05, 1.0], [0.04, 0.2], [0.0, 0.1]])  # [K=4, B=2]
    shares = torch.tensor([0.25, 0.5, 0.75, 1.0])
    t = jei_gate_targets(ce, shares, lam=0.2)
    # sample 0: best exit 0 (0.1 + 0.05); sample 1: best exit 3 (0.1 + 0.2) -> no gate fires
    assert t[:, 0].tolist() == [1.0, 1.0, 1.0] and t[:, 1].tolist() == [0.0, 0.0, 0.0]
    w = jei_exit_weights([torch.tensor([0.7]), torch.tensor([0.5]), torch.tensor([0.9])])
    assert w.squeeze(1).tolist() == pytest.approx([0.7, 0.3, 0.0, 0.0])


def test_feature_mlp_stages_are_residual_and_start_as_copies() -> None:
    """Every stage after the first adds a residual block to one fixed-width state, and an untrained block is the
    identity: a deeper stage starts as a copy of the state before it, so depth can refine but need not relearn."""
    net = MultiExitNet(ModelConfig("mlp", [36], 5, widths=[16] * 4, dropout=0.0))
    net.eval()
    shapes = net.state_shapes()
    assert shapes == [[16]] * 4
    h0 = net.stage(0, torch.randn(32, 36))
    for k in range(1, 4):
        assert isinstance(net.stages[k], ResidualMlpBlock)
        torch.testing.assert_close(net.stage(k, h0), h0)  # zero-initialised output projection
    with torch.no_grad():
        net.stages[1].fc2.weight.normal_()
    assert not torch.allclose(net.stage(1, h0), h0)
    with pytest.raises(ValueError, match="widths must all be equal"):
        MultiExitNet(ModelConfig("mlp", [36], 5, widths=[64, 64, 96, 128]))


def test_keep_best_returns_the_epoch_validation_liked_best(small_features, monkeypatch: pytest.MonkeyPatch) -> None:
    """With keep_best the returned model's deepest-exit validation accuracy is the best any epoch reached."""
    import exitflow.train as train_module

    p = prepare(small_features)
    seen: list[float] = []
    real = train_module.exit_accuracy

    def recording(model, x, y):  # the per-epoch validation check inside train()
        accs = real(model, x, y)
        seen.append(accs[-1])
        return accs

    monkeypatch.setattr(train_module, "exit_accuracy", recording)
    model = train(
        model_config(small_features),
        train_config("features", method="boost", epochs=5, batch_size=64),
        p.x["train"],
        p.y["train"],
        p.x["val"],
        p.y["val"],
    )
    assert len(seen) == 5
    assert real(model, p.x["val"], p.y["val"])[-1] == pytest.approx(max(seen))
