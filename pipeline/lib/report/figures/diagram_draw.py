"""Drawing a diagram (`diagram_model.Diagram`) in one language: each layout places boxes, arrows and labels on a
canvas measured in inches (y downwards, the report's text width), then matplotlib draws them.

Readable in greyscale by construction: headings are white on the darkest shade, boxes dark text on light shades,
emphasis a middle shade with a heavier edge; arrows are black. Text is wrapped to its box by the width of its
characters (CJK full width, Latin proportional)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.lib.report import style
from pipeline.lib.report.figures.diagram_model import Diagram, Group, Node, Point

WIDTH = style.FIGSIZE[0]  # inches: the charts' width, stretched to the text width like them
FONT, HEAD_FONT, DETAIL_FONT = 7.6, 8.2, 6.9  # pt
LINE = 1.28  # line height / font size
BOLD_WIDER = 1.06  # bold text is this much wider than regular
PAD = 0.06  # inches inside a box
GAP = 0.09  # inches between boxes
INK, NAVY, MUTED = "#1A1A1A", "#00338D", "#4D4D4D"
FILLS = {  # kind → (face, edge, text colour, bold)
    "head": (NAVY, NAVY, "white", True),
    "node": ("#EDF1F8", "#8FA3C8", INK, False),
    "accent": ("#C5D3EA", NAVY, INK, True),
    "band": ("white", NAVY, NAVY, True),
}
BoxKind = Literal["head", "node", "accent", "band"]


# --- text -----------------------------------------------------------------------------------------------------


def _char_em(ch: str) -> float:
    """Width of a character in ems (an estimate good enough to wrap: CJK full width, Latin proportional)."""
    if ord(ch) >= 0x2E80 or ch in "（）：；，。、“”":
        return 1.0
    if ch == " ":
        return 0.28
    if ch.isupper() or ch.isdigit() or ch in "%&@—–→":
        return 0.66
    return 0.53


def text_width(text: str, size: float) -> float:
    """Inches `text` takes at `size` pt."""
    return sum(_char_em(ch) for ch in text) * size / 72


TOKENS = re.compile(r"[A-Za-z0-9(][A-Za-z0-9.,'’%/+\-–:;)]*|\s+|.")
NO_LINE_START = set("，。、：；！？）”’》」:;,.)%")  # punctuation that never opens a line
NO_LINE_END = set("“‘（《「(")  # punctuation that never ends one


def wrap(text: str, width: float, size: float) -> list[str]:
    """`text` broken into lines of at most `width` inches at `size` pt, as evenly as the same number of lines
    allows (no lone character on a last line): between Latin words and between CJK characters, never inside a
    word; a word longer than the line stands alone."""
    lines = _greedy(text, width, size)
    if len(lines) < 2:
        return lines
    lo, hi = width / 2, width  # the narrowest width that still needs no more lines
    for _ in range(10):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if len(_greedy(text, mid, size)) <= len(lines) else (mid, hi)
    return _greedy(text, hi, size)


def _greedy(text: str, width: float, size: float) -> list[str]:
    """`text` broken greedily: as much on each line as fits."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in TOKENS.findall(paragraph):
            fits = text_width(line + token, size) <= width or token in NO_LINE_START
            if line and not token.isspace() and not fits:
                carried = ""
                while line and line[-1] in NO_LINE_END:  # an opening quote or bracket goes with what follows
                    carried, line = line[-1] + carried, line[:-1]
                lines.append(line.rstrip())
                line = carried
            if not (token.isspace() and not line):
                line += token
        lines.append(line.rstrip())
    return lines


def _line_h(size: float) -> float:
    return size * LINE / 72


# --- primitives -----------------------------------------------------------------------------------------------


@dataclass
class Box:
    """A rounded box with a label (and a smaller detail line), laid out at (x, y) from the top left."""

    x: float
    y: float
    w: float
    h: float
    label: list[str]
    detail: list[str] = field(default_factory=list)
    kind: BoxKind = "node"
    size: float = FONT
    bold_first: bool = False  # a timeline callout: its first line (the year) in bold


@dataclass
class Arrow:
    """An arrow from (x1, y1) to (x2, y2), or a plain connector."""

    x1: float
    y1: float
    x2: float
    y2: float
    head: bool = True
    dashed: bool = False


