"""One PNG per target: ORM/raw ratios of wall time and client CPU per case."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from bench.report import measured_ratios


def draw(result: dict[str, Any], path: Path) -> bool:
    """Write the chart; False when the target has no measured case to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = measured_ratios(result)
    if not rows:
        return False
    several = len(result["ratios"]) > 1
    labels = [
        textwrap.fill(label, 34) + (f"\n{pair}" if several else "") for label, pair, *_ in rows
    ]
    wall = [r[2] for r in rows]
    cpu = [r[3] for r in rows]
    height = max(3.0, 0.5 * len(rows) + 1.4)
    figure, axes = plt.subplots(figsize=(10, height))
    positions = range(len(rows))
    axes.barh([p + 0.2 for p in positions], wall, height=0.4, label="wall time", color="#4878a8")
    axes.barh([p - 0.2 for p in positions], cpu, height=0.4, label="client CPU", color="#e0883a")
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.axvline(1.3, color="#b22222", linewidth=0.8, linestyle="--", label="1.3x goal")
    axes.set_yticks(list(positions))
    axes.set_yticklabels(labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("ORM / raw driver (log scale; lower is better)")
    axes.set_title(f"{result['title']} ({result['sizes']['mode']} sizes)")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
