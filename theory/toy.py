"""The Appendix C.4 toy FSM, reconstructed exactly, and the data behind Figs. 3 (overlay), 4, 5, 12, 13 and 14.

The FSM (V = 16): the root sends tok0 / tok1 into two symmetric paths (tok2 fails); each path is one fork state
(tok0 correct, at rank 2) followed by LOCK_DEPTH = 3 lock states (tok0 correct, rank 1), then PASS. Every
wrong token fails. State distributions = the paper's Table 6 heads plus a 12-token geometric tail carrying the
residual mass (ratios reconstructed in theory.md section 9). SSD: T_train = 0.9, top-p 0.85, no top-k; the
student is the ideal fit q_s at every state. Evaluation: one global T, then top-p 0.80 (vLLM order).
  P = [q_root(tok0) + q_root(tok1)] * q_fork(tok0) * q_lock(tok0)^3.
Guarantees: every function is exact float64 computation with theory.decoding / theory.ssd; temperature
sweeps are vectorised over the grid. Probabilities are fractions (not percent) unless a name says `percent`.
Does not: simulate sampling; the paper's optima are grid optima of a discontinuous P(T) (see `switch_*`).
"""
from __future__ import annotations

import numpy as np

from theory.decoding import decode_distribution
from theory.distributions import entropy, temper
from theory.operators import ORDERS, prefix_masses
from theory.ssd import SSDRecipe, retained_support, ssd_target

VOCAB = 16
LOCK_DEPTH = 3
HEADS = {"root": (0.200, 0.190, 0.329, 0.126), "fork": (0.148, 0.280, 0.140, 0.144),
         "lock": (0.750, 0.055, 0.050, 0.037)}
TAIL_RATIOS = {"root": 0.5, "fork": 0.5, "lock": 0.75438}
TOY_RECIPE = SSDRecipe(t_train=0.9, top_k=0, top_p=0.85)
EVAL_TOP_P = 0.80
FIG14_TEMPERATURES = (0.5, 1.0, 2.09)
TOP_P_SWEEP = (0.65, 0.70, 0.75, 0.80, 0.85, 0.90)
MODELS = ("teacher", "student")

# Numbers reported in the paper (Appendix C.4, Figs. 13-14), as fractions.
PAPER = {
    "teacher_best_pass": 0.0832, "teacher_best_T": 0.639, "student_best_pass": 0.1377, "student_best_T": 2.091,
    "student_lock_masses": (0.948, 0.052), "student_fork_size": 5, "student_fork_tok1": 0.344,
    "student_fork_tok0": 0.169, "student_root_size": 4, "student_root_fail": 0.406,
    "teacher_fork_nucleus": (0.482, 0.178, 0.170, 0.170), "student_fork_nucleus": (0.321, 0.229, 0.225, 0.225),
    "fig14_teacher": (0.064, 0.064, 0.003), "fig14_student": (0.055, 0.106, 0.138),
    "gap_top_p_min": 0.014, "gap_top_p_max": 0.054,
}


def archetype(head, ratio: float) -> np.ndarray:
    """16 probabilities: the head, then tail_i = a r^i (i = 0..11) carrying the residual mass."""
    n_tail = VOCAB - len(head)
    residual = 1.0 - sum(head)
    tail = residual * (1 - ratio) / (1 - ratio ** n_tail) * ratio ** np.arange(n_tail)
    return np.concatenate([head, tail])


def teacher_states() -> dict[str, np.ndarray]:
    """{"root", "fork", "lock"} -> frozen log-probabilities (length 16)."""
    return {name: np.log(archetype(HEADS[name], TAIL_RATIOS[name])) for name in HEADS}


def student_states(recipe: SSDRecipe = TOY_RECIPE) -> dict[str, np.ndarray]:
    """{"root", "fork", "lock"} -> ideal-fit student log-probabilities q_s (-inf off S_s)."""
    return {name: ssd_target(logp, recipe) for name, logp in teacher_states().items()}


def states(model: str) -> dict[str, np.ndarray]:
    """`teacher_states()` or `student_states()` by name ("teacher" | "student")."""
    if model not in MODELS:
        raise ValueError(f"model: expected one of {MODELS}, got {model!r}")
    return teacher_states() if model == "teacher" else student_states()


def success_probability(policy: dict[str, np.ndarray]) -> np.ndarray:
    """P from per-state evaluation probabilities (arrays [..., 16]); shape = the leading shape."""
    root, fork, lock = policy["root"], policy["fork"], policy["lock"]
    return (root[..., 0] + root[..., 1]) * fork[..., 0] * lock[..., 0] ** LOCK_DEPTH


