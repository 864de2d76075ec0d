"""One look for every regenerated figure and table: colours, fonts, footers, and the writers.

Guarantees:
- `new_figure` applies the shared matplotlib style (Agg backend, no GPU, no display) before any drawing.
- `save_figure` writes `<name>.pdf` and `<name>.png` into the output folder, with the source footer printed
  under the axes, atomically (a failed draw never leaves a half-written file under the final name).
- `write_table` writes `<name>.md` and `<name>.tex` from one list of rows, so both formats agree.
- Colours: the frozen base model is amber, the SSD student blue, this package's own runs black markers,
  everywhere.

Does not: decide what a figure shows or where its numbers come from (each script does that).
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BASE = "#D98E04"
SSD = "#1F5FA8"
OURS = "#111111"
EXTRA = ("#2A9D63", "#8C8C8C", "#B4435C")
GRID_CMAP = "viridis"

RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "savefig.dpi": 150,
    "pdf.fonttype": 42,
}


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure and its axes with the shared style applied."""
    plt.rcParams.update(RC)
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    write(tmp)
    os.replace(tmp, path)


def save_figure(fig, out: Path, name: str, footer: str) -> list[Path]:
    """Print `footer` (where the numbers come from) under the figure and save PDF and PNG."""
    out.mkdir(parents=True, exist_ok=True)
    fig.text(0.01, 0.005, footer, ha="left", va="bottom", fontsize=7.5, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, 0.06 if "\n" not in footer else 0.09, 1, 1))
    paths = []
    for ext in ("pdf", "png"):
        path = out / f"{name}.{ext}"
        _atomic(path, lambda p: fig.savefig(p, format=ext))
        paths.append(path)
    plt.close(fig)
    return paths


def heatmap(ax, grid, x_values, y_values, *, xlabel: str, ylabel: str, title: str, fmt_cell: str = "{:.1f}",
            vmin=None, vmax=None, mark=None):
    """A labelled heatmap with every cell's value printed (rows = y_values); `mark` = (row, col) to outline."""
    grid = np.asarray(grid, dtype=float)
    image = ax.imshow(grid, cmap=GRID_CMAP, aspect="auto", origin="lower", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(x_values)), [f"{x:.1f}" for x in x_values])
    ax.set_yticks(range(len(y_values)), [f"{y:.1f}" for y in y_values])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(False)
    middle = (np.nanmin(grid) + np.nanmax(grid)) / 2 if vmin is None else (vmin + vmax) / 2
    size = 7 if grid.shape[1] <= 10 else 6
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, "–" if np.isnan(v) else fmt_cell.format(v), ha="center", va="center", fontsize=size,
                color="white" if v < middle else "black")
    if mark is not None:
        ax.add_patch(plt.Rectangle((mark[1] - 0.5, mark[0] - 0.5), 1, 1, fill=False, lw=2, ec="red"))
    return image


def fmt(value, digits: int = 1, signed: bool = False) -> str:
    """A table cell: numbers with fixed decimals (a real minus sign), text unchanged, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if round(value, digits) == 0:
        value = 0.0
    text = f"{value:+.{digits}f}" if signed and value != 0 else f"{value:.{digits}f}"
    return text.replace("-", "−")


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("−", "$-$"), ("—", "--"), ("Δ", r"$\Delta$"), ("✓", r"\checkmark"), ("✗", r"$\times$")):
        text = text.replace(a, b)
    return text


def write_table(out: Path, name: str, title: str, header: list[str], rows: list[list[str]],
                notes: list[str]) -> list[Path]:
    """Write the same table as markdown and as a LaTeX tabular; `notes` become footnotes of both."""
    out.mkdir(parents=True, exist_ok=True)
    md = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += [""] + [f"- {n}" for n in notes]
    cols = "l" + "r" * (len(header) - 1)
    tex = [f"% {title}", r"\begin{tabular}{" + cols + "}", r"\toprule",
           " & ".join(_tex_escape(h) for h in header) + r" \\", r"\midrule"]
    tex += [" & ".join(_tex_escape(c) for c in r) + r" \\" for r in rows]
    tex += [r"\bottomrule", r"\end{tabular}"] + [f"% {n}" for n in notes]
    paths = []
    for ext, lines in (("md", md), ("tex", tex)):
        path = out / f"{name}.{ext}"
        _atomic(path, lambda p, text="\n".join(lines) + "\n": p.write_text(text, encoding="utf-8"))
        paths.append(path)
    return paths
