"""Tests of jaxsoftmax.mlp and jaxsoftmax.train: shapes, purity, the paper's initialisation,
that training lowers the loss and reaches near-Bayes accuracy, chunked = one-shot training,
early stopping, snapshots, and clear errors for bad configuration."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsoftmax as js
from jaxsoftmax import gaussians, mlp, train

# optax's update rules are not written for strict dtype promotion (see conftest.py).
STRICT_PROMOTION = False

PAPER = ("logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy")


def test_init_shapes_and_uniform_range():
    params = mlp.init(jax.random.key(0), 2, 8, 4)
    shapes = jax.tree.map(jnp.shape, params)
    assert shapes == {"hidden": {"w": (2, 8), "b": (8,)}, "out": {"w": (8, 4), "b": (4,)}}
    leaves = jnp.concatenate([a.ravel() for a in jax.tree.leaves(params)])
    assert leaves.size == mlp.n_params(2, 8, 4) == 60
    assert float(leaves.min()) >= -1.0 and float(leaves.max()) <= 1.0
    big = mlp.init(jax.random.key(1), 50, 100, 10, scale=0.5)
    w = np.asarray(big["hidden"]["w"]).ravel()
    assert np.abs(w).max() <= 0.5 and abs(w.mean()) < 0.02 and abs(w.std() - 0.5 / 3**0.5) < 0.01


def test_apply_matches_the_papers_formula_and_layouts_agree():
    params = mlp.init(jax.random.key(2), 3, 5, 4)
    x = jax.random.normal(jax.random.key(3), (7, 3))
    # z = Υ [1, f_h(Ω [1, x])] with the bias columns written out.
    omega = jnp.concatenate([params["hidden"]["b"][:, None], params["hidden"]["w"].T], axis=1)
    upsilon = jnp.concatenate([params["out"]["b"][:, None], params["out"]["w"].T], axis=1)
    xa = jnp.concatenate([jnp.ones((7, 1)), x], axis=1)
    ya = jnp.concatenate([jnp.ones((7, 1)), jax.nn.sigmoid(xa @ omega.T)], axis=1)
    np.testing.assert_allclose(mlp.apply(params, x), ya @ upsilon.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        mlp.apply_samples_last(params, x.T).T, mlp.apply(params, x), rtol=1e-5, atol=1e-6
    )


def test_apply_vmaps_over_trials_and_is_pure():
    keys = jax.random.split(jax.random.key(4), 3)
    params = jax.vmap(lambda k: mlp.init(k, 2, 4, 3))(keys)
    x = jax.random.normal(jax.random.key(5), (3, 10, 2))
    batched = jax.vmap(mlp.apply)(params, x)
    assert batched.shape == (3, 10, 3)
    one = mlp.apply(jax.tree.map(lambda a: a[1], params), x[1])
    np.testing.assert_allclose(batched[1], one, rtol=1e-6)
    np.testing.assert_array_equal(jax.vmap(mlp.apply)(params, x), batched)  # same in, same out


def test_init_and_apply_bad_input():
    with pytest.raises(ValueError, match="h \\(the number of hidden units\\) must be a positive"):
        mlp.init(jax.random.key(0), 2, 0, 4)
    with pytest.raises(ValueError, match="scale must be a positive"):
        mlp.init(jax.random.key(0), 2, 3, 4, scale=-1.0)
    params = mlp.init(jax.random.key(0), 2, 3, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\).*\(5, 3\)"):
        mlp.apply(params, jnp.zeros((5, 3)))


def small_problem(key, n=30, separation=1.0):
    problem = gaussians.make_problem(separation * jnp.asarray(gaussians.PAPER_MEANS))
    x, y = gaussians.sample(key, problem, n)
    return problem, x, jax.nn.one_hot(y, 4), y


def test_training_lowers_the_loss_for_every_pairing():
    _, x, t, _ = small_problem(jax.random.key(6))
    params = mlp.init(jax.random.key(7), 2, 6, 4)
    fits = jax.jit(lambda p: train.fit_many((p,) * 3, x, t, pairings=PAPER, steps=150))(params)
    for name, fit in zip(PAPER, fits):
        assert fit.losses.shape == (150,)
        assert float(fit.losses[-1]) < 0.7 * float(fit.losses[0]), name
        direct = train.mean_loss(js.get_pairing(name), fit.params, x, t)
        assert np.isfinite(direct) and float(direct) <= float(fit.losses[-1]) + 1e-3


def test_trained_softmax_cross_entropy_reaches_near_bayes_accuracy():
    # Well-separated classes (means at (±3, ±3)): the Bayes error is ~0.3%; the trained
    # network should be within a couple of points of it on a fresh test sample.
    problem, x, t, _ = small_problem(jax.random.key(8), n=100, separation=3.0)
    x_test, y_test = gaussians.sample(jax.random.key(9), problem, 500)
    params = mlp.init(jax.random.key(10), 2, 8, 4)
    fit = jax.jit(lambda p: train.fit(p, x, t, pairing="softmax/cross_entropy", steps=400))(params)
    error = float(jnp.mean(jnp.argmax(mlp.apply(fit.params, x_test), -1) != y_test))
    bayes = float(jnp.mean(jnp.argmax(gaussians.bayes_posterior(problem, x_test), -1) != y_test))
    assert error <= bayes + 0.02
    assert float(fit.grad_norm) < 0.05


def test_chunked_training_equals_one_shot_and_vmaps_over_trials():
    _, x, t, _ = small_problem(jax.random.key(11))
    keys = jax.random.split(jax.random.key(12), 3)
    params = jax.vmap(lambda k: mlp.init(k, 2, 4, 4))(keys)
    xs, ts = jnp.stack([x] * 3), jnp.stack([t] * 3)

    def one_shot(p, x, t):
        return train.fit_many((p, p), x, t, pairings=PAPER[1:], steps=60, record_at=(20, 60))

    def chunked(p, x, t):
        state = train.init_state((p, p), record_at=(20, 60))
        losses = []
        for _ in range(3):
            state, loss, _val = train.train_steps(state, x, t, pairings=PAPER[1:], steps=20)
            losses.append(loss)
        losses = jnp.concatenate(losses, -1)
        return train.finish(
            state,
            x,
            t,
            pairings=PAPER[1:],
            losses=losses,
            val_losses=jnp.full_like(losses, jnp.nan),
        )

    a = jax.jit(jax.vmap(one_shot))(params, xs, ts)
    b = jax.jit(jax.vmap(chunked))(params, xs, ts)
    for fa, fb in zip(a, b):
        jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6), fa, fb)
        assert fa.losses.shape == (3, 60)
        # The snapshot after step 60 is the final parameters.
        jax.tree.map(
            lambda s, p: np.testing.assert_allclose(s[:, 1], p, rtol=1e-6), fa.snapshots, fa.params
        )


def test_early_stopping_returns_the_best_validation_parameters():
    problem, x, t, _ = small_problem(jax.random.key(13), n=15)
    x_val, y_val = gaussians.sample(jax.random.key(14), problem, 50)
    t_val = jax.nn.one_hot(y_val, 4)
    params = mlp.init(jax.random.key(15), 2, 8, 4)
    fit = jax.jit(
        lambda p: train.fit(
            p, x, t, pairing="softmax/cross_entropy", steps=300, x_val=x_val, t_val=t_val
        )
    )(params)
    assert np.isfinite(fit.val_losses).all()
    best = int(fit.best_step)
    pairing = js.get_pairing("softmax/cross_entropy")
    final_val = float(train.mean_loss(pairing, fit.params, x_val, t_val))
    if best < 300:
        np.testing.assert_allclose(final_val, fit.val_losses[best], rtol=1e-5)
    assert final_val <= float(fit.val_losses.min()) + 1e-5


def test_weight_decay_shrinks_the_weights():
    _, x, t, _ = small_problem(jax.random.key(16))
    params = mlp.init(jax.random.key(17), 2, 8, 4)
    norms = []
    for wd in (0.0, 0.5):  # decoupled: each step shrinks by lr * wd = 2.5%
        opt = train.make_optimizer("adam", 0.05, weight_decay=wd)
        fit = train.fit(params, x, t, pairing="softmax/cross_entropy", optimizer=opt, steps=200)
        norms.append(float(train.tree_norm(fit.params)))
    assert norms[1] < 0.8 * norms[0]


def _steps(opt, params, grads_seq):
    state = opt.init(params)
    for g in grads_seq:
        updates, state = opt.update(g, state, params)
        params = optax.apply_updates(params, updates)
    return params


def _grads(key, params, n=5):
    keys = jax.random.split(key, n)
    return [
        jax.tree.map(lambda a, k=k: jax.random.normal(k, a.shape, a.dtype), params) for k in keys
    ]


def test_weight_decay_zero_is_bitwise_the_undecayed_optimizer():
    # Bug guarded: a decay step that perturbs the run even at decay 0.
    params = mlp.init(jax.random.key(20), 2, 5, 4)
    grads = _grads(jax.random.key(21), params)
    for name, ref in (
        ("adam", optax.adam(0.05)),
        ("sgd", optax.sgd(0.05)),
        ("momentum", optax.sgd(0.05, momentum=0.9)),
    ):
        ours = _steps(train.make_optimizer(name, 0.05, weight_decay=0.0), params, grads)
        theirs = _steps(ref, params, grads)
        jax.tree.map(np.testing.assert_array_equal, ours, theirs)


def test_adam_with_decay_takes_exactly_optax_adamws_steps():
    # Bug guarded: L2 decay coupled through Adam's moments (chain(add_decayed_weights, adam)),
    # or decay applied twice ("adamw" + weight_decay).
    params = mlp.init(jax.random.key(22), 2, 5, 4)
    grads = _grads(jax.random.key(23), params)
    ref = _steps(optax.adamw(0.05, weight_decay=0.1), params, grads)
    for name in ("adam", "adamw"):
        ours = _steps(train.make_optimizer(name, 0.05, weight_decay=0.1), params, grads)
        jax.tree.map(np.testing.assert_array_equal, ours, ref)
    coupled = _steps(optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.05)), params, grads)
    assert not np.allclose(coupled["out"]["w"], ref["out"]["w"])


def test_decoupled_decay_for_sgd_is_lr_times_decay():
    # theta <- theta - lr * (g + wd * theta) for plain SGD (no moments to couple through).
    params = mlp.init(jax.random.key(24), 2, 5, 4)
    (g,) = _grads(jax.random.key(25), params, 1)
    ours = _steps(train.make_optimizer("sgd", 0.1, weight_decay=0.5), params, [g])
    expect = jax.tree.map(lambda p, gi: p - 0.1 * (gi + 0.5 * p), params, g)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), ours, expect)


def test_traced_learning_rate_and_decay_take_the_concrete_steps():
    # The sweep passes learning rate and decay as arrays (vmapped over cells).
    params = mlp.init(jax.random.key(26), 2, 5, 4)
    grads = _grads(jax.random.key(27), params)
    # XLA folds concrete constants and may round differently in the last place, so: to float32
    # rounding. (The engine passes arrays for the reproduction and the sweeps alike.)
    concrete = jax.jit(
        lambda: _steps(train.make_optimizer("adam", 0.05, weight_decay=0.1), params, grads)
    )()
    traced = jax.jit(
        lambda lr, wd: _steps(train.make_optimizer("adam", lr, weight_decay=wd), params, grads)
    )(jnp.float32(0.05), jnp.float32(0.1))
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7), concrete, traced
    )


def test_check_convergence_warns_on_large_gradients():
    with pytest.warns(RuntimeWarning, match="50% of 2 trainings end with a gradient norm"):
        assert train.check_convergence(jnp.array([1e-4, 0.5])) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert train.check_convergence(jnp.array([1e-4, 2e-3])) == 0.0


def test_bad_configuration_gets_clear_errors():
    params = mlp.init(jax.random.key(0), 2, 3, 4)
    x, t = jnp.zeros((10, 2)), jnp.zeros((10, 4))
    with pytest.raises(ValueError, match="optimizer: unknown name 'adamm'; known: adam, adamw"):
        train.make_optimizer("adamm")
    with pytest.raises(ValueError, match=r"learning_rate: expected a finite number > 0, got 0\.0"):
        train.make_optimizer("sgd", 0.0)
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ValueError, match="learning_rate: expected a finite number > 0"):
            train.make_optimizer("adam", bad)
        with pytest.raises(ValueError, match="weight_decay: expected a finite number >= 0"):
            train.make_optimizer("adam", 0.1, weight_decay=bad if bad != 0 else -1.0)
    with pytest.raises(ValueError, match="unknown pairing softmax/hinge"):
        train.fit(params, x, t, pairing="softmax/hinge")
    with pytest.raises(ValueError, match="steps must be a positive int, got 0"):
        train.fit(params, x, t, pairing="softmax/cross_entropy", steps=0)
    with pytest.raises(ValueError, match=r"x\.shape=\(10, 2\) and targets\.shape=\(9, 4\)"):
        train.fit(params, x, t[:9], pairing="softmax/cross_entropy")
    with pytest.raises(ValueError, match="record_at must lie in 1 … steps=5"):
        train.fit(params, x, t, pairing="softmax/cross_entropy", steps=5, record_at=(6,))