def evaluation_policy(model: str, temperatures, top_p: float = EVAL_TOP_P) -> dict[str, np.ndarray]:
    """Per state, the vLLM-order evaluation distribution for each T: arrays of shape [len(temperatures), 16]."""
    t = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    return {name: decode_distribution(logp[None, :] / t[:, None], top_p=top_p) for name, logp in states(model).items()}


def pass_curve(model: str, temperatures, top_p: float = EVAL_TOP_P) -> np.ndarray:
    """P(T) for each T (shape [len(temperatures)]): the bottom curve of Fig. 14 and the eval sweep."""
    return success_probability(evaluation_policy(model, temperatures, top_p))


def temperature_grid(low: float = 0.05, high: float = 4.0, step: float = 0.001) -> np.ndarray:
    """Evaluation temperatures low..high inclusive (1-D), rounded so that grid values print exactly."""
    return np.round(np.arange(low, high + step / 2, step), 10)


def best_temperature(model: str, top_p: float = EVAL_TOP_P, grid=None) -> tuple[float, float]:
    """(T, P) maximising P on the grid (default 0.05..4.0 step 0.001, the paper's three-decimal resolution)."""
    grid = temperature_grid() if grid is None else np.asarray(grid)
    curve = pass_curve(model, grid, top_p)
    best = int(np.argmax(curve))
    return float(grid[best]), float(curve[best])


def switch_temperature_student(top_p: float = EVAL_TOP_P, recipe: SSDRecipe = TOY_RECIPE) -> float:
    """Closed form for the student optimum: the T where the 2-token student lock stops being a singleton,
    ln(p1/p2) / (T_train ln(top_p / (1 - top_p)))."""
    p1, p2 = HEADS["lock"][:2]
    return float(np.log(p1 / p2) / (recipe.t_train * np.log(top_p / (1 - top_p))))


def switch_temperature_teacher(top_p: float = EVAL_TOP_P) -> float:
    """The T where the teacher fork's top-4 tempered mass falls to top-p (its nucleus grows from 4 to 5),
    by bisection on S_{fork,4}(T) = top-p (decreasing in T, Eq. 39)."""
    fork = teacher_states()["fork"]
    low, high = 0.1, 4.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if prefix_masses(fork, mid, 0)[3] > top_p else (low, mid)
    return low


def nucleus(model: str, state: str, temperature: float, top_p: float = EVAL_TOP_P) -> np.ndarray:
    """Kept probabilities at one state, sorted descending (Fig. 13b readouts)."""
    dist = evaluation_policy(model, [temperature], top_p)[state][0]
    return np.sort(dist[dist > 0])[::-1]


def kept_counts(model: str, temperatures=FIG14_TEMPERATURES, top_p: float = EVAL_TOP_P) -> dict[str, list[int]]:
    """{"fork": [...], "lock": [...]}: kept-set sizes under top-p at each T (Fig. 14 pruning)."""
    policy = evaluation_policy(model, temperatures, top_p)
    return {s: [int(n) for n in (policy[s] > 0).sum(axis=-1)] for s in ("fork", "lock")}


def top_p_gaps(top_ps=TOP_P_SWEEP) -> dict[float, float]:
    """top-p -> best student P minus best teacher P (each optimised over the T grid)."""
    return {p: best_temperature("student", p)[1] - best_temperature("teacher", p)[1] for p in top_ps}


def archetype_bars(top: int = 6) -> dict[str, dict]:
    """Fig. 12: per archetype the top-`top` probabilities (token order) and the entropy in bits."""
    return {name: {"probs": np.exp(logp[:top]), "entropy_bits": entropy(logp) / np.log(2)}
            for name, logp in teacher_states().items()}


def lock_reshaping() -> dict[str, np.ndarray]:
    """Fig. 13a: teacher vs student lock probabilities (length 16 each)."""
    return {"teacher": np.exp(teacher_states()["lock"]), "student": np.exp(student_states()["lock"])}


def conflict_panel(taus=(0.5, 1.5)) -> dict[float, dict[str, float]]:
    """Fig. 4 (schematic): per tau, lock top-1 mass, lock tail mass, fork top-5 mass, fork entropy in bits."""
    teacher = teacher_states()
    out = {}
    for tau in taus:
        lock, fork = np.exp(temper(teacher["lock"], tau)), temper(teacher["fork"], tau)
        out[tau] = {"lock_top1": float(lock.max()), "lock_tail": float(1 - lock.max()),
                    "fork_top5": float(np.sort(np.exp(fork))[::-1][:5].sum()),
                    "fork_entropy_bits": entropy(fork) / np.log(2)}
    return out


