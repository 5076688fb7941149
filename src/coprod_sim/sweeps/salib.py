"""The one place that knows SALib's API: samplers for sweep designs and analyzers for sensitivity indices.

Factors are sampled on the unit cube and mapped to parameter values afterwards
by each design axis (``design.Axis.ppf``: ranges, distributions, whole numbers,
lists of values), in the spirit of EMA Workbench's ``salib_samplers``: SALib
never sees a parameter's units, so integer and categorical factors need no
special case in SALib and the same unit sample serves the analysis. Indices are
invariant under such monotone maps (Sobol, FAST) or are read per full range of
a factor (Morris: an elementary effect is the change of the outcome when the
factor moves across its whole range).

The module lives in the sweeps layer because sweep specs can ask for these
designs (``design.type: sobol | morris | fast``); the sensitivity layer above
uses its analyzers.

Groups (``design.groups``, Sobol and Morris only, as in SALib): each factor
carries a group label (its own key when ungrouped), a design moves a group's
factors together, so it has N × (G + 1) (Morris) or N × (G + 2) (Sobol) rows
for G groups instead of one block per factor, and the indices are the groups'.

SALib is imported inside the functions: it pulls in matplotlib and pandas
machinery that plain ``coprod-sim`` commands never need.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np

SALIB_DESIGNS = ("sobol", "morris", "fast")
GROUPED_DESIGNS = ("sobol", "morris")  # SALib's FAST and given-data analyzers have no groups
GIVEN_DATA_METHODS = ("rbd_fast", "delta")
FAST_M = 4  # FAST interference factor (SALib's default); needs samples > 4 M²
RBD_M = 10  # RBD-FAST harmonics (SALib's default); its bootstrap halves the sample, which must stay above 2 M
MIN_GIVEN_POINTS = {"rbd_fast": 4 * RBD_M + 1, "delta": 20}
MORRIS_LEVELS = 4


def problem(names: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    """A SALib problem on the unit cube (values are mapped to parameters by the design's axes); ``groups``:
    each factor's group label, as SALib takes them."""
    out: dict[str, Any] = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups:
        out["groups"] = list(groups)
    return out


def group_names(names: list[str], groups: list[str] | None = None) -> list[str]:
    """What the indices are reported for: the groups in order of first appearance (SALib's order), or the
    factors when there are no groups."""
    return list(dict.fromkeys(groups or names))


def min_samples(kind: str) -> int:
    """The smallest base sample size SALib accepts for a design."""
    return {"fast": 4 * FAST_M * FAST_M + 1, "morris": 2, "sobol": 2}[kind]


def rows(kind: str, groups: int, samples: int, second_order: bool = False) -> int:
    """Design points of a SALib design with base size ``samples`` (N, or Morris trajectories) over ``groups``
    groups G (each ungrouped factor is its own group; FAST: the factors)."""
    if kind == "sobol":
        return samples * (2 * groups + 2 if second_order else groups + 2)
    return samples * (groups + 1) if kind == "morris" else samples * groups


def unit_sample(kind: str, names: list[str], samples: int, seed: int, second_order: bool = False,
                levels: int = MORRIS_LEVELS, groups: list[str] | None = None) -> np.ndarray:
    """The design on the unit cube, one row per design point (deterministic in ``seed``).

    Sobol: SALib's scrambled Sobol sequence with Saltelli's cross-sampling; the
    design for N is a prefix of the design for 2N (same seed), so doubling N
    reuses every earlier run. SALib warns when N is not a power of two; the
    dry run reports that instead. ``groups``: each factor's group label
    (Sobol and Morris), so a group's factors move together.
    """
    from SALib.sample import fast_sampler, morris, sobol

    prob = problem(names, groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "sobol":
            return sobol.sample(prob, samples, calc_second_order=second_order, seed=seed)
        if kind == "morris":
            return morris.sample(prob, samples, num_levels=levels, seed=seed)
        if kind == "fast":
            return fast_sampler.sample(prob, samples, M=FAST_M, seed=seed)
    raise ValueError(f"unknown SALib design {kind!r}")


def sobol_prefix(n: int, groups: int, second_order: bool = False) -> int:
    """Rows of a Sobol design over ``groups`` groups that make up its first ``n`` base samples (convergence)."""
    return rows("sobol", groups, n, second_order)


# ------------------------------------------------------------------ analyzers
def _row(index: str, factor: str, value: float, half: float | None) -> dict[str, Any]:
    low, high = (np.nan, np.nan) if half is None or not np.isfinite(half) else (value - half, value + half)
    return {"index": index, "factor": factor, "value": float(value), "ci_low": float(low), "ci_high": float(high)}


def analyze(method: str, names: list[str], x: np.ndarray | None, y: np.ndarray, *, second_order: bool = False,
            levels: int = MORRIS_LEVELS, conf_level: float = 0.95, resamples: int = 200,
            seed: int = 0, groups: list[str] | None = None) -> list[dict[str, Any]]:
    """Indices of one outcome as rows (index, factor, value, ci_low, ci_high); CIs from SALib's bootstrap.

    ``x`` is the unit-cube design (Morris, Sobol, FAST) or the factor values
    themselves (given-data methods). ``y`` must be finite: SALib does not check,
    and one NaN silently turns every Sobol index into 0. ``groups`` (Sobol,
    Morris): each factor's group label, as the design was sampled with; the rows
    are then the groups' (``factor`` holds the group's name). Morris σ of a group
    of several factors is not defined (SALib gives NaN).
    """
    if not np.all(np.isfinite(y)):
        raise ValueError("analyze: y has missing or non-finite values")
    if groups and method not in GROUPED_DESIGNS:
        raise ValueError(f"analyze: {method} takes no groups")
    prob = problem(names, groups)
    labels = group_names(names, groups)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if method == "sobol":
            return _sobol(prob, labels, y, second_order, conf_level, resamples, seed)
        if method == "morris":
            from SALib.analyze import morris

            assert x is not None
            res = morris.analyze(prob, x, y, num_resamples=resamples, conf_level=conf_level, num_levels=levels,
                                 seed=seed)
            return ([_row("mu_star", n, res["mu_star"][i], res["mu_star_conf"][i]) for i, n in enumerate(labels)]
                    + [_row("sigma", n, res["sigma"][i], None) for i, n in enumerate(labels)]
                    + [_row("mu", n, res["mu"][i], None) for i, n in enumerate(labels)])
        if method == "fast":
            from SALib.analyze import fast

            res = fast.analyze(prob, y, M=FAST_M, num_resamples=resamples, conf_level=conf_level, seed=seed)
            return _first_total(res, names)
        if method in GIVEN_DATA_METHODS:
            return _given_data(method, prob, x, y, conf_level, resamples, seed)
    raise ValueError(f"unknown method {method!r}")


def _sobol(prob: dict, names: list[str], y: np.ndarray, second_order: bool, conf_level: float, resamples: int,
           seed: int) -> list[dict[str, Any]]:
    """First, total and (optionally) second-order indices of ``names``: the factors, or the groups."""
    from SALib.analyze import sobol

    res = sobol.analyze(prob, y, calc_second_order=second_order, num_resamples=resamples, conf_level=conf_level,
                        seed=seed)
    out = _first_total(res, names)
    if second_order:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                out.append(_row("S2", f"{names[i]} × {names[j]}", res["S2"][i, j], res["S2_conf"][i, j]))
    return out


def _first_total(res: Any, names: list[str]) -> list[dict[str, Any]]:
    return ([_row("S1", n, res["S1"][i], res["S1_conf"][i]) for i, n in enumerate(names)]
            + [_row("ST", n, res["ST"][i], res["ST_conf"][i]) for i, n in enumerate(names)])


def _given_data(method: str, prob: dict, x: np.ndarray | None, y: np.ndarray, conf_level: float, resamples: int,
                seed: int) -> list[dict[str, Any]]:
    """RBD-FAST (first-order) or delta moment-independent indices from any sample, e.g. a Latin hypercube."""
    assert x is not None
    names = prob["names"]
    prob = {**prob, "bounds": [[float(np.min(col)), float(np.max(col)) or 1.0] for col in x.T]}
    if method == "rbd_fast":
        from SALib.analyze import rbd_fast

        res = rbd_fast.analyze(prob, x, y, M=RBD_M, num_resamples=resamples, conf_level=conf_level, seed=seed)
        return [_row("S1", n, res["S1"][i], res["S1_conf"][i]) for i, n in enumerate(names)]
    from SALib.analyze import delta

    with contextlib.redirect_stdout(io.StringIO()):  # SALib 1.6 prints notes about merged bins
        res = delta.analyze(prob, x, y, num_resamples=resamples, conf_level=conf_level, seed=seed)
    key = "delta" if "delta" in res else "delta_raw"  # SALib 1.6 reports raw, balanced and step variants
    return ([_row("delta", n, res[key][i], res[f"{key}_conf"][i]) for i, n in enumerate(names)]
            + [_row("S1", n, res["S1"][i], res["S1_conf"][i]) for i, n in enumerate(names)])
