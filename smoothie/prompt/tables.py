"""Loaders for the built-in knowledge tables (``smoothie/prompt/data``) and optional external ones.

* ``names.jsonl`` — well-known artists, studios, characters, people, brands and artworks with generic
  replacements that keep what matters for the image.
* ``first_names.json`` — given names by gender, so "Sarah laughing" becomes "a woman laughing".
* ``general_tags.txt`` — danbooru general/quality tags that are never names.
* ``tag_phrases.json`` — natural-language renderings of common tags.
* The danbooru tag database of the a1111-sd-webui-tagcomplete extension, when it is installed next to us
  (categories artist, copyright and character), for lower-case tag-style names.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")
LABELS = ("person", "artist", "character", "brand", "artwork", "studio", "place")


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

    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class NameTable:
    """Lower-cased surface forms (name and aliases) to entries, looked up by word n-grams."""

    entries: dict[str, NameEntry] = field(default_factory=dict)
    max_words: int = 1

    def add(self, entry: NameEntry, *, override: bool = False) -> None:
        for form in entry.forms():
            key = normalise_form(form)
            if not key:
                continue
            if override or key not in self.entries:
                self.entries[key] = entry
                self.max_words = max(self.max_words, len(key.split()))

    def get(self, form: str) -> NameEntry | None:
        return self.entries.get(normalise_form(form))

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


# --- the a1111-sd-webui-tagcomplete danbooru database --------------------------------------------------

TAGCOMPLETE_DIRS = ("a1111-sd-webui-tagcomplete", "sd-webui-tagcomplete", "a1111-sd-webui-tagcomplete-main")
_DANBOORU_LABEL = {"1": "artist", "3": "copyright", "4": "character"}


def find_tagcomplete_csv(extensions_dir: Path | None = None) -> Path | None:
    """The tagcomplete extension's ``tags/danbooru.csv`` next to this extension, if installed."""
    base = extensions_dir or Path(__file__).resolve().parents[3]
    for name in TAGCOMPLETE_DIRS:
        candidate = base / name / "tags" / "danbooru.csv"
        if candidate.is_file():
            return candidate
    return None


def load_danbooru_names(path: Path, min_count: int = 100) -> NameTable:
    """Artist, copyright and character tags of a tagcomplete CSV (``tag,type,count,"aliases"``)."""
    table = NameTable()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) < 2 or row[1] not in _DANBOORU_LABEL:
                continue
            try:
                count = int(row[2]) if len(row) > 2 and row[2] else min_count
            except ValueError:
                continue
            if count < min_count:
                continue
            kind = _DANBOORU_LABEL[row[1]]
            tag = row[0].replace("\\(", "(").replace("\\)", ")")
            forms = [tag]
            base = tag.split("_(")[0]
            if base != tag and base.count("_") >= 1:
                forms.append(base)  # "asuka_langley_soryu_(evangelion)" also as "asuka langley soryu"
            if len(row) > 3 and row[3]:
                forms.extend(a for a in row[3].split(",") if a and not a.startswith("/"))
            label = "studio" if kind == "copyright" else kind
            generic = {
                "artist": "detailed anime illustration",
                "copyright": "anime series",
                "character": "an anime character",
            }[kind]
            modifier = {"artist": "anime illustration", "copyright": "anime", "character": "anime character"}[kind]
            table.add(
                NameEntry(forms[0].replace("_", " "), label, generic, modifier, (), tuple(forms[1:]), "tagcomplete")
            )
    log.info("loaded %d names from %s", len(table), path)
    return table


@lru_cache(maxsize=4)
def tagcomplete_names(extensions_dir: str | None = None) -> NameTable | None:
    path = find_tagcomplete_csv(Path(extensions_dir) if extensions_dir else None)
    if path is None:
        return None
    try:
        return load_danbooru_names(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("cannot read tagcomplete tag database %s: %s", path, exc)
        return None
