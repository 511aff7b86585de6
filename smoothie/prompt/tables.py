"""Loaders for the built-in knowledge tables (``smoothie/prompt/data``) and optional external ones.

* ``names.jsonl`` — well-known artists, studios, characters, people, brands and artworks with generic
  replacements that keep what matters for the image.
* ``first_names.json`` — given names by gender, so "Sarah laughing" becomes "a woman laughing".
* ``general_tags.txt`` — danbooru general/quality tags that are never names.
* ``tag_phrases.json`` — natural-language renderings of common tags.
* danbooru's tag database (``tags/danbooru.csv`` of the a1111-sd-webui-tagcomplete extension), when that
  extension is installed next to us or a file is given (``rewrite --tag-database FILE``): which tags are
  general (kept verbatim) and which are artists, copyrights and characters (names).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")
LABELS = ("person", "artist", "character", "brand", "artwork", "studio", "setting", "place", "copyright", "item")


@dataclass(frozen=True)
class NameEntry:
    """One known name and how to describe it without naming it."""

    name: str
    label: str
    generic: str
    modifier: str = ""
    variants: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = "table"
    modifier_variants: tuple[str, ...] = ()
    lowercase: bool = False  # multi-word forms are names in any case ("greg rutkowski" in a tag prompt)
    tags: tuple[str, ...] = ()  # the same as danbooru general tags: a character's look, an artist's style
    # a site's kind of work, noun phrases: "trending on ArtStation" reads as acclaim for it ("trending concept art")
    showcases: tuple[str, ...] = ()
    # the name is also an ordinary noun ("Donkey" of Shrek, "Stitch"): it names the character only written
    # like a name, in a name's position (never "a donkey", "donkey, farm", "Donkey grazing" opening a prompt)
    word: bool = False
    # an artist's own look, noun phrases with their article, for where the artist is the picture's subject
    # ("Frida Kahlo painting a self-portrait"): the first is the canonical one, the rest its variants
    looks: tuple[str, ...] = ()

    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class NameTable:
    """Lower-cased surface forms (name and aliases) to entries, looked up by word n-grams."""

    entries: dict[str, NameEntry] = field(default_factory=dict)
    max_words: int = 1
    _partials: dict[str, NameEntry | None] | None = field(default=None, repr=False)

    def add(self, entry: NameEntry, *, override: bool = False) -> None:
        self._partials = None
        for form in entry.forms():
            key = normalise_form(form)
            if not key:
                continue
            # "K-On!", "Gochuumon wa Usagi Desu ka?": prompts drop the final punctuation as often as not
            for k in {key, key.rstrip("!?.")} if len(key.rstrip("!?.")) > 2 else {key}:
                if override or k not in self.entries:
                    self.entries[k] = entry
                    self.max_words = max(self.max_words, len(k.split()))

    def get(self, form: str) -> NameEntry | None:
        return self.entries.get(normalise_form(form))

    def partial(self, word: str) -> NameEntry | None:
        """The person or character whose multi-word name holds ``word`` ("Peach" of "Princess Peach"), when
        exactly one does; for choices next to a known name (``{Zelda|Peach}``), where a word is a name."""
        if self._partials is None:
            index: dict[str, NameEntry | None] = {}
            for key, entry in self.entries.items():
                if entry.label not in ("person", "character") or " " not in key:
                    continue
                for w in key.split():
                    if len(w) > 2:
                        index[w] = entry if index.get(w, entry) is entry else None
            self._partials = index
        return self._partials.get(normalise_form(word))

    def __len__(self) -> int:
        return len(self.entries)


def normalise_form(form: str) -> str:
    """Lower case, underscores and runs of spaces to one space, curly apostrophes straightened."""
    return " ".join(form.replace("_", " ").replace("’", "'").lower().split())


def _read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not a JSON object: {exc}") from exc


def entry_from_dict(obj: Mapping, source: str = "table") -> NameEntry:
    name = str(obj.get("name", "")).strip()
    label = str(obj.get("label", "")).strip()
    if not name:
        raise ValueError(f"name entry without a name: {obj!r}")
    if label not in LABELS:
        raise ValueError(f"name entry {name!r}: label {label!r} is not one of {', '.join(LABELS)}")
    generic = str(obj.get("generic", "")).strip()
    return NameEntry(
        name=name,
        label=label,
        generic=generic,
        modifier=str(obj.get("modifier", "") or "").strip(),
        variants=tuple(str(v).strip() for v in obj.get("variants", ()) if str(v).strip()),
        aliases=tuple(str(a).strip() for a in obj.get("aliases", ()) if str(a).strip()),
        source=source,
        modifier_variants=tuple(str(v).strip() for v in obj.get("modifier_variants", ()) if str(v).strip()),
        lowercase=obj.get("lowercase") is True,
        tags=tuple(str(t).strip() for t in obj.get("tags", ()) if str(t).strip()),
        showcases=tuple(str(t).strip() for t in obj.get("showcases", ()) if str(t).strip()),
        word=obj.get("word") is True,
        looks=tuple(str(t).strip() for t in obj.get("looks", ()) if str(t).strip()),
    )


@lru_cache(maxsize=1)
def builtin_names() -> NameTable:
    table = NameTable()
    path = DATA_DIR / "names.jsonl"
    if path.exists():
        for obj in _read_jsonl(path):
            table.add(entry_from_dict(obj))
    else:  # a broken install, not a user error: say so once
        log.warning("built-in name table %s is missing: only NER, rules and user lists find names", path)
    return table


@lru_cache(maxsize=1)
def first_names() -> dict[str, frozenset[str]]:
    path = DATA_DIR / "first_names.json"
    if not path.exists():
        return {"female": frozenset(), "male": frozenset(), "neutral": frozenset()}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: frozenset(n.lower() for n in data.get(k, ())) for k in ("female", "male", "neutral")}


@lru_cache(maxsize=4)
def word_names(gender: str | None = None) -> frozenset[str]:
    """Given names that are also ordinary words (Hope, Rose, Amber, Jordan): names only in a name's position
    ("my daughter Hope", "a girl named Rose"), never as words ("a rose garden"). ``gender``: female, male,
    neutral, or None for all."""
    path = DATA_DIR / "word_names.json"
    if not path.exists():
        return frozenset()
    data = json.loads(path.read_text(encoding="utf-8"))
    kinds = (gender,) if gender else ("female", "male", "neutral")
    return frozenset(n.lower() for k in kinds for n in data.get(k, ()))


@lru_cache(maxsize=1)
def general_tags() -> frozenset[str]:
    path = DATA_DIR / "general_tags.txt"
    if not path.exists():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(normalise_form(t) for t in lines if t.strip() and not t.startswith("#"))


@lru_cache(maxsize=1)
def tag_phrases() -> dict[str, tuple[str, ...]]:
    path = DATA_DIR / "tag_phrases.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {normalise_form(k): tuple(v) for k, v in data.items() if v}


def load_user_names(path: str | Path) -> list[NameEntry]:
    """A user-editable names list: one name a line, optionally ``name | label | replacement``.

    ``#`` starts a comment; the label defaults to ``person`` and an empty replacement to the label's generic
    description. Raises ``ValueError`` naming the file and line for a bad label, or for a replacement that is
    not plain text (WebUI syntax such as ``<lora:…>``, ``(x:1.5)``, ``AND``, ``__wildcard__``: it would be
    pasted into every prompt that names the entry).
    """
    from smoothie.prompt.protect import check_text

    p = Path(path)
    entries: list[NameEntry] = []
    for lineno, raw in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [x.strip() for x in line.split("|")]
        name = parts[0]
        label = parts[1] if len(parts) > 1 and parts[1] else "person"
        generic = parts[2] if len(parts) > 2 else ""
        if label not in LABELS:
            raise ValueError(f"{p}:{lineno}: label {label!r} is not one of {', '.join(LABELS)}")
        problem = check_text(generic)
        if problem:
            raise ValueError(f"{p}:{lineno}: the replacement {generic!r} is not plain text: it has {problem}")
        entries.append(NameEntry(name=name, label=label, generic=generic, source="user"))
    return entries


# --- the danbooru tag database (tagcomplete's tags/danbooru.csv) ------------------------------------------

TAGCOMPLETE_DIRS = ("a1111-sd-webui-tagcomplete", "sd-webui-tagcomplete", "a1111-sd-webui-tagcomplete-main")
# danbooru's tag categories, as tagcomplete's CSV writes them in its second column
GENERAL, ARTIST, COPYRIGHT, CHARACTER, META = 0, 1, 3, 4, 5
_NAME_LABEL = {ARTIST: "artist", COPYRIGHT: "copyright", CHARACTER: "character"}
MAX_NAME_WORDS = 8


def find_tagcomplete_csv(extensions_dir: Path | None = None) -> Path | None:
    """The tagcomplete extension's ``tags/danbooru.csv`` next to this extension, if installed."""
    base = extensions_dir or Path(__file__).resolve().parents[3]
    for name in TAGCOMPLETE_DIRS:
        candidate = base / name / "tags" / "danbooru.csv"
        if candidate.is_file():
            return candidate
    return None