@dataclass
class Shape:
    """A filled polygon or a polyline (a timeline's wave, a phase's span, a group's backdrop)."""

    xs: list[float]
    ys: list[float]
    face: str | None = None
    edge: str = "none"
    width: float = 0.8
    dashed: bool = False


@dataclass
class Label:
    """Loose text."""

    x: float
    y: float
    text: str
    size: float = FONT
    ha: str = "center"
    va: str = "center"
    bold: bool = False
    color: str = INK
    rotation: float = 0


@dataclass
class Sheet:
    """Everything a layout placed, and the height it took."""

    height: float = 0.0
    shapes: list[Shape] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    arrows: list[Arrow] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


def node_box(node: Node | Group | Point, lang: str, w: float, kind: BoxKind = "node", size: float = FONT) -> Box:
    """A box of width `w` for a node (label and detail), a group heading (title and subtitle) or a point, as tall as
    its wrapped text."""
    label = node.title(lang) if isinstance(node, Group) else node.label(lang)
    extra = node.subtitle if isinstance(node, Group) else node.detail
    if isinstance(node, Node) and node.emphasis and kind == "node":
        kind = "accent"
    bold = FILLS[kind][3] or size > FONT
    lines = wrap(label, (w - 2 * PAD - 0.04) / (BOLD_WIDER if bold else 1), size)
    detail = wrap(extra(lang), w - 2 * PAD - 0.04, DETAIL_FONT) if extra else []
    h = 2 * PAD + len(lines) * _line_h(size) + len(detail) * _line_h(DETAIL_FONT) + (0.03 if detail else 0)
    return Box(0, 0, w, h, lines, detail, kind, size)


def _at(box: Box, x: float, y: float, h: float | None = None) -> Box:
    box.x, box.y = x, y
    if h is not None:
        box.h = max(box.h, h)
    return box


def _band(sheet: Sheet, node: Node, lang: str, y: float) -> float:
    """A band across the width at `y`; returns its height."""
    box = _at(node_box(node, lang, WIDTH, "band", HEAD_FONT - 0.2), 0, y)
    sheet.boxes.append(box)
    return box.h


def _backdrop(sheet: Sheet, x: float, y: float, w: float, h: float) -> None:
    sheet.shapes.append(Shape([x, x + w, x + w, x], [y, y, y + h, y + h], face="#F6F8FB", edge="#C9D2E3"))


# --- layouts --------------------------------------------------------------------------------------------------


def _column(group: Group, lang: str, x: float, y: float, w: float) -> tuple[Box, list[Box]]:
    head = _at(node_box(group, lang, w, "head", HEAD_FONT), x, y)
    inner = w - 2 * GAP * 0.7
    return head, [node_box(n, lang, inner) for n in group.nodes]


def columns(d: Diagram, lang: str) -> Sheet:
    """Columns side by side (a chain when `flow`: arrows from each to the next), each a heading over its boxes,
    with optional bands across the top and bottom."""
    sheet, y = Sheet(), 0.0
    if d.top:
        y += _band(sheet, d.top, lang, y) + (0.22 if d.flow else 0.12)
    n = len(d.groups)
    gap = 0.3 if d.flow else 0.12
    w = (WIDTH - (n - 1) * gap) / n
    built = [_column(g, lang, i * (w + gap), y, w) for i, g in enumerate(d.groups)]
    head_h = max(head.h for head, _ in built)
    bodies = [sum(b.h for b in boxes) + GAP * (len(boxes) + 1) for _, boxes in built]
    body_h = max(bodies)
    for (head, boxes), used in zip(built, bodies, strict=True):
        head.h = head_h
        _backdrop(sheet, head.x, y, w, head_h + body_h)
        sheet.boxes.append(head)
        stretch = (body_h - used) / len(boxes) if boxes else 0
        by = y + head_h + GAP
        for box in boxes:
            sheet.boxes.append(_at(box, head.x + GAP * 0.7, by, box.h + stretch))
            by += box.h + GAP
    if d.flow:
        for i in range(n - 1):
            x1 = (i + 1) * w + i * gap
            sheet.arrows.append(Arrow(x1 + 0.04, y + head_h / 2, x1 + gap - 0.04, y + head_h / 2))
    y += head_h + body_h
    if d.bottom:
        y += 0.24
        for i in range(n):
            cx = i * (w + gap) + w / 2
            sheet.arrows.append(Arrow(cx, y - 0.22, cx, y - 0.02))
        y += _band(sheet, d.bottom, lang, y)
    sheet.height = y
    return sheet