def _crossing(f, target: float, low: float = 1e-3, high: float = 1e3) -> float:
    """The tau where a monotone f(tau) crosses `target`, by bisection in log tau."""
    increasing = f(high) > f(low)
    for _ in range(200):
        mid = float(np.sqrt(low * high))
        low, high = (mid, high) if (f(mid) < target) == increasing else (low, mid)
    return low


def conflict_interval(lock_precision: float = 0.95, fork_entropy_bits: float = 2.5) -> dict[str, float]:
    """Prop. C on the toy (temperature-only decoding): the largest tau keeping the lock's top token at
    >= `lock_precision` and the smallest tau giving the fork >= `fork_entropy_bits`; conflict iff fork > lock."""
    teacher = teacher_states()
    tau_lock = _crossing(lambda tau: float(np.exp(temper(teacher["lock"], tau).max())), lock_precision)
    tau_fork = _crossing(lambda tau: entropy(temper(teacher["fork"], tau)) / np.log(2), fork_entropy_bits)
    return {"tau_lock_max": tau_lock, "tau_fork_min": tau_fork, "conflict": bool(tau_fork > tau_lock)}


def plateau_spike_example(vocab: int = 100, recipe: SSDRecipe = SSDRecipe(1.6, 20, 0.8)) -> dict[str, dict]:
    """Fig. 5 (schematic, parameters not given by the paper): a fork (.30,.20,.15,.10 + Zipf(1.1) tail of mass
    .25) and a lock (.97 + Zipf tail of mass .03) over `vocab` ranks, the tail continuing the rank index.
    Per context: the teacher and ideal-fit student probabilities (length `vocab`, rank order) and the kept-set
    size (theory.md section 9: fork keeps 10, head ratio 34.7 -> 9.2; lock keeps 1)."""
    def with_zipf_tail(head, tail_mass):
        zipf = np.arange(len(head) + 1, vocab + 1, dtype=float) ** -1.1
        return np.log(np.concatenate([head, tail_mass * zipf / zipf.sum()]))
    contexts = {"fork": with_zipf_tail([0.30, 0.20, 0.15, 0.10], 0.25), "lock": with_zipf_tail([0.97], 0.03)}
    return {name: {"teacher": np.exp(logp), "student": np.exp(ssd_target(logp, recipe)),
                   "kept": int(retained_support(logp, recipe).sum())} for name, logp in contexts.items()}


def effective_temperature_overlay(t_trains, t_evals, top_p_train: float = 1.0) -> dict[str, np.ndarray]:
    """Fig. 3 overlay: arrays [len(t_trains), len(t_evals)] of T_eff = T_train * T_eval and the toy student's P
    (ideal fit, training top-p `top_p_train`, evaluation top-p 0.8). With top_p_train = 1 P depends on T_eff
    only (Remark B.4 (28)); with truncation it does not (Prop. B.3)."""
    t_trains, t_evals = np.asarray(t_trains, float), np.asarray(t_evals, float)
    passes = np.empty((len(t_trains), len(t_evals)))
    for i, t_train in enumerate(t_trains):
        student = {n: ssd_target(lp, SSDRecipe(t_train, 0, top_p_train)) for n, lp in teacher_states().items()}
        policy = {n: decode_distribution(lp[None, :] / t_evals[:, None], top_p=EVAL_TOP_P) for n, lp in student.items()}
        passes[i] = success_probability(policy)
    return {"t_eff": t_trains[:, None] * t_evals[None, :], "pass": passes}


def wide_sweep(model: str, orders=ORDERS, top_ks=range(1, VOCAB + 1), top_ps=None, temperatures=None) -> dict:
    """Best decode-only policy over (order, k, top-p, T) for a model, via the normal form (Prop. B.5): every
    order yields p^(1/T) on a rank prefix whose length is set by the curve the P operator sees (raw or
    tempered, full or top-k). Returns {"pass", "order", "top_k", "top_p", "T"} of the best policy.
    Default grids: top-p 0.30..1.00 step .01, T 0.20..4.00 step .05 (theory.md section 9)."""
    top_ps = np.round(np.arange(0.30, 1.0001, 0.01), 10) if top_ps is None else np.asarray(top_ps, float)
    if temperatures is None:
        temperatures = np.round(np.arange(0.20, 4.0001, 0.05), 10)
    temperatures = np.asarray(temperatures, float)
    ranked_logp = {n: np.sort(lp)[::-1] for n, lp in states(model).items()}
    token_rank = {n: np.argsort(np.argsort(-lp, kind="stable"), kind="stable") for n, lp in states(model).items()}
    best = {"pass": -1.0}
    for order in orders:
        tempered_before_p = order.index("T") < order.index("P")
        truncated_before_p = order.index("K") < order.index("P")
        for k in top_ks:
            sizes = {n: _prefix_sizes(lp, temperatures, k, top_ps, tempered_before_p, truncated_before_p)
                     for n, lp in ranked_logp.items()}
            policy = {n: _prefix_policy(ranked_logp[n], token_rank[n], temperatures, sizes[n]) for n in ranked_logp}
            passes = success_probability(policy)  # [top_p, T]
            i, j = np.unravel_index(int(np.argmax(passes)), passes.shape)
            if passes[i, j] > best["pass"] + 1e-15:
                best = {"pass": float(passes[i, j]), "order": order, "top_k": int(k), "top_p": float(top_ps[i]),
                        "T": float(temperatures[j])}
    return best


