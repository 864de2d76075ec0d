"""Table 6: the toy FSM's state archetypes (head probabilities of lock, fork and root states).

Built from the transcribed Table 6 (`data/table6.yaml`).
Does not: reconstruct the geometric tails (the toy figures 12-14 take those from theory/toy.py).
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper

TITLE = "Table 6: toy FSM state archetypes (16-token vocabulary)"


def build(ctx: Context) -> Built:
    t6 = paper("table6")
    rows = [[s["state"], "[" + ", ".join(f"{p:.3f}" for p in s["head"]) + ", …]", s["character"]]
            for s in t6["states"]]
    notes = [f"Source: paper {t6['source']} (transcribed, {t6['_path']}).",
             "The remaining tokens follow a geometric tail that sums to the residual mass."]
    return Built(style.write_table(ctx.out, "table6", TITLE, ["State", "Head probabilities", "Character"], rows,
                                   notes), [f"paper Table 6 ({t6['_path']})"])
