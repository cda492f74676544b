"""Early stopping's validation sample is its own: drawn from a key of its own, disjoint from
the test sample (else the stopping point is chosen on the data that scores it) and from the
training sample. A test of jaxsoftmax.experiment's key scheme, from its outputs."""

from __future__ import annotations

import jax
import numpy as np

from jaxsoftmax import config as C
from jaxsoftmax import experiment as X

STRICT_PROMOTION = False  # optax inside (see conftest.py)

# Equal sizes: a validation sample drawn with the test (or training) key would equal it.
CONFIG = C.from_dict(
    {
        "trials": 2,
        "seed": 3,
        "problem.n_per_class": 20,
        "problem.n_test_per_class": 20,
        "problem.n_val_per_class": 20,
        "model.hidden": 3,
        "training.steps": 4,
        "training.early_stopping": True,
    }
)


def test_the_validation_sample_is_disjoint_from_the_test_and_training_samples():
    # Bugs: the validation sample drawn with the test key (k["test"] for k["val"] in setup,
    # or the tag 2 for 3 in keys): early stopping would pick its step on the test sample;
    # drawn with the training key; one trial's validation sample shared by every trial.
    spec, hyper = X.spec_of(CONFIG), X.hyper_of(CONFIG)
    setup = jax.jit(lambda s, t, h: X.setup(spec, s, t, h)[1])
    seen = []
    for trial in range(CONFIG.trials):
        data = jax.device_get(setup(CONFIG.seed, trial, hyper))
        val = {tuple(r) for r in np.round(data["x_val"], 6)}
        assert len(val) == 4 * 20  # four classes, 20 each
        for other in ("x_test", "x"):
            rows = {tuple(r) for r in np.round(data[other], 6)}
            assert not val & rows, (trial, other)
        assert all(not val & s for s in seen), trial
        seen.append(val)
