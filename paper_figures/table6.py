"""Table 6: the toy FSM's state archetypes (head probabilities of lock, fork and root states).

Built from the transcribed Table 6 (`data/table6.yaml`); when `theory.toy` is available, two columns are
added from it: the reconstructed tail ratio and the exact entropy of the full 16-token distribution.
Does not: reconstruct the tails itself (theory/toy.py does).
"""
from __future__ import annotations

from paper_figures import style
from paper_figures.sources import Built, Context, paper, theory

TITLE = "Table 6: toy FSM state archetypes (16-token vocabulary)"


def build(ctx: Context) -> Built:
    t6 = paper("table6")
    toy = theory("toy", optional=True)
    header = ["State", "Head probabilities", "Character"]
    rows = [[s["state"], "[" + ", ".join(f"{p:.3f}" for p in s["head"]) + ", …]", s["character"]]
            for s in t6["states"]]
    notes = [f"Source: paper {t6['source']} (transcribed, {t6['_path']}).",
             "The remaining tokens follow a geometric tail that sums to the residual mass."]
    sources = [f"paper Table 6 ({t6['_path']})"]
    if toy is not None:
        header += ["Tail ratio (reconstructed)", "Entropy (bits)"]
        bars = toy.archetype_bars()
        for row, state in zip(rows, t6["states"]):
            name = state["state"].split()[0].lower()
            row += [f"{toy.TAIL_RATIOS[name]:g}", f"{bars[name]['entropy_bits']:.2f}"]
        notes.append("Tail ratio and entropy computed by theory.toy (reconstruction, not printed in Table 6).")
        sources.append("theory.toy")
    return Built(style.write_table(ctx.out, "table6", TITLE, header, rows, notes), sources)
