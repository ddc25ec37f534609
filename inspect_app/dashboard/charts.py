"""Charts as SVG documents of their own, drawn by pygal (never by hand).

A page's CSP blocks the styles pygal writes into its SVG, so each chart is served from its own
URL as image/svg+xml and shown with <img> next to a table of the same figures (its text
alternative); that one response carries a narrow CSP of its own (routes.py). pygal's config
script and its tooltips are interactive extras an <img> never runs: an XML filter removes them,
and js=[] keeps pygal from linking its script from a CDN. Text stays text, so Chinese labels are
selectable and print sharply; inside an <img> the SVG can use only the viewer's system fonts,
hence the list of CJK fonts.
"""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from threading import Lock

import pygal
from pygal.style import Style

# pygal appends a finder for its map plugins (which we do not use) to sys.meta_path; it has only
# the legacy find_module, so Python warns (ImportWarning) at every import that fails anywhere in
# the process, and the test suite, which turns warnings into errors, fails. Take it out.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

# Bump when the drawing changes, so browsers do not keep an old picture of the same data.
DRAWING_VERSION = "1"
FONTS = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d1d1f",
    foreground_strong="#1d1d1f",
    foreground_subtle="#5f6368",
    opacity="1",
    opacity_hover="1",
    transition="none",
    colors=("#b3261e", "#1a4f9c", "#1e7a34", "#9a6700", "#5f6368", "#8c1d18"),
    font_family=FONTS,
    title_font_size=20,
    label_font_size=15,
    major_label_font_size=15,
    value_font_size=15,
    legend_font_size=15,
    no_data_font_size=20,
    value_colors=("#ffffff",) * 6,  # on the bars
)
WIDTH = 720
BASE_MARGIN = 20  # pygal's default margin


@dataclass
class Chart:
    """What a chart shows: labels along one axis and one or more series of numbers."""

    title: str
    labels: list[str]
    series: list[tuple[str, list[int]]]
    horizontal: bool = False
    no_data: str = ""
    colors: list[str] = field(default_factory=list)  # one per label, for a single series

    def digest(self) -> str:
        """A version of the data and the drawing: the chart's ETag."""
        text = json.dumps([DRAWING_VERSION, asdict(self)], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _strip_interactive(root):
    """pygal's xml_filters hook: drop its <script> (a config blob), its tooltip group and its
    comments (a link to its site and the render date, which would change every drawing)."""
    for node in list(root.iter()):
        parent = node.getparent()
        if parent is None:
            continue
        is_comment = not isinstance(node.tag, str)
        if is_comment or node.tag.rsplit("}", 1)[-1] == "script" or node.get("class") == "tooltip":
            parent.remove(node)
    return root


def _wide(text: str) -> int:
    """Characters drawn a full em wide (CJK and full-width forms)."""
    return sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))


def _margin_left(chart: Chart) -> int:
    """pygal makes room for labels at 0.6 em a character; CJK characters take a whole em, so a
    horizontal chart's labels get the difference as extra margin (else they are cut off)."""
    if not chart.horizontal or not chart.labels:
        return BASE_MARGIN
    size = STYLE.label_font_size
    return BASE_MARGIN + int(max(_wide(label) for label in chart.labels) * 0.42 * size) + 1


def _height(chart: Chart) -> int:
    if chart.horizontal:
        return 120 + 48 * max(len(chart.labels), 1) * max(len(chart.series), 1)
    return 400


def draw(chart: Chart) -> bytes:
    """The chart as an SVG document (UTF-8 bytes)."""
    kind = pygal.HorizontalBar if chart.horizontal else pygal.Bar
    config = {
        "js": [],  # never a script from the network
        "style": STYLE,
        "width": WIDTH,
        "height": _height(chart),
        "explicit_size": True,  # width and height attributes: the <img> has a natural size
        "title": chart.title,
        "margin_left": _margin_left(chart),
        "print_values": True,
        "show_legend": len(chart.series) > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": max(len(chart.series), 1),
        "show_y_guides": not chart.horizontal,
        "show_x_guides": chart.horizontal,
        "min_scale": 1,
        "max_scale": 6,
        "truncate_label": -1,
        "truncate_legend": -1,
        "no_data_text": chart.no_data,
        "tooltip_fancy_mode": False,
        "value_formatter": lambda v: f"{v:g}" if v is not None else "",
        "disable_xml_declaration": False,
        "pretty_print": False,
    }
    labels, series, colors = chart.labels, chart.series, chart.colors
    if chart.horizontal:  # pygal draws the first label at the bottom; read top-down instead
        labels, colors = labels[::-1], colors[::-1]
        series = [(name, values[::-1]) for name, values in series]
    config["x_labels"] = labels
    drawing = kind(**config)
    drawing.add_xml_filter(_strip_interactive)
    for name, values in series:
        if colors and len(series) == 1:
            values = [{"value": v, "color": c} for v, c in zip(values, colors, strict=False)]
        drawing.add(name, values)
    return drawing.render()


class _Cache:
    """The last few drawings by data digest: pygal takes tens of milliseconds a chart, and the
    same figures are asked for by every page load until the data changes."""

    def __init__(self, size: int = 64):
        self.size, self.items, self.lock = size, OrderedDict(), Lock()

    def get(self, chart: Chart, digest: str) -> bytes:
        with self.lock:
            if digest in self.items:
                self.items.move_to_end(digest)
                return self.items[digest]
        svg = draw(chart)
        with self.lock:
            self.items[digest] = svg
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return svg


cache = _Cache()
