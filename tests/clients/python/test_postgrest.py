"""The official Python PostgREST client (PyPI `postgrest`, as supabase-py uses it) against a
running Rowbase. ROWBASE_URL is the server, ROWBASE_DB the SQLite file it serves; expected answers
come from Python's sqlite3 module on that file."""

import os
import sqlite3

import pytest
from postgrest import APIError, SyncPostgrestClient

URL = os.environ.get("ROWBASE_URL", "http://127.0.0.1:3000")
DB = os.environ["ROWBASE_DB"]


@pytest.fixture(scope="module")
def client():
    # supabase-py's base path and default schema.
    with SyncPostgrestClient(f"{URL}/rest/v1", schema="public") as c:
        yield c


def sql(query, *args):
    with sqlite3.connect(f"file:{DB}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(query, args)]


def test_select_filters_and_order(client):
    r = (
        client.from_("Track")
        .select("TrackId", "Name", "Milliseconds")
        .gte("Milliseconds", 300000)
        .lt("AlbumId", 12)
        .order("Name", desc=True)
        .order("TrackId")
        .execute()
    )
    assert r.data == sql(
        "SELECT TrackId, Name, Milliseconds FROM Track WHERE Milliseconds >= 300000 AND AlbumId < 12 ORDER BY Name DESC, TrackId"
    )


def test_in_or_like_is_and_not(client):
    assert client.from_("Artist").select("ArtistId").in_("ArtistId", [2, 4, 6]).order("ArtistId").execute().data == [
        {"ArtistId": 2},
        {"ArtistId": 4},
        {"ArtistId": 6},
    ]
    r = client.from_("Artist").select("ArtistId").or_("ArtistId.eq.1,ArtistId.eq.7").order("ArtistId").execute()
    assert r.data == [{"ArtistId": 1}, {"ArtistId": 7}]
    r = client.from_("Artist").select("ArtistId").like("Name", "*Orchestra*").order("ArtistId").execute()
    assert r.data == sql("SELECT ArtistId FROM Artist WHERE instr(Name, 'Orchestra') > 0 ORDER BY ArtistId")
    r = client.from_("Track").select("TrackId").is_("Composer", "null").lte("TrackId", 300).order("TrackId").execute()
    assert r.data == sql("SELECT TrackId FROM Track WHERE Composer IS NULL AND TrackId <= 300 ORDER BY TrackId")
    r = client.from_("Track").select("TrackId").not_.is_("Composer", "null").eq("AlbumId", 5).order("TrackId").execute()
    assert r.data == sql("SELECT TrackId FROM Track WHERE Composer IS NOT NULL AND AlbumId = 5 ORDER BY TrackId")


def test_range_and_count(client):
    r = client.from_("Artist").select("ArtistId", count="exact").order("ArtistId").range(20, 29).execute()
    assert r.data == sql("SELECT ArtistId FROM Artist ORDER BY ArtistId LIMIT 10 OFFSET 20")
    assert r.count == sql("SELECT count(*) AS n FROM Artist")[0]["n"]


def test_single_and_maybe_single(client):
    r = client.from_("Artist").select("*").eq("ArtistId", 1).single().execute()
    assert r.data == sql("SELECT * FROM Artist WHERE ArtistId = 1")[0]
    with pytest.raises(APIError) as e:
        client.from_("Artist").select("*").eq("ArtistId", 0).single().execute()
    assert e.value.code == "PGRST116"
    assert client.from_("Artist").select("*").eq("ArtistId", 0).maybe_single().execute() is None
    r = client.from_("Artist").select("Name").eq("ArtistId", 3).maybe_single().execute()
    assert r.data == sql("SELECT Name FROM Artist WHERE ArtistId = 3")[0]


def test_head_with_count(client):
    r = client.from_("Track").select("*", count="exact", head=True).eq("GenreId", 1).execute()
    assert r.count == sql("SELECT count(*) AS n FROM Track WHERE GenreId = 1")[0]["n"]
    assert r.data == []


def test_embedding(client):
    r = (
        client.from_("Album")
        .select("Title", "Artist(Name)", "Track(Name)")
        .in_("AlbumId", [1, 2])
        .order("AlbumId")
        .order("TrackId", foreign_table="Track")
        .limit(3, foreign_table="Track")
        .execute()
    )
    expected = [
        {
            "Title": a["Title"],
            "Artist": sql("SELECT Name FROM Artist WHERE ArtistId = ?", a["ArtistId"])[0],
            "Track": sql("SELECT Name FROM Track WHERE AlbumId = ? ORDER BY TrackId LIMIT 3", a["AlbumId"]),
        }
        for a in sql("SELECT AlbumId, Title, ArtistId FROM Album WHERE AlbumId IN (1, 2) ORDER BY AlbumId")
    ]
    assert r.data == expected


def test_errors_are_api_errors(client):
    with pytest.raises(APIError) as e:
        client.from_("Albums").select("*").execute()
    assert e.value.code == "PGRST205"
    with pytest.raises(APIError) as e:
        client.from_("Album").select("Title", "Nope(*)").execute()
    assert e.value.code == "PGRST200"
