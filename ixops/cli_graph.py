"""`ixops graph SCOPE NAME`: a port's, an access unit's, a trunk's or a room's traffic over
1 h / 24 h / 7 d / 30 d as a PNG or SVG (matplotlib) for reports and e-mail."""

from __future__ import annotations

from pathlib import Path

import click

from collectors.graphs import COUNTS, OPTICS, TRAFFIC, Graph, GraphError, Scope, Span, traffic_graph
from inventory.timeutil import format_local, to_local
from ixops.cli_users import acting_option, resolve_actor, user_errors
from ixops.cliapp import App, pass_app

_LABELS = {
    "in_bps": "in / 入",
    "out_bps": "out / 出",
    "in_errors_per_s": "errors / 错包",
    "in_discards_per_s": "discards / 丢弃",
    "rx_dbm": "Rx",
    "tx_dbm": "Tx",
}
# Chinese text in the figure: the machine's own CJK fonts first, DejaVu for the rest.
_FONTS = ["Noto Sans CJK SC", "Noto Sans Mono CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]


def render(graph: Graph, path: Path) -> None:
    """Draw the graph into PNG or SVG (by the file's suffix): traffic, errors and discards, and
    the light, one panel each, times in Beijing time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = _FONTS
    plt.rcParams["svg.fonttype"] = "none"  # text stays text in an SVG
    optics = [s for s in graph.series if s.name.split(" ")[0] in OPTICS and s.points]
    panels = 3 if optics else 2
    figure, axes = plt.subplots(panels, 1, figsize=(10, 2.4 * panels + 0.8), sharex=True)
    zone = to_local(graph.end).tzinfo

    def plot(ax: object, names: tuple[str, ...] | list[str], scale: float = 1.0) -> None:
        for series in graph.series:
            if series.name.split(" ")[0] not in names or not series.points:
                continue
            label = _LABELS.get(series.name, series.name)
            if " " in series.name:
                metric, port = series.name.split(" ", 1)
                label = f"{_LABELS.get(metric, metric)} {port}"
            ax.plot(  # type: ignore[attr-defined]
                [p.at for p in series.points],
                [p.value / scale for p in series.points],
                label=label,
                linewidth=1.2,
            )
        ax.legend(loc="upper left", fontsize=8)  # type: ignore[attr-defined]
        ax.grid(True, alpha=0.3)  # type: ignore[attr-defined]

    plot(axes[0], TRAFFIC, 1e6)
    axes[0].set_ylabel("Mbit/s")
    plot(axes[1], COUNTS)
    axes[1].set_ylabel("/s")
    if optics:
        plot(axes[2], OPTICS)
        axes[2].set_ylabel("dBm")
    formatter = mdates.DateFormatter("%m-%d %H:%M", tz=zone)  # type: ignore[no-untyped-call]
    axes[-1].xaxis.set_major_formatter(formatter)
    axes[-1].set_xlim(graph.start, graph.end)
    figure.suptitle(
        f"{graph.title} · {graph.span.value} · {format_local(graph.start)} – "
        f"{format_local(graph.end)} (北京时间)",
        fontsize=10,
    )
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, format=path.suffix.lstrip(".").lower())
    plt.close(figure)


@click.command("graph")
@click.argument("scope", type=click.Choice([s.value for s in Scope]))
@click.argument("name", nargs=-1, required=True)
@click.option(
    "--span",
    type=click.Choice([s.value for s in Span]),
    default=Span.DAY.value,
    show_default=True,
    help="How far back: 1h from raw samples, 24h/7d from hourly roll-ups, 30d from daily.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write: .png or .svg.",
)
@acting_option
@pass_app
def graph_command(
    app: App, scope: str, name: tuple[str, ...], span: str, out: Path, as_user: str | None
) -> None:
    """Draw traffic (bits in/out), errors, discards and optical Rx/Tx of a port
    (`graph port DEVICE PORT`), an access unit (`graph unit CODE`), a trunk (`graph trunk
    CIRCUIT-ID`) or a room (`graph room SITE/ROOM`)."""
    if out.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter(f"{out}: write a .png or an .svg file", param_hint="--out")
    with user_errors(app), app.session() as session:
        user = resolve_actor(session, as_user)
        try:
            graph = traffic_graph(
                session=session,
                user=user,
                scope=Scope(scope),
                name=" ".join(name),
                span=Span(span),
                now=app.now(),
            )
        except GraphError as exc:
            raise click.UsageError(str(exc)) from None
    render(graph, out)
    points = sum(len(s.points) for s in graph.series)
    note = "" if points else " (no samples or roll-ups in that time: the graph is empty)"
    app.out.print(
        f"Wrote {out}: {graph.title}, {graph.span.value} from {graph.source}, "
        f"{points} points{note}.",
        markup=False,
    )