def _prefix_sizes(ranked_logp, temperatures, k, top_ps, tempered, truncated) -> np.ndarray:
    """Kept prefix length [len(top_ps), len(temperatures)] when P sees the given curve, capped at k and at the
    nonzero tokens; P keeps rank i iff the mass strictly above it is < top-p (rank 1 always)."""
    finite = int(np.isfinite(ranked_logp).sum())
    k_eff = min(k, finite)
    scale = 1.0 / temperatures if tempered else np.ones_like(temperatures)
    curve = scale[:, None] * ranked_logp[None, :finite]
    if truncated:
        curve = curve[:, :k_eff]
    probs = np.exp(curve - curve.max(axis=1, keepdims=True))
    cumulative = np.cumsum(probs, axis=1) / probs.sum(axis=1, keepdims=True)
    mass_above = np.concatenate([np.zeros((len(temperatures), 1)), cumulative[:, :-1]], axis=1)
    sizes = (mass_above[None, :, :] < top_ps[:, None, None]).sum(axis=2)
    sizes = np.where(top_ps[:, None] >= 1.0, curve.shape[1], sizes)
    return np.minimum(np.maximum(sizes, 1), k_eff)


def _prefix_policy(ranked_logp, token_rank, temperatures, sizes) -> np.ndarray:
    """Probabilities [top_p, T, token] of p^(1/T) renormalised on the first `sizes` ranks."""
    logits = np.where(np.isfinite(ranked_logp), ranked_logp, -np.inf)[None, None, :] / temperatures[None, :, None]
    keep = np.arange(len(ranked_logp))[None, None, :] < sizes[:, :, None]
    masked = np.where(keep, logits, -np.inf)
    probs = np.exp(masked - masked.max(axis=2, keepdims=True))
    probs /= probs.sum(axis=2, keepdims=True)
    return probs[:, :, token_rank]


def toy_summary() -> dict:
    """Every toy number the paper reports, computed, keyed like `PAPER` (fractions) plus extras."""
    student = {n: np.exp(lp) for n, lp in student_states().items()}
    teacher_T, teacher_P = best_temperature("teacher")
    student_T, student_P = best_temperature("student")
    gaps = top_p_gaps()
    fork_order = np.argsort(-student["fork"], kind="stable")
    return {
        "teacher_best_pass": teacher_P, "teacher_best_T": teacher_T,
        "student_best_pass": student_P, "student_best_T": student_T,
        "teacher_switch_T": switch_temperature_teacher(), "student_switch_T": switch_temperature_student(),
        "student_lock_masses": tuple(float(x) for x in np.sort(student["lock"][student["lock"] > 0])[::-1]),
        "student_fork_size": int((student["fork"] > 0).sum()),
        "student_fork_tok1": float(student["fork"][1]), "student_fork_tok0": float(student["fork"][0]),
        "student_fork_ranking": [int(v) for v in fork_order[: int((student["fork"] > 0).sum())]],
        "student_root_size": int((student["root"] > 0).sum()), "student_root_fail": float(student["root"][2]),
        "teacher_fork_nucleus": tuple(float(x) for x in nucleus("teacher", "fork", teacher_T)),
        "student_fork_nucleus": tuple(float(x) for x in nucleus("student", "fork", FIG14_TEMPERATURES[2])),
        "fig14_teacher": tuple(float(x) for x in pass_curve("teacher", FIG14_TEMPERATURES)),
        "fig14_student": tuple(float(x) for x in pass_curve("student", FIG14_TEMPERATURES)),
        "fig14_kept_teacher": kept_counts("teacher"), "fig14_kept_student": kept_counts("student"),
        "gap_by_top_p": {str(p): g for p, g in gaps.items()},
        "gap_top_p_min": min(gaps.values()), "gap_top_p_max": max(gaps.values()),
    }
