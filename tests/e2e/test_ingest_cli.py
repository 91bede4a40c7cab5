"""`hotline ingest` on hostile files: a clear error naming the file, the record and the
problem, the good records kept, and the exit codes of docs/cli.md (0 when something was
taken, 2 when nothing could be: not that format, or every record refused), never the
internal error. And `hotline inbox --party` for a party the node does not know."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import Run

HEADER = "uid,party,kind,lat,lon,time\n"
NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(uid: str, lat: str = "52.1") -> str:
    return f"{uid},RU,aircraft,{lat},24.0,{NOW}\n"


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def uids(lab: Run) -> list[str]:
    return sorted(t["uid"] for t in lab("tracks", "--json", ok=True).json())


def test_a_csv_field_over_128_kib_refuses_its_record_and_keeps_the_rest(
    lab: Run, tmp_path: Path
) -> None:
    huge = "x" * (128 * 1024 + 1)
    path = write(tmp_path, "big.csv", HEADER + row("ru-1") + row(huge) + row("ru-2"))
    done = lab("ingest", str(path), "--format", "csv")
    assert done.code == 0, done.err
    assert "ingested 2 tracks; 1 records refused" in done.out
    assert f"{path}: line 3: a field longer than 128 KiB characters" in done.out
    assert uids(lab) == ["ru-1", "ru-2"]


def test_bytes_that_are_not_utf8_refuse_their_record_only(lab: Run, tmp_path: Path) -> None:
    data = (HEADER + row("ru-1")).encode() + b"ru-\xff\xfe,RU,aircraft,52,24,2026-03-01T12:00:00Z\n"
    path = write(tmp_path, "latin.csv", data + row("ru-2").encode())
    done = lab("ingest", str(path), "--format", "csv", ok=True)
    assert "ingested 2 tracks; 1 records refused" in done.out
    assert "line 3: uid: holds bytes that are not UTF-8 text" in done.out


@pytest.mark.parametrize("fmt", ["aircraft-json", "opensky"])
def test_a_deeply_nested_json_file_is_refused_clearly(lab: Run, tmp_path: Path, fmt: str) -> None:
    depth = 100_000
    path = write(tmp_path, "deep.json", '{"now": 1, "aircraft": ' + "[" * depth + "]" * depth + "}")
    done = lab("ingest", str(path), "--format", fmt)
    assert done.code == 2, done.err
    assert f"error: {path}: nothing ingested: not a {fmt} file: JSON nested too deeply" in done.err
    assert "internal error" not in done.err


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("aircraft-json", "not a readsb aircraft.json: a list, not an object with 'now'"),
        ("opensky", "not an OpenSky /states/all answer: a list, not an object"),
    ],
)
def test_a_top_level_list_is_refused_clearly(
    lab: Run, tmp_path: Path, fmt: str, expected: str
) -> None:
    path = write(tmp_path, "list.json", json.dumps([{"hex": "48ae01", "lat": 52, "lon": 21}]))
    done = lab("ingest", str(path), "--format", fmt)
    assert done.code == 2, done.err
    assert f"error: {path}: nothing ingested: {expected}" in done.err


def test_a_file_whose_records_are_all_refused_exits_2_and_lists_them(
    lab: Run, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", HEADER + row("ru-1", "95") + row("ru-2", "nan"))
    done = lab("ingest", str(path), "--format", "csv")
    assert done.code == 2
    assert f"error: {path}: nothing ingested: line 2: lat: 95.0 is outside -90..90" in done.err
    assert "(2 problems)" in done.err
    assert f"{path}: line 3: lat: 'nan' is not a finite number" in done.err
    assert uids(lab) == []


def test_hostile_aircraft_json_values_refuse_their_records_only(lab: Run, tmp_path: Path) -> None:
    now = datetime.now(UTC).timestamp()
    aircraft = [
        {"hex": "48ae01", "lat": 52.0, "lon": 21.0},
        {"hex": "48ae02", "lat": "BIG_FLOAT", "lon": 21.0},
        {"hex": "48ae03", "lat": 52.0, "lon": 21.0, "seen_pos": float("nan")},  # unknown
        {"hex": "48ae04", "lat": 52.0, "lon": "BIG_INT"},
        {"hex": ["48ae05"], "lat": 52.0, "lon": 21.0},
        {"hex": "48ae06", "lat": True, "lon": 21.0},
        {"hex": "48ae07", "lat": -91, "lon": 21.0},
        {"hex": "48ae08", "lat": 52.0, "lon": 21.0, "gs": float("inf"), "seen": -1e300},
    ]
    text = json.dumps({"now": now, "aircraft": aircraft})
    text = text.replace('"BIG_FLOAT"', "1e999").replace('"BIG_INT"', "9" * 5000)
    path = write(tmp_path, "hostile.json", text)
    done = lab("ingest", str(path), "--format", "aircraft-json", ok=True)
    assert "ingested 2 tracks; 6 records refused" in done.out
    assert uids(lab) == ["icao:48ae01", "icao:48ae03"]
    for n in (1, 3, 4, 5, 6, 7):
        assert f"{path}: aircraft {n}: " in done.out


def test_a_cot_file_with_garbage_and_an_oversized_event(lab: Run, tmp_path: Path) -> None:
    def event(uid: str, detail: str = "") -> bytes:
        return (
            f'<event version="2.0" uid="{uid}" type="a-h-A-M-F" time="{NOW}">'
            f'<point lat="55.5" lon="19.25"/>{detail}</event>'
        ).encode()

    large = event("RU-LARGE", "<detail>" + "x" * 70_000 + "</detail>")
    data = event("RU-1") + b"<event" * 100_000 + large + b"\xff\x00" + event("RU-2") + b"<event"
    path = write(tmp_path, "feed.cot", data)
    done = lab("ingest", str(path), "--format", "cot", "--map", "h=RU", ok=True)
    assert "ingested 2 tracks; 2 records refused" in done.out
    assert f"{path}: 1 events larger than 64 KiB skipped" in done.out
    assert f"{path}: the last event is cut off" in done.out
    assert uids(lab) == ["RU-1", "RU-2"]


def test_inbox_of_an_unknown_party_is_an_error(lab: Run) -> None:
    done = lab("inbox", "--party", "XX")
    assert done.code == 3
    assert "error: unknown party 'XX'" in done.err
    assert lab("inbox", "--party", "RU", ok=True).code == 0