def tag_key(tag: str) -> str:
    """A tag as the database spells it and as prompts write it, made comparable: ``kafka_(honkai:_star_rail)``,
    ``kafka \\(honkai: star rail\\)`` and ``Kafka (Honkai: Star Rail)`` all become ``kafka (honkai: star rail)``."""
    return normalise_form(tag.replace("\\", ""))


class TagDatabase:
    """danbooru's tags by category (tagcomplete's ``tag,category,count,"alias,alias"`` CSV).

    Only the category and post count of each tag are kept (packed into one int), plus aliases of names; a
    :class:`NameEntry` is built when a name is looked up. Parsing tagcomplete's 140k rows takes most of a second,
    so the parsed tables are also kept in the user's cache directory (:func:`load_tag_database`); reading them
    back takes about a twentieth of that (docs/BENCHMARKS.md).
    """

    def __init__(self, path: Path, rows: Iterable[list[str]]) -> None:
        self.path = path
        self._tags: dict[str, int] = {}  # key -> count * 8 + category
        self._alias: dict[str, str] = {}  # alias key -> tag key (names only)
        self._entries: dict[str, NameEntry] = {}
        self._first_words: frozenset[str] | None = None
        self.max_words = 1
        self._parse(rows)

    @classmethod
    def from_parts(cls, path: Path, tags: dict[str, int], alias: dict[str, str], max_words: int) -> TagDatabase:
        """A database from its parsed tables (:meth:`parts`), as the on-disk cache stores them."""
        db = cls(path, ())
        db._tags, db._alias, db.max_words = tags, alias, max_words
        return db

    def parts(self) -> tuple[dict[str, int], dict[str, str], int]:
        return self._tags, self._alias, self.max_words

    def _parse(self, rows: Iterable[list[str]]) -> None:
        path = self.path
        bad = 0
        tags, aliases = self._tags, self._alias
        longest = 1
        for row in rows:
            if len(row) < 3 or not row[0]:
                continue
            cat, cnt = row[1], row[2]
            if len(cat) != 1 or cat not in "01345" or not (cnt.isdigit() or not cnt):
                bad += 1
                continue
            category = ord(cat) - 48
            # danbooru's own spelling (lower case, underscores): a cheaper tag_key (a µs a row matters here)
            key = row[0].replace("_", " ").lower()
            if key in tags:  # keep the first (the CSV is sorted by count)
                continue
            tags[key] = int(cnt or 0) * 8 + category
            if category in _NAME_LABEL:
                longest = max(longest, key.count(" ") + 1)
                if len(row) > 3 and row[3]:
                    for alias in row[3].split(","):
                        if alias and alias[0] != "/":
                            aliases.setdefault(alias.replace("_", " ").lower(), key)
        if bad:
            log.warning("tag database %s: %d malformed rows skipped", path, bad)
        # an alias never shadows a real tag ("saber" the weapon vs saber_(fate)): drop the clashing ones
        for alias in [a for a in aliases if a in tags]:
            del aliases[alias]
        for alias in aliases:
            longest = max(longest, alias.count(" ") + 1)
        # names longer than this are matched whole (a tag of their own), not as word n-grams inside text
        self.max_words = min(longest, MAX_NAME_WORDS)

    def __len__(self) -> int:
        return len(self._tags)

    def lookup(self, form: str) -> tuple[str, int, int] | None:
        """``(tag key, category, post count)`` of a tag or a name's alias, or None."""
        key = tag_key(form)
        packed = self._tags.get(key)
        if packed is None:
            target = self._alias.get(key)
            if target is None:
                return None
            key, packed = target, self._tags[target]
        return key, packed % 8, packed // 8

    def category(self, form: str) -> int | None:
        found = self.lookup(form)
        return None if found is None else found[1]

    def is_general(self, form: str) -> bool:
        """A general or meta tag (``1girl``, ``highres``): never a name."""
        return self.category(form) in (GENERAL, META)

    def get(self, form: str) -> NameEntry | None:
        """The :class:`NameEntry` of an artist, copyright or character tag (any alias), else None."""
        found = self.lookup(form)
        if found is None or found[1] not in _NAME_LABEL:
            return None
        key, category, _count = found
        entry = self._entries.get(key)
        if entry is None:
            label = _NAME_LABEL[category]
            base = key.split(" (")[0] if key.endswith(")") else ""
            entry = NameEntry(key, label, "", aliases=(base,) if base and " " in base else (), source="tagcomplete")
            self._entries[key] = entry
        return entry

    def name_word(self, word: str) -> bool:
        """Whether ``word`` alone is a character or copyright tag of the database ("pokemon", "touhou"; never
        "senshi", which only names a character with its series)."""
        return self.category(word) in (COPYRIGHT, CHARACTER)

    def name_first_word(self, word: str) -> bool:
        """Whether a character or copyright tag of the database is a full name that begins with ``word``
        ("roswaal" of "roswaal l. mathers"): a word a general tag may carry a name in ("roswaal mansion maid
        uniform"). Not a tag with a qualifier ("miko \\(x\\)" says nothing about the general "miko")."""
        if self._first_words is None:
            self._first_words = frozenset(
                key.split(" ", 1)[0]
                for key, v in self._tags.items()
                if v % 8 in (COPYRIGHT, CHARACTER) and " " in key and "(" not in key
            )
        return word.lower() in self._first_words

    def post_count(self, form: str) -> int:
        found = self.lookup(form)
        return 0 if found is None else found[2]


