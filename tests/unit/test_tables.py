from __future__ import annotations

from pathlib import Path

import pytest

from smoothie.prompt import NameOptions, load_user_names
from smoothie.prompt.engine import genericise
from smoothie.prompt.tables import find_tagcomplete_csv, load_danbooru_names

# tagcomplete's format: tag,type,count,"aliases" (type 1 artist, 3 copyright, 4 character, 0 general)
DANBOORU = """1girl,0,5000000,"1girls,sole_female"
zzyzx_qorvath,1,2400,
blorptown_(series),3,1900,"blorp"
mirelle_vantafeld_(blorptown),4,1200,"vantafeld_mirelle"
rare_character,4,3,
"""


@pytest.fixture
def extensions(tmp_path: Path) -> Path:
    tags = tmp_path / "a1111-sd-webui-tagcomplete" / "tags"
    tags.mkdir(parents=True)
    (tags / "danbooru.csv").write_text(DANBOORU, encoding="utf-8")
    return tmp_path


def test_tagcomplete_csv_is_found_and_read(extensions: Path) -> None:
    path = find_tagcomplete_csv(extensions)
    assert path is not None
    table = load_danbooru_names(path)
    assert table.get("zzyzx qorvath").label == "artist"  # type: ignore[union-attr]
    assert table.get("mirelle vantafeld").label == "character"  # the "(series)" qualifier dropped  # type: ignore[union-attr]
    assert table.get("rare character") is None  # under the count threshold
    assert table.get("1girl") is None  # general tags are not names


def test_tagcomplete_names_are_replaced_in_tag_prompts(extensions: Path) -> None:
    options = NameOptions(use_ner=False, extensions_dir=str(extensions))
    g = genericise("1girl, mirelle vantafeld, beach, zzyzx qorvath", options)
    text = g.generic.source
    assert "vantafeld" not in text
    assert "qorvath" not in text
    assert text.startswith("1girl, ")
    assert {n.label for n in g.names} == {"character", "artist"}


def test_user_names_file(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("# my characters\nCaptain Quasar | character | a caped space hero\nMarta\n", encoding="utf-8")
    entries = load_user_names(f)
    assert [(e.name, e.label, e.generic) for e in entries] == [
        ("Captain Quasar", "character", "a caped space hero"),
        ("Marta", "person", ""),
    ]
    g = genericise("Captain Quasar waving at Marta", NameOptions(extra=tuple(entries), use_ner=False))
    assert g.generic.source == "a caped space hero waving at a person"


def test_user_names_file_bad_label_is_named(tmp_path: Path) -> None:
    f = tmp_path / "names.txt"
    f.write_text("Zed | wizard\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"names.txt:1: label 'wizard'"):
        load_user_names(f)