def layers(d: Diagram, lang: str) -> Sheet:
    """Layers stacked top to bottom, each its name on the left and its boxes in a row (when `flow`: arrows from
    each layer up to the one above, which it supports), an optional band down the right side of all layers and
    bands across the top and bottom."""
    sheet, y = Sheet(), 0.0
    if d.top:
        y += _band(sheet, d.top, lang, y) + 0.12
    name_w, side_w = 1.2, 1.25 if d.side else 0.0
    left = name_w + GAP
    right = WIDTH - (side_w + GAP if d.side else 0)
    step = 0.26 if d.flow else 0.1
    first = y
    centres = []
    for i, group in enumerate(d.groups):
        k = max(len(group.nodes), 1)
        w = (right - left - GAP * (k + 1)) / k
        boxes = [node_box(n, lang, w) for n in group.nodes]
        name = node_box(group, lang, name_w, "head", HEAD_FONT)
        h = max([name.h, *(b.h + 2 * GAP for b in boxes)])
        _backdrop(sheet, left, y, right - left, h)
        sheet.boxes.append(_at(name, 0, y, h))
        for j, box in enumerate(boxes):
            sheet.boxes.append(_at(box, left + GAP + j * (w + GAP), y + GAP, h - 2 * GAP))
            box.h = h - 2 * GAP
        centres.append((y, y + h))
        y += h + (step if i < len(d.groups) - 1 else 0)
    if d.flow:
        cx = (left + right) / 2
        for (top, _), (_, bottom) in zip(centres[1:], centres[:-1], strict=True):
            sheet.arrows.append(Arrow(cx, top - 0.02, cx, bottom + 0.02))
    if d.side:
        side = node_box(d.side, lang, side_w, "band", FONT)
        sheet.boxes.append(_at(side, right + GAP, first, y - first))
        side.h = y - first
    if d.bottom:
        y += 0.12 + _band(sheet, d.bottom, lang, y + 0.12)
    sheet.height = y
    return sheet


def _panel(sheet: Sheet, group: Group, lang: str, x: float, y: float, w: float, row: bool) -> tuple[float, float]:
    """A hub panel at (x, y): its heading over its boxes, stacked (`row` False) or side by side; returns its size."""
    head = _at(node_box(group, lang, w, "head", HEAD_FONT), x, y)
    k = max(len(group.nodes), 1)
    inner = (w - GAP * (k + 1)) / k if row else w - 2 * GAP
    boxes = [node_box(n, lang, inner) for n in group.nodes]
    by = y + head.h + GAP
    if row:
        h = max((b.h for b in boxes), default=0)
        for j, box in enumerate(boxes):
            sheet.boxes.append(_at(box, x + GAP + j * (inner + GAP), by, h))
        height = head.h + h + 2 * GAP
    else:
        for box in boxes:
            sheet.boxes.append(_at(box, x + GAP, by))
            by += box.h + GAP
        height = by - y
    sheet.shapes.append(Shape([x, x + w, x + w, x], [y, y, y + height, y + height], face="#F6F8FB", edge="#C9D2E3"))
    sheet.boxes.append(head)
    return w, height