def _read_tag_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


_DB_CACHE: dict[tuple[str, int, int], TagDatabase] = {}
_DB_LOCK = threading.Lock()

# The parsed database on disk, one file per CSV path in the user's cache directory: MAGIC, the SHA-256 of the
# payload, then the payload (marshal: a tuple of the format, the CSV's path, size and mtime, and the tables). A
# file whose digest or fields do not match is rebuilt from the CSV; so is any file a different Python wrote.
DISK_CACHE_MIN_BYTES = 256 * 1024  # smaller files parse faster than a cache file is checked
_DISK_MAGIC = b"smoothie tag database cache\n"
_DISK_FORMAT = 1


def user_cache_dir() -> Path:
    """Where Smoothie keeps files it can rebuild: ``$SMOOTHIE_CACHE_DIR``, else the platform's user cache
    directory (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
    on Windows) + ``sd-webui-smoothie`` (the folder the test checkpoints use too)."""
    env = os.environ.get("SMOOTHIE_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "sd-webui-smoothie"


def _disk_cache_path(resolved: str) -> Path:
    digest = hashlib.sha256(resolved.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return user_cache_dir() / "tag-database" / f"{digest}.bin"


def _disk_fields(key: tuple[str, int, int]) -> tuple[int, int, int, str, int, int]:
    return (_DISK_FORMAT, sys.version_info[0], sys.version_info[1], *key)


def _read_disk_cache(path: Path, key: tuple[str, int, int]) -> TagDatabase | None:
    """The cached tables of the CSV version ``key`` (resolved path, size, mtime), or None (missing, stale,
    damaged: every problem is a miss, logged at debug level)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_DISK_MAGIC)
    payload = data[head + 32 :]
    if data[:head] != _DISK_MAGIC or hashlib.sha256(payload).digest() != data[head : head + 32]:
        log.debug("tag database cache %s: damaged, rebuilt", path)
        return None
    try:
        fields, tags, alias, max_words = marshal.loads(payload)
    except (EOFError, ValueError, TypeError) as exc:
        log.debug("tag database cache %s: unreadable (%s), rebuilt", path, exc)
        return None
    if fields != _disk_fields(key) or not isinstance(tags, dict) or not isinstance(alias, dict):
        return None  # another version of the CSV (or another Python): rebuilt and replaced
    return TagDatabase.from_parts(Path(key[0]), tags, alias, int(max_words))


def _write_disk_cache(path: Path, key: tuple[str, int, int], db: TagDatabase) -> None:
    """Store ``db`` atomically (a temporary file moved into place); a read-only or full disk only costs the
    next start its parse."""
    payload = marshal.dumps((_disk_fields(key), *db.parts()), 4)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_DISK_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.info("tag database cache %s not written: %s", path, exc)


def load_tag_database(path: str | Path) -> TagDatabase:
    """The tag database in ``path``, loaded once per (file, size, modification time).

    A large CSV is parsed once per version: the parsed tables are kept in :func:`user_cache_dir`
    (``tag-database/``, one file per CSV path, replaced when the CSV changes), which a later process reads
    instead. Raises ``ValueError`` naming the file when it cannot be read or holds no tags (a wrong file given
    to ``--tag-database``).
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise ValueError(f"tag database {p}: cannot read: {exc.strerror or exc}") from exc
    if not p.is_file():
        raise ValueError(f"tag database {p}: not a file")
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _DB_LOCK:
        cached = _DB_CACHE.get(key)
        if cached is not None:
            return cached
        disk = _disk_cache_path(key[0]) if st.st_size >= DISK_CACHE_MIN_BYTES else None
        db = _read_disk_cache(disk, key) if disk is not None else None
        if db is None:
            try:
                db = TagDatabase(p, _read_tag_rows(p))
            except (OSError, UnicodeDecodeError, csv.Error) as exc:
                raise ValueError(f"tag database {p}: cannot read: {exc}") from exc
            if not len(db):
                raise ValueError(
                    f"tag database {p}: no tags found (expected tagcomplete's tag,category,count,aliases rows)"
                )
            if disk is not None:
                _write_disk_cache(disk, key, db)
        db.path = p
        for old in [k for k in _DB_CACHE if k[0] == key[0]]:
            del _DB_CACHE[old]  # a changed file replaces its old version
        _DB_CACHE[key] = db
        log.info("loaded %d tags from %s", len(db), p)
        return db


def default_tag_database(extensions_dir: str | None = None) -> TagDatabase | None:
    """The tag database used when none is given: the file ``SMOOTHIE_TAG_DATABASE`` names (a WebUI user's way
    to point at one without the tagcomplete extension), else tagcomplete's own; None (with a warning for a bad
    file) when there is none."""
    env = os.environ.get("SMOOTHIE_TAG_DATABASE", "").strip()
    if env:
        try:
            return load_tag_database(env)
        except ValueError as exc:
            log.warning("SMOOTHIE_TAG_DATABASE: %s", exc)
    return tagcomplete_names(extensions_dir)


def tagcomplete_names(extensions_dir: str | None = None) -> TagDatabase | None:
    """The tagcomplete extension's database when it is installed next to us (None otherwise, or unreadable)."""
    path = find_tagcomplete_csv(Path(extensions_dir) if extensions_dir else None)
    if path is None:
        return None
    try:
        return load_tag_database(path)
    except ValueError as exc:
        log.warning("%s", exc)
        return None
