"""Writes through the official Python PostgREST client on the ClientNote table the test script
adds to the Chinook copy: insert, bulk insert, upsert, update, delete, errors."""

import os
import sqlite3

import pytest
from postgrest import APIError, SyncPostgrestClient

URL = os.environ.get("ROWBASE_URL", "http://127.0.0.1:3000")
DB = os.environ["ROWBASE_DB"]


@pytest.fixture(scope="module")
def client():
    with SyncPostgrestClient(f"{URL}/rest/v1", schema="public") as c:
        yield c


def sql(query, *args):
    with sqlite3.connect(f"file:{DB}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(query, args)]


def test_insert_returns_the_row(client):
    r = client.from_("ClientNote").insert({"ArtistId": 1, "Slug": "py-one", "Body": "hi"}).execute()
    assert [{k: row[k] for k in ("Slug", "Body")} for row in r.data] == [{"Slug": "py-one", "Body": "hi"}]
    assert sql("SELECT Body FROM ClientNote WHERE Slug = 'py-one'") == [{"Body": "hi"}]


def test_bulk_insert(client):
    client.from_("ClientNote").insert(
        [{"ArtistId": 2, "Slug": "py-b1", "Body": "a"}, {"ArtistId": 2, "Slug": "py-b2", "Body": "b"}]
    ).execute()
    assert sql("SELECT Slug FROM ClientNote WHERE Slug LIKE 'py-b%' ORDER BY Slug") == [{"Slug": "py-b1"}, {"Slug": "py-b2"}]


def test_upsert_on_conflict(client):
    client.from_("ClientNote").insert({"ArtistId": 1, "Slug": "py-up", "Body": "before"}).execute()
    r = client.from_("ClientNote").upsert({"ArtistId": 1, "Slug": "py-up", "Body": "after"}, on_conflict="Slug").execute()
    assert r.data[0]["Body"] == "after"
    assert sql("SELECT Body FROM ClientNote WHERE Slug = 'py-up'") == [{"Body": "after"}]


def test_update_and_delete(client):
    client.from_("ClientNote").insert(
        [{"ArtistId": 3, "Slug": "py-upd1", "Body": "x"}, {"ArtistId": 3, "Slug": "py-upd2", "Body": "x"}]
    ).execute()
    r = client.from_("ClientNote").update({"Body": "patched"}).eq("Slug", "py-upd1").execute()
    assert [row["Body"] for row in r.data] == ["patched"]
    r = client.from_("ClientNote").delete().eq("Slug", "py-upd2").execute()
    assert [row["Slug"] for row in r.data] == ["py-upd2"]
    assert sql("SELECT Slug, Body FROM ClientNote WHERE Slug LIKE 'py-upd%'") == [{"Slug": "py-upd1", "Body": "patched"}]


def test_constraint_errors(client):
    with pytest.raises(APIError) as e:
        client.from_("ClientNote").insert({"ArtistId": 999999, "Slug": "py-fk"}).execute()
    assert e.value.code == "23503"
    client.from_("ClientNote").insert({"ArtistId": 1, "Slug": "py-dup"}).execute()
    with pytest.raises(APIError) as e:
        client.from_("ClientNote").insert({"ArtistId": 1, "Slug": "py-dup"}).execute()
    assert e.value.code == "23505"
    assert sql("SELECT count(*) AS n FROM ClientNote WHERE Slug = 'py-fk'") == [{"n": 0}]
