"""The four policies of the positive control, each selected on validation and reported on evaluation.

(a) decode-only in vLLM order (temperature -> top-k -> top-p) over the T x top-k x top-p grid;
(b) decode-only over all six operator orders of theory.operators;
(c) the ideal SSD student: theory.ssd.ssd_target applied to the base's own row at every step, then the vLLM-order
    evaluation grid, swept over the recipe (T_train, top-k, top-p) x the evaluation grid;
(d) trained students (study.py) are evaluated with `select_decode(..., orders=("TKP",))` on their own rows.

Guarantees: selection maximises the mean exact pass@1 on the validation table (first maximum in grid order, so
ties resolve to the earliest setting); the evaluation table is read only at the selected setting, plus per-recipe
curves for the figure (each at its own validation-selected evaluation setting).
Does not: sample; the grids are finite (a grid optimum, not a continuous one).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from theory.operators import ORDERS
from theory.ssd import SSDRecipe, ssd_target
from ssd.studies.control.exact import PathTable, sweep


@dataclasses.dataclass(frozen=True)
class DecodeGrid:
    temperatures: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.6,
                                       1.8, 2.0, 2.5, 3.0, 4.0)
    top_ks: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 15, 20)
    top_ps: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


@dataclasses.dataclass(frozen=True)
class RecipeGrid:
    t_trains: tuple[float, ...] = (0.5, 0.7, 0.9, 1.0, 1.2, 1.5, 2.0, 3.0)
    top_ks: tuple[int, ...] = (0,)
    top_ps: tuple[float, ...] = (0.7, 0.8, 0.9, 0.95, 1.0)

    def recipes(self) -> list[SSDRecipe]:
        return [SSDRecipe(t, k, p) for t in self.t_trains for k in self.top_ks for p in self.top_ps]


def select_decode(val: PathTable, test: PathTable, grid: DecodeGrid, orders=("TKP",)) -> dict:
    """Best decode-only policy on `val` over `orders` x grid; its pass on `val` and per problem on `test`."""
    best = None
    for order in orders:
        means = sweep(val, order, grid.temperatures, grid.top_ks, grid.top_ps).mean(axis=-1)  # [k, p, T]
        i, j, t = np.unravel_index(int(np.argmax(means)), means.shape)
        if best is None or means[i, j, t] > best["val"] + 1e-12:
            best = {"order": order, "T": grid.temperatures[t], "top_k": grid.top_ks[i], "top_p": grid.top_ps[j],
                    "val": float(means[i, j, t])}
    per_problem = sweep(test, best["order"], [best["T"]], [best["top_k"]], [best["top_p"]])[0, 0, 0]
    return {**best, "eval": float(per_problem.mean()), "eval_per_problem": per_problem}


def select_decode_any_order(val: PathTable, test: PathTable, grid: DecodeGrid) -> dict:
    return select_decode(val, test, grid, orders=ORDERS)


def student_table(table: PathTable, recipe: SSDRecipe) -> PathTable:
    """The ideal-fit SSD student's rows (Eq. 7 at every step) on the same paths."""
    return table.with_rows(ssd_target(table.rows, recipe))


def recipe_dict(recipe: SSDRecipe) -> dict:
    return {"t_train": recipe.t_train, "top_k": recipe.top_k, "top_p": recipe.top_p}


def select_student(val: PathTable, test: PathTable, recipes, grid: DecodeGrid) -> dict:
    """(c): every recipe with its best evaluation setting on `val`; the best recipe overall on `val`.
    Returns {"best": {..., "recipe", "eval_per_problem"}, "per_recipe": [{recipe, val, eval, T, top_k, top_p}]}."""
    per_recipe = []
    for recipe in recipes:
        chosen = select_decode(student_table(val, recipe), student_table(test, recipe), grid)
        per_recipe.append({"recipe": recipe_dict(recipe), **chosen})
    best = max(per_recipe, key=lambda r: r["val"])  # first maximum in grid order
    return {"best": best, "per_recipe": [{k: v for k, v in r.items() if k != "eval_per_problem"}
                                         for r in per_recipe]}


def recipe_result(val: PathTable, test: PathTable, recipe: SSDRecipe, grid: DecodeGrid) -> dict:
    """(c) at one fixed recipe (a control), evaluation setting selected on `val`."""
    return {"recipe": recipe_dict(recipe),
            **select_decode(student_table(val, recipe), student_table(test, recipe), grid)}
