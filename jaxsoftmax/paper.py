"""The numbers printed in Dunne & Campbell (1997), section 4.1, for comparison with ours.

Table 2: mean and variance over 100 trials of eq. (4) (on the scale of the *summed* form:
see :func:`jaxsoftmax.gaussians.posterior_error`). Tables 3–6: class-conditional rates, rows
the true class, columns the ascribed class, classes in the paper's order
(:data:`jaxsoftmax.config.PAPER_MEANS`).
"""

from __future__ import annotations

__all__ = ["LABELS", "TABLE2", "TABLES", "TABLE_NUMBER", "label"]

LABELS = {
    "logistic/least_squares": "logistic + least squares",
    "softmax/least_squares": "softmax + least squares",
    "softmax/cross_entropy": "softmax + cross-entropy",
}
TABLE2 = {
    "logistic/least_squares": (4.621323, 0.3146437),
    "softmax/least_squares": (4.003461, 0.2315692),
    "softmax/cross_entropy": (3.936804, 0.1958714),
}
# Table 3 is the Bayes rule; 4, 5, 6 the estimators, in the paper's order.
TABLE_NUMBER = {
    "bayes": 3,
    "logistic/least_squares": 4,
    "softmax/cross_entropy": 5,
    "softmax/least_squares": 6,
}
TABLES = {
    "bayes": (
        (0.7079, 0.1335, 0.1335, 0.0252),
        (0.1335, 0.7079, 0.0252, 0.1335),
        (0.1335, 0.0252, 0.7079, 0.1335),
        (0.0252, 0.1335, 0.1335, 0.7079),
    ),
    "logistic/least_squares": (
        (0.7001, 0.1387, 0.1336, 0.0276),
        (0.1450, 0.6824, 0.0243, 0.1483),
        (0.1350, 0.0289, 0.6999, 0.1362),
        (0.0344, 0.1383, 0.1398, 0.6875),
    ),
    "softmax/cross_entropy": (
        (0.7046, 0.1376, 0.1318, 0.0260),
        (0.1333, 0.6981, 0.0246, 0.1440),
        (0.1302, 0.0265, 0.7055, 0.1378),
        (0.0297, 0.1343, 0.1335, 0.7025),
    ),
    "softmax/least_squares": (
        (0.7068, 0.1397, 0.1274, 0.0261),
        (0.1373, 0.6958, 0.0241, 0.1428),
        (0.1310, 0.0261, 0.7039, 0.1390),
        (0.0317, 0.1349, 0.1324, 0.7010),
    ),
}
# The ranking the paper reports, worst to best, by Table 2.
RANKING = ("logistic/least_squares", "softmax/least_squares", "softmax/cross_entropy")


def label(name: str) -> str:
    """A readable estimator name (``"softmax + cross-entropy"``), else the registry name."""
    return LABELS.get(name, name)