def hub(d: Diagram, lang: str) -> Sheet:
    """A centre with panels around it (left, right, top, bottom), each joined to the centre by an arrow pointing
    at it, and optional bands across the top and bottom."""
    sheet, y = Sheet(), 0.0
    if d.top:
        y += _band(sheet, d.top, lang, y) + 0.12
    by_place = {p: [g for g in d.groups if g.position == p] for p in ("left", "right", "top", "bottom")}
    side_w, gap = 2.0, 0.42
    centre_w = WIDTH - 2 * (side_w + gap)
    above: list[float] = []  # the bottom edge of each top panel, joined to the centre
    for group in by_place["top"]:
        _, h = _panel(sheet, group, lang, 0, y, WIDTH, row=True)
        above.append(y + h)
        y += h + gap * 0.7
    middle = y
    sizes = {}
    for place, x in (("left", 0.0), ("right", WIDTH - side_w)):
        for group in by_place[place]:
            sizes[place] = _panel(sheet, group, lang, x, middle, side_w, row=False)
    mid_h = max([h for _, h in sizes.values()] or [0])
    centre = node_box(d.centre, lang, centre_w, "accent", HEAD_FONT + 0.6) if d.centre else None
    if centre is not None:
        ch = max(centre.h, 0.7)
        mid_h = max(mid_h, ch)
        sheet.boxes.append(_at(centre, side_w + gap, middle + (mid_h - ch) / 2, ch))
        cy = middle + mid_h / 2
        if "left" in sizes:
            sheet.arrows.append(Arrow(side_w + 0.03, middle + sizes["left"][1] / 2, side_w + gap - 0.03, cy))
        if "right" in sizes:
            x = WIDTH - side_w
            sheet.arrows.append(Arrow(x - 0.03, middle + sizes["right"][1] / 2, x - gap + 0.03, cy))
        for bottom in above:
            sheet.arrows.append(Arrow(WIDTH / 2, bottom + 0.03, WIDTH / 2, centre.y - 0.03))
    y = middle + mid_h
    for group in by_place["bottom"]:
        y += gap * 0.7
        _, h = _panel(sheet, group, lang, 0, y, WIDTH, row=True)
        if centre is not None:
            sheet.arrows.append(Arrow(WIDTH / 2, y - 0.03, WIDTH / 2, centre.y + centre.h + 0.03))
        y += h
    if d.bottom:
        y += 0.12 + _band(sheet, d.bottom, lang, y + 0.12)
    sheet.height = y
    return sheet


def quadrant(d: Diagram, lang: str) -> Sheet:
    """Two dimensions as axes from a common origin, boxes at their qualitative places joined in order by dashed
    arrows, and the target they lead to, emphasised."""
    assert d.axes is not None
    sheet = Sheet(height=4.3)
    x0, y0, x1, y1 = 0.35, 4.05, WIDTH - 0.1, 0.12  # origin and the far ends of the axes
    sheet.arrows += [Arrow(x0, y0, x1, y0), Arrow(x0, y0, x0, y1)]
    sheet.labels.append(Label(x1, y0 + 0.08, d.axes.x(lang), HEAD_FONT, ha="right", va="top", bold=True))
    sheet.labels.append(Label(x0 + 0.1, y1, d.axes.y(lang), HEAD_FONT, ha="left", va="top", bold=True))
    w = 1.25
    placed = []
    for i, point in enumerate([*d.points, *([d.target] if d.target else [])]):
        kind: BoxKind = "accent" if d.target and i == len(d.points) else "node"
        box = node_box(point, lang, w + (0.25 if kind == "accent" else 0), kind)
        cx = x0 + 0.15 + point.x * (x1 - x0 - 0.3 - box.w) + box.w / 2
        cy = y0 - 0.12 - point.y * (y0 - y1 - 0.24 - box.h) - box.h / 2
        sheet.boxes.append(_at(box, cx - box.w / 2, cy - box.h / 2))
        placed.append(box)
    for a, b in zip(placed, placed[1:], strict=False):
        (ax_, ay), (bx, by) = (a.x + a.w / 2, a.y + a.h / 2), (b.x + b.w / 2, b.y + b.h / 2)
        start, end = _edge(a, bx, by), _edge(b, ax_, ay)
        sheet.arrows.append(Arrow(*start, *end, dashed=True))
    return sheet


