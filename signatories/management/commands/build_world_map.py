"""Convert world-atlas's ``countries-110m.json`` (TopoJSON) into the map asset the
public pages draw: ``signatories/data/world-110m.json``.

Run once when the geometry changes, and commit the result; nothing is fetched when the
site runs. See README ("World map") for where the source file comes from.
"""

import json
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_countries import countries

ASSET = Path(__file__).resolve().parents[2] / "data" / "world-110m.json"
WIDTH = 1000  # the asset's viewBox width; coordinates are whole units of it
ANTARCTICA = "010"

# Equal Earth projection (Šavrič, Patterson & Jenny, 2018): equal-area, so a country's
# shaded area is not inflated by its latitude.
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
M = math.sqrt(3) / 2


def equal_earth(longitude: float, latitude: float) -> tuple[float, float]:
    lam, phi = math.radians(longitude), math.radians(latitude)
    theta = math.asin(M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return x, -y  # SVG's y grows downwards


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Each arc as (longitude, latitude) points: quantized positions are deltas from the
    previous point, scaled and translated by the topology's transform."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy, *_ in arc:
            if transform:
                x, y = x + dx, y + dy
                (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((dx, dy))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs) -> list[tuple[float, float]]:
    """A closed ring from arc indexes; ``~i`` (negative) is arc ``i`` reversed. Each arc
    after the first starts where the previous ended, so its first point is skipped."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def unwrap(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Longitudes made continuous along the ring: Fiji's and Chukotka's rings cross the
    antimeridian, going from 180 to -180 in one step."""
    unwrapped = points[:1]
    for lon, lat in points[1:]:
        previous = unwrapped[-1][0]
        lon += 360 * round((previous - lon) / 360)
        unwrapped.append((lon, lat))
    return unwrapped


def clip(points, *, keep, edge: float) -> list[tuple[float, float]]:
    """Sutherland–Hodgman: the part of a ring on the ``keep`` side of the meridian
    ``edge``, closed along it."""
    clipped = []
    for i, current in enumerate(points):
        previous = points[i - 1]
        if keep(current[0]) != keep(previous[0]):
            t = (edge - previous[0]) / (current[0] - previous[0])
            clipped.append((edge, previous[1] + t * (current[1] - previous[1])))
        if keep(current[0]):
            clipped.append(current)
    return clipped


def split_at_antimeridian(points) -> list[list[tuple[float, float]]]:
    """The ring, or its pieces on each side of the antimeridian, within ±180°."""
    points = unwrap(points)
    if all(-180 <= lon <= 180 for lon, _ in points):
        return [points]
    pieces = []
    for shift in (-360, 0, 360):
        piece = [(lon + shift, lat) for lon, lat in points]
        piece = clip(piece, keep=lambda lon: lon <= 180, edge=180)
        piece = clip(piece, keep=lambda lon: lon >= -180, edge=-180)
        if len(piece) >= 3:
            pieces.append(piece)
    return pieces


def polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def path_data(rings: list[list[tuple[float, float]]]) -> str:
    """SVG path data with whole-unit coordinates, relative moves after the first point,
    and points that round onto their predecessor dropped: small, and exact enough at any
    width a page draws it."""
    parts = []
    for points in rings:
        rounded = []
        for x, y in points:
            point = (round(x), round(y))
            if not rounded or point != rounded[-1]:
                rounded.append(point)
        if len(rounded) > 1 and rounded[0] == rounded[-1]:
            rounded.pop()
        if len(rounded) < 3:
            continue  # an island smaller than a unit: listed in the table, not drawn
        (x0, y0), *rest = rounded
        moves = []
        px, py = x0, y0
        for x, y in rest:
            moves.append(f"{x - px} {y - py}")
            px, py = x, y
        relative = " ".join(moves).replace(" -", "-")
        parts.append(f"M{x0} {y0}l{relative}z")
    return "".join(parts)


class Command(BaseCommand):
    help = (
        "Convert world-atlas's countries-110m.json (TopoJSON) into the static world map "
        "asset signatories/data/world-110m.json: Equal Earth projection, Antarctica "
        "dropped, countries keyed by ISO 3166-1 alpha-2 code."
    )

    def add_arguments(self, parser):
        parser.add_argument("topojson", type=Path, help="Path to countries-110m.json.")
        parser.add_argument("--output", type=Path, default=ASSET, help=f"Default: {ASSET}.")

    def handle(self, *args, topojson: Path, output: Path, **options):
        try:
            topology = json.loads(topojson.read_text())
            geometries = topology["objects"]["countries"]["geometries"]
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"Not a world-atlas countries file: {error}") from error
        arcs = decode_arcs(topology)
        shapes: list[tuple[str | None, str, list]] = []
        for geometry in geometries:
            numeric = geometry.get("id")
            if numeric == ANTARCTICA:
                continue
            code = countries.alpha2(int(numeric)) if numeric else None
            rings = [
                [equal_earth(lon, lat) for lon, lat in piece]
                for polygon in polygons(geometry)
                for indexes in polygon
                for piece in split_at_antimeridian(ring(indexes, arcs))
            ]
            name = geometry.get("properties", {}).get("name", "")
            shapes.append((code or None, name, rings))

        xs = [x for *_, rings in shapes for r in rings for x, _ in r]
        ys = [y for *_, rings in shapes for r in rings for _, y in r]
        scale = WIDTH / (max(xs) - min(xs))
        left, top = min(xs), min(ys)
        height = math.ceil((max(ys) - top) * scale)

        def fit(rings):
            return [[((x - left) * scale, (y - top) * scale) for x, y in r] for r in rings]

        mapped: dict[str, str] = {}
        unlinked: list[dict] = []
        for code, name, rings in shapes:
            d = path_data(fit(rings))
            if not d:
                continue
            if code:
                mapped[code] = mapped.get(code, "") + d
            else:
                # Places django-countries has no code for (Kosovo, Northern Cyprus,
                # Somaliland): drawn so the map has no holes, never linked or shaded.
                unlinked.append({"name": name, "d": d})
        asset = {
            "source": "world-atlas 2.0.2 countries-110m.json (Natural Earth, public domain)",
            "projection": "Equal Earth",
            "viewBox": f"0 0 {WIDTH} {height}",
            "countries": dict(sorted(mapped.items())),
            "unlinked": unlinked,
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(asset, separators=(",", ":")) + "\n")
        self.stdout.write(
            f"Wrote {output}: {len(mapped)} countries, {len(unlinked)} unlinked shapes, "
            f"{output.stat().st_size // 1024} KB."
        )
