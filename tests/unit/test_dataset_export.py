"""Output names: safe on every file system, short enough in bytes, unique and stable across runs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smoothie.dataset.export import FOLDER_BYTES, NAME_BYTES, output_names, safe_name


def test_long_names_are_cut_in_bytes_with_a_hash_and_short_ones_kept() -> None:
    assert safe_name("holiday photo 1") == "holiday photo 1"
    long = "写真" * 80
    short = safe_name(long)
    assert len(short.encode()) <= NAME_BYTES and short.startswith("写真写真") and "~" in short
    assert safe_name(long) == short  # stable
    assert safe_name(long[:-1] + "猫") != short  # the hash tells names with a common beginning apart
    assert len(safe_name("🐉" * 60, max_bytes=FOLDER_BYTES).encode()) <= FOLDER_BYTES
    assert safe_name("a<b>c:d|e?f*g\x00h\x7f") == "a_b_c_d_e_f_g_h_"
    assert safe_name("CON") == "_CON" and safe_name("nul.tar") == "_nul.tar" and safe_name(" . ") == "image"


@given(st.lists(st.text(min_size=1, max_size=120), min_size=1, max_size=12, unique=True))
def test_output_names_are_unique_short_and_stable(stems: list[str]) -> None:
    rels = [f"{i % 3}/{stem}.png" for i, stem in enumerate(stems)]
    names = output_names(rels)
    assert set(names) == set(rels)
    assert len({n.lower() for n in names.values()}) == len(rels)
    for name in names.values():
        assert len(name.encode()) <= NAME_BYTES + 8 and "/" not in name and "\x00" not in name
    assert output_names(list(reversed(rels))) == names
