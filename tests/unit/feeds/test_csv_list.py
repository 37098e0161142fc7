"""CSV indicator lists → STIX indicators."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nca_share.feeds.parsers.csv_list import CsvMapping, parse_csv_list

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "csv-ioc-lists"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
VOLEXITY = sorted((DATA / "volexity").glob("*.csv"))


def _volexity_mapping(path: Path) -> CsvMapping:
    header = path.read_text().splitlines()[0].split(",")
    return CsvMapping(value="value", type=header[1], comment=header[2])


def test_feodo_blocklist_yields_one_indicator_per_data_row() -> None:
    """Every non-comment data row of the abuse.ch list becomes an IPv4 indicator with its port."""
    path = DATA / "abusech-feodotracker" / "ipblocklist.csv"
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    expected = {row[1] for row in csv.reader(lines[1:])}
    mapping = CsvMapping(
        value="dst_ip", first_seen="first_seen_utc", comment="malware", port="dst_port"
    )
    result = parse_csv_list(path.read_bytes(), mapping, feed_key="feodo", default_time=NOW)
    assert result.problems == []
    assert {o["pattern"] for o in result.objects} == {
        f"[ipv4-addr:value = '{ip}']" for ip in expected
    }
    first = next(o for o in result.objects if "192.9.135.73" in o["pattern"])
    assert first["valid_from"] == "2023-05-23T17:51:44.000Z"
    assert first["x_nca_port"] == 1194


@pytest.mark.parametrize("path", VOLEXITY, ids=[p.name for p in VOLEXITY])
def test_volexity_lists_yield_every_value(path: Path) -> None:
    """Each value of every Volexity row (multi-value hash cells split) becomes an indicator."""
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    expected = sum(len([v for v in row[0].split(",") if v.strip()]) for row in rows if row)
    result = parse_csv_list(
        path.read_bytes(), _volexity_mapping(path), feed_key=path.name, default_time=NOW
    )
    assert result.problems == []
    assert len(result.objects) == expected
    assert len({o["id"] for o in result.objects}) == expected


def test_bom_quoting_comments_ip_port_and_bad_lines() -> None:
    """BOM, quoted delimiters, IP:port and bad lines: bad lines reported, the rest kept."""
    text = (
        "\ufeff# banner line\n"
        "#\n"
        "value;kind;note\n"
        '"10.1.2.3:8080";ip;"private; but listed"\n'
        "evil.example;hostname;ok\n"
        "not a value;hostname;bad\n"
        "\n"
        "2001:db8::5;ip;v6\n"
        "deadbeef;md5;too short\n"
    )
    mapping = CsvMapping(value="value", type="kind", comment="note", delimiter=";")
    result = parse_csv_list(text.encode(), mapping, feed_key="t", default_time=NOW)
    patterns = [o["pattern"] for o in result.objects]
    assert patterns == [
        "[ipv4-addr:value = '10.1.2.3']",
        "[domain-name:value = 'evil.example']",
        "[ipv6-addr:value = '2001:db8::5']",
    ]
    assert result.objects[0]["x_nca_port"] == 8080
    assert [p.location for p in result.problems] == ["line 6", "line 9"]


def test_header_inside_comment_banner_and_index_columns() -> None:
    """A header given as the last '#' line is used; numeric columns work without a header."""
    text = "# id,url,status\n1,http://bad.example/x,online\n"
    by_name = parse_csv_list(text, CsvMapping(value="url"), feed_key="u", default_time=NOW)
    assert [o["pattern"] for o in by_name.objects] == ["[url:value = 'http://bad.example/x']"]
    by_index = parse_csv_list(
        "1.2.3.4,x\n", CsvMapping(value=0, header=False), feed_key="i", default_time=NOW
    )
    assert [o["pattern"] for o in by_index.objects] == ["[ipv4-addr:value = '1.2.3.4']"]


def test_missing_column_is_reported_once() -> None:
    """A mapping naming a column that is not in the header reports it and yields nothing."""
    result = parse_csv_list("a,b\n1,2\n", CsvMapping(value="value"), feed_key="x", default_time=NOW)
    assert result.objects == []
    assert "not in the header" in result.problems[0].message


def test_same_row_gives_same_id() -> None:
    """Re-parsing the same list yields identical objects (re-collection changes nothing)."""
    text = "value\n8.8.4.5\n"
    one = parse_csv_list(text, CsvMapping(), feed_key="k", default_time=NOW)
    two = parse_csv_list(text, CsvMapping(), feed_key="k", default_time=NOW)
    assert one.objects == two.objects


def test_mapping_from_config_rejects_unknown_keys() -> None:
    """Unknown mapping keys are refused with their names."""
    with pytest.raises(ValueError, match="colour"):
        CsvMapping.from_config({"value": "v", "colour": "red"})