def _edge(box: Box, x: float, y: float) -> tuple[float, float]:
    """Where the line from the box's centre towards (x, y) leaves the box (a little outside it)."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    dx, dy = x - cx, y - cy
    t = min(box.w / 2 / abs(dx) if dx else math.inf, box.h / 2 / abs(dy) if dy else math.inf)
    gap = 0.04 / math.hypot(dx, dy) if (dx or dy) else 0
    return cx + dx * (t + gap), cy + dy * (t + gap)


LEVELS = {"low": 0.12, "mid": 0.45, "high": 0.75, "top": 1.0}


def timeline(d: Diagram, lang: str) -> Sheet:
    """Dated events on a wave (their heights qualitative levels), each with a callout above giving its year and
    what happened (callouts in as many rows as keep them and their leader lines apart), over named phases shaded
    along the time axis."""
    sheet = Sheet()
    first = min([e.year for e in d.events] + [p.start for p in d.phases])
    last = max([e.until or e.year for e in d.events] + [p.end or p.start for p in d.phases])
    xl, xr = 0.05, WIDTH - 0.05
    lo, hi = first - (last - first) * 0.04, last + (last - first) * 0.04
    open_from = [p.start for p in d.phases if p.end is None]
    if open_from:  # an open phase gets room for its name
        k = OPEN_PHASE_W / (xr - xl)
        hi = max(hi, (min(open_from) - lo * k) / (1 - k))

    def x_of(year: float) -> float:
        return xl + (year - lo) / (hi - lo) * (xr - xl)

    boxes = []
    for e in d.events:
        year = str(e.year) if e.until is None else f"{e.year}–{e.until}"
        box = node_box(Node(label=e.label), lang, CALLOUT_W, size=FONT - 0.4)
        box.label.insert(0, year)
        box.h += _line_h(FONT - 0.4)
        box.bold_first = True
        boxes.append((x_of((e.year + (e.until or e.year)) / 2), box))
    places = _callout_places([(mid, box.w) for mid, box in boxes])
    rows = [row for row, _ in places]
    for (_, box), (_, left) in zip(boxes, places, strict=True):
        box.x = left
    row_h = max(box.h for _, box in boxes) + 0.1
    wave_top = (max(rows) + 1) * row_h + 0.2
    base = wave_top + 1.15
    points = []
    for e, (mid, box), row in zip(d.events, boxes, rows, strict=True):
        box.y = row * row_h
        box.h = row_h - 0.1
        sheet.boxes.append(box)
        py = base - LEVELS[e.level] * (base - wave_top)
        points += [(x_of(yr), py) for yr in ([e.year] if e.until is None else [e.year, e.until])]
        sheet.shapes.append(Shape([mid] * 2, [box.y + box.h, py], edge=MUTED, width=0.6, dashed=True))
        sheet.labels.append(Label(mid, py, "●", 7, color=NAVY))
    xs, ys = _smooth([(xl, base - 0.02), *points, (xr, points[-1][1])])
    sheet.shapes.insert(0, Shape([*xs, xr, xl], [*ys, base, base], face="#DDE5F2", edge="none"))
    sheet.shapes.insert(1, Shape(xs, ys, edge=NAVY, width=1.6))
    sheet.arrows.append(Arrow(xl, base, xr, base))
    y = base + 0.08
    for i, p in enumerate(d.phases):
        a, b = x_of(p.start), x_of(p.end + 1) if p.end is not None else xr
        face = ("#C5D3EA", "#EDF1F8")[i % 2]
        sheet.shapes.append(Shape([a, b, b, a], [y, y, y + 0.36, y + 0.36], face=face, edge="white", width=1.2))
        lines = wrap(p.label(lang), b - a - 0.08, FONT)
        sheet.labels.append(Label((a + b) / 2, y + 0.18, "\n".join(lines), FONT, bold=True))
    sheet.height = y + 0.36
    return sheet


CALLOUT_W = 1.05  # inches
OPEN_PHASE_W = 0.95  # inches: the least width of an open-ended phase


def _callout_places(spans: Sequence[tuple[float, float]], most: int = 4) -> list[tuple[int, float]]:
    """A row (0 at the top) and a left edge for each callout (leader x, width), in order: the first row, and in it
    the place nearest to centred on its leader (the box always covers it), where the box overlaps no callout
    already in that row, its leader line crosses no callout in a lower row and no leader line of a higher row
    crosses it; failing that, the place with the fewest such clashes."""
    placed: list[tuple[int, float, float, float]] = []  # row, leader x, left, right

    def clashes(row: int, x: float, left: float, right: float) -> int:
        return sum(
            (r == row and left < r_right + 0.04 and r_left < right + 0.04)
            or (r > row and r_left - 0.02 <= x <= r_right + 0.02)
            or (r < row and left - 0.02 <= rx <= right + 0.02)
            for r, rx, r_left, r_right in placed
        )

    out = []
    for x, w in spans:
        centred = x - w / 2
        shifts = sorted((k * 0.05 for k in range(-int(w / 0.1), int(w / 0.1) + 1)), key=abs)
        lefts = [min(max(centred + d, 0), WIDTH - w) for d in shifts]
        lefts = [left for left in lefts if left + 0.05 <= x <= left + w - 0.05] or [min(max(centred, 0), WIDTH - w)]
        best = min(
            ((clashes(r, x, left, left + w), r, i, left) for r in range(most) for i, left in enumerate(lefts)),
            key=lambda c: c[:3],
        )
        placed.append((best[1], x, best[3], best[3] + w))
        out.append((best[1], best[3]))
    return out


def _smooth(points: Sequence[tuple[float, float]], steps: int = 24) -> tuple[list[float], list[float]]:
    """A wave through `points`: a cosine ease between each pair (flat at every point, so peaks stay peaks)."""
    xs, ys = [points[0][0]], [points[0][1]]
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        for k in range(1, steps + 1):
            t = k / steps
            xs.append(xa + (xb - xa) * t)
            ys.append(ya + (yb - ya) * (1 - math.cos(math.pi * t)) / 2)
    return xs, ys


LAYOUTS: dict[str, Callable[[Diagram, str], Sheet]] = {
    "timeline": timeline,
    "columns": columns,
    "layers": layers,
    "hub": hub,
    "quadrant": quadrant,
}


# --- drawing --------------------------------------------------------------------------------------------------


def figure(d: Diagram, lang: str) -> Any:
    """The matplotlib figure of the diagram in `lang` (saved by the caller)."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon

    plt = style.setup()
    sheet = LAYOUTS[d.layout](d, lang)
    height = sheet.height + 0.04
    fig = plt.figure(figsize=(WIDTH, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.02, WIDTH + 0.02)
    ax.set_ylim(height - 0.02, -0.02)
    ax.set_axis_off()
    for s in sheet.shapes:
        if s.face is not None:
            ax.add_patch(Polygon(list(zip(s.xs, s.ys, strict=True)), closed=True, facecolor=s.face, edgecolor=s.edge))
        else:
            ax.plot(s.xs, s.ys, color=s.edge, linewidth=s.width, linestyle=(0, (2, 2)) if s.dashed else "-")
    patches = []
    for b in sheet.boxes:
        face, edge, color, bold = FILLS[b.kind]
        patch = FancyBboxPatch(
            (b.x, b.y),
            b.w,
            b.h,
            boxstyle="round,pad=0,rounding_size=0.04",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.1 if b.kind in ("band", "accent") else 0.7,
        )
        ax.add_patch(patch)
        patches.append(patch)
        _box_text(ax, b, color, bold)
    for a in sheet.arrows:
        ax.add_patch(
            FancyArrowPatch(
                (a.x1, a.y1),
                (a.x2, a.y2),
                arrowstyle="-|>" if a.head else "-",
                mutation_scale=9,
                color=INK,
                linewidth=0.9,
                linestyle=(0, (3, 2)) if a.dashed else "-",
                shrinkA=0,
                shrinkB=0,
            )
        )
    for lb in sheet.labels:
        ax.text(
            lb.x,
            lb.y,
            lb.text,
            fontsize=lb.size,
            ha=lb.ha,
            va=lb.va,
            color=lb.color,
            weight="bold" if lb.bold else "normal",
            rotation=lb.rotation,
            linespacing=LINE,
        )
    return fig


def _box_text(ax: Any, b: Box, color: str, bold: bool) -> None:
    """The label lines (the first bold in a timeline callout), then the detail lines, centred in the box."""
    lines = [(t, b.size) for t in b.label] + [(t, DETAIL_FONT) for t in b.detail]
    total = sum(_line_h(s) for _, s in lines) + (0.03 if b.detail else 0)
    y = b.y + (b.h - total) / 2
    for i, (text, size) in enumerate(lines):
        if i == len(b.label) and b.detail:
            y += 0.03
        detail = i >= len(b.label)
        ax.text(
            b.x + b.w / 2,
            y + _line_h(size) / 2,
            text,
            fontsize=size,
            ha="center",
            va="center",
            color=MUTED if detail and b.kind != "head" else color,
            weight="bold" if (bold or (b.bold_first and i == 0)) and not detail else "normal",
        )
        y += _line_h(size)
