"""The event-study figure: the event-time profile's posterior against event time
(``EventStudyResult.plot``)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from bayescred.analysis.event_study import EventStudyResult
from bayescred.plots import style

#: Total horizontal spread of the scope labels' points at one event time.
DODGE_WIDTH = 0.5
#: Opacity of the shaded pre-event periods.
PRE_PERIOD_ALPHA = 0.08


def event_study_axes(result: EventStudyResult, *, ax: Axes | None = None) -> Axes:
    """Posterior means with HDI error bars against event time; returns the Axes.

    One series of points per scope label (``gid="estimate:<label>"``, ``"estimate:all"`` for
    one profile; one colour each, dodged sideways) at every event time but the reference, which
    is a hollow marker at 0 (``gid="reference"``); a line at zero effect, a dashed line at
    ``-0.5`` between the pre- and post-event periods (``gid="event"``) and the pre-event periods
    shaded (``gid="pre-period"``). The binned endpoints' ticks read ``≤-L`` and ``≥K-1``. For
    log-scale outcomes the effects are percentage changes.

    ``ax``: a matplotlib Axes to draw on (None makes a new figure).
    """
    value, low, high = (
        ("percent", "percent_hdi_low", "percent_hdi_high")
        if result.log_scale
        else ("mean", "hdi_low", "hdi_high")
    )
    labels: list[str | None] = [*result.scope_labels] or [None]
    n = len(labels)
    step = min(DODGE_WIDTH / n, 0.2) if n > 1 else 0.0
    window = result.window
    with style.style_context():
        _, (axes,), own = style.target_axes(ax, 1, (style.FIGURE_WIDTH, 4.2))
        axes.axvspan(
            -window.n_leads - 0.5,
            -0.5,
            color=style.NEUTRAL_COLOUR,
            alpha=PRE_PERIOD_ALPHA,
            linewidth=0,
            zorder=0,
            gid="pre-period",
        )
        style.zero_line(axes)
        axes.axvline(
            -0.5, color=style.NEUTRAL_COLOUR, linestyle="--", linewidth=1.0, zorder=1, gid="event"
        )
        pct = round(result.hdi_prob * 100)
        for i, label in enumerate(labels):
            rows = result.rows(label)
            rows = rows[rows["period"] != "reference"]
            x = rows["event_time"].to_numpy(float) + (i - (n - 1) / 2) * step
            y = rows[value].to_numpy(float)
            err = np.vstack([y - rows[low].to_numpy(float), rows[high].to_numpy(float) - y])
            container = axes.errorbar(
                x,
                y,
                yerr=err,
                fmt="o",
                color=style.group_colour(i),
                capsize=2.5,
                elinewidth=1.4,
                markersize=5,
                zorder=3,
                label=f"{result.scope} {label}" if label is not None else f"mean, {pct}% HDI",
            )
            container.lines[0].set_gid(f"estimate:{label if label is not None else 'all'}")
        axes.plot(
            [-1.0],
            [0.0],
            marker="o",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor="#4D4D4D",
            markeredgewidth=1.2,
            linestyle="none",
            zorder=4,
            gid="reference",
            label="reference period (0 by definition)",
        )
        times = window.event_times
        table = result.table
        tick_labels = table.drop_duplicates("event_time").set_index("event_time")["label"]
        axes.set_xticks(times.astype(float), [str(tick_labels[t]) for t in times])
        axes.set_xlim(-window.n_leads - 0.5, window.n_lags - 0.5)
        axes.grid(axis="x", visible=False)
        axes.set_xlabel("periods since the credential was first held (event time; ≤/≥: binned)")
        unit = "% change in " if result.log_scale else "effect on "
        axes.set_ylabel(f"{unit}{result.outcome}\n(point: mean, bar: {pct}% HDI)")
        axes.legend(loc="best")
        if own:
            axes.set_title("Event study: the effect by period since the credential")
    return axes
