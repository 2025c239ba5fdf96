"""The stack the tutorials teach, written as a careful user would: FastAPI, SQLAlchemy 2 ORM
models with relationships, Pydantic response models, one session per request, relations loaded
eagerly (selectinload: no N+1), served by uvicorn over the same SQLite file as Rowbase.

    BENCH_DATABASE=bench.sqlite uvicorn fastapi_app:app --workers 2

Sync endpoints (FastAPI runs them in its thread pool): with SQLite they beat the async driver.
Each route answers one benchmark question with the same data as Rowbase's (relations under
their Python names, `artist` and `tracks`).
"""

import os
from typing import Optional

from fastapi import Depends, FastAPI, HTTPException, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, Integer, String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload, sessionmaker

engine = create_engine(
    f"sqlite:///{os.environ['BENCH_DATABASE']}",
    connect_args={"check_same_thread": False, "timeout": 5},
    pool_size=8,
    max_overflow=8,
)


@event.listens_for(engine, "connect")
def _pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Artist(Base):
    __tablename__ = "Artist"
    ArtistId: Mapped[int] = mapped_column(primary_key=True)
    Name: Mapped[Optional[str]] = mapped_column(String(120))


class Album(Base):
    __tablename__ = "Album"
    AlbumId: Mapped[int] = mapped_column(primary_key=True)
    Title: Mapped[str] = mapped_column(String(160))
    ArtistId: Mapped[int] = mapped_column(ForeignKey("Artist.ArtistId"))
    artist: Mapped[Artist] = relationship()
    tracks: Mapped[list["Track"]] = relationship(order_by="Track.TrackId")


class Track(Base):
    __tablename__ = "Track"
    TrackId: Mapped[int] = mapped_column(primary_key=True)
    Name: Mapped[str] = mapped_column(String(200))
    AlbumId: Mapped[Optional[int]] = mapped_column(ForeignKey("Album.AlbumId"))
    MediaTypeId: Mapped[int] = mapped_column(Integer)
    GenreId: Mapped[Optional[int]] = mapped_column(Integer)
    Composer: Mapped[Optional[str]] = mapped_column(String(220))
    Milliseconds: Mapped[int] = mapped_column(Integer)
    Bytes: Mapped[Optional[int]] = mapped_column(Integer)
    UnitPrice: Mapped[float] = mapped_column()


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String)
    n: Mapped[int] = mapped_column(Integer, default=0)


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(String)


class TrackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    TrackId: int
    Name: str
    AlbumId: Optional[int]
    MediaTypeId: int
    GenreId: Optional[int]
    Composer: Optional[str]
    Milliseconds: int
    Bytes: Optional[int]
    UnitPrice: float


class TrackBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    TrackId: int
    Name: str
    Milliseconds: int


class TrackName(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    TrackId: int
    Name: str


class ArtistName(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    Name: Optional[str]


class AlbumOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    AlbumId: int
    Title: str
    artist: ArtistName
    tracks: list[TrackName]


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    payload: str


class NoteIn(BaseModel):
    body: str


class NotePatch(BaseModel):
    n: int


def session():
    with SessionLocal() as s:
        yield s


app = FastAPI()


@app.get("/tracks/{track_id}", response_model=list[TrackOut])
def track(track_id: int, db: Session = Depends(session)):
    row = db.get(Track, track_id)
    return [row] if row else []


@app.get("/tracks", response_model=list[TrackBrief])
def tracks(genre_id: int, db: Session = Depends(session)):
    query = select(Track).where(Track.GenreId == genre_id).order_by(Track.Milliseconds.desc()).limit(20)
    return db.scalars(query).all()


@app.get("/albums", response_model=list[AlbumOut])
def albums(start: int, db: Session = Depends(session)):
    query = (
        select(Album)
        .where(Album.AlbumId >= start)
        .order_by(Album.AlbumId)
        .limit(20)
        .options(selectinload(Album.artist), selectinload(Album.tracks))
    )
    return db.scalars(query).all()


@app.get("/items", response_model=list[ItemOut])
def items(offset: int = 0, after: Optional[int] = None, db: Session = Depends(session)):
    query = select(Item).order_by(Item.id).limit(20)
    query = query.where(Item.id > after) if after is not None else query.offset(offset)
    return db.scalars(query).all()


@app.post("/notes", status_code=201)
def create_note(note: NoteIn, db: Session = Depends(session)):
    db.add(Note(body=note.body))
    db.commit()
    return Response(status_code=201)


@app.patch("/notes/{note_id}", status_code=204)
def update_note(note_id: int, patch: NotePatch, db: Session = Depends(session)):
    note = db.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404)
    note.n = patch.n
    db.commit()
    return Response(status_code=204)
